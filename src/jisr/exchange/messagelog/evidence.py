"""Evidence bundles: everything a third party needs to check one exchange, offline.

A bundle (format ``jisr-messagelog-evidence/1``, a JSON object) holds the records of one
X-Road-Id (request and response, with the bodies if the gateway kept them), their leaf
indices and RFC 9162 inclusion proofs to the *first* time-stamped STH that covers them,
that STH with the gateway's signature and signer certificate, and the RFC 3161 token over
the STH with the TSA and CA certificates. ``docs/messagelog.md`` gives the layout.

:func:`verify_evidence` trusts only the CA certificates its caller passes; the ones in the
bundle are there for tools such as ``openssl ts -verify``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.crypto.errors import CryptoError
from jisr.crypto.tsp import verify_token
from jisr.crypto.x509 import certificate_to_der, fingerprint_sha256, load_certificate
from jisr.exchange.messagelog._store import find_records, log_numbers, range_root
from jisr.exchange.messagelog.archive import read_archive
from jisr.exchange.messagelog.errors import EvidenceError
from jisr.exchange.messagelog.merkle import inclusion_ranges, leaf_hash, verify_inclusion
from jisr.exchange.messagelog.models import ArchiveFile, SignerCertificate
from jisr.exchange.messagelog.models import TreeHead as TreeHeadRow
from jisr.exchange.messagelog.records import (
    LogRecord,
    body_matches_content_digest,
    leaf_bytes,
    leaf_object,
    record_from_leaf,
)
from jisr.exchange.messagelog.treehead import (
    TreeHead,
    decode_b64,
    token_certificates,
    verify_tree_head,
    verify_tree_head_timestamp,
)
from jisr.storage import Database

__all__ = ["EVIDENCE_FORMAT", "EvidenceReport", "export_evidence", "verify_evidence"]

EVIDENCE_FORMAT = "jisr-messagelog-evidence/1"


@dataclass(frozen=True)
class EvidenceReport:
    """What a verified bundle proves, or why it proves nothing (``error``)."""

    ok: bool
    error: str | None = None
    log_id: str | None = None
    xroad_id: str | None = None
    leaf_indices: tuple[int, ...] = ()
    tree_size: int | None = None
    signed_at: datetime | None = None  # the STH's own timestamp (gateway clock)
    timestamped_at: datetime | None = None  # the TSA's genTime
    records: tuple[LogRecord, ...] = ()


@dataclass(frozen=True)
class _Entry:
    leaf_index: int
    leaf: dict[str, Any]
    body: bytes | None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- export ----------------------------------------------------------------------------


async def export_evidence(
    database: Database,
    xroad_id: str,
    *,
    ca_certificates: Sequence[x509.Certificate],
    log_id: str | None = None,
    archive_dir: Path | None = None,
) -> dict[str, Any]:
    """The bundle for ``xroad_id``; :class:`EvidenceError` (``reason``) when there is none.

    Records are looked up in the database, then (with ``archive_dir``) in the archive
    files of records already cleaned up.
    """
    async with database.engine.connect() as connection:
        logs = await log_numbers(connection)
        if log_id is not None:
            logs = {log_id: logs[log_id]} if log_id in logs else {}
        name, entries = await _find(connection, logs, xroad_id, archive_dir)
        log = logs[name]
        head_row = await _covering_head(connection, log, max(e.leaf_index for e in entries))
        head = TreeHead(name, head_row.tree_size, bytes(head_row.root_hash),
                        head_row.timestamp_ms, head_row.signer_sha256)  # fmt: skip
        cache: dict[tuple[int, int], bytes] = {}
        records = [
            await _record_entry(connection, log, entry, head.tree_size, cache) for entry in entries
        ]
    token = bytes(head_row.tsa_token)
    return {
        "format": EVIDENCE_FORMAT,
        "log_id": name,
        "xroad_id": xroad_id,
        "records": records,
        "tree_head": head.to_json(),
        "tree_head_sha256": head.digest().hex(),
        "signature": _b64(bytes(head_row.signature)),
        "signer_certificate": _b64(bytes(head_row.der)),
        "timestamp_token": _b64(token),
        "tsa_certificate": _b64(certificate_to_der(_tsa_certificate(head, token))),
        "ca_certificates": [_b64(certificate_to_der(c)) for c in ca_certificates],
    }


async def _find(
    connection: AsyncConnection,
    logs: Mapping[str, int],
    xroad_id: str,
    archive_dir: Path | None,
) -> tuple[str, list[_Entry]]:
    found: dict[str, list[_Entry]] = {}
    for name, log in logs.items():
        stored = await find_records(connection, log, name, xroad_id)
        entries = [
            _Entry(s.leaf_index, leaf_object(s.record, s.body_sha256), s.record.body)
            for s in stored
        ]
        if not entries and archive_dir is not None:
            entries = await _find_archived(connection, log, xroad_id, archive_dir)
        if entries:
            found[name] = entries
    if not found:
        raise EvidenceError("not_found", f"no record with X-Road-Id {xroad_id!r}")
    if len(found) > 1:
        raise EvidenceError("ambiguous", f"X-Road-Id {xroad_id!r} is in logs {sorted(found)}")
    return found.popitem()


async def _find_archived(
    connection: AsyncConnection, log: int, xroad_id: str, archive_dir: Path
) -> list[_Entry]:
    """Scan the archive files of ``log``, newest first (old evidence is asked for rarely)."""
    names = await connection.scalars(
        select(ArchiveFile.file_name)
        .where(ArchiveFile.log == log)
        .order_by(ArchiveFile.first_leaf.desc())
    )
    for name in names.all():
        path = archive_dir / name
        if not path.is_file():
            continue
        with read_archive(path) as (_, lines):
            entries = [
                _Entry(line.leaf_index, line.leaf, line.body)
                for line in lines
                if line.leaf.get("xroad_id") == xroad_id
            ]
        if entries:
            return entries
    return []


async def _covering_head(connection: AsyncConnection, log: int, last_leaf: int) -> Any:
    row = (
        await connection.execute(
            select(TreeHeadRow, SignerCertificate.der)
            .join(SignerCertificate, SignerCertificate.sha256 == TreeHeadRow.signer_sha256)
            .where(
                TreeHeadRow.log == log,
                TreeHeadRow.tree_size > last_leaf,
                TreeHeadRow.tsa_token.is_not(None),
            )
            .order_by(TreeHeadRow.tree_size, TreeHeadRow.id)
            .limit(1)
        )
    ).first()
    if row is None:
        raise EvidenceError(
            "not_timestamped", f"no time-stamped tree head covers leaf {last_leaf} yet"
        )
    return row


async def _record_entry(
    connection: AsyncConnection,
    log: int,
    entry: _Entry,
    size: int,
    cache: dict[tuple[int, int], bytes],
) -> dict[str, Any]:
    proof = []
    for span in inclusion_ranges(entry.leaf_index, size):
        if span not in cache:  # request and response share most of their path
            try:
                cache[span] = await range_root(connection, log, *span)
            except ValueError as exc:
                raise EvidenceError("incomplete", str(exc)) from exc
        proof.append(_b64(cache[span]))
    return {
        "leaf_index": entry.leaf_index,
        "leaf_hash": _b64(leaf_hash(leaf_bytes(entry.leaf))),
        "leaf": entry.leaf,
        "body": None if entry.body is None else _b64(entry.body),
        "inclusion_proof": proof,
    }


def _tsa_certificate(head: TreeHead, token: bytes) -> x509.Certificate:
    """The certificate inside the token that signed it."""
    candidates = token_certificates(token)
    info = verify_token(token, digest=head.digest(), tsa_certificates=candidates)
    return next(c for c in candidates if fingerprint_sha256(c) == info.tsa_fingerprint)


# --- verification ---------------------------------------------------------------------------


def verify_evidence(
    bundle: Mapping[str, Any], *, ca_certificates: Sequence[x509.Certificate]
) -> EvidenceReport:
    """Check a bundle offline against ``ca_certificates`` only; never raises for bad input."""
    if not ca_certificates:
        raise ValueError("verification needs the trusted CA certificates")
    try:
        return _verify(bundle, ca_certificates)
    except (ValueError, TypeError, KeyError, CryptoError) as exc:
        return EvidenceReport(ok=False, error=str(exc))


def _verify(bundle: Mapping[str, Any], roots: Sequence[x509.Certificate]) -> EvidenceReport:
    if bundle.get("format") != EVIDENCE_FORMAT:
        raise ValueError(f"not a {EVIDENCE_FORMAT} bundle")
    head = TreeHead.from_json(bundle["tree_head"])
    if head.log_id != bundle["log_id"]:
        raise ValueError("the tree head is of another log")
    if bundle.get("tree_head_sha256", head.digest().hex()) != head.digest().hex():
        raise ValueError("tree_head_sha256 is not the SHA-256 of the tree head")
    signer = load_certificate(decode_b64(bundle["signer_certificate"], "signer_certificate"))
    verify_tree_head(
        head, decode_b64(bundle["signature"], "signature"), signer, ca_certificates=roots
    )
    tsa = load_certificate(decode_b64(bundle["tsa_certificate"], "tsa_certificate"))
    token = decode_b64(bundle["timestamp_token"], "timestamp_token")
    info = verify_tree_head_timestamp(head, token, ca_certificates=roots, tsa_certificates=[tsa])
    entries = bundle["records"]
    if not isinstance(entries, list) or not entries:
        raise ValueError("the bundle holds no record")
    records = [_verify_record(entry, head, bundle["xroad_id"]) for entry in entries]
    return EvidenceReport(
        ok=True,
        log_id=head.log_id,
        xroad_id=bundle["xroad_id"],
        leaf_indices=tuple(entry["leaf_index"] for entry in entries),
        tree_size=head.tree_size,
        signed_at=head.at,
        timestamped_at=info.gen_time,
        records=tuple(records),
    )


def _verify_record(entry: Mapping[str, Any], head: TreeHead, xroad_id: Any) -> LogRecord:
    index = entry["leaf_index"]
    if type(index) is not int:
        raise ValueError("leaf_index must be an integer")
    body = None if entry["body"] is None else decode_b64(entry["body"], "body")
    record = record_from_leaf(entry["leaf"], body)  # checks the body against body_sha256
    if record.xroad_id != xroad_id:
        raise ValueError(f"record {index} is of another X-Road-Id")
    if body is not None and body_matches_content_digest(record.content_digest, body) is False:
        raise ValueError(f"record {index}: the body does not match its Content-Digest")
    computed = leaf_hash(leaf_bytes(entry["leaf"]))
    proof = [decode_b64(node, "inclusion_proof") for node in entry["inclusion_proof"]]
    if not verify_inclusion(computed, index, head.tree_size, proof, head.root_hash):
        raise ValueError(f"record {index} is not included in the tree head (RFC 9162 §2.1.3.2)")
    return record
