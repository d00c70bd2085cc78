"""Provider face: other gateways call this gateway's services over mutual TLS.

Order matters (docs/gateway.md): the peer's TLS certificate must be listed in a current
global configuration; the request signature is verified before anything else is read or
believed; then replay, body digest, the service, its enabled flag and the access rights are
checked; only then is the backend called. Faults raised after the signature verified are
signed like any response, so the consumer gateway can trust them.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import structlog
from starlette.types import Receive, Scope, Send

from jisr.crypto.httpsig import SignatureError, check_content_digest
from jisr.crypto.keys import PublicKey
from jisr.exchange.gateway import errors, http11, protocol
from jisr.exchange.gateway.access import is_allowed
from jisr.exchange.gateway.bodies import BodyTooLarge, SpooledBody, read_asgi_body
from jisr.exchange.gateway.journal import exchange_records, log_fault
from jisr.exchange.gateway.meta import METASERVICES, provider_metaservice
from jisr.exchange.gateway.registry import ServiceEntry
from jisr.exchange.gateway.runtime import Gateway
from jisr.exchange.gateway.signing import sign_response, verify_request
from jisr.exchange.gateway.transport import peer_certificate_sha256
from jisr.exchange.globalconf import GatewayEntry
from jisr.ids import IdentifierError, ServiceId, SubsystemId, parse_client

__all__ = ["ProviderFace"]

log = structlog.get_logger("jisr.gateway.provider")
# Headers passed to the backend besides the client's own (PR-REST §4.3).
BACKEND_XROAD = (
    "x-road-client",
    "x-road-service",
    "x-road-id",
    "x-road-userid",
    "x-road-issue",
    "x-road-represented-party",
    "x-road-request-id",
)
NOT_TO_BACKEND = frozenset(
    {"signature", "signature-input", "content-digest", "content-length", "host"}
)


class Verified:
    """A request whose signature, digest and replay checks passed."""

    def __init__(
        self, method: str, headers: dict[str, str], target: protocol.Target, body: SpooledBody
    ) -> None:
        self.method = method
        self.headers = headers
        self.target = target
        self.body = body
        self.client = headers["x-road-client"]


class ProviderFace:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            # Serving state first: an expired configuration knows no peer, so checking the
            # peer first would report every request as a TLS failure.
            self.gateway.check_serving("provider")
            peer = await self._peer(scope)
            request = await self._verify(scope, receive, peer)
        except errors.XRoadError as error:
            # §4.6: faults respect the client's Accept, which the consumer gateway passes on.
            accept = _headers(scope).get("accept")
            self.gateway.telemetry.fault("provider", error.code)
            await _send(send, *errors.error_response(error, accept))
            return
        try:
            await self._serve(scope, send, request)
        finally:
            request.body.close()

    # ------------------------------------------------------------ checks
    async def _peer(self, scope: Scope) -> GatewayEntry:
        fingerprint = peer_certificate_sha256(scope)
        if fingerprint is None:
            raise errors.ServerProxySslAuthenticationFailed("no client TLS certificate")
        peer = self.gateway.conf.is_trusted_auth_certificate(fingerprint)
        if peer is None and await self.gateway.refresh_configuration():
            # A gateway onboarded since our last poll: look again in the fresh configuration.
            peer = self.gateway.conf.is_trusted_auth_certificate(fingerprint)
        if peer is None:
            raise errors.ServerProxySslAuthenticationFailed(
                "the client TLS certificate is not a gateway certificate of a current configuration"
            )
        return peer

    async def _verify(self, scope: Scope, receive: Receive, peer: GatewayEntry) -> Verified:
        gateway = self.gateway
        headers = _headers(scope)
        if "signature" not in headers or "signature-input" not in headers:
            raise errors.ServerProxyMissingSignature("the request is not signed")
        client_text = headers.get("x-road-client", "")
        try:
            client = parse_client(client_text, encoded=True)
            service = ServiceId.parse(headers.get("x-road-service", ""), encoded=True)
        except IdentifierError as error:
            raise errors.ServerProxyInvalidSignatureValue(f"signed identifiers: {error}") from None
        member = str(client.member if isinstance(client, SubsystemId) else client)
        target_uri = _target_uri(scope)

        def resolve(keyid: str) -> PublicKey | None:
            entry = gateway.signing_key_for(keyid)
            # The signer must be the client's own member (X-Road: the client signs).
            return entry[1] if entry is not None and entry[0] == member else None

        try:
            verify_request(
                scope["method"],
                target_uri,
                headers,
                resolve_key=resolve,
                now=gateway.now(),
                window=gateway.settings.replay_window,
            )
        except SignatureError as error:
            raise errors.ServerProxyInvalidSignatureValue(f"request signature: {error}") from None
        if str(client) not in peer.clients and not str(peer.id).startswith(member + "/"):
            raise errors.ServerProxySslAuthenticationFailed(
                f"gateway {peer.id} does not host client {client}"
            )
        if not gateway.replay.check_and_add(headers["x-road-request-id"], gateway.now()):
            raise errors.ServerProxyReplayedRequest("this request id was already received")
        target = _target(scope, service)
        try:
            body = await read_asgi_body(
                receive,
                limit=gateway.settings.max_body_bytes,
                memory=gateway.settings.spool_memory_bytes,
            )
        except BodyTooLarge as error:
            raise errors.BadRequest(str(error)) from None
        try:
            check_content_digest(headers["content-digest"], {"sha-256": body.sha256})
        except SignatureError as error:
            body.close()
            raise errors.ServerProxyInvalidDigest(f"request body: {error}") from None
        return Verified(scope["method"], headers, target, body)

    # ----------------------------------------------------------- serving
    async def _serve(self, scope: Scope, send: Send, request: Verified) -> None:
        gateway = self.gateway
        response_body: SpooledBody | None = None
        try:
            status, backend_headers, response_body = await self._answer(scope, request)
            fault: errors.XRoadError | None = None
        except errors.XRoadError as error:
            fault = error
            gateway.telemetry.fault("provider", error.code)
            status, raw, content = errors.error_response(error, request.headers.get("accept"))
            backend_headers = [(k, v) for k, v in raw if k != b"content-length"]
            response_body = SpooledBody(limit=len(content) + 1, memory=len(content) + 1)
            response_body.write(content)
        headers = self._response_headers(request, backend_headers, response_body)
        signature_input, signature = sign_response(
            status, headers, key=gateway.keys.sign_key(), keyid=_keyid(gateway), now=gateway.now()
        )
        headers["signature-input"], headers["signature"] = signature_input, signature
        connection = gateway.catalogue.connections.get(str(request.target.service.provider))
        records = exchange_records(
            "provider",
            request.headers,
            request.body,
            status,
            headers,
            response_body,
            error=fault.code if fault else None,
            keep_bodies=gateway.settings.log_bodies
            and (connection is None or connection.log_bodies),
            body_cap=gateway.settings.log_body_max_bytes,
        )
        try:
            assert gateway.log is not None
            await gateway.log.append(*records)
        except Exception as failure:
            log.error("provider.logging_failed", error=repr(failure))
            response_body.close()
            failed = log_fault(failure, "provider")
            gateway.telemetry.fault("provider", failed.code)
            await _send(send, *errors.error_response(failed, None))
            return
        await _stream(send, status, headers, backend_headers, response_body)
        response_body.close()

    async def _answer(
        self, scope: Scope, request: Verified
    ) -> tuple[int, list[tuple[bytes, bytes]], SpooledBody]:
        gateway = self.gateway
        service = request.target.service
        if service.service_code in METASERVICES:
            status, raw, content = await provider_metaservice(
                gateway, service, request.client, request.target.query.encode()
            )
            body = SpooledBody(limit=len(content) + 1, memory=len(content) + 1)
            body.write(content)
            return status, [(k, v) for k, v in raw if k != b"content-length"], body
        entry = gateway.catalogue.services.get((str(service.provider), service.service_code))
        if entry is None:
            raise errors.ServerProxyUnknownService(f"service {service} is not provided here")
        if not entry.enabled:
            raise errors.ServerProxyServiceDisabled(f"service {service} is disabled")
        self._authorize(entry, request, scope["method"])
        return await self._call_backend(entry, request, scope["method"])

    def _authorize(self, entry: ServiceEntry, request: Verified, method: str) -> None:
        gateway = self.gateway
        client = str(parse_client(request.client, encoded=True))
        allowed = is_allowed(
            entry.rights,
            client=client,
            method=method,
            path=request.target.path or "/",
            in_global_group=gateway.conf.in_group,
            local_groups=gateway.catalogue.local_groups.get(entry.provider, {}),
        )
        if not allowed:
            endpoint = f"{method} {request.target.path or '/'}"
            raise errors.ServerProxyAccessDenied(
                f"client {client} may not call {endpoint} of {entry.provider}/{entry.code}"
            )

    async def _call_backend(
        self, entry: ServiceEntry, request: Verified, method: str
    ) -> tuple[int, list[tuple[bytes, bytes]], SpooledBody]:
        url = entry.backend_url + request.target.path
        if request.target.query:
            url += "?" + request.target.query
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k not in NOT_TO_BACKEND and not k.startswith("x-road-")
        ]
        headers += [(k, request.headers[k]) for k in BACKEND_XROAD if k in request.headers]
        headers.append(("content-length", str(request.body.size)))
        body = SpooledBody(
            limit=self.gateway.settings.max_body_bytes,
            memory=self.gateway.settings.spool_memory_bytes,
        )
        try:
            status, raw = await self._backend(entry, method, url, headers, request, body)
        except BaseException:
            body.close()
            raise
        return status, protocol.filter_response_headers(raw), body

    async def _backend(
        self,
        entry: ServiceEntry,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        request: Verified,
        body: SpooledBody,
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Call the service over a pooled keep-alive connection; the request body is sent
        while the answer is read (full duplex), so a service streaming its answer as it
        reads cannot deadlock against us."""
        parts = urlsplit(url)
        https = parts.scheme == "https"
        pool = self.gateway.tls_backends if https else self.gateway.backends
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        small = request.body.in_memory()
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        try:
            response = await pool.request(
                method,
                parts.hostname or "127.0.0.1",
                parts.port or (443 if https else 80),
                target,
                raw,
                body=small if small is not None else request.body.chunks,
                seconds=entry.timeout,
                server_hostname=parts.hostname if https else None,
            )
        except http11.ConnectFailed as error:
            raise errors.ServerProxyNetworkError(f"cannot reach the service: {error}") from None
        except http11.RequestTimeout:
            raise errors.ServerProxyServiceFailed(
                f"the service did not answer in {entry.timeout} s"
            ) from None
        except http11.ClientError as error:
            raise errors.ServerProxyServiceFailed(f"the service failed: {error}") from None
        try:
            async for chunk in response.chunks():
                body.write(chunk)
        except (http11.ClientError, BodyTooLarge) as error:
            raise errors.ServerProxyServiceFailed(
                f"reading the service response failed: {error}"
            ) from None
        finally:
            response.close()
        return response.status, response.headers

    def _response_headers(
        self, request: Verified, backend_headers: list[tuple[bytes, bytes]], body: SpooledBody
    ) -> dict[str, str]:
        """The headers we sign: X-Road's response headers (§4.3) and the body digest."""
        out = {
            "x-road-client": request.headers["x-road-client"],
            "x-road-service": request.headers["x-road-service"],
            "x-road-id": request.headers["x-road-id"],
            "x-road-request-id": request.headers["x-road-request-id"],
            "x-road-request-hash": protocol.request_hash(
                request.method,
                request.target,
                request.headers,
                request.body.sha512,
            ),
            "content-digest": f"sha-256=:{base64.b64encode(body.sha256).decode()}:",
        }
        for name, value in backend_headers:
            if name in (b"content-type", b"x-road-error"):
                out[name.decode()] = value.decode("latin-1")
        return out


