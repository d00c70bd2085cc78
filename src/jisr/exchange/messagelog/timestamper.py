"""Where the log gets its RFC 3161 time-stamps: one async call, one digest, one token.

:class:`Timestamper` is the extension point (a protocol with one method); the log never
cares how a token was obtained. :class:`HttpTimestamper` asks the instance TSA over HTTP
(RFC 3161 §3.4: ``POST`` of ``application/timestamp-query``) and accepts only a reply that
verifies: right digest, our nonce, a TSA certificate we were given, chaining to the CAs.
:meth:`HttpTimestamper.timestamp_info` also returns what that verification established, so
the log need not verify the same token a second time.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Protocol

import httpx
from cryptography import x509

from jisr.crypto.tsp import TimestampInfo, make_request, verify_response

__all__ = ["QUERY_MEDIA_TYPE", "REPLY_MEDIA_TYPE", "HttpTimestamper", "Timestamper"]

QUERY_MEDIA_TYPE = "application/timestamp-query"
REPLY_MEDIA_TYPE = "application/timestamp-reply"


class Timestamper(Protocol):
    async def timestamp(self, digest: bytes) -> bytes:
        """The DER TimeStampToken over the SHA-256 ``digest``; raises on any failure."""
        ...


class HttpTimestamper:
    """An RFC 3161 client for one TSA URL; verifies every reply before returning it."""

    def __init__(
        self,
        url: str,
        *,
        tsa_certificates: Sequence[x509.Certificate],
        ca_certificates: Sequence[x509.Certificate],
        http: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
    ) -> None:
        if not tsa_certificates:
            raise ValueError("at least one TSA certificate is needed to verify replies")
        self.url = url
        self._tsa_certificates = list(tsa_certificates)
        self._ca_certificates = list(ca_certificates)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient()
        self._timeout = timeout

    async def timestamp(self, digest: bytes) -> bytes:
        return (await self.timestamp_info(digest)).token_der

    async def timestamp_info(self, digest: bytes) -> TimestampInfo:
        """:meth:`timestamp`, with what the verified token attests (``token_der`` is it)."""
        nonce = secrets.randbits(63)  # RFC 3161 §2.4.1: binds the reply to this request
        # certReq: the token carries the TSA certificate, so `openssl ts -verify` needs
        # nothing but the CA.
        query = make_request(digest, nonce=nonce, cert_req=True)
        response = await self._http.post(
            self.url,
            content=query,
            headers={"Content-Type": QUERY_MEDIA_TYPE},
            timeout=self._timeout,
        )
        response.raise_for_status()
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != REPLY_MEDIA_TYPE:
            raise httpx.HTTPError(f"the TSA answered {media_type or 'no content type'}")
        # ASN.1 parsing and signature checks are CPU work: keep them off the event loop,
        # which is serving exchanges meanwhile.
        return await asyncio.to_thread(
            verify_response,
            response.content,
            digest=digest,
            nonce=nonce,
            tsa_certificates=self._tsa_certificates,
            ca_certificates=self._ca_certificates,
        )

    async def aclose(self) -> None:
        """Close the HTTP client if this timestamper created it."""
        if self._owns_http:
            await self._http.aclose()
