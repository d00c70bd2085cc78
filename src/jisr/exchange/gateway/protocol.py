"""X-Road Message Protocol for REST r1 (PR-REST §4): targets, headers and the request hash.

Pure functions over what an ASGI server hands over (``raw_path``, ``query_string``, raw
header pairs); every refusal is an ``XRoadError`` with a message that names what is wrong.

Request target (§4.1, §4.2)
    ``parse_target`` reads ``/r1/{serviceId}[/path]``. The raw path is split on ``/``
    *before* any percent-decoding, and each identifier part is decoded on its own, so an
    encoded ``%2F`` never separates parts: it is refused inside an identifier (§4.8). The
    subsystem is optional (§4.1), so whether the fourth part is a subsystem or the service
    code is decided by ``is_subsystem`` (the caller asks the global configuration). The
    rest of the path goes to the provider verbatim, still percent-encoded, after these
    guards (§4.2 asks to be ready for SSRF and parameter pollution):

    * the raw path is ASCII, only RFC 3986 path characters (no ``\\``, space, controls);
    * no segment decodes (even via ``%2e``, ``%2F``-joined pieces, ``;params``, or Unicode
      compatibility forms such as fullwidth dots) to ``.`` or ``..``;
    * no segment decodes to a backslash, a control character or invalid UTF-8;
    * the service path does not begin with ``//`` (a network-path reference);
    * the whole URI is at most ``max_uri_length`` characters (2000, §4.2).

    The query string is passed unmodified (§4.5), duplicates included; only bytes that
    cannot be in a request line (controls, space, non-ASCII, ``#``) are refused.

Client headers (§4.3)
    ``parse_client_headers`` takes the *last* ``X-Road-Client`` (§4.3) and reads the other
    ``X-Road-*`` request headers. ``passthrough`` is every other header, names lowercased,
    values untouched, minus: the hop-by-hop headers (Connection, Keep-Alive,
    Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade, the
    legacy Proxy-Connection, and any header named in Connection); Host, User-Agent and
    Server (they leak the origin); Content-Length and Expect (handled by the gateway); and
    the X-Road headers PR-REST defines (``XROAD_HEADERS``), which the gateway re-issues.
    Other ``X-Road-*`` names are extension headers that §4.3 says to treat "like any user
    defined header", so they pass. ``outgoing_headers`` adds the re-issued X-Road headers
    for the provider gateway. ``filter_response_headers`` applies the same rules to a
    backend's response (and, keeping the X-Road headers, to the provider gateway's).

Request hash (§4.3)
    ``request_hash`` is ``base64(SHA512(SHA512(head) + SHA512(body)))``, or
    ``base64(SHA512(head))`` when there is no body (an empty body counts as none). ``head``
    is the canonical text both gateways can rebuild from what travels between them::

        {method}\\n
        /r1/{service.encoded()}{path}[?{query}]\\n
        {name}: {value}\\n        one line per header of REQUEST_HASH_HEADERS present,
                                  in that (alphabetical) order: x-road-client, x-road-id,
                                  x-road-issue, x-road-represented-party,
                                  x-road-request-id, x-road-service, x-road-userid

    ``method`` exactly as sent; the target as ``Target.uri`` gives it (canonical service id,
    path and query verbatim); header names lowercase, values with surrounding spaces and tabs
    removed, repeated headers joined by ``", "`` in order (RFC 9110 §5.3). The bytes are
    ASCII except header values, which are hashed as they are. The gateway passes the body's
    SHA-512 digest, computed while it streams the body.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NoReturn
from urllib.parse import quote, unquote_to_bytes

from jisr.exchange.gateway.errors import (
    BadRequest,
    ClientError,
    InvalidClientIdentifier,
    accept_quality,
    wants_xml,
)
from jisr.ids import (
    ClientId,
    GatewayId,
    IdentifierError,
    MemberId,
    ServiceId,
    parse_client,
    validate_part,
)

__all__ = [
    "HOP_BY_HOP_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_URI_LENGTH",
    "MAX_VALUE_LENGTH",
    "PROTOCOL_VERSION",
    "REQUEST_HASH_HEADERS",
    "XROAD_HEADERS",
    "ClientHeaders",
    "RepresentedParty",
    "Target",
    "accept_quality",
    "filter_response_headers",
    "outgoing_headers",
    "parse_client_headers",
    "parse_target",
    "request_hash",
    "wants_xml",
]

PROTOCOL_VERSION = "r1"

#: §4.2: "most clients enforce an arbitrary limit of 2000 characters"; so do we.
MAX_URI_LENGTH = 2000

#: Total size of the request headers, counted as ``name: value\r\n``.
MAX_HEADER_BYTES = 64 * 1024

#: Longest ``X-Road-Id``, ``X-Road-UserId`` or ``X-Road-Issue``: X-Road keeps them in
#: 255-character columns (operational monitoring).
MAX_VALUE_LENGTH = 255

#: RFC 9110 §7.6.1 hop-by-hop headers listed by §4.3, plus the legacy Proxy-Connection.
HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

#: The X-Road headers PR-REST §4.3 defines: set by the gateways, never passed through.
XROAD_HEADERS = frozenset(
    {
        "x-road-client",
        "x-road-error",
        "x-road-id",
        "x-road-issue",
        "x-road-represented-party",
        "x-road-request-hash",
        "x-road-request-id",
        "x-road-security-server",
        "x-road-service",
        "x-road-userid",
    }
)

#: The headers bound by the request hash, in the order they are serialised: the X-Road
#: headers a consumer gateway sends the provider gateway (``outgoing_headers``).
REQUEST_HASH_HEADERS = (
    "x-road-client",
    "x-road-id",
    "x-road-issue",
    "x-road-represented-party",
    "x-road-request-id",
    "x-road-service",
    "x-road-userid",
)

# §4.3 filtered headers that leak the origin, and headers the gateway handles itself.
_REQUEST_DROPPED = frozenset({"host", "user-agent", "server", "content-length", "expect"})
_RESPONSE_DROPPED = frozenset({"server", "content-length"})

# RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; plus "/".
_PATH_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@%/"
)
# A request line cannot carry controls, space or non-ASCII; "#" would start a fragment.
_QUERY_CHARS = frozenset(chr(code) for code in range(0x21, 0x7F)) - {"#"}
# The same two alphabets as patterns: the per-message check; the sets name a refusal.
_PATH_TEXT = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*")
_QUERY_TEXT = re.compile(r"[\x21\x22\x24-\x7e]*")
# RFC 9110 §5.6.2: token characters, the only ones a header name may use.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 §5.5: no CR, LF or NUL in a field value; other controls but HTAB are refused too.
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_VERSION = re.compile(r"r[0-9]+")
_EMPTY_BODY_DIGEST = hashlib.sha512(b"").digest()
_SHOWN_LENGTH = 80


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH] + "...")


# --- request target ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """The service a request calls, and what goes on to the provider's backend.

    ``path`` is ``""`` or begins with ``/``, and ``query`` has no ``?``; both are exactly
    as the client sent them (percent-encoded).
    """

    service: ServiceId
    path: str
    query: str

    @property
    def uri(self) -> str:
        """The request target between gateways: ``/r1/{service}{path}[?{query}]``."""
        uri = f"/{PROTOCOL_VERSION}/{self.service.encoded()}{self.path}"
        return f"{uri}?{self.query}" if self.query else uri


def parse_target(
    raw_path: bytes,
    query_string: bytes,
    *,
    is_subsystem: Callable[[MemberId, str], bool],
    max_uri_length: int = MAX_URI_LENGTH,
) -> Target:
    """Parse ``/r1/{serviceId}[/path]`` and its query (§4.1, §4.2, §4.5).

    ``raw_path`` is the undecoded ASGI ``raw_path``. ``is_subsystem(member, code)`` says
    whether ``code``, the fourth part, is a subsystem of ``member`` (then the fifth part is
    the service code) rather than a service code. Raises ``BadRequest``.
    """
    length = len(raw_path) + (len(query_string) + 1 if query_string else 0)
    if length > max_uri_length:
        raise BadRequest(
            f"request URI is {length} characters long, the limit is {max_uri_length} "
            "(PR-REST §4.2); send large data in the request body"
        )
    path = raw_path.decode("latin-1")
    if _PATH_TEXT.fullmatch(path) is None:
        _refuse_request_line_text(path, "request path", _PATH_CHARS)
    query = query_string.decode("latin-1")
    if _QUERY_TEXT.fullmatch(query) is None:
        _refuse_request_line_text(query, "query string", _QUERY_CHARS)
    segments = path.split("/")
    version = segments[1] if len(segments) > 1 and not segments[0] else ""
    if version != PROTOCOL_VERSION:
        raise BadRequest(_version_problem(version))
    service, rest = _split_service(segments[2:], is_subsystem)
    _check_service_path(rest)
    return Target(service, "".join(f"/{segment}" for segment in rest), query)


def _refuse_request_line_text(text: str, what: str, allowed: frozenset[str]) -> NoReturn:
    """Raise BadRequest naming the first character of ``text`` outside ``allowed``."""
    for position, char in enumerate(text):
        if char in allowed:
            continue
        if char == "\\":
            raise BadRequest(f"{what}: backslash at position {position} is refused")
        if ord(char) > 0x7F:
            problem = f"byte 0x{ord(char):02X} at position {position} is not ASCII"
        else:
            problem = (
                f"character {char!r} (0x{ord(char):02X}) at position {position} is not allowed"
            )
        raise BadRequest(f"{what}: {problem} in a request URI (RFC 3986); percent-encode it")
    raise AssertionError(f"{what} has no refused character")  # the patterns say otherwise


def _version_problem(version: str) -> str:
    if _VERSION.fullmatch(version):
        return (
            f"protocol version {version!r} is not supported; this gateway speaks "
            f"{PROTOCOL_VERSION} (PR-REST §2.3)"
        )
    return "request path must be /r1/{serviceId}[/path] (PR-REST §4.1)"


def _split_service(
    parts: list[str], is_subsystem: Callable[[MemberId, str], bool]
) -> tuple[ServiceId, list[str]]:
    """The service id at the head of ``parts``, and the parts of the service path."""
    if len(parts) < 4:
        raise BadRequest(
            "request path names no service: expected "
            "/r1/INSTANCE/CLASS/MEMBER[/SUBSYSTEM]/SERVICE[/path] (PR-REST §4.1)"
        )
    member_service = _service_id(parts[:4], fourth="subsystem or service code")
    member = MemberId(
        member_service.instance, member_service.member_class, member_service.member_code
    )
    if not is_subsystem(member, member_service.service_code):
        return member_service, parts[4:]
    if len(parts) < 5:
        raise BadRequest(
            f"request path names subsystem {member}/{member_service.service_code} "
            "but no service code (PR-REST §4.1)"
        )
    return _service_id(parts[:5], fourth="subsystem code"), parts[5:]


def _service_id(parts: list[str], *, fourth: str) -> ServiceId:
    try:
        return ServiceId.parse("/".join(parts))
    except IdentifierError as error:
        # With four parts, ids.py calls the fourth "service code"; it may be a subsystem.
        part = fourth if len(parts) == 4 and error.part == "service code" else error.part
        raise BadRequest(
            f"invalid service id in the request path: {part} {_shown(error.value)}: "
            f"{error.reason} (PR-REST §4.2, §4.8)"
        ) from None


def _check_service_path(segments: list[str]) -> None:
    """Refuse traversal and SSRF tricks in the path passed on to the backend (§4.2)."""
    if len(segments) > 1 and not segments[0]:
        raise BadRequest(
            "service path must not begin with '//': a backend could read it as another host"
        )
    for segment in segments:
        decoded = _decode_segment(segment)
        bad = next((char for char in decoded if _is_forbidden(char)), None)
        if bad is not None:
            raise BadRequest(
                f"service path segment {_shown(segment)} decodes to the forbidden "
                f"character {bad!r} (U+{ord(bad):04X})"
            )
        if _has_dot_segment(decoded):
            raise BadRequest(
                f"service path segment {_shown(segment)} is a '.' or '..' segment "
                "once decoded; path traversal is refused"
            )


def _decode_segment(segment: str) -> str:
    bad = _BAD_ESCAPE.search(segment)
    if bad is not None:
        escape = segment[bad.start() : bad.start() + 3]
        raise BadRequest(
            f"service path segment {_shown(segment)}: {escape!r} at position "
            f"{bad.start()} is not a valid percent-escape"
        )
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(
            f"service path segment {_shown(segment)} does not decode as UTF-8"
        ) from None


def _is_forbidden(char: str) -> bool:
    return char == "\\" or unicodedata.category(char) == "Cc"


def _has_dot_segment(decoded: str) -> bool:
    # Pieces joined by an encoded "/" count as segments to a backend that decodes first;
    # ";params" are dropped by some servlet containers ("..;/"); NFKC maps fullwidth dots.
    for piece in decoded.split("/"):
        name = unicodedata.normalize("NFKC", piece).split(";", 1)[0]
        if name in {".", ".."}:
            return True
    return False


# --- client headers ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class RepresentedParty:
    """``X-Road-Represented-Party``: ``[CLASS/]CODE`` (§4.3), the member class optional."""

    member_class: str | None
    member_code: str

    def __post_init__(self) -> None:
        if self.member_class is not None:
            validate_part(self.member_class, "member class")
        validate_part(self.member_code, "member code")

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts in order, without an omitted member class."""
        if self.member_class is None:
            return (self.member_code,)
        return (self.member_class, self.member_code)

    def encoded(self) -> str:
        """The header form: each part percent-encoded, then joined by ``/``."""
        return "/".join(quote(part, safe="!$&'()*+,;=:@") for part in self.parts)

    def __str__(self) -> str:
        return "/".join(self.parts)