def _keyid(gateway: Gateway) -> str:
    assert gateway.signing is not None
    return gateway.signing.sha256


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers as a dict (lowercase names; repeated fields joined, RFC 9110 §5.3)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _target_uri(scope: Scope) -> str:
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = scope["query_string"].decode("latin-1")
    return f"https://{host}{path}" + (f"?{query}" if query else "")


def _target(scope: Scope, service: ServiceId) -> protocol.Target:
    """The service path after ``/r1/{service}``; the signed X-Road-Service names the service."""
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    prefix = f"/r1/{service.encoded()}"
    rest = path[len(prefix) :]
    if not path.startswith(prefix) or (rest and not rest.startswith("/")):
        raise errors.BadRequest("the request path does not match the signed X-Road-Service")
    return protocol.Target(service, rest, scope["query_string"].decode("latin-1"))


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _stream(
    send: Send,
    status: int,
    signed: dict[str, str],
    backend_headers: list[tuple[bytes, bytes]],
    body: SpooledBody,
) -> None:
    headers = [(k, v) for k, v in backend_headers if k.decode() not in signed]
    headers += [(k.encode(), v.encode("latin-1")) for k, v in signed.items()]
    headers.append((b"content-length", str(body.size).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    pending: bytes | None = None
    async for chunk in body.chunks():
        if pending is not None:
            await send({"type": "http.response.body", "body": pending, "more_body": True})
        pending = chunk
    await send({"type": "http.response.body", "body": pending or b""})
