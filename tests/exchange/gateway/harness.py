"""A small federation on loopback for gateway tests: centrals, gateways, a backend.

Everything is real: centrals and gateways are initialised like an operator would, keys are
generated, CSRs approved, configurations signed and fetched, gateways talk mutual TLS. Each
server runs in its own thread with its own event loop, so tests drive it over HTTP.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from cryptography import x509
from cryptography.x509.oid import NameOID

from jisr.config import CentralSettings, GatewaySettings
from jisr.crypto.keys import (
    PrivateKey,
    generate_private_key,
    private_key_to_pem,
    signature_hash,
)
from jisr.crypto.x509 import certificate_to_pem, fingerprint_sha256
from jisr.demo.backend import create_backend
from jisr.exchange.central.app import create_app
from jisr.exchange.central.keystore import KeyStore
from jisr.exchange.central.lifecycle import initialise, onboard_gateway, open_registry
from jisr.exchange.central.publisher import Publisher
from jisr.exchange.gateway.app import GatewayServer
from jisr.exchange.gateway.lifecycle import init_gateway, with_registry
from jisr.exchange.gateway.registry import GatewayRegistry
from jisr.exchange.globalconf import utcnow
from jisr.exchange.messagelog import StoredRecord
from jisr.ids import GatewayId
from jisr.storage import Database
from tests.conftest import ADMIN_DSN, SESSION_TAG
from tests.servers import free_port, serve_in_thread


class Databases:
    """Fresh databases on one backend: SQLite files or new PostgreSQL databases."""

    def __init__(self, backend: str, directory: Path) -> None:
        self.backend = backend
        self.directory = directory

    def new(self, name: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.directory / f'{name}.db'}"
        database = f"{SESSION_TAG}_{secrets.token_hex(4)}"

        async def create() -> None:
            connection = await asyncpg.connect(ADMIN_DSN, timeout=5)
            try:
                await connection.execute(f'CREATE DATABASE "{database}"')
            finally:
                await connection.close()

        asyncio.run(create())
        base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        return f"{base}/{database}"


@dataclass(frozen=True)
class TlsIdentity:
    """A certificate and its key, also written as PEM files (for TLS clients)."""

    certificate: x509.Certificate
    key: PrivateKey
    certificate_path: Path
    key_path: Path

    @property
    def pem(self) -> bytes:
        return certificate_to_pem(self.certificate)

    @classmethod
    def write(cls, certificate: x509.Certificate, key: PrivateKey, directory: Path) -> TlsIdentity:
        directory.mkdir(parents=True, exist_ok=True)
        certificate_path, key_path = directory / "cert.pem", directory / "key.pem"
        certificate_path.write_bytes(certificate_to_pem(certificate))
        key_path.write_bytes(private_key_to_pem(key, None))
        return cls(certificate, key, certificate_path, key_path)


def self_signed(common_name: str, directory: Path) -> TlsIdentity:
    """A self-signed end-entity certificate (P-256, valid a day), e.g. an IS's."""
    key = generate_private_key("p256")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, signature_hash(key))
    )
    return TlsIdentity.write(certificate, key, directory)


@contextmanager
def run_in_loop(
    start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
) -> Iterator[asyncio.AbstractEventLoop]:
    """Run an async service in a thread of its own until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=60)
        yield loop
    finally:
        try:
            asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)


@dataclass
class RunningGateway:
    settings: GatewaySettings
    server: GatewayServer
    loop: asyncio.AbstractEventLoop

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def gateway(self) -> Any:
        return self.server.gateway

    def call(self, coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)  # type: ignore[arg-type]

    @property
    def tls_url(self) -> str:
        """The consumer face over TLS (``tls_port`` must be set)."""
        assert self.settings.tls_port is not None
        return f"https://127.0.0.1:{self.settings.tls_port}"

    def records(self, xroad_id: str) -> list[StoredRecord]:
        """This gateway's message-log records of one exchange."""
        found: list[StoredRecord] = self.call(self.gateway.log.find(xroad_id))
        return found

    def configure(self, operation: Callable[[GatewayRegistry], Awaitable[Any]]) -> None:
        """Change the running gateway's register (as its CLI would), then reload it."""
        with_registry(self.settings, "test:setup", operation)
        self.call(self.gateway.reload_catalogue())

    def refresh(self) -> None:
        """Fetch the global configurations now and trust their CAs (no rate limit)."""
        self.call(self.gateway.conf.refresh())
        self.gateway.sync_trust()

    @contextmanager
    def clock_ahead(self, seconds: float) -> Iterator[None]:
        """Test-only: the configuration client's clock runs ``seconds`` ahead in the block,
        so held configurations expire without waiting. GlobalConfClient takes a ``clock``
        but Gateway builds the client itself, hence the private attribute."""
        conf = self.gateway.conf
        original: Callable[[], datetime] = conf._clock

        def ahead() -> datetime:
            return utcnow() + timedelta(seconds=seconds)

        conf._clock = ahead
        try:
            yield
        finally:
            conf._clock = original


