"""Property-based API testing: schemathesis drives every operation of the central's
OpenAPI document over real HTTP, on both backends, with valid and invalid data. No input
may produce a 5xx, and every response must match the documented status codes, media types
and schemas."""

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

from tests.exchange.central.conftest import Running

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25

# RFC 3161 queries are DER bytes: send generated bodies as raw binary.
schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")

pytestmark = pytest.mark.slow


def test_every_operation_conforms(running_central: Running) -> None:
    """For each operation, random positive and negative requests with an admin token:
    never a 5xx, always a documented status, media type and body schema."""
    schema = schemathesis.openapi.from_url(f"{running_central.url}/openapi.json")
    headers = {"Authorization": f"Bearer {running_central.admin}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=running_central.url, headers=headers, checks=CHECKS, timeout=10
            )

        conforms()
