"""GroupCommit on both backends: what it stores, and how a refused group fails.

On SQLite the group goes straight through the driver (``executemany`` and ``commit``);
these tests hold it to what SQLAlchemy itself stores and raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, MetaData, String, Table, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jisr.storage import Database, UTCDateTime
from jisr.storage.groupcommit import GroupCommit


class _Base(DeclarativeBase):
    metadata = MetaData()


class _Owner(_Base):
    __tablename__ = "gc_owners"
    name: Mapped[str] = mapped_column(String(16), primary_key=True)


class _Entry(_Base):
    __tablename__ = "gc_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    owner: Mapped[str] = mapped_column(ForeignKey("gc_owners.name"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    flag: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


ENTRIES = cast(Table, _Entry.__table__)
AT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _row(key: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "key": key,
        "owner": "civil",
        "at": AT,
        "until": None,
        "flag": True,
        "data": {"نص": "عربي", "n": [1, 2]},
    }
    row.update(changes)
    return row


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
        await connection.execute(insert(_Owner.__table__), [{"name": "civil"}])
    yield database
    await database.close()


async def _stored(database: Database) -> list[tuple[Any, ...]]:
    """The rows as another engine reads them back through SQLAlchemy's types."""
    other = Database(database.url)
    try:
        async with other.engine.connect() as connection:
            statement = select(
                _Entry.key, _Entry.owner, _Entry.at, _Entry.until, _Entry.flag, _Entry.data
            ).order_by(_Entry.key)
            return [tuple(row) for row in await connection.execute(statement)]
    finally:
        await other.close()


async def test_stored_as_sqlalchemy_stores_it(database: Database) -> None:
    """A group commit and a plain SQLAlchemy insert of the same values read back equal:
    aware datetimes (in another zone too), NULL, booleans, JSON with Arabic text."""
    offset = AT.astimezone(timezone(timedelta(hours=3)))
    writer = GroupCommit(database, ENTRIES, group_limit=10)
    await writer.insert([_row("a1", at=offset), _row("a2", until=AT, flag=False)])
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(ENTRIES), [_row("b1", at=offset), _row("b2", until=AT, flag=False)]
        )
    rows = await _stored(database)
    assert [row[1:] for row in rows[:2]] == [row[1:] for row in rows[2:]]
    assert rows[0][2] == AT and rows[0][2].tzinfo is not None
    assert rows[0][5] == {"نص": "عربي", "n": [1, 2]}


async def test_a_duplicate_is_an_integrity_error_and_writes_nothing(database: Database) -> None:
    """A group with a duplicate key raises SQLAlchemy's IntegrityError and none of its rows
    are stored (one transaction)."""
    writer = GroupCommit(database, ENTRIES, group_limit=10)
    with pytest.raises(IntegrityError):
        await writer.insert([_row("k1"), _row("k2"), _row("k1")])
    assert await _stored(database) == []
    await writer.insert([_row("k3")])  # the writer goes on after a refused group
    assert [row[0] for row in await _stored(database)] == ["k3"]


async def test_isolated_integrity_errors_fail_only_their_caller(database: Database) -> None:
    """With ``isolate_integrity_errors`` a refused row (an unknown owner) fails its own
    caller; the others of its group are committed."""
    writer = GroupCommit(database, ENTRIES, group_limit=10, isolate_integrity_errors=True)
    if database.backend == "sqlite":
        async with database.engine.connect() as connection:
            on = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert on == 1
    results = await asyncio.gather(
        writer.insert([_row("ok1")]),
        writer.insert([_row("bad", owner="nobody")]),
        writer.insert([_row("ok2")]),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], IntegrityError)
    assert [row[0] for row in await _stored(database)] == ["ok1", "ok2"]


async def test_a_missing_table_is_a_dbapi_error(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: ENTRIES.drop(sync))
    writer = GroupCommit(database, ENTRIES, group_limit=10)
    with pytest.raises(DBAPIError):
        await writer.insert([_row("x")])


async def test_rows_with_other_columns_are_refused(database: Database) -> None:
    """Rows of one group must give the same columns; the whole group fails, nothing is
    stored."""
    writer = GroupCommit(database, ENTRIES, group_limit=10)
    odd = _row("c2")
    del odd["until"]
    odd["extra"] = 1
    results = await asyncio.gather(
        writer.insert([_row("c1")]), writer.insert([odd]), return_exceptions=True
    )
    assert all(isinstance(result, (ValueError, StatementError)) for result in results), results
    assert await _stored(database) == []
