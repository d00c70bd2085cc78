"""Compact JWS profile: round trips, and every way a token is refused."""

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from jisr.crypto.jose import (
    JoseError,
    PrivateKey,
    sign_compact,
    verify_compact,
)
from jisr.crypto.keys import jws_algorithm

TYP = "jisr-test+json"
PAYLOAD = b'{"hello":"world"}'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], payload: bytes, signature: bytes) -> str:
    return ".".join([_b64(json.dumps(header).encode()), _b64(payload), _b64(signature)])


def _reason(token: str, keys: Any, **kwargs: Any) -> str:
    with pytest.raises(JoseError) as caught:
        verify_compact(token, keys, typ=kwargs.pop("typ", TYP), **kwargs)
    return caught.value.reason


@pytest.fixture(scope="module")
def p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def token(p256: ec.EllipticCurvePrivateKey) -> str:
    return sign_compact(PAYLOAD, p256, kid="k1", typ=TYP)


class TestRoundTrip:
    @pytest.mark.parametrize(
        ("make_key", "alg"),
        [
            (lambda: ec.generate_private_key(ec.SECP256R1()), "ES256"),
            (lambda: ec.generate_private_key(ec.SECP384R1()), "ES384"),
            (ed25519.Ed25519PrivateKey.generate, "EdDSA"),
            (lambda: rsa.generate_private_key(65537, 2048), "RS256"),
        ],
    )
    def test_sign_then_verify(self, make_key: Any, alg: str) -> None:
        """A token signed with a key verifies with its public key; alg follows the key type."""
        key: PrivateKey = make_key()
        token = sign_compact(PAYLOAD, key, kid="k1", typ=TYP, extra_header={"x5t#S256": "abc"})
        header, payload = verify_compact(
            token, {"k1": key.public_key()}, typ=TYP, algorithms=(alg,)
        )
        assert payload == PAYLOAD
        assert header == {"alg": alg, "kid": "k1", "typ": TYP, "x5t#S256": "abc"}
        assert jws_algorithm(key) == alg

    def test_ed25519_signs_without_warnings(self, recwarn: pytest.WarningsRecorder) -> None:
        """joserfc's RFC 9864 deprecation warning for "EdDSA" is not raised per token."""
        key = ed25519.Ed25519PrivateKey.generate()
        verify_compact(
            sign_compact(PAYLOAD, key, kid="e", typ=TYP), {"e": key.public_key()}, typ=TYP
        )
        assert not recwarn.list

    def test_typ_compares_as_media_type(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """RFC 7515 §4.1.9: case-insensitive, "application/" prefix optional."""
        token = sign_compact(PAYLOAD, p256, kid="k1", typ="application/JISR-TEST+JSON")
        assert verify_compact(token, {"k1": p256.public_key()}, typ=TYP)[1] == PAYLOAD

    def test_extra_header_cannot_override_owned_parameters(
        self, p256: ec.EllipticCurvePrivateKey
    ) -> None:
        """alg/kid/typ come from the key and arguments; crit/b64 would be refused anyway."""
        for name in ("alg", "kid", "typ", "crit", "b64"):
            with pytest.raises(ValueError, match=name):
                sign_compact(PAYLOAD, p256, kid="k1", typ=TYP, extra_header={name: "x"})

    def test_unsupported_curve_cannot_sign(self) -> None:
        """Only P-256 and P-384 have a JWS algorithm here."""
        with pytest.raises(ValueError, match="curve"):
            sign_compact(PAYLOAD, ec.generate_private_key(ec.SECP521R1()), kid="k", typ=TYP)


class TestRefusals:
    @pytest.mark.parametrize(
        "token",
        [
            "",
            "a.b",
            "a.b.c.d",
            ".eyJ9.c2ln",
            "eyJhbGciOiJFUzI1NiJ9.e30.",
            "e30.e30.c2ln",  # header lacks alg/kid/typ
            "W10.e30.c2ln",  # header is an array
            "bm90IGpzb24.e30.c2ln",  # header is not JSON
            "eyJhbGciOiJFUzI1NiJ9.e30.c2ln=",  # padding is not base64url
            "eyJhbGciOiJFUzI1NiJ9.e3+.c2ln",  # "+" is base64, not base64url
        ],
    )
    def test_malformed(self, token: str, p256: ec.EllipticCurvePrivateKey) -> None:
        """Anything that is not a canonical compact JWS with a proper header is malformed."""
        assert _reason(token, {"k1": p256.public_key()}) == "malformed"

    def test_duplicate_header_names_are_malformed(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """RFC 7515 §5.2: a header naming alg twice is refused, not "last one wins"."""
        header = b'{"alg":"none","kid":"k1","typ":"' + TYP.encode() + b'","alg":"ES256"}'
        token = f"{_b64(header)}.{_b64(PAYLOAD)}.{_b64(b'x' * 64)}"
        assert _reason(token, {"k1": p256.public_key()}) == "malformed"

    def test_crit_is_refused(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """RFC 7515 §4.1.11: Jisr understands no extension, so any crit is refused."""
        header = {"alg": "ES256", "kid": "k1", "typ": TYP, "crit": ["exp"], "exp": 1}
        token = _forge(header, PAYLOAD, b"x" * 64)
        assert _reason(token, {"k1": p256.public_key()}) == "malformed"

    def test_unencoded_payload_is_refused(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """RFC 7797 b64=false would change what is signed; it is refused."""
        token = _forge({"alg": "ES256", "kid": "k1", "typ": TYP, "b64": False}, PAYLOAD, b"x")
        assert _reason(token, {"k1": p256.public_key()}) == "malformed"

    def test_unknown_kid(self, token: str, p256: ec.EllipticCurvePrivateKey) -> None:
        """The key is chosen by kid; other keys are never tried."""
        assert _reason(token, {"other": p256.public_key()}) == "unknown_kid"

    def test_alg_none(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """An unsigned token is refused even when its kid is trusted."""
        token = _forge({"alg": "none", "kid": "k1", "typ": TYP}, PAYLOAD, b"")
        token += "AA"  # a signature segment, so only alg can be the reason
        assert _reason(token, {"k1": p256.public_key()}) == "alg_not_allowed"

    def test_hs256_with_public_key_as_secret(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """The classic confusion attack: HMAC keyed with the verifier's public key."""
        secret = p256.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        header = {"alg": "HS256", "kid": "k1", "typ": TYP}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(PAYLOAD)}".encode()
        mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
        token = f"{signing_input.decode()}.{_b64(mac)}"
        assert _reason(token, {"k1": p256.public_key()}) == "alg_not_allowed"

    def test_alg_outside_allow_list(self) -> None:
        """RS256 works only when the caller allows it."""
        key = rsa.generate_private_key(65537, 2048)
        token = sign_compact(PAYLOAD, key, kid="r", typ=TYP)
        assert _reason(token, {"r": key.public_key()}) == "alg_not_allowed"

    def test_alg_not_matching_the_key(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """An EdDSA token naming a P-256 kid is refused before any signature check."""
        ed = ed25519.Ed25519PrivateKey.generate()
        token = sign_compact(PAYLOAD, ed, kid="k1", typ=TYP)
        assert _reason(token, {"k1": p256.public_key()}) == "alg_not_allowed"

    def test_typ_mismatch(self, token: str, p256: ec.EllipticCurvePrivateKey) -> None:
        """A token made for another purpose is refused even with a good signature."""
        assert _reason(token, {"k1": p256.public_key()}, typ="other+json") == "typ_mismatch"

    def test_bad_signature_from_another_key(self, token: str) -> None:
        """Same kid, different key: the signature does not verify."""
        other = ec.generate_private_key(ec.SECP256R1())
        assert _reason(token, {"k1": other.public_key()}) == "bad_signature"

    def test_tampered_payload(self, token: str, p256: ec.EllipticCurvePrivateKey) -> None:
        """Changing the payload breaks the signature."""
        header, _, signature = token.split(".")
        forged = ".".join([header, _b64(b'{"hello":"mars"}'), signature])
        assert _reason(forged, {"k1": p256.public_key()}) == "bad_signature"

    def test_second_spelling_of_signature_is_malformed(
        self, token: str, p256: ec.EllipticCurvePrivateKey
    ) -> None:
        """RFC 4648 §3.5: a last character differing only in unused bits is refused."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet.index(token[-1])
        # 64-byte ES256 signature = 86 characters: the last 4 bits of the last one are unused.
        twin = alphabet[last ^ 0b0001]
        forged = token[:-1] + twin
        assert base64.urlsafe_b64decode(forged.split(".")[2] + "==") == base64.urlsafe_b64decode(
            token.split(".")[2] + "=="
        )
        assert _reason(forged, {"k1": p256.public_key()}) == "malformed"

    def test_every_single_character_change_is_refused(
        self, token: str, p256: ec.EllipticCurvePrivateKey
    ) -> None:
        """Canonical base64url means no other spelling of a token verifies."""
        keys = {"k1": p256.public_key()}
        for position in range(len(token)):
            replacement = "A" if token[position] != "A" else "B"
            forged = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(JoseError):
                verify_compact(forged, keys, typ=TYP)

    def test_unsupported_algorithm_in_allow_list_is_a_programming_error(
        self, token: str, p256: ec.EllipticCurvePrivateKey
    ) -> None:
        """Allowing none or HS256 is never what the caller meant."""
        for alg in ("none", "HS256"):
            with pytest.raises(ValueError, match="unsupported"):
                verify_compact(token, {"k1": p256.public_key()}, typ=TYP, algorithms=(alg,))
