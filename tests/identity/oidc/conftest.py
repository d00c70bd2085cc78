"""Fixtures for the OpenID Connect provider: a migrated database, a started provider on a
settable clock, an in-process HTTP client, client registration and assertion helpers."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from jisr.identity.oidc import (
    ClientMetadata,
    OidcProvider,
    OidcSettings,
    Registered,
    create_app,
    migrate,
    register_client,
)
from jisr.storage import Database

ISSUER = "https://id.example.test"
TOKEN_ENDPOINT = f"{ISSUER}/token"
START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class KeyedClient:
    """A private_key_jwt client and its signing key."""

    registered: Registered
    key: ECKey
    used: set[str] = field(default_factory=set)

    @property
    def client_id(self) -> str:
        return self.registered.client.client_id

    def assertion(self, now: datetime, **overrides: Any) -> str:
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": TOKEN_ENDPOINT,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=2)).timestamp()),
            "jti": secrets.token_urlsafe(12),
            **overrides,
        }
        header = {"alg": "ES256", "kid": self.key.kid}
        return jwt.encode(header, claims, self.key)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> OidcSettings:
    return OidcSettings(issuer=ISSUER, key_publish_lead=timedelta(hours=1))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await asyncio.to_thread(migrate, database_url)
    db = Database(database_url)
    yield db
    await db.close()


@pytest.fixture
async def provider(database: Database, settings: OidcSettings, clock: Clock) -> OidcProvider:
    provider = OidcProvider(database, settings, clock=clock)
    await provider.start()
    return provider


@pytest.fixture
async def http(provider: OidcProvider) -> AsyncIterator[httpx.AsyncClient]:
    """The provider's app in process (the lifespan is replaced by the started provider)."""
    transport = httpx.ASGITransport(app=create_app(provider))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield client


Register = Callable[..., Awaitable[Registered]]


@pytest.fixture
def register(provider: OidcProvider) -> Register:
    async def register(**metadata: Any) -> Registered:
        metadata.setdefault("client_name", "test client")
        metadata.setdefault("scope", "read write")
        async with provider.database.transaction() as session:
            return await register_client(session, ClientMetadata(**metadata), provider.clock())

    return register


@pytest.fixture
async def keyed_client(register: Register) -> KeyedClient:
    key = ECKey.generate_key("P-256", parameters={"kid": "client-key-1"})
    jwks = {"keys": [key.as_dict(private=False)]}
    registered = await register(token_endpoint_auth_method="private_key_jwt", jwks=jwks)
    return KeyedClient(registered, key)


def basic(client_id: str, secret: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value).encode())


# ----------------------------------------------------------------- authorization-code flow

RP = "https://rp.example.test/cb"
RP_LOGOUT = "https://rp.example.test/signed-out"
PASSWORD = "correct horse battery staple"
SUBJECT_SECRET = "s" * 32
CSRF_SECRET = "c" * 32


@dataclass
class Person:
    nin: str
    password: str = PASSWORD


@dataclass
class FlowEnv:
    provider: OidcProvider
    http: httpx.AsyncClient
    person: Person
    register: Register
    clock: Clock


async def prepare_flow_database(database_url: str, clock: Clock) -> tuple[Database, Any, str]:
    """Migrate OIDC, authn and register tables; enrol a person with an active account.
    Returns the database, the population register and the person's NIN."""
    from jisr.crypto.keys import generate_private_key
    from jisr.identity import authn
    from jisr.identity import register as population

    for migrate_one in (migrate, authn.migrate, population.migrate):
        await asyncio.to_thread(migrate_one, database_url)
    database = Database(database_url)
    population_register = population.PopulationRegister(
        database, profile=population.MoroccoNin("BK"), key=generate_private_key(), clock=clock
    )
    born = await population_register.enrol(
        {
            "given_name": {"arab": "أحمد", "latn": "Ahmed"},
            "family_name": {"arab": "العمراني", "latn": "El Amrani"},
            "date_of_birth": "1990-05-17",
            "place_of_birth": "Rabat",
            "sex": "M",
            "nationality": "MA",
            "address": "12 Avenue Mohammed V, Rabat",
        },
        recorded_by="registrar-1",
        legal_basis="test",
    )
    accounts = authn.Accounts(database, clock=clock)
    issued = await accounts.issue_activation(born.nin)
    await accounts.activate(born.nin, issued.code, PASSWORD, address="192.0.2.1")
    return database, population_register, born.nin


def flow_settings(issuer: str = ISSUER) -> OidcSettings:
    return OidcSettings(
        issuer=issuer,
        key_publish_lead=timedelta(hours=1),
        subject_secret=SUBJECT_SECRET,
        csrf_secret=CSRF_SECRET,
    )


def code_client(**metadata: Any) -> ClientMetadata:
    metadata.setdefault("client_name", "Relying party")
    metadata.setdefault("scope", "openid profile address national_id")
    metadata.setdefault("redirect_uris", [RP])
    metadata.setdefault("grant_types", ["authorization_code", "refresh_token"])
    metadata.setdefault("response_types", ["code"])
    return ClientMetadata(**metadata)


@pytest.fixture
async def flow_env(database_url: str, clock: Clock) -> AsyncIterator[FlowEnv]:
    """A provider with the login flow over one database, an enrolled person with an active
    account, and an in-process HTTP client."""
    database, population_register, nin = await prepare_flow_database(database_url, clock)
    provider = OidcProvider(database, flow_settings(), clock=clock, register=population_register)
    await provider.start()

    async def register(**metadata: Any) -> Registered:
        async with database.transaction() as session:
            return await register_client(session, code_client(**metadata), clock())

    transport = httpx.ASGITransport(app=create_app(provider))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield FlowEnv(provider, client, Person(nin), register, clock)
    await database.close()
