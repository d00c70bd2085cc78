"""Archive files, their digest chain, retention, and verification afterwards."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from jisr.exchange.messagelog import (
    ArchiveError,
    archive,
    cleanup,
    export_evidence,
    verify_evidence,
    verify_log,
)
from jisr.exchange.messagelog.archive import file_sha256, log_directory, read_archive
from jisr.exchange.messagelog.models import ArchiveFile, Record
from jisr.storage import Database
from tests.exchange.messagelog.conftest import (
    LOG_ID,
    LocalTimestamper,
    LogFactory,
    Pki,
    exchange,
    wait_for,
)

MONTH = timedelta(days=30)
OLD = 5  # exchanges 40 days old: 10 records
NEW = 3  # recent exchanges: 6 records


@pytest.fixture
async def aged(database: Database, make_log: LogFactory) -> Database:
    """Five exchanges from 40 days ago, then three recent ones, all time-stamped."""
    log = make_log()
    old = datetime.now(UTC) - timedelta(days=40)
    async with log:
        for i in range(OLD):
            await log.append(*exchange(f"old-{i}", at=old + timedelta(minutes=i)))
        for i in range(NEW):
            await log.append(*exchange(f"new-{i}"))
        await wait_for(lambda: log.status().timestamped_size == log.status().size)
    return database


def files_of(archive_dir: Path) -> list[Path]:
    folder = archive_dir / log_directory(LOG_ID)
    return sorted(folder.glob("archive-*.jsonl.gz"), key=lambda p: int(p.name.split("-")[1]))


async def record_count(database: Database) -> int:
    async with database.engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(Record)) or 0


class TestArchiveAndRetention:
    async def test_chain_cleanup_and_verification(
        self, aged: Database, pki: Pki, tmp_path: Path
    ) -> None:
        """Old stamped records go to chained files; after cleanup the database keeps only
        leaf hashes for them, and the log, the archives and evidence still verify."""
        archive_dir = tmp_path / "archive"
        assert await archive(aged, archive_dir, older_than=MONTH, max_records_per_file=4) == 10
        files = files_of(archive_dir)
        assert [f.name for f in files] == [
            "archive-0-3.jsonl.gz",
            "archive-4-7.jsonl.gz",
            "archive-8-9.jsonl.gz",
        ]
        previous = None
        for path in files:
            with read_archive(path) as (header, lines):
                assert header["previous_sha256"] == previous
                assert len(list(lines)) == header["records"]
            previous = file_sha256(path)
        assert await archive(aged, archive_dir, older_than=MONTH) == 0  # nothing else is old

        report = await verify_log(aged, ca_certificates=[pki.ca], archive_dir=archive_dir)
        assert report.ok, report.errors
        assert (report.archives, report.archived_records, report.records) == (3, 10, 16)

        assert await cleanup(aged, older_than=MONTH) == 10
        assert await record_count(aged) == 2 * NEW
        report = await verify_log(aged, ca_certificates=[pki.ca], archive_dir=archive_dir)
        assert report.ok, report.errors
        assert (report.records, report.archived_records, report.unchecked) == (6, 10, 0)
        assert report.tree_size == 16
        without = await verify_log(aged, ca_certificates=[pki.ca])
        assert without.ok and without.unchecked == 10

        bundle = await export_evidence(
            aged, "old-2", ca_certificates=[pki.ca], archive_dir=archive_dir
        )
        evidence = verify_evidence(bundle, ca_certificates=[pki.ca])
        assert evidence.ok, evidence.error
        assert evidence.leaf_indices == (4, 5)

    async def test_only_time_stamped_records_are_archived(
        self, database: Database, make_log: LogFactory, local_timestamper: LocalTimestamper,
        tmp_path: Path,
    ) -> None:  # fmt: skip
        """Records no time-stamped STH covers stay in the database, however old."""
        local_timestamper.up = False
        log = make_log()
        async with log:
            await log.append(*exchange("old", at=datetime.now(UTC) - timedelta(days=90)))
        assert await archive(database, tmp_path, older_than=MONTH) == 0

    async def test_cleanup_deletes_only_archived_records(self, aged: Database) -> None:
        """Retention never deletes a record that is not in an archive file."""
        assert await cleanup(aged, older_than=timedelta(0)) == 0
        assert await record_count(aged) == 2 * (OLD + NEW)


class TestArchiveTampering:
    @pytest.fixture
    async def archived(self, aged: Database, tmp_path: Path) -> Path:
        archive_dir = tmp_path / "archive"
        await archive(aged, archive_dir, older_than=MONTH, max_records_per_file=4)
        await cleanup(aged, older_than=MONTH)
        return archive_dir

    @staticmethod
    def rewrite(path: Path, index: int) -> None:
        """Change the status of record ``index`` inside an archive file."""
        lines = gzip.decompress(path.read_bytes()).splitlines()
        for n, raw in enumerate(lines[1:], start=1):
            line = json.loads(raw)
            if line["leaf_index"] == index:
                line["leaf"]["status"] = 404
                lines[n] = json.dumps(line).encode()
        path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))

    async def test_edited_file_is_detected(self, aged: Database, archived: Path, pki: Pki) -> None:
        """An archive file changed after it was written no longer has its recorded digest."""
        self.rewrite(files_of(archived)[1], 5)
        report = await verify_log(aged, ca_certificates=[pki.ca], archive_dir=archived)
        assert not report.ok
        assert report.first_error == (
            f"log {LOG_ID}: archive {log_directory(LOG_ID)}/archive-4-7.jsonl.gz: "
            "its SHA-256 is not the one recorded when it was written"
        )

    async def test_edited_file_with_forged_digest_is_detected(
        self, aged: Database, archived: Path, pki: Pki
    ) -> None:
        """Even with its digest rewritten in the database, an edited record does not give
        the leaf hash the time-stamped tree commits to."""
        last = files_of(archived)[-1]
        self.rewrite(last, 9)
        async with aged.engine.begin() as connection:
            await connection.execute(
                update(ArchiveFile)
                .where(ArchiveFile.first_leaf == 8)
                .values(sha256=file_sha256(last))
            )
        report = await verify_log(aged, ca_certificates=[pki.ca], archive_dir=archived)
        assert not report.ok
        assert "record 9: its content does not match its leaf hash" in (report.first_error or "")
        assert report.unchecked == 2  # the two records of the refused file

    async def test_edited_middle_file_breaks_the_chain(
        self, aged: Database, archived: Path, pki: Pki
    ) -> None:
        """Replacing a middle file (digest forged too) breaks the next file's link."""
        middle = files_of(archived)[1]
        self.rewrite(middle, 6)
        async with aged.engine.begin() as connection:
            await connection.execute(
                update(ArchiveFile)
                .where(ArchiveFile.first_leaf == 4)
                .values(sha256=file_sha256(middle))
            )
        report = await verify_log(aged, ca_certificates=[pki.ca], archive_dir=archived)
        assert any("archive-8-9.jsonl.gz: does not follow" in e for e in report.errors)

    async def test_missing_file_is_reported_and_blocks_archiving(
        self, aged: Database, archived: Path, pki: Pki
    ) -> None:
        """A lost last file is reported, and the chain cannot grow from it."""
        files_of(archived)[-1].unlink()
        report = await verify_log(aged, ca_certificates=[pki.ca], archive_dir=archived)
        assert any("the file is missing" in e for e in report.errors)
        with pytest.raises(ArchiveError) as broken:
            await archive(aged, archived, older_than=timedelta(0))
        assert broken.value.reason == "chain_broken"
