"""The async engine and session factory."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

__all__ = [
    "IDLE_BEFORE_PING",
    "Database",
    "create_engine",
    "normalise_url",
    "ping_after_idle",
    "sqlite_pragmas",
]

# A pooled server connection unused for longer than this is pinged before it is handed out.
IDLE_BEFORE_PING = 5.0
_LAST_USED = "jisr_last_used"


def normalise_url(url: str) -> str:
    """Accept the usual spellings and return the async driver's URL.

    ``postgresql://`` and ``postgres://`` become ``postgresql+asyncpg://``; ``sqlite://``
    becomes ``sqlite+aiosqlite://``. Anything else is returned unchanged.
    """
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """Create the process's engine; SQLite gets WAL, foreign keys and a busy timeout.

    A server database (PostgreSQL) gets a pool of 10 whose connections are checked before
    use only when they sat idle (:func:`ping_after_idle`), unless ``pool_pre_ping`` is given.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    options.setdefault("pool_size", 10)
    engine = create_async_engine(url, **options)
    if "pool_pre_ping" not in options:
        ping_after_idle(engine, IDLE_BEFORE_PING)
    return engine


def ping_after_idle(engine: AsyncEngine, idle: float) -> None:
    """Ping a pooled connection before handing it out only if unused for ``idle`` seconds.

    SQLAlchemy's ``pool_pre_ping`` pings on *every* checkout: three round trips on asyncpg
    (BEGIN, an empty query, ROLLBACK) before each statement of a hot path. A connection
    used a moment ago is as alive as a ping would show, so only one that sat idle (the
    case a server restart or an idle timeout leaves behind) is pinged; a dead one
    invalidates the pool, as a failed pre-ping does, and a fresh connection is handed
    out. One that died within ``idle`` seconds of its last use fails its statement once,
    which invalidates the pool for the next checkout (SQLAlchemy's disconnect handling).
    """
    dialect = engine.dialect

    def used(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info[_LAST_USED] = time.monotonic()

    def checkout(dbapi: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) <= idle:
            return
        try:
            dialect.do_ping(dbapi)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi, None):
                raise exc.InvalidatePoolError() from error
            raise

    pool = engine.sync_engine.pool
    event.listen(pool, "connect", used)
    event.listen(pool, "checkin", used)
    event.listen(pool, "checkout", checkout)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL, foreign keys, a busy timeout and synchronous=FULL on every SQLite connection."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        # WAL + NORMAL is durable across process crashes; FULL adds power-loss durability.
        cursor.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error:
        cursor.close()
        raise
    cursor.close()


class Database:
    """An engine plus its session factory: the one storage handle a process passes around."""

    def __init__(self, url: str, **options: Any) -> None:
        self.url = normalise_url(url)
        self.engine = create_engine(self.url, **options)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection inside one transaction: committed on success, rolled back on
        error. For hot paths whose statements are all Core: without an ORM session a
        transaction costs about a third less CPU on SQLite (docs/identity.md, Performance)."""
        async with self.engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection for reads that need no transaction: each statement sees the
        latest committed state on its own.

        PostgreSQL: :meth:`autocommit`, so a lookup is one round trip (no BEGIN before it,
        no ROLLBACK after). SQLite: a plain connection (the driver opens no transaction
        for a SELECT). Only for reads: a write on it is rolled back on SQLite.
        """
        if self.backend == "sqlite":
            async with self.engine.connect() as connection:
                yield connection
            return
        async with self.autocommit() as connection:
            yield connection

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection in the driver's autocommit mode: each statement is its own
        transaction, committed before its result is returned, with no BEGIN, COMMIT or
        ROLLBACK round trip. The mode is undone when the connection goes back to the pool
        (free on PostgreSQL; a PRAGMA on SQLite)."""
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()
