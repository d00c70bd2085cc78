"""Server-side sessions, their cookie, and CSRF tokens.

The cookie carries only a random 256-bit session id; the database keeps its SHA-256 (a
leaked table does not yield live cookies), the NIN, ``acr``, ``amr``, ``auth_time`` and
the absolute expiry. The cookie is ``__Host-`` prefixed, ``Secure``, ``HttpOnly``,
``SameSite=Lax``, ``Path=/`` and has no ``Domain`` (RFC 6265bis §4.1.3.2).

CSRF (OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit Cookie"): a form's token is
HMAC-SHA256(key, session id); the check recomputes it and compares in constant time. The
binding value need not be a logged-in session: a login form binds to a random pre-session
cookie the same way. A new session id is issued at every login (no session fixation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from jisr.identity.authn.errors import CsrfInvalid
from jisr.identity.authn.login import Acr, AuthResult
from jisr.identity.authn.models import SessionRow
from jisr.identity.authn.settings import AuthnSettings
from jisr.storage import Database, utcnow

__all__ = ["Cookie", "NewSession", "Session", "SessionStore", "check_csrf", "csrf_token"]


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_token(key: bytes, binding: str) -> str:
    """The CSRF token of forms served to the holder of ``binding`` (a session id)."""
    mac = hmac.new(key, b"jisr-csrf\x00" + binding.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def check_csrf(key: bytes, binding: str, token: str | None) -> None:
    """Raise :class:`CsrfInvalid` unless ``token`` is ``binding``'s (constant-time)."""
    if not token or not hmac.compare_digest(csrf_token(key, binding), token):
        raise CsrfInvalid


@dataclass(frozen=True)
class Cookie:
    """A ``Set-Cookie``: render with :meth:`header` or pass :meth:`kwargs` to Starlette."""

    name: str
    value: str
    max_age: int

    def kwargs(self) -> dict[str, object]:
        """Arguments of ``starlette.responses.Response.set_cookie``."""
        return {
            "key": self.name,
            "value": self.value,
            "max_age": self.max_age,
            "path": "/",
            "secure": True,
            "httponly": True,
            "samesite": "lax",
        }

    def header(self) -> str:
        return (
            f"{self.name}={self.value}; Max-Age={self.max_age}; Path=/; Secure; HttpOnly; "
            "SameSite=Lax"
        )


@dataclass(frozen=True)
class Session:
    nin: str
    acr: Acr
    amr: tuple[str, ...]
    auth_time: datetime
    expires_at: datetime


@dataclass(frozen=True)
class NewSession:
    """A session just made: the only time its id exists in plain text."""

    id: str
    session: Session
    cookie: Cookie
    csrf_token: str


class SessionStore:
    """Sessions over ``database``; ``csrf_key`` (≥ 32 random bytes) keys the CSRF HMAC."""

    def __init__(
        self,
        database: Database,
        csrf_key: bytes,
        settings: AuthnSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if len(csrf_key) < 32:
            raise ValueError("the CSRF key must be at least 32 bytes")
        self.database = database
        self.csrf_key = csrf_key
        self.settings = settings or AuthnSettings()
        self.clock = clock

    async def create(self, result: AuthResult, *, replaces: str | None = None) -> NewSession:
        """Start a session for ``result``; ``replaces`` (an older session id) is ended."""
        new = self.start(result)
        async with self.database.transaction() as db:
            await self.save(db, new, replaces=replaces)
        return new

    def start(self, result: AuthResult) -> NewSession:
        """A new session for ``result``, not stored yet: :meth:`save` stores it, inside a
        caller's transaction (so a login and what it leads to commit together)."""
        now = self.clock()
        session_id = secrets.token_urlsafe(32)
        expires_at = now + self.settings.session_lifetime
        lifetime = int(self.settings.session_lifetime.total_seconds())
        return NewSession(
            id=session_id,
            session=Session(result.nin, result.acr, result.amr, result.auth_time, expires_at),
            cookie=Cookie(self.settings.session_cookie, session_id, lifetime),
            csrf_token=self.csrf_token(session_id),
        )

    async def save(
        self, db: AsyncSession | AsyncConnection, new: NewSession, *, replaces: str | None = None
    ) -> None:
        """Store ``new`` in the caller's transaction ``db``; ``replaces`` is ended."""
        if replaces is not None:
            await db.execute(delete(SessionRow).where(SessionRow.id_hash == _id_hash(replaces)))
        session = new.session
        row = {
            "id_hash": _id_hash(new.id),
            "nin": session.nin,
            "acr": session.acr.value,
            "amr": list(session.amr),
            "auth_time": session.auth_time,
            "created_at": session.expires_at - self.settings.session_lifetime,
            "expires_at": session.expires_at,
        }
        await db.execute(insert(SessionRow), row)

    async def load(self, session_id: str) -> Session | None:
        """The live session with this id, or None (unknown, ended or expired)."""
        async with self.database.transaction() as db:
            row = await db.get(SessionRow, _id_hash(session_id))
            if row is None:
                return None
            if row.expires_at <= self.clock():
                await db.delete(row)
                return None
            return Session(row.nin, Acr(row.acr), tuple(row.amr), row.auth_time, row.expires_at)

    async def end(self, session_id: str) -> None:
        """Log out: forget the session."""
        async with self.database.transaction() as db:
            await db.execute(delete(SessionRow).where(SessionRow.id_hash == _id_hash(session_id)))

    async def purge_expired(self) -> int:
        """Delete expired sessions; returns how many."""
        async with self.database.transaction() as db:
            result = await db.execute(
                delete(SessionRow).where(SessionRow.expires_at <= self.clock())
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def expired_cookie(self) -> Cookie:
        """The ``Set-Cookie`` that deletes the session cookie at logout."""
        return Cookie(self.settings.session_cookie, "", 0)

    def csrf_token(self, session_id: str) -> str:
        return csrf_token(self.csrf_key, session_id)

    def check_csrf(self, session_id: str, token: str | None) -> None:
        check_csrf(self.csrf_key, session_id, token)
