"""Setting a gateway up: schema, keys and CSRs, then its local register.

``init_gateway`` is what ``jisr gateway init`` does: migrate the database, copy the anchor,
create the two keys and write their CSRs (``keys/auth.csr.pem`` for the gateway's TLS
certificate, ``keys/sign.csr.pem`` for the owner member's signing certificate). The central
operator approves them; the certificates then arrive with the global configuration.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx

from jisr.config import GatewaySettings
from jisr.exchange.gateway.identity import GatewayKeys
from jisr.exchange.gateway.registry import GatewayRegistry
from jisr.exchange.gateway.runtime import migrate
from jisr.ids import GatewayId, SubsystemId, parse_client
from jisr.storage import Database

__all__ = ["announce_services", "init_gateway", "with_registry"]

T = TypeVar("T")


def init_gateway(settings: GatewaySettings, anchor: Path | None = None) -> tuple[bytes, bytes]:
    """Migrate, install the anchor, create keys; return (auth CSR, sign CSR) PEM."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if anchor is not None and anchor.resolve() != settings.anchor_path().resolve():
        shutil.copyfile(anchor, settings.anchor_path())
    if not settings.anchor_path().exists():
        raise FileNotFoundError(f"no anchor at {settings.anchor_path()}; pass --anchor")
    migrate(settings)
    keys = GatewayKeys(
        settings.data_dir / "keys",
        GatewayId.parse(settings.gateway, encoded=False),
        settings.passphrase(),
    )
    if keys.exists():
        return keys.path("auth.csr.pem").read_bytes(), keys.path("sign.csr.pem").read_bytes()
    return keys.create()


def with_registry(
    settings: GatewaySettings, actor: str, operation: Callable[[GatewayRegistry], Awaitable[T]]
) -> T:
    """Run one register operation in one transaction (blocking; for the CLI and set-up)."""
    instance = GatewayId.parse(settings.gateway, encoded=False).instance

    async def go() -> T:
        database = Database(settings.effective_database_url())
        try:
            async with database.transaction() as session:
                return await operation(GatewayRegistry(session, actor, instance=instance))
        finally:
            await database.close()

    return asyncio.run(go())


def announce_services(settings: GatewaySettings, central_url: str, token: str) -> list[str]:
    """Register this gateway's local services at the central (service code + OpenAPI URL),
    so they appear in the global configuration. Already registered ones are left as they
    are. Returns the service ids newly announced; raises on any other refusal."""

    async def local(reg: GatewayRegistry) -> list[tuple[str, str, str | None]]:
        return [(s.provider, s.code, s.openapi_url) for s in await reg.list_services()]

    announced = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=central_url.rstrip("/"), headers=headers, timeout=30) as http:
        for provider, code, openapi_url in with_registry(settings, "system:announce", local):
            client = parse_client(provider, encoded=False)
            if not isinstance(client, SubsystemId):
                continue  # the central registers services of subsystems
            path = (
                f"/api/v1/members/{client.member_class}/{client.member_code}"
                f"/subsystems/{client.subsystem_code}/services"
            )
            response = http.post(path, json={"code": code, "openapi_url": openapi_url})
            if response.status_code == 201:
                announced.append(f"{provider}/{code}")
            elif response.status_code != 409:
                raise RuntimeError(f"the central refused {provider}/{code}: {response.text}")
    return announced
