"""The gateway's message log: group-committed appends, signed and time-stamped tree heads.

Two tasks run per log:

* the **writer** takes appends from a queue, closes a batch when the queue is empty (after
  one yield to the event loop), at ``batch_max_records`` or after ``batch_max_delay``,
  computes the leaf hashes, inserts leaves and records in one transaction, extends the
  in-memory right edge of the tree, and only then resolves every waiter of the batch. A
  failed transaction fails every waiter of that batch with :class:`LoggingFailed`: nothing
  that was not written is ever acknowledged.
* the **tree-head task** wakes every ``sth_interval`` seconds (or when
  ``sth_max_records`` leaves are not yet covered), signs an STH over the current tree,
  asks the TSA for an RFC 3161 token over it, and stores both. When timestamping keeps
  failing for longer than ``timestamp_failure_limit`` while unstamped records exist, the
  log is unhealthy and :meth:`MessageLog.append` raises :class:`TimestamperFailed`, as
  X-Road refuses messages it cannot timestamp (DM-ML §1.6).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from cryptography import x509
from sqlalchemy import Engine, event, insert, pool, select, update
from sqlalchemy import create_engine as create_sync_engine

from jisr.crypto.errors import TimestampError
from jisr.crypto.keys import PrivateKey
from jisr.crypto.tsp import TimestampInfo, verify_token
from jisr.crypto.x509 import certificate_to_der, fingerprint_sha256
from jisr.exchange.messagelog._store import (
    LEAVES,
    RECORDS,
    ensure_certificate,
    ensure_log,
    find_records,
    iter_leaves,
    log_size,
    record_values,
)
from jisr.exchange.messagelog.errors import LoggingFailed, LogNotRunning, TimestamperFailed
from jisr.exchange.messagelog.merkle import CompactTree
from jisr.exchange.messagelog.models import Record
from jisr.exchange.messagelog.models import TreeHead as TreeHeadRow
from jisr.exchange.messagelog.records import LogRecord, StoredRecord, check_record, prepare
from jisr.exchange.messagelog.timestamper import HttpTimestamper, Timestamper
from jisr.exchange.messagelog.treehead import (
    TreeHead,
    milliseconds,
    sign_tree_head,
    token_certificates,
)
from jisr.storage import Database, upgrade, utcnow
from jisr.storage.engine import sqlite_pragmas

__all__ = ["MIGRATIONS", "VERSION_TABLE", "LogSettings", "LogStatus", "MessageLog", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_messagelog"
#: Upper bound on one call to the timestamper, whatever its own timeout.
ATTEMPT_TIMEOUT = 30.0

logger = structlog.get_logger("jisr.exchange.messagelog")


def migrate(url: str) -> None:
    """Create or upgrade the message log tables (blocking; never call from a running loop)."""
    upgrade(MIGRATIONS, url, VERSION_TABLE)


@dataclass(frozen=True)
class LogSettings:
    """How one log batches, publishes tree heads and tolerates TSA failures."""

    log_id: str  # e.g. the gateway id "MA/GOV/X/GW1"; one writer process per log_id
    sth_interval: float = 1.0  # seconds between tree heads
    sth_max_records: int = 10_000  # ... or sooner, once this many leaves are uncovered
    batch_max_records: int = 2000
    batch_max_delay: float = 0.002  # seconds a batch may keep collecting appends
    timestamp_failure_limit: float = 60.0  # seconds of failed timestamping before refusing
    archive_dir: Path | None = None  # where this log's archive files go (archive(), verify)

    def __post_init__(self) -> None:
        if not self.log_id or len(self.log_id) > 255:
            raise ValueError("log_id must be 1 to 255 characters")
        positive = ("sth_interval", "sth_max_records", "batch_max_records")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.batch_max_delay < 0 or self.timestamp_failure_limit < 0:
            raise ValueError("batch_max_delay and timestamp_failure_limit must not be negative")


@dataclass(frozen=True)
class LogStatus:
    """A snapshot for health and readiness endpoints."""

    log_id: str
    running: bool
    healthy: bool
    size: int  # durable leaves
    tree_head_size: int  # leaves covered by the latest STH
    timestamped_size: int  # leaves covered by the latest time-stamped STH
    timestamp_failing_since: datetime | None
    last_timestamp_error: str | None


@dataclass
class _Pending:
    records: tuple[LogRecord, ...]
    future: asyncio.Future[list[int]] = field(repr=False)


@dataclass
class _Head:
    """The latest STH of this log, as the tree-head task needs it."""

    id: int
    head: TreeHead
    stamped: bool


class MessageLog:
    """An append-only, Merkle-tree message log for one gateway process."""

    def __init__(
        self,
        database: Database,
        settings: LogSettings,
        *,
        key: PrivateKey,
        certificate: x509.Certificate,
        timestamper: Timestamper,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if key.public_key() != certificate.public_key():
            raise ValueError("the key does not belong to the certificate")
        self._database = database
        self._settings = settings
        self._key = key
        self._certificate = certificate
        self._signer_sha256 = fingerprint_sha256(certificate)
        self._timestamper = timestamper
        self._clock = clock
        self._log = 0
        self._tree = CompactTree()
        self._head: _Head | None = None
        self._stamped_size = 0
        self._failing_since: datetime | None = None
        self._last_error: str | None = None
        self._resync = False
        self._accepting = False
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._heads: asyncio.Task[None] | None = None
        self._sqlite: tuple[Engine, _WriterThread] | None = None

    @property
    def settings(self) -> LogSettings:
        return self._settings

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Load the tree and start the writer and tree-head tasks (schema must exist)."""
        if self._writer is not None:
            raise RuntimeError("the message log is already running")
        self._log = await ensure_log(self._database, self._settings.log_id)
        await ensure_certificate(
            self._database, self._signer_sha256, certificate_to_der(self._certificate)
        )
        await self._load()
        self._queue = asyncio.Queue()
        self._wake = asyncio.Event()
        self._sqlite = _sqlite_writer(self._database)
        self._accepting = True
        name = self._settings.log_id
        self._writer = asyncio.create_task(self._write_loop(), name=f"messagelog-writer {name}")
        self._heads = asyncio.create_task(self._head_loop(), name=f"messagelog-sth {name}")

    async def stop(self) -> None:
        """Write every queued batch, stop both tasks, then a final STH if the TSA answers."""
        writer, heads = self._writer, self._heads
        if writer is None or heads is None:
            return
        self._accepting = False
        self._queue.put_nowait(None)
        await asyncio.gather(writer, return_exceptions=True)
        heads.cancel()
        await asyncio.gather(heads, return_exceptions=True)
        self._writer = self._heads = None
        if self._sqlite is not None:
            engine, thread = self._sqlite
            thread.shutdown(wait=True)
            engine.dispose()
            self._sqlite = None
        try:
            await self._tree_head_round()
        except Exception as exc:
            logger.warning(
                "messagelog.final_sth_failed", log_id=self._settings.log_id, error=str(exc)
            )

    async def __aenter__(self) -> MessageLog:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # --- the gateway's API -------------------------------------------------------------

    async def append(self, *records: LogRecord) -> list[int]:
        """Log ``records`` (in order, contiguous); return their leaf indices once durable.

        ValueError for a record that cannot be logged (nothing is written);
        :class:`TimestamperFailed` when the log is unhealthy; :class:`LoggingFailed` when
        the transaction of their batch failed; :class:`LogNotRunning` outside start/stop.
        """
        for record in records:
            check_record(record)
        if not self._running():
            raise LogNotRunning("the message log is not running")
        if not self.healthy():
            raise TimestamperFailed(
                f"timestamping has failed since {self._failing_since}: {self._last_error}"
            )
        if not records:
            return []
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(records, future))
        return await future

    def healthy(self) -> bool:
        """False when timestamping has failed for longer than the limit while unstamped
        records exist (and when the log is not running)."""
        if not self._running():
            return False
        if self._failing_since is None or self._stamped_size >= self._tree.size:
            return True
        failing = (self._clock() - self._failing_since).total_seconds()
        return failing <= self._settings.timestamp_failure_limit

    def status(self) -> LogStatus:
        return LogStatus(
            log_id=self._settings.log_id,
            running=self._running(),
            healthy=self.healthy(),
            size=self._tree.size,
            tree_head_size=0 if self._head is None else self._head.head.tree_size,
            timestamped_size=self._stamped_size,
            timestamp_failing_since=self._failing_since,
            last_timestamp_error=self._last_error,
        )

    async def size(self) -> int:
        """Number of durable leaves."""
        if self._running():
            return self._tree.size
        log = await ensure_log(self._database, self._settings.log_id)
        async with self._database.engine.connect() as connection:
            return await log_size(connection, log)

    async def find(self, xroad_id: str) -> list[StoredRecord]:
        """The records of this log (still in the database) with this X-Road-Id."""
        log = self._log or await ensure_log(self._database, self._settings.log_id)
        async with self._database.engine.connect() as connection:
            return await find_records(connection, log, self._settings.log_id, xroad_id)

    def _running(self) -> bool:
        return self._accepting and self._writer is not None and not self._writer.done()

    # --- state -------------------------------------------------------------------------

    async def _load(self) -> None:
        """Resume from the latest STH's right edge plus the leaves written after it."""
        async with self._database.engine.connect() as connection:
            size = await log_size(connection, self._log)
            row = (
                await connection.execute(
                    select(*_HEAD_COLUMNS)
                    .where(TreeHeadRow.log == self._log)
                    .order_by(TreeHeadRow.tree_size.desc(), TreeHeadRow.id.desc())
                    .limit(1)
                )
            ).first()
            stamped = await connection.scalar(
                select(TreeHeadRow.tree_size)
                .where(TreeHeadRow.log == self._log, TreeHeadRow.tsa_token.is_not(None))
                .order_by(TreeHeadRow.tree_size.desc())
                .limit(1)
            )
            self._head = None if row is None else _head_of(row, self._settings.log_id)
            tree = _resume_point(row, size)
            async for chunk in iter_leaves(connection, self._log, tree.size, size):
                for index, value in chunk:
                    if index != tree.size:
                        raise RuntimeError(f"leaf {tree.size} of the log is missing")
                    tree.append(value)
        self._tree = tree
        self._stamped_size = stamped or 0
        self._resync = False

    # --- the writer ------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        try:
            while True:
                batch, stop = await self._collect()
                if batch:
                    try:
                        await self._commit(batch)
                    except Exception as exc:  # a bug must not leave callers waiting
                        self._resync = True
                        logger.exception("messagelog.writer_error")
                        for pending in batch:
                            _fail(pending.future, _logging_failed(exc))
                if stop:
                    return
        finally:
            self._accepting = False
            self._fail_queued()

    async def _collect(self) -> tuple[list[_Pending], bool]:
        """One batch: what is queued now, after one yield, within the size and time caps."""
        first = await self._queue.get()
        if first is None:
            return [], True
        batch, count = [first], len(first.records)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.batch_max_delay
        yielded = False
        while count < self._settings.batch_max_records and loop.time() <= deadline:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                if yielded:
                    break
                yielded = True
                await asyncio.sleep(0)  # appenders already runnable join this batch
                continue
            if item is None:
                return batch, True
            batch.append(item)
            count += len(item.records)
            yielded = False
        return batch, False

    async def _commit(self, batch: list[_Pending]) -> None:
        if self._resync and not await self._try_resync(batch):
            return
        tree = self._tree.copy()
        log = self._log
        leaves: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        accepted: list[tuple[_Pending, list[int]]] = []
        for pending in batch:
            try:
                prepared = [prepare(record) for record in pending.records]
            except ValueError as exc:  # e.g. a lone surrogate: not representable as JSON
                _fail(pending.future, exc)
                continue
            first = tree.size
            for record, (digest, leaf) in zip(pending.records, prepared, strict=True):
                index = tree.size
                tree.append(leaf)
                leaves.append((log, index, leaf))
                rows.append(record_values(log, index, record, digest))
            accepted.append((pending, list(range(first, tree.size))))
        if not accepted:
            return
        try:
            await self._insert(leaves, rows)
        except Exception as exc:
            # The outcome of a failed COMMIT may be unknown: re-read the tree before the
            # next batch rather than trust the in-memory edge.
            self._resync = True
            logger.error("messagelog.commit_failed", records=len(rows), error=str(exc))
            for pending, _ in accepted:
                _fail(pending.future, _logging_failed(exc))
            return
        self._tree = tree
        for pending, indices in accepted:
            if not pending.future.done():
                pending.future.set_result(indices)
        if tree.size - self._covered() >= self._settings.sth_max_records:
            self._wake.set()

    @property
    def writer_engine(self) -> Engine:
        """The engine whose transactions commit the batches (one per batch)."""
        return self._sqlite[0] if self._sqlite else self._database.engine.sync_engine

    async def _insert(self, leaves: list[tuple[Any, ...]], rows: list[tuple[Any, ...]]) -> None:
        """One transaction for the batch (rows in column order, see :class:`BulkInsert`).

        On SQLite, a synchronous connection in a thread of its own does it in one hop:
        through aiosqlite each statement, BEGIN and COMMIT is a thread round trip, which
        dominated the gateway's cost per message."""
        if self._sqlite is None:
            async with self._database.engine.begin() as connection:
                await LEAVES.execute_async(connection, leaves)
                await RECORDS.execute_async(connection, rows)
            return
        engine, thread = self._sqlite
        await thread.run(_insert_sync, engine, leaves, rows)

    async def _try_resync(self, batch: list[_Pending]) -> bool:
        try:
            await self._load()
        except Exception as exc:
            for pending in batch:
                _fail(pending.future, _logging_failed(exc))
            return False
        return True

    def _fail_queued(self) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                _fail(item.future, LogNotRunning("the message log stopped"))

    def _covered(self) -> int:
        return 0 if self._head is None else self._head.head.tree_size

    # --- tree heads ----------------------------------------------------------------------

    async def _head_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.sth_interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._tree_head_round()
            except Exception as exc:  # the database may be down: retry next round
                logger.warning("messagelog.sth_failed", error=str(exc))

    async def _tree_head_round(self) -> None:
        if self._resync:
            return  # the in-memory tree may be stale; the writer reloads it first
        if self._tree.size > self._covered():
            await self._new_tree_head()
        elif self._head is not None and not self._head.stamped:
            await self._restamp(self._head)

    async def _new_tree_head(self) -> None:
        tree = self._tree.copy()  # consistent: the writer swaps the edge without awaiting
        head = TreeHead(
            log_id=self._settings.log_id,
            tree_size=tree.size,
            root_hash=tree.root(),
            timestamp=milliseconds(self._clock()),
            signer_sha256=self._signer_sha256,
        )
        signature = sign_tree_head(head, self._key)
        stamp = await self._stamp(head)
        values = {
            "log": self._log,
            "tree_size": head.tree_size,
            "root_hash": head.root_hash,
            "timestamp_ms": head.timestamp,
            "signer_sha256": head.signer_sha256,
            "signature": signature,
            "frontier": tree.to_bytes(),
            "tsa_token": None if stamp is None else stamp[0],
            "timestamped_at": None if stamp is None else stamp[1],
        }
        try:
            async with self._database.engine.begin() as connection:
                result = await connection.execute(
                    insert(TreeHeadRow).values(**values).returning(TreeHeadRow.id)
                )
                head_id = result.scalar_one()
        except Exception as exc:
            self._failed(exc)
            raise
        self._head = _Head(head_id, head, stamp is not None)
        if stamp is not None:
            self._stamped(head.tree_size)

    async def _restamp(self, latest: _Head) -> None:
        stamp = await self._stamp(latest.head)
        if stamp is None:
            return
        try:
            async with self._database.engine.begin() as connection:
                await connection.execute(
                    update(TreeHeadRow)
                    .where(TreeHeadRow.id == latest.id)
                    .values(tsa_token=stamp[0], timestamped_at=stamp[1])
                )
        except Exception as exc:
            self._failed(exc)
            raise
        latest.stamped = True
        self._stamped(latest.head.tree_size)

    async def _stamp(self, head: TreeHead) -> tuple[bytes, datetime] | None:
        """(token, genTime) from the TSA, or None (the failure is recorded for health)."""
        try:
            info = await self._verified_token(head.digest())
        except Exception as exc:
            self._failed(exc)
            return None
        return info.token_der, info.gen_time

    async def _verified_token(self, digest: bytes) -> TimestampInfo:
        """A token over ``digest`` fit to stand alone as evidence.

        It must cover this digest and carry its TSA certificate (the chain is the
        timestamper's and the verifier's job). :class:`HttpTimestamper` verifies its token
        over this digest against the configured TSA certificates and CAs before returning
        it, so only the certificate is left to check here; the token of any other
        timestamper is verified in full.
        """
        timestamper = self._timestamper
        if isinstance(timestamper, HttpTimestamper):
            async with asyncio.timeout(ATTEMPT_TIMEOUT):
                info = await timestamper.timestamp_info(digest)
            _check_carries_signer(info, digest)
            return info
        async with asyncio.timeout(ATTEMPT_TIMEOUT):
            token = await timestamper.timestamp(digest)
        return await asyncio.to_thread(
            verify_token, token, digest=digest, tsa_certificates=token_certificates(token)
        )

    def _stamped(self, size: int) -> None:
        """A token is durably stored for ``size`` leaves: timestamping works again."""
        self._stamped_size = max(self._stamped_size, size)
        self._failing_since = None
        self._last_error = None

    def _failed(self, exc: BaseException) -> None:
        if self._failing_since is None:
            self._failing_since = self._clock()
        self._last_error = f"{type(exc).__name__}: {exc}"
        logger.warning(
            "messagelog.timestamp_failed", log_id=self._settings.log_id, error=self._last_error
        )


