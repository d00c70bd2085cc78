"""A two-gateway exchange (MA/GOV/INTERIOR → MA/GOV/CIVIL-REGISTRY) per storage backend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from jisr.exchange.gateway.registry import GatewayRegistry
from tests.exchange.gateway.harness import Databases, Federation

PROVIDER = "MA/GOV/CIVIL-REGISTRY/GW1"
CONSUMER = "MA/GOV/INTERIOR/GW1"
CLIENT = "MA/GOV/INTERIOR/RESIDENCE"
SERVICE = "MA/GOV/CIVIL-REGISTRY/REGISTRY"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def exchange(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    """Central MA, a backend, a provider gateway and a consumer gateway."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres_admin")
    root: Path = tmp_path_factory.mktemp("federation")
    with ExitStack() as stack:
        federation = Federation(root, Databases(request.param, root), stack)
        federation.central("MA", [("GOV", "CIVIL-REGISTRY"), ("GOV", "INTERIOR")])
        backend = federation.backend()

        async def provider_setup(reg: GatewayRegistry) -> None:
            await reg.add_service(
                SERVICE,
                "birth-record",
                backend,
                openapi_url=f"{backend}/openapi/civil-registry.json",
            )
            await reg.add_service(SERVICE, "echo", f"{backend}/echo")
            await reg.add_service(SERVICE, "slow", backend, service_timeout=1.0)
            await reg.add_service(SERVICE, "closed", backend, enabled=False)
            await reg.add_service(SERVICE, "down", "http://127.0.0.1:9")
            for code in ("birth-record", "echo", "slow", "closed", "down"):
                await reg.grant(SERVICE, code, "client", CLIENT)

        async def consumer_setup(reg: GatewayRegistry) -> None:
            await reg.set_connection(CLIENT, "none")

        federation.gateway(PROVIDER, ["REGISTRY"], provider_setup)
        federation.gateway(CONSUMER, ["RESIDENCE", "OTHER"], consumer_setup)
        yield federation


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def federation_on(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    """An empty federation on one storage backend, torn down when the block ends."""
    if backend == "postgresql":
        request.getfixturevalue("postgres_admin")
    root: Path = tmp_path_factory.mktemp("federation")
    with ExitStack() as stack:
        yield Federation(root, Databases(backend, root), stack)


def civil_registry(
    backend_url: str, clients: Iterable[str] = (CLIENT,)
) -> Callable[[GatewayRegistry], Awaitable[None]]:
    """The provider register of the ``exchange`` fixture, granting every service to
    ``clients``."""

    async def setup(reg: GatewayRegistry) -> None:
        await reg.add_service(
            SERVICE,
            "birth-record",
            backend_url,
            openapi_url=f"{backend_url}/openapi/civil-registry.json",
        )
        await reg.add_service(SERVICE, "echo", f"{backend_url}/echo")
        await reg.add_service(SERVICE, "slow", backend_url, service_timeout=1.0)
        await reg.add_service(SERVICE, "closed", backend_url, enabled=False)
        await reg.add_service(SERVICE, "down", "http://127.0.0.1:9")
        for client in clients:
            for code in ("birth-record", "echo", "slow", "closed", "down"):
                await reg.grant(SERVICE, code, "client", client)

    return setup


def connections(*pairs: tuple[str, str]) -> Callable[[GatewayRegistry], Awaitable[None]]:
    """A register operation setting IS connection modes: ``(client, mode)`` pairs."""

    async def setup(reg: GatewayRegistry) -> None:
        for client, mode in pairs:
            await reg.set_connection(client, mode)

    return setup
