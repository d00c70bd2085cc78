"""Accounts: one per enrolled person (NIN), activated with a one-time code.

An account starts ``pending`` with an activation code that reaches the person out of band
(a letter, a counter clerk; here the CLI prints it). Only its SHA-256 is stored. The
person activates by giving the code and choosing a password; the code works once, before
it expires, and issuing a new one voids the previous ones. A wrong code counts as a failure
against the NIN and the address (:mod:`.throttle`). ``locked`` is reported when the
throttle has locked the NIN; only :meth:`Accounts.unlock` lifts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select, update

from jisr.identity.authn._secrets import digest, new_code, normalise_code
from jisr.identity.authn.errors import AccountActive, ActivationInvalid, UnknownAccount
from jisr.identity.authn.models import AccountRow, ActivationCodeRow
from jisr.identity.authn.passwords import check_password, hash_password
from jisr.identity.authn.settings import AuthnSettings
from jisr.identity.authn.throttle import Throttle
from jisr.storage import Database, upgrade, utcnow

__all__ = [
    "MIGRATIONS",
    "VERSION_TABLE",
    "Account",
    "AccountStatus",
    "Accounts",
    "ActivationCode",
    "migrate",
]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_authn"
AccountStatus = Literal["pending", "active", "locked"]
# 16 Crockford base32 characters: 80 bits, far beyond online guessing under throttling.
_ACTIVATION_CODE_LENGTH = 16


def migrate(url: str) -> None:
    """Create or upgrade authentication's tables (blocking; never call from a running loop)."""
    upgrade(MIGRATIONS, url, VERSION_TABLE)


@dataclass(frozen=True)
class Account:
    nin: str
    status: AccountStatus
    totp_enrolled: bool
    created_at: datetime
    activated_at: datetime | None


@dataclass(frozen=True)
class ActivationCode:
    """A freshly issued code: the only moment its plain text exists."""

    nin: str
    code: str
    expires_at: datetime


class Accounts:
    """Accounts over ``database``: issue activation codes, activate, read, unlock."""

    def __init__(
        self,
        database: Database,
        settings: AuthnSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.settings = settings or AuthnSettings()
        self.clock = clock
        self.throttle = Throttle(self.settings, clock)

    async def issue_activation(self, nin: str) -> ActivationCode:
        """Create ``nin``'s pending account if needed and issue a fresh activation code.

        The caller has checked that ``nin`` is enrolled in the population register.
        Raises :class:`AccountActive` if the account is already active.
        """
        now = self.clock()
        code = new_code(_ACTIVATION_CODE_LENGTH)
        expires_at = now + self.settings.activation_code_lifetime
        async with self.database.transaction() as session:
            row = await session.get(AccountRow, nin, with_for_update=True)
            if row is None:
                session.add(AccountRow(nin=nin, status="pending", created_at=now))
                await session.flush()
            elif row.status != "pending":
                raise AccountActive(nin)
            await session.execute(
                update(ActivationCodeRow)
                .where(ActivationCodeRow.nin == nin, ActivationCodeRow.used_at.is_(None))
                .values(used_at=now)
            )
            session.add(
                ActivationCodeRow(
                    nin=nin,
                    code_hash=digest(normalise_code(code)),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return ActivationCode(nin=nin, code=code, expires_at=expires_at)

    async def activate(self, nin: str, code: str, password: str, *, address: str) -> Account:
        """Activate ``nin``'s account with ``code`` and set its first ``password``.

        Raises :class:`WeakPassword` (the code stays usable), :class:`ActivationInvalid`,
        :class:`Throttled` or :class:`AccountLocked`.
        """
        check_password(password, nin=nin, settings=self.settings)
        async with self.database.transaction() as session:
            await self.throttle.check(session, nin=nin, address=address)
        password_hash = await asyncio.to_thread(hash_password, password, self.settings.argon2)
        now = self.clock()
        async with self.database.transaction() as session:
            claimed = await session.execute(
                update(ActivationCodeRow)
                .where(
                    ActivationCodeRow.nin == nin,
                    ActivationCodeRow.code_hash == digest(normalise_code(code)),
                    ActivationCodeRow.used_at.is_(None),
                    ActivationCodeRow.expires_at > now,
                )
                .values(used_at=now)
            )
            activated = claimed.rowcount == 1  # type: ignore[attr-defined]
            if activated:
                result = await session.execute(
                    update(AccountRow)
                    .where(AccountRow.nin == nin, AccountRow.status == "pending")
                    .values(status="active", password_hash=password_hash, activated_at=now)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    raise ActivationInvalid  # rolls back: the code stays unused
            else:
                await self.throttle.record_failure(session, nin=nin, address=address)
        if not activated:
            raise ActivationInvalid
        return await self.get(nin)

    async def get(self, nin: str) -> Account:
        """``nin``'s account; raises :class:`UnknownAccount`."""
        async with self.database.transaction() as session:
            row = await session.get(AccountRow, nin)
            if row is None:
                raise UnknownAccount(nin)
            locked = await self.throttle.is_locked(session, nin)
        return Account(
            nin=row.nin,
            status="locked" if locked else row.status,  # type: ignore[arg-type]
            totp_enrolled=row.totp_secret is not None,
            created_at=row.created_at,
            activated_at=row.activated_at,
        )

    async def unlock(self, nin: str) -> Account:
        """Lift ``nin``'s lockout and forget its failures (an administrator's action)."""
        async with self.database.transaction() as session:
            if await session.get(AccountRow, nin) is None:
                raise UnknownAccount(nin)
            await self.throttle.unlock(session, nin)
        return await self.get(nin)

    async def pending_codes(self, nin: str) -> int:
        """How many unused, unexpired activation codes ``nin`` has (for the CLI and audits)."""
        now = self.clock()
        async with self.database.transaction() as session:
            rows = await session.scalars(
                select(ActivationCodeRow.id).where(
                    ActivationCodeRow.nin == nin,
                    ActivationCodeRow.used_at.is_(None),
                    ActivationCodeRow.expires_at > now,
                )
            )
            return len(list(rows))
