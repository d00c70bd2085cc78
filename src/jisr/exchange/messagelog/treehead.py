"""Signed tree heads (STH) and the RFC 3161 time-stamps over them.

An STH commits the gateway to the first ``tree_size`` leaves of its log (RFC 9162 §4.10
in spirit, JSON instead of TLS encoding)::

    {"log_id": "MA/GOV/X/GW1", "root_hash": "<base64>", "signer_sha256": "<hex>",
     "timestamp": 1796043600123, "tree_size": 1024}

Its *bytes* are that object's RFC 8785 canonical JSON. The gateway signs the bytes with
its key (:func:`jisr.crypto.keys.sign`), and the instance TSA time-stamps their SHA-256
(RFC 3161 MessageImprint), so ``openssl ts -verify -digest <sha256 hex>`` checks the
token without any Jisr code. ``signer_sha256`` names the signer certificate (SHA-256 of
its DER), binding the certificate into what is signed and stamped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from jisr.crypto.canonical import canonical_json
from jisr.crypto.errors import CryptoError
from jisr.crypto.keys import PrivateKey, sign, verify
from jisr.crypto.tsp import TimestampInfo, verify_token
from jisr.crypto.x509 import fingerprint_sha256, verify_chain
from jisr.exchange.messagelog.merkle import HASH_SIZE

__all__ = [
    "TreeHead",
    "check_tree_head_signature",
    "decode_b64",
    "milliseconds",
    "sign_tree_head",
    "token_certificates",
    "verify_tree_head",
    "verify_tree_head_timestamp",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TREE_HEAD_MEMBERS = {"log_id", "tree_size", "root_hash", "timestamp", "signer_sha256"}


def milliseconds(moment: datetime) -> int:
    """Milliseconds since the epoch (RFC 9162 §4.10 ``timestamp``)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True)
class TreeHead:
    """What an STH asserts; :meth:`to_bytes` is what is signed and time-stamped."""

    log_id: str
    tree_size: int
    root_hash: bytes
    timestamp: int  # ms since the epoch
    signer_sha256: str

    @property
    def at(self) -> datetime:
        return _EPOCH + timedelta(milliseconds=self.timestamp)

    def to_json(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "tree_size": self.tree_size,
            "root_hash": base64.b64encode(self.root_hash).decode(),
            "timestamp": self.timestamp,
            "signer_sha256": self.signer_sha256,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def digest(self) -> bytes:
        """SHA-256 of the STH bytes: the RFC 3161 message imprint."""
        return hashlib.sha256(self.to_bytes()).digest()

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> TreeHead:
        """Parse :meth:`to_json` output strictly (ValueError otherwise)."""
        if set(value) != _TREE_HEAD_MEMBERS:
            raise ValueError(f"tree head members must be {sorted(_TREE_HEAD_MEMBERS)}")
        log_id, size, root, timestamp, signer = (
            value["log_id"],
            value["tree_size"],
            value["root_hash"],
            value["timestamp"],
            value["signer_sha256"],
        )
        if not isinstance(log_id, str) or not isinstance(signer, str):
            raise ValueError("log_id and signer_sha256 must be strings")
        if type(size) is not int or type(timestamp) is not int or size < 0:
            raise ValueError("tree_size and timestamp must be integers")
        root_hash = decode_b64(root, "root_hash")
        if len(root_hash) != HASH_SIZE:
            raise ValueError("root_hash is not a SHA-256 hash")
        return cls(log_id, size, root_hash, timestamp, signer)


def decode_b64(value: Any, name: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4) or ValueError naming the member."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"{name} is not base64: {exc}") from exc


def sign_tree_head(head: TreeHead, key: PrivateKey) -> bytes:
    return sign(key, head.to_bytes())


def verify_tree_head(
    head: TreeHead,
    signature: bytes,
    certificate: x509.Certificate,
    *,
    ca_certificates: Sequence[x509.Certificate],
) -> None:
    """ValueError unless ``certificate`` is the named signer, chains to a CA at the STH's
    time and made ``signature`` over the STH bytes."""
    check_tree_head_signature(head, signature, certificate)
    try:
        verify_chain(certificate, roots=ca_certificates, at=head.at)
    except CryptoError as exc:
        raise ValueError(f"signer certificate: {exc}") from exc


def check_tree_head_signature(
    head: TreeHead, signature: bytes, certificate: x509.Certificate
) -> None:
    """The binding and the signature only (the caller checks the certificate path)."""
    if fingerprint_sha256(certificate) != head.signer_sha256:
        raise ValueError("the signer certificate is not the one the tree head names")
    public_key = certificate.public_key()
    if not isinstance(
        public_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
    ):
        raise ValueError("unsupported signer key type")
    if not verify(public_key, signature, head.to_bytes()):
        raise ValueError("the signature does not verify")


def token_certificates(token: bytes) -> list[x509.Certificate]:
    """The certificates a time-stamp token carries (the TSA's, when it was asked for)."""
    try:
        return pkcs7.load_der_pkcs7_certificates(token)
    except ValueError as exc:
        raise ValueError(f"unreadable time-stamp token: {exc}") from exc


def verify_tree_head_timestamp(
    head: TreeHead,
    token: bytes,
    *,
    ca_certificates: Sequence[x509.Certificate],
    tsa_certificates: Sequence[x509.Certificate] = (),
) -> TimestampInfo:
    """Verify ``token`` over the STH bytes; the TSA must chain to ``ca_certificates``.

    The TSA certificate may come from the token itself: trust comes from the CA chain,
    which :func:`jisr.crypto.tsp.verify_token` checks whenever CAs are given.
    """
    if not ca_certificates:
        raise ValueError("no trusted CA certificate to check the TSA against")
    candidates = [*tsa_certificates, *token_certificates(token)]
    try:
        return verify_token(
            token,
            digest=head.digest(),
            tsa_certificates=candidates,
            ca_certificates=ca_certificates,
        )
    except CryptoError as exc:
        raise ValueError(f"time-stamp: {exc}") from exc
