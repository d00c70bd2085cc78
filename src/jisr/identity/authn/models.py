"""Tables of authentication (Alembic history ``alembic_version_authn``).

* ``authn_accounts``: one per NIN: ``pending`` until activated, then ``active``; the
  password's Argon2id PHC string; the TOTP secret (confirmed and pending) and the last
  accepted TOTP time step (replay protection);
* ``authn_activation_codes``: SHA-256 of each one-time activation code, expiry, use;
* ``authn_recovery_codes``: SHA-256 of each TOTP recovery code, use;
* ``authn_counters``: failure counters per ``(scope, key)`` (account, second factor,
  client address) for progressive delays and lockout; kept for unknown NINs too, so
  throttling does not reveal which accounts exist;
* ``authn_sessions``: server-side sessions, keyed by the SHA-256 of the session id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jisr.storage.types import NAMING_CONVENTION, UTCDateTime

__all__ = [
    "AccountRow",
    "ActivationCodeRow",
    "Base",
    "CounterRow",
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
