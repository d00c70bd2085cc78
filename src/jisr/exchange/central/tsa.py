"""``POST /tsa``: the instance's RFC 3161 time-stamp authority over HTTP (RFC 3161 §3.4)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from jisr.crypto.tsp import TimeStampAuthority
from jisr.problems import Problem

__all__ = ["MAX_QUERY_BYTES", "QUERY_MEDIA_TYPE", "REPLY_MEDIA_TYPE", "stamp"]

QUERY_MEDIA_TYPE = "application/timestamp-query"
REPLY_MEDIA_TYPE = "application/timestamp-reply"
MAX_QUERY_BYTES = 16 * 1024  # a TimeStampReq carries a digest and a nonce: a few hundred bytes


async def stamp(authority: TimeStampAuthority, request: Request) -> Response:
    """Answer one query. A bad query gets an RFC 3161 rejection (HTTP 200, §2.4.2), not a
    problem document: that is what time-stamp clients such as ``openssl ts`` expect."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != QUERY_MEDIA_TYPE:
        raise Problem(415, "unsupported_media_type", f"expected Content-Type: {QUERY_MEDIA_TYPE}")
    body = await request.body()
    if len(body) > MAX_QUERY_BYTES:
        raise Problem(
            413, "body_too_large", f"a time-stamp query is at most {MAX_QUERY_BYTES} bytes"
        )
    # Signing is CPU work; keep it off the event loop.
    reply = await asyncio.to_thread(authority.respond, body)
    return Response(reply, media_type=REPLY_MEDIA_TYPE)
