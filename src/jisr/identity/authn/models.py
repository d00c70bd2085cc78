"""Tables of authentication (Alembic history ``alembic_version_authn``).

* ``authn_accounts``: one per NIN: ``pending`` until activated, then ``active``; the
  password's Argon2id PHC string; the TOTP secret (confirmed and pending) and the last
  accepted TOTP time step (replay protection);
* ``authn_activation_codes``: SHA-256 of each one-time activation code, expiry, use;
* ``authn_recovery_codes``: SHA-256 of each TOTP recovery code, use;
* ``authn_counters``: failure counters per ``(scope, key)`` (account, second factor,
  client address) for progressive delays and lockout; kept for unknown NINs too, so
  throttling does not reveal which accounts exist;
* ``authn_sessions``: server-side sessions, keyed by the SHA-256 of the session id;
* ``authn_passkey_users``, ``authn_passkeys``, ``authn_passkey_challenges``: WebAuthn user
  handles, registered credentials and pending ceremonies' challenges (revision 0002).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jisr.storage.types import NAMING_CONVENTION, UTCDateTime

__all__ = [
    "AccountRow",
    "ActivationCodeRow",
    "Base",
    "CounterRow",
    "PasskeyChallengeRow",
    "PasskeyRow",
    "PasskeyUserRow",
    "RecoveryCodeRow",
    "SessionRow",
]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AccountRow(Base):
    __tablename__ = "authn_accounts"
    nin: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ActivationCodeRow(Base):
    __tablename__ = "authn_activation_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nin: Mapped[str] = mapped_column(
        ForeignKey("authn_accounts.nin", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCodeRow(Base):
    __tablename__ = "authn_recovery_codes"
    __table_args__ = (UniqueConstraint("nin", "code_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nin: Mapped[str] = mapped_column(ForeignKey("authn_accounts.nin", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CounterRow(Base):
    __tablename__ = "authn_counters"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SessionRow(Base):
    __tablename__ = "authn_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    nin: Mapped[str] = mapped_column(
        ForeignKey("authn_accounts.nin", ondelete="CASCADE"), index=True
    )
    acr: Mapped[str] = mapped_column(String(16))
    amr: Mapped[list[str]] = mapped_column(JSON)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# Passkeys (WebAuthn), :mod:`jisr.identity.authn.passkeys`; revision 0002.


class PasskeyUserRow(Base):
    """The WebAuthn user handle of an account: random, opaque, never derived from the NIN."""

    __tablename__ = "authn_passkey_users"
    nin: Mapped[str] = mapped_column(
        ForeignKey("authn_accounts.nin", ondelete="CASCADE"), primary_key=True
    )
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)


class PasskeyRow(Base):
    """One registered credential; ``flagged_at`` is set when its signature counter regressed."""

    __tablename__ = "authn_passkeys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nin: Mapped[str] = mapped_column(
        ForeignKey("authn_accounts.nin", ondelete="CASCADE"), index=True
    )
    # base64url of the raw credential id (at most 1023 bytes, WebAuthn L3 §5.1).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger)
    transports: Mapped[list[str]] = mapped_column(JSON)
    aaguid: Mapped[str] = mapped_column(String(36))
    backup_eligible: Mapped[bool] = mapped_column(Boolean)
    backed_up: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasskeyChallengeRow(Base):
    """A pending ceremony's challenge (SHA-256), single use: deleted when claimed."""

    __tablename__ = "authn_passkey_challenges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ceremony: Mapped[str] = mapped_column(String(16))
    # No foreign key: an authentication ceremony may name a NIN without an account, and
    # must then fail exactly like one naming an account (no enumeration).
    nin: Mapped[str | None] = mapped_column(String(32), index=True)
    binding_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
