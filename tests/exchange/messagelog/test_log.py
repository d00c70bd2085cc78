"""MessageLog appends on SQLite and PostgreSQL: group commit, durability, failures, restart."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from jisr.exchange.messagelog import (
    LoggingFailed,
    LogNotRunning,
    MessageLog,
    verify_log,
)
from jisr.exchange.messagelog.log import _WriterThread
from jisr.exchange.messagelog.models import Leaf, Record
from jisr.storage import Database
from tests.exchange.messagelog.conftest import LogFactory, Pki, exchange, make_record


@contextmanager
def counting_commits(log: MessageLog) -> Iterator[list[int]]:
    """Count the batch transactions the log's writer commits."""
    commits: list[int] = []

    def count(_: Any) -> None:
        commits.append(1)

    engine = log.writer_engine
    event.listen(engine, "commit", count)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", count)


async def durable_count(url: str) -> int:
    """Leaves visible to a different engine: what a crash right now would keep."""
    other = Database(url)
    try:
        async with other.engine.connect() as connection:
            return await connection.scalar(select(func.count()).select_from(Leaf)) or 0
    finally:
        await other.close()


class TestGroupCommit:
    async def test_concurrent_appends_are_contiguous_and_durable(
        self, database: Database, make_log: LogFactory
    ) -> None:
        """Hundreds of concurrent appends share few transactions; every caller gets
        contiguous indices, together exactly 0..n-1, each durable when append returns."""
        log = make_log(sth_interval=60)
        await log.start()
        observer = Database(database.url)

        async def one(i: int) -> list[int]:
            indices = await log.append(*exchange(f"x-{i}")[: 1 + i % 2])
            async with observer.engine.connect() as connection:
                seen = await connection.scalar(
                    select(func.count()).where(Leaf.leaf_index.in_(indices))
                )
            assert seen == len(indices)  # durable (committed) before append returned
            return indices

        try:
            with counting_commits(log) as commits:
                results = await asyncio.gather(*(one(i) for i in range(300)))
        finally:
            await log.stop()
            await observer.close()
        for indices in results:
            assert indices == list(range(indices[0], indices[0] + len(indices)))
        flat = sorted(i for indices in results for i in indices)
        assert flat == list(range(450))
        assert len(commits) < 100  # batched, not one transaction per append
        assert await durable_count(database.url) == 450

    async def test_batches_close_at_max_records(
        self, database: Database, make_log: LogFactory
    ) -> None:
        """batch_max_records caps a transaction."""
        log = make_log(sth_interval=60, batch_max_records=5)
        await log.start()
        try:
            with counting_commits(log) as commits:
                await asyncio.gather(*(log.append(make_record(f"m-{i}")) for i in range(20)))
        finally:
            await log.stop()
        assert len(commits) >= 4

    async def test_failed_commit_fails_every_waiter(
        self, database: Database, make_log: LogFactory
    ) -> None:
        """When the transaction fails (its table is gone), every waiter of the batch gets
        LoggingFailed and nothing of the batch is durable or counted."""
        log = make_log(sth_interval=60)
        await log.start()
        try:
            assert await log.append(make_record("before")) == [0]
            async with database.engine.begin() as connection:
                await connection.execute(text("DROP TABLE messagelog_records"))
            outcomes = await asyncio.gather(
                *(log.append(make_record(f"lost-{i}")) for i in range(50)),
                return_exceptions=True,
            )
            assert all(isinstance(o, LoggingFailed) for o in outcomes), outcomes
            assert all(o.xroad_code("consumer") == "Server.ClientProxy.LoggingFailed"
                       for o in outcomes if isinstance(o, LoggingFailed))  # fmt: skip
            assert log.status().size == 1
        finally:
            await log.stop()
        assert await durable_count(database.url) == 1

    async def test_unencodable_record_fails_alone(
        self, database: Database, make_log: LogFactory
    ) -> None:
        """A record that cannot become JSON (a lone surrogate) fails its own append only."""
        log = make_log(sth_interval=60)
        await log.start()
        bad = dataclasses.replace(make_record("bad"), headers={"X-Note": "\ud800"})
        try:
            outcomes = await asyncio.gather(
                log.append(make_record("a")),
                log.append(bad),
                log.append(make_record("b")),
                return_exceptions=True,
            )
        finally:
            await log.stop()
        assert isinstance(outcomes[1], ValueError)
        assert sorted([*outcomes[0], *outcomes[2]]) == [0, 1]  # type: ignore[misc]

    async def test_invalid_record_is_refused_before_queueing(self, make_log: LogFactory) -> None:
        """A naive timestamp is refused synchronously; nothing is written."""
        log = make_log()
        await log.start()
        try:
            with pytest.raises(ValueError, match="aware"):
                await log.append(
                    dataclasses.replace(make_record(), at=make_record().at.replace(tzinfo=None))
                )
            assert await log.size() == 0
        finally:
            await log.stop()


