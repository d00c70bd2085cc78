"""Property-based conformance of a live API to its own OpenAPI document (schemathesis).

For every operation, random positive and negative requests: never a 5xx, always a
documented status code, media type and body schema.
"""

from __future__ import annotations

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

__all__ = ["CHECKS", "fuzz_every_operation"]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz_every_operation(
    base_url: str,
    *,
    max_examples: int,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> int:
    """Fuzz each operation of ``base_url``/openapi.json (derandomised, no example
    database); return how many operations the document has."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=base_url, headers=headers, checks=CHECKS, timeout=timeout
            )

        conforms()
    return len(operations)
