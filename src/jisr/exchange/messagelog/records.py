"""What one log record holds, and the leaf bytes the Merkle tree commits to.

A record is one HTTP message seen by one face of a gateway: the X-Road metadata, the
headers as sent or received (including the RFC 9421 signature headers), the RFC 9530
``Content-Digest`` and, when the gateway keeps it, the body.

The *leaf* of a record is a JSON object (format ``jisr-messagelog-leaf/1``) of every field
except the body, which is replaced by its SHA-256 (``body_sha256``, lowercase hex; ``null``
when the body is not kept). The leaf bytes are its RFC 8785 canonical JSON, and the leaf
hash is ``SHA-256(0x00 || bytes)`` (RFC 9162 §2.1.1). The tree therefore proves a kept body
without the body being part of the leaf.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import json.encoder
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, get_args

from jisr.crypto.canonical import canonical_json
from jisr.exchange.messagelog.merkle import leaf_hash

__all__ = [
    "LEAF_FORMAT",
    "MAX_ID_LENGTH",
    "Direction",
    "Kind",
    "LogRecord",
    "StoredRecord",
    "body_matches_content_digest",
    "check_record",
    "format_time",
    "leaf_bytes",
    "leaf_object",
    "parse_time",
    "record_from_leaf",
    "record_leaf_bytes",
]

LEAF_FORMAT = "jisr-messagelog-leaf/1"
#: X-Road-Id and request ids are indexed; X-Road keeps them in 255-character columns.
MAX_ID_LENGTH = 255
#: RFC 8785 numbers are IEEE 754 doubles: integers beyond this are not exact.
_MAX_SAFE_INTEGER = 2**53 - 1
_DIGESTS = {"sha-256": "sha256", "sha-512": "sha512"}  # RFC 9530 §5 (active algorithms)

Kind = Literal["request", "response"]
Direction = Literal["consumer", "provider"]


@dataclass(frozen=True)
class LogRecord:
    """One message as a gateway face saw it (the gateway's input to :meth:`MessageLog.append`)."""

    kind: Kind
    direction: Direction  # which face of the gateway logged it
    xroad_id: str
    request_id: str
    client: str
    service: str
    at: datetime  # aware; stored in UTC
    headers: Mapping[str, str]
    content_digest: str  # RFC 9530 Content-Digest header value
    body_size: int
    body: bytes | None = field(default=None, repr=False)  # None: only the digest is kept
    status: int | None = None  # responses
    error: str | None = None  # X-Road error code if the exchange failed


@dataclass(frozen=True)
class StoredRecord:
    """A record as the log holds it: where it sits in the tree and what the leaf commits to."""

    log_id: str
    leaf_index: int
    leaf_hash: bytes
    body_sha256: str | None
    record: LogRecord


_KINDS: tuple[str, ...] = get_args(Kind)
_DIRECTIONS: tuple[str, ...] = get_args(Direction)


def check_record(record: LogRecord) -> None:
    """Refuse (ValueError) what cannot be logged faithfully, before it joins a batch."""
    if record.kind not in _KINDS:
        raise ValueError(f"kind must be request or response, not {record.kind!r}")
    if record.direction not in _DIRECTIONS:
        raise ValueError(f"direction must be consumer or provider, not {record.direction!r}")
    xroad_id, request_id = record.xroad_id, record.request_id
    if not isinstance(xroad_id, str) or len(xroad_id) > MAX_ID_LENGTH:
        raise ValueError(f"xroad_id must be a string of at most {MAX_ID_LENGTH} characters")
    if not isinstance(request_id, str) or len(request_id) > MAX_ID_LENGTH:
        raise ValueError(f"request_id must be a string of at most {MAX_ID_LENGTH} characters")
    for name, value in (
        ("client", record.client),
        ("service", record.service),
        ("content_digest", record.content_digest),
    ):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
    if record.at.tzinfo is None:
        raise ValueError("at must be an aware datetime")
    for key, value in record.headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError("headers must map strings to strings")
    _check_integers(record)
    if record.body is not None and len(record.body) != record.body_size:
        raise ValueError(f"body is {len(record.body)} bytes, body_size says {record.body_size}")
    if record.error is not None and not isinstance(record.error, str):
        raise ValueError("error must be a string")


def _check_integers(record: LogRecord) -> None:
    if type(record.body_size) is not int or not 0 <= record.body_size <= _MAX_SAFE_INTEGER:
        raise ValueError("body_size must be a non-negative integer below 2**53")
    if record.status is not None and (
        type(record.status) is not int or not 0 <= record.status <= 999
    ):
        raise ValueError("status must be an HTTP status code")


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with exactly six fractional digits: one spelling per instant."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Inverse of :func:`format_time` (ValueError for any other spelling)."""
    if not text.endswith("Z"):
        raise ValueError(f"{text!r} is not in the leaf time format")
    moment = datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    if format_time(moment) != text:
        raise ValueError(f"{text!r} is not in the leaf time format")
    return moment


def body_sha256(body: bytes | None) -> str | None:
    return None if body is None else hashlib.sha256(body).hexdigest()


def leaf_object(record: LogRecord, body_digest: str | None) -> dict[str, Any]:
    """The JSON object the leaf commits to (``body_digest``: hex SHA-256 of the body)."""
    return {
        "format": LEAF_FORMAT,
        "kind": record.kind,
        "direction": record.direction,
        "xroad_id": record.xroad_id,
        "request_id": record.request_id,
        "client": record.client,
        "service": record.service,
        "at": format_time(record.at),
        "headers": dict(record.headers),
        "content_digest": record.content_digest,
        "body_size": record.body_size,
        "body_sha256": body_digest,
        "status": record.status,
        "error": record.error,
    }


def leaf_bytes(leaf: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of a leaf object.

    The leaf holds strings, safe integers and null under ASCII member names except for
    the header names. When those are ASCII too, RFC 8785's key order (§3.2.3, UTF-16 code
    units) is Python's, and its string escaping (§3.2.2.2) is ``json``'s with
    ``ensure_ascii=False``: the same bytes, four times faster than the general encoder.
    """
    if all(name.isascii() for name in leaf["headers"]):
        text = json.dumps(leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode()  # a lone surrogate raises here, as RFC 8785 requires
    return canonical_json(leaf)


def prepare(record: LogRecord) -> tuple[str | None, bytes]:
    """``(body_sha256, leaf_hash)`` of a checked record: the writer's per-record work."""
    digest = body_sha256(record.body)
    return digest, leaf_hash(record_leaf_bytes(record, digest))


def record_leaf_bytes(record: LogRecord, body_digest: str | None) -> bytes:
    """``leaf_bytes(leaf_object(record, body_digest))``, without building the leaf object.

    The leaf object has fixed ASCII member names, so their RFC 8785 order (§3.2.3) is fixed
    and written out below; only the values are encoded. That is exactly what
    :func:`leaf_bytes` does through ``json.dumps`` when the header names are ASCII: strings
    through the same ``json.encoder.encode_basestring`` (its ``ensure_ascii=False``
    escaping, which is RFC 8785's), integers with ``int.__repr__``, ``None`` as ``null``,
    header members sorted by name. Any other case (a non-ASCII or non-string header name,
    a value of another type) takes the general path, which decides as it always has; so
    does the error for a lone surrogate, raised here by the UTF-8 encoding as there.
    """
    text = _leaf_text(record, body_digest)
    if text is None:
        return leaf_bytes(leaf_object(record, body_digest))
    return text.encode()


def _leaf_text(record: LogRecord, body_digest: str | None) -> str | None:
    """The canonical JSON text of the leaf, or None if it needs the general encoder."""
    headers = record.headers
    if type(headers) is not dict:
        headers = dict(headers)
    strings = (
        record.kind,
        record.direction,
        record.xroad_id,
        record.request_id,
        record.client,
        record.service,
        record.content_digest,
    )
    body_size, status, error = record.body_size, record.status, record.error
    if (
        any(type(value) is not str for value in strings)
        or type(body_size) is not int
        or not (status is None or type(status) is int)
        or not (error is None or type(error) is str)
        or not (body_digest is None or type(body_digest) is str)
    ):
        return None
    try:  # "".join: TypeError for a name that is not a string
        if not "".join(headers).isascii():
            return None
        members = ",".join([f"{_string(k)}:{_string(v)}" for k, v in sorted(headers.items())])
    except TypeError:  # a header value that is not a string
        return None
    kind, direction, xroad_id, request_id, client, service, content_digest = map(_string, strings)
    return (
        f'{{"at":{_string(format_time(record.at))},'
        f'"body_sha256":{_NULL if body_digest is None else _string(body_digest)},'
        f'"body_size":{body_size!r},'
        f'"client":{client},'
        f'"content_digest":{content_digest},'
        f'"direction":{direction},'
        f'"error":{_NULL if error is None else _string(error)},'
        f'"format":"{LEAF_FORMAT}",'
        f'"headers":{{{members}}},'
        f'"kind":{kind},'
        f'"request_id":{request_id},'
        f'"service":{service},'
        f'"status":{_NULL if status is None else repr(status)},'
        f'"xroad_id":{xroad_id}}}'
    )


_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses
_NULL = "null"


def record_from_leaf(leaf: Mapping[str, Any], body: bytes | None) -> LogRecord:
    """Rebuild a record from its leaf object (archives, evidence); ValueError if malformed."""
    if leaf.get("format") != LEAF_FORMAT:
        raise ValueError(f"leaf format is not {LEAF_FORMAT}")
    expected = set(leaf_object(_EXAMPLE, None))
    if set(leaf) != expected:
        raise ValueError(f"leaf members differ: {sorted(set(leaf) ^ expected)}")
    headers = leaf["headers"]
    if not isinstance(headers, dict):
        raise ValueError("headers must be an object")
    record = LogRecord(
        kind=leaf["kind"],
        direction=leaf["direction"],
        xroad_id=leaf["xroad_id"],
        request_id=leaf["request_id"],
        client=leaf["client"],
        service=leaf["service"],
        at=parse_time(_text(leaf["at"], "at")),
        headers=MappingProxyType(dict(headers)),
        content_digest=leaf["content_digest"],
        body_size=leaf["body_size"],
        body=body,
        status=leaf["status"],
        error=leaf["error"],
    )
    check_record(record)
    digest = leaf["body_sha256"]
    if body is not None and (
        not isinstance(digest, str) or not hmac.compare_digest(digest, body_sha256(body) or "")
    ):
        raise ValueError("the body does not match body_sha256")
    return record


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def body_matches_content_digest(content_digest: str, body: bytes) -> bool | None:
    """RFC 9530 §2: whether ``body`` matches every known digest in the header value.

    ``None`` when the header names no algorithm we know (nothing can be said).
    """
    known = 0
    for member in content_digest.split(","):
        name, _, value = member.strip().partition("=")
        algorithm = _DIGESTS.get(name.strip().lower())
        value = value.strip()
        if algorithm is None:
            continue
        if len(value) < 2 or value[0] != ":" or value[-1] != ":":
            return False
        try:
            expected = base64.b64decode(value[1:-1], validate=True)
        except binascii.Error:
            return False
        if not hmac.compare_digest(expected, hashlib.new(algorithm, body).digest()):
            return False
        known += 1
    return True if known else None


_EXAMPLE = LogRecord(
    kind="request",
    direction="consumer",
    xroad_id="",
    request_id="",
    client="",
    service="",
    at=datetime(2000, 1, 1, tzinfo=UTC),
    headers={},
    content_digest="",
    body_size=0,
)
