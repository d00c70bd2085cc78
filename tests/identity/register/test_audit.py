"""The read audit trail: group commit, durability before return, failures reach readers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.identity.register import PopulationRegister
from jisr.identity.register._audit import AuditTrail
from jisr.identity.register.models import ReadRow
from jisr.storage import Database
from tests.identity.register.conftest import NOW, RECORDED, birth


def _count_commits(trail: AuditTrail) -> list[int]:
    """The size of each group the trail commits: one entry per INSERT and commit (its own
    transaction on SQLite, an autocommit statement on PostgreSQL)."""
    commits: list[int] = []
    commit = trail._commit

    async def counted(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        commits.append(len(rows))
        await commit(connection, rows)

    trail._commit = counted  # type: ignore[method-assign]
    return commits


async def _rows(url: str) -> list[tuple[str, str, str]]:
    """The read rows as another process would see them: through a new engine."""
    other = Database(url)
    try:
        async with other.engine.connect() as connection:
            statement = select(ReadRow.nin, ReadRow.requester, ReadRow.purpose)
            rows = (await connection.execute(statement.order_by(ReadRow.id))).all()
    finally:
        await other.close()
    return [(row.nin, row.requester, row.purpose) for row in rows]


class TestGroupCommit:
    async def test_rows_arriving_together_share_one_commit(self, database: Database) -> None:
        """Forty rows recorded at once are written by one INSERT in one commit."""
        trail = AuditTrail(database)
        commits = _count_commits(trail)
        await asyncio.gather(
            *(trail.record(f"BK{i:07d}", "MA/GOV/CNSS/APP", "check", NOW) for i in range(40))
        )
        assert len(commits) == 1
        assert len(await _rows(database.url)) == 40

    async def test_a_group_is_at_most_the_limit(self, database: Database) -> None:
        """With a limit of 16, forty waiting rows take three commits, in arrival order."""
        trail = AuditTrail(database, group_limit=16)
        commits = _count_commits(trail)
        await asyncio.gather(
            *(trail.record(f"BK{i:07d}", "MA/GOV/CNSS/APP", "check", NOW) for i in range(40))
        )
        assert len(commits) == 3
        assert [nin for nin, _, _ in await _rows(database.url)] == [f"BK{i:07d}" for i in range(40)]

    async def test_lone_reads_each_commit_at_once(self, database: Database) -> None:
        """One reader at a time: each record is its own commit, nothing waits for company."""
        trail = AuditTrail(database)
        commits = _count_commits(trail)
        for i in range(3):
            await trail.record(f"BK{i:07d}", "MA/GOV/CNSS/APP", "check", NOW)
            assert len(commits) == i + 1


class TestDurability:
    async def test_read_returns_only_after_its_row_is_committed(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """When ``read`` returns, another connection already sees the audit row."""
        person = await register.enrol(birth(), **RECORDED)
        await register.read(person.nin, requester="MA/GOV/DGSN/APP", purpose="passport")
        assert await _rows(database.url) == [(person.nin, "MA/GOV/DGSN/APP", "passport")]

    async def test_concurrent_reads_are_each_recorded(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """Reads running together each leave their own row, with their own requester."""
        person = await register.enrol(birth(), **RECORDED)
        requesters = [f"MA/GOV/APP{i}/SUB" for i in range(12)]
        found = await asyncio.gather(
            *(register.read(person.nin, requester=r, purpose="check") for r in requesters)
        )
        assert {p.nin for p in found} == {person.nin}
        assert sorted(r for _, r, _ in await _rows(database.url)) == sorted(requesters)

    async def test_a_failed_commit_fails_every_read_of_its_group(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """If the audit rows cannot be committed, no reader gets the record."""
        person = await register.enrol(birth(), **RECORDED)
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP TABLE register_reads"))
        results = await asyncio.gather(
            *(register.read(person.nin, requester="X", purpose="y") for _ in range(5)),
            return_exceptions=True,
        )
        assert all(isinstance(result, DBAPIError) for result in results)

    async def test_a_cancelled_reader_leaves_the_others_served(self, database: Database) -> None:
        """Cancelling one waiting reader neither loses nor blocks the others' rows; its own
        row is still written (an over-recorded read, never an unrecorded one)."""
        trail = AuditTrail(database)
        waiting = [asyncio.create_task(trail.record(f"BK{i:07d}", "R", "p", NOW)) for i in range(6)]
        await asyncio.sleep(0)  # every reader has queued its row and waits for the commit
        waiting[0].cancel()
        await asyncio.gather(*waiting[1:])
        with pytest.raises(asyncio.CancelledError):
            await waiting[0]
        assert len(await _rows(database.url)) == 6
