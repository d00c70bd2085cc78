"""The writer's INSERTs (BulkInsert): what reaches the driver, and what is stored, is what
the Core's ``execute(insert(...), dicts)`` sends and stores, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.exchange.messagelog import _store
from jisr.exchange.messagelog._store import LEAVES, RECORDS, ensure_log, record_values
from jisr.exchange.messagelog.log import _sqlite_writer
from jisr.exchange.messagelog.models import Leaf, Record
from jisr.exchange.messagelog.records import LogRecord, prepare
from jisr.storage import Database
from tests.exchange.messagelog.conftest import exchange, make_record

Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]
Capture = list[tuple[str, Any, bool]]


def varied_records() -> list[LogRecord]:
    """Every kind of value a column can get: bodies kept, empty and not kept, statuses,
    errors, non-ASCII names and values, empty and read-only headers, other time zones."""
    request, response = exchange("x-1")
    zone = timezone(timedelta(hours=5, minutes=30))
    return [
        request,
        response,
        make_record("x-2", keep_body=False, error="Server.ClientProxy.LoggingFailed"),
        make_record("x-3", body=b"", at=datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=zone)),
        make_record("x-4", headers={}, at=datetime(1999, 12, 31, tzinfo=UTC)),
        make_record("x-5", headers=MappingProxyType({"x-road-id": "x-5", "x-note": 'é😀\n"'})),
        make_record("x-6", headers={"X-Ünïcode": "ﬁ", "x-ctl": "\x00\x1f\x7f\u2028"}),
        dataclasses.replace(request, client="MA/GOV/ÉCOLE", service="QA/GOV/وزارة", status=599),
    ]


def rows_for(log: int, records: list[LogRecord]) -> Rows:
    """The writer's rows for ``records`` (leaf indices from 0), as MessageLog._commit builds."""
    leaves, rows = [], []
    for index, record in enumerate(records):
        digest, leaf = prepare(record)
        leaves.append((log, index, leaf))
        rows.append(record_values(log, index, record, digest))
    return leaves, rows


