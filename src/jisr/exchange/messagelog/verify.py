"""Verify a whole log from the database (and its archive files) alone.

Per log, in one pass over the leaves in order: every record still in the database is
turned back into its leaf bytes and must give the stored leaf hash (and a kept body must
give its ``body_sha256`` and its ``Content-Digest``); the leaves rebuild the tree, whose
root must equal every STH's ``root_hash`` at its size; every STH signature must verify
with its signer certificate, chained to a trusted CA; every RFC 3161 token must cover its
STH's bytes, signed by a TSA chained to a trusted CA. With ``archive_dir``, the archive
files must be present, unaltered (their SHA-256 as recorded), linked by the digest chain,
and every archived record must give its leaf hash.

Certificate paths are checked once per certificate at the earliest and the latest moment
it was used: validity periods are intervals, so both ends passing covers every use.
"""

from __future__ import annotations

import hmac
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.crypto.errors import CryptoError
from jisr.crypto.tsp import verify_token
from jisr.crypto.x509 import (
    CertificateProfile,
    fingerprint_sha256,
    load_certificate,
    verify_chain,
)
from jisr.exchange.messagelog._store import (
    CHUNK,
    RECORD_COLUMNS,
    iter_leaves,
    log_numbers,
    log_record,
    row_leaf,
)
from jisr.exchange.messagelog.archive import ArchiveLine, file_sha256, read_archive
from jisr.exchange.messagelog.merkle import CompactTree, leaf_hash
from jisr.exchange.messagelog.models import ArchiveFile, Leaf, Record, SignerCertificate
from jisr.exchange.messagelog.models import TreeHead as TreeHeadRow
from jisr.exchange.messagelog.records import (
    body_matches_content_digest,
    body_sha256,
    leaf_bytes,
    record_from_leaf,
)
from jisr.exchange.messagelog.treehead import (
    TreeHead,
    check_tree_head_signature,
    token_certificates,
)
from jisr.storage import Database

__all__ = ["VerifyReport", "verify_log"]

