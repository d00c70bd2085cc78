"""Tables of the population register (Alembic history ``alembic_version_register``).

* ``register_persons``: the current record of each person, a projection of their events,
  with the normalised names the duplicate check compares; indexed by
  (date_of_birth, place_key) for that check;
* ``register_events``: the signed, chained events, append-only (``seq`` counts per person);
* ``register_reads``: who read which person, for what purpose, when;
* ``register_sequences``: one counter per numbering scope of the NIN profile.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jisr.storage.types import NAMING_CONVENTION, UTCDateTime

__all__ = ["Base", "EventRow", "PersonRow", "ReadRow", "SequenceRow"]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PersonRow(Base):
    __tablename__ = "register_persons"
    __table_args__ = (Index("ix_register_persons_birth", "date_of_birth", "place_key"),)
    nin: Mapped[str] = mapped_column(String(32), primary_key=True)
    given_arab: Mapped[str] = mapped_column(Text)
    given_latn: Mapped[str] = mapped_column(Text)
    given_tfng: Mapped[str | None] = mapped_column(Text)
    family_arab: Mapped[str] = mapped_column(Text)
    family_latn: Mapped[str] = mapped_column(Text)
    family_tfng: Mapped[str | None] = mapped_column(Text)
    given_arab_norm: Mapped[str] = mapped_column(Text)
    family_arab_norm: Mapped[str] = mapped_column(Text)
    given_latn_norm: Mapped[str] = mapped_column(Text)
    family_latn_norm: Mapped[str] = mapped_column(Text)
    date_of_birth: Mapped[date] = mapped_column(Date)
    place_of_birth: Mapped[str] = mapped_column(Text)
    place_key: Mapped[str] = mapped_column(Text)
    sex: Mapped[str] = mapped_column(String(1))
    nationality: Mapped[str] = mapped_column(String(2))
    parents: Mapped[list[str]] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    spouse: Mapped[str | None] = mapped_column(String(32))
    possible_duplicate: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventRow(Base):
    __tablename__ = "register_events"
    __table_args__ = (UniqueConstraint("nin", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nin: Mapped[str] = mapped_column(ForeignKey("register_persons.nin", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    jws: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class ReadRow(Base):
    __tablename__ = "register_reads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nin: Mapped[str] = mapped_column(String(32), index=True)
    requester: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class SequenceRow(Base):
    __tablename__ = "register_sequences"
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer)
