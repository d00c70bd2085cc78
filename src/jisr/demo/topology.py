"""The demo federation: two countries, their administrations, on loopback.

Both centrals are initialised in a fresh data directory, seeded through the same registry
operations an operator uses, given each other's anchors (federation), then served by
uvicorn in one event loop until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from jisr.config import CentralSettings
from jisr.exchange.central.app import create_app
from jisr.exchange.central.keystore import KeyStore
from jisr.exchange.central.lifecycle import initialise, open_registry
from jisr.exchange.central.publisher import Publisher
from jisr.exchange.central.tokens import TOKENS, Scope
from jisr.storage import Database

__all__ = ["COUNTRIES", "Country", "DemoCentral", "prepare", "serve"]


@dataclass(frozen=True)
class Country:
    instance: str
    organization: str
    members: tuple[tuple[str, str, str, str, str], ...]  # class, code, ar, fr, en
    subsystems: tuple[tuple[str, str], ...] = ()  # member code, subsystem code


COUNTRIES = (
    Country(
        "MA",
        "Royaume du Maroc",
        (
            ("GOV", "CIVIL-REGISTRY", "الحالة المدنية", "État civil", "Civil registry"),
            (
                "GOV",
                "INTERIOR",
                "وزارة الداخلية",
                "Ministère de l'Intérieur",
                "Ministry of Interior",
            ),
        ),
        (("CIVIL-REGISTRY", "REGISTRY"), ("INTERIOR", "RESIDENCE")),
    ),
    Country(
        "QA",
        "State of Qatar",
        (
            ("GOV", "MOI", "وزارة الداخلية", "Ministère de l'Intérieur", "Ministry of Interior"),
            (
                "GOV",
                "MOEHE",
                "وزارة التربية والتعليم والتعليم العالي",
                "Ministère de l'Éducation",
                "Ministry of Education and Higher Education",
            ),
        ),
        (("MOI", "PERMITS"), ("MOEHE", "ADMISSIONS")),
    ),
)
MEMBER_CLASSES = (
    ("GOV", "Government administrations"),
    ("COM", "Companies"),
    ("NGO", "Non-governmental organisations"),
)


@dataclass
class DemoCentral:
    country: Country
    settings: CentralSettings
    token: str = ""
    anchor: bytes = b""
    peers: list[str] = field(default_factory=list)

    @property
    def anchor_file(self) -> Path:
        return self.settings.data_dir / "anchor.json"

    @property
    def url(self) -> str:
        return self.settings.base_url()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare(root: Path, countries: tuple[Country, ...] = COUNTRIES) -> list[DemoCentral]:
    """Fresh data directories, initialised and seeded centrals, anchors exchanged."""
    if root.exists():
        shutil.rmtree(root)
    centrals = []
    for country in countries:
        settings = CentralSettings(
            instance=country.instance,
            organization=country.organization,
            data_dir=root / country.instance,
            port=free_port(),
        )
        initialise(settings)
        centrals.append(DemoCentral(country, settings))
    for central in centrals:
        asyncio.run(_seed(central))
    for central in centrals:
        for partner in centrals:
            if partner is not central:
                asyncio.run(_federate(central, partner.anchor))
                central.peers.append(partner.country.instance)
    return centrals


async def _seed(central: DemoCentral) -> None:
    settings = central.settings
    keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
    database = Database(settings.effective_database_url())
    try:
        async with database.transaction() as session:
            registry = open_registry(session, "system:demo", settings, keystore)
            for code, description in MEMBER_CLASSES:
                await registry.add_member_class(code, description)
            for member_class, code, ar, fr, en in central.country.members:
                await registry.add_member(member_class, code, ar, fr, en)
            for member_code, code in central.country.subsystems:
                await registry.add_subsystem("GOV", member_code, code)
            central.token = await TOKENS.create(session, "demo-admin", [Scope.ADMIN], None)
        publisher = Publisher(database, keystore, settings)
        await publisher.publish()
        central.anchor = (await publisher.anchor()).to_json()
        central.anchor_file.write_bytes(central.anchor)
    finally:
        await database.close()


async def _federate(central: DemoCentral, anchor: bytes) -> None:
    settings = central.settings
    keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
    database = Database(settings.effective_database_url())
    try:
        async with database.transaction() as session:
            await open_registry(session, "system:demo", settings, keystore).add_partner(anchor)
        await Publisher(database, keystore, settings).publish()
    finally:
        await database.close()


async def serve(centrals: list[DemoCentral], started: asyncio.Event | None = None) -> None:
    """Serve every central until cancelled (Ctrl-C)."""
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                create_app(c.settings),
                host=c.settings.host,
                port=c.settings.port,
                log_config=None,
                access_log=False,
                server_header=False,
                lifespan="on",
            )
        )
        for c in centrals
    ]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    while not all(server.started for server in servers):
        if any(task.done() for task in tasks):
            break
        await asyncio.sleep(0.05)
    if started is not None:
        started.set()
    try:
        await asyncio.gather(*tasks)
    finally:
        for server in servers:
            server.should_exit = True
