"""Scoped API tokens for every management API (central, gateway, ...).

A token is ``jisr_`` followed by 32 random bytes (base64url). Only its SHA-256 is stored:
with 256 bits of entropy no dictionary or brute-force attack applies, so a slow password
hash would only cost latency on every request; the hash is also the lookup key.

Each component declares its table as ``class ApiToken(ApiTokenColumns, Base)`` and its
scopes as a ``StrEnum`` whose ``admin`` member implies all others, then uses one
:class:`TokenStore` bound to both.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import Header, Request
from sqlalchemy import Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jisr.problems import Problem
from jisr.storage import Database
from jisr.storage.types import UTCDateTime, utcnow

__all__ = ["ADMIN_SCOPE", "ApiTokenColumns", "TokenStore", "hash_token"]

PREFIX = "jisr_"
ADMIN_SCOPE = "admin"
# Recording every use would turn each read into a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(seconds=60)


class ApiTokenColumns:
    """Columns of a component's ``api_tokens`` table."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Create, revoke and check tokens stored in ``model`` (an ApiTokenColumns table)."""

    def __init__(self, model: type[ApiTokenColumns], realm: str) -> None:
        self.model = model
        self.realm = realm

    async def create(
        self,
        session: AsyncSession,
        name: str,
        scopes: Collection[StrEnum],
        expires_at: datetime | None,
    ) -> str:
        """Store a new token and return its secret (shown once, never stored)."""
        if not scopes:
            raise Problem.invalid("scope", "required", "at least one scope is required")
        if await session.scalar(select(self.model.id).where(self.model.name == name)):
            raise Problem(409, "already_exists", f"a token named {name!r} already exists")
        secret = PREFIX + secrets.token_urlsafe(32)
        row = self.model()
        row.name, row.token_hash = name, hash_token(secret)
        row.scopes = " ".join(sorted({scope.value for scope in scopes}))
        row.expires_at = expires_at
        session.add(row)
        await session.flush()
        return secret

    async def revoke(self, session: AsyncSession, name: str) -> None:
        row = await session.scalar(select(self.model).where(self.model.name == name))
        if row is None:
            raise Problem(404, "not_found", f"no token named {name!r}")
        row.revoked_at = utcnow()

    async def list(self, session: AsyncSession) -> list[ApiTokenColumns]:
        return list(await session.scalars(select(self.model).order_by(self.model.name)))

    def requirement(
        self, scope: StrEnum, database_of: Callable[[Request], Database]
    ) -> Callable[..., Awaitable[str]]:
        """A FastAPI dependency: the request's Bearer token must be live and carry ``scope``;
        it gives the actor's name (``token:<name>``) for the audit log."""

        async def check(
            request: Request, authorization: Annotated[str | None, Header()] = None
        ) -> str:
            async with database_of(request).transaction() as session:
                return await self.authenticate(session, authorization, scope.value)

        return check

    async def authenticate(self, session: AsyncSession, header: str | None, needed: str) -> str:
        """Check a ``Bearer`` header for a live token with scope ``needed``; return the actor."""
        challenge = {"WWW-Authenticate": f'Bearer realm="{self.realm}"'}
        if not header or not header.startswith("Bearer "):
            raise Problem(401, "unauthenticated", "a Bearer token is required", headers=challenge)
        secret = header[len("Bearer ") :].strip()
        query = select(self.model).where(self.model.token_hash == hash_token(secret))
        row = await session.scalar(query)
        now = utcnow()
        if row is None:
            raise Problem(401, "unauthenticated", "unknown token", headers=challenge)
        if row.revoked_at is not None:
            raise Problem(401, "unauthenticated", "the token has been revoked", headers=challenge)
        if row.expires_at is not None and row.expires_at <= now:
            raise Problem(401, "unauthenticated", "the token has expired", headers=challenge)
        granted = set(row.scopes.split())
        if ADMIN_SCOPE not in granted and needed not in granted:
            raise Problem(403, "insufficient_scope", f"this operation needs scope {needed!r}")
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
            row.last_used_at = now
        return f"token:{row.name}"
