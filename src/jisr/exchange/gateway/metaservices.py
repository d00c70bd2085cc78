"""X-Road metaservices as pure response builders: listClients, listMethods, allowedMethods,
getOpenAPI (PR-META §2, PR-MREST §3-§4). The gateway wires them to HTTP.

Each builder returns ``(status, headers, body)`` with raw ASGI headers (``content-type``
with charset, ``content-length``). The wire formats are the ones X-Road security servers
actually send, which are PR-MREST Annex B and PR-META Annex C.1:

* ``listClients``: ``{"member": [{"id": {"member_class", "member_code",
  ["subsystem_code",] "object_type": "MEMBER"|"SUBSYSTEM", "xroad_instance"}, "name",
  ["subsystem_name"]}]}``, or the ``clientList`` XML of PR-META Annex A. PR-META §2: JSON
  only when asked for (here: ``application/json`` rated above XML in ``Accept``), XML
  (``text/xml``) otherwise, including when ``Accept`` is missing.
* ``listMethods`` / ``allowedMethods``: ``{"service": [{"member_class", "member_code",
  "object_type": "SERVICE", "service_code", "service_type": "REST"|"OPENAPI",
  ["subsystem_code",] "xroad_instance", "endpoint_list": [{"method", "path"}]}]}``, always
  JSON (X-Road has no other form). The metaservices themselves are never listed (§3).
* ``getOpenAPI``: the stored description, unchanged, with its media type.

GovStack Information Mediator (``GovStack_IM_Directory_Services_API.yaml``). Where it
agrees with X-Road, so does Jisr: the paths (``/listClients``,
``/r1/{id}/listMethods|allowedMethods|getOpenAPI``), the ``member`` array and ``id`` /
``name`` of listClients, ``method`` / ``path`` of an endpoint, the ``serviceCode`` query
parameter of getOpenAPI, JSON for the method lists. Where it differs, Jisr follows
X-Road's wire format, which X-Road clients parse today:

* GovStack names fields in camelCase (``instanceId``, ``memberClass``, ``memberCode``,
  ``applicationCode``, ``objectType``, ``serviceCode``, ``serviceType``); X-Road and Jisr
  use snake_case (``xroad_instance``, ``member_class``, ``subsystem_code``...).
* GovStack calls a subsystem an *application* (``objectType: APPLICATION``); Jisr says
  ``SUBSYSTEM``.
* GovStack lists services under ``member`` with ``endpointList: {"member": [...]}`` (as
  PR-MREST Annex A's schema does); X-Road and Jisr use ``service`` and a plain
  ``endpoint_list`` array (Annex B).
* GovStack's listClients filter is ``instanceId``; X-Road's is ``xRoadInstance``.
  ``list_clients_instance`` accepts both.
* GovStack names the client header ``X-GovStack-Client``; Jisr reads ``X-Road-Client``.
* GovStack defines listClients in JSON only; Jisr answers XML by default, as PR-META says.

getOpenAPI: X-Road replaces every ``servers[].url`` without variables by its path, so a
backend's address never leaves the provider gateway. This builder does not parse the
description; the registry must store it with its ``servers`` already anonymised.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import unquote_to_bytes
from xml.sax.saxutils import escape

from jisr.exchange.gateway.errors import JSON_MEDIA_TYPE, BadRequest, accept_quality
from jisr.ids import ClientId, IdentifierError, ServiceId, SubsystemId, validate_part

__all__ = [
    "METASERVICES",
    "SERVICE_TYPES",
    "ClientInfo",
    "ServiceInfo",
    "allowed_methods",
    "get_openapi",
    "list_clients",
    "list_clients_instance",
    "list_methods",
    "openapi_service_code",
]

#: The REST metaservice codes (PR-MREST §3, §4); never listed among a provider's services.
METASERVICES = frozenset({"listMethods", "allowedMethods", "getOpenAPI"})
# SOAP's getWsdl (PR-META §4) is a metaservice too, and hidden as well.
_HIDDEN_SERVICE_CODES = METASERVICES | {"getWsdl"}

#: ``service_type`` values (PR-MREST Annex B): a plain REST service or an OpenAPI one.
SERVICE_TYPES = frozenset({"REST", "OPENAPI"})

_XML_MEDIA_TYPE = "text/xml"
_ID_NS = "http://x-road.eu/xsd/identifiers"
_XROAD_NS = "http://x-road.eu/xsd/xroad.xsd"
_MEDIA_TYPE = re.compile(
    r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+/[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:;[\x20-\x7e]*)?"
)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# XML 1.0 §2.2: characters no document may contain, not even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

Response = tuple[int, list[tuple[bytes, bytes]], bytes]


@dataclasses.dataclass(frozen=True, slots=True)
class ClientInfo:
    """A member or subsystem for listClients.

    ``name`` is the member's name; ``subsystem_name`` the subsystem's, if it has one
    (PR-META Annex A ``subsystemName``).
    """

    id: ClientId
    name: str
    subsystem_name: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A service for listMethods/allowedMethods: id, type, ``(method, path)`` endpoints."""

    id: ServiceId
    service_type: str
    endpoints: Sequence[tuple[str, str]] = ()

    def __post_init__(self) -> None:
        if self.service_type not in SERVICE_TYPES:
            raise ValueError(f"service_type must be one of {sorted(SERVICE_TYPES)}")
        # Frozen means hashable and unchanging: keep the endpoints as a tuple.
        object.__setattr__(self, "endpoints", tuple(self.endpoints))


