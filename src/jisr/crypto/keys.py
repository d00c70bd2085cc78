"""Private keys: generation, PKCS#8 storage, fingerprints and raw signatures.

ECDSA P-256 with SHA-256 is the default everywhere (instance CA, TSA,
configuration signing, gateways): every TLS stack, ``openssl ts``, JOSE ES256
and PKCS#11 HSMs accept it. Ed25519 is accepted for member and gateway keys;
RSA and P-384 keys are read so that keys issued elsewhere can be used.

Keys at rest are PKCS#8 PEM, encrypted with the best scheme ``cryptography``
offers when a passphrase is given, written atomically with mode 0600.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal, TypeAlias

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from jisr.crypto.errors import KeyLoadError
from jisr.files import atomic_write

__all__ = [
    "PrivateKey",
    "PublicKey",
    "generate_private_key",
    "jws_algorithm",
    "load_private_key",
    "load_private_key_pem",
    "private_key_to_pem",
    "public_key_fingerprint",
    "save_private_key",
    "sign",
    "signature_hash",
    "verify",
]

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey: TypeAlias = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey

_EC_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
}
_EC_JWS = {"secp256r1": "ES256", "secp384r1": "ES384"}


def generate_private_key(kind: Literal["p256", "ed25519"] = "p256") -> PrivateKey:
    """Return a fresh ECDSA P-256 (default) or Ed25519 private key."""
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key kind {kind!r}; expected 'p256' or 'ed25519'")


def private_key_to_pem(key: PrivateKey, passphrase: bytes | None) -> bytes:
    """Serialise ``key`` as PKCS#8 PEM, encrypted when ``passphrase`` is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase is not None
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def load_private_key_pem(data: bytes, passphrase: bytes | None) -> PrivateKey:
    """Read a PEM private key; :class:`KeyLoadError` says why it could not be read."""
    try:
        key = serialization.load_pem_private_key(data, passphrase)
    except TypeError as exc:
        raise _passphrase_error(passphrase) from exc
    except ValueError as exc:
        raise _value_error(data, passphrase) from exc
    except UnsupportedAlgorithm as exc:
        raise KeyLoadError("unsupported_key_type", f"unsupported key: {exc}") from exc
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    ):
        raise KeyLoadError("unsupported_key_type", f"{type(key).__name__} is not supported")
    return key


def _passphrase_error(passphrase: bytes | None) -> KeyLoadError:
    # cryptography raises TypeError when encryption and passphrase disagree.
    if passphrase is None:
        return KeyLoadError("passphrase_required", "the key is encrypted: a passphrase is required")
    return KeyLoadError("not_encrypted", "a passphrase was given but the key is not encrypted")


def _value_error(data: bytes, passphrase: bytes | None) -> KeyLoadError:
    if passphrase is not None and b"ENCRYPTED PRIVATE KEY" in data:
        return KeyLoadError("wrong_passphrase", "wrong passphrase for the encrypted key")
    return KeyLoadError("malformed", "not a PEM private key")


def save_private_key(key: PrivateKey, path: Path, passphrase: bytes | None) -> None:
    """Write ``key`` to ``path`` atomically (temp file + rename), mode 0600."""
    atomic_write(path, private_key_to_pem(key, passphrase), mode=0o600)


def load_private_key(path: Path, passphrase: bytes | None) -> PrivateKey:
    """Read a key written by :func:`save_private_key` (OSError if unreadable)."""
    return load_private_key_pem(path.read_bytes(), passphrase)


def public_key_fingerprint(public_key: PublicKey) -> str:
    """Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def jws_algorithm(key: PrivateKey | PublicKey) -> str:
    """The JWS ``alg`` (RFC 7518 §3.1, RFC 8037 §3.1) natural for ``key``."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RS256"
    return _EC_JWS[_curve_name(key)]


def signature_hash(key: PrivateKey | PublicKey) -> hashes.SHA256 | hashes.SHA384 | None:
    """The hash paired with ``key`` for signatures; ``None`` for Ed25519 (pure)."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return None
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return hashes.SHA256()
    return _EC_HASHES[_curve_name(key)]()


def _curve_name(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    name = key.curve.name
    if name not in _EC_HASHES:
        raise ValueError(f"unsupported elliptic curve {name}")
    return name


def sign(key: PrivateKey, data: bytes) -> bytes:
    """Sign ``data``: ECDSA (DER), Ed25519 (pure) or RSA PKCS#1 v1.5, natural hash."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(_EC_HASHES[_curve_name(key)]()))


def verify(public_key: PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is a :func:`sign` signature over ``data``."""
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            public_key.verify(signature, data, ec.ECDSA(_EC_HASHES[_curve_name(public_key)]()))
    except InvalidSignature:
        return False
    return True
