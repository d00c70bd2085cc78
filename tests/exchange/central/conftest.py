"""Fixtures for the central: initialised instances on both backends, served on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jisr.config import CentralSettings
from jisr.exchange.central.app import create_app
from jisr.exchange.central.lifecycle import initialise
from jisr.exchange.central.tokens import TOKENS, Scope
from jisr.storage import Database
from tests.servers import free_port, serve_in_thread


def make_settings(
    data_dir: Path, instance: str, database_url: str, **more: object
) -> CentralSettings:
    return CentralSettings(
        instance=instance,
        data_dir=data_dir,
        database_url=database_url,
        port=more.pop("port", None) or free_port(),
        key_passphrase="test passphrase",  # type: ignore[arg-type]
        **more,  # type: ignore[arg-type]
    )


def issue_token(settings: CentralSettings, name: str, *scopes: Scope) -> str:
    async def go() -> str:
        database = Database(settings.effective_database_url())
        try:
            async with database.transaction() as session:
                return await TOKENS.create(session, name, list(scopes), None)
        finally:
            await database.close()

    return asyncio.run(go())


@pytest.fixture
def central_settings(tmp_path: Path, database_url: str) -> CentralSettings:
    """An initialised instance ``MA`` (schema, CA, TSA, signing key, first document)."""
    settings = make_settings(tmp_path / "MA", "MA", database_url)
    initialise(settings)
    return settings


@dataclass
class Running:
    settings: CentralSettings
    url: str
    admin: str  # token with scope admin


@pytest.fixture
def running_central(central_settings: CentralSettings) -> Iterator[Running]:
    """The central served over real HTTP on 127.0.0.1, with an admin token."""
    token = issue_token(central_settings, "test-admin", Scope.ADMIN)
    with serve_in_thread(create_app(central_settings), port=central_settings.port) as url:
        yield Running(central_settings, url, token)


@pytest.fixture
def second_database_url(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> str:
    """A second database on the same backend as ``database_url`` (for a second instance)."""
    if database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / 'second.db'}"
    from tests.conftest import _fresh_postgres_database

    base = database_url.rsplit("/", 1)[0]
    return f"{base}/{_fresh_postgres_database()}"


Factory = Callable[..., CentralSettings]