@dataclasses.dataclass(frozen=True, slots=True)
class ClientHeaders:
    """What the client information system said in its headers (§4.3).

    ``x_road_id`` is the client's ``X-Road-Id`` or a fresh UUID4; ``passthrough`` holds
    the headers that go on to the provider, names lowercased, in their original order.
    """

    client: ClientId
    x_road_id: str
    user_id: str | None
    issue: str | None
    represented_party: RepresentedParty | None
    security_server: GatewayId | None
    passthrough: list[tuple[bytes, bytes]]


def parse_client_headers(
    headers: Sequence[tuple[bytes, bytes]], *, max_header_bytes: int = MAX_HEADER_BYTES
) -> ClientHeaders:
    """Read the X-Road headers of a client's request and sort out what passes on (§4.3).

    Repeated X-Road headers: the last one counts (§4.3 says so for ``X-Road-Client``).
    Raises ``BadRequest``, or ``InvalidClientIdentifier`` for a malformed client id.
    """
    size = sum(len(name) + len(value) + 4 for name, value in headers)
    if size > max_header_bytes:
        raise BadRequest(f"request headers are {size} bytes, the limit is {max_header_bytes}")
    lowered = [(_header_name(name), value) for name, value in headers]
    for name, value in lowered:
        _check_value(name, value)
    last = dict(lowered)  # the last of repeated headers wins
    client = _client(last.get(b"x-road-client"))
    return ClientHeaders(
        client=client,
        x_road_id=_text_header(last, "X-Road-Id") or str(uuid.uuid4()),
        user_id=_text_header(last, "X-Road-UserId"),
        issue=_text_header(last, "X-Road-Issue"),
        represented_party=_represented_party(last.get(b"x-road-represented-party")),
        security_server=_security_server(last.get(b"x-road-security-server")),
        passthrough=_without_filtered(lowered, _REQUEST_DROPPED),
    )


