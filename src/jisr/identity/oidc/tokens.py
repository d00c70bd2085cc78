"""Access tokens: signed JWTs in the RFC 9068 profile, recorded by their SHA-256.

Self-contained JWTs let resource servers verify tokens offline against ``/jwks`` (header
``typ: at+jwt`` and ``kid``, RFC 9068 §2.1); the provider still records each token's hash so
that revocation (RFC 7009) and introspection (RFC 7662) are authoritative. The stored row
never holds the token itself.

A token bound to a DPoP key (RFC 9449 §6) records the key's thumbprint; an access token also
carries it as ``cnf.jkt`` so that resource servers verifying offline see the binding.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jisr.crypto.jose import sign_compact
from jisr.identity.oidc.keys import SigningKey

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "IssuedToken",
    "at_hash",
    "hash_token",
    "issue_access_token",
    "issue_refresh_token",
    "sign_jwt",
]

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 -- a JOSE media type (RFC 9068 §2.1), not a secret


@dataclass(frozen=True)
class IssuedToken:
    """What the provider remembers about a token it issued."""

    token_hash: str
    kind: str
    jti: str
    client_id: str
    scope: str
    subject: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    grant_id: str | None = None
    cnf_jkt: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_access_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    client_id: str,
    subject: str,
    scope: str,
    now: datetime,
    lifetime: timedelta,
    grant_id: str | None = None,
    jkt: str | None = None,
) -> tuple[str, IssuedToken]:
    """Sign an RFC 9068 access token, bound to the DPoP key ``jkt`` if given; return it
    with its record."""
    issued_at = now.replace(microsecond=0)
    expires_at = issued_at + lifetime
    jti = secrets.token_urlsafe(16)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": jti,
        "scope": scope,
    }
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}  # RFC 9449 §6.1
    payload = json.dumps(claims, separators=(",", ":")).encode()
    token = sign_compact(payload, key.key, kid=key.kid, typ=ACCESS_TOKEN_TYPE)
    record = IssuedToken(
        token_hash=hash_token(token),
        kind="access_token",
        jti=jti,
        client_id=client_id,
        scope=scope,
        subject=subject,
        issued_at=issued_at.astimezone(UTC),
        expires_at=expires_at.astimezone(UTC),
        grant_id=grant_id,
        cnf_jkt=jkt,
    )
    return token, record


def issue_refresh_token(
    *,
    client_id: str,
    subject: str,
    scope: str,
    now: datetime,
    lifetime: timedelta,
    grant_id: str,
    jkt: str | None = None,
) -> tuple[str, IssuedToken]:
    """An opaque refresh token (256 random bits) and its record; only its hash is stored.
    ``jkt`` binds it to a DPoP key (RFC 9449 §5: refresh tokens of public clients)."""
    token = secrets.token_urlsafe(32)
    issued_at = now.replace(microsecond=0).astimezone(UTC)
    record = IssuedToken(
        token_hash=hash_token(token),
        kind="refresh_token",
        jti=secrets.token_urlsafe(16),
        client_id=client_id,
        scope=scope,
        subject=subject,
        issued_at=issued_at,
        expires_at=issued_at + lifetime,
        grant_id=grant_id,
        cnf_jkt=jkt,
    )
    return token, record


def sign_jwt(key: SigningKey, claims: dict[str, Any], typ: str = "JWT") -> str:
    """A compact JWS of ``claims`` with ``alg`` and ``kid`` of ``key``."""
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    return sign_compact(payload, key.key, kid=key.kid, typ=typ)


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: the left half of the SHA-256 of the token (ES256, RS256)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
