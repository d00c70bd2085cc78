"""How information systems authenticate to their gateway's consumer face (PR-REST §4.7).

The consumer gateway listens on plain HTTP and on HTTPS (``tls_port``). Each hosted client
has a connection mode: ``none`` (either listener), ``tls`` (HTTPS only) or ``mtls`` (HTTPS
with the client certificate registered for it). A client that fails its mode gets
``Server.ClientProxy.SslAuthenticationFailed`` (X-Road's code for it), or no TLS session
at all when its certificate is registered for nobody.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from jisr.crypto.keys import generate_private_key
from jisr.crypto.x509 import CertificateProfile, create_root_ca, issue_certificate
from jisr.exchange.gateway.registry import GatewayRegistry
from tests.exchange.gateway.conftest import (
    BACKENDS,
    CONSUMER,
    PROVIDER,
    SERVICE,
    civil_registry,
    federation_on,
)
from tests.exchange.gateway.harness import Federation, TlsIdentity, self_signed
from tests.servers import free_port

TLS_CLIENT = "MA/GOV/INTERIOR/RESIDENCE"  # mode tls
MTLS_CLIENT = "MA/GOV/INTERIOR/OTHER"  # mode mtls, self-signed certificate
KIOSK = "MA/GOV/INTERIOR/KIOSK"  # mode mtls, certificate of the IS's own CA
OPEN_CLIENT = "MA/GOV/INTERIOR/DESK"  # mode none
UNREGISTERED = "MA/GOV/INTERIOR/PORTAL"  # hosted, no connection registered
LATE = "MA/GOV/INTERIOR/SCANNER"  # hosted, registered by a test while the gateway runs
PATH = f"/r1/{SERVICE}/echo/auth"


@dataclass
class Setup:
    federation: Federation
    other: TlsIdentity  # registered for MTLS_CLIENT
    kiosk: TlsIdentity  # registered for KIOSK
    root: Path

    @property
    def consumer(self) -> str:
        return self.federation.gateways[CONSUMER].url

    @property
    def consumer_tls(self) -> str:
        return self.federation.gateways[CONSUMER].tls_url


def issued_by_own_ca(common_name: str, directory: Path) -> TlsIdentity:
    """A client certificate issued by a CA of the IS's own (unknown to the gateway)."""
    ca_key, key = generate_private_key("p256"), generate_private_key("p256")
    ca = create_root_ca(ca_key, "Kiosk vendor CA")
    certificate = issue_certificate(
        public_key=key.public_key(),
        subject_common_name=common_name,
        subject_organization=None,
        profile=CertificateProfile.AUTH,
        ca_key=ca_key,
        ca_cert=ca,
        san_host="kiosk.interior.example",
        validity_days=1,
    )
    return TlsIdentity.write(certificate, key, directory)


@pytest.fixture(scope="module", params=BACKENDS)
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    """A provider granting echo to every client, and a consumer gateway with an HTTPS
    listener hosting one client per connection mode."""
    root = tmp_path_factory.mktemp("identities")
    other = self_signed(MTLS_CLIENT, root / "other")
    kiosk = issued_by_own_ca(KIOSK, root / "kiosk")
    clients = [TLS_CLIENT, MTLS_CLIENT, KIOSK, OPEN_CLIENT, UNREGISTERED, LATE]

    async def consumer_setup(reg: GatewayRegistry) -> None:
        await reg.set_connection(TLS_CLIENT, "tls")
        await reg.set_connection(MTLS_CLIENT, "mtls", certificate=other.pem)
        await reg.set_connection(KIOSK, "mtls", certificate=kiosk.pem)
        await reg.set_connection(OPEN_CLIENT, "none")

    with federation_on(request.param, request, tmp_path_factory) as federation:
        federation.central("MA", [("GOV", "CIVIL-REGISTRY"), ("GOV", "INTERIOR")])
        backend = federation.backend()
        federation.gateway(PROVIDER, ["REGISTRY"], civil_registry(backend, clients))
        subsystems = ["RESIDENCE", "OTHER", "KIOSK", "DESK", "PORTAL", "SCANNER"]
        federation.gateway(CONSUMER, subsystems, consumer_setup, tls_port=free_port())
        yield Setup(federation, other, kiosk, root)


def tls_client(setup: Setup, identity: TlsIdentity | None = None) -> httpx.Client:
    """An HTTPS client trusting the instance CA (the gateway's TLS certificate is its
    authentication certificate), presenting ``identity`` if given."""
    conf = setup.federation.gateways[CONSUMER].gateway.conf.current()
    cadata = "".join(
        ssl.DER_cert_to_PEM_cert(base64.b64decode(der)) for der in conf.ca_certificates
    )
    context = ssl.create_default_context(cadata=cadata)
    if identity is not None:
        context.load_cert_chain(identity.certificate_path, identity.key_path)
    return httpx.Client(verify=context, timeout=30)


