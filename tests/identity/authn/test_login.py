"""Login: password, second factor, levels of assurance, rehash on login."""

from __future__ import annotations

import pytest

from jisr.identity.authn import (
    Accounts,
    Acr,
    Argon2Settings,
    Authenticator,
    AuthnSettings,
    InvalidCredentials,
    MfaRequired,
    Totp,
    requested_acr,
    require_acr,
)
from jisr.identity.authn.models import AccountRow
from jisr.identity.authn.totp import totp_at
from jisr.storage import Database
from tests.identity.authn.conftest import ADDRESS, PASSWORD, Clock


async def enrol_totp(totp: Totp, nin: str, clock: Clock) -> tuple[str, list[str]]:
    """Enrol TOTP for ``nin``; returns the secret and the recovery codes."""
    enrolment = await totp.begin_enrolment(nin)
    codes = await totp.confirm_enrolment(nin, totp_at(enrolment.secret, clock(), AuthnSettings()))
    clock.advance(seconds=30)
    return enrolment.secret, codes


class TestAcr:
    @pytest.mark.parametrize(
        ("acr_values", "expected"),
        [
            (None, Acr.LOW),
            ("", Acr.LOW),
            ("substantial", Acr.SUBSTANTIAL),
            ("urn:unknown high low", Acr.HIGH),
        ],
    )
    def test_requested_acr_is_the_first_known_value(
        self, acr_values: str | None, expected: Acr
    ) -> None:
        """acr_values is read in order of preference; unknown values are skipped."""
        assert requested_acr(acr_values) is expected

    def test_lower_level_than_requested_requires_mfa(self) -> None:
        """A password login (low) does not satisfy substantial; substantial satisfies low."""
        with pytest.raises(MfaRequired) as caught:
            require_acr(Acr.LOW, Acr.SUBSTANTIAL)
        assert caught.value.code == "mfa_required"
        require_acr(Acr.SUBSTANTIAL, Acr.LOW)


class TestPassword:
    async def test_right_password_gives_low(
        self, authenticator: Authenticator, active: str
    ) -> None:
        """The right password authenticates at acr low with amr pwd."""
        result = await authenticator.authenticate_password(active, PASSWORD, ADDRESS)
        assert (result.nin, result.acr, result.amr) == (active, Acr.LOW, ("pwd",))
        assert not result.totp_enrolled

    async def test_wrong_password_unknown_or_pending_account_look_the_same(
        self, authenticator: Authenticator, accounts: Accounts, active: str
    ) -> None:
        """A wrong password, an unknown NIN and a pending account all raise InvalidCredentials."""
        await accounts.issue_activation("BK0000001")
        for nin, password in [
            (active, "wrong password!"),
            ("BK9999999", PASSWORD),
            ("BK0000001", PASSWORD),
        ]:
            with pytest.raises(InvalidCredentials):
                await authenticator.authenticate_password(nin, password, ADDRESS)

    async def test_old_hash_is_upgraded_on_login(
        self, database: Database, clock: Clock, active: str
    ) -> None:
        """A hash made with older parameters is replaced by a current one at login."""
        old = AuthnSettings(argon2=Argon2Settings(memory_cost_kib=19456, time_cost=2))
        older_accounts = Accounts(database, old, clock)
        issued = await older_accounts.issue_activation("BK5555555")
        await older_accounts.activate("BK5555555", issued.code, PASSWORD, address=ADDRESS)
        await Authenticator(database, AuthnSettings(), clock).authenticate_password(
            "BK5555555", PASSWORD, ADDRESS
        )
        async with database.transaction() as session:
            row = await session.get(AccountRow, "BK5555555")
        assert row is not None and row.password_hash is not None
        assert "$m=7168,t=5,p=1$" in row.password_hash


class TestSecondFactor:
    async def test_totp_steps_up_to_substantial(
        self, authenticator: Authenticator, totp: Totp, active: str, clock: Clock
    ) -> None:
        """Password then a fresh TOTP code gives acr substantial, amr pwd otp mfa."""
        secret, _ = await enrol_totp(totp, active, clock)
        result = await authenticator.authenticate_password(active, PASSWORD, ADDRESS)
        assert result.totp_enrolled
        code = totp_at(secret, clock(), AuthnSettings())
        stepped = await authenticator.complete_totp(result, code, ADDRESS)
        assert (stepped.acr, stepped.amr) == (Acr.SUBSTANTIAL, ("pwd", "otp", "mfa"))
        require_acr(stepped.acr, requested_acr("substantial"))

    async def test_replayed_totp_is_refused(
        self, authenticator: Authenticator, totp: Totp, active: str, clock: Clock
    ) -> None:
        """The same TOTP code cannot complete a second login."""
        secret, _ = await enrol_totp(totp, active, clock)
        code = totp_at(secret, clock(), AuthnSettings())
        first = await authenticator.authenticate_password(active, PASSWORD, ADDRESS)
        await authenticator.complete_totp(first, code, ADDRESS)
        second = await authenticator.authenticate_password(active, PASSWORD, ADDRESS)
        with pytest.raises(InvalidCredentials):
            await authenticator.complete_totp(second, code, ADDRESS)

    async def test_recovery_code_steps_up_once(
        self, authenticator: Authenticator, totp: Totp, active: str, clock: Clock
    ) -> None:
        """A recovery code gives substantial once and is then refused."""
        _, codes = await enrol_totp(totp, active, clock)
        result = await authenticator.authenticate_password(active, PASSWORD, ADDRESS)
        stepped = await authenticator.complete_recovery_code(result, codes[3], ADDRESS)
        assert stepped.acr is Acr.SUBSTANTIAL
        with pytest.raises(InvalidCredentials):
            await authenticator.complete_recovery_code(result, codes[3], ADDRESS)

    async def test_no_totp_enrolled_refuses_step_up(
        self, authenticator: Authenticator, active: str
    ) -> None:
        """Without TOTP no code steps the login up."""
        result = await authenticator.authenticate_password(active, PASSWORD, ADDRESS)
        with pytest.raises(InvalidCredentials):
            await authenticator.complete_totp(result, "123456", ADDRESS)
