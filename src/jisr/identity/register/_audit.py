"""The read audit trail with group commit (docs/identity.md, Data flow §4 and Performance).

Every disclosure of a record writes one row to ``register_reads``, and the record is handed
out only once that row is committed: durable, the WAL fsynced on both backends (SQLite
``synchronous=FULL``; PostgreSQL ``synchronous_commit`` at its default, on). What this
module adds is **group commit**: rows that arrive while a commit is in flight wait for the
next one and share it, one transaction, one multi-row INSERT and one fsync for the whole
group, as PostgreSQL does for its own WAL. A lone reader waits for exactly one commit, as
before; under load each reader waits for at most the commit in flight plus its own, and
the fsyncs per second no longer bound the reads per second.

:meth:`PopulationRegister.read` uses it on SQLite, where one writer at a time commits and
each commit is an fsync. On PostgreSQL the read inserts its row in its own lookup statement
(``_store.fetch_and_record``): the server already shares WAL flushes among concurrent
commits. The trail works on both backends.

The group is per event loop (asyncio futures belong to one loop); a register used from
several loops keeps one writer for each.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.identity.register.models import ReadRow
from jisr.storage import Database

__all__ = ["AuditTrail"]

# At most this many rows per INSERT and commit (SQLite binds 4 parameters per row).
GROUP_LIMIT = 500

_Waiting = tuple[dict[str, Any], "asyncio.Future[None]"]


@dataclass
class _Lane:
    """The rows waiting for the next commit on one event loop, and the task writing them."""

    waiting: list[_Waiting] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None


class AuditTrail:
    """Appends read rows to ``register_reads``; :meth:`record` returns once committed."""

    def __init__(self, database: Database, *, group_limit: int = GROUP_LIMIT) -> None:
        self.database = database
        self.group_limit = group_limit
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane] = (
            weakref.WeakKeyDictionary()
        )

    async def record(self, nin: str, requester: str, purpose: str, at: datetime) -> None:
        """Append one read row; return when it is durable, raise what its commit raised."""
        loop = asyncio.get_running_loop()
        lane = self._lanes.setdefault(loop, _Lane())
        committed: asyncio.Future[None] = loop.create_future()
        row = {"nin": nin, "requester": requester, "purpose": purpose, "at": at}
        lane.waiting.append((row, committed))
        if lane.writer is None or lane.writer.done():
            lane.writer = loop.create_task(self._write_all(lane))
        await committed

    async def _write_all(self, lane: _Lane) -> None:
        """Commit the waiting rows, a group at a time, until none wait.

        One connection serves every group of a busy spell (no checkout per group). A
        group whose commit fails fails its readers and the connection is replaced; if no
        connection can be had, every waiting reader fails.
        """
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
                await self._commit(connection, [row for row, _ in group])
            except Exception as error:
                _settle(group, error)
                return
            except BaseException:
                _settle(group, None, cancel=True)
                raise
            _settle(group, None)

    async def _commit(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        """One INSERT of ``rows``, committed before this returns.

        PostgreSQL: one multi-row INSERT in autocommit, a single round trip (the server
        commits it, WAL flushed, before it answers). SQLite: BEGIN, the INSERT, COMMIT
        in-process (the driver's calls cost no round trip).
        """
        if self.database.backend == "sqlite":
            async with connection.begin():
                await connection.execute(insert(ReadRow), rows)
            return
        await connection.execute(insert(ReadRow).values(rows))


def _take(waiting: list[_Waiting], count: int) -> list[_Waiting]:
    group = waiting[:count]
    del waiting[:count]
    return group


def _settle(group: list[_Waiting], error: Exception | None, *, cancel: bool = False) -> None:
    for _, committed in group:
        if committed.done():  # its reader was cancelled meanwhile
            continue
        if cancel:
            committed.cancel()
        elif error is not None:
            committed.set_exception(error)
        else:
            committed.set_result(None)