def post(client: httpx.Client, base: str, xroad_client: str) -> httpx.Response:
    return client.post(f"{base}{PATH}", headers={"X-Road-Client": xroad_client}, content=b"ping")


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 500, response.text
    assert response.headers["x-road-error"] == "Server.ClientProxy.SslAuthenticationFailed"
    assert response.json()["type"] == "Server.ClientProxy.SslAuthenticationFailed"


def assert_served(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.content == b"ping"


class TestModeTls:
    def test_plain_http_is_refused(self, setup: Setup) -> None:
        """A tls client over plain HTTP: Server.ClientProxy.SslAuthenticationFailed."""
        with httpx.Client(timeout=30) as client:
            assert_refused(post(client, setup.consumer, TLS_CLIENT))

    def test_https_is_accepted(self, setup: Setup) -> None:
        """A tls client over HTTPS, without a client certificate, is served."""
        with tls_client(setup) as client:
            assert_served(post(client, setup.consumer_tls, TLS_CLIENT))


class TestModeMtls:
    def test_registered_self_signed_certificate_is_accepted(self, setup: Setup) -> None:
        """The self-signed certificate registered for the client is trusted and served."""
        with tls_client(setup, setup.other) as client:
            assert_served(post(client, setup.consumer_tls, MTLS_CLIENT))

    def test_registered_certificate_of_an_unknown_ca_is_accepted(self, setup: Setup) -> None:
        """A registered leaf issued by the IS's own CA is trusted by itself (the gateway
        never saw that CA)."""
        with tls_client(setup, setup.kiosk) as client:
            assert_served(post(client, setup.consumer_tls, KIOSK))

    def test_https_without_certificate_is_refused(self, setup: Setup) -> None:
        """An mtls client over HTTPS without a certificate: SslAuthenticationFailed."""
        with tls_client(setup) as client:
            assert_refused(post(client, setup.consumer_tls, MTLS_CLIENT))

    def test_plain_http_is_refused(self, setup: Setup) -> None:
        """An mtls client over plain HTTP: SslAuthenticationFailed."""
        with httpx.Client(timeout=30) as client:
            assert_refused(post(client, setup.consumer, MTLS_CLIENT))

    def test_certificate_of_another_client_is_refused(self, setup: Setup) -> None:
        """A certificate registered for KIOSK does not authenticate OTHER."""
        with tls_client(setup, setup.kiosk) as client:
            assert_refused(post(client, setup.consumer_tls, MTLS_CLIENT))

    def test_unregistered_certificate_gets_no_tls_session(self, setup: Setup) -> None:
        """A certificate registered for nobody is refused in the TLS handshake."""
        stranger = self_signed(MTLS_CLIENT, setup.root / "stranger")
        with tls_client(setup, stranger) as client, pytest.raises(httpx.TransportError):
            post(client, setup.consumer_tls, MTLS_CLIENT)

    def test_client_without_registered_connection_is_refused(self, setup: Setup) -> None:
        """A hosted client nobody configured defaults to mtls with no certificate: it
        cannot authenticate at all."""
        with tls_client(setup, setup.other) as client:
            assert_refused(post(client, setup.consumer_tls, UNREGISTERED))
        with httpx.Client(timeout=30) as client:
            assert_refused(post(client, setup.consumer, UNREGISTERED))

    def test_certificate_registered_while_running(self, setup: Setup, tmp_path: Path) -> None:
        """A certificate registered on the running gateway is trusted by new TLS sessions
        at once (no restart); the client it was registered for is served."""
        late = self_signed(LATE, tmp_path)
        with tls_client(setup, late) as client, pytest.raises(httpx.TransportError):
            post(client, setup.consumer_tls, LATE)

        async def register(reg: GatewayRegistry) -> None:
            await reg.set_connection(LATE, "mtls", certificate=late.pem)

        setup.federation.gateways[CONSUMER].configure(register)
        with tls_client(setup, late) as client:
            assert_served(post(client, setup.consumer_tls, LATE))


class TestModeNone:
    def test_plain_http_is_accepted(self, setup: Setup) -> None:
        """A none client over plain HTTP is served."""
        with httpx.Client(timeout=30) as client:
            assert_served(post(client, setup.consumer, OPEN_CLIENT))

    def test_https_is_accepted(self, setup: Setup) -> None:
        """A none client over HTTPS is served too."""
        with tls_client(setup) as client:
            assert_served(post(client, setup.consumer_tls, OPEN_CLIENT))
