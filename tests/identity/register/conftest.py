"""Fixtures for the population register: a migrated database, a signing key, births."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from jisr.crypto.keys import PrivateKey, generate_private_key
from jisr.identity.register import MoroccoNin, PopulationRegister, migrate
from jisr.storage import Database

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
RegisterFactory = Callable[..., PopulationRegister]


@pytest.fixture(scope="session")
def register_key() -> PrivateKey:
    return generate_private_key()


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    """``database_url`` with the register's tables created."""
    await asyncio.to_thread(migrate, database_url)
    return database_url


@pytest.fixture
async def database(migrated_url: str) -> AsyncIterator[Database]:
    db = Database(migrated_url)
    yield db
    await db.close()


@pytest.fixture
def make_register(database: Database, register_key: PrivateKey) -> RegisterFactory:
    def make(db: Database | None = None, **options: Any) -> PopulationRegister:
        options.setdefault("profile", MoroccoNin("BK"))
        options.setdefault("clock", lambda: NOW)
        return PopulationRegister(db or database, key=register_key, **options)

    return make


@pytest.fixture
def register(make_register: RegisterFactory) -> PopulationRegister:
    return make_register()


def birth(**changes: Any) -> dict[str, Any]:
    """A valid Moroccan birth registration as plain data, with ``changes`` applied."""
    data: dict[str, Any] = {
        "given_name": {"arab": "أحمد", "latn": "Ahmed", "tfng": "ⴰⵃⵎⴷ"},
        "family_name": {"arab": "العمراني", "latn": "El Amrani"},
        "date_of_birth": date(1990, 5, 17),
        "place_of_birth": "Rabat",
        "sex": "M",
        "nationality": "MA",
    }
    data.update(changes)
    return data


RECORDED = {"recorded_by": "registrar-12", "legal_basis": "Loi 36-21, art. 15"}
