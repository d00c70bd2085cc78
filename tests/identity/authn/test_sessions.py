"""Server-side sessions, the session cookie and CSRF tokens."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from jisr.identity.authn import (
    Acr,
    AuthnSettings,
    AuthResult,
    CsrfInvalid,
    SessionStore,
    check_csrf,
    csrf_token,
)
from jisr.identity.authn.models import SessionRow
from jisr.storage import Database
from tests.identity.authn.conftest import NOW, Clock

KEY = b"k" * 32


@pytest.fixture
def store(database: Database, clock: Clock) -> SessionStore:
    return SessionStore(database, KEY, AuthnSettings(), clock)


@pytest.fixture
def result(active: str) -> AuthResult:
    return AuthResult(active, Acr.LOW, ("pwd",), NOW, totp_enrolled=False)


class TestSessions:
    async def test_session_round_trip(self, store: SessionStore, result: AuthResult) -> None:
        """A created session loads back with its acr, amr and auth_time."""
        new = await store.create(result)
        session = await store.load(new.id)
        assert session is not None
        assert (session.nin, session.acr, session.amr) == (result.nin, Acr.LOW, ("pwd",))
        assert session.auth_time == NOW

    async def test_id_is_stored_hashed(
        self, store: SessionStore, result: AuthResult, database: Database
    ) -> None:
        """The database keeps the SHA-256 of the id, never the id."""
        new = await store.create(result)
        async with database.transaction() as db:
            assert await db.get(SessionRow, new.id) is None

    async def test_session_expires(
        self, store: SessionStore, result: AuthResult, clock: Clock
    ) -> None:
        """After the lifetime (8 h) the session no longer loads."""
        new = await store.create(result)
        clock.advance(hours=7, minutes=59)
        assert await store.load(new.id) is not None
        clock.advance(minutes=1)
        assert await store.load(new.id) is None

    async def test_logout_and_replacement_end_sessions(
        self, store: SessionStore, result: AuthResult
    ) -> None:
        """end() forgets a session; a login replacing a session ends the old id."""
        first = await store.create(result)
        second = await store.create(result, replaces=first.id)
        assert first.id != second.id
        assert await store.load(first.id) is None
        await store.end(second.id)
        assert await store.load(second.id) is None

    async def test_purge_deletes_only_expired(
        self, store: SessionStore, result: AuthResult, clock: Clock
    ) -> None:
        """purge_expired() removes expired sessions and keeps live ones."""
        await store.create(result)
        clock.advance(hours=9)
        live = await store.create(result)
        assert await store.purge_expired() == 1
        assert await store.load(live.id) is not None


class TestCookie:
    async def test_cookie_is_host_prefixed_secure_httponly_lax(
        self, store: SessionStore, result: AuthResult
    ) -> None:
        """The session cookie has every protective attribute and no Domain."""
        new = await store.create(result)
        header = new.cookie.header()
        assert header.startswith(f"__Host-jisr-session={new.id}; ")
        for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"):
            assert attribute in header
        assert "Domain" not in header
        assert new.cookie.kwargs()["samesite"] == "lax"
        assert store.expired_cookie().max_age == 0

    def test_cookie_name_without_host_prefix_is_refused(self) -> None:
        """Settings refuse a session cookie name without __Host-."""
        with pytest.raises(ValidationError, match="__Host-"):
            AuthnSettings(session_cookie="session")

    def test_short_csrf_key_is_refused(self, database: Database) -> None:
        """The CSRF key has at least 32 bytes."""
        with pytest.raises(ValueError, match="32 bytes"):
            SessionStore(database, b"short")


class TestCsrf:
    async def test_session_token_passes(self, store: SessionStore, result: AuthResult) -> None:
        """The token handed out with a session passes its check."""
        new = await store.create(result)
        store.check_csrf(new.id, new.csrf_token)

    @pytest.mark.parametrize("token", [None, "", "x", csrf_token(KEY, "other session")])
    def test_wrong_missing_or_foreign_token_fails(self, token: str | None) -> None:
        """A missing, malformed or other session's token raises CsrfInvalid."""
        with pytest.raises(CsrfInvalid):
            check_csrf(KEY, "this session", token)

    def test_token_depends_on_the_key(self) -> None:
        """A token made with another key does not pass."""
        with pytest.raises(CsrfInvalid):
            check_csrf(KEY, "s", csrf_token(b"o" * 32, "s"))
