"""Exchanges across the border between two federated instances, MA and QA.

Each instance has its own central (CA, configuration, TSA). The centrals list each other
as federation partners, so each gateway holds both configurations: a QA gateway finds the
MA provider's gateway, trusts its TLS certificate and checks its signatures, and the MA
provider gateway does the same for the QA consumer. Access is the MA provider's call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jisr.exchange.gateway.registry import GatewayRegistry
from tests.exchange.gateway.conftest import (
    BACKENDS,
    PROVIDER,
    SERVICE,
    civil_registry,
    connections,
    federation_on,
)
from tests.exchange.gateway.harness import Federation

QA_GATEWAY = "QA/GOV/MOEHE/GW1"
ADMISSIONS = "QA/GOV/MOEHE/ADMISSIONS"  # granted birth-record by the MA provider
LIBRARY = "QA/GOV/MOEHE/LIBRARY"  # granted nothing
REGISTRAR = "QA/GOV/MOEHE/REGISTRAR"  # granted by a test, while everything runs
RECORD = f"/r1/{SERVICE}/birth-record/birth-records/MA7654321"


@pytest.fixture(scope="module", params=BACKENDS)
def border(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    """Centrals MA and QA, federated; the MA civil registry's gateway; a QA gateway."""
    with federation_on(request.param, request, tmp_path_factory) as federation:
        federation.central("MA", [("GOV", "CIVIL-REGISTRY")])
        federation.central("QA", [("GOV", "MOEHE")])
        federation.federate("MA", "QA")
        backend = federation.backend()
        federation.gateway(PROVIDER, ["REGISTRY"], civil_registry(backend, [ADMISSIONS]))
        federation.gateway(
            QA_GATEWAY,
            ["ADMISSIONS", "LIBRARY", "REGISTRAR"],
            connections((ADMISSIONS, "none"), (LIBRARY, "none"), (REGISTRAR, "none")),
        )
        yield federation


def call(federation: Federation, client: str, xroad_id: str) -> httpx.Response:
    url = f"{federation.gateways[QA_GATEWAY].url}{RECORD}"
    headers = {"X-Road-Client": client, "X-Road-Id": xroad_id}
    return httpx.get(url, headers=headers, timeout=30)


def logged(federation: Federation, gateway: str, xroad_id: str) -> list[Any]:
    return [
        (r.record.kind, r.record.client, r.record.error)
        for r in federation.gateways[gateway].records(xroad_id)
    ]


class TestAcrossTheBorder:
    def test_granted_qa_client_reads_an_ma_birth_record(self, border: Federation) -> None:
        """QA/GOV/MOEHE/ADMISSIONS, granted by the MA provider, gets the record through
        both gateways; both message logs hold the exchange under the QA client."""
        response = call(border, ADMISSIONS, "border-granted")
        assert response.status_code == 200, response.text
        assert response.json()["name"]["lat"] == "Amina El Idrissi"
        assert response.headers["x-road-client"] == ADMISSIONS
        assert response.headers["x-road-service"] == f"{SERVICE}/birth-record"
        expected = [("request", ADMISSIONS, None), ("response", ADMISSIONS, None)]
        assert logged(border, QA_GATEWAY, "border-granted") == expected
        assert logged(border, PROVIDER, "border-granted") == expected

    def test_qa_client_not_granted_is_denied(self, border: Federation) -> None:
        """QA/GOV/MOEHE/LIBRARY, granted nothing: the MA provider answers
        Server.ServerProxy.AccessDenied, and both gateways log the refusal."""
        response = call(border, LIBRARY, "border-denied")
        assert response.status_code == 500
        assert response.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
        assert response.json()["type"] == "Server.ServerProxy.AccessDenied"
        assert LIBRARY in response.json()["message"]
        code = "Server.ServerProxy.AccessDenied"
        expected = [("request", LIBRARY, None), ("response", LIBRARY, code)]
        assert logged(border, QA_GATEWAY, "border-denied") == expected
        assert logged(border, PROVIDER, "border-denied") == expected

    def test_grant_opens_the_border(self, border: Federation) -> None:
        """Denied before the MA provider grants the QA client, served right after."""
        before = call(border, REGISTRAR, "border-before")
        assert before.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"

        async def grant(reg: GatewayRegistry) -> None:
            await reg.grant(SERVICE, "birth-record", "client", REGISTRAR)

        border.gateways[PROVIDER].configure(grant)
        response = call(border, REGISTRAR, "border-after")
        assert response.status_code == 200, response.text
        assert response.json()["national_id"] == "MA7654321"

    def test_qa_gateway_lists_ma_clients(self, border: Federation) -> None:
        """listClients on the QA gateway with xRoadInstance=MA lists the MA registry (from
        the federated configuration), and with no filter both instances."""
        base = f"{border.gateways[QA_GATEWAY].url}/listClients"
        headers = {"Accept": "application/json"}
        ma = httpx.get(f"{base}?xRoadInstance=MA", headers=headers, timeout=30).json()
        listed = {
            "/".join([i["id"]["xroad_instance"], i["id"]["member_code"]])
            + (f"/{i['id']['subsystem_code']}" if "subsystem_code" in i["id"] else "")
            for i in ma["member"]
        }
        assert listed == {"MA/CIVIL-REGISTRY", "MA/CIVIL-REGISTRY/REGISTRY"}
        both = httpx.get(base, headers=headers, timeout=30).json()["member"]
        assert {i["id"]["xroad_instance"] for i in both} == {"MA", "QA"}
