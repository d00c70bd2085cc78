"""The storage layer on both backends: engine settings, UTC datetimes, migrations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Integer, MetaData, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jisr.exchange.central.lifecycle import MIGRATIONS, VERSION_TABLE
from jisr.exchange.central.models import Base as CentralBase
from jisr.storage import Database, UTCDateTime, normalise_url, upgrade


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
