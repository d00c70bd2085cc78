"""Accounts: activation codes, activation, status, admin unlock; and the migrations."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from jisr.identity.authn import (
    AccountActive,
    Accounts,
    ActivationInvalid,
    Throttled,
    UnknownAccount,
    WeakPassword,
)
from jisr.identity.authn.models import ActivationCodeRow
from jisr.storage import Database
from tests.identity.authn.conftest import ADDRESS, NIN, PASSWORD, Clock


class TestMigrations:
    async def test_tables_and_own_version_table(self, database: Database) -> None:
        """Migrations create the authn tables and record them in alembic_version_authn."""
        async with database.engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert {"authn_accounts", "authn_sessions", "alembic_version_authn"} <= set(names)


class TestActivation:
    async def test_new_account_is_pending_until_activated(self, accounts: Accounts) -> None:
        """Issuing a code creates a pending account; the right code and password activate it."""
        issued = await accounts.issue_activation(NIN)
        assert (await accounts.get(NIN)).status == "pending"
        account = await accounts.activate(NIN, issued.code, PASSWORD, address=ADDRESS)
        assert account.status == "active"
        assert account.activated_at is not None

    async def test_code_is_stored_only_as_a_digest(
        self, accounts: Accounts, database: Database
    ) -> None:
        """The plain code is nowhere in the database."""
        issued = await accounts.issue_activation(NIN)
        async with database.transaction() as session:
            row = await session.get(ActivationCodeRow, 1)
        assert row is not None and issued.code not in row.code_hash

    async def test_code_is_forgiving_about_case_and_hyphens(self, accounts: Accounts) -> None:
        """The code typed in lower case without hyphens is the same code."""
        issued = await accounts.issue_activation(NIN)
        typed = issued.code.replace("-", "").lower()
        assert (await accounts.activate(NIN, typed, PASSWORD, address=ADDRESS)).status == "active"

    async def test_reused_code_is_refused(self, accounts: Accounts) -> None:
        """A code works once."""
        issued = await accounts.issue_activation(NIN)
        await accounts.activate(NIN, issued.code, PASSWORD, address=ADDRESS)
        with pytest.raises(ActivationInvalid):
            await accounts.activate(NIN, issued.code, PASSWORD, address=ADDRESS)

    async def test_expired_code_is_refused(self, accounts: Accounts, clock: Clock) -> None:
        """A code past its lifetime (14 days by default) does not activate."""
        issued = await accounts.issue_activation(NIN)
        clock.advance(days=14, seconds=1)
        with pytest.raises(ActivationInvalid):
            await accounts.activate(NIN, issued.code, PASSWORD, address=ADDRESS)
        assert (await accounts.get(NIN)).status == "pending"

    async def test_wrong_code_is_refused(self, accounts: Accounts) -> None:
        """A wrong code, or another person's code, does not activate."""
        await accounts.issue_activation(NIN)
        other = await accounts.issue_activation("BK7654321")
        for code in ("AAAA-BBBB-CCCC-DDDD", other.code):
            with pytest.raises(ActivationInvalid):
                await accounts.activate(NIN, code, PASSWORD, address=ADDRESS)

    async def test_new_code_voids_the_previous_one(self, accounts: Accounts) -> None:
        """Issuing again voids the older unused code."""
        first = await accounts.issue_activation(NIN)
        await accounts.issue_activation(NIN)
        assert await accounts.pending_codes(NIN) == 1
        with pytest.raises(ActivationInvalid):
            await accounts.activate(NIN, first.code, PASSWORD, address=ADDRESS)

    async def test_weak_password_keeps_the_code_usable(self, accounts: Accounts) -> None:
        """A policy refusal does not spend the code."""
        issued = await accounts.issue_activation(NIN)
        with pytest.raises(WeakPassword):
            await accounts.activate(NIN, issued.code, "short", address=ADDRESS)
        assert (await accounts.activate(NIN, issued.code, PASSWORD, address=ADDRESS)).status == (
            "active"
        )

    async def test_no_code_for_an_active_account(self, accounts: Accounts, active: str) -> None:
        """An active account gets no activation code."""
        with pytest.raises(AccountActive):
            await accounts.issue_activation(active)


class TestAdministration:
    async def test_unknown_account(self, accounts: Accounts) -> None:
        """Reading or unlocking a NIN without an account raises UnknownAccount."""
        with pytest.raises(UnknownAccount):
            await accounts.get(NIN)
        with pytest.raises(UnknownAccount):
            await accounts.unlock(NIN)


class TestActivationThrottle:
    async def test_guessing_codes_is_delayed(self, accounts: Accounts) -> None:
        """Wrong activation codes count as failures: the fifth attempt must wait."""
        await accounts.issue_activation(NIN)
        for _ in range(4):
            with pytest.raises(ActivationInvalid):
                await accounts.activate(NIN, "AAAA-BBBB-CCCC-DDDD", PASSWORD, address=ADDRESS)
        with pytest.raises(Throttled):
            await accounts.activate(NIN, "AAAA-BBBB-CCCC-DDDD", PASSWORD, address=ADDRESS)
