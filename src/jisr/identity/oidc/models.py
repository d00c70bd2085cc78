"""Tables of the OpenID Connect provider (Alembic history ``alembic_version_oidc``).

* ``oidc_clients``: registered relying parties and their metadata (RFC 7591 names);
* ``oidc_signing_keys``: the provider's key ring, one row per key, ``next`` → ``active`` →
  ``retired`` (docs/oidc.md §Key rotation);
* ``oidc_tokens``: every issued token by the SHA-256 of its value, for revocation
  (RFC 7009) and introspection (RFC 7662);
* ``oidc_used_assertions``: ``jti`` of accepted ``private_key_jwt`` assertions until they
  expire, so none is accepted twice (RFC 7523 §3 item 7);
* ``oidc_api_tokens``: scoped tokens of the admin API (:mod:`jisr.apitokens`);
* ``oidc_authorization_requests``: authorization requests waiting for login or consent;
* ``oidc_grants``: one per authorization code: who, what, how authenticated; the tokens
  issued from it point to it, so a replayed code or refresh token revokes them all;
* ``oidc_consents``: consent remembered per client and person, until revoked;
* ``oidc_pushed_requests``: pushed authorization requests (RFC 9126) by the SHA-256 of
  their ``request_uri``, until used once or expired;
* ``oidc_dpop_proofs``: DPoP proofs seen (RFC 9449 §11.1), by the SHA-256 of ``jti`` and
  ``htu``, until they are too old to be accepted anyway.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jisr.apitokens import ApiTokenColumns
from jisr.storage.types import NAMING_CONVENTION, UTCDateTime

__all__ = [
    "ApiToken",
    "AuthRequestRow",
    "Base",
    "ClientRow",
    "ConsentRow",
    "DpopProofRow",
    "GrantRow",
    "PushedRequestRow",
    "SigningKeyRow",
    "TokenRow",
    "UsedAssertionRow",
]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ClientRow(Base):
    __tablename__ = "oidc_clients"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # SHA-256 hex of a 256-bit random secret; NULL for private_key_jwt clients.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    response_types: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(8))
    subject_type: Mapped[str] = mapped_column(String(8))
    sector_identifier_uri: Mapped[str | None] = mapped_column(Text)
    dpop_bound_access_tokens: Mapped[bool] = mapped_column(Boolean)
    may_introspect: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    userinfo_signed_response_alg: Mapped[str | None] = mapped_column(String(8))
    post_logout_redirect_uris: Mapped[list[str] | None] = mapped_column(JSON)
    # RFC 9126 §6: the authorization endpoint accepts this client's requests only pushed.
    require_pushed_authorization_requests: Mapped[bool] = mapped_column(Boolean)


class SigningKeyRow(Base):
    __tablename__ = "oidc_signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(8))
    pem: Mapped[bytes] = mapped_column(LargeBinary)
    encrypted: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(8), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A next key may sign from not_before on; a retired key leaves the JWKS at retire_after.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    retire_after: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TokenRow(Base):
    __tablename__ = "oidc_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    jti: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oidc_clients.client_id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The authorization code grant the token comes from (None for client credentials).
    grant_id: Mapped[str | None] = mapped_column(
        ForeignKey("oidc_grants.id", ondelete="CASCADE"), index=True
    )
    # RFC 9449 §6: the JWK SHA-256 thumbprint (RFC 7638) of the key the token is bound to.
    cnf_jkt: Mapped[str | None] = mapped_column(String(43))


class GrantRow(Base):
    __tablename__ = "oidc_grants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oidc_clients.client_id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    nonce: Mapped[str | None] = mapped_column(Text)
    nin: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    # Claims asked by name with the OIDC "claims" parameter: {"userinfo": [..], "id_token": [..]}.
    claims: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    acr: Mapped[str] = mapped_column(String(16))
    amr: Mapped[list[str]] = mapped_column(JSON)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    code_expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    code_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # RFC 9449 §10: the code may be redeemed only with a DPoP proof of this key.
    dpop_jkt: Mapped[str | None] = mapped_column(String(43))


class AuthRequestRow(Base):
    __tablename__ = "oidc_authorization_requests"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id", ondelete="CASCADE"))
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    # A session authenticated before this instant must re-authenticate (prompt=login, max_age).
    fresh_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ConsentRow(Base):
    __tablename__ = "oidc_consents"
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oidc_clients.client_id", ondelete="CASCADE"), primary_key=True
    )
    nin: Mapped[str] = mapped_column(String(32), primary_key=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    claims: Mapped[list[str]] = mapped_column(JSON)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsedAssertionRow(Base):
    __tablename__ = "oidc_used_assertions"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(256), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PushedRequestRow(Base):
    __tablename__ = "oidc_pushed_requests"
    uri_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oidc_clients.client_id", ondelete="CASCADE"))
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class DpopProofRow(Base):
    __tablename__ = "oidc_dpop_proofs"
    proof_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiToken(ApiTokenColumns, Base):
    __tablename__ = "oidc_api_tokens"
