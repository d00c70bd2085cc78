"""The central's private keys on disk: instance CA, TSA and configuration-signing keys.

Layout under ``<data_dir>/keys``::

    ca.key.pem  ca.cert.pem           instance root CA (ECDSA P-256)
    tsa.key.pem tsa.cert.pem          RFC 3161 time-stamp authority, certified by the CA
    conf-signing/<kid>.key.pem        global-configuration signing keys (certs in the DB)

Every private key is PKCS#8, encrypted with the settings' passphrase when one is set, mode
0600. The CA key is only needed to issue certificates; it is loaded on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from jisr.crypto.keys import PrivateKey, generate_private_key, load_private_key, save_private_key
from jisr.crypto.x509 import (
    CertificateProfile,
    certificate_to_der,
    certificate_to_pem,
    create_root_ca,
    issue_certificate,
    load_certificate,
)
from jisr.exchange.globalconf import certificate_kid

__all__ = ["KeyStore", "KeyStoreError", "conf_signing_kid"]


class KeyStoreError(Exception):
    """The key store is missing, incomplete or its passphrase is wrong."""


def conf_signing_kid(certificate: x509.Certificate) -> str:
    """Key id of a configuration-signing certificate (docs/globalconf.md)."""
    return certificate_kid(certificate_to_der(certificate))


@dataclass
class _Pair:
    key: PrivateKey
    certificate: x509.Certificate


class KeyStore:
    def __init__(self, directory: Path, passphrase: bytes | None) -> None:
        self.directory = directory
        self.passphrase = passphrase
        self._tsa: _Pair | None = None

    @property
    def ca_certificate_path(self) -> Path:
        return self.directory / "ca.cert.pem"

    def exists(self) -> bool:
        return self.ca_certificate_path.exists() and (self.directory / "tsa.cert.pem").exists()

    def create(
        self, *, instance: str, organization: str, ca_days: int, now: datetime | None = None
    ) -> None:
        """Create the CA and the TSA; refuses to overwrite an existing store."""
        if self.ca_certificate_path.exists():
            raise KeyStoreError(f"{self.directory} already holds a CA; refusing to overwrite it")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        ca_key = generate_private_key("p256")
        ca_cert = create_root_ca(
            ca_key,
            f"Jisr {instance} instance CA",
            organization=organization,
            validity_days=ca_days,
            now=now,
        )
        self._write_pair("ca", ca_key, ca_cert)
        tsa_key = generate_private_key("p256")
        tsa_cert = issue_certificate(
            public_key=tsa_key.public_key(),
            subject_common_name=f"Jisr {instance} time-stamp authority",
            subject_organization=organization,
            profile=CertificateProfile.TSA,
            ca_key=ca_key,
            ca_cert=ca_cert,
            validity_days=ca_days // 2,
            now=now,
        )
        self._write_pair("tsa", tsa_key, tsa_cert)

    def ca_certificate(self) -> x509.Certificate:
        return self._read_certificate(self.ca_certificate_path)

    def ca(self) -> tuple[PrivateKey, x509.Certificate]:
        """The CA key and certificate, for issuing; the key is read from disk each time."""
        return self._read_key(self.directory / "ca.key.pem"), self.ca_certificate()

    def tsa(self) -> tuple[PrivateKey, x509.Certificate]:
        if self._tsa is None:
            key = self._read_key(self.directory / "tsa.key.pem")
            self._tsa = _Pair(key, self._read_certificate(self.directory / "tsa.cert.pem"))
        return self._tsa.key, self._tsa.certificate

    def new_signing_key(
        self, *, instance: str, organization: str, validity_days: int
    ) -> tuple[str, x509.Certificate]:
        """Generate a configuration-signing key, certify it by the CA, save the key."""
        ca_key, ca_cert = self.ca()
        key = generate_private_key("p256")
        certificate = issue_certificate(
            public_key=key.public_key(),
            subject_common_name=f"Jisr {instance} configuration signing",
            subject_organization=organization,
            profile=CertificateProfile.CONF_SIGNING,
            ca_key=ca_key,
            ca_cert=ca_cert,
            validity_days=validity_days,
        )
        kid = conf_signing_kid(certificate)
        path = self._signing_key_path(kid)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        save_private_key(key, path, self.passphrase)
        return kid, certificate

    def signing_key(self, kid: str) -> PrivateKey:
        return self._read_key(self._signing_key_path(kid))

    def _signing_key_path(self, kid: str) -> Path:
        if not kid.isalnum():
            raise KeyStoreError(f"invalid key id {kid!r}")
        return self.directory / "conf-signing" / f"{kid}.key.pem"

    def _write_pair(self, name: str, key: PrivateKey, certificate: x509.Certificate) -> None:
        save_private_key(key, self.directory / f"{name}.key.pem", self.passphrase)
        (self.directory / f"{name}.cert.pem").write_bytes(certificate_to_pem(certificate))

    def _read_key(self, path: Path) -> PrivateKey:
        if not path.exists():
            raise KeyStoreError(f"missing key {path}; run `jisr central init`")
        return load_private_key(path, self.passphrase)

    @staticmethod
    def _read_certificate(path: Path) -> x509.Certificate:
        if not path.exists():
            raise KeyStoreError(f"missing certificate {path}; run `jisr central init`")
        return load_certificate(path.read_bytes())
