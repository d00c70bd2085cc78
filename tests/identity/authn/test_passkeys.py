"""Passkeys (WebAuthn): real ceremonies against a software authenticator written here.

The authenticator holds a P-256 key made with ``cryptography`` and builds, byte by byte,
what a browser and an authenticator send: ``clientDataJSON``, ``authenticatorData``
(rpIdHash, flags, signCount, attested credential data with a COSE_Key), a ``none``
attestation object (CBOR), and ES256 (DER) assertion signatures.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import pytest
from sqlalchemy import inspect, select, text, update

from jisr.identity.authn import (
    MIGRATIONS,
    VERSION_TABLE,
    AccountLocked,
    Accounts,
    Acr,
    AuthnSettings,
    AuthResult,
    InvalidCredentials,
    PasskeyFlagged,
    PasskeyRefused,
    Passkeys,
    PasskeySettings,
    UnknownAccount,
    UnknownPasskey,
    migrate,
)
from jisr.identity.authn.models import AccountRow, Base, CounterRow, PasskeyUserRow
from jisr.identity.authn.throttle import ACCOUNT
from jisr.identity.authn.throttle import ADDRESS as ADDRESS_SCOPE
from jisr.storage import Database, upgrade
from tests.identity import webauthn_soft
from tests.identity.authn.conftest import ADDRESS, Clock
from tests.identity.webauthn_soft import UP, unb64url

RP_ID = "id.jisr.example"
ORIGIN = "https://id.jisr.example"
OTHER = "BK7654321"


class SoftAuthenticator(webauthn_soft.SoftAuthenticator):
    """The shared software authenticator, for this file's relying party."""

    def __init__(self) -> None:
        super().__init__(ORIGIN, RP_ID)


@pytest.fixture
def passkey_settings() -> PasskeySettings:
    return PasskeySettings(rp_id=RP_ID, rp_name="Jisr test", origins=(ORIGIN,))


@pytest.fixture
def passkeys(
    database: Database, passkey_settings: PasskeySettings, settings: AuthnSettings, clock: Clock
) -> Passkeys:
    return Passkeys(database, passkey_settings, settings, clock)


async def register(passkeys: Passkeys, nin: str) -> SoftAuthenticator:
    authenticator = SoftAuthenticator()
    options = await passkeys.begin_registration(nin)
    await passkeys.finish_registration(nin, authenticator.create(options.options_json))
    return authenticator


@pytest.fixture
async def registered(passkeys: Passkeys, active: str) -> SoftAuthenticator:
    """A software authenticator holding a passkey of the active account."""
    return await register(passkeys, active)


async def login(
    passkeys: Passkeys,
    authenticator: SoftAuthenticator,
    nin: str | None = None,
    **get: Any,
) -> AuthResult:
    options = await passkeys.begin_authentication(nin)
    return await passkeys.finish_authentication(
        authenticator.get(options.options_json, **get), ADDRESS
    )


async def failures(database: Database, scope: str, key: str) -> int:
    async with database.transaction() as session:
        row = await session.get(CounterRow, (scope, key))
        return 0 if row is None else row.failures


class TestSettings:
    def test_origins_must_be_secure_and_within_the_rp_id(self) -> None:
        """An origin outside the rp id, or over plain http (not localhost), is refused."""
        for origin in ("https://evil.example", "http://id.jisr.example"):
            with pytest.raises(ValueError, match="origin"):
                PasskeySettings(rp_id=RP_ID, origins=(origin,))
        PasskeySettings(rp_id="localhost", origins=("http://localhost:8000",))
        PasskeySettings(rp_id="jisr.example", origins=(ORIGIN,))


class TestMigration:
    async def test_upgrade_from_0001_to_0002(self, database_url: str) -> None:
        """An authn schema at 0001 upgrades to 0002; the schema then matches the models."""
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext

        await asyncio.to_thread(upgrade, MIGRATIONS, database_url, VERSION_TABLE, "0001")
        await asyncio.to_thread(migrate, database_url)
        database = Database(database_url)
        try:
            async with database.engine.connect() as connection:
                tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
                version = await connection.scalar(
                    text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 constant name
                )
                diff = await connection.run_sync(
                    lambda c: compare_metadata(
                        MigrationContext.configure(
                            c, opts={"version_table": VERSION_TABLE, "compare_type": True}
                        ),
                        Base.metadata,
                    )
                )
        finally:
            await database.close()
        assert version == "0002"
        assert {"authn_passkeys", "authn_passkey_users", "authn_passkey_challenges"} <= tables
        assert diff == []


