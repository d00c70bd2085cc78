"""RFC 7520 ("Examples of Protecting Content Using JOSE") vectors on Jisr's JWS path.

The provider signs ID tokens, access tokens and userinfo with ES256 or RS256
(``jisr.identity.oidc.keys``, ``jisr.identity.oidc.tokens.sign_jwt`` →
``jisr.crypto.jose.sign_compact``); RS256 is RSASSA-PKCS1-v1_5, deterministic, so the
§4.1 example is reproduced byte for byte. §4.3 is ES512 (P-521), which Jisr does not
accept: the test checks that it is refused as an unsupported algorithm.

The values are RFC 7520 §3.3 (P-521 public key), §3.4 (RSA private key: n, e, d, p, q;
the CRT values are derived and the key checked for consistency), §4 (payload) and §4.1
(RS256 protected header and signature). Not used: the §4.3 signature (ECDSA is
randomised, and the P-521 private key is not needed to show the refusal).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jws
from joserfc.jwk import RSAKey

from jisr.crypto.jose import JoseError, verify_compact
from jisr.crypto.keys import jws_algorithm, sign, verify
from jisr.identity.oidc.keys import SigningKey, public_jwk
from jisr.identity.oidc.tokens import sign_jwt

KID = "bilbo.baggins@hobbiton.example"

# RFC 7520 §3.4, "RSA Private Key".
RSA_N = (
    "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_"
    "AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7"
    "Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_"
    "vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw"
)
RSA_E = "AQAB"
RSA_D = (
    "bWUC9B-EFRIo8kpGfh0ZuyGPvMNKvYWNtB_ikiH9k20eT-O1q_I78eiZkpXxXQ0UTEs2LsNRS-8uJbvQ-A1irkwMSM"
    "kK1J3XTGgdrhCku9gRldY7sNA_AKZGh-Q661_42rINLRCe8W-nZ34ui_qOfkLnK9QWDDqpaIsA-bMwWWSDFu2MUBYw"
    "kHTMEzLYGqOe04noqeq1hExBTHBOBdkMXiuFhUq1BU6l-DqEiWxqg82sXt2h-LMnT3046AOYJoRioz75tSUQfGCshW"
    "TBnP5uDjd18kKhyv07lhfSJdrPdM5Plyl21hsFf4L_mHCuoFau7gdsPfHPxxjVOcOpBrQzwQ"
)
RSA_P = (
    "3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nRaO7HX_-SFfGQeutao2TDjDAWU4Vupk8rw9JR"
    "0AzZ0N2fvuIAmr_WCsmGpeNqQnev1T7IyEsnh8UMt-n5CafhkikzhEsrmndH6LxOrvRJlsPp6Zv8bUq0k"
)
RSA_Q = (
    "uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJuBzp3Cubk3OCqs6grT8bR_cu0Dm1MZwWmtdqDyI95HrUeq3MP15vMM"
    "ON8lHTeZu2lmKvwqW7anV5UzhM1iZ7z4yMkuUwFWoBvyY898EXvRD-hdqRxHlSqAZ192zB3pVFJ0s7pFc"
)

# RFC 7520 §3.3, "EC Public Key" (P-521).
EC_X = "AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt"
EC_Y = "AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"

# RFC 7520 §4, the payload (with U+2019 apostrophes), and its base64url encoding.
PAYLOAD = (
    "It\u2019s a dangerous business, Frodo, going out your door. You step onto the road, and if "
    "you don't keep your feet, there\u2019s no knowing where you might be swept off to."
)
PAYLOAD_B64 = (
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb2"
    "50byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcg"
    "d2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4"
)

# RFC 7520 §4.1.2, the RS256 protected header and signature.
RS256_HEADER_B64 = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9"
RS256_SIGNATURE = (
    "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xu"
    "glII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5a"
    "AE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0"
    "KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg"
)
RS256_COMPACT = f"{RS256_HEADER_B64}.{PAYLOAD_B64}.{RS256_SIGNATURE}"

# RFC 7520 §4.3.2, the ES512 protected header.
ES512_HEADER_B64 = "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int(text: str) -> int:
    return int.from_bytes(_unb64(text), "big")


def _rsa_key() -> rsa.RSAPrivateKey:
    n, e, d, p, q = (_int(v) for v in (RSA_N, RSA_E, RSA_D, RSA_P, RSA_Q))
    assert p * q == n, "RFC 7520 §3.4 p·q is not n: a vector was mistyped"
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e, n),
    )
    return numbers.private_key()


def test_rfc7520_section4_payload_and_headers() -> None:
    """§4: the payload's base64url; §4.1.2 / §4.3.2: the protected headers decode to the
    documented JSON."""
    assert _b64(PAYLOAD.encode()) == PAYLOAD_B64
    assert json.loads(_unb64(RS256_HEADER_B64)) == {"alg": "RS256", "kid": KID}
    assert json.loads(_unb64(ES512_HEADER_B64)) == {"alg": "ES512", "kid": KID}


def test_rfc7520_section4_1_rs256_signature_byte_for_byte() -> None:
    """§4.1: RSA v1.5 signing of the payload with the §3.4 key. Jisr's RS256 primitive
    (``jisr.crypto.keys.sign``) and joserfc (the JWS library of ``jisr.crypto.jose``)
    reproduce the signature and the compact serialization exactly; the signature
    verifies, and a flipped byte does not."""
    key = _rsa_key()
    assert jws_algorithm(key) == "RS256"
    signing_input = f"{RS256_HEADER_B64}.{PAYLOAD_B64}".encode("ascii")
    signature = sign(key, signing_input)
    assert _b64(signature) == RS256_SIGNATURE
    assert verify(key.public_key(), _unb64(RS256_SIGNATURE), signing_input)
    tampered = bytearray(_unb64(RS256_SIGNATURE))
    tampered[-1] ^= 1
    assert not verify(key.public_key(), bytes(tampered), signing_input)
    compact = jws.serialize_compact(
        {"alg": "RS256", "kid": KID}, PAYLOAD.encode(), RSAKey.import_key(key)
    )
    assert compact == RS256_COMPACT


def test_rfc7520_section3_4_public_jwk_as_published() -> None:
    """§3.4: the JWKS entry the provider would publish for this key (``public_jwk``) carries
    the RFC's n and e and no private member."""
    jwk = public_jwk(_rsa_key().public_key(), kid=KID, alg="RS256")
    assert jwk["kty"] == "RSA" and jwk["n"] == RSA_N and jwk["e"] == RSA_E
    assert jwk["kid"] == KID and jwk["alg"] == "RS256" and jwk["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & jwk.keys()


def test_rfc7520_section4_1_token_through_verify_compact() -> None:
    """The §4.1 JWS carries no ``typ``; ``verify_compact`` requires one (explicit typing,
    RFC 8725 §3.11), so it refuses the RFC token as malformed; the same key and payload
    signed by the provider's ``sign_jwt`` (typ JWT) verify, and fail under another key."""
    key = _rsa_key()
    trusted = {KID: key.public_key()}
    with pytest.raises(JoseError) as refused:
        verify_compact(RS256_COMPACT, trusted, typ="JWT", algorithms=["RS256"])
    assert refused.value.reason == "malformed"

    now = datetime(2026, 11, 29, tzinfo=UTC)
    signer = SigningKey(KID, "RS256", key, "active", now, None)
    token = sign_jwt(signer, {"msg": PAYLOAD})
    header, payload = verify_compact(token, trusted, typ="JWT", algorithms=["RS256"])
    assert header == {"alg": "RS256", "kid": KID, "typ": "JWT"}
    assert json.loads(payload) == {"msg": PAYLOAD}
    # Same header and payload as the RFC signing input except typ: PKCS#1 v1.5 is
    # deterministic, so the signature is sign() over exactly that input.
    head, body, signature = token.split(".")
    assert signature == _b64(sign(key, f"{head}.{body}".encode()))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(JoseError) as bad:
        verify_compact(token, {KID: other.public_key()}, typ="JWT", algorithms=["RS256"])
    assert bad.value.reason == "bad_signature"


def test_rfc7520_section4_3_es512_refused_as_unsupported() -> None:
    """§4.3 is ECDSA P-521 / ES512. Jisr signs and verifies ES256, ES384, EdDSA and RS256
    only: ES512 cannot be allowed, a P-521 key has no JWS algorithm, and an ES512 token is
    refused on its ``alg`` before any key or signature is considered."""
    public = ec.EllipticCurvePublicNumbers(_int(EC_X), _int(EC_Y), ec.SECP521R1()).public_key()
    with pytest.raises(ValueError, match="unsupported"):
        jws_algorithm(public)
    with pytest.raises(ValueError, match="unsupported algorithms"):
        verify_compact("a.b.c", {KID: public}, typ="JWT", algorithms=["ES512"])
    header = _b64(json.dumps({"alg": "ES512", "kid": KID, "typ": "JWT"}).encode())
    token = f"{header}.{PAYLOAD_B64}.{_b64(bytes(132))}"
    with pytest.raises(JoseError) as refused:
        verify_compact(token, {KID: public}, typ="JWT", algorithms=["ES256", "RS256"])
    assert refused.value.reason == "alg_not_allowed"
