"""verify_log: a clean log verifies; each kind of tampering is found and named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from jisr.crypto.keys import generate_private_key
from jisr.crypto.x509 import create_root_ca
from jisr.exchange.messagelog import VerifyReport, verify_log
from jisr.exchange.messagelog.models import Leaf, Record
from jisr.exchange.messagelog.models import TreeHead as TreeHeadRow
from jisr.storage import Database
from tests.exchange.messagelog.conftest import LogFactory, Pki, exchange, wait_for

EXCHANGES = 6


@pytest.fixture
async def logged(database: Database, make_log: LogFactory) -> Database:
    """A log of six request/response pairs, every leaf under a time-stamped STH."""
    log = make_log()
    async with log:
        for i in range(EXCHANGES):
            await log.append(*exchange(f"v-{i}"))
            await wait_for(lambda: log.status().timestamped_size == log.status().size)
    return database


async def check(database: Database, pki: Pki) -> VerifyReport:
    return await verify_log(database, ca_certificates=[pki.ca])


class TestCleanLog:
    async def test_everything_verifies(self, logged: Database, pki: Pki) -> None:
        """Every record, the tree, every STH signature and token check out."""
        progress: list[tuple[int, int]] = []
        report = await verify_log(
            logged, ca_certificates=[pki.ca], progress=lambda d, t: progress.append((d, t))
        )
        assert report.ok, report.errors
        assert report.first_error is None
        assert (report.records, report.tree_size) == (2 * EXCHANGES, 2 * EXCHANGES)
        assert report.tree_heads >= EXCHANGES
        assert report.timestamped >= EXCHANGES
        assert report.unchecked == 0
        assert progress[-1] == (2 * EXCHANGES, 2 * EXCHANGES)

    async def test_untrusted_ca_fails(self, logged: Database) -> None:
        """Signer and TSA must chain to the CAs the verifier trusts."""
        other = create_root_ca(generate_private_key(), "Other Root",
                               now=datetime.now(UTC) - timedelta(days=1))  # fmt: skip
        report = await verify_log(logged, ca_certificates=[other])
        assert not report.ok
        assert any("unknown_issuer" in error for error in report.errors)


class TestTampering:
    async def test_edited_record_is_named(self, logged: Database, pki: Pki) -> None:
        """Changing one stored field of record 3 is reported as record 3."""
        async with logged.engine.begin() as connection:
            await connection.execute(
                update(Record).where(Record.leaf_index == 3).values(status=500)
            )
        report = await check(logged, pki)
        assert not report.ok
        assert report.first_error is not None
        assert "record 3 (response X-Road-Id 'v-1')" in report.first_error
        assert "does not match its leaf hash" in report.first_error
        assert len(report.errors) == 1

    async def test_swapped_body_is_found(self, logged: Database, pki: Pki) -> None:
        """A body replaced under its digest is caught by body_sha256."""
        async with logged.engine.begin() as connection:
            await connection.execute(
                update(Record).where(Record.leaf_index == 4).values(body=b"x" * 27)
            )
        report = await check(logged, pki)
        assert report.first_error is not None
        assert "record 4" in report.first_error and "body_sha256" in report.first_error

    async def test_rewritten_leaf_hash_breaks_the_tree_heads(
        self, logged: Database, pki: Pki
    ) -> None:
        """Rewriting a leaf hash (to match an edited record) breaks every later root."""
        async with logged.engine.begin() as connection:
            await connection.execute(
                update(Leaf).where(Leaf.leaf_index == 5).values(leaf_hash=b"\x00" * 32)
            )
        report = await check(logged, pki)
        assert "record 5" in (report.first_error or "")
        assert any("root hash does not match the leaves" in e for e in report.errors)

    async def test_forged_signature_is_named(self, logged: Database, pki: Pki) -> None:
        """A tree head whose signature was altered is reported by id and size."""
        async with logged.engine.begin() as connection:
            head_id, size = (
                await connection.execute(
                    select(TreeHeadRow.id, TreeHeadRow.tree_size).order_by(TreeHeadRow.id).limit(1)
                )
            ).one()
            await connection.execute(
                update(TreeHeadRow).where(TreeHeadRow.id == head_id).values(tree_size=size + 1)
            )
        report = await check(logged, pki)
        assert report.first_error == (
            f"log MA/GOV/CIVIL-REGISTRY/GW1: tree head {head_id} (size {size + 1}): "
            "the signature does not verify"
        )

    async def test_altered_token_is_found(self, logged: Database, pki: Pki) -> None:
        """A time-stamp token that no longer matches is reported."""
        async with logged.engine.begin() as connection:
            head_id, token = (
                await connection.execute(
                    select(TreeHeadRow.id, TreeHeadRow.tsa_token)
                    .where(TreeHeadRow.tsa_token.is_not(None))
                    .limit(1)
                )
            ).one()
            assert token is not None
            altered = bytes(token[:-8]) + bytes(8)
            await connection.execute(
                update(TreeHeadRow).where(TreeHeadRow.id == head_id).values(tsa_token=altered)
            )
        report = await check(logged, pki)
        assert f"tree head {head_id}" in (report.first_error or "")
        assert "time-stamp" in (report.first_error or "")

    async def test_missing_leaf_is_named(self, logged: Database, pki: Pki) -> None:
        """A leaf deleted from the middle of the tree is reported."""
        async with logged.engine.begin() as connection:
            await connection.execute(delete(Record).where(Record.leaf_index == 7))
            await connection.execute(delete(Leaf).where(Leaf.leaf_index == 7))
        report = await check(logged, pki)
        assert any("leaf 7 is missing" in e for e in report.errors)
