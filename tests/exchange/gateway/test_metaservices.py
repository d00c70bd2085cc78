"""Tests for jisr.exchange.gateway.metaservices: listClients (PR-META), listMethods,
allowedMethods and getOpenAPI (PR-MREST)."""

from __future__ import annotations

import contextlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jisr.exchange.gateway.errors import BadRequest
from jisr.exchange.gateway.metaservices import (
    METASERVICES,
    ClientInfo,
    ServiceInfo,
    allowed_methods,
    get_openapi,
    list_clients,
    list_clients_instance,
    list_methods,
    openapi_service_code,
)
from jisr.ids import MemberId, ServiceId, SubsystemId

ID_NS = "{http://x-road.eu/xsd/identifiers}"
XROAD_NS = "{http://x-road.eu/xsd/xroad.xsd}"

# PR-META Annex C.1, the members and subsystem of instance AA.
C1_CLIENTS = [
    ClientInfo(MemberId("AA", "GOV", "TS1OWNER"), "TS1 Owner"),
    ClientInfo(MemberId("AA", "GOV", "TS2OWNER"), "TS2 Owner"),
    ClientInfo(MemberId("AA", "ENT", "CLIENT1"), "Client One"),
    ClientInfo(SubsystemId("AA", "ENT", "CLIENT1", "sub"), "Client One", "Client One Sub"),
]

C1_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns2:clientList
        xmlns:ns1="http://x-road.eu/xsd/identifiers"
        xmlns:ns2="http://x-road.eu/xsd/xroad.xsd">
    <ns2:member>
        <ns2:id ns1:objectType="MEMBER">
            <ns1:xRoadInstance>AA</ns1:xRoadInstance>
            <ns1:memberClass>GOV</ns1:memberClass>
            <ns1:memberCode>TS1OWNER</ns1:memberCode>
        </ns2:id>
        <ns2:name>TS1 Owner</ns2:name>
    </ns2:member>
    <ns2:member>
        <ns2:id ns1:objectType="MEMBER">
            <ns1:xRoadInstance>AA</ns1:xRoadInstance>
            <ns1:memberClass>GOV</ns1:memberClass>
            <ns1:memberCode>TS2OWNER</ns1:memberCode>
        </ns2:id>
        <ns2:name>TS2 Owner</ns2:name>
    </ns2:member>
    <ns2:member>
        <ns2:id ns1:objectType="MEMBER">
            <ns1:xRoadInstance>AA</ns1:xRoadInstance>
            <ns1:memberClass>ENT</ns1:memberClass>
            <ns1:memberCode>CLIENT1</ns1:memberCode>
        </ns2:id>
        <ns2:name>Client One</ns2:name>
    </ns2:member>
    <ns2:member>
        <ns2:id ns1:objectType="SUBSYSTEM">
            <ns1:xRoadInstance>AA</ns1:xRoadInstance>
            <ns1:memberClass>ENT</ns1:memberClass>
            <ns1:memberCode>CLIENT1</ns1:memberCode>
            <ns1:subsystemCode>sub</ns1:subsystemCode>
        </ns2:id>
        <ns2:name>Client One</ns2:name>
        <ns2:subsystemName>Client One Sub</ns2:subsystemName>
    </ns2:member>
