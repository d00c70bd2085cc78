"""Property-based testing of the language API: every operation of its OpenAPI document,
valid and invalid data — never a 5xx, always the documented status, type and schema."""

from __future__ import annotations

from collections.abc import Iterator

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

from jisr.language.api import create_language_app
from jisr.language.names import NameIndex
from tests.servers import serve_in_thread

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index_file = tmp_path_factory.mktemp("names") / "index.bin"
    NameIndex.build(["محمد بن علي", "Youssef El Idrissi"]).save(index_file)
    with serve_in_thread(create_language_app(names_index=index_file)) as url:
        yield url


def test_every_language_operation_conforms(served: str) -> None:
    """Random positive and negative requests against each language and catalogue route."""
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7

    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=served, checks=CHECKS, timeout=30)

        conforms()
