"""Every X-Road fault a real federation can produce, end to end (docs/gateway-errors.md).

Each test provokes one fault through real gateways and pins the HTTP status, the
``X-Road-Error`` header, the JSON ``type`` and, once the exchange was signed, what both
message logs hold. Attacks on the provider face use a raw mutual-TLS client holding the
consumer gateway's own TLS certificate and signing key, so only the attack differs from
what a genuine gateway would send.
"""

from __future__ import annotations

import base64
import http.client
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from jisr.crypto.httpsig import content_digest
from jisr.crypto.keys import PrivateKey, generate_private_key
from jisr.crypto.x509 import certificate_to_pem
from jisr.exchange.gateway.registry import GatewayRegistry
from jisr.exchange.gateway.runtime import ReplayGuard
from jisr.exchange.gateway.signing import sign_request
from jisr.exchange.gateway.transport import TrustStore, client_context
from jisr.exchange.messagelog import StoredRecord
from tests.exchange.gateway.conftest import CLIENT, CONSUMER, PROVIDER, SERVICE
from tests.exchange.gateway.harness import Federation, RunningGateway, self_signed

OTHER = "MA/GOV/INTERIOR/OTHER"
# Gateways added to the module's federation for the faults that need a gateway of their own.
IDLE_CONSUMER = "MA/GOV/INTERIOR/GW2"  # maintenance mode, hosts DESK
DESK = "MA/GOV/INTERIOR/DESK"
IDLE_PROVIDER = "MA/GOV/CIVIL-REGISTRY/GW2"  # maintenance mode, hosts ARCHIVE
ARCHIVE = "MA/GOV/CIVIL-REGISTRY/ARCHIVE"
DOOMED = "MA/GOV/INTERIOR/GW3"  # its TLS certificate gets revoked, hosts PORTAL
PORTAL = "MA/GOV/INTERIOR/PORTAL"
TIMEOUT = 30
LARGE = 4 * 1024 * 1024  # above provider.DUPLEX_ABOVE and the socket buffers


@pytest.fixture(scope="module")
def faults(exchange: Federation) -> Federation:
    """The ``exchange`` federation plus OTHER (no access rights, mode none), a consumer and
    a provider gateway in maintenance mode, and a third consumer gateway to revoke."""

    async def none_for(reg: GatewayRegistry, client: str) -> None:
        await reg.set_connection(client, "none")

    exchange.gateways[CONSUMER].configure(lambda reg: none_for(reg, OTHER))
    exchange.gateway(IDLE_CONSUMER, ["DESK"], lambda reg: none_for(reg, DESK), maintenance=True)
    exchange.gateway(IDLE_PROVIDER, ["ARCHIVE"], maintenance=True)
    exchange.gateway(DOOMED, ["PORTAL"], lambda reg: none_for(reg, PORTAL))

    async def grant_portal(reg: GatewayRegistry) -> None:
        await reg.grant(SERVICE, "echo", "client", PORTAL)

    exchange.gateways[PROVIDER].configure(grant_portal)
    exchange.refresh_all()
    return exchange


