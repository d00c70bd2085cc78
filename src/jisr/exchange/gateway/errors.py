"""X-Road faults (PR-REST §4.6): protocol code, HTTP status and the error body.

When a gateway, not the provider's backend, fails a request, it answers with an X-Road
fault: an HTTP status, an ``X-Road-Error: <code>`` header and a body
``{"type": <code>, "message": ..., "detail": <tracking id>}`` (XML ``<error>`` when the
client prefers XML). The first part of the code says who failed:

* ``Client.*``: the client information system sent a request that breaks PR-REST (400);
* ``Server.ClientProxy.*``: the consumer face, the client's own gateway, failed (500);
* ``Server.ServerProxy.*``: the provider face, the provider's gateway, failed (500).

The tree, drawn once (class name = the code without its first part)::

    XRoadError (code, status, message, detail)
    ├── ClientError                               400  Client.*
    │   ├── BadRequest                                 Client.BadRequest
    │   └── InvalidClientIdentifier                    Client.InvalidClientIdentifier
    ├── ClientProxyError                          500  Server.ClientProxy.*  (consumer face)
    │   ├── ClientProxyInconsistentResponse            .InconsistentResponse
    │   ├── ClientProxyInternalError                   .InternalError
    │   ├── ClientProxyInvalidDigest                   .InvalidDigest            (Jisr)
    │   ├── ClientProxyInvalidSignatureValue           .InvalidSignatureValue
    │   ├── ClientProxyLoggingFailed                   .LoggingFailed
    │   ├── ClientProxyMaintenanceMode                 .MaintenanceMode
    │   ├── ClientProxyMissingSignature                .MissingSignature
    │   ├── ClientProxyNetworkError                    .NetworkError
    │   ├── ClientProxyOutdatedGlobalConf              .OutdatedGlobalConf
    │   ├── ClientProxySslAuthenticationFailed         .SslAuthenticationFailed
    │   ├── ClientProxyTimestamperFailed               .TimestamperFailed
    │   ├── ClientProxyUnknownMember                   .UnknownMember
    │   └── ClientProxyUnknownService                  .UnknownService
    ├── ServerProxyError                          500  Server.ServerProxy.*  (provider face)
    │   ├── ServerProxyAccessDenied                    .AccessDenied
    │   ├── ServerProxyInternalError                   .InternalError
    │   ├── ServerProxyInvalidDigest                   .InvalidDigest            (Jisr)
    │   ├── ServerProxyInvalidSignatureValue           .InvalidSignatureValue
    │   ├── ServerProxyLoggingFailed                   .LoggingFailed
    │   ├── ServerProxyMaintenanceMode                 .MaintenanceMode
    │   ├── ServerProxyMissingSignature                .MissingSignature
    │   ├── ServerProxyNetworkError                    .NetworkError
    │   ├── ServerProxyOutdatedGlobalConf              .OutdatedGlobalConf
    │   ├── ServerProxyReplayedRequest                 .ReplayedRequest          (Jisr)
    │   ├── ServerProxyServiceDisabled                 .ServiceDisabled
    │   ├── ServerProxyServiceFailed                   .ServiceFailed
    │   ├── ServerProxySslAuthenticationFailed         .SslAuthenticationFailed
    │   ├── ServerProxyTimestamperFailed               .TimestamperFailed
    │   └── ServerProxyUnknownService                  .UnknownService
    └── PeerFault                                 by prefix  any other code, rebuilt by from_code

The codes are X-Road's own (``ErrorCodes`` of X-Road 7); the three marked *Jisr* have no
X-Road counterpart. ``docs/gateway-errors.md`` says for every code when it is raised and
what the client should do.

Status rule (§4.6 categories 3 and 4): 400 for a ``Client.*`` code, 500 for every other.
Size limits (URI, headers, body) are ``Client.BadRequest`` with a precise message: §4.6
keeps the status set to 400/500, so there is no 413/414/431.

``detail`` is X-Road's tracking id: a fresh UUID4 unless the caller passes one (to keep the
id of a fault received from a peer, or to match a log record).

Content negotiation (§4.6: "SHOULD respect the Accept header ... defaulting to
application/json") is defined here, the lowest layer of the gateway: ``accept_quality``
gives the RFC 9110 §12.5.1 quality of one media type, ``wants_xml`` decides for error
bodies. X-Road itself answers XML as soon as an XML type appears anywhere in ``Accept``;
Jisr honours q-values, and JSON wins ties.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from xml.sax.saxutils import escape

__all__ = [
    "CODES",
    "JSON_MEDIA_TYPE",
    "BadRequest",
    "ClientError",
    "ClientProxyError",
    "ClientProxyInconsistentResponse",
    "ClientProxyInternalError",
    "ClientProxyInvalidDigest",
    "ClientProxyInvalidSignatureValue",
    "ClientProxyLoggingFailed",
    "ClientProxyMaintenanceMode",
    "ClientProxyMissingSignature",
    "ClientProxyNetworkError",
    "ClientProxyOutdatedGlobalConf",
    "ClientProxySslAuthenticationFailed",
    "ClientProxyTimestamperFailed",
    "ClientProxyUnknownMember",
    "ClientProxyUnknownService",
    "InvalidClientIdentifier",
    "PeerFault",
    "ServerProxyAccessDenied",
    "ServerProxyError",
    "ServerProxyInternalError",
    "ServerProxyInvalidDigest",
    "ServerProxyInvalidSignatureValue",
    "ServerProxyLoggingFailed",
    "ServerProxyMaintenanceMode",
    "ServerProxyMissingSignature",
    "ServerProxyNetworkError",
    "ServerProxyOutdatedGlobalConf",
    "ServerProxyReplayedRequest",
    "ServerProxyServiceDisabled",
    "ServerProxyServiceFailed",
    "ServerProxySslAuthenticationFailed",
    "ServerProxyTimestamperFailed",
    "ServerProxyUnknownService",
    "XRoadError",
    "accept_quality",
    "error_response",
    "from_code",
    "status_for",
    "wants_xml",
]

JSON_MEDIA_TYPE = "application/json"
_XML_MEDIA_TYPES = ("application/xml", "text/xml")

#: A well-formed fault code: dot-separated words, e.g. ``Server.ServerProxy.AccessDenied``.
#: Anything else from a peer could smuggle bytes into the ``X-Road-Error`` header.
_CODE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*){0,7}")
_MAX_CODE_LENGTH = 128

# XML 1.0 §2.2: these characters cannot appear in a document, not even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_CODES: dict[str, type[XRoadError]] = {}


def status_for(code: str) -> int:
    """The HTTP status of a fault code: 400 for ``Client.*``, 500 otherwise (§4.6)."""
    return 400 if code == "Client" or code.startswith("Client.") else 500


class XRoadError(Exception):
    """A fault of the X-Road protocol, raised by a gateway and rendered by ``error_response``.

    ``code`` and ``status`` are class attributes of every concrete fault; ``message`` is for
    humans; ``detail`` is the tracking id (a fresh UUID4 unless given).
    """

    code: str
    status: int

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        if type(self) in _ABSTRACT:
            raise TypeError(f"{type(self).__name__} has no code; raise one of its subclasses")
        super().__init__(message)
        self.message = message
        self.detail = detail if detail is not None else str(uuid.uuid4())

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # Only concrete faults, which set their own code, are found by from_code.
        if "code" in cls.__dict__:
            cls.status = status_for(cls.code)
            _CODES.setdefault(cls.code, cls)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only ``detail`` would be lost by the default exception pickling.
        return _rebuild, (self.code, self.message, self.detail)

    def render(self, accept: str | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """This fault as an HTTP response; see ``error_response``."""
        return error_response(self, accept)


def _rebuild(code: str, message: str, detail: str) -> XRoadError:
    return from_code(code, message, detail=detail)


class ClientError(XRoadError):
    """The client information system broke the protocol (§4.6 category 3): HTTP 400."""


class ClientProxyError(XRoadError):
    """The consumer face (the client's own gateway) failed: ``Server.ClientProxy.*``."""


class ServerProxyError(XRoadError):
    """The provider face (the provider's gateway) failed: ``Server.ServerProxy.*``."""


class PeerFault(XRoadError):
    """A fault with a code this gateway has no class for, rebuilt by ``from_code``.

    The code is an instance attribute here; the status follows from its prefix.
    """

    def __init__(self, code: str, message: str, *, detail: str | None = None) -> None:
        if not _well_formed(code):
            raise ValueError(f"malformed X-Road fault code {code[:_MAX_CODE_LENGTH]!r}")
        super().__init__(message, detail=detail)
        self.code = code
        self.status = status_for(code)


# --- Client.* ------------------------------------------------------------------------------


class BadRequest(ClientError):
    """The request does not follow PR-REST r1: path, version, headers or a size limit."""

    code = "Client.BadRequest"


class InvalidClientIdentifier(ClientError):
    """``X-Road-Client`` is not ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]`` of valid codes."""

    code = "Client.InvalidClientIdentifier"


# --- Server.ClientProxy.* (consumer face) --------------------------------------------------


class ClientProxyInconsistentResponse(ClientProxyError):
    """The provider's response does not match the request (client, service, id, hash)."""

    code = "Server.ClientProxy.InconsistentResponse"


class ClientProxyInternalError(ClientProxyError):
    """An unexpected failure inside the consumer face."""

    code = "Server.ClientProxy.InternalError"


class ClientProxyInvalidDigest(ClientProxyError):
    """The response body does not match its ``Content-Digest`` (Jisr)."""

    code = "Server.ClientProxy.InvalidDigest"


class ClientProxyInvalidSignatureValue(ClientProxyError):
    """The provider gateway's response signature does not verify."""

    code = "Server.ClientProxy.InvalidSignatureValue"


class ClientProxyLoggingFailed(ClientProxyError):
    """The consumer face could not write the exchange to its message log."""

    code = "Server.ClientProxy.LoggingFailed"


class ClientProxyMaintenanceMode(ClientProxyError):
    """The consumer gateway is in maintenance mode and takes no new requests."""

    code = "Server.ClientProxy.MaintenanceMode"


class ClientProxyMissingSignature(ClientProxyError):
    """The provider gateway's response carries no signature."""

    code = "Server.ClientProxy.MissingSignature"


class ClientProxyNetworkError(ClientProxyError):
    """No provider gateway of the service could be reached."""

    code = "Server.ClientProxy.NetworkError"


class ClientProxyOutdatedGlobalConf(ClientProxyError):
    """The consumer gateway's global configuration has expired."""

    code = "Server.ClientProxy.OutdatedGlobalConf"


class ClientProxySslAuthenticationFailed(ClientProxyError):
    """TLS authentication failed: of the client IS, or of the provider gateway.

    X-Road reports a client IS that fails its connection-type check (no certificate, or one
    not registered for the client) with this code, as does Jisr.
    """

    code = "Server.ClientProxy.SslAuthenticationFailed"


class ClientProxyTimestamperFailed(ClientProxyError):
    """The consumer face's message log could not be time-stamped in time."""

    code = "Server.ClientProxy.TimestamperFailed"


class ClientProxyUnknownMember(ClientProxyError):
    """A member or subsystem of the request is not in the global configuration."""

    code = "Server.ClientProxy.UnknownMember"


class ClientProxyUnknownService(ClientProxyError):
    """No gateway in the global configuration serves the requested provider."""

    code = "Server.ClientProxy.UnknownService"


# --- Server.ServerProxy.* (provider face) --------------------------------------------------


class ServerProxyAccessDenied(ServerProxyError):
    """The client has no access right to the service (or endpoint)."""

    code = "Server.ServerProxy.AccessDenied"


class ServerProxyInternalError(ServerProxyError):
    """An unexpected failure inside the provider face."""

    code = "Server.ServerProxy.InternalError"


class ServerProxyInvalidDigest(ServerProxyError):
    """The request body does not match its ``Content-Digest`` (Jisr)."""

    code = "Server.ServerProxy.InvalidDigest"


class ServerProxyInvalidSignatureValue(ServerProxyError):
    """The consumer gateway's request signature does not verify."""

    code = "Server.ServerProxy.InvalidSignatureValue"


class ServerProxyLoggingFailed(ServerProxyError):
    """The provider face could not write the exchange to its message log."""

    code = "Server.ServerProxy.LoggingFailed"


class ServerProxyMaintenanceMode(ServerProxyError):
    """The provider gateway is in maintenance mode and takes no new requests."""

    code = "Server.ServerProxy.MaintenanceMode"


class ServerProxyMissingSignature(ServerProxyError):
    """The consumer gateway's request carries no signature."""

    code = "Server.ServerProxy.MissingSignature"


class ServerProxyNetworkError(ServerProxyError):
    """The provider's backend could not be connected to (§4.6 example 2)."""

    code = "Server.ServerProxy.NetworkError"


class ServerProxyOutdatedGlobalConf(ServerProxyError):
    """The provider gateway's global configuration has expired."""

    code = "Server.ServerProxy.OutdatedGlobalConf"


class ServerProxyReplayedRequest(ServerProxyError):
    """A signed request was seen before, or falls outside the replay window (Jisr)."""

    code = "Server.ServerProxy.ReplayedRequest"


class ServerProxyServiceDisabled(ServerProxyError):
    """The service exists but its provider has disabled it."""

    code = "Server.ServerProxy.ServiceDisabled"


class ServerProxyServiceFailed(ServerProxyError):
    """The backend was reached but gave no complete answer (timeout, reset, bad HTTP)."""

    code = "Server.ServerProxy.ServiceFailed"


class ServerProxySslAuthenticationFailed(ServerProxyError):
    """The consumer gateway's TLS certificate is not an authentication certificate in the
    global configuration, or does not belong to the gateway that signed the request."""

    code = "Server.ServerProxy.SslAuthenticationFailed"


class ServerProxyTimestamperFailed(ServerProxyError):
    """The provider face's message log could not be time-stamped in time."""

    code = "Server.ServerProxy.TimestamperFailed"


class ServerProxyUnknownService(ServerProxyError):
    """The service is not registered at this provider gateway."""

    code = "Server.ServerProxy.UnknownService"


_ABSTRACT = frozenset({XRoadError, ClientError, ClientProxyError, ServerProxyError})

#: Every code this module has a class for, and that class.
CODES: Mapping[str, type[XRoadError]] = _CODES


def _well_formed(code: str) -> bool:
    return len(code) <= _MAX_CODE_LENGTH and _CODE_PATTERN.fullmatch(code) is not None


def from_code(code: str, message: str, *, detail: str | None = None) -> XRoadError:
    """Rebuild a fault received from a peer gateway (its ``type``, ``message``, ``detail``).

    A known code gives its class; an unknown but well-formed one a ``PeerFault`` whose
    status follows from its prefix. A malformed code (which could inject bytes into the
    ``X-Road-Error`` header) becomes ``Server.ClientProxy.InconsistentResponse``.
    """
    if not _well_formed(code):
        shown = code[:_MAX_CODE_LENGTH]
        text = f"peer gateway sent a fault with the malformed code {shown!r}: {message}"
        return ClientProxyInconsistentResponse(text, detail=detail)
    known = _CODES.get(code)
    if known is None:
        return PeerFault(code, message, detail=detail)
    return known(message, detail=detail)


# --- rendering -----------------------------------------------------------------------------


def error_response(
    error: XRoadError, accept: str | None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The HTTP response for ``error``: status, raw ASGI headers and body (§4.6).

    The headers are ``content-type`` (with ``charset=utf-8``), ``x-road-error`` and
    ``content-length``. The body is JSON ``{"type", "message", "detail"}``, or
    ``<error><type/><message/><detail/></error>`` (X-Road's XML form) when ``accept``
    prefers XML; the XML media type is the one the client asked for.
    """
    fields = {
        "type": error.code,
        "message": _clean(error.message),
        "detail": _clean(error.detail),
    }
    media_type = _error_media_type(accept)
    if media_type == JSON_MEDIA_TYPE:
        body = json.dumps(fields, ensure_ascii=False).encode("utf-8")
    else:
        body = _xml_error(fields)
    headers = [
        (b"content-type", f"{media_type}; charset=utf-8".encode("ascii")),
        (b"x-road-error", error.code.encode("ascii", "replace")),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    return error.status, headers, body


def _clean(text: str) -> str:
    """Text that UTF-8 and XML 1.0 can both carry: lone surrogates and C0 controls go."""
    return _XML_INVALID.sub("\ufffd", text)


def _xml_error(fields: Mapping[str, str]) -> bytes:
    inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
    document = f'<?xml version="1.0" encoding="UTF-8"?>\n<error>{inner}</error>\n'
    return document.encode("utf-8")


# --- content negotiation (RFC 9110 §12.5.1) ------------------------------------------------


def _media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """``(type, subtype, q)`` of every well-formed range; malformed ones are skipped."""
    ranges = []
    for element in accept.split(","):
        media_range, *params = element.split(";")
        kind, slash, subtype = media_range.strip().lower().partition("/")
        if not slash or not kind or not subtype or (kind == "*" and subtype != "*"):
            continue
        quality = _quality(params)
        if quality is not None:
            ranges.append((kind, subtype, quality))
    return ranges


def _quality(params: list[str]) -> float | None:
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() != "q":
            continue
        # RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        if re.fullmatch(r"0(?:\.\d{0,3})?|1(?:\.0{0,3})?", value.strip()) is None:
            return None
        return float(value)
    return 1.0


def accept_quality(accept: str | None, media_type: str) -> float:
    """The quality ``accept`` gives ``media_type`` (``type/subtype``), 0.0 if not acceptable.

    The most specific matching range wins (``text/xml`` over ``text/*`` over ``*/*``), as in
    RFC 9110 §12.5.1; parameters other than ``q`` are ignored. No ``Accept`` accepts all.
    """
    if accept is None or not accept.strip():
        return 1.0
    kind, _, subtype = media_type.lower().partition("/")
    best_specificity, best_quality = -1, 0.0
    for range_kind, range_subtype, quality in _media_ranges(accept):
        if range_kind == kind and range_subtype == subtype:
            specificity = 2
        elif range_kind == kind and range_subtype == "*":
            specificity = 1
        elif range_kind == "*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, best_quality = specificity, quality
    return best_quality


def _error_media_type(accept: str | None) -> str:
    """JSON unless an XML type has a strictly higher quality than JSON (§4.6 default)."""
    json_quality = accept_quality(accept, JSON_MEDIA_TYPE)
    xml = max(_XML_MEDIA_TYPES, key=lambda media_type: accept_quality(accept, media_type))
    return xml if accept_quality(accept, xml) > json_quality else JSON_MEDIA_TYPE


def wants_xml(accept: str | None) -> bool:
    """Whether ``accept`` prefers ``application/xml`` or ``text/xml`` over JSON (q-values).

    JSON wins ties and is the default when ``Accept`` is missing or says nothing useful
    (§4.3: "the Security Server MUST use the default content-type application/json").
    """
    return _error_media_type(accept) != JSON_MEDIA_TYPE
