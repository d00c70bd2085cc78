"""Tables of a gateway: local services, access rights, local groups, IS connections, tokens.

The message log keeps its own tables and migration history (:mod:`jisr.exchange.messagelog`).
Deleting a service cascades to its access rights; deleting a local group to its members and
the rights granted to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jisr.apitokens import ApiTokenColumns
from jisr.storage.types import NAMING_CONVENTION, UTCDateTime, utcnow

__all__ = [
    "AccessRight",
    "ApiToken",
    "AuditEntry",
    "Base",
    "ClientConnection",
    "LocalGroup",
    "LocalGroupMember",
    "LocalService",
]

CODE = 255


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LocalService(Base):
    """A service this gateway provides: service id → backend base URL."""

    __tablename__ = "local_services"
    __table_args__ = (UniqueConstraint("provider", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(1100))  # INSTANCE/CLASS/MEMBER[/SUBSYSTEM]
    code: Mapped[str] = mapped_column(String(CODE))
    backend_url: Mapped[str] = mapped_column(Text)
    timeout: Mapped[float] = mapped_column(Float, default=30.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    openapi_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LocalGroup(Base):
    __tablename__ = "local_groups"
    __table_args__ = (UniqueConstraint("owner", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(1100))  # the local subsystem owning the group
    code: Mapped[str] = mapped_column(String(CODE))
    description: Mapped[str] = mapped_column(Text, default="")


class LocalGroupMember(Base):
    __tablename__ = "local_group_members"
    __table_args__ = (UniqueConstraint("group_id", "client"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("local_groups.id", ondelete="CASCADE"), index=True
    )
    client: Mapped[str] = mapped_column(String(1100))


class AccessRight(Base):
    """``subject`` may call ``service`` (optionally only ``method`` on ``path`` pattern).

    ``subject_kind`` is ``client`` (a member or subsystem id), ``global_group``
    (``INSTANCE/GROUP``) or ``local_group`` (a local group code of the provider).
    """

    __tablename__ = "access_rights"
    __table_args__ = (UniqueConstraint("service_id", "subject_kind", "subject", "method", "path"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("local_services.id", ondelete="CASCADE"), index=True
    )
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(1100))
    method: Mapped[str] = mapped_column(String(16), default="*")
    path: Mapped[str] = mapped_column(String(2000), default="**")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClientConnection(Base):
    """How a local information system authenticates to this gateway's consumer face."""

    __tablename__ = "client_connections"
    client: Mapped[str] = mapped_column(String(1100), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), default="mtls")  # none | tls | mtls
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    # The registered IS certificate itself: the IS-facing TLS listener must trust it.
    certificate_pem: Mapped[str | None] = mapped_column(Text)
    log_bodies: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiToken(ApiTokenColumns, Base):
    __tablename__ = "api_tokens"


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="{}")
