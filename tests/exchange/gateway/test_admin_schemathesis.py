"""Property-based testing of the gateway's admin API: every operation of its OpenAPI
document, valid and invalid data, an admin token — never a 5xx, always as documented."""

from __future__ import annotations

import pytest

from jisr.exchange.gateway.admin import GatewayScope
from tests.exchange.gateway.conftest import PROVIDER
from tests.exchange.gateway.harness import Federation
from tests.exchange.gateway.test_admin import token
from tests.openapi_fuzz import fuzz_every_operation

pytestmark = pytest.mark.slow


def test_every_admin_operation_conforms(exchange: Federation) -> None:
    """Random positive and negative requests against each operation of the admin API."""
    provider = exchange.gateways[PROVIDER]
    base = f"http://127.0.0.1:{provider.settings.admin_port}"
    headers = {"Authorization": f"Bearer {token(provider, 'fuzzer', GatewayScope.ADMIN)}"}
    assert fuzz_every_operation(base, max_examples=20, headers=headers) >= 8
