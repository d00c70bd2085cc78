"""TLS plumbing between gateways and towards information systems.

* :class:`TLSHttpProtocol` — uvicorn's httptools protocol, plus the ASGI TLS extension
  (``scope["extensions"]["tls"]``, asgiref spec) so the application sees the peer's
  certificate. uvicorn verifies the chain during the handshake; the application then pins
  the certificate's SHA-256 against the global configuration (``client_cert_sha256``).
* :class:`TrustStore` — the CA certificates of the own and federated instances, added to the
  live SSL contexts as the configuration changes (OpenSSL applies additions to new
  handshakes; removals need no action because fingerprints are pinned).
* :func:`client_context` — the TLS context of the pooled connections to peer gateways.

The HTTP/1.1 client of the hot path (peer gateways, backends) is :mod:`.http11`.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "TLSHttpProtocol",
    "TrustStore",
    "client_context",
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
