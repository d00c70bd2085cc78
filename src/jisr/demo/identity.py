"""The demo's identity providers: one per country, each with a register of generated
persons, an activated test citizen and the demo relying party registered as a client.

For each country the IdP's data directory ``<root>/idp/<CC>`` is prepared as an operator
would with ``jisr idp init`` and ``jisr idp register generate --enrol``: register key and
secrets, migrations, then ``persons`` generated persons (:mod:`jisr.identity.register.samples`,
one seed per country) enrolled in batches. Enrolment is the slow part, so the directory is
then copied to ``<root>/cache/idp-<CC>-<persons>-seed<N>`` and later runs start from that
copy; the copy holds no account, no client and no token-signing key, so these are new on
every run (the register key and the secrets come with the copy: the register's signed
history must verify).

Then, on every run: one test citizen (an adult among the generated persons) gets an account
with a fresh random password (low level of assurance: password only), and the demo relying
party (:mod:`jisr.demo.relying_party`) is registered as a confidential client whose
redirect URI the demo serves.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from jisr.config import IdpSettings
from jisr.crypto.keys import load_private_key
from jisr.demo.relying_party import SCOPE, Provider, RelyingParty
from jisr.identity.app import name_matcher_of, profile_of
from jisr.identity.authn import Accounts
from jisr.identity.cli import enrol_rows, initialise
from jisr.identity.oidc.clients import ClientMetadata, Registered, register_client
from jisr.identity.register import Person, PopulationRegister
from jisr.identity.register.importer import Row, birth_from_sample
from jisr.identity.register.samples import SamplePerson
from jisr.identity.register.samples import generate as generate_samples
from jisr.storage import Database, utcnow

__all__ = [
    "CACHE",
    "DEMO_PERSONS",
    "Citizen",
    "DemoIdp",
    "Identity",
    "Population",
    "prepare_identity",
]

DEMO_PERSONS: Final = 10_000
SEEDS: Final = {"MA": 0, "QA": 1}
"""Sample seeds per country: different people (and test citizens) on each side."""
CACHE: Final = "cache"
"""The subdirectory of the demo's data directory kept from one run to the next."""
_STATE: Final = "demo.json"  # in the IdP directory: the citizen's number, persons enrolled
_ACTOR: Final = "system:demo"


@dataclass(frozen=True)
class Population:
    """Where the register's persons came from, and how long that took."""

    enrolled: int
    seconds: float
    cache: Path
    reused: bool


@dataclass(frozen=True)
class Citizen:
    """The test citizen: an enrolled person with an active account, password only."""

    person: Person
    password: str

    @property
    def nin(self) -> str:
        return self.person.nin


@dataclass(frozen=True)
class DemoIdp:
    settings: IdpSettings
    population: Population
    citizen: Citizen
    client: Registered
    redirect_uri: str

    @property
    def country(self) -> str:
        return self.settings.country

    @property
    def issuer(self) -> str:
        return self.settings.issuer_url()

    @property
    def client_secret(self) -> str:
        return self.client.client_secret or ""

    def provider(self) -> Provider:
        """This IdP as the relying party sees it."""
        return Provider(
            self.country,
            self.issuer,
            self.client.client.client_id,
            self.client_secret,
            self.redirect_uri,
        )


@dataclass(frozen=True)
class Identity:
    """The identity side of the demo: the providers and the relying party's port."""

    idps: list[DemoIdp]
    rp_port: int

    @property
    def rp_url(self) -> str:
        return f"http://127.0.0.1:{self.rp_port}"

    def relying_party(self) -> RelyingParty:
        return RelyingParty([idp.provider() for idp in self.idps])


def prepare_identity(
    root: Path,
    ports: list[int],
    rp_port: int,
    *,
    persons: int = DEMO_PERSONS,
    countries: tuple[str, ...] = ("MA", "QA"),
) -> Identity:
    """An initialised, populated IdP per country on ``ports``, the RP on ``rp_port``.

    Blocking (it runs migrations): call it before the event loop starts. ``root`` is the
    demo's data directory, emptied but for :data:`CACHE`.
    """
    shutil.rmtree(root / "idp", ignore_errors=True)
    rp = f"http://127.0.0.1:{rp_port}"
    idps = [
        _prepare(country, root, port, persons, f"{rp}/{country.lower()}/callback")
        for country, port in zip(countries, ports, strict=True)
    ]
    return Identity(idps, rp_port)