# ------------------------------------------------------------------------------- helpers
def call(
    federation: Federation,
    method: str,
    path: str,
    *,
    client: str | None = CLIENT,
    gateway: str = CONSUMER,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One request from an information system to a consumer face."""
    sent = {"X-Road-Client": client} if client is not None else {}
    sent |= headers or {}
    url = f"{federation.gateways[gateway].url}{path}"
    return httpx.request(method, url, headers=sent, timeout=TIMEOUT, **kwargs)


def raw_call(
    federation: Federation, target: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """A GET whose request target goes on the wire exactly as given (httpx would
    normalise dot segments)."""
    gateway = federation.gateways[CONSUMER]
    connection = http.client.HTTPConnection("127.0.0.1", gateway.settings.port, timeout=TIMEOUT)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True)
        for name, value in {"X-Road-Client": CLIENT, **(headers or {})}.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def assert_fault(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the X-Road fault ``code`` (§4.6); returns the JSON body."""
    assert response.status_code == status, response.text
    assert response.headers["x-road-error"] == code
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body: dict[str, Any] = response.json()
    assert body["type"] == code
    assert uuid.UUID(body["detail"]).version == 4
    return body


def new_id() -> str:
    return f"faults-{uuid.uuid4()}"


def logged(gateway: RunningGateway, xroad_id: str) -> list[StoredRecord]:
    return gateway.records(xroad_id)


def assert_logged_fault(federation: Federation, xroad_id: str, code: str) -> None:
    """Both gateways logged the request and the signed fault answering it."""
    for name in (CONSUMER, PROVIDER):
        records = logged(federation.gateways[name], xroad_id)
        assert [r.record.kind for r in records] == ["request", "response"], name
        request, response = (r.record for r in records)
        assert request.client == response.client == CLIENT
        assert response.status == 500
        assert response.error == code
        assert response.headers["x-road-error"] == code
        assert "signature" in response.headers, "a fault after verification is signed"


def assert_not_logged(federation: Federation, xroad_id: str) -> None:
    for name in (CONSUMER, PROVIDER):
        assert logged(federation.gateways[name], xroad_id) == [], name


# ------------------------------------------------------------------ consumer-face faults
class TestClientFaults:
    def test_missing_client_header(self, faults: Federation) -> None:
        """No X-Road-Client: 400 Client.BadRequest, nothing sent or logged."""
        xroad_id = new_id()
        response = call(
            faults, "GET", f"/r1/{SERVICE}/echo", client=None, headers={"X-Road-Id": xroad_id}
        )
        body = assert_fault(response, 400, "Client.BadRequest")
        assert "X-Road-Client" in body["message"]
        assert_not_logged(faults, xroad_id)

    def test_malformed_client_identifier(self, faults: Federation) -> None:
        """A client id part outside the §4.8 alphabet: Client.InvalidClientIdentifier, and
        the message names the character and its position."""
        response = call(faults, "GET", f"/r1/{SERVICE}/echo", client="MA/GOV/INTERIOR/RES*IDENCE")
        body = assert_fault(response, 400, "Client.InvalidClientIdentifier")
        assert "'*'" in body["message"]
        assert "position 3" in body["message"]

    def test_client_not_hosted_here(self, faults: Federation) -> None:
        """A subsystem of the configuration hosted by another gateway: UnknownMember."""
        xroad_id = new_id()
        response = call(
            faults,
            "GET",
            f"/r1/{SERVICE}/echo",
            client=SERVICE,
            headers={"X-Road-Id": xroad_id},
        )
        body = assert_fault(response, 500, "Server.ClientProxy.UnknownMember")
        assert SERVICE in body["message"]
        assert_not_logged(faults, xroad_id)

    def test_service_of_a_provider_without_gateway(self, faults: Federation) -> None:
        """No gateway serves the provider: Server.ClientProxy.UnknownService, not sent."""
        xroad_id = new_id()
        response = call(
            faults, "GET", "/r1/MA/GOV/NOBODY/REG/lookup", headers={"X-Road-Id": xroad_id}
        )
        assert_fault(response, 500, "Server.ClientProxy.UnknownService")
        assert_not_logged(faults, xroad_id)

    @pytest.mark.parametrize(
        "target",
        [
            f"/r1/{SERVICE}/echo/../../admin",
            f"/r1/{SERVICE}/echo/%2e%2e/admin",
            f"/r1/{SERVICE}/echo/a/..%2F..%2Fadmin",
            "/r1/MA%2FGOV/CIVIL-REGISTRY/REGISTRY/echo",
            f"/r1/{SERVICE}/echo/..;/admin",
            f"/r1/{SERVICE}/echo//evil.example/x",
        ],
    )
    def test_path_traversal_and_encoded_slash(self, faults: Federation, target: str) -> None:
        """Traversal-like service paths and %2F inside an id part: 400 Client.BadRequest,
        and the backend is never called (nothing logged)."""
        xroad_id = new_id()
        status, headers, body = raw_call(faults, target, {"X-Road-Id": xroad_id})
        assert status == 400, body
        assert headers["x-road-error"] == "Client.BadRequest"
        assert b'"type": "Client.BadRequest"' in body
        assert_not_logged(faults, xroad_id)

    def test_oversized_headers(self, faults: Federation) -> None:
        """Headers over 64 KiB: 400 Client.BadRequest naming the limit (never 431)."""
        response = call(
            faults, "GET", f"/r1/{SERVICE}/echo", headers={"X-Padding": "a" * (70 * 1024)}
        )
        body = assert_fault(response, 400, "Client.BadRequest")
        assert "65536" in body["message"]

    def test_too_long_uri(self, faults: Federation) -> None:
        """A request URI over 2000 characters: 400 Client.BadRequest (never 414)."""
        response = call(faults, "GET", f"/r1/{SERVICE}/echo/{'a' * 2100}")
        body = assert_fault(response, 400, "Client.BadRequest")
        assert "2000" in body["message"]

    def test_xml_fault_when_xml_is_accepted(self, faults: Federation) -> None:
        """Accept: application/xml gets X-Road's XML error body, same code and header."""
        response = call(faults, "GET", "/r1/MA/GOV", headers={"Accept": "application/xml"})
        assert response.status_code == 400
        assert response.headers["x-road-error"] == "Client.BadRequest"
        assert response.headers["content-type"] == "application/xml; charset=utf-8"
        assert "<error><type>Client.BadRequest</type><message>" in response.text


# ------------------------------------------------------------------ provider-face faults
class TestProviderFaults:
    def test_access_denied(self, faults: Federation) -> None:
        """A hosted client without any right: Server.ServerProxy.AccessDenied, signed and
        logged by both gateways."""
        xroad_id = new_id()
        response = call(
            faults,
            "GET",
            f"/r1/{SERVICE}/birth-record/birth-records/MA1234567",
            client=OTHER,
            headers={"X-Road-Id": xroad_id},
        )
        body = assert_fault(response, 500, "Server.ServerProxy.AccessDenied")
        assert OTHER in body["message"]
        for name in (CONSUMER, PROVIDER):
            records = logged(faults.gateways[name], xroad_id)
            assert [r.record.kind for r in records] == ["request", "response"]
            assert records[1].record.error == "Server.ServerProxy.AccessDenied"
            assert records[1].record.client == OTHER

    def test_access_denied_in_xml(self, faults: Federation) -> None:
        """The provider renders its fault in the XML the client asked for."""
        response = call(
            faults,
            "GET",
            f"/r1/{SERVICE}/echo",
            client=OTHER,
            headers={"Accept": "text/xml"},
        )
        assert response.status_code == 500
        assert response.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
        assert response.headers["content-type"] == "text/xml; charset=utf-8"
        assert "<type>Server.ServerProxy.AccessDenied</type>" in response.text

    def test_service_not_registered(self, faults: Federation) -> None:
        """The provider gateway exists but has no such service:
        Server.ServerProxy.UnknownService, logged on both sides."""
        xroad_id = new_id()
        response = call(faults, "GET", f"/r1/{SERVICE}/no-such", headers={"X-Road-Id": xroad_id})
        assert_fault(response, 500, "Server.ServerProxy.UnknownService")
        assert_logged_fault(faults, xroad_id, "Server.ServerProxy.UnknownService")

    def test_service_disabled(self, faults: Federation) -> None:
        """A disabled service: Server.ServerProxy.ServiceDisabled, logged on both sides."""
        xroad_id = new_id()
        response = call(faults, "GET", f"/r1/{SERVICE}/closed", headers={"X-Road-Id": xroad_id})
        assert_fault(response, 500, "Server.ServerProxy.ServiceDisabled")
        assert_logged_fault(faults, xroad_id, "Server.ServerProxy.ServiceDisabled")

    @pytest.mark.parametrize("size", [0, LARGE], ids=["no-body", "large-body"])
    def test_backend_down(self, faults: Federation, size: int) -> None:
        """Nothing listens at the backend: Server.ServerProxy.NetworkError (§4.6 ex. 2),
        whether the body goes the pooled way or the full-duplex way."""
        xroad_id = new_id()
        response = call(
            faults,
            "POST",
            f"/r1/{SERVICE}/down/x",
            headers={"X-Road-Id": xroad_id},
            content=b"x" * size,
        )
        assert_fault(response, 500, "Server.ServerProxy.NetworkError")
        assert_logged_fault(faults, xroad_id, "Server.ServerProxy.NetworkError")

    @pytest.mark.parametrize("size", [0, LARGE], ids=["no-body", "large-body"])
    def test_backend_slower_than_the_service_timeout(self, faults: Federation, size: int) -> None:
        """The backend answers after 3 s (without reading the body), the service allows
        1 s: Server.ServerProxy.ServiceFailed, logged on both sides."""
        xroad_id = new_id()
        response = call(
            faults,
            "GET",  # the slow route answers GET only; a GET may carry a body
            f"/r1/{SERVICE}/slow/slow?seconds=3",
            headers={"X-Road-Id": xroad_id},
            content=b"x" * size,
        )
        body = assert_fault(response, 500, "Server.ServerProxy.ServiceFailed")
        assert "1.0 s" in body["message"]
        assert_logged_fault(faults, xroad_id, "Server.ServerProxy.ServiceFailed")


# ------------------------------------------------------------------ gateway-state faults
class TestGatewayState:
    def test_consumer_in_maintenance(self, faults: Federation) -> None:
        """A consumer gateway in maintenance mode: Server.ClientProxy.MaintenanceMode."""
        xroad_id = new_id()
        response = call(
            faults,
            "GET",
            f"/r1/{SERVICE}/echo",
            client=DESK,
            gateway=IDLE_CONSUMER,
            headers={"X-Road-Id": xroad_id},
        )
        assert_fault(response, 500, "Server.ClientProxy.MaintenanceMode")
        assert logged(faults.gateways[IDLE_CONSUMER], xroad_id) == []

    def test_provider_in_maintenance(self, faults: Federation) -> None:
        """A provider gateway in maintenance mode: Server.ServerProxy.MaintenanceMode,
        passed through the consumer gateway in the XML the client asked for."""
        response = call(
            faults,
            "GET",
            f"/r1/{ARCHIVE}/records",
            headers={"X-Road-Id": new_id(), "Accept": "application/xml"},
        )
        assert response.status_code == 500
        assert response.headers["x-road-error"] == "Server.ServerProxy.MaintenanceMode"
        assert response.headers["content-type"] == "application/xml; charset=utf-8"
        assert "<type>Server.ServerProxy.MaintenanceMode</type>" in response.text

    def test_consumer_configuration_outdated(self, faults: Federation) -> None:
        """The consumer's configuration expired: Server.ClientProxy.OutdatedGlobalConf; it
        serves again once the configuration is current."""
        consumer = faults.gateways[CONSUMER]
        with consumer.clock_ahead(timedelta(days=1).total_seconds()):
            response = call(faults, "GET", f"/r1/{SERVICE}/echo/x")
        assert_fault(response, 500, "Server.ClientProxy.OutdatedGlobalConf")
        assert call(faults, "GET", f"/r1/{SERVICE}/echo/x").status_code == 200

    def test_provider_configuration_outdated(self, faults: Federation) -> None:
        """The provider's configuration expired: Server.ServerProxy.OutdatedGlobalConf (not
        a TLS failure: every peer is unknown to an expired configuration)."""
        provider = faults.gateways[PROVIDER]
        with provider.clock_ahead(timedelta(days=1).total_seconds()):
            response = call(faults, "GET", f"/r1/{SERVICE}/echo/x")
        assert_fault(response, 500, "Server.ServerProxy.OutdatedGlobalConf")
        assert call(faults, "GET", f"/r1/{SERVICE}/echo/x").status_code == 200

    def test_revoked_gateway_is_refused(self, faults: Federation) -> None:
        """Once the central revokes a consumer gateway's TLS certificate and the provider
        refreshes its configuration, that gateway's requests are refused with
        Server.ServerProxy.SslAuthenticationFailed; the provider logs nothing."""
        path = f"/r1/{SERVICE}/echo/x"
        before = call(faults, "POST", path, client=PORTAL, gateway=DOOMED, content=b"hi")
        assert before.status_code == 200, before.text
        faults.revoke_auth_certificate(DOOMED)
        faults.gateways[PROVIDER].refresh()
        xroad_id = new_id()
        response = call(
            faults,
            "POST",
            path,
            client=PORTAL,
            gateway=DOOMED,
            content=b"hi",
            headers={"X-Road-Id": xroad_id},
        )
        assert_fault(response, 500, "Server.ServerProxy.SslAuthenticationFailed")
        assert logged(faults.gateways[PROVIDER], xroad_id) == []
        consumer_records = logged(faults.gateways[DOOMED], xroad_id)
        assert [r.record.error for r in consumer_records] == [
            None,
            "Server.ServerProxy.SslAuthenticationFailed",
        ]


# ------------------------------------------------------- attacks on the provider face
class PeerClient:
    """A raw mutual-TLS client of the provider face, impersonating the consumer gateway."""

    def __init__(self, federation: Federation, certificate: Path, key: Path) -> None:
        self.consumer = federation.gateways[CONSUMER]
        conf = self.consumer.gateway.conf.current()
        trust = TrustStore()
        trust.update(base64.b64decode(der) for der in conf.ca_certificates)
        context = client_context(certificate, key, self.consumer.settings.passphrase(), trust)
        self.base = f"https://{self.consumer.gateway.conf.find_gateway(PROVIDER).address}"
        self.http = httpx.Client(verify=context, timeout=TIMEOUT)

    def request(
        self,
        body: bytes,
        *,
        xroad_id: str,
        sign: bool = True,
        key: PrivateKey | None = None,
        keyid: str | None = None,
        created: int | None = None,
        sent_body: bytes | None = None,
    ) -> httpx.Request:
        """A POST to the echo service, signed like the consumer gateway signs."""
        url = f"{self.base}/r1/{SERVICE}/echo/attack"
        headers = {
            "content-type": "application/octet-stream",
            "x-road-client": CLIENT,
            "x-road-service": f"{SERVICE}/echo",
            "x-road-id": xroad_id,
            "x-road-request-id": str(uuid.uuid4()),
            "content-digest": content_digest(body),
        }
        if sign:
            gateway = self.consumer.gateway
            signature_input, signature = sign_request(
                "POST",
                url,
                headers,
                key=key or gateway.keys.sign_key(),
                keyid=keyid or gateway.signing.sha256,
                now=created if created is not None else int(time.time()),
            )
            headers |= {"signature-input": signature_input, "signature": signature}
        return self.http.build_request(
            "POST", url, headers=headers, content=sent_body if sent_body is not None else body
        )

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def peer(faults: Federation) -> Iterator[PeerClient]:
    keys = faults.gateways[CONSUMER].gateway.keys
    client = PeerClient(faults, keys.path("auth.cert.pem"), keys.path("auth.key.pem"))
    yield client
    client.close()


class TestProviderFaceAttacks:
    def test_genuine_raw_request_is_served(self, faults: Federation, peer: PeerClient) -> None:
        """The raw client is faithful: correctly signed, it gets the backend's answer, and
        only the provider (the consumer was bypassed) logs it."""
        xroad_id = new_id()
        response = peer.http.send(peer.request(b"hello", xroad_id=xroad_id))
        assert response.status_code == 200, response.text
        assert response.content == b"hello"
        assert "signature" in response.headers
        assert len(logged(faults.gateways[PROVIDER], xroad_id)) == 2
        assert logged(faults.gateways[CONSUMER], xroad_id) == []

    def test_unsigned_request(self, faults: Federation, peer: PeerClient) -> None:
        """No signature: Server.ServerProxy.MissingSignature, nothing logged."""
        xroad_id = new_id()
        response = peer.http.send(peer.request(b"hello", xroad_id=xroad_id, sign=False))
        assert_fault(response, 500, "Server.ServerProxy.MissingSignature")
        assert "signature" not in response.headers
        assert logged(faults.gateways[PROVIDER], xroad_id) == []

    @pytest.mark.parametrize("keyid", ["own", "genuine"])
    def test_signature_by_a_key_not_in_the_configuration(
        self, faults: Federation, peer: PeerClient, keyid: str
    ) -> None:
        """Signed by a stranger's key (under its own keyid, or claiming the member's):
        Server.ServerProxy.InvalidSignatureValue, nothing logged."""
        xroad_id = new_id()
        stranger = generate_private_key("p256")
        request = peer.request(
            b"hello",
            xroad_id=xroad_id,
            key=stranger,
            keyid=uuid.uuid4().hex * 2 if keyid == "own" else None,
        )
        response = peer.http.send(request)
        assert_fault(response, 500, "Server.ServerProxy.InvalidSignatureValue")
        assert logged(faults.gateways[PROVIDER], xroad_id) == []

    def test_tampered_body(self, faults: Federation, peer: PeerClient) -> None:
        """A validly signed request whose body changed by one byte:
        Server.ServerProxy.InvalidDigest, nothing logged."""
        xroad_id = new_id()
        request = peer.request(b"pay 100", xroad_id=xroad_id, sent_body=b"pay 900")
        response = peer.http.send(request)
        assert_fault(response, 500, "Server.ServerProxy.InvalidDigest")
        assert logged(faults.gateways[PROVIDER], xroad_id) == []

    def test_replayed_request(self, faults: Federation, peer: PeerClient) -> None:
        """The same signed request sent twice: the second is
        Server.ServerProxy.ReplayedRequest and leaves the log as the first left it."""
        xroad_id = new_id()
        request = peer.request(b"once", xroad_id=xroad_id)
        first = peer.http.send(request)
        assert first.status_code == 200, first.text
        second = peer.http.send(request)
        assert_fault(second, 500, "Server.ServerProxy.ReplayedRequest")
        assert len(logged(faults.gateways[PROVIDER], xroad_id)) == 2

    def test_replay_refused_after_a_restart(self, faults: Federation, peer: PeerClient) -> None:
        """A restarted provider re-learns the request ids still inside the window from its
        message log, so a request answered before the restart cannot be replayed after it."""
        provider = faults.gateways[PROVIDER]
        request = peer.request(b"before restart", xroad_id=new_id())
        assert peer.http.send(request).status_code == 200
        gateway = provider.gateway
        gateway.replay = ReplayGuard(gateway.settings.replay_window * 2)  # memory lost
        provider.call(gateway.remember_recent_requests())  # what start() does
        assert_fault(peer.http.send(request), 500, "Server.ServerProxy.ReplayedRequest")

    def test_signature_created_outside_the_window(
        self, faults: Federation, peer: PeerClient
    ) -> None:
        """``created`` an hour ago (window 300 s): InvalidSignatureValue, nothing logged."""
        xroad_id = new_id()
        request = peer.request(b"old", xroad_id=xroad_id, created=int(time.time()) - 3600)
        response = peer.http.send(request)
        body = assert_fault(response, 500, "Server.ServerProxy.InvalidSignatureValue")
        assert "expired" in body["message"]
        assert logged(faults.gateways[PROVIDER], xroad_id) == []

    def test_self_signed_tls_certificate(self, faults: Federation, tmp_path: Path) -> None:
        """A TLS client certificate from no instance CA: the handshake is refused."""
        stranger = self_signed(CONSUMER, tmp_path)
        client = PeerClient(faults, stranger.certificate_path, stranger.key_path)
        try:
            with pytest.raises(httpx.TransportError):
                client.http.send(client.request(b"hello", xroad_id=new_id()))
        finally:
            client.close()

    def test_instance_certificate_that_is_no_gateway_certificate(
        self, faults: Federation, tmp_path: Path
    ) -> None:
        """A certificate of the instance CA that is not a gateway's TLS certificate (the
        member's signing certificate): Server.ServerProxy.SslAuthenticationFailed."""
        gateway = faults.gateways[CONSUMER].gateway
        (tmp_path / "c.pem").write_bytes(certificate_to_pem(gateway.signing.certificate))
        client = PeerClient(faults, tmp_path / "c.pem", gateway.keys.path("sign.key.pem"))
        xroad_id = new_id()
        try:
            response = client.http.send(client.request(b"hello", xroad_id=xroad_id))
        finally:
            client.close()
        assert_fault(response, 500, "Server.ServerProxy.SslAuthenticationFailed")
        assert logged(faults.gateways[PROVIDER], xroad_id) == []