MAX_ERRORS = 100
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify_log`; ``first_error`` names the first fault found."""

    ok: bool
    records: int  # records recomputed from the database
    tree_size: int  # leaves, all logs together
    tree_heads: int
    timestamped: int  # tree heads with a verified time-stamp
    archives: int  # archive files checked
    archived_records: int  # records recomputed from archive files
    unchecked: int  # leaves whose record is neither in the database nor in a checked archive
    logs: tuple[str, ...]
    errors: tuple[str, ...] = ()

    @property
    def first_error(self) -> str | None:
        return self.errors[0] if self.errors else None


@dataclass
class _Totals:
    records: int = 0
    tree_size: int = 0
    tree_heads: int = 0
    timestamped: int = 0
    archives: int = 0
    archived_records: int = 0
    unchecked: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)


async def verify_log(
    database: Database,
    *,
    ca_certificates: Sequence[x509.Certificate],
    archive_dir: Path | None = None,
    log_id: str | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify every log in ``database`` (or only ``log_id``); see the module docstring."""
    if not ca_certificates:
        raise ValueError("verification needs the trusted CA certificates")
    totals = _Totals()
    async with database.engine.connect() as connection:
        logs = {
            name: number
            for name, number in (await log_numbers(connection)).items()
            if log_id is None or name == log_id
        }
        sizes = {name: await _leaf_count(connection, number) for name, number in logs.items()}
        steps = _Steps(sum(sizes.values()), progress)
        for name, number in logs.items():
            checker = _LogCheck(connection, number, name, ca_certificates, totals, steps)
            await checker.run(archive_dir)
    return VerifyReport(
        ok=not totals.errors,
        records=totals.records,
        tree_size=totals.tree_size,
        tree_heads=totals.tree_heads,
        timestamped=totals.timestamped,
        archives=totals.archives,
        archived_records=totals.archived_records,
        unchecked=totals.unchecked,
        logs=tuple(logs),
        errors=tuple(totals.errors),
    )


async def _leaf_count(connection: AsyncConnection, log: int) -> int:
    return await connection.scalar(select(func.count()).where(Leaf.log == log)) or 0


class _Steps:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self._progress = total, 0, progress

    def advance(self, count: int) -> None:
        self.done += count
        if self._progress is not None:
            self._progress(self.done, self.total)


class _Chains:
    """Earliest and latest use of each certificate; paths checked at both ends."""

    def __init__(self) -> None:
        self._uses: dict[str, tuple[x509.Certificate, str, datetime, datetime]] = {}

    def use(self, cert: x509.Certificate, label: str, at: datetime) -> None:
        key = fingerprint_sha256(cert)
        if key in self._uses:
            _, first_label, lo, hi = self._uses[key]
            self._uses[key] = (cert, first_label, min(lo, at), max(hi, at))
        else:
            self._uses[key] = (cert, label, at, at)

    def check(
        self,
        roots: Sequence[x509.Certificate],
        profile: CertificateProfile | None,
        error: Callable[[str], None],
    ) -> None:
        for cert, label, lo, hi in self._uses.values():
            try:
                for moment in (lo, hi):
                    verify_chain(cert, roots=roots, at=moment, profile=profile)
            except CryptoError as exc:
                error(f"{label}: certificate {cert.subject.rfc4514_string()}: {exc}")


class _LogCheck:
    def __init__(
        self,
        connection: AsyncConnection,
        log: int,
        log_id: str,
        ca_certificates: Sequence[x509.Certificate],
        totals: _Totals,
        steps: _Steps,
    ) -> None:
        self.connection, self.log, self.log_id = connection, log, log_id
        self.roots = ca_certificates
        self.totals, self.steps = totals, steps
        self.signers = _Chains()
        self.tsas = _Chains()
        self.without_record: list[list[int]] = []  # [start, end) runs of leaves
        self.certificates: dict[str, x509.Certificate] = {}
        self.last_head = (-1, -1)  # (tree_size, id) of the last tree head fetched

    def error(self, message: str) -> None:
        self.totals.error(f"log {self.log_id}: {message}")

    async def run(self, archive_dir: Path | None) -> None:
        size = await self._leaves()
        for row, _ in await self._fetch_heads(None):  # heads beyond the last leaf
            self.error(f"tree head {row.id} covers {row.tree_size} leaves, the log has {size}")
        self.signers.check(self.roots, None, self.error)
        self.tsas.check(self.roots, CertificateProfile.TSA, self.error)
        archived = await self._archives(archive_dir) if archive_dir is not None else []
        self.totals.unchecked += _uncovered(self.without_record, archived)
        self.totals.tree_size += size

    # --- tree heads --------------------------------------------------------------------

    async def _fetch_heads(self, upto: int | None) -> list[tuple[Any, TreeHead]]:
        """The next tree heads in (tree_size, id) order, up to size ``upto``, checked.

        Heads are streamed with the leaves: a log holds one per second of traffic.
        """
        size, head_id = self.last_head
        query = (
            select(TreeHeadRow, SignerCertificate.der)
            .join(SignerCertificate, SignerCertificate.sha256 == TreeHeadRow.signer_sha256)
            .where(
                TreeHeadRow.log == self.log,
                or_(
                    TreeHeadRow.tree_size > size,
                    and_(TreeHeadRow.tree_size == size, TreeHeadRow.id > head_id),
                ),
            )
            .order_by(TreeHeadRow.tree_size, TreeHeadRow.id)
        )
        if upto is not None:
            query = query.where(TreeHeadRow.tree_size <= upto)
        heads: list[tuple[Any, TreeHead]] = []
        for row in await self.connection.execute(query):
            head = TreeHead(
                log_id=self.log_id,
                tree_size=row.tree_size,
                root_hash=bytes(row.root_hash),
                timestamp=row.timestamp_ms,
                signer_sha256=row.signer_sha256,
            )
            if row.signer_sha256 not in self.certificates:
                self.certificates[row.signer_sha256] = load_certificate(bytes(row.der))
            self._check_head(row, head, self.certificates[row.signer_sha256])
            heads.append((row, head))
            self.last_head = (row.tree_size, row.id)
        self.totals.tree_heads += len(heads)
        return heads

    def _check_head(self, row: Any, head: TreeHead, signer: x509.Certificate) -> None:
        label = f"tree head {row.id} (size {row.tree_size})"
        try:
            # The path is checked by _Chains; here the binding and the signature.
            check_tree_head_signature(head, bytes(row.signature), signer)
        except ValueError as exc:
            self.error(f"{label}: {exc}")
        self.signers.use(signer, label, head.at)
        if row.tsa_token is not None:
            self._check_token(label, head, bytes(row.tsa_token))

    def _check_token(self, label: str, head: TreeHead, token: bytes) -> None:
        try:
            candidates = token_certificates(token)
            info = verify_token(token, digest=head.digest(), tsa_certificates=candidates)
        except (ValueError, CryptoError) as exc:
            self.error(f"{label}: time-stamp: {exc}")
            return
        signer = next(c for c in candidates if fingerprint_sha256(c) == info.tsa_fingerprint)
        self.tsas.use(signer, f"{label}: time-stamp", info.gen_time)
        self.totals.timestamped += 1

    # --- leaves and records -------------------------------------------------------------

    async def _leaves(self) -> int:
        tree = CompactTree()
        heads = deque(await self._fetch_heads(0))
        self._roots_at(tree, heads)
        while rows := await self._leaf_chunk(tree.size):
            heads.extend(await self._fetch_heads(tree.size + len(rows)))
            if not self._consume(rows, tree, heads):
                break
            self.steps.advance(len(rows))
        for row, _ in heads:  # fetched, but their size was never reached
            self.error(f"tree head {row.id} covers {row.tree_size} leaves, the log has {tree.size}")
        return tree.size

    async def _leaf_chunk(self, start: int) -> Sequence[Any]:
        """Leaves from ``start`` on, each with its record's columns (null once cleaned up)."""
        result = await self.connection.execute(
            select(Leaf.leaf_index.label("position"), Leaf.leaf_hash, *RECORD_COLUMNS)
            .outerjoin(Record, (Record.log == Leaf.log) & (Record.leaf_index == Leaf.leaf_index))
            .where(Leaf.log == self.log, Leaf.leaf_index >= start)
            .order_by(Leaf.leaf_index)
            .limit(CHUNK)
        )
        return result.all()

    def _consume(
        self, rows: Sequence[Any], tree: CompactTree, heads: deque[tuple[Any, TreeHead]]
    ) -> bool:
        """Check and append each leaf; False at the first gap in the indices."""
        for row in rows:
            if row.position != tree.size:
                self.error(f"leaf {tree.size} is missing")
                return False
            self._check_record(row)
            tree.append(bytes(row.leaf_hash))
            self._roots_at(tree, heads)
        return True

    def _roots_at(self, tree: CompactTree, heads: deque[tuple[Any, TreeHead]]) -> None:
        """Compare every tree head of the current size with the rebuilt root."""
        while heads and heads[0][1].tree_size == tree.size:
            row, head = heads.popleft()
            if not hmac.compare_digest(head.root_hash, tree.root()):
                self.error(
                    f"tree head {row.id} (size {row.tree_size}): root hash does not match "
                    "the leaves"
                )

    def _check_record(self, row: Any) -> None:
        if row.kind is None:  # archived and cleaned up: only its leaf hash remains
            runs = self.without_record
            if runs and runs[-1][1] == row.position:
                runs[-1][1] += 1
            else:
                runs.append([row.position, row.position + 1])
            return
        self.totals.records += 1
        label = f"record {row.position} ({row.kind} X-Road-Id {row.xroad_id!r})"
        try:
            computed = leaf_hash(leaf_bytes(row_leaf(row)))
        except ValueError as exc:
            self.error(f"{label}: cannot be encoded: {exc}")
            return
        if not hmac.compare_digest(computed, bytes(row.leaf_hash)):
            self.error(f"{label}: its content does not match its leaf hash")
            return
        if row.body is not None:
            self._check_body(label, row)

    def _check_body(self, label: str, row: Any) -> None:
        record = log_record(row)
        assert record.body is not None
        if body_sha256(record.body) != row.body_sha256:
            self.error(f"{label}: the body does not match body_sha256")
        elif body_matches_content_digest(record.content_digest, record.body) is False:
            self.error(f"{label}: the body does not match its Content-Digest")

    # --- archives ----------------------------------------------------------------------

    async def _archives(self, archive_dir: Path) -> list[tuple[int, int]]:
        rows = (
            await self.connection.execute(
                select(ArchiveFile)
                .where(ArchiveFile.log == self.log)
                .order_by(ArchiveFile.first_leaf)
            )
        ).all()
        checked: list[tuple[int, int]] = []
        previous: Any = None
        for row in rows:
            if await self._archive(archive_dir, row, previous):
                checked.append((row.first_leaf, row.last_leaf + 1))
            previous = row
        self.totals.archives += len(rows)
        return checked

    async def _archive(self, archive_dir: Path, row: Any, previous: Any) -> bool:
        label = f"archive {row.file_name}"
        expected_first = 0 if previous is None else previous.last_leaf + 1
        expected_link = None if previous is None else previous.sha256
        path = archive_dir / row.file_name
        if row.first_leaf != expected_first or row.previous_sha256 != expected_link:
            self.error(f"{label}: does not follow the previous archive in the chain")
            return False
        if not path.is_file():
            self.error(f"{label}: the file is missing")
            return False
        if file_sha256(path) != row.sha256:
            self.error(f"{label}: its SHA-256 is not the one recorded when it was written")
            return False
        try:
            return await self._archive_records(path, row, expected_link)
        except ValueError as exc:
            self.error(f"{label}: {exc}")
            return False

    async def _archive_records(self, path: Path, row: Any, link: str | None) -> bool:
        stored: list[bytes] = []
        async for chunk in iter_leaves(
            self.connection, self.log, row.first_leaf, row.last_leaf + 1
        ):
            stored.extend(value for _, value in chunk)
        if len(stored) != row.records:
            raise ValueError("the database lacks leaf hashes of this range")
        with read_archive(path) as (header, lines):
            stated = (header.get("first_leaf"), header.get("last_leaf"), header.get("log_id"))
            if stated != (row.first_leaf, row.last_leaf, self.log_id):
                raise ValueError("its header does not describe this range of this log")
            if header.get("previous_sha256") != link:
                raise ValueError("it does not carry the SHA-256 of the previous archive")
            count = _check_lines(lines, row.first_leaf, stored)
        self.totals.archived_records += count
        return True


def _check_lines(lines: Iterator[ArchiveLine], first: int, stored: list[bytes]) -> int:
    """Every line, in order, must give the leaf hash stored for its index."""
    count = 0
    for offset, line in enumerate(lines):
        index = first + offset
        if offset >= len(stored) or line.leaf_index != index:
            raise ValueError(f"line {offset + 2} is not record {index}")
        record = record_from_leaf(line.leaf, line.body)
        computed = leaf_hash(leaf_bytes(line.leaf))
        if computed != stored[offset] or line.leaf_hash != stored[offset]:
            raise ValueError(f"record {index}: its content does not match its leaf hash")
        if record.body is not None and (
            body_matches_content_digest(record.content_digest, record.body) is False
        ):
            raise ValueError(f"record {index}: the body does not match its Content-Digest")
        count += 1
    if count != len(stored):
        raise ValueError(f"record {first + count} is missing")
    return count


def _uncovered(runs: list[list[int]], covered: list[tuple[int, int]]) -> int:
    """How many leaves of ``runs`` fall outside every ``covered`` range."""
    total = 0
    for start, end in runs:
        total += end - start
        for lo, hi in covered:
            total -= max(0, min(end, hi) - max(start, lo))
    return total
