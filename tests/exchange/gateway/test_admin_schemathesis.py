"""Property-based testing of the gateway's admin API: every operation of its OpenAPI
document, valid and invalid data, an admin token — never a 5xx, always as documented."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.modes import GenerationMode

from jisr.exchange.gateway.admin import GatewayScope
from tests.exchange.gateway.conftest import PROVIDER
from tests.exchange.gateway.harness import Federation
from tests.exchange.gateway.test_admin import token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.slow


def test_every_admin_operation_conforms(exchange: Federation) -> None:
    """Random positive and negative requests against each operation of the admin API."""
    provider = exchange.gateways[PROVIDER]
    base = f"http://127.0.0.1:{provider.settings.admin_port}"
    headers = {"Authorization": f"Bearer {token(provider, 'fuzzer', GatewayScope.ADMIN)}"}
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=20,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=10)

        conforms()