</ns2:clientList>
"""

C1_JSON: dict[str, Any] = {
    "member": [
        {
            "id": {
                "member_class": "GOV",
                "member_code": "TS1OWNER",
                "object_type": "MEMBER",
                "xroad_instance": "AA",
            },
            "name": "TS1 Owner",
        },
        {
            "id": {
                "member_class": "GOV",
                "member_code": "TS2OWNER",
                "object_type": "MEMBER",
                "xroad_instance": "AA",
            },
            "name": "TS2 Owner",
        },
        {
            "id": {
                "member_class": "ENT",
                "member_code": "CLIENT1",
                "object_type": "MEMBER",
                "xroad_instance": "AA",
            },
            "name": "Client One",
        },
        {
            "id": {
                "member_class": "ENT",
                "member_code": "CLIENT1",
                "subsystem_code": "sub",
                "object_type": "SUBSYSTEM",
                "xroad_instance": "AA",
            },
            "name": "Client One",
            "subsystem_name": "Client One Sub",
        },
    ]
}


def _endpoints(*pairs: str) -> list[tuple[str, str]]:
    return [(pair.split(" ")[0], pair.split(" ")[1]) for pair in pairs]


PROVIDER = SubsystemId("INSTANCE", "CLASS2", "MEMBER2", "SUBSYSTEM2")
PAYLOADGEN_ALL = _endpoints(
    "PUT /pet",
    "POST /pet",
    "GET /pet/findByStatus",
    "GET /pet/findByTags",
    "GET /pet/*",
    "POST /pet/*",
    "DELETE /pet/*",
    "POST /pet/*/uploadImage",
    "GET /store/inventory",
    "POST /store/order",
    "GET /store/order/*",
    "DELETE /store/order/*",
    "POST /user",
    "POST /user/createWithList",
    "GET /user/login",
    "GET /user/logout",
    "GET /user/*",
    "PUT /user/*",
    "DELETE /user/*",
)
KORE = ServiceInfo(
    PROVIDER.service("kore"), "REST", _endpoints("GET /school", "PUT /school", "POST /school")
)
PAYLOADGEN = ServiceInfo(PROVIDER.service("payloadgen"), "OPENAPI", PAYLOADGEN_ALL)


def _b1_service(code: str, kind: str, endpoints: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """One service as PR-MREST Annex B prints it, keys in the same order."""
    return {
        "member_class": "CLASS2",
        "member_code": "MEMBER2",
        "object_type": "SERVICE",
        "service_code": code,
        "service_type": kind,
        "subsystem_code": "SUBSYSTEM2",
        "xroad_instance": "INSTANCE",
        "endpoint_list": [{"method": method, "path": path} for method, path in endpoints],
    }


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    return dict(raw)


def _client_rows(body: bytes) -> list[tuple[str, tuple[str, ...], str, str | None]]:
    """(objectType, id parts, name, subsystemName) of each member of a clientList."""
    root = ET.fromstring(body)  # noqa: S314 -- the spec's or our own document
    assert root.tag == f"{XROAD_NS}clientList"
    rows = []
    for member in root.findall(f"{XROAD_NS}member"):
        identifier = member.find(f"{XROAD_NS}id")
        assert identifier is not None
        rows.append(
            (
                identifier.attrib[f"{ID_NS}objectType"],
                tuple(child.text or "" for child in identifier),
                member.findtext(f"{XROAD_NS}name") or "",
                member.findtext(f"{XROAD_NS}subsystemName"),
            )
        )
    return rows


class TestListClients:
    def test_json_matches_annex_c1(self) -> None:
        """PR-META C.1 JSON: the same entries, id keys in the same order, sorted by id."""
        status, raw, body = list_clients(C1_CLIENTS, "application/json")
        document = json.loads(body)
        assert status == 200
        assert _headers(raw)[b"content-type"] == b"application/json; charset=utf-8"
        assert _headers(raw)[b"content-length"] == str(len(body)).encode()
        assert sorted(document["member"], key=json.dumps) == sorted(
            C1_JSON["member"], key=json.dumps
        )
        for ours in document["member"]:
            theirs = next(item for item in C1_JSON["member"] if item == ours)
            assert list(ours["id"]) == list(theirs["id"])
        codes = [(m["id"]["member_class"], m["id"]["member_code"]) for m in document["member"]]
        assert codes == sorted(codes)

    def test_xml_matches_annex_c1(self) -> None:
        """PR-META C.1 XML: same namespaces, elements and values as the spec's document."""
        status, raw, body = list_clients(C1_CLIENTS, None)
        assert status == 200
        assert _headers(raw)[b"content-type"] == b"text/xml; charset=utf-8"
        assert body.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
        assert sorted(_client_rows(body)) == sorted(_client_rows(C1_XML.encode()))

    @pytest.mark.parametrize(
        ("accept", "media_type"),
        [
            (None, b"text/xml"),
            ("*/*", b"text/xml"),
            ("text/xml", b"text/xml"),
            ("application/xml", b"text/xml"),
            ("application/json", b"application/json"),
            ("application/*", b"text/xml"),
            ("application/json;q=0.5, text/xml", b"text/xml"),
            ("text/xml;q=0.5, application/json", b"application/json"),
            ("application/json, */*;q=0.1", b"application/json"),
        ],
    )
    def test_format_follows_accept(self, accept: str | None, media_type: bytes) -> None:
        """PR-META §2: JSON when asked for (rated above XML), text/xml otherwise."""
        _, raw, _ = list_clients(C1_CLIENTS, accept)
        assert _headers(raw)[b"content-type"] == media_type + b"; charset=utf-8"

    def test_instance_filter(self) -> None:
        """PR-META §2 xRoadInstance: only the clients of that instance."""
        clients = [*C1_CLIENTS, ClientInfo(MemberId("BB", "GOV", "X"), "Other instance")]
        _, _, body = list_clients(clients, "application/json", instance="BB")
        assert [m["id"]["xroad_instance"] for m in json.loads(body)["member"]] == ["BB"]

    def test_empty_list(self) -> None:
        """No clients is an empty list, in both forms."""
        assert json.loads(list_clients([], "application/json")[2]) == {"member": []}
        assert _client_rows(list_clients([], None)[2]) == []

    def test_names_are_escaped(self) -> None:
        """Names are free text: markup and controls cannot break the document."""
        name = 'A & B <Ltd> \x01 "quoted"'
        _, _, body = list_clients([ClientInfo(MemberId("AA", "GOV", "X"), name)], None)
        assert _client_rows(body)[0][2] == 'A & B <Ltd> \ufffd "quoted"'
        _, _, body = list_clients(
            [ClientInfo(MemberId("AA", "GOV", "X"), name)], "application/json"
        )
        assert json.loads(body)["member"][0]["name"] == name

    @pytest.mark.parametrize(
        ("query", "instance"),
        [
            (b"", None),
            (b"xRoadInstance=AA", "AA"),
            (b"instanceId=AA", "AA"),
            (b"xRoadInstance=AA&instanceId=AA", "AA"),
            (b"other=1&xRoadInstance=A%2BB", "A+B"),
            (b"xRoadInstance=A+B", "A+B"),
        ],
    )
    def test_instance_parameter(self, query: bytes, instance: str | None) -> None:
        """xRoadInstance (PR-META) or GovStack's instanceId; '+' is a '+', not a space."""
        assert list_clients_instance(query) == instance

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            (b"xRoadInstance=AA&xRoadInstance=BB", "several instances"),
            (b"xRoadInstance=AA&instanceId=BB", "several instances"),
            (b"xRoadInstance=", "must not be empty"),
            (b"xRoadInstance=A%2FB", "character '/'"),
            (b"xRoadInstance=%zz", "invalid percent-escape"),
            (b"xRoadInstance=%FF", "not UTF-8"),
        ],
    )
    def test_instance_parameter_refused(self, query: bytes, message: str) -> None:
        """Ambiguous (parameter pollution, §4.2 HPP) or invalid instances are Client.BadRequest."""
        with pytest.raises(BadRequest, match=message):
            list_clients_instance(query)