def outgoing_headers(
    headers: ClientHeaders, *, service: ServiceId, request_id: str
) -> dict[str, str]:
    """The headers a consumer gateway sends the provider gateway (lowercase names).

    The passthrough headers (repeats joined by ``", "``, RFC 9110 §5.3, or ``"; "`` for
    Cookie, RFC 6265 §5.4; values read as Latin-1) and the re-issued X-Road headers:
    ``x-road-client``, ``x-road-service`` (both percent-encoded, §4.2), ``x-road-id``,
    ``x-road-request-id`` and, when the client gave them, ``x-road-userid``,
    ``x-road-issue`` and ``x-road-represented-party``. ``X-Road-Security-Server`` only
    steers the consumer gateway and is not sent on.
    """
    out: dict[str, str] = {}
    for name, value in headers.passthrough:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        out[key] = f"{out[key]}{'; ' if key == 'cookie' else ', '}{text}" if key in out else text
    out |= {
        "x-road-client": headers.client.encoded(),
        "x-road-service": service.encoded(),
        "x-road-id": headers.x_road_id,
        "x-road-request-id": request_id,
    }
    optional = {
        "x-road-userid": headers.user_id,
        "x-road-issue": headers.issue,
        "x-road-represented-party": (
            headers.represented_party.encoded() if headers.represented_party else None
        ),
    }
    out |= {name: value for name, value in optional.items() if value is not None}
    return out


