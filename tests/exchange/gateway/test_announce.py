"""Local services are announced to the central registry and appear in the configuration."""

from __future__ import annotations

import asyncio

import pytest

from jisr.exchange.central.tokens import TOKENS, Scope
from jisr.exchange.gateway.lifecycle import announce_services
from jisr.storage import Database
from tests.exchange.gateway.conftest import PROVIDER, SERVICE
from tests.exchange.gateway.harness import Federation


def central_token(exchange: Federation, *scopes: Scope) -> str:
    settings = exchange.centrals["MA"]

    async def create() -> str:
        database = Database(settings.effective_database_url())
        try:
            async with database.transaction() as session:
                names = "-".join(s.value for s in scopes).replace(":", "_")
                return await TOKENS.create(session, f"announce-{names}", list(scopes), None)
        finally:
            await database.close()

    return asyncio.run(create())


class TestAnnounce:
    def test_services_reach_the_global_configuration(self, exchange: Federation) -> None:
        """announce registers every local service (with its OpenAPI URL) at the central;
        a second announce changes nothing; the provider's next configuration lists them."""
        provider = exchange.gateways[PROVIDER]
        token = central_token(exchange, Scope.REGISTRY_WRITE)
        url = exchange.central_urls["MA"]
        first = announce_services(provider.settings, url, token)
        assert f"{SERVICE}/birth-record" in first
        assert announce_services(provider.settings, url, token) == []
        provider.refresh()
        entry = provider.gateway.conf.find_subsystem(SERVICE)
        codes = {s.code: s.openapi_url for s in entry.services}
        assert codes["birth-record"].endswith("/openapi/civil-registry.json")
        assert "echo" in codes

    def test_a_token_without_the_scope_is_refused(self, exchange: Federation) -> None:
        """The central refuses an announcement with a read-only token; nothing is created."""
        provider = exchange.gateways[PROVIDER]
        token = central_token(exchange, Scope.REGISTRY_READ)
        with pytest.raises(RuntimeError, match="insufficient_scope"):
            announce_services(provider.settings, exchange.central_urls["MA"], token)
