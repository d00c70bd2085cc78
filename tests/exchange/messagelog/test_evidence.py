"""Evidence bundles: export, offline verification, tampering, and OpenSSL's own check."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from jisr.crypto.canonical import canonical_json
from jisr.crypto.keys import generate_private_key
from jisr.crypto.x509 import certificate_to_pem, create_root_ca, load_certificate
from jisr.exchange.messagelog import (
    EvidenceError,
    export_evidence,
    verify_evidence,
)
from jisr.exchange.messagelog.models import TreeHead as TreeHeadRow
from jisr.storage import Database
from tests.exchange.messagelog.conftest import (
    LocalTimestamper,
    LogFactory,
    Pki,
    exchange,
    make_record,
    wait_for,
)


@pytest.fixture
async def logged(database: Database, make_log: LogFactory) -> Database:
    """'evidence-1' (leaves 0, 1) stamped first, then more traffic and more tree heads."""
    log = make_log()
    async with log:
        await log.append(*exchange("evidence-1"))
        await wait_for(lambda: log.status().timestamped_size == 2)
        for i in range(10):
            await log.append(*exchange(f"later-{i}"))
        await log.append(make_record("no-body", keep_body=False))
        await wait_for(lambda: log.status().timestamped_size == log.status().size)
    return database


async def bundle_of(database: Database, pki: Pki, xroad_id: str = "evidence-1") -> dict[str, Any]:
    bundle = await export_evidence(database, xroad_id, ca_certificates=[pki.ca])
    travelled: dict[str, Any] = json.loads(json.dumps(bundle))  # what travels is JSON
    return travelled


class TestRoundTrip:
    async def test_bundle_verifies_offline(self, logged: Database, pki: Pki) -> None:
        """The bundle alone, with the CA, proves both records, their bodies and the time."""
        bundle = await bundle_of(logged, pki)
        report = verify_evidence(bundle, ca_certificates=[pki.ca])
        assert report.ok, report.error
        assert report.leaf_indices == (0, 1)
        assert report.xroad_id == "evidence-1"
        assert [r.kind for r in report.records] == ["request", "response"]
        assert report.records[0].body == b'{"national_id": "AB123456"}'
        assert report.timestamped_at is not None and report.signed_at is not None

    async def test_bundle_uses_the_first_stamped_head_covering_the_records(
        self, logged: Database, pki: Pki
    ) -> None:
        """The proof goes to the earliest time-stamped STH that covers the message."""
        bundle = await bundle_of(logged, pki)
        async with logged.engine.connect() as connection:
            first = await connection.scalar(
                select(func.min(TreeHeadRow.tree_size)).where(
                    TreeHeadRow.tsa_token.is_not(None), TreeHeadRow.tree_size >= 2
                )
            )
        assert bundle["tree_head"]["tree_size"] == first == 2

    async def test_record_without_body_verifies(self, logged: Database, pki: Pki) -> None:
        """A record whose body was not kept is proven by its digests alone."""
        bundle = await bundle_of(logged, pki, "no-body")
        assert bundle["records"][0]["body"] is None
        report = verify_evidence(bundle, ca_certificates=[pki.ca])
        assert report.ok, report.error
        assert report.leaf_indices == (22,)

    async def test_unknown_and_unstamped_ids_are_refused(
        self,
        database: Database,
        make_log: LogFactory,
        pki: Pki,
        local_timestamper: LocalTimestamper,
    ) -> None:
        """No record: not_found; no time-stamped STH over it yet: not_timestamped."""
        local_timestamper.up = False
        log = make_log()
        async with log:
            await log.append(*exchange("pending"))
        with pytest.raises(EvidenceError) as missing:
            await export_evidence(database, "nope", ca_certificates=[pki.ca])
        assert missing.value.reason == "not_found"
        with pytest.raises(EvidenceError) as pending:
            await export_evidence(database, "pending", ca_certificates=[pki.ca])
        assert pending.value.reason == "not_timestamped"


def _mutate(bundle: dict[str, Any], change: str) -> dict[str, Any]:
    bundle = copy.deepcopy(bundle)
    if change == "body":
        bundle["records"][0]["body"] = base64.b64encode(b"x" * 27).decode()
    elif change == "leaf":
        bundle["records"][1]["leaf"]["status"] = 500
    elif change == "index":
        bundle["records"][0]["leaf_index"] = 1
    elif change == "proof":
        bundle["records"][0]["inclusion_proof"] = bundle["records"][0]["inclusion_proof"][:-1]
    elif change == "signature":  # a consistent forgery: the digest is updated too
        bundle["tree_head"]["timestamp"] += 1
        digest = hashlib.sha256(canonical_json(bundle["tree_head"])).hexdigest()
        bundle["tree_head_sha256"] = digest
    elif change == "digest":
        bundle["tree_head_sha256"] = "00" * 32
    elif change == "token":
        token = base64.b64decode(bundle["timestamp_token"])
        bundle["timestamp_token"] = base64.b64encode(token[:-4] + bytes(4)).decode()
    elif change == "format":
        bundle["format"] = "jisr-messagelog-evidence/0"
    elif change == "xroad_id":
        bundle["xroad_id"] = "evidence-2"
    return bundle


class TestTampering:
    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ("body", "body_sha256"),
            ("leaf", "not included"),
            ("index", "not included"),
            ("proof", "not included"),
            ("signature", "signature does not verify"),
            ("digest", "tree_head_sha256"),
            ("token", "time-stamp"),
            ("format", "not a jisr-messagelog-evidence/1"),
            ("xroad_id", "another X-Road-Id"),
        ],
    )
    async def test_altered_bundle_is_refused(
        self, logged: Database, pki: Pki, change: str, message: str
    ) -> None:
        """Any change to records, proofs, tree head or token makes the bundle fail."""
        report = verify_evidence(
            _mutate(await bundle_of(logged, pki), change), ca_certificates=[pki.ca]
        )
        assert not report.ok
        assert message in (report.error or ""), report.error

    async def test_only_the_callers_cas_are_trusted(self, logged: Database, pki: Pki) -> None:
        """A bundle's own CA list grants no trust."""
        from datetime import UTC, datetime, timedelta

        other = create_root_ca(
            generate_private_key(), "Other", now=datetime.now(UTC) - timedelta(days=1)
        )
        report = verify_evidence(await bundle_of(logged, pki), ca_certificates=[other])
        assert not report.ok and "unknown_issuer" in (report.error or "")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
class TestOpenSsl:
    async def test_token_verifies_with_openssl(
        self, logged: Database, pki: Pki, tmp_path: Path
    ) -> None:
        """`openssl ts -verify -digest <sha256 of the STH bytes> -token_in` accepts the
        bundle's token with only the bundle's CA file: no Jisr code needed."""
        bundle = await bundle_of(logged, pki)
        digest = hashlib.sha256(canonical_json(bundle["tree_head"])).hexdigest()
        assert digest == bundle["tree_head_sha256"]
        (tmp_path / "token.tsr").write_bytes(base64.b64decode(bundle["timestamp_token"]))
        (tmp_path / "ca.pem").write_bytes(
            b"".join(
                certificate_to_pem(load_certificate(base64.b64decode(c)))
                for c in bundle["ca_certificates"]
            )
        )

        def openssl(hex_digest: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["openssl", "ts", "-verify", "-digest", hex_digest, "-in", "token.tsr",
                 "-token_in", "-CAfile", "ca.pem"],
                cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip

        result = openssl(digest)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Verification: OK" in result.stdout
        wrong = openssl(hashlib.sha256(b"another tree head").hexdigest())
        assert wrong.returncode != 0
