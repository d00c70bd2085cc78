"""Database access of the register: the write lock, counters, rows in and out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Row, Select, Text, bindparam, func, insert, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from jisr.identity.register.events import SignedEvent, parse_event
from jisr.identity.register.models import EventRow, PersonRow, ReadRow, SequenceRow
from jisr.identity.register.person import Person, person_from_row, place_key, row_values
from jisr.storage import UTCDateTime

__all__ = [
    "append_event",
    "append_events",
    "begin_bulk_write",
    "begin_write",
    "birth_dates_of",
    "events_of",
    "fetch_and_record",
    "fetch_person",
    "insert_person",
    "insert_persons",
    "last_event",
    "load_person",
    "names_born",
    "next_sequence",
    "persons_born",
    "record_read",
    "reserve_sequence",
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


async def begin_bulk_write(session: AsyncSession, backend: str, births: Iterable[date]) -> None:
    """:func:`begin_write` for a batch of enrolments born on ``births``.

    SQLite: ``BEGIN IMMEDIATE``. PostgreSQL: the advisory lock of every distinct birth date,
    taken in ascending order in one statement (a fixed order, so two batches cannot
    deadlock; a single enrolment takes one of the same locks).
    """
    if backend == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
        return
    days = sorted({born.toordinal() for born in births})
    if days:
        await session.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(:namespace, day))"
                " FROM unnest(CAST(:days AS integer[])) AS day"
            ),
            {"namespace": _LOCK_NAMESPACE, "days": days},
        )


async def next_sequence(session: AsyncSession, backend: str, scope: str) -> int:
    """Draw the next number (1, 2, …) of ``scope``; drawn numbers are never reused."""
    return await reserve_sequence(session, backend, scope, 1)


async def reserve_sequence(session: AsyncSession, backend: str, scope: str, count: int) -> int:
    """Draw ``count`` consecutive numbers of ``scope`` at once; return the first."""
    dialect_insert = postgresql.insert if backend == "postgresql" else sqlite.insert
    await session.execute(
        dialect_insert(SequenceRow)
        .values(scope=scope, next_value=0)
        .on_conflict_do_nothing(index_elements=["scope"])
    )
    result = await session.execute(
        update(SequenceRow)
        .where(SequenceRow.scope == scope)
        .values(next_value=SequenceRow.next_value + count)
        .returning(SequenceRow.next_value)
    )
    return int(result.scalar_one()) - count + 1


async def load_person(session: AsyncSession, nin: str, *, lock: bool = False) -> Person | None:
    statement = select(PersonRow).where(PersonRow.nin == nin)
    if lock:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).scalar_one_or_none()
    return None if row is None else person_from_row(row)


_PERSONS = PersonRow.__table__
_BY_NIN = select(_PERSONS).where(_PERSONS.c.nin == bindparam("nin"))


async def fetch_person(connection: AsyncConnection, nin: str) -> Person | None:
    """:func:`load_person` on a Core connection: no ORM session, identity map or unit of
    work, one cached compiled statement by primary key; the lookup of ``read`` and ``get``."""
    row = (await connection.execute(_BY_NIN, {"nin": nin})).one_or_none()
    # A Core row of the table has the mapped class's attribute names and types.
    return None if row is None else person_from_row(cast(PersonRow, row))


def _lookup_and_record() -> Select[Any]:
    """``WITH person AS (SELECT … WHERE nin = :nin), audit AS (INSERT INTO register_reads
    SELECT person.nin, :requester, :purpose, :at FROM person) SELECT * FROM person``."""
    person = select(_PERSONS).where(_PERSONS.c.nin == bindparam("nin")).cte("person")
    row = select(
        person.c.nin,
        bindparam("requester", type_=Text()),
        bindparam("purpose", type_=Text()),
        bindparam("at", type_=UTCDateTime()),
    )
    columns = ["nin", "requester", "purpose", "at"]
    audit = insert(ReadRow).from_select(columns, row).cte("audit")
    return select(person).add_cte(audit)


_LOOKUP_AND_RECORD = _lookup_and_record()


async def fetch_and_record(
    connection: AsyncConnection, nin: str, requester: str, purpose: str, at: datetime
) -> Person | None:
    """PostgreSQL: :func:`fetch_person` and its read row in **one** statement (a
    data-modifying CTE). On an autocommit connection it commits before the row is
    returned, so the record comes back only once its read row is durable; an unknown
    number inserts nothing. One round trip; concurrent readers' commits share WAL flushes
    (PostgreSQL's own group commit)."""
    values = {"nin": nin, "requester": requester, "purpose": purpose, "at": at}
    row = (await connection.execute(_LOOKUP_AND_RECORD, values)).one_or_none()
    return None if row is None else person_from_row(cast(PersonRow, row))


async def persons_born(session: AsyncSession, on: date, place: str) -> list[Person]:
    """Everyone born on ``on`` at ``place`` (compared by :func:`place_key`)."""
    statement = (
        select(PersonRow)
        .where(PersonRow.date_of_birth == on, PersonRow.place_key == place_key(place))
        .order_by(PersonRow.nin)
    )
    return [person_from_row(row) for row in (await session.execute(statement)).scalars()]


async def names_born(
    session: AsyncSession, births: Iterable[tuple[date, str]]
) -> Sequence[Row[str, date, str, str, str, str | None, str, str, str | None]]:
    """Number, birth date, place key and names of everyone born on one of ``births``.

    ``births`` are ``(date_of_birth, place_key)`` pairs; one indexed query for a whole
    batch (the ``ix_register_persons_birth`` index serves the row-value ``IN``).
    """
    pairs = sorted(set(births))
    if not pairs:
        return []
    row = PersonRow
    statement = (
        select(
            row.nin,
            row.date_of_birth,
            row.place_key,
            row.given_arab,
            row.given_latn,
            row.given_tfng,
            row.family_arab,
            row.family_latn,
            row.family_tfng,
        )
        .where(tuple_(row.date_of_birth, row.place_key).in_(pairs))
        .order_by(row.nin)
    )
    return (await session.execute(statement)).all()


async def birth_dates_of(session: AsyncSession, nins: Iterable[str]) -> dict[str, date]:
    """``{nin: date_of_birth}`` of those of ``nins`` that are registered."""
    wanted = sorted(set(nins))
    if not wanted:
        return {}
    statement = select(PersonRow.nin, PersonRow.date_of_birth).where(PersonRow.nin.in_(wanted))
    return {row.nin: row.date_of_birth for row in await session.execute(statement)}


async def insert_person(session: AsyncSession, person: Person, now: datetime) -> None:
    await session.execute(insert(PersonRow).values(**row_values(person, now)))


async def insert_persons(session: AsyncSession, persons: Sequence[Person], now: datetime) -> None:
    """Insert many person rows in one executemany."""
    if persons:
        await session.execute(insert(PersonRow), [row_values(p, now) for p in persons])


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


async def append_events(session: AsyncSession, signed: Sequence[SignedEvent]) -> None:
    """Append many events in one executemany."""
    if signed:
        await session.execute(
            insert(EventRow),
            [
                {
                    "nin": item.event.person,
                    "seq": item.seq,
                    "kind": item.event.kind,
                    "canonical": item.canonical,
                    "jws": item.jws,
                    "sha256": item.sha256,
                }
                for item in signed
            ],
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