class TestLifecycle:
    async def test_append_outside_start_stop_is_refused(self, make_log: LogFactory) -> None:
        """Before start and after stop the log refuses appends and reports unhealthy."""
        log = make_log()
        assert not log.healthy()
        with pytest.raises(LogNotRunning):
            await log.append(make_record())
        await log.start()
        assert log.healthy()
        await log.stop()
        with pytest.raises(LogNotRunning):
            await log.append(make_record())

    async def test_stop_flushes_queued_appends_and_writes_a_final_tree_head(
        self, make_log: LogFactory
    ) -> None:
        """Appends queued before stop are written; the final STH covers them all."""
        log = make_log(sth_interval=60)
        await log.start()
        tasks = [asyncio.create_task(log.append(*exchange(f"s-{i}"))) for i in range(40)]
        await asyncio.sleep(0)  # let every task enqueue
        await log.stop()
        indices = sorted(i for t in tasks for i in t.result())
        assert indices == list(range(80))
        status = log.status()
        assert status.tree_head_size == status.timestamped_size == 80

    async def test_restart_resumes_the_tree(
        self, database: Database, make_log: LogFactory, pki: Pki
    ) -> None:
        """A new process continues the same tree: indices go on, every STH still matches."""
        first = make_log()
        async with first:
            await first.append(*[make_record(f"r-{i}") for i in range(37)])
        second = make_log()
        async with second:
            assert await second.append(make_record("after")) == [37]
            assert await second.size() == 38
        report = await verify_log(database, ca_certificates=[pki.ca])
        assert report.ok, report.errors
        assert report.tree_size == 38 and report.tree_heads >= 2

    async def test_find_returns_records_with_their_leaves(
        self, database: Database, make_log: LogFactory
    ) -> None:
        """find() gives request and response, bodies when kept, digests otherwise."""
        log = make_log()
        async with log:
            request, response = exchange("abc")
            await log.append(request, dataclasses.replace(response, body=None))
            await log.append(make_record("other"))
            found = await log.find("abc")
        assert [s.leaf_index for s in found] == [0, 1]
        assert found[0].record == request
        assert found[1].record.body is None and found[1].body_sha256 is None
        assert found[0].body_sha256 is not None and len(found[0].leaf_hash) == 32
        async with database.engine.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(Record)) == 3


class TestWriterThread:
    """The SQLite writer's thread: run_in_executor's semantics, less bookkeeping."""

    async def test_jobs_run_in_order_in_their_thread(self) -> None:
        """Each job runs in the writer thread, in submission order; errors come back."""
        thread = _WriterThread("test-writer")
        seen: list[tuple[int, int]] = []

        def job(n: int) -> None:
            seen.append((n, threading.get_ident()))

        def fail() -> None:
            raise KeyError("boom")

        try:
            await asyncio.gather(*(thread.run(job, n) for n in range(20)))
            with pytest.raises(KeyError, match="boom"):
                await thread.run(fail)
        finally:
            thread.shutdown(wait=True)
        assert [n for n, _ in seen] == list(range(20))
        assert {ident for _, ident in seen} == {thread._thread.ident}
        assert threading.get_ident() != thread._thread.ident
        with pytest.raises(RuntimeError, match="shut down"):
            await thread.run(job, 99)

    async def test_cancelled_before_it_starts_is_skipped_and_shutdown_drains(self) -> None:
        """A job whose caller is cancelled before it starts does not run; shutdown waits
        for every job queued before it."""
        thread = _WriterThread("test-writer")
        release = threading.Event()
        ran: list[str] = []
        first = asyncio.create_task(thread.run(lambda: release.wait(5) and ran.append("first")))
        second = asyncio.create_task(thread.run(lambda: ran.append("second")))
        third = asyncio.create_task(thread.run(lambda: ran.append("third")))
        await asyncio.sleep(0.01)  # all three queued, the first one running
        second.cancel()
        await asyncio.sleep(0)
        release.set()
        await first
        await third
        thread.shutdown(wait=True)
        assert ran == ["first", "third"]
        assert second.cancelled()


class TestSettings:
    def test_settings_are_checked(self, make_log: LogFactory) -> None:
        """Nonsense settings are refused at construction."""
        with pytest.raises(ValueError, match="sth_interval"):
            make_log(sth_interval=0)
        with pytest.raises(ValueError, match="log_id"):
            make_log(log_id="")

    def test_key_must_match_certificate(self, database: Database, pki: Pki) -> None:
        """The signing key must be the certificate's."""
        from jisr.exchange.messagelog import LogSettings

        with pytest.raises(ValueError, match="does not belong"):
            MessageLog(
                database,
                LogSettings(log_id="x"),
                key=pki.tsa_key,
                certificate=pki.gateway,
                timestamper=None,  # type: ignore[arg-type]
            )
