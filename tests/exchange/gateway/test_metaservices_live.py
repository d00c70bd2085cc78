"""The metaservices through real gateways: listClients (PR-META §2) answered by the consumer
face, listMethods / allowedMethods / getOpenAPI (PR-MREST §3, §4) travelling signed to the
provider face like any service."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from jisr.exchange.gateway.registry import GatewayRegistry
from tests.exchange.gateway.conftest import CLIENT, CONSUMER, SERVICE
from tests.exchange.gateway.harness import Federation

OTHER = "MA/GOV/INTERIOR/OTHER"
ID_NS = "{http://x-road.eu/xsd/identifiers}"
XROAD_NS = "{http://x-road.eu/xsd/xroad.xsd}"
ALL_CLIENTS = {
    "MA/GOV/CIVIL-REGISTRY",
    "MA/GOV/CIVIL-REGISTRY/REGISTRY",
    "MA/GOV/INTERIOR",
    "MA/GOV/INTERIOR/OTHER",
    "MA/GOV/INTERIOR/RESIDENCE",
}
EVERY_ENDPOINT = [{"method": "*", "path": "/**"}]


@pytest.fixture(scope="module")
def meta(exchange: Federation) -> Federation:
    """The ``exchange`` federation, with OTHER (granted nothing) connecting in mode none."""

    async def none_for_other(reg: GatewayRegistry) -> None:
        await reg.set_connection(OTHER, "none")

    exchange.gateways[CONSUMER].configure(none_for_other)
    return exchange


def get(federation: Federation, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    url = f"{federation.gateways[CONSUMER].url}{path}"
    return httpx.get(url, headers=headers or {}, timeout=30)


def metaservice(federation: Federation, code: str, client: str = CLIENT) -> httpx.Response:
    return get(federation, f"/r1/{SERVICE}/{code}", {"X-Road-Client": client})


def json_client(item: dict[str, Any]) -> str:
    ident = item["id"]
    parts = [ident["xroad_instance"], ident["member_class"], ident["member_code"]]
    return "/".join(parts + ([ident["subsystem_code"]] if "subsystem_code" in ident else []))


def service_codes(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return [service["service_code"] for service in response.json()["service"]]


class TestListClients:
    def test_json_when_asked_for(self, meta: Federation) -> None:
        """Accept: application/json lists every member and subsystem of the instance in
        X-Road's JSON, members typed MEMBER and subsystems SUBSYSTEM."""
        response = get(meta, "/listClients", {"Accept": "application/json"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        members = response.json()["member"]
        assert {json_client(item) for item in members} == ALL_CLIENTS
        types = {json_client(i): i["id"]["object_type"] for i in members}
        assert types["MA/GOV/INTERIOR"] == "MEMBER"
        assert types["MA/GOV/INTERIOR/RESIDENCE"] == "SUBSYSTEM"
        assert all(item["name"] for item in members)

    def test_xml_by_default(self, meta: Federation) -> None:
        """Without Accept the answer is the clientList XML of PR-META Annex A."""
        response = get(meta, "/listClients")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/xml; charset=utf-8"
        root = ET.fromstring(response.content)  # noqa: S314 -- our own gateway's document
        assert root.tag == f"{XROAD_NS}clientList"
        listed = set()
        for member in root.findall(f"{XROAD_NS}member"):
            ident = member.find(f"{XROAD_NS}id")
            assert ident is not None
            tags = ("xRoadInstance", "memberClass", "memberCode", "subsystemCode")
            parts = [e.text for t in tags if (e := ident.find(f"{ID_NS}{t}")) is not None]
            listed.add("/".join(p for p in parts if p))
        assert listed == ALL_CLIENTS

    def test_instance_filter(self, meta: Federation) -> None:
        """``xRoadInstance`` picks an instance: MA lists everything, an instance this
        gateway does not know lists nothing."""
        own = get(meta, "/listClients?xRoadInstance=MA", {"Accept": "application/json"})
        assert {json_client(item) for item in own.json()["member"]} == ALL_CLIENTS
        other = get(meta, "/listClients?xRoadInstance=QA", {"Accept": "application/json"})
        assert other.status_code == 200
        assert other.json() == {"member": []}

    def test_invalid_instance_filter(self, meta: Federation) -> None:
        """A filter outside the §4.8 alphabet is Client.BadRequest."""
        response = get(meta, "/listClients?xRoadInstance=M*A")
        assert response.status_code == 400
        assert response.headers["x-road-error"] == "Client.BadRequest"


class TestProviderMetaservices:
    def test_list_methods(self, meta: Federation) -> None:
        """listMethods lists every service of the provider subsystem, with its type and
        endpoints, and travels like a service (X-Road headers on the answer)."""
        response = metaservice(meta, "listMethods")
        assert service_codes(response) == ["birth-record", "closed", "down", "echo", "slow"]
        services = {s["service_code"]: s for s in response.json()["service"]}
        assert services["birth-record"]["service_type"] == "OPENAPI"
        assert services["echo"] == {
            "member_class": "GOV",
            "member_code": "CIVIL-REGISTRY",
            "object_type": "SERVICE",
            "service_code": "echo",
            "service_type": "REST",
            "subsystem_code": "REGISTRY",
            "xroad_instance": "MA",
            "endpoint_list": EVERY_ENDPOINT,
        }
        assert response.headers["x-road-service"] == f"{SERVICE}/listMethods"
        assert "x-road-request-hash" in response.headers

    def test_list_methods_needs_no_access_right(self, meta: Federation) -> None:
        """A client granted nothing may still ask what the provider offers."""
        response = metaservice(meta, "listMethods", client=OTHER)
        assert service_codes(response) == ["birth-record", "closed", "down", "echo", "slow"]

    def test_allowed_methods_of_the_granted_client(self, meta: Federation) -> None:
        """allowedMethods for RESIDENCE: every service granted to it."""
        response = metaservice(meta, "allowedMethods")
        assert service_codes(response) == ["birth-record", "closed", "down", "echo", "slow"]
        assert all(s["endpoint_list"] == EVERY_ENDPOINT for s in response.json()["service"])

    def test_allowed_methods_of_a_client_granted_nothing(self, meta: Federation) -> None:
        """allowedMethods for OTHER: an empty list, not a fault."""
        response = metaservice(meta, "allowedMethods", client=OTHER)
        assert service_codes(response) == []

    def test_get_openapi(self, meta: Federation) -> None:
        """getOpenAPI?serviceCode=birth-record: the description the provider fetched from
        its backend, with the backend's media type."""
        response = metaservice(meta, "getOpenAPI?serviceCode=birth-record")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        document = response.json()
        assert document["info"]["title"] == "Civil registry"
        assert "/birth-records/{nid}" in document["paths"]
        assert response.headers["x-road-service"] == f"{SERVICE}/getOpenAPI"

    def test_get_openapi_of_a_service_without_description(self, meta: Federation) -> None:
        """A service registered without a description: Server.ServerProxy.UnknownService."""
        response = metaservice(meta, "getOpenAPI?serviceCode=echo")
        assert response.status_code == 500
        assert response.headers["x-road-error"] == "Server.ServerProxy.UnknownService"

    def test_get_openapi_without_service_code(self, meta: Federation) -> None:
        """No serviceCode: Client.BadRequest from the provider, passed through (400)."""
        response = metaservice(meta, "getOpenAPI")
        assert response.status_code == 400
        assert response.headers["x-road-error"] == "Client.BadRequest"
        assert "serviceCode" in response.json()["message"]