def filter_response_headers(
    headers: Iterable[tuple[bytes, bytes]], *, keep_xroad: bool = False
) -> list[tuple[bytes, bytes]]:
    """Response headers as they go back towards the client (§4.3).

    Drops hop-by-hop headers (and those named in Connection), Server and Content-Length.
    The X-Road headers PR-REST defines are dropped too, since the provider gateway sets
    them itself over whatever the backend said; ``keep_xroad=True`` keeps them, for the
    consumer face relaying the provider gateway's response. Names are lowercased; order
    and values are kept.
    """
    lowered = [(name.lower(), value) for name, value in headers]
    kept = XROAD_HEADERS if keep_xroad else frozenset()
    return _without_filtered(lowered, _RESPONSE_DROPPED, keep=kept)


def _header_name(name: bytes) -> bytes:
    if _TOKEN.fullmatch(name) is None:
        raise BadRequest(f"header name {_shown(name.decode('latin-1'))} is not an HTTP token")
    return name.lower()


def _check_value(name: bytes, value: bytes) -> None:
    bad = _BAD_VALUE_BYTE.search(value)
    if bad is not None:
        raise BadRequest(
            f"header {name.decode('ascii')} contains the control byte "
            f"0x{value[bad.start()]:02X} at position {bad.start()}"
        )


