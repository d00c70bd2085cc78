"""TOTP second factor (RFC 6238) with recovery codes.

Enrolment is two steps: :meth:`Totp.begin_enrolment` makes a secret and its
``otpauth://`` provisioning URI (shown as a QR code); :meth:`Totp.confirm_enrolment`
checks one code from the authenticator and only then makes the secret the account's and
issues the recovery codes. A code is accepted within ±``totp_window`` time steps (RFC 6238
§5.2, clock drift) and each time step at most once: the last accepted step is stored and
any code for it or an earlier step is refused (RFC 6238 §5.2, "MUST NOT accept the second
attempt of the same OTP"). Recovery codes are random, stored as SHA-256, and single use.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from jisr.identity.authn._secrets import digest, new_code, normalise_code
from jisr.identity.authn.errors import InvalidCredentials, TotpNotEnrolled, UnknownAccount
from jisr.identity.authn.models import AccountRow, RecoveryCodeRow
from jisr.identity.authn.settings import AuthnSettings
from jisr.storage import Database, utcnow

__all__ = ["Enrolment", "Totp", "matching_step", "new_secret", "provisioning_uri", "totp_at"]

# 10 Crockford base32 characters: 50 bits per recovery code.
_RECOVERY_CODE_LENGTH = 10


def new_secret() -> str:
    """A random 160-bit secret, base32 (RFC 4226 §4 recommends 160 bits)."""
    return pyotp.random_base32(32)


def _otp(secret: str, settings: AuthnSettings) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=settings.totp_digits, interval=settings.totp_period)


def totp_at(secret: str, at: datetime, settings: AuthnSettings) -> str:
    """The code for time ``at`` (RFC 6238 §4.2, HMAC-SHA-1)."""
    return _otp(secret, settings).at(at)


def provisioning_uri(secret: str, account: str, settings: AuthnSettings) -> str:
    """The ``otpauth://totp/…`` URI authenticator apps read from a QR code."""
    return _otp(secret, settings).provisioning_uri(name=account, issuer_name=settings.totp_issuer)


def matching_step(secret: str, code: str, at: datetime, settings: AuthnSettings) -> int | None:
    """The time step within ±window of ``at`` whose code is ``code``, or None.

    Every step of the window is computed and compared in constant time, so the time taken
    does not reveal which step (if any) matched.
    """
    otp = _otp(secret, settings)
    current = otp.timecode(at)
    code = "".join(code.split())
    found = None
    for step in range(current - settings.totp_window, current + settings.totp_window + 1):
        if hmac.compare_digest(otp.generate_otp(step), code) and found is None:
            found = step
    return found


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str


class Totp:
    """TOTP and recovery codes of accounts over ``database``."""

    def __init__(
        self,
        database: Database,
        settings: AuthnSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.settings = settings or AuthnSettings()
        self.clock = clock

    async def begin_enrolment(self, nin: str) -> Enrolment:
        """Make a pending secret for ``nin`` (replacing any earlier pending one)."""
        secret = new_secret()
        async with self.database.transaction() as session:
            account = await session.get(AccountRow, nin)
            if account is None or account.status != "active":
                raise UnknownAccount(nin)
            account.totp_pending_secret = secret
        return Enrolment(secret, provisioning_uri(secret, nin, self.settings))

    async def confirm_enrolment(self, nin: str, code: str) -> list[str]:
        """Make the pending secret the account's if ``code`` matches; return recovery codes.

        Raises :class:`TotpNotEnrolled` without a pending secret, :class:`InvalidCredentials`
        for a wrong code (the pending secret stays, so the person can retry).
        """
        async with self.database.transaction() as session:
            account = await session.get(AccountRow, nin, with_for_update=True)
            if account is None or account.totp_pending_secret is None:
                raise TotpNotEnrolled
            step = matching_step(account.totp_pending_secret, code, self.clock(), self.settings)
            if step is None:
                raise InvalidCredentials
            account.totp_secret = account.totp_pending_secret
            account.totp_pending_secret = None
            account.totp_last_step = step
            return await self._replace_recovery_codes(session, nin)

    async def regenerate_recovery_codes(self, nin: str) -> list[str]:
        """Void ``nin``'s recovery codes and issue a fresh set."""
        async with self.database.transaction() as session:
            account = await session.get(AccountRow, nin)
            if account is None or account.totp_secret is None:
                raise TotpNotEnrolled
            return await self._replace_recovery_codes(session, nin)

    async def verify(self, session: AsyncSession, nin: str, code: str) -> bool:
        """Whether ``code`` is a fresh TOTP of ``nin``; if so its step is consumed."""
        account = await session.get(AccountRow, nin)
        if account is None or account.totp_secret is None:
            return False
        step = matching_step(account.totp_secret, code, self.clock(), self.settings)
        if step is None:
            return False
        # Compare-and-set: of two concurrent logins with the same code only one wins.
        result = await session.execute(
            update(AccountRow)
            .where(
                AccountRow.nin == nin,
                or_(AccountRow.totp_last_step.is_(None), AccountRow.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def use_recovery_code(self, session: AsyncSession, nin: str, code: str) -> bool:
        """Whether ``code`` is an unused recovery code of ``nin``; if so it is spent."""
        result = await session.execute(
            update(RecoveryCodeRow)
            .where(
                RecoveryCodeRow.nin == nin,
                RecoveryCodeRow.code_hash == digest(normalise_code(code)),
                RecoveryCodeRow.used_at.is_(None),
            )
            .values(used_at=self.clock())
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def _replace_recovery_codes(self, session: AsyncSession, nin: str) -> list[str]:
        await session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.nin == nin))
        codes = [
            new_code(_RECOVERY_CODE_LENGTH, group=5)
            for _ in range(self.settings.recovery_code_count)
        ]
        session.add_all(
            RecoveryCodeRow(nin=nin, code_hash=digest(normalise_code(code))) for code in codes
        )
        return codes