@dataclass
class Federation:
    root: Path
    databases: Databases
    stack: ExitStack
    centrals: dict[str, CentralSettings] = field(default_factory=dict)
    central_urls: dict[str, str] = field(default_factory=dict)
    gateways: dict[str, RunningGateway] = field(default_factory=dict)
    backend_url: str = ""

    # ------------------------------------------------------------- centrals
    def central(self, instance: str, members: list[tuple[str, str]]) -> CentralSettings:
        port = free_port()
        settings = CentralSettings(
            instance=instance,
            data_dir=self.root / f"central-{instance}",
            database_url=self.databases.new(f"central-{instance}"),
            port=port,
        )
        initialise(settings)
        asyncio.run(_seed_central(settings, members))
        url = self.stack.enter_context(serve_in_thread(create_app(settings), port=port))
        self.centrals[instance], self.central_urls[instance] = settings, url
        return settings

    def federate(self, a: str, b: str) -> None:
        asyncio.run(_federate(self.centrals[a], self.centrals[b]))
        asyncio.run(_federate(self.centrals[b], self.centrals[a]))

    def backend(self) -> str:
        self.backend_url = self.stack.enter_context(serve_in_thread(create_backend()))
        return self.backend_url

    # ------------------------------------------------------------- gateways
    def gateway(
        self,
        gateway_id: str,
        subsystems: list[str],
        configure: Callable[[GatewayRegistry], Awaitable[None]] | None = None,
        **options: Any,
    ) -> RunningGateway:
        parsed = GatewayId.parse(gateway_id, encoded=False)
        central = self.centrals[parsed.instance]
        peer_port = free_port()
        settings = GatewaySettings(
            gateway=gateway_id,
            data_dir=self.root / f"gw-{parsed.member_code}-{parsed.gateway_code}",
            database_url=self.databases.new(f"gw-{parsed.member_code}-{parsed.gateway_code}"),
            port=free_port(),
            peer_port=peer_port,
            admin_port=free_port(),
            **options,
        )
        anchor = self.root / f"{parsed.instance}.anchor.json"
        asyncio.run(_export_anchor(central, anchor))
        auth_csr, sign_csr = init_gateway(settings, anchor)
        onboard_gateway(
            central,
            parsed,
            f"127.0.0.1:{peer_port}",
            subsystems=subsystems,
            auth_csr=auth_csr,
            sign_csr=sign_csr,
        )
        if configure is not None:
            with_registry(settings, "test:setup", configure)
        server = GatewayServer(settings)
        loop = self.stack.enter_context(run_in_loop(server.start, server.stop))
        running = RunningGateway(settings, server, loop)
        self.gateways[gateway_id] = running
        return running

    def republish(self, instance: str) -> None:
        asyncio.run(_publish(self.centrals[instance]))

    def refresh_all(self) -> None:
        """Every gateway fetches the latest configurations (after a central changed)."""
        for running in self.gateways.values():
            running.refresh()

    def revoke_auth_certificate(self, gateway_id: str) -> None:
        """Revoke a gateway's TLS certificate at its central and publish (gateways see it
        once they refresh)."""
        running = self.gateways[gateway_id]
        fingerprint = fingerprint_sha256(running.gateway.auth_certificate)
        instance = GatewayId.parse(gateway_id, encoded=False).instance
        asyncio.run(_revoke(self.centrals[instance], fingerprint))


async def _seed_central(settings: CentralSettings, members: list[tuple[str, str]]) -> None:
    keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
    database = Database(settings.effective_database_url())
    try:
        async with database.transaction() as session:
            registry = open_registry(session, "test:setup", settings, keystore)
            for code in sorted({c for c, _ in members}):
                await registry.add_member_class(code, "")
            for member_class, code in members:
                await registry.add_member(member_class, code, f"اسم {code}", code, code)
        await Publisher(database, keystore, settings).publish()
    finally:
        await database.close()


async def _export_anchor(settings: CentralSettings, path: Path) -> None:
    database = Database(settings.effective_database_url())
    try:
        keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
        anchor = await Publisher(database, keystore, settings).anchor()
        await asyncio.to_thread(path.write_bytes, anchor.to_json())
    finally:
        await database.close()


async def _federate(settings: CentralSettings, partner: CentralSettings) -> None:
    partner_db = Database(partner.effective_database_url())
    try:
        keystore = KeyStore(partner.data_dir / "keys", partner.passphrase())
        anchor = (await Publisher(partner_db, keystore, partner).anchor()).to_json()
    finally:
        await partner_db.close()
    database = Database(settings.effective_database_url())
    try:
        keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
        async with database.transaction() as session:
            await open_registry(session, "test:setup", settings, keystore).add_partner(anchor)
        await Publisher(database, keystore, settings).publish()
    finally:
        await database.close()


async def _revoke(settings: CentralSettings, fingerprint: str) -> None:
    keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
    database = Database(settings.effective_database_url())
    try:
        async with database.transaction() as session:
            await open_registry(session, "test:setup", settings, keystore).revoke_certificate(
                fingerprint
            )
        await Publisher(database, keystore, settings).publish()
    finally:
        await database.close()


async def _publish(settings: CentralSettings) -> None:
    database = Database(settings.effective_database_url())
    try:
        await Publisher(database, KeyStore(settings.data_dir / "keys", None), settings).publish()
    finally:
        await database.close()
