"""Property-based testing of the language API: every operation of its OpenAPI document,
valid and invalid data — never a 5xx, always the documented status, type and schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jisr.language.api import create_language_app
from jisr.language.names import NameIndex
from tests.openapi_fuzz import fuzz_every_operation
from tests.servers import serve_in_thread

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index_file = tmp_path_factory.mktemp("names") / "index.bin"
    NameIndex.build(["محمد بن علي", "Youssef El Idrissi"]).save(index_file)
    with serve_in_thread(create_language_app(names_index=index_file)) as url:
        yield url


def test_every_language_operation_conforms(served: str) -> None:
    """Random positive and negative requests against each language and catalogue route."""
    assert fuzz_every_operation(served, max_examples=25, timeout=30) == 7
