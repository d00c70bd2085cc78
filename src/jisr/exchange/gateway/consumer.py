"""Consumer face: information systems call ``/r1/...`` on their own gateway (PR-REST).

The steps, in order (docs/gateway.md): refuse if the gateway cannot serve; parse the
X-Road headers and the service path; authenticate the client IS (none / TLS / mutual TLS);
find the provider's gateways in the global configuration; spool and digest the body; sign;
send over pooled mutual TLS, pinning the peer certificate; verify the response's signature,
digest and consistency with the request; log both records durably; answer.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from starlette.types import Receive, Scope, Send

from jisr.crypto.httpsig import SignatureError, check_content_digest
from jisr.exchange.gateway import errors, http11, protocol
from jisr.exchange.gateway.bodies import BodyTooLarge, SpooledBody, read_asgi_body
from jisr.exchange.gateway.journal import exchange_records, log_fault
from jisr.exchange.gateway.registry import Connection
from jisr.exchange.gateway.runtime import Gateway
from jisr.exchange.gateway.signing import sign_request, verify_response
from jisr.exchange.gateway.transport import peer_certificate_sha256
from jisr.exchange.globalconf import GatewayEntry
from jisr.ids import GatewayId, MemberId, ServiceId, SubsystemId

__all__ = ["ConsumerFace"]

log = structlog.get_logger("jisr.gateway.consumer")
DEFAULT_CONNECTION = Connection("mtls", None, True)
SIGNATURE_HEADERS = frozenset({b"signature", b"signature-input", b"content-digest"})


@dataclass
class Outgoing:
    """A signed request ready for a provider gateway."""

    method: str
    target: protocol.Target
    headers: dict[str, str]
    body: SpooledBody


class ConsumerFace:
    """The ASGI application information systems talk to."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        accept = _header(scope, b"accept")
        try:
            if scope["path"] == "/listClients":
                await self._list_clients(scope, send, accept)
                return
            await self._exchange(scope, receive, send)
        except errors.XRoadError as error:
            self.gateway.telemetry.fault("consumer", error.code)
            await _send_error(send, error, accept)

    # --------------------------------------------------------------- exchange
    async def _exchange(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        gateway.check_serving("consumer")
        headers = protocol.parse_client_headers(scope["headers"])
        client = str(headers.client)
        connection = self._authenticate(scope, client)
        target = protocol.parse_target(
            scope.get("raw_path") or scope["path"].encode(),
            scope["query_string"],
            is_subsystem=self._is_subsystem,
        )
        peers = self._providers(target.service, headers.security_server)
        try:
            body = await read_asgi_body(
                receive,
                limit=gateway.settings.max_body_bytes,
                memory=gateway.settings.spool_memory_bytes,
            )
        except BodyTooLarge as error:
            raise errors.BadRequest(str(error)) from None
        try:
            outgoing = self._prepare(scope, headers, target, body)
            response, response_body = await self._send(outgoing, peers)
            try:
                await self._check_response(outgoing, response, response_body)
            except errors.XRoadError as error:
                await self._record(outgoing, connection, response, response_body, error)
                raise
            await self._record(outgoing, connection, response, response_body, None)
            await _relay(send, response, response_body)
            response_body.close()
        finally:
            body.close()

    def _authenticate(self, scope: Scope, client: str) -> Connection:
        """The client must be hosted here and authenticate as its connection mode says."""
        hosted = self.gateway.hosted()
        if hosted is None or client not in hosted.clients:
            raise errors.ClientProxyUnknownMember(
                f"client {client} is not registered on this gateway"
            )
        connection = self.gateway.catalogue.connections.get(client, DEFAULT_CONNECTION)
        if connection.mode == "none":
            return connection
        if scope.get("scheme") != "https":
            raise errors.ClientProxySslAuthenticationFailed(
                f"client {client} must connect over TLS (mode {connection.mode})"
            )
        if (
            connection.mode == "mtls"
            and peer_certificate_sha256(scope) != connection.certificate_sha256
        ):
            raise errors.ClientProxySslAuthenticationFailed(
                f"client {client} did not present its registered TLS certificate"
            )
        return connection

    def _is_subsystem(self, member: MemberId, code: str) -> bool:
        return self.gateway.conf.find_subsystem(str(member.subsystem(code))) is not None

    def _providers(
        self, service: ServiceId, security_server: GatewayId | None
    ) -> list[GatewayEntry]:
        provider = service.provider
        conf = self.gateway.conf
        if isinstance(provider, SubsystemId):
            peers = conf.gateways_for(str(provider))
        else:
            document = conf.current(provider.instance)
            prefix = f"{provider}/"
            peers = [
                g for g in (document.gateways if document else ()) if str(g.id).startswith(prefix)
            ]
        if security_server is not None:
            peers = [g for g in peers if str(g.id) == str(security_server)]
        if not peers:
            raise errors.ClientProxyUnknownService(f"no gateway provides service {service}")
        return peers

    def _prepare(
        self,
        scope: Scope,
        headers: protocol.ClientHeaders,
        target: protocol.Target,
        body: SpooledBody,
    ) -> Outgoing:
        """The request for the provider gateway: headers re-issued, body digest added
        (signed per attempt in :meth:`_send`, since the target URI names the gateway)."""
        out = protocol.outgoing_headers(
            headers, service=target.service, request_id=str(uuid.uuid4())
        )
        out["content-digest"] = _digest_value(body)
        return Outgoing(scope["method"], target, out, body)

    async def _send(
        self, outgoing: Outgoing, peers: list[GatewayEntry]
    ) -> tuple[http11.Response, SpooledBody]:
        gateway = self.gateway
        assert gateway.signing is not None
        last_error: Exception | None = None
        small = outgoing.body.in_memory()
        for peer in peers:
            host, port = _host_port(peer.address)
            url = f"https://{peer.address}{outgoing.target.uri}"
            headers = dict(outgoing.headers)
            signature_input, signature = sign_request(
                outgoing.method,
                url,
                headers,
                key=gateway.keys.sign_key(),
                keyid=gateway.signing.sha256,
                now=gateway.now(),
            )
            headers["signature-input"], headers["signature"] = signature_input, signature
            headers["content-length"] = str(outgoing.body.size)
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            try:
                response = await gateway.peers.request(
                    outgoing.method,
                    host,
                    port,
                    outgoing.target.uri,
                    raw,
                    body=small if small is not None else outgoing.body.chunks,
                    seconds=gateway.settings.request_timeout,
                    server_hostname=host,
                )
            except http11.ConnectFailed as error:
                last_error = error
                log.warning("consumer.peer_unreachable", peer=str(peer.id), error=str(error))
                continue
            except http11.ClientError as error:
                raise errors.ClientProxyNetworkError(
                    f"provider gateway {peer.id}: {error}"
                ) from None
            body = SpooledBody(
                limit=gateway.settings.max_body_bytes, memory=gateway.settings.spool_memory_bytes
            )
            try:
                self._pin(response, peer)
                async for chunk in response.chunks():
                    body.write(chunk)
            except BodyTooLarge as error:
                raise errors.ClientProxyNetworkError(f"response {error}") from None
            except http11.ClientError as error:
                raise errors.ClientProxyNetworkError(
                    f"reading the response failed: {error}"
                ) from None
            finally:
                response.close()
            outgoing.headers = headers
            return response, body
        raise errors.ClientProxyNetworkError(f"no provider gateway reachable: {last_error}")

    @staticmethod
    def _pin(response: http11.Response, peer: GatewayEntry) -> None:
        """The provider gateway's certificate must be one the configuration lists for it."""
        if response.peer_sha256 not in {c.sha256 for c in peer.auth_certificates}:
            raise errors.ClientProxySslAuthenticationFailed(
                f"gateway {peer.id} presented a certificate not in the global configuration"
            )

    async def _check_response(
        self, outgoing: Outgoing, response: http11.Response, body: SpooledBody
    ) -> None:
        headers = response.fields
        if "signature" not in headers:
            if "x-road-error" in headers:
                return  # an unsigned fault from the provider gateway (before it could verify)
            raise errors.ClientProxyMissingSignature(
                "the provider gateway's response is not signed"
            )
        gateway = self.gateway
        try:
            verify_response(
                response.status,
                headers,
                resolve_key=lambda keyid: (entry := gateway.signing_key_for(keyid)) and entry[1],
                now=gateway.now(),
                window=gateway.settings.replay_window,
            )
            check_content_digest(headers.get("content-digest", ""), {"sha-256": body.sha256})
        except SignatureError as error:
            if error.reason in ("digest_mismatch", "digest_missing"):
                raise errors.ClientProxyInvalidDigest(f"response body: {error}") from None
            raise errors.ClientProxyInvalidSignatureValue(f"response signature: {error}") from None
        expected = {
            "x-road-client": outgoing.headers["x-road-client"],
            "x-road-service": outgoing.headers["x-road-service"],
            "x-road-id": outgoing.headers["x-road-id"],
            "x-road-request-id": outgoing.headers["x-road-request-id"],
            "x-road-request-hash": protocol.request_hash(
                outgoing.method, outgoing.target, outgoing.headers, outgoing.body.sha512
            ),
        }
        for name, value in expected.items():
            if headers.get(name) != value:
                raise errors.ClientProxyInconsistentResponse(
                    f"response {name} {headers.get(name)!r} does not match the request"
                )

    async def _record(
        self,
        outgoing: Outgoing,
        connection: Connection,
        response: http11.Response | None,
        response_body: SpooledBody | None,
        error: errors.XRoadError | None,
    ) -> None:
        gateway = self.gateway
        assert gateway.log is not None
        records = exchange_records(
            "consumer",
            outgoing.headers,
            outgoing.body,
            response.status if response is not None else None,
            response.fields if response is not None else {},
            response_body,
            error=error.code if error else None,
            keep_bodies=connection.log_bodies and gateway.settings.log_bodies,
            body_cap=gateway.settings.log_body_max_bytes,
        )
        try:
            await gateway.log.append(*records)
        except Exception as failure:
            log.error("consumer.logging_failed", error=repr(failure))
            raise log_fault(failure, "consumer") from None

    async def _list_clients(self, scope: Scope, send: Send, accept: str | None) -> None:
        from jisr.exchange.gateway.meta import list_clients_response

        status, headers, body = list_clients_response(self.gateway, scope, accept)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _digest_value(body: SpooledBody) -> str:
    return f"sha-256=:{base64.b64encode(body.sha256).decode()}:"


def _host_port(address: str) -> tuple[str, int]:
    """``host[:port]`` of a gateway address (default port 443; IPv6 in brackets)."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 443
    host, _, port = address.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else (address, 443)


def _header(scope: Scope, name: bytes) -> str | None:
    value = None
    for key, raw in scope["headers"]:
        if key == name:
            value = raw.decode("latin-1")
    return value


async def _send_error(send: Send, error: errors.XRoadError, accept: str | None) -> None:
    status, headers, body = errors.error_response(error, accept)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _relay(send: Send, response: http11.Response, body: SpooledBody) -> None:
    headers = [(k, v) for k, v in response.headers if k not in SIGNATURE_HEADERS]
    headers = protocol.filter_response_headers(headers, keep_xroad=True)
    headers.append((b"content-length", str(body.size).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    async for chunk in _with_last(body.chunks()):
        data, last = chunk
        await send({"type": "http.response.body", "body": data, "more_body": not last})
    if body.size == 0:
        await send({"type": "http.response.body", "body": b""})


async def _with_last(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[bytes, bool]]:
    previous: bytes | None = None
    async for chunk in chunks:
        if previous is not None:
            yield previous, False
        previous = chunk
    if previous is not None:
        yield previous, True
