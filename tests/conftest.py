"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is the machine's server at 127.0.0.1:5432 (override with ``JISR_TEST_POSTGRES``).
Each test gets a fresh database named after this test session; all are dropped at the end.
When the server is unreachable the PostgreSQL variants are skipped, except under
``CI=true``, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

ADMIN_DSN = os.environ.get("JISR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SESSION_TAG = f"jisr_t_{secrets.token_hex(4)}"


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    """The PostgreSQL server's admin DSN; skip (fail under CI) if it cannot be reached."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        message = f"PostgreSQL unreachable at {ADMIN_DSN}: {error!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield ADMIN_DSN
    asyncio.run(_drop_leftovers())


async def _drop_leftovers() -> None:
    connection = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{SESSION_TAG}_%"
        )
        for row in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{row[0]}" WITH (FORCE)')
    finally:
        await connection.close()


def _fresh_postgres_database() -> str:
    name = f"{SESSION_TAG}_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    admin = request.getfixturevalue("postgres_admin")
    name = _fresh_postgres_database()
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    yield f"{base}/{name}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