# --- listClients (PR-META §2) -------------------------------------------------------------


def list_clients(
    entries: Iterable[ClientInfo], accept: str | None, *, instance: str | None = None
) -> Response:
    """The listClients answer: the ``entries`` of ``instance`` (all if ``None``), sorted.

    JSON when ``accept`` rates ``application/json`` above ``text/xml`` and
    ``application/xml``; the ``clientList`` XML otherwise (PR-META §2).
    """
    chosen = sorted(
        (entry for entry in entries if instance is None or entry.id.instance == instance),
        key=lambda entry: entry.id,
    )
    if _prefers_json(accept):
        document = {"member": [_client_json(entry) for entry in chosen]}
        return _json_response(document)
    return _response(_clients_xml(chosen), _XML_MEDIA_TYPE)


def _prefers_json(accept: str | None) -> bool:
    xml = max(accept_quality(accept, "text/xml"), accept_quality(accept, "application/xml"))
    return accept_quality(accept, JSON_MEDIA_TYPE) > xml


def _object_type(client: ClientId) -> str:
    return "SUBSYSTEM" if isinstance(client, SubsystemId) else "MEMBER"


def _client_json(entry: ClientInfo) -> dict[str, Any]:
    client = entry.id
    identifier = {"member_class": client.member_class, "member_code": client.member_code}
    if isinstance(client, SubsystemId):
        identifier["subsystem_code"] = client.subsystem_code
    identifier |= {"object_type": _object_type(client), "xroad_instance": client.instance}
    item: dict[str, Any] = {"id": identifier, "name": entry.name}
    if entry.subsystem_name is not None:
        item["subsystem_name"] = entry.subsystem_name
    return item


def _clients_xml(entries: list[ClientInfo]) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        f'<ns2:clientList xmlns:ns1="{_ID_NS}" xmlns:ns2="{_XROAD_NS}">',
    ]
    for entry in entries:
        lines += _client_xml(entry)
    lines.append("</ns2:clientList>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _client_xml(entry: ClientInfo) -> list[str]:
    client = entry.id
    parts = [
        ("xRoadInstance", client.instance),
        ("memberClass", client.member_class),
        ("memberCode", client.member_code),
    ]
    if isinstance(client, SubsystemId):
        parts.append(("subsystemCode", client.subsystem_code))
    lines = ["    <ns2:member>", f'        <ns2:id ns1:objectType="{_object_type(client)}">']
    lines += [f"            <ns1:{tag}>{escape(value)}</ns1:{tag}>" for tag, value in parts]
    lines += ["        </ns2:id>", f"        <ns2:name>{_xml_text(entry.name)}</ns2:name>"]
    if entry.subsystem_name is not None:
        name = _xml_text(entry.subsystem_name)
        lines.append(f"        <ns2:subsystemName>{name}</ns2:subsystemName>")
    lines.append("    </ns2:member>")
    return lines


def _xml_text(text: str) -> str:
    return escape(_XML_INVALID.sub("\ufffd", text))


def list_clients_instance(query_string: bytes) -> str | None:
    """The instance a listClients request asks for: ``xRoadInstance`` (PR-META §2) or
    GovStack's ``instanceId``; ``None`` for the gateway's own instance. Raises
    ``BadRequest`` if it is repeated, given twice differently, or not a valid code."""
    values = set(_query_values(query_string, "xRoadInstance"))
    values |= set(_query_values(query_string, "instanceId"))
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"listClients got several instances: {sorted(values)}")
    return _valid_code(values.pop(), "xRoadInstance")


