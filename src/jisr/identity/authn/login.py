"""Login: password first, then optionally a second factor; levels of assurance as ACR.

Levels (eIDAS-style) and how they are reached; ``amr`` values from RFC 8176 §2:

* ``low``: password (``amr`` ``pwd``);
* ``substantial``: password, then a TOTP or recovery code (``pwd otp mfa``);
* ``high``: passkey (WebAuthn) with user verification (``hwk user mfa``), in
  :mod:`jisr.identity.oidc.web` and :mod:`jisr.identity.oidc.account`.

A relying party asks for a level with ``acr_values`` (OpenID Connect Core §3.1.2.1,
space-separated, in order of preference); :func:`requested_acr` reads it and
:func:`require_acr` refuses a result below it with :class:`MfaRequired`.

Unknown NINs and accounts that are not active cost the same Argon2id computation as a
real verification (against a dummy hash made with the current parameters), so response
time does not reveal which accounts exist.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from jisr.identity.authn.errors import InvalidCredentials, MfaRequired
from jisr.identity.authn.models import AccountRow
from jisr.identity.authn.passwords import hash_password, needs_rehash, verify_password
from jisr.identity.authn.settings import Argon2Settings, AuthnSettings
from jisr.identity.authn.throttle import SECOND_FACTOR, Throttle
from jisr.identity.authn.totp import Totp
from jisr.storage import Database, utcnow

__all__ = ["Acr", "AuthResult", "Authenticator", "requested_acr", "require_acr"]


class Acr(StrEnum):
    """Levels of assurance, weakest first; the value is the ``acr`` claim."""

    LOW = "low"
    SUBSTANTIAL = "substantial"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(Acr).index(self)


def requested_acr(acr_values: str | None) -> Acr:
    """The level an ``acr_values`` parameter asks for: its first known value, else ``low``."""
    for value in (acr_values or "").split():
        if value in Acr._value2member_map_:
            return Acr(value)
    return Acr.LOW


def require_acr(reached: Acr, required: Acr) -> None:
    """Raise :class:`MfaRequired` if ``reached`` is below ``required``."""
    if reached.rank < required.rank:
        raise MfaRequired(required.value, reached.value)


@dataclass(frozen=True)
class AuthResult:
    """Who authenticated, how and when; ``totp_enrolled`` says whether a step-up is possible."""

    nin: str
    acr: Acr
    amr: tuple[str, ...]
    auth_time: datetime
    totp_enrolled: bool


@functools.cache
def _dummy_hash(settings: Argon2Settings) -> str:
    return hash_password("not a password of anyone", settings)


class Authenticator:
    """Password and TOTP authentication over ``database``."""

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
        self.totp = Totp(database, self.settings, clock)

    async def authenticate_password(self, nin: str, password: str, address: str) -> AuthResult:
        """Check ``nin``'s password; ``acr`` is ``low``.

        Raises :class:`InvalidCredentials`, :class:`Throttled` or :class:`AccountLocked`.
        A failure is committed before the error is raised.
        """
        columns = (AccountRow.status, AccountRow.password_hash, AccountRow.totp_secret)
        async with self.database.reading() as connection:  # Core reads, no transaction
            failures = await self.throttle.check(connection, nin=nin, address=address)
            statement = select(*columns).where(AccountRow.nin == nin)
            account = (await connection.execute(statement)).first()
        stored = account.password_hash if account and account.status == "active" else None
        argon2 = self.settings.argon2
        encoded = stored if stored is not None else await asyncio.to_thread(_dummy_hash, argon2)
        valid = await asyncio.to_thread(verify_password, encoded, password) and stored is not None
        if not valid:
            async with self.database.transaction() as session:
                await self.throttle.record_failure(session, nin=nin, address=address)
        elif failures:
            # Nothing to forget is the usual case: then a success writes nothing. A failure
            # counted meanwhile by a concurrent attempt stays counted (it did happen).
            async with self.database.transaction() as session:
                await self.throttle.record_success(session, nin=nin)
        if not valid or account is None:
            raise InvalidCredentials
        if needs_rehash(encoded, argon2):
            await self._rehash(nin, password)
        return AuthResult(
            nin=nin,
            acr=Acr.LOW,
            amr=("pwd",),
            auth_time=self.clock(),
            totp_enrolled=account.totp_secret is not None,
        )

    async def complete_totp(self, result: AuthResult, code: str, address: str) -> AuthResult:
        """Step ``result`` (a password login) up to ``substantial`` with a TOTP code."""
        return await self._second_factor(result, code, address, recovery=False)

    async def complete_recovery_code(
        self, result: AuthResult, code: str, address: str
    ) -> AuthResult:
        """Step ``result`` up to ``substantial`` with a single-use recovery code."""
        return await self._second_factor(result, code, address, recovery=True)

    async def _second_factor(
        self, result: AuthResult, code: str, address: str, *, recovery: bool
    ) -> AuthResult:
        if "pwd" not in result.amr:
            raise InvalidCredentials
        nin = result.nin
        async with self.database.transaction() as session:
            await self.throttle.check(session, nin=nin, address=address, scope=SECOND_FACTOR)
        async with self.database.transaction() as session:
            if recovery:
                valid = await self.totp.use_recovery_code(session, nin, code)
            else:
                valid = await self.totp.verify(session, nin, code)
            if valid:
                await self.throttle.record_success(session, nin=nin, scope=SECOND_FACTOR)
            else:
                await self.throttle.record_failure(
                    session, nin=nin, address=address, scope=SECOND_FACTOR
                )
        if not valid:
            raise InvalidCredentials
        return replace(
            result, acr=Acr.SUBSTANTIAL, amr=("pwd", "otp", "mfa"), auth_time=self.clock()
        )

    async def _rehash(self, nin: str, password: str) -> None:
        # The stored hash predates the current parameters: upgrade it now that we hold the
        # plain password (OWASP Password Storage Cheat Sheet, "Upgrading legacy hashes").
        fresh = await asyncio.to_thread(hash_password, password, self.settings.argon2)
        async with self.database.transaction() as session:
            account = await session.get(AccountRow, nin)
            if account is not None:
                account.password_hash = fresh