def dicts(rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


@contextmanager
def capturing(engine: Engine) -> Iterator[Capture]:
    """(statement, parameters, executemany) of every statement sent to the driver."""
    seen: Capture = []

    def capture(*args: Any) -> None:
        _conn, _cursor, statement, parameters, _context, executemany = args
        seen.append((statement, parameters, executemany))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def without_log(capture: Capture) -> list[tuple[str, list[tuple[Any, ...]], bool]]:
    """The captured parameter rows with their first value (the log's row id) left out."""
    normalised = []
    for statement, parameters, many in capture:
        rows = parameters if many else [parameters]
        normalised.append((statement, [tuple(row)[1:] for row in rows], many))
    return normalised


async def stored(database: Database, log: int) -> tuple[list[Any], list[Any], list[Any]]:
    """The log's rows through the models, and as the database holds them (raw values)."""
    columns = [c for c in Record.__table__.columns if c.key != "log"]
    raw = (
        "SELECT leaf_index, kind, direction, xroad_id, request_id, client, service, "
        "CAST(at AS TEXT), CAST(headers AS TEXT), content_digest, body_size, body_sha256, "
        "body, status, error FROM messagelog_records WHERE log = :log ORDER BY leaf_index"
    )
    async with database.engine.connect() as connection:
        models = (
            await connection.execute(
                select(*columns).where(Record.log == log).order_by(Record.leaf_index)
            )
        ).all()
        leaves = (
            await connection.execute(
                select(Leaf.leaf_index, Leaf.leaf_hash)
                .where(Leaf.log == log)
                .order_by(Leaf.leaf_index)
            )
        ).all()
        as_stored = (await connection.execute(text(raw), {"log": log})).all()
    return [tuple(r) for r in models], [tuple(r) for r in leaves], [tuple(r) for r in as_stored]


async def core_insert(connection: AsyncConnection, leaves: Any, rows: Any) -> None:
    await connection.execute(insert(Leaf), dicts(leaves, LEAVES.columns))
    await connection.execute(insert(Record), dicts(rows, RECORDS.columns))


class TestBulkInsert:
    async def test_same_statements_parameters_and_rows_as_the_core(
        self, database: Database
    ) -> None:
        """On the writer's own connection (SQLite: pysqlite in its thread; PostgreSQL: the
        async engine, asyncpg), the driver gets the Core's statements with the Core's
        parameters, and the rows read back through the models, and as stored, are equal."""
        records = varied_records()
        core_log = await ensure_log(database, "core")
        fast_log = await ensure_log(database, "fast")
        core_rows, fast_rows = rows_for(core_log, records), rows_for(fast_log, records)
        writer = _sqlite_writer(database)
        if writer is None:  # PostgreSQL: the async engine
            engine = database.engine.sync_engine
            assert RECORDS._compile(engine.dialect) is not None  # the fast path, not the Core
            with capturing(engine) as core:
                async with database.engine.begin() as connection:
                    await core_insert(connection, *core_rows)
            with capturing(engine) as fast:
                async with database.engine.begin() as connection:
                    await LEAVES.execute_async(connection, fast_rows[0])
                    await RECORDS.execute_async(connection, fast_rows[1])
        else:  # SQLite: the synchronous engine of the writer thread
            engine, thread = writer
            thread.shutdown()
            try:
                assert RECORDS._compile(engine.dialect) is not None
                with capturing(engine) as core, engine.begin() as connection:
                    connection.execute(insert(Leaf), dicts(core_rows[0], LEAVES.columns))
                    connection.execute(insert(Record), dicts(core_rows[1], RECORDS.columns))
                with capturing(engine) as fast, engine.begin() as connection:
                    LEAVES.execute(connection, fast_rows[0])
                    RECORDS.execute(connection, fast_rows[1])
            finally:
                engine.dispose()
        assert len(core) == 2 and core[0][2]  # the Core's executemany, one per table
        assert without_log(fast) == without_log(core)
        assert await stored(database, fast_log) == await stored(database, core_log)
        models, leaves, _ = await stored(database, fast_log)
        assert [row[0] for row in models] == list(range(len(records)))
        assert [bytes(row[1]) for row in leaves] == [leaf for _, _, leaf in fast_rows[0]]
        assert models[3][7] == records[3].at  # UTCDateTime gives the aware instant back
        assert models[5][8] == dict(records[5].headers)

    async def test_single_row(self, database: Database) -> None:
        """One record (no executemany) is stored as the Core stores it."""
        record = [make_record("one")]
        core_log = await ensure_log(database, "core")
        fast_log = await ensure_log(database, "fast")
        async with database.engine.begin() as connection:
            await core_insert(connection, *rows_for(core_log, record))
        leaves, rows = rows_for(fast_log, record)
        writer = _sqlite_writer(database)
        if writer is None:
            async with database.engine.begin() as connection:
                await LEAVES.execute_async(connection, leaves)
                await RECORDS.execute_async(connection, rows)
        else:
            engine, thread = writer
            thread.shutdown()
            with engine.begin() as sync_connection:
                LEAVES.execute(sync_connection, leaves)
                RECORDS.execute(sync_connection, rows)
            engine.dispose()
        assert await stored(database, fast_log) == await stored(database, core_log)

    async def test_other_drivers_take_the_core_path(
        self, database: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A driver not known to end in one plain executemany gets the Core's execute
        (here: every driver, as if unknown), with the same result."""
        monkeypatch.setattr(_store, "_PLAIN_EXECUTEMANY", frozenset())
        leaves_insert, records_insert = _store.BulkInsert(Leaf), _store.BulkInsert(Record)
        assert records_insert._compile(database.engine.dialect) is None
        records = varied_records()
        core_log = await ensure_log(database, "core")
        fast_log = await ensure_log(database, "fast")
        async with database.engine.begin() as connection:
            await core_insert(connection, *rows_for(core_log, records))
        async with database.engine.begin() as connection:
            leaves, rows = rows_for(fast_log, records)
            await leaves_insert.execute_async(connection, leaves)
            await records_insert.execute_async(connection, rows)
        assert await stored(database, fast_log) == await stored(database, core_log)


def test_record_values_follow_the_columns() -> None:
    """record_values gives each column its field (the writer's rows are positional)."""
    record = make_record("x-9", kind="response", error="Server.ServerProxy.X")
    row = dict(zip(RECORDS.columns, record_values(7, 3, record, "ab" * 32), strict=True))
    assert row == {
        "log": 7,
        "leaf_index": 3,
        "kind": "response",
        "direction": record.direction,
        "xroad_id": "x-9",
        "request_id": record.request_id,
        "client": record.client,
        "service": record.service,
        "at": record.at,
        "headers": dict(record.headers),
        "content_digest": record.content_digest,
        "body_size": record.body_size,
        "body_sha256": "ab" * 32,
        "body": record.body,
        "status": 200,
        "error": "Server.ServerProxy.X",
    }
    assert LEAVES.columns == ("log", "leaf_index", "leaf_hash")