# --- listMethods / allowedMethods (PR-MREST §3) --------------------------------------------


def list_methods(services: Iterable[ServiceInfo]) -> Response:
    """The listMethods answer: every REST service of the provider (PR-MREST §3, B.1)."""
    return _json_response(_service_list(services))


def allowed_methods(services: Iterable[ServiceInfo]) -> Response:
    """The allowedMethods answer (PR-MREST §3, B.2).

    ``services`` are those the caller may invoke, each with only its allowed endpoints:
    the access-rights check is the caller's, the format is the same as listMethods.
    """
    return _json_response(_service_list(services))


def _service_list(services: Iterable[ServiceInfo]) -> dict[str, Any]:
    listed = sorted(
        (info for info in services if info.id.service_code not in _HIDDEN_SERVICE_CODES),
        key=lambda info: info.id,
    )
    return {"service": [_service_json(info) for info in listed]}


def _service_json(info: ServiceInfo) -> dict[str, Any]:
    service = info.id
    item: dict[str, Any] = {
        "member_class": service.member_class,
        "member_code": service.member_code,
        "object_type": "SERVICE",
        "service_code": service.service_code,
        "service_type": info.service_type,
    }
    # X-Road leaves out what is null (Jackson NON_NULL): a member-level service has no
    # subsystem_code key at all.
    if service.subsystem_code is not None:
        item["subsystem_code"] = service.subsystem_code
    item["xroad_instance"] = service.instance
    item["endpoint_list"] = [{"method": method, "path": path} for method, path in info.endpoints]
    return item


# --- getOpenAPI (PR-MREST §4) --------------------------------------------------------------


def get_openapi(description: bytes, media_type: str | None = None) -> Response:
    """The getOpenAPI answer: ``description`` as stored, with its media type.

    Without ``media_type`` the type is guessed: ``application/json`` if the text starts
    with ``{``, ``text/yaml`` otherwise (PR-MREST Annex A lists these two).
    """
    if media_type is None:
        guessed = "application/json" if description.lstrip().startswith(b"{") else "text/yaml"
        return _response(description, guessed)
    if _MEDIA_TYPE.fullmatch(media_type) is None:
        raise ValueError(f"not a media type: {media_type!r}")
    return 200, _headers(media_type, len(description)), description


def openapi_service_code(query_string: bytes) -> str:
    """The ``serviceCode`` query parameter of a getOpenAPI request (PR-MREST §4).

    The name is matched without regard to case, as X-Road does. Raises ``BadRequest`` if
    it is missing, given twice differently, or not a valid service code.
    """
    values = set(_query_values(query_string, "serviceCode", ignore_case=True))
    if not values:
        raise BadRequest("getOpenAPI needs the serviceCode query parameter (PR-MREST §4)")
    if len(values) > 1:
        raise BadRequest(f"getOpenAPI got several service codes: {sorted(values)}")
    return _valid_code(values.pop(), "serviceCode")


# --- shared --------------------------------------------------------------------------------


def _query_values(query_string: bytes, name: str, *, ignore_case: bool = False) -> list[str]:
    """Values of ``name`` in the query, percent-decoded strictly (RFC 3986, ``+`` stays)."""
    wanted = name.lower() if ignore_case else name
    values = []
    for pair in query_string.decode("latin-1").split("&"):
        key, _, value = pair.partition("=")
        if (key.lower() if ignore_case else key) == wanted:
            values.append(_unquote(value, name))
    return values


def _unquote(raw: str, name: str) -> str:
    if _BAD_ESCAPE.search(raw) is not None:
        raise BadRequest(f"query parameter {name} has an invalid percent-escape")
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"query parameter {name} is not UTF-8") from None


def _valid_code(value: str, name: str) -> str:
    try:
        return validate_part(value, name)
    except IdentifierError as error:
        raise BadRequest(f"invalid query parameter {error}") from None


def _json_response(document: dict[str, Any]) -> Response:
    return _response(json.dumps(document, ensure_ascii=False).encode("utf-8"), JSON_MEDIA_TYPE)


def _response(body: bytes, media_type: str) -> Response:
    return 200, _headers(f"{media_type}; charset=utf-8", len(body)), body


def _headers(content_type: str, length: int) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(length).encode("ascii")),
    ]