def _without_filtered(
    headers: list[tuple[bytes, bytes]],
    dropped: frozenset[str],
    *,
    keep: frozenset[str] = frozenset(),
) -> list[tuple[bytes, bytes]]:
    connection_named = {
        token.strip().lower()
        for name, value in headers
        if name == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    removed = HOP_BY_HOP_HEADERS | ((XROAD_HEADERS - keep) | dropped) | connection_named
    return [(name, value) for name, value in headers if name.decode("latin-1") not in removed]


def _identifier_text(value: bytes, header: str, error: type[ClientError]) -> str:
    """An identifier header's value: ASCII, since each part is percent-encoded (§4.3)."""
    try:
        return value.decode("ascii").strip(" \t")
    except UnicodeDecodeError as bad:
        raise error(
            f"{header} header: byte 0x{value[bad.start]:02X} at position {bad.start} is not "
            "ASCII; percent-encode each part as UTF-8 (PR-REST §4.3)"
        ) from None


def _client(value: bytes | None) -> ClientId:
    if value is None:
        raise BadRequest("X-Road-Client header missing (PR-REST §4.3)")
    try:
        return parse_client(_identifier_text(value, "X-Road-Client", InvalidClientIdentifier))
    except IdentifierError as error:
        raise InvalidClientIdentifier(
            f"invalid X-Road-Client header: {error} (PR-REST §4.3, §4.8)"
        ) from None


def _text_header(last: dict[bytes, bytes], header: str) -> str | None:
    """A free-text X-Road header: printable ASCII; ``None`` when absent or empty.

    RFC 9110 §5.5 asks new fields to stay ASCII; X-Road's examples are (``EE12345678901``).
    Refusing the rest here keeps every later hop (signing, the request hash, the message
    log, an HTTP client that encodes headers as ASCII) free of encoding guesses.
    """
    value = last.get(header.lower().encode("ascii"))
    if value is None:
        return None
    text = value.decode("latin-1").strip(" \t")
    if len(text) > MAX_VALUE_LENGTH:
        raise BadRequest(
            f"{header} header is {len(text)} characters long, the limit is {MAX_VALUE_LENGTH}"
        )
    bad = next((pos for pos, char in enumerate(text) if not " " <= char <= "~"), None)
    if bad is not None:
        raise BadRequest(
            f"{header} header: byte 0x{ord(text[bad]):02X} at position {bad} is not printable ASCII"
        )
    return text or None


def _represented_party(value: bytes | None) -> RepresentedParty | None:
    if value is None:
        return None
    text = _identifier_text(value, "X-Road-Represented-Party", BadRequest)
    raw_parts = text.split("/")
    if len(raw_parts) > 2:
        raise BadRequest(
            f"X-Road-Represented-Party {_shown(text)} must be [CLASS/]CODE (PR-REST §4.3)"
        )
    names = ("member class", "member code")[-len(raw_parts) :]
    parts = [_decode_part(raw, name) for raw, name in zip(raw_parts, names, strict=True)]
    try:
        if len(parts) == 1:
            return RepresentedParty(None, parts[0])
        return RepresentedParty(parts[0], parts[1])
    except IdentifierError as error:
        raise BadRequest(f"invalid X-Road-Represented-Party header: {error}") from None


def _decode_part(raw: str, name: str) -> str:
    bad = _BAD_ESCAPE.search(raw)
    try:
        if bad is not None:
            raise ValueError(f"{raw[bad.start() : bad.start() + 3]!r} is not a percent-escape")
        return unquote_to_bytes(raw).decode("utf-8")
    except ValueError as error:  # UnicodeDecodeError is a ValueError
        raise BadRequest(
            f"invalid X-Road-Represented-Party header: {name} {_shown(raw)}: {error}"
        ) from None


def _security_server(value: bytes | None) -> GatewayId | None:
    if value is None:
        return None
    try:
        return GatewayId.parse(_identifier_text(value, "X-Road-Security-Server", BadRequest))
    except IdentifierError as error:
        raise BadRequest(f"invalid X-Road-Security-Server header: {error}") from None


# --- request hash --------------------------------------------------------------------------


def request_hash(
    method: str,
    target: Target,
    xroad_headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]],
    body_digest: bytes | None,
) -> str:
    """``X-Road-Request-Hash`` of a request (§4.3), as both gateways compute it.

    ``xroad_headers`` are the headers of the request as it travels between the gateways,
    as raw pairs or a ``str`` mapping (values encoded as UTF-8); only
    ``REQUEST_HASH_HEADERS`` are used. ``body_digest`` is the SHA-512 digest of the body,
    ``None`` (or the digest of zero bytes) when there is none. The serialisation is given
    in the module docstring.
    """
    if body_digest is not None and len(body_digest) != hashlib.sha512().digest_size:
        raise ValueError(f"body_digest must be a SHA-512 digest, got {len(body_digest)} bytes")
    head_digest = hashlib.sha512(_request_head(method, target, xroad_headers)).digest()
    if body_digest is None or body_digest == _EMPTY_BODY_DIGEST:
        digest = head_digest
    else:
        digest = hashlib.sha512(head_digest + body_digest).digest()
    return base64.b64encode(digest).decode("ascii")


