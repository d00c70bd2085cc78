"""The demo federation: two countries, their administrations, on loopback.

Both centrals are initialised in a fresh data directory, seeded through the same registry
operations an operator uses, given each other's anchors (federation). Four gateways are
initialised (keys, CSRs), onboarded at their central (CSRs approved), given their local
services and access rights, then everything — centrals, gateways and the sample backend —
is served by uvicorn in one event loop until Ctrl-C.

| gateway | role |
|---|---|
| MA/GOV/CIVIL-REGISTRY/GW1 | provides ``birth-record`` and ``residence`` (subsystem REGISTRY) |
| MA/GOV/INTERIOR/GW1 | consumer (subsystem RESIDENCE) |
| QA/GOV/MOI/GW1 | provides ``residence-permit`` (subsystem PERMITS) |
| QA/GOV/MOEHE/GW1 | consumer (subsystem ADMISSIONS); may read Moroccan birth records |
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from jisr.config import CentralSettings, GatewaySettings
from jisr.demo.backend import create_backend
from jisr.exchange.central.app import create_app
from jisr.exchange.central.keystore import KeyStore
from jisr.exchange.central.lifecycle import initialise, onboard_gateway, open_registry
from jisr.exchange.central.publisher import Publisher
from jisr.exchange.central.tokens import TOKENS, Scope
from jisr.exchange.gateway.app import GatewayServer
from jisr.exchange.gateway.lifecycle import init_gateway, with_registry
from jisr.exchange.gateway.registry import GatewayRegistry
from jisr.ids import GatewayId
from jisr.serving import start_listener, until_signalled
from jisr.storage import Database

__all__ = [
    "COUNTRIES",
    "GATEWAYS",
    "Country",
    "Demo",
    "DemoCentral",
    "DemoGateway",
    "GatewayPlan",
    "prepare",
    "prepare_exchange",
    "serve",
    "serve_exchange",
]


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


#: Below Linux's ephemeral range (32768-60999), from which the kernel picks both ``bind(0)``
#: ports and the source ports of outgoing connections: a port handed out from the ephemeral
#: range can be taken by any client connection before the server binds it.
_PORTS = (20000, 32768)
_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback TCP port that nobody holds now, reserved for about a minute.

    Several processes (the demo, parallel test workers) pick ports from the same range, and
    a port is handed out seconds before its server binds it. So the port is left with a
    connection in TIME_WAIT (60 s on Linux) that was accepted by a socket with
    SO_REUSEADDR: a plain ``bind`` — this function's check in any other process — is
    refused, while servers, which bind with SO_REUSEADDR (uvicorn, asyncio), succeed.
    """
    for _ in range(500):
        port = _PORTS[0] + secrets.randbelow(_PORTS[1] - _PORTS[0])
        if port in _handed_out or not _reserve(port):
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port between 20000 and 32767")


def _reserve(port: int) -> bool:
    with socket.socket() as listener:
        try:
            listener.bind(("127.0.0.1", port))  # without SO_REUSEADDR: refused if held
        except OSError:
            return False
        # Set after bind, so the check above stays strict; the accepted socket inherits it.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.listen(1)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            accepted, _ = listener.accept()
            accepted.close()  # the side that closes first holds the TIME_WAIT
    return True


def prepare(root: Path, countries: tuple[Country, ...] = COUNTRIES) -> list[DemoCentral]:
    """Fresh data directories, initialised and seeded centrals, anchors exchanged."""
    _empty(root)
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


def _empty(root: Path, keep: str = "cache") -> None:
    """Remove what ``root`` holds but its ``keep`` directory (the identity demo's cache)."""
    if not root.exists():
        return
    for child in root.iterdir():
        if child.name == keep and child.is_dir():
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


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


@dataclass(frozen=True)
class GatewayPlan:
    gateway: str
    subsystems: tuple[str, ...]
    services: tuple[tuple[str, str, str, str | None], ...] = ()  # subsystem, code, path, openapi
    grants: tuple[tuple[str, str, str], ...] = ()  # subsystem, service code, client id


GATEWAYS = (
    GatewayPlan(
        "MA/GOV/CIVIL-REGISTRY/GW1",
        ("REGISTRY",),
        (
            ("REGISTRY", "birth-record", "/birth-records", "/openapi/civil-registry.json"),
            ("REGISTRY", "residence", "/residences", "/openapi/civil-registry.json"),
        ),
        (
            ("REGISTRY", "birth-record", "MA/GOV/INTERIOR/RESIDENCE"),
            ("REGISTRY", "birth-record", "QA/GOV/MOEHE/ADMISSIONS"),
            ("REGISTRY", "residence", "MA/GOV/INTERIOR/RESIDENCE"),
        ),
    ),
    GatewayPlan("MA/GOV/INTERIOR/GW1", ("RESIDENCE",)),
    GatewayPlan(
        "QA/GOV/MOI/GW1",
        ("PERMITS",),
        (("PERMITS", "residence-permit", "/permits", "/openapi/permits.json"),),
        (
            ("PERMITS", "residence-permit", "QA/GOV/MOEHE/ADMISSIONS"),
            ("PERMITS", "residence-permit", "MA/GOV/INTERIOR/RESIDENCE"),
        ),
    ),
    GatewayPlan("QA/GOV/MOEHE/GW1", ("ADMISSIONS",)),
)


