"""A bare relay: the floor of a two-hop chain in this stack, with none of the gateway's work.

``benchmarks/exchange.py`` runs two of these in front of the same backend, in the same run
as the direct call and the full exchange: client → relay → (mutual TLS) → relay → backend.
They use what the gateways use — uvicorn with httptools on uvloop, the gateway's pooled
HTTP/1.1 client (``jisr.exchange.gateway.http11``) and TLS 1.3 with P-256 certificates —
but do nothing else: no X-Road parsing, no signatures, no digests, no message log, no
access checks. Whatever rate this chain reaches, the gateways cannot beat; the gap between
it and the exchange is what the gateway's own work costs.

    python benchmarks/relay.py --port P --upstream HOST:PORT [--tls-in DIR] [--tls-out DIR]

``--tls-in DIR`` serves HTTPS requiring a client certificate, ``--tls-out DIR`` connects
upstream over TLS presenting one; ``DIR`` holds ``cert.pem`` and ``key.pem`` (see
:func:`make_certificate`), trusted as their own CA by both ends.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jisr.exchange.gateway.http11 import Pool

DROPPED = {b"host", b"connection", b"content-length", b"transfer-encoding", b"keep-alive"}


def make_certificate(directory: Path) -> None:
    """A self-signed P-256 certificate for 127.0.0.1 (server and client authentication)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


class Relay:
    """Read the request, send it upstream on a pooled connection, relay the answer."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None) -> None:
        self.host, self.port = host, port
        self.pool = Pool(ssl_context=context)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        parts = []
        more = True
        while more:
            message = await receive()
            parts.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(parts)
        headers = [(k, v) for k, v in scope["headers"] if k not in DROPPED]
        headers.append((b"content-length", str(len(body)).encode()))
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        response = await self.pool.request(
            scope["method"],
            self.host,
            self.port,
            target,
            headers,
            body=body,
            seconds=30,
            server_hostname=self.host,
        )
        answer = b"".join([chunk async for chunk in response.chunks()])
        response.close()
        out = [(k, v) for k, v in response.headers if k.lower() not in DROPPED]
        out.append((b"content-length", str(len(answer)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": out})
        await send({"type": "http.response.body", "body": answer})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--tls-in", type=Path)
    parser.add_argument("--tls-out", type=Path)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    context = None
    if args.tls_out:
        context = ssl.create_default_context(cafile=str(args.tls_out / "cert.pem"))
        context.load_cert_chain(args.tls_out / "cert.pem", args.tls_out / "key.pem")
    options: dict[str, Any] = {}
    if args.tls_in:
        options = {
            "ssl_certfile": str(args.tls_in / "cert.pem"),
            "ssl_keyfile": str(args.tls_in / "key.pem"),
            "ssl_ca_certs": str(args.tls_in / "cert.pem"),
            "ssl_cert_reqs": ssl.CERT_REQUIRED,
        }
    config = uvicorn.Config(
        Relay(host, int(port), context),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        **options,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
