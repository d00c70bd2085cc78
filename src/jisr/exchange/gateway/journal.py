"""Turning one exchange into the two message-log records (request, response).

Both faces log the request and the response as they were on the wire between the gateways:
X-Road headers, the signature fields and the Content-Digest, and — per subsystem, below a
size cap — the bodies themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from jisr.exchange.gateway import errors
from jisr.exchange.gateway.bodies import SpooledBody
from jisr.exchange.messagelog import LogRecord, MessageLogError
from jisr.storage.types import utcnow

__all__ = ["LOGGED_HEADERS", "exchange_records", "log_fault"]

LOGGED_HEADERS = frozenset(
    {
        "x-road-client",
        "x-road-service",
        "x-road-id",
        "x-road-request-id",
        "x-road-request-hash",
        "x-road-userid",
        "x-road-issue",
        "x-road-represented-party",
        "x-road-security-server",
        "x-road-error",
        "content-type",
        "content-digest",
        "signature",
        "signature-input",
    }
)


def _kept(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in LOGGED_HEADERS}


def _body(body: SpooledBody | None, keep: bool, cap: int) -> bytes | None:
    if body is None or not keep or body.size > cap:
        return None
    return body.in_memory()


def exchange_records(
    direction: str,
    request_headers: Mapping[str, str],
    request_body: SpooledBody,
    status: int | None,
    response_headers: Mapping[str, str],
    response_body: SpooledBody | None,
    *,
    error: str | None,
    keep_bodies: bool,
    body_cap: int,
) -> tuple[LogRecord, LogRecord]:
    """The request and response records of one exchange (response may be a fault)."""
    now = utcnow()
    xroad_id = request_headers["x-road-id"]
    request_id = request_headers["x-road-request-id"]
    client, service = request_headers["x-road-client"], request_headers["x-road-service"]
    request = LogRecord(
        kind="request",
        direction=direction,  # type: ignore[arg-type]
        xroad_id=xroad_id,
        request_id=request_id,
        client=client,
        service=service,
        at=now,
        headers=_kept(request_headers),
        content_digest=request_headers.get("content-digest", ""),
        body_size=request_body.size,
        body=_body(request_body, keep_bodies, body_cap),
    )
    kept = _kept(response_headers)
    response = LogRecord(
        kind="response",
        direction=direction,  # type: ignore[arg-type]
        xroad_id=xroad_id,
        request_id=request_id,
        client=client,
        service=service,
        at=now,
        headers=kept,
        content_digest=kept.get("content-digest", ""),
        body_size=response_body.size if response_body else 0,
        body=_body(response_body, keep_bodies, body_cap),
        status=status,
        error=error or kept.get("x-road-error"),
    )
    return request, response


def log_fault(failure: BaseException, face: Literal["consumer", "provider"]) -> errors.XRoadError:
    """The X-Road fault for a failed append: TimestamperFailed when the log refuses because
    time-stamping is down (as X-Road refuses messages it cannot time-stamp), LoggingFailed
    for anything else."""
    if isinstance(failure, MessageLogError):
        return errors.from_code(failure.xroad_code(face), str(failure))
    code = (
        "Server.ClientProxy.LoggingFailed"
        if face == "consumer"
        else ("Server.ServerProxy.LoggingFailed")
    )
    return errors.from_code(code, "the message log could not store the exchange")
