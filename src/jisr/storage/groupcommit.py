"""Group commit: durable single-table inserts that share one transaction under load.

A caller's :meth:`GroupCommit.insert` returns only once its rows are committed (the WAL
fsynced: SQLite ``synchronous=FULL``; PostgreSQL ``synchronous_commit`` on). Rows that
arrive while a commit is in flight wait for the next one and share it: one transaction,
one INSERT and one fsync for the whole group, as PostgreSQL does for its own WAL. A lone
caller waits for exactly one commit; under load each waits for at most the commit in
flight plus its own, so fsyncs per second no longer bound inserts per second.

Used by the register's read audit trail (``register_reads``) and the provider's token
ledger (``oidc_tokens``).

* A group whose commit fails fails every caller in it: nobody is told a row was written
  that was not. With ``isolate_integrity_errors``, an ``IntegrityError`` instead commits
  the group's callers one transaction each, so one refused row fails only its own caller.
* The group is per event loop (asyncio futures belong to one loop): a writer task per loop.
* One connection serves every group of a busy spell; it is replaced after a failed commit.
* On SQLite a group is written straight through the driver (aiosqlite): ``executemany``
  and ``commit``, two hand-offs to the connection's thread where SQLAlchemy's execute and
  transaction take about eight; this cut the CPU of a one-row group from 0.69 ms to 0.36 ms
  (docs/identity.md, Performance). The statement is compiled by SQLAlchemy once per set of
  columns and the values go through the columns' own bind processors, so what is stored is
  what SQLAlchemy would store; driver errors are raised as SQLAlchemy's ``DBAPIError``s.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.storage.engine import Database

__all__ = ["GroupCommit"]

_Waiting = tuple[list[dict[str, Any]], "asyncio.Future[None]"]


@dataclass
class _Lane:
    """The callers waiting for the next commit on one event loop, and the task writing."""

    waiting: list[_Waiting] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None


class GroupCommit:
    """Inserts rows into ``table``; :meth:`insert` returns once they are committed."""

    def __init__(
        self,
        database: Database,
        table: Table,
        *,
        group_limit: int,
        isolate_integrity_errors: bool = False,
    ) -> None:
        self.database = database
        self.table = table
        self.group_limit = group_limit
        self.isolate_integrity_errors = isolate_integrity_errors
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane] = (
            weakref.WeakKeyDictionary()
        )
        self._sqlite_inserts: dict[tuple[str, ...], _SqliteInsert] = {}

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` (one caller's); return when durable, raise what the commit raised."""
        loop = asyncio.get_running_loop()
        lane = self._lanes.setdefault(loop, _Lane())
        committed: asyncio.Future[None] = loop.create_future()
        lane.waiting.append((rows, committed))
        if lane.writer is None or lane.writer.done():
            lane.writer = loop.create_task(self._write_all(lane))
        await committed

    async def _write_all(self, lane: _Lane) -> None:
        """Commit the waiting callers, a group at a time, until none wait; if no connection
        can be had, every waiting caller fails."""
        try:
            while lane.waiting:
                try:
                    connection = await self._connect()
                except Exception as error:
                    _settle(_take(lane.waiting, len(lane.waiting)), error)
                    return
                try:
                    await self._commit_groups(connection, lane)
                finally:
                    await connection.close()
        except BaseException:  # cancelled with the loop: nobody is told it was written
            _settle(_take(lane.waiting, len(lane.waiting)), None, cancel=True)
            raise

    async def _connect(self) -> AsyncConnection:
        connection = await self.database.engine.connect()
        if self.database.backend != "sqlite":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection

    async def _commit_groups(self, connection: AsyncConnection, lane: _Lane) -> None:
        """Commit groups on ``connection`` until none wait or a commit fails."""
        while lane.waiting:
            group = _take(lane.waiting, self.group_limit)
            try:
                await self._commit(connection, [row for rows, _ in group for row in rows])
            except IntegrityError as error:
                if not self.isolate_integrity_errors or len(group) == 1:
                    _settle(group, error)
                    return
                await self._commit_each(connection, group)
                continue
            except Exception as error:
                _settle(group, error)
                return
            except BaseException:
                _settle(group, None, cancel=True)
                raise
            _settle(group, None)

    async def _commit_each(self, connection: AsyncConnection, group: list[_Waiting]) -> None:
        """One transaction per caller, so that one refused row fails only its own caller."""
        for waiting in group:
            try:
                await self._commit(connection, waiting[0])
            except Exception as error:
                _settle([waiting], error)
            except BaseException:
                _settle(group, None, cancel=True)
                raise
            else:
                _settle([waiting], None)

    async def _commit(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        """One INSERT of ``rows``, committed before this returns.

        PostgreSQL: in autocommit, asyncpg's ``executemany``, which pipelines the rows and
        is atomic (one implicit transaction, asyncpg ≥ 0.22), committed, WAL flushed,
        before it returns. This form keeps the statement in SQLAlchemy's compiled cache;
        ``insert().values(rows)`` would be compiled anew for every group, doubling the CPU
        of the insert. SQLite: BEGIN, the INSERT, COMMIT in-process (the driver's calls
        cost no round trip).
        """
        if self.database.backend == "sqlite":
            await self._commit_sqlite(connection, rows)
            return
        try:
            await connection.execute(insert(self.table), rows)
        except Exception:
            await connection.rollback()  # ready for the next statement on this connection
            raise

    async def _commit_sqlite(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        keys = tuple(rows[0])
        statement = self._sqlite_inserts.get(keys)
        if statement is None:
            statement = _SqliteInsert(self.table, connection.dialect, keys)
            self._sqlite_inserts[keys] = statement
        parameters = statement.parameters(rows)
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        try:
            # The driver begins the transaction itself before the first INSERT (sqlite3's
            # default isolation level, as SQLAlchemy's pysqlite dialects leave it).
            await driver.executemany(statement.sql, parameters)
            await driver.commit()
        except sqlite3.Error as error:
            with contextlib.suppress(sqlite3.Error):
                await driver.rollback()
            raise DBAPIError.instance(
                statement.sql, parameters[:1], error, sqlite3.Error, dialect=connection.dialect
            ) from error


class _SqliteInsert:
    """``INSERT INTO table (keys) VALUES (?, ...)`` as SQLAlchemy compiles it for SQLite,
    with each column's bind processor (a ``TypeDecorator``'s included)."""

    def __init__(self, table: Table, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        names = list(compiled.positiontup or ())
        if sorted(names) != sorted(keys):  # a default SQLAlchemy would fill in: not here
            raise ValueError(f"rows for {table.name} must give exactly these columns: {names}")
        self.sql = compiled.string
        self._columns: list[tuple[str, Callable[[Any], Any] | None]] = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]

    def parameters(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Every row's values in the statement's order; a row with other columns than the
        first row's is refused (one statement serves the whole group)."""
        width = len(self._columns)
        out: list[tuple[Any, ...]] = []
        try:
            for row in rows:
                if len(row) != width:
                    raise KeyError
                out.append(
                    tuple(
                        row[name] if process is None else process(row[name])
                        for name, process in self._columns
                    )
                )
        except KeyError:
            raise ValueError("every row of a group must give the same columns") from None
        return out


def _take(waiting: list[_Waiting], count: int) -> list[_Waiting]:
    group = waiting[:count]
    del waiting[:count]
    return group


def _settle(group: list[_Waiting], error: Exception | None, *, cancel: bool = False) -> None:
    for _, committed in group:
        if committed.done():  # its caller was cancelled meanwhile
            continue
        if cancel:
            committed.cancel()
        elif error is not None:
            committed.set_exception(error)
        else:
            committed.set_result(None)
