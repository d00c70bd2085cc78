"""Crash safety: under a bounded load, the provider gateway is killed with SIGKILL and
restarted. Every exchange the client saw succeed must be in both message logs, both logs
must verify, and the client must get clean X-Road errors — never a hang — meanwhile."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from jisr.config import GatewaySettings
from jisr.crypto.x509 import load_certificate
from jisr.exchange.central.lifecycle import onboard_gateway
from jisr.exchange.gateway.lifecycle import init_gateway, with_registry
from jisr.exchange.gateway.registry import GatewayRegistry
from jisr.exchange.messagelog import verify_log
from jisr.ids import GatewayId
from jisr.storage import Database
from tests.exchange.gateway.harness import Databases, Federation, _export_anchor
from tests.servers import free_port

pytestmark = pytest.mark.slow

PROVIDER = "MA/GOV/CIVIL-REGISTRY/GW1"
CONSUMER = "MA/GOV/INTERIOR/GW1"
CLIENT = "MA/GOV/INTERIOR/RESIDENCE"
SERVICE = "MA/GOV/CIVIL-REGISTRY/REGISTRY"
REQUEST_TIMEOUT = 10.0  # a hang would show up as a timeout
WORKERS = 4


def provider_process(settings: GatewaySettings) -> subprocess.Popen[bytes]:
    """`jisr gateway serve` for the provider, configured through JISR_* variables."""
    env = {
        **os.environ,
        "JISR_GATEWAY": settings.gateway,
        "JISR_DATA_DIR": str(settings.data_dir),
        "JISR_DATABASE_URL": settings.effective_database_url(),
        "JISR_PORT": str(settings.port),
        "JISR_PEER_PORT": str(settings.peer_port),
        "JISR_ADMIN_PORT": str(settings.admin_port),
        "JISR_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "jisr.cli", "gateway", "serve"], env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{settings.port}/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError("the provider gateway exited during start-up")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the provider gateway did not become ready")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def crash_setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Federation, GatewaySettings]]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_admin")
    with ExitStack() as stack:
        federation = Federation(tmp_path, Databases(request.param, tmp_path), stack)
        central = federation.central("MA", [("GOV", "CIVIL-REGISTRY"), ("GOV", "INTERIOR")])
        backend = federation.backend()
        settings = GatewaySettings(
            gateway=PROVIDER,
            data_dir=tmp_path / "provider",
            database_url=federation.databases.new("provider"),
            port=free_port(),
            peer_port=free_port(),
            admin_port=free_port(),
        )
        anchor = tmp_path / "MA.anchor.json"
        asyncio.run(_export_anchor(central, anchor))
        auth_csr, sign_csr = init_gateway(settings, anchor)
        onboard_gateway(
            central,
            GatewayId.parse(PROVIDER, encoded=False),
            f"127.0.0.1:{settings.peer_port}",
            subsystems=["REGISTRY"],
            auth_csr=auth_csr,
            sign_csr=sign_csr,
        )

        async def provide(reg: GatewayRegistry) -> None:
            await reg.add_service(SERVICE, "echo", f"{backend}/echo")
            await reg.grant(SERVICE, "echo", "client", CLIENT)

        with_registry(settings, "test:setup", provide)

        async def consume(reg: GatewayRegistry) -> None:
            await reg.set_connection(CLIENT, "none")

        federation.gateway(CONSUMER, ["RESIDENCE"], consume)
        yield federation, settings


def logged(url: str) -> dict[str, set[str]]:
    """X-Road-Id → kinds of records ("request", "response") in a gateway's message log."""

    async def read() -> dict[str, set[str]]:
        database = Database(url)
        try:
            async with database.engine.connect() as connection:
                rows = await connection.execute(
                    text("SELECT xroad_id, kind FROM messagelog_records")
                )
                found: dict[str, set[str]] = {}
                for xroad_id, kind in rows:
                    found.setdefault(xroad_id, set()).add(kind)
                return found
        finally:
            await database.close()

    return asyncio.run(read())


def verified(url: str, ca_der: list[bytes]) -> bool:
    async def check() -> bool:
        database = Database(url)
        try:
            report = await verify_log(
                database, ca_certificates=[load_certificate(d) for d in ca_der]
            )
            return report.ok
        finally:
            await database.close()

    return asyncio.run(check())


class TestProviderCrash:
    def test_kill_and_restart_loses_nothing_acknowledged(
        self, crash_setup: tuple[Federation, GatewaySettings]
    ) -> None:
        """SIGKILL the provider mid-load and restart it: acknowledged exchanges are in both
        logs, both logs verify, and every request during the outage ended with an X-Road error."""
        federation, provider_settings = crash_setup
        consumer = federation.gateways[CONSUMER]
        provider = provider_process(provider_settings)
        consumer.call(consumer.gateway.refresh_configuration())
        outcomes: list[tuple[str, int | None, str]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
                while not stop.is_set():
                    xroad_id = str(uuid.uuid4())
                    try:
                        response = client.post(
                            f"{consumer.url}/r1/{SERVICE}/echo",
                            content=xroad_id.encode(),
                            headers={"X-Road-Client": CLIENT, "X-Road-Id": xroad_id},
                        )
                        outcome = (
                            xroad_id,
                            response.status_code,
                            response.headers.get("x-road-error", ""),
                        )
                    except httpx.HTTPError as error:
                        outcome = (xroad_id, None, type(error).__name__)
                    with lock:
                        outcomes.append(outcome)

        workers = [threading.Thread(target=load) for _ in range(WORKERS)]
        for worker in workers:
            worker.start()
        try:
            time.sleep(1.5)
            provider.send_signal(signal.SIGKILL)
            provider.wait(timeout=10)
            time.sleep(1.0)
            provider = provider_process(provider_settings)
            time.sleep(1.5)
        finally:
            stop.set()
            for worker in workers:
                worker.join(timeout=REQUEST_TIMEOUT + 5)
            provider.send_signal(signal.SIGTERM)
            provider.wait(timeout=30)

        assert not any(worker.is_alive() for worker in workers), "a client request hung"
        succeeded = [x for x, status, _ in outcomes if status == 200]
        failed = [(status, error) for _, status, error in outcomes if status != 200]
        assert len(succeeded) > 10, outcomes[:5]
        assert failed, "the outage produced no error: was the provider really killed?"
        # During the outage the client gets clean X-Road faults, never a dropped connection.
        assert all(status == 500 and error.startswith("Server.") for status, error in failed), (
            failed[:5]
        )
        consumer_log = logged(consumer.settings.effective_database_url())
        provider_log = logged(provider_settings.effective_database_url())
        for xroad_id in succeeded:
            assert consumer_log.get(xroad_id) == {"request", "response"}, xroad_id
            assert provider_log.get(xroad_id) == {"request", "response"}, xroad_id
        ca = [base64.b64decode(der) for der in consumer.gateway.conf.current().ca_certificates]
        assert verified(consumer.settings.effective_database_url(), ca)
        assert verified(provider_settings.effective_database_url(), ca)
