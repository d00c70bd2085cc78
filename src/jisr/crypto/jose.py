"""Compact JWS (RFC 7515 §7.1) as Jisr uses it: one key per ``kid``, ``alg`` fixed by the key.

The profile is narrower than RFC 7515 on purpose:

* the verifier picks the key by ``kid`` from keys it already trusts and never tries the
  others, nor a key carried in the token (``jwk``, ``jku``, ``x5u``, ``x5c`` are ignored);
* ``alg`` must be in the caller's allow-list *and* be the one algorithm the key's type
  dictates (ES256 for P-256, ES384 for P-384, EdDSA for Ed25519, RS256 for RSA), which rules
  out ``none``, HMAC and algorithm-confusion tokens;
* ``typ`` is required and compared as a media type (RFC 7515 §4.1.9);
* ``crit`` and ``b64`` (RFC 7797) are refused: Jisr defines no critical extension;
* base64url segments must be canonical (RFC 7515 §2: no padding), so a token has one spelling.

joserfc does the signing and the signature check; this module does the parsing and policy.

Exceptions::

    CryptoError (jisr.crypto.errors)
     └── JoseError(reason)
           reason: "malformed"        not a canonical compact JWS, bad header, crit/b64 present
                 | "unknown_kid"      kid not among the verifier's keys
                 | "alg_not_allowed"  alg outside the allow-list or not the key's algorithm
                 | "typ_mismatch"     typ is not the expected media type
                 | "bad_signature"    the signature does not verify
"""

import base64
import binascii
import re
from collections.abc import Collection, Mapping
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc import errors as joserfc_errors
from joserfc import jws
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from jisr.crypto.errors import CryptoError
from jisr.crypto.keys import PrivateKey, PublicKey, jws_algorithm
from jisr.files import strict_json_object

__all__ = [
    "DEFAULT_ALGORITHMS",
    "JoseError",
    "JoseReason",
    "PrivateKey",
    "PublicKey",
    "b64url_encode",
    "sign_compact",
    "verify_compact",
]

# Same aliases as jisr.crypto.keys, kept local until the two modules are deduplicated.

JoseReason = Literal["malformed", "unknown_kid", "alg_not_allowed", "typ_mismatch", "bad_signature"]

DEFAULT_ALGORITHMS: tuple[str, ...] = ("ES256", "ES384", "EdDSA")
_SUPPORTED_ALGORITHMS = frozenset({"ES256", "ES384", "EdDSA", "RS256"})
# Header parameters the caller may not set through extra_header: the ones this module owns,
# and the ones verify_compact refuses.
_RESERVED_HEADER = frozenset({"alg", "kid", "typ", "crit", "b64"})
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
# A global configuration with thousands of certificates is far beyond joserfc's 128 kB default.
_MAX_PAYLOAD_BYTES = 32 * 1024 * 1024


