"""Archive files and retention: old records leave the database, their proofs stay.

:func:`archive` moves the records of a log that are older than a cut-off *and* covered by
a time-stamped STH into gzip-compressed JSON Lines files,
``<archive_dir>/<quoted log id>/archive-<first>-<last>.jsonl.gz``. The first line of each
file is a header that carries the SHA-256 of the previous file of the same log (null for
the first), so the files form a digest chain (X-Road keeps the chain head in
``LAST_ARCHIVE_DIGEST``; here every link is in ``messagelog_archives``). Then one line per
record: its leaf index, leaf hash, leaf object and body (base64, or null).

:func:`cleanup` deletes archived records older than the retention period. Leaf hashes are
never deleted: inclusion proofs and :func:`verify_log` keep working, and an archived
record is checked against the same leaf hash the tree heads commit to.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.exchange.messagelog._store import CHUNK, RECORD_COLUMNS, log_numbers, row_leaf
from jisr.exchange.messagelog.errors import ArchiveError
from jisr.exchange.messagelog.models import ArchiveFile, Leaf, Record, TreeHead
from jisr.files import atomic_open, strict_json_object
from jisr.storage import Database, utcnow

__all__ = [
    "ARCHIVE_FORMAT",
    "ArchiveLine",
    "archive",
    "archive_file_name",
    "cleanup",
    "file_sha256",
    "log_directory",
    "read_archive",
]

ARCHIVE_FORMAT = "jisr-messagelog-archive/1"
MAX_RECORDS_PER_FILE = 100_000

Progress = Callable[[int, int], None]


def log_directory(log_id: str) -> str:
    """The per-log sub-directory: the log id percent-encoded, so ``/`` cannot nest."""
    return quote(log_id, safe="")


def archive_file_name(log_id: str, first: int, last: int) -> str:
    """Path of an archive file relative to the archive directory."""
    return f"{log_directory(log_id)}/archive-{first}-{last}.jsonl.gz"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ArchiveLine:
    """One archived record."""

    leaf_index: int
    leaf_hash: bytes
    leaf: dict[str, Any]
    body: bytes | None


@contextmanager
def read_archive(path: Path) -> Iterator[tuple[dict[str, Any], Iterator[ArchiveLine]]]:
    """Open an archive file: its header and an iterator over its records.

    ValueError when the header, or later a line, is not what :func:`archive` writes.
    """
    with gzip.open(path, "rb") as handle:
        try:
            header = strict_json_object(handle.readline())
        except (OSError, EOFError) as exc:
            raise ValueError(f"unreadable header: {exc}") from exc
        if header.get("format") != ARCHIVE_FORMAT:
            raise ValueError(f"not a {ARCHIVE_FORMAT} file")
        yield header, _lines(handle)


def _lines(handle: gzip.GzipFile) -> Iterator[ArchiveLine]:
    try:
        for raw in handle:
            yield _line(strict_json_object(raw))
    except (OSError, EOFError) as exc:
        raise ValueError(f"unreadable archive: {exc}") from exc


def _line(value: dict[str, Any]) -> ArchiveLine:
    index, leaf_hash, leaf, body = (
        value.get("leaf_index"),
        value.get("leaf_hash"),
        value.get("leaf"),
        value.get("body"),
    )
    if type(index) is not int or not isinstance(leaf_hash, str) or not isinstance(leaf, dict):
        raise ValueError("an archive line lacks leaf_index, leaf_hash or leaf")
    if body is not None and not isinstance(body, str):
        raise ValueError("body must be base64 or null")
    return ArchiveLine(
        leaf_index=index,
        leaf_hash=base64.b64decode(leaf_hash, validate=True),
        leaf=leaf,
        body=None if body is None else base64.b64decode(body, validate=True),
    )


# --- archiving ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    log: int
    log_id: str
    start: int  # first leaf not yet archived
    end: int  # first leaf that stays
    previous_sha256: str | None


async def archive(
    database: Database,
    archive_dir: Path,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    log_id: str | None = None,
    max_records_per_file: int = MAX_RECORDS_PER_FILE,
    progress: Progress | None = None,
) -> int:
    """Write every time-stamped record older than ``older_than`` to archive files.

    Records are archived in leaf order, up to the first one that is too young or not yet
    covered by a time-stamped STH; returns how many were archived. Run one archiver at a
    time per log (a second one loses with :class:`ArchiveError` ``conflict``).
    """
    cutoff = (now or utcnow()) - older_than
    async with database.engine.connect() as connection:
        plans = [
            await _plan(connection, archive_dir, number, name, cutoff)
            for name, number in (await log_numbers(connection)).items()
            if log_id is None or name == log_id
        ]
    total = sum(plan.end - plan.start for plan in plans)
    done = 0
    for plan in plans:
        previous = plan.previous_sha256
        for first in range(plan.start, plan.end, max_records_per_file):
            last = min(plan.end, first + max_records_per_file) - 1
            previous = await _archive_range(database, archive_dir, plan, first, last, previous)
            done += last - first + 1
            if progress is not None:
                progress(done, total)
    return done


async def _plan(
    connection: AsyncConnection, archive_dir: Path, log: int, log_id: str, cutoff: datetime
) -> _Plan:
    head = (
        await connection.execute(
            select(ArchiveFile.last_leaf, ArchiveFile.sha256, ArchiveFile.file_name)
            .where(ArchiveFile.log == log)
            .order_by(ArchiveFile.first_leaf.desc())
            .limit(1)
        )
    ).first()
    if head is not None:
        path = archive_dir / head.file_name
        # The chain may only grow from an intact last link.
        if not path.exists() or file_sha256(path) != head.sha256:
            raise ArchiveError("chain_broken", f"{path} is missing or altered")
    start = 0 if head is None else head.last_leaf + 1
    covered = await connection.scalar(
        select(func.max(TreeHead.tree_size)).where(
            TreeHead.log == log, TreeHead.tsa_token.is_not(None)
        )
    )
    end = max(start, covered or 0)
    young = await connection.scalar(
        select(func.min(Record.leaf_index)).where(
            Record.log == log,
            Record.leaf_index >= start,
            Record.leaf_index < end,
            Record.at >= cutoff,
        )
    )
    previous = None if head is None else head.sha256
    return _Plan(log, log_id, start, end if young is None else young, previous)


async def _archive_range(
    database: Database,
    archive_dir: Path,
    plan: _Plan,
    first: int,
    last: int,
    previous: str | None,
) -> str:
    """Write one file for leaves ``first..last``, record it, return its SHA-256."""
    name = archive_file_name(plan.log_id, first, last)
    path = archive_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "format": ARCHIVE_FORMAT,
        "log_id": plan.log_id,
        "first_leaf": first,
        "last_leaf": last,
        "records": last - first + 1,
        "previous_sha256": previous,
    }
    async with database.engine.connect() as connection:
        digest = await _write_file(connection, plan.log, path, header)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                insert(ArchiveFile).values(
                    log=plan.log,
                    first_leaf=first,
                    last_leaf=last,
                    records=last - first + 1,
                    file_name=name,
                    sha256=digest,
                    previous_sha256=previous,
                )
            )
    except IntegrityError as exc:
        raise ArchiveError("conflict", f"leaves {first}..{last} were archived meanwhile") from exc
    return digest


async def _write_file(
    connection: AsyncConnection, log: int, path: Path, header: dict[str, Any]
) -> str:
    """Stream the records into ``path`` atomically (temp file, fsync, rename)."""
    # mtime=0: the same records always give the same bytes and the same digest.
    with (
        atomic_open(path, mode=0o644) as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as compressed,
    ):
        compressed.write(_json_line(header))
        async for lines in _record_lines(connection, log, header):
            compressed.write(lines)
    return file_sha256(path)


async def _record_lines(
    connection: AsyncConnection, log: int, header: dict[str, Any]
) -> AsyncIterator[bytes]:
    expected, last = header["first_leaf"], header["last_leaf"]
    while expected <= last:
        rows = (
            await connection.execute(
                select(*RECORD_COLUMNS, Leaf.leaf_hash)
                .join(Leaf, (Leaf.log == Record.log) & (Leaf.leaf_index == Record.leaf_index))
                .where(Record.log == log, Record.leaf_index >= expected, Record.leaf_index <= last)
                .order_by(Record.leaf_index)
                .limit(CHUNK)
            )
        ).all()
        chunk = bytearray()
        for row in rows:
            if row.leaf_index != expected:
                raise ArchiveError("missing_record", f"record {expected} is not in the database")
            chunk += _json_line(
                {
                    "leaf_index": row.leaf_index,
                    "leaf_hash": base64.b64encode(bytes(row.leaf_hash)).decode(),
                    "leaf": row_leaf(row),
                    "body": None if row.body is None else base64.b64encode(row.body).decode(),
                }
            )
            expected += 1
        if not rows:
            raise ArchiveError("missing_record", f"record {expected} is not in the database")
        yield bytes(chunk)


def _json_line(value: dict[str, Any]) -> bytes:
    return (
        json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        + b"\n"
    )


# --- retention ----------------------------------------------------------------------------


async def cleanup(
    database: Database,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    log_id: str | None = None,
) -> int:
    """Delete archived records older than ``older_than``; leaf hashes stay. Returns the count."""
    cutoff = (now or utcnow()) - older_than
    deleted = 0
    async with database.engine.begin() as connection:
        for name, log in (await log_numbers(connection)).items():
            if log_id is not None and name != log_id:
                continue
            archived = await connection.scalar(
                select(func.max(ArchiveFile.last_leaf)).where(ArchiveFile.log == log)
            )
            if archived is None:
                continue
            result = await connection.execute(
                delete(Record).where(
                    Record.log == log, Record.leaf_index <= archived, Record.at < cutoff
                )
            )
            deleted += result.rowcount
    return deleted
