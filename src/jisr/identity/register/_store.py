"""Database access of the register: the write lock, counters, rows in and out."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from jisr.identity.register.events import SignedEvent, parse_event
from jisr.identity.register.models import EventRow, PersonRow, ReadRow, SequenceRow
from jisr.identity.register.person import Person, person_from_row, place_key, row_values

__all__ = [
    "append_event",
    "begin_write",
    "events_of",
    "insert_person",
    "last_event",
    "load_person",
    "next_sequence",
    "persons_born",
    "record_read",
    "update_person",
]

# First key of pg_advisory_xact_lock(int, int): "jisr" in ASCII, the register's namespace.
_LOCK_NAMESPACE = 0x6A697372


async def begin_write(session: AsyncSession, backend: str, birth: date | None = None) -> None:
    """Take the register's write lock for the rest of the transaction (docs/identity.md §2).

    SQLite: ``BEGIN IMMEDIATE`` (the database-wide write lock, taken before any read, so the
    duplicate check reads the state the insert will extend). PostgreSQL: an advisory lock
    on the birth date when enrolling, nothing otherwise (callers lock the person row).
    Must be the first statement of the session's transaction.
    """
    if backend == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
    elif birth is not None:
        lock = func.pg_advisory_xact_lock(_LOCK_NAMESPACE, birth.toordinal())
        await session.execute(select(lock))


async def next_sequence(session: AsyncSession, backend: str, scope: str) -> int:
    """Draw the next number (1, 2, …) of ``scope``; drawn numbers are never reused."""
    dialect_insert = postgresql.insert if backend == "postgresql" else sqlite.insert
    await session.execute(
        dialect_insert(SequenceRow)
        .values(scope=scope, next_value=0)
        .on_conflict_do_nothing(index_elements=["scope"])
    )
    result = await session.execute(
        update(SequenceRow)
        .where(SequenceRow.scope == scope)
        .values(next_value=SequenceRow.next_value + 1)
        .returning(SequenceRow.next_value)
    )
    return int(result.scalar_one())


async def load_person(session: AsyncSession, nin: str, *, lock: bool = False) -> Person | None:
    statement = select(PersonRow).where(PersonRow.nin == nin)
    if lock:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).scalar_one_or_none()
    return None if row is None else person_from_row(row)


async def persons_born(session: AsyncSession, on: date, place: str) -> list[Person]:
    """Everyone born on ``on`` at ``place`` (compared by :func:`place_key`)."""
    statement = (
        select(PersonRow)
        .where(PersonRow.date_of_birth == on, PersonRow.place_key == place_key(place))
        .order_by(PersonRow.nin)
    )
    return [person_from_row(row) for row in (await session.execute(statement)).scalars()]


async def insert_person(session: AsyncSession, person: Person, now: datetime) -> None:
    await session.execute(insert(PersonRow).values(**row_values(person, now)))


async def update_person(session: AsyncSession, person: Person, now: datetime) -> None:
    values = row_values(person, now)
    del values["nin"]
    await session.execute(update(PersonRow).where(PersonRow.nin == person.nin).values(**values))


async def last_event(session: AsyncSession, nin: str) -> tuple[int, str]:
    """``(seq, sha256)`` of the person's latest event, ``(0, "")`` before the first."""
    statement = (
        select(EventRow.seq, EventRow.sha256)
        .where(EventRow.nin == nin)
        .order_by(EventRow.seq.desc())
        .limit(1)
    )
    row = (await session.execute(statement)).one_or_none()
    return (0, "") if row is None else (row.seq, row.sha256)


async def append_event(session: AsyncSession, signed: SignedEvent) -> None:
    await session.execute(
        insert(EventRow).values(
            nin=signed.event.person,
            seq=signed.seq,
            kind=signed.event.kind,
            canonical=signed.canonical,
            jws=signed.jws,
            sha256=signed.sha256,
        )
    )


async def events_of(session: AsyncSession, nin: str) -> list[SignedEvent]:
    """The person's stored events in order, parsed but not yet verified."""
    statement = select(EventRow).where(EventRow.nin == nin).order_by(EventRow.seq)
    return [
        SignedEvent(
            seq=row.seq,
            event=parse_event(row.canonical, nin, row.seq),
            canonical=row.canonical,
            sha256=row.sha256,
            jws=row.jws,
        )
        for row in (await session.execute(statement)).scalars()
    ]


async def record_read(
    session: AsyncSession, nin: str, requester: str, purpose: str, at: datetime
) -> None:
    await session.execute(
        insert(ReadRow).values(nin=nin, requester=requester, purpose=purpose, at=at)
    )
