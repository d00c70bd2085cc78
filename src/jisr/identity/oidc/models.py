"""Tables of the OpenID Connect provider (Alembic history ``alembic_version_oidc``).

* ``oidc_clients``: registered relying parties and their metadata (RFC 7591 names);
* ``oidc_signing_keys``: the provider's key ring, one row per key, ``next`` → ``active`` →
  ``retired`` (docs/oidc.md §Key rotation);
* ``oidc_tokens``: every issued token by the SHA-256 of its value, for revocation
  (RFC 7009) and introspection (RFC 7662);
* ``oidc_used_assertions``: ``jti`` of accepted ``private_key_jwt`` assertions until they
  expire, so none is accepted twice (RFC 7523 §3 item 7);
* ``oidc_api_tokens``: scoped tokens of the admin API (:mod:`jisr.apitokens`).
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

__all__ = ["ApiToken", "Base", "ClientRow", "SigningKeyRow", "TokenRow", "UsedAssertionRow"]


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


class UsedAssertionRow(Base):
    __tablename__ = "oidc_used_assertions"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(256), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiToken(ApiTokenColumns, Base):
    __tablename__ = "oidc_api_tokens"
