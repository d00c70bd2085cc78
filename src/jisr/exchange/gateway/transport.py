"""TLS plumbing between gateways and towards information systems.

* :class:`TLSHttpProtocol` — uvicorn's httptools protocol, plus the ASGI TLS extension
  (``scope["extensions"]["tls"]``, asgiref spec) so the application sees the peer's
  certificate. uvicorn verifies the chain during the handshake; the application then pins
  the certificate's SHA-256 against the global configuration (``client_cert_sha256``).
* :class:`TrustStore` — the CA certificates of the own and federated instances, added to the
  live SSL contexts as the configuration changes (OpenSSL applies additions to new
  handshakes; removals need no action because fingerprints are pinned).
* :func:`client_context` — the TLS context of the pooled connections to peer gateways.
* :func:`duplex_request` — one HTTP/1.1 exchange with a backend that reads the response
  while it still writes the request body, for large bodies (see its docstring).
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, MutableMapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import h11
import httpcore
import httpx
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "BackendError",
    "TLSHttpProtocol",
    "TrustStore",
    "client_context",
    "duplex_request",
    "peer_certificate_sha256",
    "server_context",
]

READ_CHUNK = 64 * 1024


class TLSHttpProtocol(HttpToolsProtocol):
    """HTTP/1.1 over TLS with the peer certificate exposed to the ASGI application."""

    _tls: dict[object, object]

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self._tls = {
            "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
            "client_cert_sha256": hashlib.sha256(der).hexdigest() if der else None,
            "tls_version": ssl_object.version() if ssl_object is not None else None,
        }

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # uvicorn types extensions as dict[str, dict[object, object]]; the TLS entry is ours.
        self.scope["extensions"] = {"tls": dict(self._tls)}


def peer_certificate_sha256(scope: MutableMapping[str, Any]) -> str | None:
    """SHA-256 (hex) of the TLS client certificate of this request, if any."""
    tls = scope.get("extensions", {}).get("tls")
    return None if tls is None else tls.get("client_cert_sha256")


class TrustStore:
    """CA certificates (DER) trusted for TLS, kept in sync with the global configuration."""

    def __init__(self) -> None:
        self._known: set[bytes] = set()
        self._contexts: list[ssl.SSLContext] = []

    def attach(self, context: ssl.SSLContext) -> None:
        self._contexts.append(context)
        for der in self._known:
            context.load_verify_locations(cadata=der)

    def update(self, certificates: Iterable[bytes]) -> int:
        """Add new CA certificates to every attached context; return how many were new."""
        new = [der for der in certificates if der not in self._known]
        for der in new:
            self._known.add(der)
            for context in self._contexts:
                context.load_verify_locations(cadata=der)
        return len(new)

    def pem_bundle(self) -> str:
        return "".join(ssl.DER_cert_to_PEM_cert(der) for der in sorted(self._known))


def client_context(
    certificate: Path, key: Path, passphrase: bytes | None, trust: TrustStore
) -> ssl.SSLContext:
    """mTLS client context: our auth certificate, the instance CAs, TLS 1.2+ only.

    Host names are checked against the gateway address (the SAN the central issued); the
    certificate fingerprint is pinned again by the caller.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks host, no public CAs
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate, key, password=passphrase)
    trust.attach(context)
    return context


def server_context(
    certificate: Path,
    key: Path,
    passphrase: bytes | None,
    trust: TrustStore,
    *,
    require_client: bool,
) -> ssl.SSLContext:
    """Server context: provider face (client certificate required, instance CAs) or the IS
    face (certificate optional; the trust store holds the registered IS certificates)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate, key, password=passphrase)
    context.verify_mode = ssl.CERT_REQUIRED if require_client else ssl.CERT_OPTIONAL
    if not require_client:
        # The registered IS certificates are themselves the trust anchors (often
        # self-signed, possibly issued by a CA the gateway knows nothing of).
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    trust.attach(context)
    return context


# --- full-duplex HTTP/1.1 towards a backend -------------------------------------------------


class BackendError(Exception):
    """A backend exchange failed: ``reached`` once connected, ``timeout`` if it stalled."""

    def __init__(self, message: str, *, reached: bool, timeout: bool = False) -> None:
        super().__init__(message)
        self.reached = reached
        self.timeout = timeout


async def duplex_request(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: AsyncIterator[bytes],
    sink: Callable[[bytes], None],
    *,
    io_timeout: float,
    connect_timeout: float,
) -> tuple[int, list[tuple[bytes, bytes]]]:
    """Send a request on a fresh connection while reading its response into ``sink``;
    return the status and the raw response headers once the response is complete.

    A server may answer before it has read the whole request (RFC 9112 §9.5), streaming
    services do: a client that reads only after writing stalls on both sides as soon as the
    unread response fills the socket buffers. Pooled clients (httpx) write first, so large
    bodies go this way. A server may also answer without reading the rest: the upload
    stops once the response is complete. ``io_timeout`` bounds every read and write, as
    httpx's does. Raises :class:`BackendError`.
    """
    target = httpx.URL(url)
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        stream = await httpcore.AnyIOBackend().connect_tcp(
            target.host, port, timeout=connect_timeout
        )
        if target.scheme == "https":
            stream = await stream.start_tls(
                httpx.create_ssl_context(), server_hostname=target.host, timeout=connect_timeout
            )
    except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as error:
        message = f"cannot connect to {target.host}:{port}: {error!r}"
        raise BackendError(message, reached=False) from None
    connection = h11.Connection(h11.CLIENT)
    request = h11.Request(
        method=method,
        target=target.raw_path,
        # Persistent (HTTP/1.1's default), although the connection is closed after the
        # exchange: a server told "close" may close as soon as it has answered, and a close
        # with unread request bytes is a TCP reset that can destroy its unread answer.
        headers=[("host", target.netloc.decode("ascii")), *headers],
    )
    upload: asyncio.Task[None] | None = None
    try:
        await stream.write(connection.send(request) or b"", timeout=io_timeout)
        upload = asyncio.create_task(_upload(connection, stream, body, io_timeout))
        return await _download(connection, stream, sink, io_timeout)
    except (httpcore.ReadTimeout, httpcore.WriteTimeout):
        raise BackendError(f"no progress in {io_timeout} s", reached=True, timeout=True) from None
    except (httpcore.NetworkError, h11.ProtocolError) as error:
        raise BackendError(f"the exchange failed: {error!r}", reached=True) from None
    finally:
        if upload is not None:
            upload.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await upload  # a failed upload matters only if the response is incomplete
        with suppress(Exception):
            await stream.aclose()


async def _upload(
    connection: h11.Connection,
    stream: httpcore.AsyncNetworkStream,
    body: AsyncIterator[bytes],
    io_timeout: float,
) -> None:
    async for chunk in body:
        await stream.write(connection.send(h11.Data(data=chunk)) or b"", timeout=io_timeout)
    await stream.write(connection.send(h11.EndOfMessage()) or b"", timeout=io_timeout)


async def _download(
    connection: h11.Connection,
    stream: httpcore.AsyncNetworkStream,
    sink: Callable[[bytes], None],
    io_timeout: float,
) -> tuple[int, list[tuple[bytes, bytes]]]:
    response: h11.Response | None = None
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(await stream.read(READ_CHUNK, timeout=io_timeout))
        elif isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            sink(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage) and response is not None:
            return response.status_code, [(bytes(k), bytes(v)) for k, v in response.headers]
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            raise h11.RemoteProtocolError("connection closed before the response ended")
