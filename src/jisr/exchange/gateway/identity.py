"""The gateway's keys: TLS authentication key and the owner member's signing key.

Keys are generated here, on the host that uses them; only CSRs leave it. Certificates are
not copied by hand: once the central's operator approves a CSR, the certificate appears in
the global configuration, and the gateway picks the one whose public key is its own.

Layout under ``<data_dir>/keys``::

    auth.key.pem  auth.csr.pem  auth.cert.pem    TLS between gateways (SAN = gateway host)
    sign.key.pem  sign.csr.pem                   RFC 9421 message signatures (owner member)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jisr.crypto.keys import (
    PrivateKey,
    generate_private_key,
    load_private_key,
    public_key_fingerprint,
    save_private_key,
)
from jisr.crypto.x509 import (
    certificate_to_pem,
    create_csr,
    csr_to_pem,
    fingerprint_sha256,
    load_certificate,
)
from jisr.exchange.globalconf import CertificateEntry, GlobalConfClient
from jisr.files import atomic_write
from jisr.ids import GatewayId

__all__ = ["GatewayKeys", "IdentityError", "MemberCertificate"]

PublicKeyTypes = (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, rsa.RSAPublicKey)


class IdentityError(Exception):
    """Keys missing, or their certificates not (yet) in the global configuration."""


@dataclass(frozen=True)
class MemberCertificate:
    certificate: x509.Certificate
    sha256: str


class GatewayKeys:
    def __init__(self, directory: Path, gateway: GatewayId, passphrase: bytes | None) -> None:
        self.directory = directory
        self.gateway = gateway
        self.passphrase = passphrase
        self._auth: PrivateKey | None = None
        self._sign: PrivateKey | None = None

    def path(self, name: str) -> Path:
        return self.directory / name

    def exists(self) -> bool:
        return self.path("auth.key.pem").exists() and self.path("sign.key.pem").exists()

    def create(self, *, organization: str | None = None) -> tuple[bytes, bytes]:
        """Generate both keys and their CSRs (refuses to overwrite); return the CSRs (PEM)."""
        if self.exists():
            raise IdentityError(f"{self.directory} already holds gateway keys")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        auth, sign = generate_private_key("p256"), generate_private_key("p256")
        # The central puts the registered address in the SAN; the CSR only proves the key.
        auth_csr = csr_to_pem(create_csr(auth, str(self.gateway), organization=organization))
        sign_csr = csr_to_pem(create_csr(sign, str(self.gateway.owner), organization=organization))
        save_private_key(auth, self.path("auth.key.pem"), self.passphrase)
        save_private_key(sign, self.path("sign.key.pem"), self.passphrase)
        atomic_write(self.path("auth.csr.pem"), auth_csr, mode=0o644)
        atomic_write(self.path("sign.csr.pem"), sign_csr, mode=0o644)
        return auth_csr, sign_csr

    def auth_key(self) -> PrivateKey:
        if self._auth is None:
            self._auth = load_private_key(self.path("auth.key.pem"), self.passphrase)
        return self._auth

    def sign_key(self) -> PrivateKey:
        if self._sign is None:
            self._sign = load_private_key(self.path("sign.key.pem"), self.passphrase)
        return self._sign

    def auth_certificate(self, conf: GlobalConfClient) -> x509.Certificate:
        """This gateway's TLS certificate from the configuration; written to auth.cert.pem."""
        entry = conf.find_gateway(str(self.gateway))
        if entry is None:
            raise IdentityError(f"gateway {self.gateway} is not in the global configuration")
        certificate = self._own(entry.auth_certificates, self.auth_key())
        if certificate is None:
            raise IdentityError(
                f"no approved authentication certificate for {self.gateway} yet "
                "(submit keys/auth.csr.pem to the central and have it approved)"
            )
        pem = certificate_to_pem(certificate)
        if (
            not self.path("auth.cert.pem").exists()
            or self.path("auth.cert.pem").read_bytes() != pem
        ):
            atomic_write(self.path("auth.cert.pem"), pem, mode=0o644)
        return certificate

    def sign_certificate(self, conf: GlobalConfClient) -> MemberCertificate:
        """The owner member's signing certificate matching our signing key."""
        owner = str(self.gateway.owner)
        certificate = self._own(conf.signing_certificates_for(owner), self.sign_key())
        if certificate is None:
            raise IdentityError(
                f"no approved signing certificate for {owner} yet "
                "(submit keys/sign.csr.pem to the central and have it approved)"
            )
        return MemberCertificate(certificate, fingerprint_sha256(certificate))

    @staticmethod
    def _own(entries: Sequence[CertificateEntry], key: PrivateKey) -> x509.Certificate | None:
        wanted = public_key_fingerprint(key.public_key())
        for entry in entries:
            certificate = load_certificate(entry.der)
            public_key = certificate.public_key()
            if (
                isinstance(public_key, PublicKeyTypes)
                and public_key_fingerprint(public_key) == wanted
            ):
                return certificate
        return None
