"""Run a component's Alembic migrations programmatically.

Each component keeps its revisions in its own ``migrations`` package and its own version
table (``alembic_version_<component>``), so components can share one database. The
``env.py`` of each component calls :func:`run_migrations` with its metadata.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from jisr.storage.engine import create_engine, normalise_url

__all__ = ["alembic_config", "run_migrations", "upgrade"]


def alembic_config(script_location: Path, url: str, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.attributes["version_table"] = version_table
    return config


def upgrade(script_location: Path, url: str, version_table: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (blocking; call from a thread)."""
    command.upgrade(alembic_config(script_location, url, version_table), revision)


def run_migrations(context: EnvironmentContext, metadata: MetaData) -> None:
    """Body of every component's ``env.py``: online migrations over the async engine."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    version_table = str(config.attributes.get("version_table", "alembic_version"))

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(migrate)
        finally:
            await engine.dispose()

    asyncio.run(run())
