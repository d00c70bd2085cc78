"""TOTP (RFC 6238): test vectors, window, replay, enrolment and recovery codes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from jisr.identity.authn import AuthnSettings, InvalidCredentials, Totp, TotpNotEnrolled
from jisr.identity.authn.totp import matching_step, totp_at
from jisr.storage import Database
from tests.identity.authn.conftest import Clock

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


class TestAlgorithm:
    @pytest.mark.parametrize(("unix", "code"), RFC_VECTORS)
    def test_rfc6238_appendix_b_sha1_vectors(self, unix: int, code: str) -> None:
        """The 8-digit SHA-1 test vectors of RFC 6238 Appendix B are reproduced."""
        at = datetime.fromtimestamp(unix, UTC)
        assert totp_at(RFC_SECRET, at, AuthnSettings(totp_digits=8)) == code

    def test_window_is_one_step_either_side(self) -> None:
        """Codes of the previous and next step match; two steps away do not."""
        settings = AuthnSettings()
        now = datetime(2026, 11, 29, 12, 0, 15, tzinfo=UTC)
        step = int(now.timestamp()) // 30
        for offset, expected in [
            (-60, None),
            (-30, step - 1),
            (0, step),
            (30, step + 1),
            (60, None),
        ]:
            code = totp_at(RFC_SECRET, now + timedelta(seconds=offset), settings)
            assert matching_step(RFC_SECRET, code, now, settings) == expected


class TestEnrolment:
    async def test_enrolment_needs_a_valid_code(
        self, totp: Totp, active: str, clock: Clock
    ) -> None:
        """A wrong code leaves the secret pending; the right one confirms it."""
        enrolment = await totp.begin_enrolment(active)
        assert enrolment.uri.startswith("otpauth://totp/Jisr:BK1234567?secret=")
        with pytest.raises(InvalidCredentials):
            await totp.confirm_enrolment(active, "000000")
        codes = await totp.confirm_enrolment(
            active, totp_at(enrolment.secret, clock(), AuthnSettings())
        )
        assert len(codes) == 10 and len(set(codes)) == 10

    async def test_confirm_without_pending_secret(self, totp: Totp, active: str) -> None:
        """Confirming with nothing pending raises TotpNotEnrolled."""
        with pytest.raises(TotpNotEnrolled):
            await totp.confirm_enrolment(active, "123456")


class TestVerify:
    async def test_code_is_accepted_once(
        self, totp: Totp, active: str, clock: Clock, database: Database
    ) -> None:
        """A code accepted once is refused again, even within its window (replay)."""
        enrolment = await totp.begin_enrolment(active)
        settings = AuthnSettings()
        await totp.confirm_enrolment(active, totp_at(enrolment.secret, clock(), settings))
        clock.advance(seconds=30)
        code = totp_at(enrolment.secret, clock(), settings)
        async with database.transaction() as session:
            assert await totp.verify(session, active, code)
        async with database.transaction() as session:
            assert not await totp.verify(session, active, code)

    async def test_earlier_step_is_refused_after_a_later_one(
        self, totp: Totp, active: str, clock: Clock, database: Database
    ) -> None:
        """After step n is used, the still-in-window code of step n-1 is refused."""
        enrolment = await totp.begin_enrolment(active)
        settings = AuthnSettings()
        clock.advance(seconds=60)
        await totp.confirm_enrolment(active, totp_at(enrolment.secret, clock(), settings))
        previous = totp_at(enrolment.secret, clock() - timedelta(seconds=30), settings)
        async with database.transaction() as session:
            assert not await totp.verify(session, active, previous)

    async def test_recovery_code_is_single_use(
        self, totp: Totp, active: str, clock: Clock, database: Database
    ) -> None:
        """Each recovery code works once; regenerating voids the old set."""
        enrolment = await totp.begin_enrolment(active)
        codes = await totp.confirm_enrolment(
            active, totp_at(enrolment.secret, clock(), AuthnSettings())
        )
        async with database.transaction() as session:
            assert await totp.use_recovery_code(session, active, codes[0].lower())
        async with database.transaction() as session:
            assert not await totp.use_recovery_code(session, active, codes[0])
        fresh = await totp.regenerate_recovery_codes(active)
        async with database.transaction() as session:
            assert not await totp.use_recovery_code(session, active, codes[1])
            assert await totp.use_recovery_code(session, active, fresh[1])