class TestRegistration:
    async def test_options_use_an_opaque_handle_and_exclude_existing_passkeys(
        self, passkeys: Passkeys, database: Database, registered: SoftAuthenticator, active: str
    ) -> None:
        """user.id is the account's random handle (never the NIN); existing ones excluded."""
        options = json.loads((await passkeys.begin_registration(active)).options_json)
        handle = unb64url(options["user"]["id"])
        assert handle == registered.user_handle
        assert active.encode() not in handle
        assert len(handle) == 32
        async with database.transaction() as session:
            stored = await session.scalar(
                select(PasskeyUserRow.user_handle).where(PasskeyUserRow.nin == active)
            )
        assert stored == handle
        assert options["rp"] == {"id": RP_ID, "name": "Jisr test"}
        assert options["authenticatorSelection"]["residentKey"] == "preferred"
        assert options["authenticatorSelection"]["userVerification"] == "required"
        assert options["attestation"] == "none"
        assert [c["id"] for c in options["excludeCredentials"]] == [registered.id]

    async def test_passkey_is_stored_and_listed(
        self, passkeys: Passkeys, active: str, clock: Clock
    ) -> None:
        """The credential, its transports and creation time are stored and listed."""
        authenticator = SoftAuthenticator()
        options = await passkeys.begin_registration(active)
        passkey = await passkeys.finish_registration(
            active, authenticator.create(options.options_json), label="phone"
        )
        assert passkey.credential_id == authenticator.id
        assert (passkey.label, passkey.transports) == ("phone", ("internal", "hybrid"))
        assert passkey.aaguid == "00000000-0000-0000-0000-000000000000"
        assert (passkey.created_at, passkey.last_used_at, passkey.flagged_at) == (
            clock(),
            None,
            None,
        )
        assert await passkeys.for_account(active) == [passkey]

    async def test_refused_without_user_verification_or_from_another_origin(
        self, passkeys: Passkeys, active: str
    ) -> None:
        """Registration needs UV, the right origin and rp id; nothing is stored otherwise."""
        creates: list[dict[str, Any]] = [
            {"flags": UP},
            {"origin": "https://evil.example"},
            {"rp_id": "evil.example"},
        ]
        for create in creates:
            options = await passkeys.begin_registration(active)
            response = SoftAuthenticator().create(options.options_json, **create)
            with pytest.raises(PasskeyRefused):
                await passkeys.finish_registration(active, response)
        assert await passkeys.for_account(active) == []

    async def test_challenge_is_single_use_bound_to_the_account_and_expires(
        self, passkeys: Passkeys, accounts: Accounts, active: str, clock: Clock
    ) -> None:
        """A registration challenge works once, for its account, before it expires."""
        authenticator = SoftAuthenticator()
        options = await passkeys.begin_registration(active)
        response = authenticator.create(options.options_json)
        issued = await accounts.issue_activation(OTHER)
        await accounts.activate(OTHER, issued.code, "another fine passphrase", address=ADDRESS)
        with pytest.raises(PasskeyRefused, match="challenge"):
            await passkeys.finish_registration(OTHER, response)
        with pytest.raises(PasskeyRefused, match="challenge"):
            await passkeys.finish_registration(active, response)  # claimed by the attempt above
        options = await passkeys.begin_registration(active)
        clock.advance(minutes=5, seconds=1)
        with pytest.raises(PasskeyRefused, match="challenge"):
            await passkeys.finish_registration(active, authenticator.create(options.options_json))
        assert await passkeys.for_account(active) == []

    async def test_only_active_unlocked_accounts_register(
        self, passkeys: Passkeys, accounts: Accounts, database: Database, active: str, clock: Clock
    ) -> None:
        """Unknown, pending and locked accounts cannot begin a registration."""
        with pytest.raises(UnknownAccount):
            await passkeys.begin_registration("BK0000009")
        await accounts.issue_activation(OTHER)
        with pytest.raises(PasskeyRefused, match="not active"):
            await passkeys.begin_registration(OTHER)
        async with database.transaction() as session:
            session.add(
                CounterRow(
                    scope=ACCOUNT,
                    key=active,
                    failures=10,
                    last_failure_at=clock(),
                    locked_at=clock(),
                )
            )
        with pytest.raises(AccountLocked):
            await passkeys.begin_registration(active)