_HEAD_COLUMNS = (
    TreeHeadRow.id,
    TreeHeadRow.tree_size,
    TreeHeadRow.root_hash,
    TreeHeadRow.timestamp_ms,
    TreeHeadRow.signer_sha256,
    TreeHeadRow.frontier,
    TreeHeadRow.tsa_token.is_not(None).label("stamped"),
)


def _head_of(row: Any, log_id: str) -> _Head:
    head = TreeHead(
        log_id=log_id,
        tree_size=row.tree_size,
        root_hash=bytes(row.root_hash),
        timestamp=row.timestamp_ms,
        signer_sha256=row.signer_sha256,
    )
    return _Head(row.id, head, bool(row.stamped))


def _resume_point(row: Any, size: int) -> CompactTree:
    """The right edge stored with the latest STH, if it is sound; else the empty tree."""
    if row is None or row.tree_size > size:
        return CompactTree()
    try:
        tree = CompactTree.from_bytes(row.tree_size, bytes(row.frontier))
    except ValueError:
        return CompactTree()
    return tree if tree.root() == bytes(row.root_hash) else CompactTree()


def _check_carries_signer(info: TimestampInfo, digest: bytes) -> None:
    """What ``verify_token(token, digest=digest, tsa_certificates=token_certificates(token))``
    adds to a token :class:`HttpTimestamper` verified over ``digest``: that the TSA
    certificate which made its signature is in it. An embedded certificate with the same
    SHA-256 fingerprint is the same DER, so it names the same key and fits the same checks
    (EKU, validity at genTime) that the timestamper's verification passed."""
    if info.hash_algorithm != "sha256" or info.digest != digest:
        raise TimestampError("imprint_mismatch", "the token does not cover this digest")
    embedded = token_certificates(info.token_der)
    if not any(fingerprint_sha256(c) == info.tsa_fingerprint for c in embedded):
        raise TimestampError("unknown_signer", "the token does not carry its TSA certificate")