def _request_head(
    method: str, target: Target, headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]]
) -> bytes:
    lines = [method.encode("ascii"), target.uri.encode("ascii")]
    if isinstance(headers, Mapping):
        # One value per name, names as given: look the few hashed headers up directly.
        if all(name.islower() for name in headers):
            for name in REQUEST_HASH_HEADERS:
                value = headers.get(name)
                if value is not None:
                    lines.append(f"{name}: ".encode() + value.encode("utf-8").strip(b" \t"))
            return _joined(lines)
        pairs: Iterable[tuple[bytes, bytes]] = [
            (name.encode("latin-1"), value.encode("utf-8")) for name, value in headers.items()
        ]
    else:
        pairs = headers
    values: dict[str, list[bytes]] = {}
    for raw_name, raw_value in pairs:
        key = raw_name.decode("latin-1").lower()
        if key in REQUEST_HASH_HEADERS:
            values.setdefault(key, []).append(raw_value.strip(b" \t"))
    lines += [
        name.encode("ascii") + b": " + b", ".join(values[name])
        for name in REQUEST_HASH_HEADERS
        if name in values
    ]
    return _joined(lines)


def _joined(lines: list[bytes]) -> bytes:
    for line in lines:
        if b"\n" in line or b"\r" in line:
            raise ValueError("request hash input contains a line break")
    return b"".join(line + b"\n" for line in lines)
