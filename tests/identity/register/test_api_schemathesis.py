"""Property-based testing of the register's data API: every operation of its OpenAPI
document, valid and invalid data, as an X-Road client — never a 5xx, always as documented."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
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

from jisr.crypto.keys import PrivateKey
from jisr.identity.register import MoroccoNin, PopulationRegister, migrate
from jisr.identity.register.api import create_register_api
from jisr.storage import Database
from tests.identity.register.test_api import BASE, GATEWAY, LEGAL, create_body
from tests.servers import serve_in_thread

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.slow


@pytest.fixture
def served(database_url: str, register_key: PrivateKey) -> Iterator[str]:
    """The API under uvicorn with one enrolled person; its database lives in the server loop."""
    migrate(database_url)
    database = Database(database_url)
    register = PopulationRegister(database, profile=MoroccoNin("BK"), key=register_key)
    app = create_register_api(register, legal_basis=LEGAL)
    app.router.on_shutdown.append(database.close)
    with serve_in_thread(app) as url:
        created = httpx.post(f"{url}{BASE}/create", json=create_body(), headers=GATEWAY)
        assert created.status_code == 200, created.text
        yield url


def test_every_register_operation_conforms(served: str) -> None:
    """Random positive and negative requests against each operation of the data API."""
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5

    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=served, headers=GATEWAY, checks=CHECKS, timeout=10)

        conforms()
