"""The storage layer on both backends: engine settings, UTC datetimes, migrations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Integer, MetaData, event, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jisr.exchange.central.lifecycle import MIGRATIONS, VERSION_TABLE
from jisr.exchange.central.models import Base as CentralBase
from jisr.storage import Database, UTCDateTime, normalise_url, upgrade
from jisr.storage.engine import ping_after_idle


class _Base(DeclarativeBase):
    metadata = MetaData()


class _Event(_Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class TestUrls:
    def test_plain_urls_get_async_drivers(self) -> None:
        """postgres://, postgresql:// and sqlite:// are given their async drivers."""
        assert normalise_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"
        assert normalise_url("postgresql://u@h/d") == "postgresql+asyncpg://u@h/d"
        assert normalise_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
        assert normalise_url("postgresql+asyncpg://u@h/d") == "postgresql+asyncpg://u@h/d"


class TestSqlitePragmas:
    async def test_wal_and_foreign_keys_are_on(self, tmp_path) -> None:
        """Every SQLite connection runs in WAL mode with foreign keys enforced."""
        database = Database(f"sqlite:///{tmp_path / 'nested' / 'x.db'}")
        try:
            async with database.engine.connect() as connection:
                mode = await connection.scalar(text("PRAGMA journal_mode"))
                keys = await connection.scalar(text("PRAGMA foreign_keys"))
            assert (mode, keys) == ("wal", 1)
            assert (tmp_path / "nested" / "x.db").exists()
        finally:
            await database.close()


class TestUTCDateTime:
    async def test_round_trip_is_aware_utc(self, database_url: str) -> None:
        """A datetime in any zone comes back as the same instant, in UTC, on both backends."""
        database = Database(database_url)
        try:
            async with database.engine.begin() as connection:
                await connection.run_sync(_Base.metadata.create_all)
            moment = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=3)))
            async with database.transaction() as session:
                session.add(_Event(id=1, at=moment))
            async with database.sessions() as session:
                stored = await session.scalar(select(_Event.at))
            assert stored == moment
            assert stored is not None and stored.tzinfo == UTC
        finally:
            await database.close()

    async def test_naive_datetime_is_refused(self, database_url: str) -> None:
        """A naive datetime is a bug and is refused, writing nothing."""
        database = Database(database_url)
        try:
            async with database.engine.begin() as connection:
                await connection.run_sync(_Base.metadata.create_all)
            with pytest.raises(Exception, match="naive datetime"):
                async with database.transaction() as session:
                    session.add(_Event(id=1, at=datetime(2026, 1, 1)))
            async with database.sessions() as session:
                assert await session.scalar(select(_Event.id)) is None
        finally:
            await database.close()


class TestConnections:
    async def test_autocommit_statements_are_committed_at_once(self, database_url: str) -> None:
        """A row inserted on ``autocommit()`` is committed by its own statement: another
        connection sees it, and the pooled connection is transactional again afterwards."""
        database = Database(database_url, pool_size=1, max_overflow=0)
        try:
            async with database.engine.begin() as connection:
                await connection.run_sync(_Base.metadata.create_all)
            moment = datetime(2026, 3, 1, tzinfo=UTC)
            async with database.autocommit() as connection:
                await connection.execute(_Event.__table__.insert(), {"id": 1, "at": moment})
            async with database.reading() as connection:
                assert await connection.scalar(select(_Event.id)) == 1
            async with database.engine.connect() as connection:
                await connection.execute(_Event.__table__.insert(), {"id": 2, "at": moment})
            async with database.reading() as connection:
                assert (await connection.execute(select(_Event.id))).scalars().all() == [1]
        finally:
            await database.close()


class TestMigrations:
    async def test_upgrade_creates_every_table_and_is_idempotent(self, database_url: str) -> None:
        """Alembic head creates exactly the models' tables; a second upgrade changes nothing."""
        await asyncio.to_thread(upgrade, MIGRATIONS, database_url, VERSION_TABLE)
        await asyncio.to_thread(upgrade, MIGRATIONS, database_url, VERSION_TABLE)
        database = Database(database_url)
        try:
            async with database.engine.connect() as connection:
                tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
                version = await connection.scalar(
                    text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 constant name
                )
        finally:
            await database.close()
        assert set(CentralBase.metadata.tables) | {VERSION_TABLE} == tables
        assert version == "0001"

    async def test_models_match_migrations(self, database_url: str) -> None:
        """Autogenerate finds no difference between the models and the migrated schema."""
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext

        await asyncio.to_thread(upgrade, MIGRATIONS, database_url, VERSION_TABLE)
        database = Database(database_url)
        try:
            async with database.engine.connect() as connection:
                diff = await connection.run_sync(
                    lambda c: compare_metadata(
                        MigrationContext.configure(
                            c, opts={"version_table": VERSION_TABLE, "compare_type": True}
                        ),
                        CentralBase.metadata,
                    )
                )
        finally:
            await database.close()
        assert diff == []