@dataclass
class DemoGateway:
    plan: GatewayPlan
    settings: GatewaySettings

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    @property
    def clients(self) -> list[str]:
        owner = self.plan.gateway.rsplit("/", 1)[0]
        return [f"{owner}/{code}" for code in self.plan.subsystems]


@dataclass
class Demo:
    centrals: list[DemoCentral]
    gateways: list[DemoGateway]
    backend_port: int

    def gateway(self, gateway_id: str) -> DemoGateway:
        return next(g for g in self.gateways if g.plan.gateway == gateway_id)


def prepare_exchange(
    root: Path,
    plans: tuple[GatewayPlan, ...] = GATEWAYS,
    countries: tuple[Country, ...] = COUNTRIES,
) -> Demo:
    """Centrals (federated) plus initialised, onboarded and configured gateways."""
    centrals = prepare(root, countries)
    by_instance = {c.country.instance: c for c in centrals}
    backend_port = free_port()
    backend = f"http://127.0.0.1:{backend_port}"
    gateways = []
    for plan in plans:
        gateway_id = GatewayId.parse(plan.gateway, encoded=False)
        central = by_instance[gateway_id.instance]
        settings = GatewaySettings(
            gateway=plan.gateway,
            data_dir=root / "gateways" / plan.gateway.replace("/", "_"),
            port=free_port(),
            peer_port=free_port(),
            admin_port=free_port(),
        )
        auth_csr, sign_csr = init_gateway(settings, central.anchor_file)
        onboard_gateway(
            central.settings,
            gateway_id,
            f"127.0.0.1:{settings.peer_port}",
            subsystems=plan.subsystems,
            auth_csr=auth_csr,
            sign_csr=sign_csr,
            actor="system:demo",
        )
        with_registry(settings, "system:demo", _configure(plan, gateway_id, backend))
        gateways.append(DemoGateway(plan, settings))
    return Demo(centrals, gateways, backend_port)


def _configure(
    plan: GatewayPlan, gateway_id: GatewayId, backend: str
) -> Callable[[GatewayRegistry], Awaitable[None]]:
    owner = str(gateway_id.owner)

    async def configure(registry: GatewayRegistry) -> None:
        for subsystem, code, path, openapi in plan.services:
            await registry.add_service(
                f"{owner}/{subsystem}",
                code,
                backend + path,
                openapi_url=backend + openapi if openapi else None,
            )
        for subsystem, code, client in plan.grants:
            await registry.grant(f"{owner}/{subsystem}", code, "client", client)
        for subsystem in plan.subsystems:
            # Development mode: the demo's information systems are curl on loopback.
            await registry.set_connection(f"{owner}/{subsystem}", "none")

    return configure


def _uvicorn(app: Any, port: int) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
            lifespan="on",
        )
    )


async def _until_started(servers: list[uvicorn.Server], tasks: list[asyncio.Task[None]]) -> None:
    """Wait until every server listens; if one fails, stop the others and raise its error."""
    while not all(server.started for server in servers):
        failed = [task for task in tasks if task.done()]
        if failed:
            for server in servers:
                server.should_exit = True
            await asyncio.wait(tasks, timeout=10)
            raise RuntimeError(f"a demo listener failed to start: {failed[0].exception()!r}")
        await asyncio.sleep(0.05)


async def serve_exchange(
    demo: Demo,
    started: asyncio.Event | None = None,
    apps: Sequence[tuple[Any, int]] = (),
) -> None:
    """Serve centrals, backend and gateways, and ``apps`` (ASGI app, port), until cancelled
    (Ctrl-C)."""
    servers = [_uvicorn(create_app(c.settings), c.settings.port) for c in demo.centrals]
    servers.append(_uvicorn(create_backend(), demo.backend_port))
    servers += [_uvicorn(app, port) for app, port in apps]
    tasks = [start_listener(server) for server in servers]
    await _until_started(servers, tasks)
    gateways = [GatewayServer(g.settings) for g in demo.gateways]
    try:
        for gateway in gateways:
            await gateway.start()
        if started is not None:
            started.set()
        await until_signalled([*tasks, *(task for g in gateways for task in g.tasks)])
    finally:
        for gateway in gateways:
            await gateway.stop()
        for server in servers:
            server.should_exit = True
        await asyncio.wait(tasks, timeout=10)


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
    tasks = [start_listener(server) for server in servers]
    await _until_started(servers, tasks)
    if started is not None:
        started.set()
    try:
        await asyncio.gather(*tasks)
    finally:
        for server in servers:
            server.should_exit = True
