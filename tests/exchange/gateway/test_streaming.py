"""Large bodies stream through both gateways without being held in memory.

A 200 MB request goes from a generator through the consumer and provider gateways to the
echo service, and the 200 MB answer comes back as a stream. Every server of the federation
runs in a thread of this process, so ``tracemalloc`` sees all of their Python allocations:
the peak must stay far below the body size (the gateways spool bodies to disk, docs/
gateway.md steps 2 and 6).
"""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from tests.exchange.gateway.conftest import (
    CLIENT,
    CONSUMER,
    PROVIDER,
    SERVICE,
    civil_registry,
    connections,
    federation_on,
)
from tests.exchange.gateway.harness import Federation

SIZE = 200 * 1024 * 1024
CHUNK = 64 * 1024
MEMORY_LIMIT = 64 * 1024 * 1024
# Generous bounds for slow machines; tracemalloc slows every allocation down.
TIMEOUT = httpx.Timeout(600.0, connect=10.0)
GATEWAY_TIMEOUT = 600.0


@pytest.fixture(scope="module")
def streaming(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    """The two-gateway exchange on SQLite, with timeouts long enough for 200 MB bodies."""
    with federation_on("sqlite", request, tmp_path_factory) as federation:
        federation.central("MA", [("GOV", "CIVIL-REGISTRY"), ("GOV", "INTERIOR")])
        backend = federation.backend()
        federation.gateway(
            PROVIDER,
            ["REGISTRY"],
            civil_registry(backend),
            request_timeout=GATEWAY_TIMEOUT,
        )
        federation.gateway(
            CONSUMER,
            ["RESIDENCE"],
            connections((CLIENT, "none")),
            request_timeout=GATEWAY_TIMEOUT,
        )
        yield federation


def body(digest: hashlib._Hash) -> Iterator[bytes]:
    """SIZE random bytes in CHUNK pieces, hashed as they are produced."""
    for _ in range(SIZE // CHUNK):
        chunk = os.urandom(CHUNK)
        digest.update(chunk)
        yield chunk


@pytest.mark.slow
def test_200_mb_round_trip_in_bounded_memory(streaming: Federation) -> None:
    """200 MB up and 200 MB back through both gateways: the bytes are identical
    (SHA-256) and the process's traced memory peak stays under 64 MiB."""
    url = f"{streaming.gateways[CONSUMER].url}/r1/{SERVICE}/echo/large"
    headers = {"X-Road-Client": CLIENT, "Content-Type": "application/octet-stream"}
    sent, received = hashlib.sha256(), hashlib.sha256()
    size = 0
    tracemalloc.start()
    try:
        with (
            httpx.Client(timeout=TIMEOUT) as client,
            client.stream("POST", url, headers=headers, content=body(sent)) as response,
        ):
            assert response.status_code == 200, response.read()
            for chunk in response.iter_raw():
                received.update(chunk)
                size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == SIZE
    assert received.hexdigest() == sent.hexdigest()
    assert peak < MEMORY_LIMIT, f"peak traced memory {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("attempt", range(5))
def test_service_answering_before_reading_the_body(streaming: Federation, attempt: int) -> None:
    """A 4 MiB body to a service that answers at once without reading it: its answer comes
    back whole, and the gateway drops the unread rest of the request."""
    url = f"{streaming.gateways[CONSUMER].url}/r1/{SERVICE}/birth-record/birth-records/MA1234567"
    response = httpx.request(
        "GET",  # the route answers GET only; a GET may carry a body
        url,
        headers={"X-Road-Client": CLIENT},
        content=os.urandom(4 * 1024 * 1024),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert response.json()["national_id"] == "MA1234567"