@pytest.fixture
def postgres_url(postgres_admin: str) -> str:
    """The admin database through the async driver (these tests create no tables)."""
    return postgres_admin.replace("postgresql://", "postgresql+asyncpg://", 1)


async def _transaction_ids(connection: AsyncConnection) -> tuple[int, int]:
    first = await connection.scalar(text("SELECT txid_current()"))
    second = await connection.scalar(text("SELECT txid_current()"))
    return int(first), int(second)


@pytest.mark.postgres
class TestPostgresPool:
    async def test_reading_runs_each_statement_on_its_own(self, postgres_url: str) -> None:
        """``reading()`` sends no BEGIN: two statements are two transactions; the pooled
        connection is back in transactional mode for the next user."""
        database = Database(postgres_url, pool_size=1, max_overflow=0)
        try:
            async with database.reading() as connection:
                first, second = await _transaction_ids(connection)
            assert second > first
            async with database.engine.connect() as connection:
                first, second = await _transaction_ids(connection)
            assert second == first
        finally:
            await database.close()

    async def test_recently_used_connection_is_not_pinged(self, postgres_url: str) -> None:
        """By default a connection used a moment ago is handed out without a ping."""
        database = Database(postgres_url, pool_size=1, max_overflow=0)
        pings = _count_pings(database)
        try:
            for _ in range(5):
                async with database.reading() as connection:
                    assert await connection.scalar(text("SELECT 1")) == 1
            assert pings == []
        finally:
            await database.close()

    async def test_idle_connection_is_pinged(self, postgres_url: str) -> None:
        """A connection unused for longer than the limit (here 0 s) is pinged before it is
        handed out, every time."""
        database = _pinging_every_reuse(postgres_url)
        pings = _count_pings(database)
        try:
            for _ in range(3):
                async with database.reading() as connection:
                    assert await connection.scalar(text("SELECT 1")) == 1
            assert len(pings) == 3
        finally:
            await database.close()

    async def test_idle_connection_killed_by_the_server_is_replaced(
        self, postgres_url: str
    ) -> None:
        """A pooled connection the server ended while it sat idle is pinged, found dead and
        replaced: the caller's statement succeeds on a fresh connection."""
        database = _pinging_every_reuse(postgres_url)
        try:
            async with database.reading() as connection:
                old = await connection.scalar(text("SELECT pg_backend_pid()"))
            await _terminate(postgres_url, int(old))
            async with database.reading() as connection:
                new = await connection.scalar(text("SELECT pg_backend_pid()"))
            assert new != old
        finally:
            await database.close()

    async def test_explicit_pre_ping_is_kept(self, postgres_url: str) -> None:
        """A caller asking for ``pool_pre_ping`` gets SQLAlchemy's ping on every checkout."""
        database = Database(postgres_url, pool_pre_ping=True)
        try:
            assert database.engine.sync_engine.pool._pre_ping
            assert not event.contains(database.engine.sync_engine.pool, "checkout", _any)
        finally:
            await database.close()


def _any(*_args: object) -> None:
    """A listener never registered: ``event.contains`` needs one to ask about."""


def _count_pings(database: Database) -> list[None]:
    """Wrap the dialect's real ping to count the pings the pool makes."""
    dialect = database.engine.dialect
    real, pings = dialect.do_ping, []

    def counted(dbapi_connection: object) -> bool:
        pings.append(None)
        return real(dbapi_connection)  # type: ignore[arg-type]

    dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


def _pinging_every_reuse(url: str) -> Database:
    """One pooled connection, pinged at every checkout (idle limit 0)."""
    database = Database(url, pool_size=1, max_overflow=0, pool_pre_ping=False)
    ping_after_idle(database.engine, 0.0)
    return database


async def _terminate(url: str, pid: int) -> None:
    admin = Database(url)
    try:
        async with admin.engine.connect() as connection:
            await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):  # wait until the server has really ended it
                alive = await connection.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
                if not alive:
                    return
                await asyncio.sleep(0.05)
    finally:
        await admin.close()
