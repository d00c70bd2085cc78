"""`jisr log ...` commands against a real log on both backends."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from jisr.crypto.keys import generate_private_key
from jisr.crypto.tsp import TimeStampAuthority
from jisr.crypto.x509 import certificate_to_pem, create_root_ca
from jisr.exchange.messagelog import LogSettings, MessageLog, migrate
from jisr.exchange.messagelog.cli import app
from jisr.exchange.messagelog.models import Record
from jisr.storage import Database
from tests.exchange.messagelog.conftest import LOG_ID, LocalTimestamper, Pki, exchange, wait_for

runner = CliRunner()


async def _populate(url: str, pki: Pki, authority: TimeStampAuthority) -> None:
    database = Database(url)
    log = MessageLog(
        database,
        LogSettings(log_id=LOG_ID, sth_interval=0.05),
        key=pki.gateway_key,
        certificate=pki.gateway,
        timestamper=LocalTimestamper(authority),
    )
    old = datetime.now(UTC) - timedelta(days=40)
    try:
        async with log:
            await log.append(*exchange("cli-old", at=old))
            await log.append(*exchange("cli-new"))
            await wait_for(lambda: log.status().timestamped_size == 4)
    finally:
        await database.close()


async def _tamper(url: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                update(Record).where(Record.leaf_index == 1).values(error="Server.Forged")
            )
    finally:
        await database.close()


@pytest.fixture
def url(database_url: str, pki: Pki, authority: TimeStampAuthority) -> str:
    """A migrated database with two logged exchanges, one of them 40 days old."""
    migrate(database_url)
    asyncio.run(_populate(database_url, pki, authority))
    return database_url


@pytest.fixture
def ca_file(tmp_path: Path, pki: Pki) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(certificate_to_pem(pki.ca))
    return path


class TestVerifyCommand:
    def test_clean_log_verifies(self, url: str, ca_file: Path) -> None:
        """`verify` exits 0 and summarises what it checked."""
        result = runner.invoke(app, ["verify", "--database-url", url, "--ca", str(ca_file)])
        assert result.exit_code == 0, result.output
        assert "4 leaves, 4 records" in result.output and "OK" in result.output

    def test_tampered_log_fails_naming_the_record(self, url: str, ca_file: Path) -> None:
        """`verify` exits 1 and names the altered record."""
        asyncio.run(_tamper(url))
        result = runner.invoke(app, ["verify", "--database-url", url, "--ca", str(ca_file)])
        assert result.exit_code == 1
        assert "record 1 (response X-Road-Id 'cli-old')" in result.output


class TestEvidenceCommands:
    def test_export_then_verify(self, url: str, ca_file: Path, tmp_path: Path) -> None:
        """`evidence -o` writes a bundle that `verify-evidence` accepts with the CA."""
        bundle = tmp_path / "bundle.json"
        result = runner.invoke(
            app,
            ["evidence", "cli-new", "-o", str(bundle), "--database-url", url, "--ca", str(ca_file)],
        )
        assert result.exit_code == 0, result.output
        assert json.loads(bundle.read_text())["xroad_id"] == "cli-new"
        checked = runner.invoke(app, ["verify-evidence", str(bundle), "--ca", str(ca_file)])
        assert checked.exit_code == 0, checked.output
        assert "OK X-Road-Id cli-new: leaves 2, 3" in checked.output

    def test_untrusted_ca_refuses_the_bundle(self, url: str, ca_file: Path, tmp_path: Path) -> None:
        """`verify-evidence` with another CA exits 1."""
        bundle = tmp_path / "bundle.json"
        runner.invoke(
            app,
            ["evidence", "cli-new", "-o", str(bundle), "--database-url", url, "--ca", str(ca_file)],
        )
        other = tmp_path / "other.pem"
        other.write_bytes(certificate_to_pem(create_root_ca(generate_private_key(), "Other")))
        result = runner.invoke(app, ["verify-evidence", str(bundle), "--ca", str(other)])
        assert result.exit_code == 1
        assert "evidence refused" in result.output

    def test_unknown_id(self, url: str, ca_file: Path) -> None:
        """An X-Road-Id the log never saw: exit 1, not_found."""
        result = runner.invoke(
            app, ["evidence", "nope", "--database-url", url, "--ca", str(ca_file)]
        )
        assert result.exit_code == 1
        assert "not_found" in result.output


class TestArchiveCommands:
    def test_archive_cleanup_verify(self, url: str, ca_file: Path, tmp_path: Path) -> None:
        """`archive` then `cleanup` move the old exchange out; `verify` still passes."""
        archive_dir = tmp_path / "archive"
        archived = runner.invoke(
            app,
            ["archive", "--older-than-days", "30", "--database-url", url,
             "--archive-dir", str(archive_dir)],
        )  # fmt: skip
        assert archived.exit_code == 0, archived.output
        assert "2 records archived" in archived.output
        cleaned = runner.invoke(app, ["cleanup", "--older-than-days", "30", "--database-url", url])
        assert cleaned.exit_code == 0, cleaned.output
        assert "2 archived records deleted" in cleaned.output
        verified = runner.invoke(
            app,
            ["verify", "--database-url", url, "--ca", str(ca_file),
             "--archive-dir", str(archive_dir)],
        )  # fmt: skip
        assert verified.exit_code == 0, verified.output
        assert "2 records, 2 archived records in 1 archives" in verified.output