class TestListMethods:
    def test_matches_annex_b1(self) -> None:
        """PR-MREST B.1: the services with their endpoints, keys in the spec's order."""
        status, raw, body = list_methods([PAYLOADGEN, KORE])
        document = json.loads(body)
        expected = [
            _b1_service("payloadgen", "OPENAPI", PAYLOADGEN_ALL),
            _b1_service("kore", "REST", KORE.endpoints),
        ]
        assert status == 200
        assert _headers(raw)[b"content-type"] == b"application/json; charset=utf-8"
        assert list(document) == ["service"]
        assert sorted(document["service"], key=json.dumps) == sorted(expected, key=json.dumps)
        assert all(list(ours) == list(expected[0]) for ours in document["service"])

    def test_matches_annex_b2(self) -> None:
        """PR-MREST B.2: allowedMethods has the same form, with what the caller may call."""
        allowed = ServiceInfo(
            PAYLOADGEN.id,
            "OPENAPI",
            _endpoints("GET /pet/findByStatus", "GET /pet/findByTags", "GET /pet/*"),
        )
        document = json.loads(allowed_methods([allowed])[2])
        assert document == {
            "service": [
                _b1_service(
                    "payloadgen",
                    "OPENAPI",
                    _endpoints("GET /pet/findByStatus", "GET /pet/findByTags", "GET /pet/*"),
                )
            ]
        }

    @pytest.mark.parametrize("code", sorted(METASERVICES | {"getWsdl"}))
    def test_metaservices_are_not_listed(self, code: str) -> None:
        """PR-MREST §3: the response SHALL NOT contain the names of the metainfo services."""
        services = [KORE, ServiceInfo(PROVIDER.service(code), "REST")]
        for build in (list_methods, allowed_methods):
            listed = json.loads(build(services)[2])["service"]
            assert [item["service_code"] for item in listed] == ["kore"]

    def test_member_level_service_has_no_subsystem_key(self) -> None:
        """Like X-Road (null fields left out), a member's own service has no subsystem_code."""
        service = ServiceInfo(ServiceId("I", "C", "M", None, "svc"), "REST", [("GET", "/")])
        (item,) = json.loads(list_methods([service])[2])["service"]
        assert "subsystem_code" not in item
        assert item["xroad_instance"] == "I"

    def test_sorted_by_service_id(self) -> None:
        """The order does not depend on the registry's."""
        listed = json.loads(list_methods([PAYLOADGEN, KORE])[2])["service"]
        assert [item["service_code"] for item in listed] == ["kore", "payloadgen"]

    def test_endpoint_order_is_kept(self) -> None:
        """Endpoints stay in the order the provider registered them (as in B.1)."""
        (item,) = json.loads(list_methods([PAYLOADGEN])[2])["service"]
        assert [(e["method"], e["path"]) for e in item["endpoint_list"]] == PAYLOADGEN_ALL


