"""Queries shared by the log, the verifier, evidence export and the archiver."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.exchange.messagelog.merkle import CompactTree
from jisr.exchange.messagelog.models import Base, Leaf, Log, Record, SignerCertificate
from jisr.exchange.messagelog.records import LogRecord, StoredRecord, leaf_object
from jisr.storage import Database

#: Leaves read per query when streaming: bounded memory, few round trips.
CHUNK = 10_000


async def log_numbers(connection: AsyncConnection) -> dict[str, int]:
    """``log_id`` → row id of every log in the database."""
    rows = await connection.execute(select(Log.log_id, Log.id).order_by(Log.id))
    return {row.log_id: row.id for row in rows}


async def ensure_log(database: Database, log_id: str) -> int:
    """The row id of ``log_id``, created on first use (a concurrent creator may win)."""
    for _ in range(2):
        async with database.engine.begin() as connection:
            number = await connection.scalar(select(Log.id).where(Log.log_id == log_id))
            if number is not None:
                return number
        try:
            async with database.engine.begin() as connection:
                await connection.execute(insert(Log).values(log_id=log_id))
        except IntegrityError:
            continue
    raise RuntimeError(f"could not register log {log_id!r}")


async def ensure_certificate(database: Database, sha256: str, der: bytes) -> None:
    async with database.engine.begin() as connection:
        known = await connection.scalar(
            select(SignerCertificate.sha256).where(SignerCertificate.sha256 == sha256)
        )
    if known is not None:
        return
    try:
        async with database.engine.begin() as connection:
            await connection.execute(insert(SignerCertificate).values(sha256=sha256, der=der))
    except IntegrityError:  # inserted meanwhile by another process: same content
        pass


async def log_size(connection: AsyncConnection, log: int) -> int:
    last = await connection.scalar(select(func.max(Leaf.leaf_index)).where(Leaf.log == log))
    return 0 if last is None else last + 1


async def iter_leaves(
    connection: AsyncConnection, log: int, lo: int, hi: int
) -> AsyncIterator[list[tuple[int, bytes]]]:
    """``(leaf_index, leaf_hash)`` for ``lo <= index < hi`` in order, a chunk at a time."""
    start = lo
    while start < hi:
        rows = await connection.execute(
            select(Leaf.leaf_index, Leaf.leaf_hash)
            .where(Leaf.log == log, Leaf.leaf_index >= start, Leaf.leaf_index < hi)
            .order_by(Leaf.leaf_index)
            .limit(CHUNK)
        )
        chunk = [(index, bytes(value)) for index, value in rows]
        if not chunk:
            return
        yield chunk
        start = chunk[-1][0] + 1


async def range_root(connection: AsyncConnection, log: int, lo: int, hi: int) -> bytes:
    """MTH of leaves ``[lo, hi)``, streamed; ValueError if one of them is missing."""
    tree = CompactTree()
    async for chunk in iter_leaves(connection, log, lo, hi):
        for index, value in chunk:
            if index != lo + tree.size:
                raise ValueError(f"leaf {lo + tree.size} is missing")
            tree.append(value)
    if tree.size != hi - lo:
        raise ValueError(f"leaf {lo + tree.size} is missing")
    return tree.root()


def record_values(
    log: int, index: int, record: LogRecord, body_digest: str | None
) -> tuple[Any, ...]:
    """The row of ``record`` in ``messagelog_records``, in column order (:data:`RECORDS`)."""
    return (
        log,
        index,
        record.kind,
        record.direction,
        record.xroad_id,
        record.request_id,
        record.client,
        record.service,
        record.at,
        dict(record.headers),
        record.content_digest,
        record.body_size,
        body_digest,
        record.body,
        record.status,
        record.error,
    )


#: Drivers for which the Core's executemany of an INSERT is exactly one
#: ``cursor.executemany`` of the compiled statement with the bind-processed values (no
#: insertmanyvalues batching, no setinputsizes), checked by the tests on both backends.
_PLAIN_EXECUTEMANY = frozenset({"pysqlite", "asyncpg"})

_Convert = Callable[[Sequence[tuple[Any, ...]]], list[tuple[Any, ...]]]


class BulkInsert:
    """A multi-row INSERT into every column of a table, rows given as tuples in column order.

    ``connection.execute(insert(table), dicts)`` costs the Core's executemany path per row
    (parameter dicts, key lookups, bind processors through the compiled statement).
    Where that path ends in one ``cursor.executemany`` (:data:`_PLAIN_EXECUTEMANY`), this
    compiles the statement once per dialect and runs it through ``exec_driver_sql`` with
    the values converted by the same bind processors the Core would apply (each column
    type's, for that dialect, e.g. UTCDateTime's and JSON's): the same SQL and the same
    parameters reach the driver, the Core's events and transaction included. Any other
    driver or paramstyle gets the Core path.
    """

    def __init__(self, model: type[Base]) -> None:
        self.model = model
        self.columns = tuple(column.key for column in model.__table__.columns)
        self._compiled: weakref.WeakKeyDictionary[Dialect, tuple[str, _Convert] | None] = (
            weakref.WeakKeyDictionary()
        )

    def execute(self, connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        compiled = self._compile(connection.dialect)
        if compiled is None:
            connection.execute(insert(self.model), self._dicts(rows))
        else:
            statement, convert = compiled
            connection.exec_driver_sql(statement, convert(rows))

    async def execute_async(
        self, connection: AsyncConnection, rows: Sequence[tuple[Any, ...]]
    ) -> None:
        compiled = self._compile(connection.dialect)
        if compiled is None:
            await connection.execute(insert(self.model), self._dicts(rows))
        else:
            statement, convert = compiled
            await connection.exec_driver_sql(statement, convert(rows))

    def _dicts(self, rows: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in rows]

    def _compile(self, dialect: Dialect) -> tuple[str, _Convert] | None:
        try:
            return self._compiled[dialect]
        except KeyError:
            pass
        compiled: tuple[str, _Convert] | None = None
        statement = insert(self.model).compile(dialect=dialect)
        if (
            dialect.driver in _PLAIN_EXECUTEMANY
            and statement.positional
            and tuple(statement.positiontup or ()) == self.columns
        ):
            processors = [
                column.type.dialect_impl(dialect).bind_processor(dialect)
                for column in self.model.__table__.columns
            ]
            compiled = (statement.string, _converter(processors))
        self._compiled[dialect] = compiled
        return compiled


def _converter(processors: Sequence[Callable[[Any], Any] | None]) -> _Convert:
    """Apply each column's bind processor (if it has one) to its value in every row."""
    active = [(i, process) for i, process in enumerate(processors) if process is not None]

    def convert(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        converted = []
        for row in rows:
            values = list(row)
            for i, process in active:
                values[i] = process(values[i])
            converted.append(tuple(values))
        return converted

    return convert


LEAVES = BulkInsert(Leaf)
RECORDS = BulkInsert(Record)


RECORD_COLUMNS: Sequence[Any] = (
    Record.leaf_index,
    Record.kind,
    Record.direction,
    Record.xroad_id,
    Record.request_id,
    Record.client,
    Record.service,
    Record.at,
    Record.headers,
    Record.content_digest,
    Record.body_size,
    Record.body_sha256,
    Record.body,
    Record.status,
    Record.error,
)


def log_record(row: Any) -> LogRecord:
    """A :class:`LogRecord` from a row selected with :data:`RECORD_COLUMNS`."""
    return LogRecord(
        kind=row.kind,
        direction=row.direction,
        xroad_id=row.xroad_id,
        request_id=row.request_id,
        client=row.client,
        service=row.service,
        at=row.at,
        headers=dict(row.headers),
        content_digest=row.content_digest,
        body_size=row.body_size,
        body=None if row.body is None else bytes(row.body),
        status=row.status,
        error=row.error,
    )


def row_leaf(row: Any) -> dict[str, Any]:
    """The leaf object a stored row commits to (with the stored ``body_sha256``)."""
    return leaf_object(log_record(row), row.body_sha256)


async def find_records(
    connection: AsyncConnection, log: int, log_id: str, xroad_id: str
) -> list[StoredRecord]:
    rows = await connection.execute(
        select(*RECORD_COLUMNS, Leaf.leaf_hash)
        .join(Leaf, (Leaf.log == Record.log) & (Leaf.leaf_index == Record.leaf_index))
        .where(Record.log == log, Record.xroad_id == xroad_id)
        .order_by(Record.leaf_index)
    )
    return [
        StoredRecord(
            log_id=log_id,
            leaf_index=row.leaf_index,
            leaf_hash=bytes(row.leaf_hash),
            body_sha256=row.body_sha256,
            record=log_record(row),
        )
        for row in rows
    ]