def _prepare(country: str, root: Path, port: int, persons: int, redirect_uri: str) -> DemoIdp:
    data_dir = root / "idp" / country
    settings = IdpSettings(
        country="MA" if country == "MA" else "QA",
        instance=country,
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{(data_dir / 'idp.db').resolve()}",
        host="127.0.0.1",
        port=port,
        issuer=f"http://127.0.0.1:{port}",
        log_level="warning",
    )
    cache = root / CACHE / f"idp-{country}-{persons}-seed{SEEDS[country]}"
    population = _populate(settings, cache, persons)
    citizen, client = asyncio.run(_citizen_and_client(settings, redirect_uri))
    return DemoIdp(settings, population, citizen, client, redirect_uri)


def _populate(settings: IdpSettings, cache: Path, persons: int) -> Population:
    """Copy the cached register, or initialise and enrol ``persons`` and cache the result."""
    started = time.perf_counter()
    reused = (cache / _STATE).is_file()
    if reused:
        shutil.copytree(cache, settings.data_dir)
        initialise(settings, _quiet)  # a cache made by an older version: migrate it
    else:
        initialise(settings, _quiet)
        asyncio.run(_enrol(settings, persons))
        _store(settings.data_dir, cache)
    enrolled = int(json.loads((settings.data_dir / _STATE).read_text())["enrolled"])
    return Population(enrolled, time.perf_counter() - started, cache, reused)


def _quiet(_: str) -> None:
    """``initialise``'s progress lines: the demo prints its own summary."""


def _store(source: Path, cache: Path) -> None:
    """Copy ``source`` to ``cache`` atomically: a run stopped half-way leaves no cache."""
    partial = cache.with_name(f"{cache.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    shutil.rmtree(cache, ignore_errors=True)
    partial.rename(cache)


async def _enrol(settings: IdpSettings, persons: int) -> None:
    """Enrol the samples in batches; remember the test citizen and how many were enrolled."""
    samples = list(generate_samples(settings.country, persons, seed=SEEDS[settings.country]))
    rows = [Row(line, birth_from_sample(p)) for line, p in enumerate(samples, start=1)]
    database = Database(settings.effective_database_url())
    try:
        result = await enrol_rows(
            _register(settings, database),
            rows,
            legal_basis="jisr demo: generated sample persons",
            recorded_by=_ACTOR,
        )
    finally:
        await database.close()
    citizen = _choose_citizen(samples, result.enrolled)
    state = {"citizen": citizen, "enrolled": len(result.enrolled)}
    (settings.data_dir / _STATE).write_text(json.dumps(state), encoding="utf-8")


def _choose_citizen(samples: list[SamplePerson], enrolled: list[tuple[int, str]]) -> str:
    """The first enrolled adult of working age (anyone enrolled if there is none)."""
    for line, nin in enrolled:
        if date(1965, 1, 1) <= samples[line - 1].date_of_birth <= date(2000, 12, 31):
            return nin
    if not enrolled:
        raise RuntimeError("no generated person was enrolled")
    return enrolled[0][1]


def _register(settings: IdpSettings, database: Database) -> PopulationRegister:
    key = load_private_key(settings.register_key_path(), settings.passphrase())
    return PopulationRegister(
        database,
        profile=profile_of(settings),
        key=key,
        duplicates=settings.duplicates,
        matcher=name_matcher_of(settings),
    )


async def _citizen_and_client(
    settings: IdpSettings, redirect_uri: str
) -> tuple[Citizen, Registered]:
    """Activate the test citizen's account with a new password; register the demo RP."""
    nin = json.loads((settings.data_dir / _STATE).read_text())["citizen"]
    password = secrets.token_hex(8)  # 16 characters: the policy's minimum is 12
    database = Database(settings.effective_database_url())
    try:
        person = await _register(settings, database).get(nin)
        accounts = Accounts(database)
        issued = await accounts.issue_activation(nin)
        await accounts.activate(nin, issued.code, password, address="127.0.0.1")
        async with database.transaction() as session:
            client = await register_client(session, _client(settings, redirect_uri), utcnow())
    finally:
        await database.close()
    return Citizen(person, password), client


def _client(settings: IdpSettings, redirect_uri: str) -> ClientMetadata:
    return ClientMetadata(
        client_name=f"Jisr demo relying party ({settings.country})",
        redirect_uris=[redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        scope=SCOPE,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
    )
