"""The OIDC migrations create exactly the schema the models describe."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from jisr.identity.oidc import migrate
from jisr.identity.oidc.models import Base
from jisr.identity.oidc.provider import VERSION_TABLE
from jisr.storage import Database


async def test_models_match_migrations(database_url: str) -> None:
    await asyncio.to_thread(migrate, database_url)
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(
                        c, opts={"version_table": VERSION_TABLE, "compare_type": True}
                    ),
                    Base.metadata,
                )
            )
    finally:
        await database.close()
    assert diff == []
