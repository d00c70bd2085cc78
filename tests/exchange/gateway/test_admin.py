"""The gateway's admin API over HTTP: scoped tokens, problem documents, register changes
that take effect at once on the running gateway."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from jisr.exchange.gateway.admin import TOKENS, GatewayScope
from jisr.storage import Database
from tests.exchange.gateway.conftest import CLIENT, PROVIDER, SERVICE
from tests.exchange.gateway.harness import Federation, RunningGateway

PROBLEM = "application/problem+json"


def token(running: RunningGateway, name: str, *scopes: GatewayScope) -> str:
    async def create() -> str:
        database = Database(running.settings.effective_database_url())
        try:
            async with database.transaction() as session:
                return await TOKENS.create(session, name, list(scopes), None)
        finally:
            await database.close()

    return asyncio.run(create())


@pytest.fixture(scope="module")
def admin(exchange: Federation) -> tuple[RunningGateway, str, str]:
    """The provider gateway, a read-only token and an admin token."""
    provider = exchange.gateways[PROVIDER]
    return (
        provider,
        token(provider, "reader", GatewayScope.READ),
        token(provider, "operator", GatewayScope.ADMIN),
    )


def client(running: RunningGateway, secret: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.Client(
        base_url=f"http://127.0.0.1:{running.settings.admin_port}", headers=headers, timeout=10
    )


class TestAdminApi:
    def test_no_token_is_401_problem(self, admin: tuple[RunningGateway, str, str]) -> None:
        """Every admin route needs a Bearer token: 401 problem+json otherwise."""
        running, _, _ = admin
        with client(running, None) as http:
            response = http.get("/api/v1/services")
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "unauthenticated"

    def test_read_scope_cannot_write(self, admin: tuple[RunningGateway, str, str]) -> None:
        """A gateway:read token lists services but gets 403 on a change."""
        running, reader, _ = admin
        with client(running, reader) as http:
            assert http.get("/api/v1/services").status_code == 200
            response = http.post(
                "/api/v1/services",
                json={"provider": SERVICE, "code": "new", "backend_url": "http://127.0.0.1:9"},
            )
        assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")

    def test_status(self, admin: tuple[RunningGateway, str, str]) -> None:
        """The status names the gateway, the current configuration and a healthy log."""
        running, reader, _ = admin
        with client(running, reader) as http:
            status = http.get("/api/v1/status").json()
        assert status["gateway"] == PROVIDER
        assert status["configuration_current"] is True
        assert status["message_log_healthy"] is True

    def test_bad_input_is_422_naming_the_field(
        self, admin: tuple[RunningGateway, str, str]
    ) -> None:
        """A malformed provider id is refused with the field and rule; a duplicate is 409."""
        running, _, operator = admin
        with client(running, operator) as http:
            bad = http.post(
                "/api/v1/services",
                json={
                    "provider": "MA/GOV/CIVIL REGISTRY/X",
                    "code": "s",
                    "backend_url": "http://x",
                },
            )
            duplicate = http.post(
                "/api/v1/services",
                json={"provider": SERVICE, "code": "echo", "backend_url": "http://127.0.0.1:9"},
            )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["rule"] == "invalid_identifier"
        assert (duplicate.status_code, duplicate.json()["code"]) == (409, "already_exists")

    def test_disable_takes_effect_at_once(
        self, exchange: Federation, admin: tuple[RunningGateway, str, str]
    ) -> None:
        """Disabling a service through the API makes the next exchange ServiceDisabled;
        enabling it serves again — no restart."""
        running, _, operator = admin
        consumer = exchange.gateways["MA/GOV/INTERIOR/GW1"]
        url = f"{consumer.url}/r1/{SERVICE}/birth-record/birth-records/MA1234567"
        headers = {"X-Road-Client": CLIENT}
        path = f"/api/v1/services/{SERVICE}/birth-record"
        with client(running, operator) as http:
            assert http.patch(path, json={"enabled": False}).status_code == 200
            refused = httpx.get(url, headers=headers, timeout=10)
            assert http.patch(path, json={"enabled": True}).status_code == 200
        assert refused.headers["x-road-error"] == "Server.ServerProxy.ServiceDisabled"
        assert httpx.get(url, headers=headers, timeout=10).status_code == 200
