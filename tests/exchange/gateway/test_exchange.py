"""End-to-end exchanges through two real gateways (mutual TLS, signatures, durable logs)."""

from __future__ import annotations

import json

import httpx

from tests.exchange.gateway.conftest import CLIENT, CONSUMER, SERVICE
from tests.exchange.gateway.harness import Federation


def call(federation: Federation, method: str, path: str, **kwargs: object) -> httpx.Response:
    gateway = federation.gateways[CONSUMER]
    headers = {"X-Road-Client": CLIENT, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.request(method, f"{gateway.url}{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


class TestExchange:
    def test_get_birth_record(self, exchange: Federation) -> None:
        """A GET crosses both gateways and returns the backend's answer with X-Road headers."""
        response = call(exchange, "GET", f"/r1/{SERVICE}/birth-record/birth-records/MA1234567")
        assert response.status_code == 200, response.text
        assert response.json()["name"]["ar"] == "يوسف العلوي"
        assert response.headers["x-road-client"] == CLIENT
        assert response.headers["x-road-service"] == f"{SERVICE}/birth-record"
        assert response.headers["x-source"] == "MA civil registry"
        assert "x-road-request-hash" in response.headers
        assert "signature" not in response.headers

    def test_post_echo_body_and_headers(self, exchange: Federation) -> None:
        """Bodies and user headers pass through; X-Road headers reach the backend."""
        payload = {"hello": "مرحبا", "n": 1}
        response = call(
            exchange,
            "POST",
            f"/r1/{SERVICE}/echo/some/path?x=1",
            json=payload,
            headers={"X-Road-Id": "abc-123", "X-Road-UserId": "MA1234567", "X-Custom": "kept"},
        )
        assert response.status_code == 200, response.text
        assert response.json() == payload
        seen = json.loads(response.headers["x-seen"])
        assert seen["x-road-client"] == CLIENT
        assert seen["x-road-id"] == "abc-123"
        assert response.headers["x-path"] == "/echo/some/path"
        assert response.headers["x-road-id"] == "abc-123"