class TestAuthentication:
    async def test_register_then_authenticate_gives_high(
        self, passkeys: Passkeys, registered: SoftAuthenticator, active: str, clock: Clock
    ) -> None:
        """A discoverable passkey login reaches acr high with amr hwk user mfa."""
        options = json.loads((await passkeys.begin_authentication()).options_json)
        assert options["allowCredentials"] == []
        assert options["userVerification"] == "required"
        assert options["rpId"] == RP_ID
        clock.advance(seconds=10)
        result = await login(passkeys, registered)
        assert result.nin == active
        assert result.acr is Acr.HIGH
        assert result.amr == ("hwk", "user", "mfa")
        assert result.auth_time == clock()
        [listed] = await passkeys.for_account(active)
        assert listed.last_used_at == clock()

    async def test_options_for_a_nin_allow_its_passkeys_only(
        self, passkeys: Passkeys, registered: SoftAuthenticator, active: str
    ) -> None:
        """With a NIN, allowCredentials lists its passkeys; another account's is refused."""
        options = json.loads((await passkeys.begin_authentication(active)).options_json)
        assert [c["id"] for c in options["allowCredentials"]] == [registered.id]
        assert options["allowCredentials"][0]["transports"] == ["internal", "hybrid"]
        assert (await login(passkeys, registered, active)).acr is Acr.HIGH
        with pytest.raises(InvalidCredentials):
            await login(passkeys, registered, "BK0000009")
        unknown = json.loads((await passkeys.begin_authentication("BK0000009")).options_json)
        assert unknown["allowCredentials"] == []

    @pytest.mark.parametrize(
        "get",
        [
            pytest.param({"origin": "https://evil.example"}, id="wrong-origin"),
            pytest.param({"rp_id": "evil.example"}, id="wrong-rp-id"),
            pytest.param({"flags": UP}, id="no-user-verification"),
        ],
    )
    async def test_refused_and_counted(
        self,
        passkeys: Passkeys,
        database: Database,
        registered: SoftAuthenticator,
        active: str,
        get: dict[str, Any],
    ) -> None:
        """Wrong origin, wrong rp id, missing UV: refused, counted against account and address."""
        with pytest.raises(InvalidCredentials) as caught:
            await login(passkeys, registered, **get)
        assert type(caught.value) is InvalidCredentials
        assert await failures(database, ACCOUNT, active) == 1
        assert await failures(database, ADDRESS_SCOPE, ADDRESS) == 1
        assert (await login(passkeys, registered)).acr is Acr.HIGH
        assert await failures(database, ACCOUNT, active) == 0

    async def test_replayed_challenge_is_refused(
        self, passkeys: Passkeys, registered: SoftAuthenticator
    ) -> None:
        """The same signed response (same challenge) is accepted once only."""
        options = await passkeys.begin_authentication()
        response = registered.get(options.options_json)
        await passkeys.finish_authentication(response, ADDRESS)
        with pytest.raises(InvalidCredentials):
            await passkeys.finish_authentication(response, ADDRESS)
        # Even re-signed with a higher counter, the used challenge stays refused.
        with pytest.raises(InvalidCredentials):
            await passkeys.finish_authentication(registered.get(options.options_json), ADDRESS)

    async def test_expired_challenge_is_refused(
        self, passkeys: Passkeys, registered: SoftAuthenticator, clock: Clock
    ) -> None:
        """A challenge older than challenge_lifetime (5 minutes) is refused."""
        options = await passkeys.begin_authentication()
        clock.advance(minutes=5)
        with pytest.raises(InvalidCredentials):
            await passkeys.finish_authentication(registered.get(options.options_json), ADDRESS)

    async def test_bound_challenge_needs_the_same_binding(
        self, passkeys: Passkeys, registered: SoftAuthenticator
    ) -> None:
        """A challenge bound to a pre-login session is refused from another one."""
        options = await passkeys.begin_authentication(binding="session-a")
        response = registered.get(options.options_json)
        with pytest.raises(InvalidCredentials):
            await passkeys.finish_authentication(response, ADDRESS, binding="session-b")
        options = await passkeys.begin_authentication(binding="session-a")
        result = await passkeys.finish_authentication(
            registered.get(options.options_json), ADDRESS, binding="session-a"
        )
        assert result.acr is Acr.HIGH

    async def test_sign_count_regression_flags_the_credential(
        self,
        passkeys: Passkeys,
        database: Database,
        registered: SoftAuthenticator,
        active: str,
        clock: Clock,
    ) -> None:
        """A counter that does not grow means a clone: refused, flagged, refused from then on."""
        await login(passkeys, registered, sign_count=5)
        with pytest.raises(PasskeyFlagged) as caught:
            await login(passkeys, registered, sign_count=5)
        assert caught.value.code == "passkey_flagged"
        [listed] = await passkeys.for_account(active)
        assert listed.flagged_at == clock()
        assert await failures(database, ACCOUNT, active) == 1
        with pytest.raises(PasskeyFlagged):
            await login(passkeys, registered, sign_count=9)
        options = json.loads((await passkeys.begin_authentication(active)).options_json)
        assert options["allowCredentials"] == []

    async def test_zero_counters_are_accepted(
        self, passkeys: Passkeys, registered: SoftAuthenticator
    ) -> None:
        """Authenticators without a counter (always 0, e.g. synced passkeys) are accepted."""
        for _ in range(2):
            result = await login(passkeys, registered, sign_count=0)
            assert result.acr is Acr.HIGH

    async def test_unknown_credential_is_refused(
        self, passkeys: Passkeys, database: Database, registered: SoftAuthenticator
    ) -> None:
        """A credential never registered is refused and counted against the address."""
        stranger = SoftAuthenticator()
        stranger.user_handle = registered.user_handle
        with pytest.raises(InvalidCredentials):
            await login(passkeys, stranger)
        assert await failures(database, ADDRESS_SCOPE, ADDRESS) == 1

    async def test_forged_signature_is_refused(
        self, passkeys: Passkeys, registered: SoftAuthenticator
    ) -> None:
        """The right credential id signed with another key is refused (and not flagged)."""
        forger = SoftAuthenticator()
        forger.credential_id = registered.credential_id
        forger.user_handle = registered.user_handle
        with pytest.raises(InvalidCredentials) as caught:
            await login(passkeys, forger, sign_count=0)
        assert type(caught.value) is InvalidCredentials
        assert (await login(passkeys, registered)).acr is Acr.HIGH

    async def test_foreign_user_handle_is_refused(
        self, passkeys: Passkeys, registered: SoftAuthenticator
    ) -> None:
        """The userHandle must be the credential owner's handle."""
        registered.user_handle = secrets.token_bytes(32)
        with pytest.raises(InvalidCredentials):
            await login(passkeys, registered)

    async def test_malformed_credential_is_refused(
        self, passkeys: Passkeys, database: Database
    ) -> None:
        """Garbage is InvalidCredentials, counted against the address."""
        for garbage in ("", "{}", '{"id": "x", "rawId": "x", "response": {}}'):
            with pytest.raises(InvalidCredentials):
                await passkeys.finish_authentication(garbage, ADDRESS)
        assert await failures(database, ADDRESS_SCOPE, ADDRESS) == 3

    async def test_inactive_account_is_refused(
        self, passkeys: Passkeys, database: Database, registered: SoftAuthenticator, active: str
    ) -> None:
        """A passkey of an account that is no longer active does not log in."""
        async with database.transaction() as session:
            await session.execute(
                update(AccountRow).where(AccountRow.nin == active).values(status="pending")
            )
        with pytest.raises(InvalidCredentials):
            await login(passkeys, registered)

    async def test_locked_account_is_refused(
        self,
        passkeys: Passkeys,
        accounts: Accounts,
        database: Database,
        registered: SoftAuthenticator,
        active: str,
        clock: Clock,
    ) -> None:
        """A locked account's passkey raises AccountLocked until an administrator unlocks."""
        async with database.transaction() as session:
            session.add(
                CounterRow(
                    scope=ACCOUNT,
                    key=active,
                    failures=10,
                    last_failure_at=clock(),
                    locked_at=clock(),
                )
            )
        with pytest.raises(AccountLocked):
            await login(passkeys, registered)
        await accounts.unlock(active)
        assert (await login(passkeys, registered)).acr is Acr.HIGH


class TestManagement:
    async def test_remove_a_passkey(
        self, passkeys: Passkeys, registered: SoftAuthenticator, active: str
    ) -> None:
        """A removed passkey no longer logs in; removing an unknown one raises."""
        second = await register(passkeys, active)
        assert [p.credential_id for p in await passkeys.for_account(active)] == [
            registered.id,
            second.id,
        ]
        await passkeys.remove(active, registered.id)
        assert [p.credential_id for p in await passkeys.for_account(active)] == [second.id]
        with pytest.raises(InvalidCredentials):
            await login(passkeys, registered)
        with pytest.raises(UnknownPasskey):
            await passkeys.remove(active, registered.id)
        with pytest.raises(UnknownPasskey):
            await passkeys.remove("BK0000009", second.id)
        assert (await login(passkeys, second)).acr is Acr.HIGH

    async def test_registering_the_same_credential_twice_is_refused(
        self, passkeys: Passkeys, registered: SoftAuthenticator, active: str
    ) -> None:
        """A credential id is registered once."""
        options = await passkeys.begin_registration(active)
        with pytest.raises(PasskeyRefused, match="already registered"):
            await passkeys.finish_registration(active, registered.create(options.options_json))