def _fail(future: asyncio.Future[list[int]], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _logging_failed(cause: BaseException) -> LoggingFailed:
    error = LoggingFailed(f"the log transaction failed: {cause}")
    error.__cause__ = cause
    return error


def _sqlite_writer(database: Database) -> tuple[Engine, _WriterThread] | None:
    """A synchronous engine on the same SQLite file, used from one dedicated thread."""
    if database.backend != "sqlite":
        return None
    url = database.engine.url.set(drivername="sqlite")
    engine = create_sync_engine(url, poolclass=pool.SingletonThreadPool)
    event.listen(engine, "connect", sqlite_pragmas)
    return engine, _WriterThread("messagelog-writer")


_Job = tuple[
    asyncio.AbstractEventLoop, "asyncio.Future[None]", Callable[..., None], tuple[Any, ...]
]


class _WriterThread:
    """One thread that runs the SQLite batch transactions, one after the other.

    What ``loop.run_in_executor`` on a one-worker ThreadPoolExecutor does, without its
    Python-level bookkeeping per call (a concurrent future with its condition, the idle
    semaphore, an asyncio future chained to it): a bare queue in, one
    ``call_soon_threadsafe`` out. A job whose caller was cancelled before it started is
    skipped, as the executor skips it. The thread is a daemon, so a log never stopped does
    not keep the interpreter alive; :meth:`shutdown` runs what is queued, then ends it.
    """

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    async def run(self, function: Callable[..., None], *args: Any) -> None:
        """``function(*args)`` in the thread; its exception, if any, is raised here."""
        if self._closed:
            raise RuntimeError("the writer thread is shut down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._jobs.put((loop, future, function, args))
        await future

    def shutdown(self, wait: bool = True) -> None:
        self._closed = True
        self._jobs.put(None)
        if wait:
            self._thread.join()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, function, args = job
            if future.cancelled():
                continue
            try:
                function(*args)
            except BaseException as exc:
                _reply(loop, _set_exception, future, exc)
            else:
                _reply(loop, _set_result, future, None)


def _reply(loop: asyncio.AbstractEventLoop, setter: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
        loop.call_soon_threadsafe(setter, *args)


def _set_result(future: asyncio.Future[None], result: None) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future[None], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _insert_sync(
    engine: Engine, leaves: list[tuple[Any, ...]], rows: list[tuple[Any, ...]]
) -> None:
    with engine.begin() as connection:
        LEAVES.execute(connection, leaves)
        RECORDS.execute(connection, rows)


async def recent_requests(
    database: Database, *, direction: str, since: datetime, limit: int = 100_000
) -> list[tuple[str, datetime]]:
    """(request id, time) of the request records logged by ``direction`` since ``since``,
    oldest first: what a restarted gateway needs to keep refusing replays."""
    query = (
        select(Record.request_id, Record.at)
        .where(Record.direction == direction, Record.kind == "request")
        .order_by(Record.leaf_index.desc())
        .limit(limit)
    )
    async with database.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return sorted(((rid, at) for rid, at in rows if at >= since), key=lambda row: row[1])
