"""Tables of the message log (Alembic history ``alembic_version_messagelog``).

One database may hold several logs (one per gateway process, each with its own
``log_id``); every other table refers to ``messagelog_logs.id``. Leaf hashes live apart
from the records so that retention can delete records while every proof still works:

* ``messagelog_leaves``: the tree, one 32-byte hash per leaf, kept for ever;
* ``messagelog_records``: what each leaf commits to (deleted by retention once archived);
* ``messagelog_tree_heads``: signed tree heads, their RFC 3161 tokens, and the tree's
  right edge at that size (so a restart resumes without reading every leaf);
* ``messagelog_certificates``: the signer certificates STHs name by SHA-256;
* ``messagelog_archives``: the archive files and their digest chain (X-Road:
  ``LAST_ARCHIVE_DIGEST``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jisr.storage.types import NAMING_CONVENTION, UTCDateTime, utcnow

__all__ = ["ArchiveFile", "Base", "Leaf", "Log", "Record", "SignerCertificate", "TreeHead"]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _log(*, primary_key: bool = False) -> Mapped[int]:
    return mapped_column(
        ForeignKey("messagelog_logs.id", ondelete="RESTRICT"),
        primary_key=primary_key,
        autoincrement=False,
    )


class Log(Base):
    __tablename__ = "messagelog_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    log_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Leaf(Base):
    __tablename__ = "messagelog_leaves"
    log: Mapped[int] = _log(primary_key=True)
    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Record(Base):
    __tablename__ = "messagelog_records"
    __table_args__ = (
        ForeignKeyConstraint(
            ["log", "leaf_index"],
            ["messagelog_leaves.log", "messagelog_leaves.leaf_index"],
            ondelete="RESTRICT",
        ),
    )
    log: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(8))
    xroad_id: Mapped[str] = mapped_column(String(255), index=True)
    request_id: Mapped[str] = mapped_column(String(255))
    client: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_digest: Mapped[str] = mapped_column(Text)
    body_size: Mapped[int] = mapped_column(BigInteger)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class SignerCertificate(Base):
    __tablename__ = "messagelog_certificates"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TreeHead(Base):
    """A signed tree head; ``tsa_token`` is null until the TSA has stamped it."""

    __tablename__ = "messagelog_tree_heads"
    __table_args__ = (Index("ix_messagelog_tree_heads_log_tree_size", "log", "tree_size"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    log: Mapped[int] = _log()
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    signer_sha256: Mapped[str] = mapped_column(
        ForeignKey("messagelog_certificates.sha256", ondelete="RESTRICT")
    )
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    tsa_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    timestamped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArchiveFile(Base):
    """One ``archive-<first>-<last>.jsonl.gz``; ``previous_sha256`` links the chain."""

    __tablename__ = "messagelog_archives"
    __table_args__ = (UniqueConstraint("log", "first_leaf"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    log: Mapped[int] = _log()
    first_leaf: Mapped[int] = mapped_column(BigInteger)
    last_leaf: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    previous_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