class TestServiceInfo:
    def test_service_type_is_checked(self) -> None:
        """Only REST and OPENAPI exist (PR-MREST Annex B)."""
        with pytest.raises(ValueError, match="service_type"):
            ServiceInfo(PROVIDER.service("x"), "SOAP")

    def test_endpoints_are_frozen(self) -> None:
        """A list given becomes a tuple: the info is hashable and cannot change later."""
        info = ServiceInfo(PROVIDER.service("x"), "REST", [("GET", "/a")])
        assert info.endpoints == (("GET", "/a"),)
        assert hash(info) == hash(ServiceInfo(PROVIDER.service("x"), "REST", [("GET", "/a")]))


B3_YAML = b"""openapi: "3.0.0"
info:
  version: 1.0.0
  title: Firm listing
servers:
  - url: https://example.com
paths: {}
"""


class TestGetOpenAPI:
    def test_description_is_returned_unchanged(self) -> None:
        """PR-MREST B.3: the body is the service description, byte for byte."""
        status, raw, body = get_openapi(B3_YAML, "application/x-yaml")
        assert (status, body) == (200, B3_YAML)
        assert _headers(raw) == {
            b"content-type": b"application/x-yaml",
            b"content-length": str(len(B3_YAML)).encode(),
        }

    @pytest.mark.parametrize(
        ("description", "media_type"),
        [
            (B3_YAML, b"text/yaml; charset=utf-8"),
            (b'  \n{"openapi": "3.0.0"}', b"application/json; charset=utf-8"),
        ],
    )
    def test_media_type_is_guessed(self, description: bytes, media_type: bytes) -> None:
        """Without a stored type: JSON if it starts with '{', YAML otherwise (Annex A)."""
        assert _headers(get_openapi(description)[1])[b"content-type"] == media_type

    @pytest.mark.parametrize("media_type", ["json", "text/yaml\r\nX-Injected: 1", "a/b; é"])
    def test_bad_media_type_refused(self, media_type: str) -> None:
        """A stored type that is not a media type cannot reach the response headers."""
        with pytest.raises(ValueError, match="not a media type"):
            get_openapi(B3_YAML, media_type)

    @pytest.mark.parametrize(
        ("query", "code"),
        [
            (b"serviceCode=listFirms", "listFirms"),
            (b"servicecode=listFirms", "listFirms"),
            (b"a=1&serviceCode=listFirms&serviceCode=listFirms", "listFirms"),
            (b"serviceCode=v1%2B2", "v1+2"),
            (b"serviceCode=v1+2", "v1+2"),
        ],
    )
    def test_service_code_parameter(self, query: bytes, code: str) -> None:
        """PR-MREST §4: serviceCode=xxx names the service (X-Road matches it in any case)."""
        assert openapi_service_code(query) == code

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            (b"", "needs the serviceCode query parameter"),
            (b"service=listFirms", "needs the serviceCode query parameter"),
            (b"serviceCode=a&serviceCode=b", "several service codes"),
            (b"serviceCode=", "must not be empty"),
            (b"serviceCode=a%2F..%2Fb", "character '/'"),
        ],
    )
    def test_service_code_parameter_refused(self, query: bytes, message: str) -> None:
        """A missing, ambiguous or invalid serviceCode is Client.BadRequest."""
        with pytest.raises(BadRequest, match=message):
            openapi_service_code(query)

    @given(st.binary(max_size=60))
    def test_random_queries_only_raise_bad_request(self, query: bytes) -> None:
        """Whatever the query, the parsers answer a code or a Client.BadRequest."""
        for parse in (openapi_service_code, list_clients_instance):
            with contextlib.suppress(BadRequest):
                parse(query)
