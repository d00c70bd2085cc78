"""Brute-force protection: progressive delays per account and per address, and lockout.

Failures are counted in ``authn_counters`` under three scopes:

* ``account``: consecutive password (and activation code) failures for a NIN;
* ``factor2``: consecutive TOTP and recovery code failures for a NIN, so knowing the
  password does not let anyone reset the second factor's count;
* ``address``: failures from one client address (IPv6 by /64), whatever the account,
  forgotten after ``address_window`` of quiet.

After ``free_failures`` failures each further one doubles the wait, up to ``delay_max``;
the library never sleeps, it raises :class:`Throttled` with the time left. At
``lockout_threshold`` consecutive failures of one account scope the NIN is locked until an
administrator unlocks it. Counters exist for NINs without an account too, so delays and
lockout look the same whether or not an account exists (no account enumeration).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from jisr.identity.authn.errors import AccountLocked, Throttled
from jisr.identity.authn.models import CounterRow
from jisr.identity.authn.settings import AuthnSettings
from jisr.storage import UTCDateTime, utcnow

__all__ = ["ACCOUNT", "ADDRESS", "SECOND_FACTOR", "Throttle", "address_key", "progressive_delay"]

ACCOUNT = "account"
SECOND_FACTOR = "factor2"
ADDRESS = "address"
_ACCOUNT_SCOPES = (ACCOUNT, SECOND_FACTOR)
_COUNTER = (CounterRow.scope, CounterRow.failures, CounterRow.last_failure_at, CounterRow.locked_at)


class _Counter(NamedTuple):
    """One ``authn_counters`` row as read by a check (Core, not an ORM object)."""

    scope: str
    failures: int
    last_failure_at: datetime | None
    locked_at: datetime | None


def address_key(address: str) -> str:
    """The counter key of a client address: IPv4 as is, IPv6 by its /64 network.

    One IPv6 subscriber usually holds a whole /64, so counting single addresses would let
    them rotate freely. IPv4-mapped IPv6 addresses count as their IPv4 address.
    """
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def progressive_delay(failures: int, free: int, settings: AuthnSettings) -> timedelta:
    """The wait after ``failures`` failures: none for the first ``free``, then doubling."""
    excess = failures - free
    if excess <= 0:
        return timedelta(0)
    return min(settings.delay_base * (1 << min(excess - 1, 32)), settings.delay_max)


class Throttle:
    """Failure counters over a caller's transaction; ``clock`` gives the current time."""

    def __init__(self, settings: AuthnSettings, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.clock = clock

    async def check(
        self,
        session: AsyncSession | AsyncConnection,
        *,
        nin: str | None,
        address: str,
        scope: str = ACCOUNT,
    ) -> int:
        """Raise :class:`AccountLocked` or :class:`Throttled` if an attempt must not run now;
        otherwise return ``nin``'s consecutive failures in ``scope`` (0 without ``nin``), so
        a success with none to forget needs no write (:meth:`record_success`)."""
        now = self.clock()
        waits = [timedelta(0)]
        failures = 0
        if nin is not None:
            counters = await self._counters(session, nin)
            if any(row.locked_at is not None for row in counters):
                raise AccountLocked
            mine = [row for row in counters if row.scope == scope]
            failures = sum(row.failures for row in mine)
            waits += [self._wait(row, self.settings.account_free_failures, now) for row in mine]
        found = await session.execute(
            select(*_COUNTER).where(
                CounterRow.scope == ADDRESS, CounterRow.key == address_key(address)
            )
        )
        address_row = next((_Counter(*row) for row in found), None)
        if address_row is not None and not self._forgotten(address_row, now):
            waits.append(self._wait(address_row, self.settings.address_free_failures, now))
        wait = max(waits)
        if wait > timedelta(0):
            raise Throttled(wait.total_seconds())
        return failures

    async def record_failure(
        self, session: AsyncSession, *, nin: str | None, address: str, scope: str = ACCOUNT
    ) -> None:
        """Count one failure against ``nin`` (in ``scope``) and against ``address``."""
        now = self.clock()
        cutoff = now - self.settings.address_window
        await self._bump(session, ADDRESS, address_key(address), now, reset_before=cutoff)
        if nin is not None:
            await self._bump(session, scope, nin, now, lock=True)

    async def record_success(
        self, session: AsyncSession, *, nin: str, scope: str = ACCOUNT
    ) -> None:
        """Forget ``nin``'s consecutive failures in ``scope`` (not the address's)."""
        await session.execute(
            delete(CounterRow).where(
                CounterRow.scope == scope, CounterRow.key == nin, CounterRow.locked_at.is_(None)
            )
        )

    async def is_locked(self, session: AsyncSession, nin: str) -> bool:
        return any(row.locked_at is not None for row in await self._counters(session, nin))

    async def unlock(self, session: AsyncSession, nin: str) -> None:
        """Lift a lockout of ``nin`` and forget its failures (an administrator's action)."""
        await session.execute(
            delete(CounterRow).where(CounterRow.scope.in_(_ACCOUNT_SCOPES), CounterRow.key == nin)
        )

    async def _counters(self, session: AsyncSession | AsyncConnection, nin: str) -> list[_Counter]:
        # Core rows, not ORM objects: the check runs before every login (a plain read).
        result = await session.execute(
            select(*_COUNTER).where(CounterRow.scope.in_(_ACCOUNT_SCOPES), CounterRow.key == nin)
        )
        return [_Counter(*row) for row in result]

    def _wait(self, row: _Counter, free: int, now: datetime) -> timedelta:
        if row.last_failure_at is None:
            return timedelta(0)
        delay = progressive_delay(row.failures, free, self.settings)
        return max(row.last_failure_at + delay - now, timedelta(0))

    def _forgotten(self, row: _Counter, now: datetime) -> bool:
        last = row.last_failure_at
        return last is None or last < now - self.settings.address_window

    async def _bump(
        self,
        session: AsyncSession,
        scope: str,
        key: str,
        now: datetime,
        *,
        reset_before: datetime | None = None,
        lock: bool = False,
    ) -> None:
        backend = session.get_bind().dialect.name
        dialect_insert = postgresql.insert if backend == "postgresql" else sqlite.insert
        await session.execute(
            dialect_insert(CounterRow)
            .values(scope=scope, key=key, failures=0)
            .on_conflict_do_nothing(index_elements=["scope", "key"])
        )
        at = literal(now, UTCDateTime())
        failures = CounterRow.failures + 1
        if reset_before is not None:
            stale = CounterRow.last_failure_at < literal(reset_before, UTCDateTime())
            failures = case((stale, 1), else_=failures)
        values: dict[str, object] = {"failures": failures, "last_failure_at": at}
        if lock:
            threshold = CounterRow.failures + 1 >= self.settings.lockout_threshold
            values["locked_at"] = case(
                (CounterRow.locked_at.is_(None) & threshold, at), else_=CounterRow.locked_at
            )
        await session.execute(
            update(CounterRow)
            .where(CounterRow.scope == scope, CounterRow.key == key)
            .values(values)
        )
