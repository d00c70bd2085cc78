"""Tables of the central registry.

Deleting a member cascades (in the database, ``ON DELETE CASCADE``) to its subsystems,
gateways, certificates, CSRs, services and group memberships, so nothing it owned can
survive into the next global configuration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from jisr.apitokens import ApiTokenColumns
from jisr.storage.types import NAMING_CONVENTION, UTCDateTime, utcnow

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Certificate",
    "ConfDocument",
    "Csr",
    "FederationPartner",
    "Gateway",
    "GatewayClient",
    "GlobalGroup",
    "GroupMember",
    "Member",
    "MemberClass",
    "Service",
    "SigningKey",
    "Subsystem",
]

CODE = 255  # longest identifier part (jisr.ids.MAX_PART_LENGTH)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _owner(table: str) -> Mapped[int]:
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"), index=True)


class MemberClass(Base):
    __tablename__ = "member_classes"
    code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("member_class", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_class: Mapped[str] = mapped_column(
        ForeignKey("member_classes.code", ondelete="RESTRICT")
    )
    code: Mapped[str] = mapped_column(String(CODE))
    name_ar: Mapped[str] = mapped_column(Text)
    name_fr: Mapped[str] = mapped_column(Text, default="")
    name_en: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subsystems: Mapped[list[Subsystem]] = relationship(
        back_populates="member", passive_deletes=True, order_by="Subsystem.code"
    )


class Subsystem(Base):
    __tablename__ = "subsystems"
    __table_args__ = (UniqueConstraint("member_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = _owner("members")
    code: Mapped[str] = mapped_column(String(CODE))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="subsystems")


class Gateway(Base):
    __tablename__ = "gateways"
    __table_args__ = (UniqueConstraint("member_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = _owner("members")
    code: Mapped[str] = mapped_column(String(CODE))
    address: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship()


class GatewayClient(Base):
    """A subsystem hosted on a gateway (X-Road: a security server client)."""

    __tablename__ = "gateway_clients"
    gateway_id: Mapped[int] = mapped_column(
        ForeignKey("gateways.id", ondelete="CASCADE"), primary_key=True
    )
    subsystem_id: Mapped[int] = mapped_column(
        ForeignKey("subsystems.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Csr(Base):
    """A certificate signing request waiting for, or past, an operator's decision."""

    __tablename__ = "csrs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "auth" | "sign"
    member_id: Mapped[int] = _owner("members")
    gateway_id: Mapped[int | None] = mapped_column(
        ForeignKey("gateways.id", ondelete="CASCADE"), index=True
    )
    csr_pem: Mapped[str] = mapped_column(Text)
    public_key_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL")
    )


class Certificate(Base):
    """An issued gateway authentication or member signing certificate."""

    __tablename__ = "certificates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "auth" | "sign"
    member_id: Mapped[int] = _owner("members")
    gateway_id: Mapped[int | None] = mapped_column(
        ForeignKey("gateways.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GlobalGroup(Base):
    __tablename__ = "global_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupMember(Base):
    """A member or subsystem in a global group; ``client_key`` is its identifier text."""

    __tablename__ = "global_group_members"
    __table_args__ = (UniqueConstraint("group_id", "client_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = _owner("global_groups")
    member_id: Mapped[int] = _owner("members")
    subsystem_id: Mapped[int | None] = mapped_column(
        ForeignKey("subsystems.id", ondelete="CASCADE"), index=True
    )
    client_key: Mapped[str] = mapped_column(String(1100))


class Service(Base):
    """A service registered under a subsystem, with where its OpenAPI description lives."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("subsystem_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subsystem_id: Mapped[int] = _owner("subsystems")
    code: Mapped[str] = mapped_column(String(CODE))
    openapi_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FederationPartner(Base):
    """Another instance whose anchor this instance trusts."""

    __tablename__ = "federation_partners"
    instance: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    anchor_json: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(ApiTokenColumns, Base):
    __tablename__ = "api_tokens"


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ConfDocument(Base):
    """A generated, signed global configuration; the highest version is the current one."""

    __tablename__ = "globalconf_documents"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_sha256: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)


class SigningKey(Base):
    """A configuration-signing key: ``next`` (announced), ``active`` (signs) or ``retired``."""

    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
