"""Property-based testing of the register's data API: every operation of its OpenAPI
document, valid and invalid data, as an X-Road client — never a 5xx, always as documented."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from jisr.crypto.keys import PrivateKey
from jisr.identity.register import MoroccoNin, PopulationRegister, migrate
from jisr.identity.register.api import create_register_api
from jisr.storage import Database
from tests.identity.register.test_api import BASE, GATEWAY, LEGAL, create_body
from tests.openapi_fuzz import fuzz_every_operation
from tests.servers import serve_in_thread

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
    assert fuzz_every_operation(served, max_examples=30, headers=GATEWAY) == 5
