"""Scratch PostgreSQL databases for the benchmarks: created for a run, then dropped.

``scratch_postgres`` is the context manager the scripts use; ``create_database`` and
``drop_database`` are its steps for a script already inside an event loop.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

__all__ = ["create_database", "database_url", "drop_database", "scratch_postgres"]


async def _admin(admin: str, statement: str, *args: object) -> object:
    connection = await asyncpg.connect(admin, timeout=5)
    try:
        return await connection.fetchval(statement, *args)
    finally:
        await connection.close()


def database_url(admin: str, name: str) -> str:
    """The SQLAlchemy URL (asyncpg driver) of database ``name`` on ``admin``'s server."""
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def create_database(admin: str, prefix: str = "jisr_bench") -> str:
    """A new empty database ``<prefix>_<random>``; returns its name."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    await _admin(admin, f'CREATE DATABASE "{name}"')
    return name


async def drop_database(admin: str, name: str) -> None:
    await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_postgres(
    admin: str, prefix: str = "jisr_bench", *, keep: str | None = None
) -> Iterator[str]:
    """The URL of a new database, dropped when the block ends; or, with ``keep``, of the
    database of that name, created if missing and kept for the next run."""
    if keep is not None:
        found = asyncio.run(_admin(admin, "SELECT 1 FROM pg_database WHERE datname = $1", keep))
        if found is None:
            asyncio.run(_admin(admin, f'CREATE DATABASE "{keep}"'))
        yield database_url(admin, keep)
        return
    name = asyncio.run(create_database(admin, prefix))
    try:
        yield database_url(admin, name)
    finally:
        asyncio.run(drop_database(admin, name))
