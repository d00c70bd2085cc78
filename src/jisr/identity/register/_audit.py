"""The read audit trail with group commit (docs/identity.md, Data flow §4 and Performance).

Every disclosure of a record writes one row to ``register_reads``, and the record is handed
out only once that row is committed: durable, the WAL fsynced on both backends (SQLite
``synchronous=FULL``; PostgreSQL ``synchronous_commit`` at its default, on). The rows are
written with **group commit** (:mod:`jisr.storage.groupcommit`): rows that arrive while a
commit is in flight share the next one, so fsyncs per second no longer bound reads per
second.

:meth:`PopulationRegister.read` uses it on SQLite, where one writer at a time commits and
each commit is an fsync. On PostgreSQL the read inserts its row in its own lookup statement
(``_store.fetch_and_record``): the server already shares WAL flushes among concurrent
commits. The trail works on both backends.

The group is per event loop (asyncio futures belong to one loop); a register used from
several loops keeps one writer for each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table

from jisr.identity.register.models import ReadRow
from jisr.storage import Database
from jisr.storage.groupcommit import GroupCommit

__all__ = ["AuditTrail"]

# At most this many rows per INSERT and commit (SQLite binds 4 parameters per row).
GROUP_LIMIT = 500


class AuditTrail(GroupCommit):
    """Appends read rows to ``register_reads``; :meth:`record` returns once committed."""

    def __init__(self, database: Database, *, group_limit: int = GROUP_LIMIT) -> None:
        super().__init__(database, cast(Table, ReadRow.__table__), group_limit=group_limit)

    async def record(self, nin: str, requester: str, purpose: str, at: datetime) -> None:
        """Append one read row; return when it is durable, raise what its commit raised."""
        row: dict[str, Any] = {"nin": nin, "requester": requester, "purpose": purpose, "at": at}
        await self.insert([row])
