"""Access tokens: signed JWTs in the RFC 9068 profile, recorded by their SHA-256.

Self-contained JWTs let resource servers verify tokens offline against ``/jwks`` (header
``typ: at+jwt`` and ``kid``, RFC 9068 §2.1); the provider still records each token's hash so
that revocation (RFC 7009) and introspection (RFC 7662) are authoritative. The stored row
never holds the token itself.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jisr.crypto.jose import sign_compact
from jisr.identity.oidc.keys import SigningKey

__all__ = ["ACCESS_TOKEN_TYPE", "IssuedToken", "hash_token", "issue_access_token"]

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
) -> tuple[str, IssuedToken]:
    """Sign an RFC 9068 access token; return it with its record."""
    issued_at = now.replace(microsecond=0)
    expires_at = issued_at + lifetime
    jti = secrets.token_urlsafe(16)
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": jti,
        "scope": scope,
    }
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
    )
    return token, record