class JoseError(CryptoError):
    """A token was refused; ``reason`` is the stable code, ``detail`` is for humans."""

    def __init__(self, reason: JoseReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: JoseReason = reason
        self.detail = detail


class _Registry(JWSRegistry):
    """joserfc registry bound to one algorithm, with room for large payloads.

    ``get_alg`` is narrowed rather than inherited: joserfc warns on every use of ``EdDSA``
    because RFC 9864 deprecates the polymorphic name, but the Jisr formats pin it and the
    warning would fire once per verified document.
    """

    max_header_length = 4096
    max_payload_length = _MAX_PAYLOAD_BYTES * 4 // 3 + 4

    def get_alg(self, name: str) -> JWSAlgModel:
        if not self.allowed or name not in self.allowed or name not in self.algorithms:
            raise joserfc_errors.UnsupportedAlgorithmError(f"algorithm {name!r} is not allowed")
        return self.algorithms[name]


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_compact(
    payload: bytes,
    key: PrivateKey,
    *,
    kid: str,
    typ: str,
    extra_header: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``payload`` into a compact JWS whose protected header carries alg, kid and typ."""
    extra = dict(extra_header or {})
    if reserved := _RESERVED_HEADER.intersection(extra):
        raise ValueError(f"extra_header may not set {sorted(reserved)}")
    alg = jws_algorithm(key)
    header = {"alg": alg, "kid": kid, "typ": typ, **extra}
    return jws.serialize_compact(header, payload, _to_jwk(key), registry=_registry(alg))


def verify_compact(
    token: str,
    keys: Mapping[str, PublicKey],
    *,
    typ: str,
    algorithms: Collection[str] = DEFAULT_ALGORITHMS,
) -> tuple[dict[str, Any], bytes]:
    """Verify a compact JWS against the key named by its ``kid``; return (header, payload)."""
    allowed = _allowed(algorithms)
    header, payload = _parse(token)
    alg = _check_header(header, typ, allowed)
    key = keys.get(header["kid"])
    if key is None:
        raise JoseError("unknown_kid", f"no trusted key {header['kid']!r}")
    if _key_algorithm(key) != alg:
        raise JoseError("alg_not_allowed", f"{alg} is not the algorithm of key {header['kid']!r}")
    _check_signature(token, key, alg)
    return header, payload


def _allowed(algorithms: Collection[str]) -> frozenset[str]:
    allowed = frozenset(algorithms)
    if unsupported := allowed - _SUPPORTED_ALGORITHMS:
        raise ValueError(f"unsupported algorithms {sorted(unsupported)}")
    return allowed


def _parse(token: str) -> tuple[dict[str, Any], bytes]:
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise JoseError("malformed", "not a compact JWS")
    header_bytes, payload, _ = (_b64url_decode(part) for part in parts)
    return _json_object(header_bytes), payload


def _b64url_decode(segment: str) -> bytes:
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise JoseError("malformed", "segment is not base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JoseError("malformed", "segment is not base64url") from exc
    # RFC 7515 §2 / RFC 4648 §3.5: unused trailing bits must be zero, or a token has
    # several spellings and "flip any byte" no longer means "break the token".
    if b64url_encode(data) != segment:
        raise JoseError("malformed", "segment is not canonical base64url")
    return data


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        return strict_json_object(data)  # RFC 7515 §5.2 step 4: duplicate names are refused
    except ValueError as exc:
        raise JoseError("malformed", f"header is not a JSON object: {exc}") from exc


def _check_header(header: Mapping[str, Any], typ: str, allowed: frozenset[str]) -> str:
    for name in ("alg", "kid", "typ"):
        if not isinstance(header.get(name), str):
            raise JoseError("malformed", f"header {name!r} missing or not a string")
    # RFC 7515 §4.1.11: we understand no extension, so any crit must be refused.
    if "crit" in header or "b64" in header:
        raise JoseError("malformed", "crit/b64 header parameters are not supported")
    if header["alg"] not in allowed:
        raise JoseError("alg_not_allowed", f"alg {header['alg']!r} is not allowed")
    if _media_type(header["typ"]) != _media_type(typ):
        raise JoseError("typ_mismatch", f"typ {header['typ']!r}, expected {typ!r}")
    alg: str = header["alg"]
    return alg


def _media_type(value: str) -> str:
    # RFC 7515 §4.1.9: compared case-insensitively, "application/" may be omitted.
    return value.lower().removeprefix("application/")


def _key_algorithm(key: PublicKey) -> str | None:
    try:
        return jws_algorithm(key)
    except ValueError:
        return None


def _check_signature(token: str, key: PublicKey, alg: str) -> None:
    try:
        jws.deserialize_compact(token, _to_jwk(key), registry=_registry(alg))
    except joserfc_errors.BadSignatureError as exc:
        raise JoseError("bad_signature", "signature does not verify") from exc
    except (joserfc_errors.JoseError, ValueError) as exc:
        raise JoseError("malformed", str(exc)) from exc


def _registry(alg: str) -> _Registry:
    return _Registry(algorithms=[alg], strict_check_header=False)


def _to_jwk(key: PrivateKey | PublicKey) -> ECKey | OKPKey | RSAKey:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return ECKey.import_key(key)
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return OKPKey.import_key(key)
    return RSAKey.import_key(key)
