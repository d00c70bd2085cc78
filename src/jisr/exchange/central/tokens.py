"""Scoped API tokens for the admin API.

A token is ``jisr_`` followed by 32 random bytes (base64url). Only its SHA-256 is stored:
with 256 bits of entropy no dictionary or brute-force attack applies, so a slow password
hash would only cost latency on every request; the hash is also the lookup key.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jisr.exchange.central.models import ApiToken
from jisr.problems import Problem
from jisr.storage.types import utcnow

__all__ = ["Scope", "authenticate", "create_token", "hash_token", "revoke_token"]

PREFIX = "jisr_"


class Scope(StrEnum):
    """What a token may do. ``admin`` implies every other scope."""

    ADMIN = "admin"
    REGISTRY_READ = "registry:read"
    REGISTRY_WRITE = "registry:write"
    CSR_SUBMIT = "csr:submit"
    CERTIFICATES_WRITE = "certificates:write"
    FEDERATION_WRITE = "federation:write"
    KEYS_WRITE = "keys:write"
    AUDIT_READ = "audit:read"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    session: AsyncSession, name: str, scopes: list[Scope], expires_at: datetime | None
) -> str:
    """Store a new token and return its secret (shown once, never stored)."""
    if not scopes:
        raise Problem.invalid("scope", "required", "at least one scope is required")
    if await session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise Problem(409, "already_exists", f"a token named {name!r} already exists")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=hash_token(secret),
        scopes=" ".join(sorted({scope.value for scope in scopes})),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return secret


async def revoke_token(session: AsyncSession, name: str) -> None:
    row = await session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise Problem(404, "not_found", f"no token named {name!r}")
    row.revoked_at = utcnow()


async def authenticate(session: AsyncSession, header: str | None, needed: Scope) -> str:
    """Check a ``Bearer`` header for a live token with the scope; return the actor name."""
    challenge = {"WWW-Authenticate": 'Bearer realm="jisr-central"'}
    if not header or not header.startswith("Bearer "):
        raise Problem(401, "unauthenticated", "a Bearer token is required", headers=challenge)
    secret = header[len("Bearer ") :].strip()
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    now = utcnow()
    if row is None:
        raise Problem(401, "unauthenticated", "unknown token", headers=challenge)
    if row.revoked_at is not None:
        raise Problem(401, "unauthenticated", "the token has been revoked", headers=challenge)
    if row.expires_at is not None and row.expires_at <= now:
        raise Problem(401, "unauthenticated", "the token has expired", headers=challenge)
    granted = set(row.scopes.split())
    if Scope.ADMIN.value not in granted and needed.value not in granted:
        raise Problem(403, "insufficient_scope", f"this operation needs scope {needed.value!r}")
    row.last_used_at = now
    return f"token:{row.name}"
