"""Fixtures for authentication: a migrated database, a settable clock, active accounts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from jisr.identity.authn import Accounts, Authenticator, AuthnSettings, Totp, migrate
from jisr.storage import Database

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
NIN = "BK1234567"
PASSWORD = "correct horse battery staple"
ADDRESS = "192.0.2.10"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def settings() -> AuthnSettings:
    return AuthnSettings()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A database with authentication's tables."""
    await asyncio.to_thread(migrate, database_url)
    db = Database(database_url)
    yield db
    await db.close()


@pytest.fixture
def accounts(database: Database, settings: AuthnSettings, clock: Clock) -> Accounts:
    return Accounts(database, settings, clock)


@pytest.fixture
def authenticator(database: Database, settings: AuthnSettings, clock: Clock) -> Authenticator:
    return Authenticator(database, settings, clock)


@pytest.fixture
def totp(database: Database, settings: AuthnSettings, clock: Clock) -> Totp:
    return Totp(database, settings, clock)


@pytest.fixture
async def active(accounts: Accounts) -> str:
    """The NIN of an active account whose password is ``PASSWORD``."""
    issued = await accounts.issue_activation(NIN)
    await accounts.activate(NIN, issued.code, PASSWORD, address=ADDRESS)
    return NIN
