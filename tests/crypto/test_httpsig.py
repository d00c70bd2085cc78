"""HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530): vectors, round trips,
and every way a signature or digest is refused."""

import base64
import contextlib
import hashlib
import itertools
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from hypothesis import given
from hypothesis import strategies as st

from jisr.crypto import httpsig, keys
from jisr.crypto.httpsig import (
    DIGEST_ALGORITHMS,
    DigestBuilder,
    Message,
    SignatureError,
    Verified,
    check_content_digest,
    content_digest,
    parse_content_digest,
    sign_message,
    signature_algorithm,
    signature_base,
    verify_message,
)
from jisr.crypto.keys import PrivateKey, PublicKey

# --- RFC 9421 Appendix B test data --------------------------------------------------------

# B.1.3 test-key-ecc-p256, public half.
RFC_ECC_P256_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf
w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==
-----END PUBLIC KEY-----
"""
# B.1.4 test-key-ed25519.
RFC_ED25519_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
RFC_ED25519_PRIVATE = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""

# B.2: test-request and test-response (field names lowercased, as the caller supplies them).
RFC_REQUEST = Message(
    method="POST",
    target_uri="https://example.com/foo?param=Value&Pet=dog",
    headers={
        "host": "example.com",
        "date": "Tue, 20 Apr 2021 02:07:55 GMT",
        "content-type": "application/json",
        "content-digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+"
        "AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
        "content-length": "18",
    },
)
RFC_REQUEST_BODY = b'{"hello": "world"}'
RFC_RESPONSE = Message(
    status=200,
    headers={
        "date": "Tue, 20 Apr 2021 02:07:56 GMT",
        "content-type": "application/json",
        "content-digest": "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5o"
        "GX69wWdXymyU0rjJuahq4l5aGgfLQ==:",
        "content-length": "23",
    },
)
RFC_RESPONSE_BODY = b'{"message": "good dog"}'

B24_COMPONENTS = ("@status", "content-type", "content-digest", "content-length")
B24_PARAMS = (
    '("@status" "content-type" "content-digest" "content-length")'
    ';created=1618884473;keyid="test-key-ecc-p256"'
)
B24_BASE = (
    b'"@status": 200\n'
    b'"content-type": application/json\n'
    b'"content-digest": sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69'
    b"wWdXymyU0rjJuahq4l5aGgfLQ==:\n"
    b'"content-length": 23\n'
    b'"@signature-params": ("@status" "content-type" "content-digest" "content-length")'
    b';created=1618884473;keyid="test-key-ecc-p256"'
)
B24_SIGNATURE = (
    "wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw=="
)

B26_COMPONENTS = ("date", "@method", "@path", "@authority", "content-type", "content-length")
B26_PARAMS = (
    '("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type"'
    b' "content-length");created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)

# --- A Jisr gateway exchange ---------------------------------------------------------------

NOW = 1_700_000_000
BODY = b'{"query": {"personCode": "38001085718"}}'
URI = "https://gw-b.example.gov:8443/r1/EE/GOV/70000002/registry/getPerson/v1?id=42"
CLIENT = "EE/GOV/70000001/portal"
REQUEST_COMPONENTS = ("@method", "@target-uri", "content-digest", "x-road-client")
RESPONSE_COMPONENTS = (
    "@status",
    "content-digest",
    "@method;req",
    "@target-uri;req",
    "content-digest;req",
    "x-road-client;req",
)


def _request(**changes: Any) -> Message:
    fields: dict[str, Any] = {
        "method": "POST",
        "target_uri": URI,
        "headers": {
            "content-digest": content_digest(BODY),
            "content-type": "application/json",
            "x-road-client": CLIENT,
        },
    }
    return Message(**(fields | changes))


def _response(request: Message | None, **changes: Any) -> Message:
    fields: dict[str, Any] = {
        "status": 200,
        "headers": {"content-digest": content_digest(b'{"name": "Mari"}')},
        "request": request,
    }
    return Message(**(fields | changes))


def _resolver(keyid: str, key: PublicKey) -> Callable[[str], PublicKey | None]:
    return {keyid: key}.get


def _verify(message: Message, fields: tuple[str, str], key: PublicKey, **kwargs: Any) -> Verified:
    options: dict[str, Any] = {
        "resolve_key": _resolver("gw-a", key),
        "required": REQUEST_COMPONENTS,
        "now": NOW,
        "max_age": 300,
    }
    return verify_message(
        message, signature_input=fields[0], signature=fields[1], **(options | kwargs)
    )


def _reason(message: Message, fields: tuple[str, str], key: PublicKey, **kwargs: Any) -> str:
    with pytest.raises(SignatureError) as caught:
        _verify(message, fields, key, **kwargs)
    return caught.value.reason


def _sign(message: Message, key: PrivateKey, **kwargs: Any) -> tuple[str, str]:
    options: dict[str, Any] = {"components": REQUEST_COMPONENTS, "keyid": "gw-a", "created": NOW}
    return sign_message(message, key=key, **(options | kwargs))


# For the property tests, which cannot take pytest fixtures.
_STATIC_KEY = ed25519.Ed25519PrivateKey.generate()
_STATIC_FIELDS = _sign(_request(), _STATIC_KEY)


@pytest.fixture(scope="module")
def p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def signed(p256: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    return _sign(_request(), p256)


class TestRfc9421Vectors:
    """RFC 9421 Appendix B.2.4 and B.2.6, byte for byte."""

    def test_b24_signature_base(self) -> None:
        """The base printed in B.2.4 is rebuilt exactly from test-response."""
        assert signature_base(RFC_RESPONSE, B24_COMPONENTS, B24_PARAMS) == B24_BASE

    def test_b24_ecdsa_signature_verifies(self) -> None:
        """The RFC's r||s signature verifies; with no alg, the key's algorithm is used."""
        public = load_pem_public_key(RFC_ECC_P256_PUBLIC)
        assert isinstance(public, ec.EllipticCurvePublicKey)
        verified = verify_message(
            RFC_RESPONSE,
            signature_input=f"sig-b24={B24_PARAMS}",
            signature=f"sig-b24=:{B24_SIGNATURE}:",
            resolve_key=_resolver("test-key-ecc-p256", public),
            required=B24_COMPONENTS,
            now=1618884473,
            max_age=60,
            label="sig-b24",
            tag=None,
        )
        assert verified == Verified(
            label="sig-b24",
            keyid="test-key-ecc-p256",
            created=1618884473,
            components=B24_COMPONENTS,
            alg="ecdsa-p256-sha256",
            nonce=None,
        )

    def test_b26_signature_base(self) -> None:
        """The base printed in B.2.6 is rebuilt exactly from test-request."""
        assert signature_base(RFC_REQUEST, B26_COMPONENTS, B26_PARAMS) == B26_BASE

    def test_b26_ed25519_signature_is_reproduced(self) -> None:
        """Ed25519 is deterministic: signing the B.2.6 base gives the RFC's bytes."""
        private = load_pem_private_key(RFC_ED25519_PRIVATE, None)
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        public_pem = private.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )
        assert public_pem == RFC_ED25519_PUBLIC
        base = signature_base(RFC_REQUEST, B26_COMPONENTS, B26_PARAMS)
        assert base64.b64encode(keys.sign(private, base)).decode() == B26_SIGNATURE

    def test_b26_signature_verifies(self) -> None:
        """The RFC's Signature-Input and Signature fields verify under their own label."""
        public = load_pem_public_key(RFC_ED25519_PUBLIC)
        assert isinstance(public, ed25519.Ed25519PublicKey)
        verified = verify_message(
            RFC_REQUEST,
            signature_input=f"sig-b26={B26_PARAMS}",
            signature=f"sig-b26=:{B26_SIGNATURE}:",
            resolve_key=_resolver("test-key-ed25519", public),
            required=("@method", "@path", "@authority"),
            now=1618884473 + 10,
            max_age=60,
            label="sig-b26",
            tag=None,
        )
        assert verified.alg == "ed25519"
        assert verified.components == B26_COMPONENTS

    def test_test_messages_carry_their_bodies_digests(self) -> None:
        """The sha-512 Content-Digest fields of B.2 are those of the example bodies."""
        check_content_digest(
            RFC_REQUEST.headers["content-digest"],
            {"sha-512": hashlib.sha512(RFC_REQUEST_BODY).digest()},
        )
        assert (
            content_digest(RFC_RESPONSE_BODY, "sha-512") == (RFC_RESPONSE.headers["content-digest"])
        )


class TestContentDigest:
    """RFC 9530 Content-Digest: computing, parsing and checking."""

    def test_rfc9530_sha256_example(self) -> None:
        """RFC 9530 Appendix B: sha-256 of `{"hello": "world"}` and a line feed."""
        assert content_digest(b'{"hello": "world"}\n') == (
            "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:"
        )

    def test_rfc9530_sha512_example(self) -> None:
        """RFC 9530 §2: sha-512 of the same content."""
        assert content_digest(b'{"hello": "world"}\n', "sha-512") == (
            "sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/"
            "WkppmM44T3qg==:"
        )

    @pytest.mark.parametrize("algorithm", DIGEST_ALGORITHMS)
    def test_builder_streams_like_one_shot(self, algorithm: str) -> None:
        """Feeding the body in chunks gives the same digest and field value as all at once."""
        builder = DigestBuilder(algorithm)
        for start in range(0, len(BODY), 7):
            builder.update(BODY[start : start + 7])
        assert builder.digest() == hashlib.new(algorithm.replace("-", ""), BODY).digest()
        assert builder.header_value() == content_digest(BODY, algorithm)

    def test_empty_body(self) -> None:
        """An empty body has a digest too (RFC 9530 Appendix B.2)."""
        assert content_digest(b"") == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"

    @pytest.mark.parametrize("algorithm", ["sha", "md5", "SHA-256", "unixsum"])
    def test_unsupported_algorithm_is_refused(self, algorithm: str) -> None:
        """Only sha-256 and sha-512 are computed (RFC 9530 §7.2 deprecates the rest)."""
        with pytest.raises(ValueError, match="unsupported digest algorithm"):
            DigestBuilder(algorithm)

    def test_parse_keeps_unknown_algorithms(self) -> None:
        """Every member is returned, known or not; parameters are ignored."""
        sha256 = hashlib.sha256(BODY).digest()
        value = f"{content_digest(BODY)};x=1,  sha-999=:AQID:"
        assert parse_content_digest(value) == {"sha-256": sha256, "sha-999": b"\x01\x02\x03"}

    def test_parse_refuses_a_digest_of_the_wrong_length(self) -> None:
        """A sha-256 member must hold 32 bytes."""
        with pytest.raises(SignatureError) as caught:
            parse_content_digest("sha-256=:AQID:")
        assert caught.value.reason == "malformed"

    @pytest.mark.parametrize(
        "value",
        ["sha-256", "sha-256=1", 'sha-256="abc"', "sha-256=:***:", "sha-256=:AQ:,", "SHA-256=:AQ:"],
    )
    def test_parse_refuses_what_is_not_a_digest_dictionary(self, value: str) -> None:
        """Values that are not Byte Sequences, or not RFC 8941 at all, are malformed."""
        with pytest.raises(SignatureError) as caught:
            parse_content_digest(value)
        assert caught.value.reason == "malformed"

    def test_check_accepts_matching_digests(self) -> None:
        """All algorithms present and computed match: accepted."""
        value = f"{content_digest(BODY)}, {content_digest(BODY, 'sha-512')}"
        computed = {a: hashlib.new(a.replace("-", ""), BODY).digest() for a in DIGEST_ALGORITHMS}
        check_content_digest(value, computed)

    def test_check_refuses_a_mismatch(self) -> None:
        """A digest of other content is a digest_mismatch."""
        with pytest.raises(SignatureError) as caught:
            check_content_digest(content_digest(BODY), {"sha-256": hashlib.sha256(b"x").digest()})
        assert caught.value.reason == "digest_mismatch"

    def test_check_refuses_when_any_checked_algorithm_mismatches(self) -> None:
        """A good sha-256 does not excuse a bad sha-512."""
        value = f"{content_digest(BODY)}, {content_digest(b'other', 'sha-512')}"
        computed = {a: hashlib.new(a.replace("-", ""), BODY).digest() for a in DIGEST_ALGORITHMS}
        with pytest.raises(SignatureError) as caught:
            check_content_digest(value, computed)
        assert caught.value.reason == "digest_mismatch"

    @pytest.mark.parametrize(
        "value",
        ["", "sha-999=:AQID:", "unixsum=:AQID:, md5=:AQID:", "sha-512=:" + "A" * 86 + "==:"],
    )
    def test_check_refuses_when_nothing_can_be_checked(self, value: str) -> None:
        """No supported digest that was also computed (here: sha-256): digest_missing."""
        with pytest.raises(SignatureError) as caught:
            check_content_digest(value, {"sha-256": hashlib.sha256(BODY).digest()})
        assert caught.value.reason == "digest_missing"

    @given(st.text())
    def test_random_text_raises_only_signature_error(self, value: str) -> None:
        """Whatever arrives in Content-Digest, the only exception is SignatureError."""
        with pytest.raises(SignatureError) as caught:
            check_content_digest(value, {"sha-256": hashlib.sha256(BODY).digest()})
        assert caught.value.reason in {"malformed", "digest_missing", "digest_mismatch"}


class TestSignatureAlgorithm:
    """RFC 9421 §3.3 names follow the key type."""

    @pytest.mark.parametrize(
        ("make_key", "expected"),
        [
            (lambda: ec.generate_private_key(ec.SECP256R1()), "ecdsa-p256-sha256"),
            (lambda: ec.generate_private_key(ec.SECP384R1()), "ecdsa-p384-sha384"),
            (ed25519.Ed25519PrivateKey.generate, "ed25519"),
        ],
    )
    def test_private_and_public_keys(self, make_key: Any, expected: str) -> None:
        """A private key and its public key have the same algorithm."""
        key = make_key()
        assert signature_algorithm(key) == signature_algorithm(key.public_key()) == expected

    def test_rsa_is_outside_the_profile(self) -> None:
        """RSA keys have no algorithm in the Jisr profile."""
        with pytest.raises(ValueError, match="no RFC 9421 algorithm"):
            signature_algorithm(rsa.generate_private_key(65537, 2048))


class TestRoundTrip:
    """What sign_message writes, verify_message accepts."""

    @pytest.mark.parametrize(
        "make_key",
        [
            lambda: ec.generate_private_key(ec.SECP256R1()),
            lambda: ec.generate_private_key(ec.SECP384R1()),
            ed25519.Ed25519PrivateKey.generate,
        ],
        ids=["p256", "p384", "ed25519"],
    )
    def test_request(self, make_key: Callable[[], PrivateKey]) -> None:
        """A signed request verifies with the signer's public key."""
        key = make_key()
        verified = _verify(_request(), _sign(_request(), key), key.public_key())
        assert verified == Verified(
            label="jisr",
            keyid="gw-a",
            created=NOW,
            components=REQUEST_COMPONENTS,
            alg=signature_algorithm(key),
            nonce=None,
        )

    @pytest.mark.parametrize(
        "make_key",
        [lambda: ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate],
        ids=["p256", "ed25519"],
    )
    def test_response_binds_the_request(self, make_key: Callable[[], PrivateKey]) -> None:
        """;req components (§2.4) are taken from the request the response answers."""
        key = make_key()
        response = _response(_request())
        fields = _sign(response, key, components=RESPONSE_COMPONENTS, nonce="n-1")
        verified = _verify(response, fields, key.public_key(), required=RESPONSE_COMPONENTS)
        assert verified.components == RESPONSE_COMPONENTS
        assert verified.nonce == "n-1"

    def test_response_for_another_request_is_refused(self) -> None:
        """The same response bound to a different request does not verify."""
        key = ed25519.Ed25519PrivateKey.generate()
        fields = _sign(_response(_request()), key, components=RESPONSE_COMPONENTS)
        other = _response(_request(target_uri=URI.replace("id=42", "id=43")))
        assert _reason(other, fields, key.public_key(), required=()) == "bad_signature"

    def test_field_values_are_the_profile_serialisation(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str]
    ) -> None:
        """Signature-Input lists the components and created, keyid, alg, tag in that order."""
        signature_input, signature = signed
        assert signature_input == (
            'jisr=("@method" "@target-uri" "content-digest" "x-road-client")'
            ';created=1700000000;keyid="gw-a";alg="ecdsa-p256-sha256";tag="jisr-xroad/1"'
        )
        assert signature.startswith("jisr=:") and signature.endswith(":")
        # §3.3.4: r || s, 32 bytes each, not DER.
        assert len(base64.b64decode(signature[6:-1])) == 64

    def test_nonce_and_quotes_are_serialised_as_strings(self) -> None:
        """keyid, nonce and tag are RFC 8941 Strings, escaped where needed."""
        key = ed25519.Ed25519PrivateKey.generate()
        keyid = 'EE/GOV/"70000001"\\gw'
        fields = _sign(_request(), key, keyid=keyid, nonce="abc 123", tag="t")
        expected = ';keyid="EE/GOV/\\"70000001\\"\\\\gw";nonce="abc 123";alg="ed25519";tag="t"'
        assert expected in fields[0]
        verified = _verify(
            _request(), fields, key.public_key(), resolve_key={keyid: key.public_key()}.get, tag="t"
        )
        assert (verified.keyid, verified.nonce) == (keyid, "abc 123")

    def test_other_labels_and_whitespace_are_tolerated(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str]
    ) -> None:
        """Other signatures may sit beside ours; optional whitespace does not matter (§3.2)."""
        signature_input, signature = signed
        spaced = signature_input.replace('("@method" ', '(  "@method"   ').replace(")", " )")
        fields = (
            f'proxy=("@method");created=1;keyid="p",   {spaced}',
            f"{signature},proxy=:AAAA:",
        )
        assert _verify(_request(), fields, p256.public_key()).label == "jisr"

    def test_base64_without_padding_is_accepted(self) -> None:
        """RFC 8941 §4.2.7: parsers SHOULD NOT fail when "=" padding is missing."""
        key = ed25519.Ed25519PrivateKey.generate()
        signature_input, signature = _sign(_request(), key)
        assert signature.endswith("==:")
        unpadded = signature.replace("==:", ":")
        assert _verify(_request(), (signature_input, unpadded), key.public_key()).alg == "ed25519"

    def test_header_whitespace_is_not_signed(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """§2.1: leading and trailing whitespace of a field value may change in transit."""
        fields = _sign(_request(), p256)
        headers = dict(_request().headers) | {"x-road-client": f" \t{CLIENT}  "}
        assert _verify(_request(headers=headers), fields, p256.public_key()).keyid == "gw-a"

    def test_time_window_bounds_are_inclusive(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """now - max_age <= created <= now + max_skew is accepted at both ends."""
        fields = _sign(_request(), p256)
        public = p256.public_key()
        assert _verify(_request(), fields, public, now=NOW + 300).created == NOW
        assert _verify(_request(), fields, public, now=NOW - 5).created == NOW


class TestDerivedComponents:
    """RFC 9421 §2.2 derived component values."""

    @pytest.mark.parametrize(
        ("uri", "authority", "path", "query"),
        [
            ("https://Gw.Example.GOV/a/b?x=1&y=%20", "gw.example.gov", "/a/b", "?x=1&y=%20"),
            ("https://gw.example.gov:443", "gw.example.gov", "/", "?"),
            ("http://gw.example.gov:80/?", "gw.example.gov", "/", "?"),
            ("https://gw.example.gov:8443/p", "gw.example.gov:8443", "/p", "?"),
            ("https://[2001:DB8::1]:8443/p?q", "[2001:db8::1]:8443", "/p", "?q"),
            ("https://gw.example.gov?only", "gw.example.gov", "/", "?only"),
        ],
    )
    def test_uri_parts(self, uri: str, authority: str, path: str, query: str) -> None:
        """@authority is lowercased without default port; @path "/" if empty; @query has "?"."""
        message = Message(method="GET", target_uri=uri)
        base = signature_base(message, ["@target-uri", "@authority", "@path", "@query"], "()")
        assert base.decode().splitlines() == [
            f'"@target-uri": {uri}',
            f'"@authority": {authority}',
            f'"@path": {path}',
            f'"@query": {query}',
            '"@signature-params": ()',
        ]

    def test_method_is_case_sensitive(self) -> None:
        """§2.2.1: the method is taken as it is."""
        base = signature_base(Message(method="patch"), ["@method"], "()")
        assert base.startswith(b'"@method": patch\n')

    def test_status_and_req_on_a_response(self) -> None:
        """@status is the three-digit code; ;req lines name the parameter (§2.4)."""
        base = signature_base(_response(_request()), ["@status", "@method;req"], "()")
        assert base.startswith(b'"@status": 200\n"@method";req: POST\n')


class TestSigningErrors:
    """sign_message refuses what it cannot sign faithfully, with ValueError."""

    @pytest.mark.parametrize(
        ("message", "components", "match"),
        [
            (_request(), ["x-road-service"], "not in the message"),
            (_request(), ["X-Road-Client"], "lowercase field name"),
            (_request(), ["@scheme"], "not supported"),
            (_request(), ["@signature-params"], "not supported"),
            (_request(), ["content-digest;sf"], "only the ;req parameter"),
            (_request(), ["@method", "@method"], "covered twice"),
            (_request(), ["@status"], "only for responses"),
            (_request(), ["@method;req"], "req is only for responses"),
            (_response(_request()), ["@method"], "needs ;req"),
            (_response(None), ["@method;req"], "carries no request"),
            (Message(method="GET"), ["@path"], "no target URI"),
            (_request(target_uri="/relative"), ["@path"], "not an absolute"),
            (_request(target_uri=URI + "#frag"), ["@path"], "no fragment"),
            (_request(target_uri="https://u:p@gw/"), ["@authority"], "userinfo"),
            (_request(target_uri="https://gw:x/"), ["@authority"], "bad authority"),
            (_request(target_uri="https://gw/ a"), ["@target-uri"], "not a valid derived"),
            (_request(headers={"x": "a\r\nb: c"}), ["x"], "not printable ASCII"),
            (_request(headers={"x": "caf\u00e9"}), ["x"], "not printable ASCII"),
        ],
    )
    def test_refusals(self, message: Message, components: list[str], match: str) -> None:
        """Each is a caller error, reported before anything is signed."""
        with pytest.raises(ValueError, match=match):
            _sign(message, ed25519.Ed25519PrivateKey.generate(), components=components)

    @pytest.mark.parametrize(
        "kwargs",
        [{"label": "Jisr"}, {"keyid": "a\nb"}, {"tag": "t\u00e9"}, {"created": -1}],
    )
    def test_bad_parameters(self, kwargs: dict[str, Any]) -> None:
        """Labels are RFC 8941 keys, parameters printable ASCII, created a Unix time."""
        with pytest.raises(ValueError, match=r"Structured Field|non-negative"):
            _sign(_request(), ed25519.Ed25519PrivateKey.generate(), **kwargs)

    def test_rsa_key_is_refused(self) -> None:
        """RSA is outside the profile."""
        with pytest.raises(ValueError, match="no RFC 9421 algorithm"):
            _sign(_request(), rsa.generate_private_key(65537, 2048))


class TestRefusals:
    """verify_message: every refusal carries its reason."""

    def test_tampered_header(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str]
    ) -> None:
        """A covered header changed in transit: bad_signature."""
        headers = dict(_request().headers) | {"x-road-client": "EE/GOV/666/evil"}
        assert _reason(_request(headers=headers), signed, p256.public_key()) == "bad_signature"

    @pytest.mark.parametrize(
        "changes",
        [{"method": "PUT"}, {"target_uri": URI.replace("getPerson", "delPerson")}],
        ids=["method", "target"],
    )
    def test_tampered_control_data(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str], changes: dict[str, Any]
    ) -> None:
        """Method or target URI changed: bad_signature."""
        assert _reason(_request(**changes), signed, p256.public_key()) == "bad_signature"

    def test_tampered_signature_input(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str]
    ) -> None:
        """The signature covers its own parameters (§2.3): a changed keyid breaks it."""
        fields = (signed[0].replace('"gw-a"', '"gw-b"'), signed[1])
        resolver = _resolver("gw-b", p256.public_key())
        assert _reason(_request(), fields, p256.public_key(), resolve_key=resolver) == (
            "bad_signature"
        )

    def test_required_component_not_covered(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """A signature leaving out a required component: missing_component."""
        fields = _sign(_request(), p256, components=["@method", "@target-uri", "content-digest"])
        assert _reason(_request(), fields, p256.public_key()) == "missing_component"

    def test_covered_header_removed(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str]
    ) -> None:
        """A covered header absent from the received message: missing_component."""
        headers = {k: v for k, v in _request().headers.items() if k != "x-road-client"}
        assert _reason(_request(headers=headers), signed, p256.public_key(), required=()) == (
            "missing_component"
        )

    def test_response_without_its_request(self) -> None:
        """;req components cannot be rebuilt without the request: missing_component."""
        key = ed25519.Ed25519PrivateKey.generate()
        fields = _sign(_response(_request()), key, components=RESPONSE_COMPONENTS)
        assert _reason(_response(None), fields, key.public_key(), required=()) == (
            "missing_component"
        )

    @pytest.mark.parametrize(
        ("now", "reason"), [(NOW + 301, "expired"), (NOW - 6, "future")], ids=["old", "future"]
    )
    def test_created_outside_the_window(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str], now: int, reason: str
    ) -> None:
        """created older than max_age or further ahead than max_skew."""
        assert _reason(_request(), signed, p256.public_key(), now=now) == reason

    def test_expires_in_the_past(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """An expires parameter that has passed: expired (checked before the signature)."""
        signature_input, signature = _sign(_request(), p256)
        fields = (signature_input + f";expires={NOW - 60}", signature)
        assert _reason(_request(), fields, p256.public_key()) == "expired"

    def test_unknown_keyid(self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str]) -> None:
        """resolve_key returns None: unknown_key."""
        resolver = _resolver("gw-z", p256.public_key())
        assert _reason(_request(), signed, p256.public_key(), resolve_key=resolver) == (
            "unknown_key"
        )

    def test_alg_says_ed25519_but_key_is_p256(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str]
    ) -> None:
        """The key decides the algorithm; a disagreeing alg is alg_mismatch (§3.2 step 6)."""
        fields = (signed[0].replace('alg="ecdsa-p256-sha256"', 'alg="ed25519"'), signed[1])
        assert _reason(_request(), fields, p256.public_key()) == "alg_mismatch"

    def test_resolved_rsa_key(self, signed: tuple[str, str]) -> None:
        """A key type outside the profile can verify nothing: alg_mismatch."""
        rsa_public = rsa.generate_private_key(65537, 2048).public_key()
        assert _reason(_request(), signed, rsa_public) == "alg_mismatch"

    @pytest.mark.parametrize("length", [0, 63, 65])
    def test_ecdsa_signature_of_the_wrong_length(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str], length: int
    ) -> None:
        """Anything but 64 bytes of r||s is a bad_signature, never an exception."""
        value = base64.b64encode(b"\x01" * length).decode()
        assert _reason(_request(), (signed[0], f"jisr=:{value}:"), p256.public_key()) == (
            "bad_signature"
        )

    def test_ed25519_signature_of_the_wrong_length(self) -> None:
        """A truncated Ed25519 signature is a bad_signature."""
        key = ed25519.Ed25519PrivateKey.generate()
        signature_input, signature = _sign(_request(), key)
        short = f"jisr=:{base64.b64encode(base64.b64decode(signature[6:-1])[:40]).decode()}:"
        assert _reason(_request(), (signature_input, short), key.public_key()) == "bad_signature"

    @pytest.mark.parametrize(
        ("label", "tag", "reason"),
        [("other", "jisr-xroad/1", "missing"), ("jisr", "jisr-xroad/2", "missing")],
        ids=["label", "tag"],
    )
    def test_no_applicable_signature(
        self,
        p256: ec.EllipticCurvePrivateKey,
        signed: tuple[str, str],
        label: str,
        tag: str,
        reason: str,
    ) -> None:
        """No signature under the label, or ours carries another tag: missing."""
        assert _reason(_request(), signed, p256.public_key(), label=label, tag=tag) == reason

    def test_absent_fields(self, p256: ec.EllipticCurvePrivateKey) -> None:
        """Empty Signature-Input and Signature: missing."""
        assert _reason(_request(), ("", ""), p256.public_key()) == "missing"

    @pytest.mark.parametrize(
        "signature_input",
        [
            'jisr=("@method");created=1700000000;keyid="gw-a";tag="jisr-xroad/1";x=1',
            'jisr=("@method");keyid="gw-a";tag="jisr-xroad/1"',
            'jisr=("@method");created="1700000000";keyid="gw-a";tag="jisr-xroad/1"',
            'jisr=("@method");created=1700000000;keyid=gw-a;tag="jisr-xroad/1"',
            'jisr=("@method");created=1700000000;tag="jisr-xroad/1"',
            'jisr=("@method";sf);created=1700000000;keyid="gw-a";tag="jisr-xroad/1"',
            'jisr=("@method";req=?0);created=1700000000;keyid="gw-a";tag="jisr-xroad/1"',
            'jisr=("@scheme");created=1700000000;keyid="gw-a";tag="jisr-xroad/1"',
            'jisr=("Date");created=1700000000;keyid="gw-a";tag="jisr-xroad/1"',
            'jisr=(@method);created=1700000000;keyid="gw-a";tag="jisr-xroad/1"',
            'jisr=("@method" "@method");created=1700000000;keyid="gw-a";tag="jisr-xroad/1"',
            'jisr="@method";created=1700000000;keyid="gw-a";tag="jisr-xroad/1"',
            'jisr=("@method");created=1.5;keyid="gw-a";tag="jisr-xroad/1"',
            'jisr=("@method");created=1700000000;keyid="gw-a";tag="jisr-xroad/1", jisr=()',
            'jisr=("@method");created=1700000000;keyid="gw-a";tag="jisr-xroad/1",',
        ],
    )
    def test_malformed_signature_input(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str], signature_input: str
    ) -> None:
        """Not RFC 8941, or outside the profile: malformed."""
        fields = (signature_input, signed[1])
        assert _reason(_request(), fields, p256.public_key(), required=()) == "malformed"

    @pytest.mark.parametrize(
        "signature",
        ["jisr=AAAA", 'jisr="AAAA"', "jisr=:AA=A:", "jisr=:A:", "jisr=(:AAAA:)", "other=:AAAA:"],
    )
    def test_malformed_signature(
        self, p256: ec.EllipticCurvePrivateKey, signed: tuple[str, str], signature: str
    ) -> None:
        """The Signature member must be a Byte Sequence under the same label: malformed."""
        assert _reason(_request(), (signed[0], signature), p256.public_key()) == "malformed"

    @given(st.text(), st.text())
    def test_random_fields_raise_only_signature_error(
        self, signature_input: str, signature: str
    ) -> None:
        """Arbitrary text in either field is refused with a SignatureError, nothing else."""
        with pytest.raises(SignatureError):
            _verify(_request(), (signature_input, signature), _STATIC_KEY.public_key())

    @given(st.data())
    def test_mutated_fields_raise_only_signature_error(self, data: st.DataObject) -> None:
        """Valid fields with a slice replaced by field-like characters: SignatureError only."""
        alphabet = st.sampled_from(list(' \t"()\\,;=:?*-_./@+abjrsqz0189AZ\u00e9'))
        field = data.draw(st.sampled_from([0, 1]))
        text = _STATIC_FIELDS[field]
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, len(text)))
        mutated = text[:start] + data.draw(st.text(alphabet, max_size=12)) + text[end:]
        fields = (mutated, _STATIC_FIELDS[1]) if field == 0 else (_STATIC_FIELDS[0], mutated)
        with contextlib.suppress(SignatureError):
            _verify(_request(), fields, _STATIC_KEY.public_key())


# --- The fast paths against the general RFC 8941 parser -------------------------------------
#
# httpsig parses what its own signers write with anchored regular expressions and falls back
# to the general parser for anything else. These tests run both on the same inputs and
# require the same result, or the same exception with the same message.

_SIGNED = sign_message(
    _request(),
    components=REQUEST_COMPONENTS,
    key=_STATIC_KEY,
    keyid="gw-a",
    created=NOW,
    nonce="n-1",
)
_INPUT, _SIGNATURE = _SIGNED
_MEMBER = _INPUT.removeprefix("jisr=")
_INNER = _MEMBER.partition(";")[0]
_VALUE = _SIGNATURE.removeprefix("jisr=")
_TAIL = ';alg="ed25519";tag="jisr-xroad/1"'


@contextlib.contextmanager
def _general_parser_only() -> Any:
    """Within: no fast path, every field goes through httpsig._Parser."""
    with (
        mock.patch.object(httpsig, "_select_fast", return_value=None),
        mock.patch.object(httpsig, "_fast_byte_sequences", return_value=None),
    ):
        yield


def _typed(value: Any) -> Any:
    """``value`` with every type spelt out: a Token is not a String, True is not 1, and
    dictionaries keep their order."""
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_typed(v) for v in value])
    if isinstance(value, frozenset):
        return ("frozenset", sorted(value))
    return (type(value).__name__, value)


def _outcome(call: Callable[[], Any]) -> Any:
    """What ``call`` gives, typed, or the exception it raises: type, message and reason."""
    try:
        result = call()
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc), getattr(exc, "reason", None))
    if isinstance(result, httpsig._Selected):
        covered = result.covered
        result = (
            covered.pairs,
            covered.pair_set,
            covered.entries,
            covered.names,
            covered.inner,
            result.params,
            result.value,
            result.signature_params,
        )
    return ("returned", _typed(result))


def _select_both_ways(signature_input: str, signature: str, label: str = "jisr") -> Any:
    fast = _outcome(lambda: httpsig._select(signature_input, signature, label))
    with _general_parser_only():
        general = _outcome(lambda: httpsig._select(signature_input, signature, label))
    assert fast == general
    return fast


def _dictionary_both_ways(text: str) -> None:
    fast = httpsig._fast_byte_sequences(text)
    general = _outcome(lambda: httpsig._Parser(text).dictionary())
    if fast is not None:
        assert ("returned", _typed(fast)) == general
    with _general_parser_only():
        general_digest = _outcome(lambda: parse_content_digest(text))
    assert _outcome(lambda: parse_content_digest(text)) == general_digest


# Signature-Input values around the fast path's shape: each is compared, not judged.
_TRICKY_INPUTS = [
    _INPUT,
    f'jisr={_INNER};created={NOW};keyid="gw-a"{_TAIL}',  # no nonce
    f'jisr={_INNER};keyid="gw-a";created={NOW};nonce="n-1"{_TAIL}',  # another order
    f'jisr={_INNER};created={NOW};keyid="gw-a";nonce="n-1";tag="jisr-xroad/1"',  # no alg
    f'jisr={_INNER};created={NOW};keyid="gw-a";expires={NOW + 60}{_TAIL}',
    f" {_INPUT}",
    f"{_INPUT}  ",
    f"{_INPUT}\t",
    _INPUT.replace("jisr=(", "jisr=( "),
    _INPUT.replace('" "', '"  "'),
    _INPUT.replace('" "', '"\t"'),
    _INPUT.replace(")", " )", 1),
    _INPUT.replace(");", ") ;", 1),
    _INPUT.replace(";keyid=", "; keyid="),
    _INPUT.replace('"gw-a"', '"g\\"w-a"'),
    _INPUT.replace('"gw-a"', '"g\\\\w-a"'),
    _INPUT.replace('"gw-a"', '"g\\w-a"'),
    _INPUT.replace('"gw-a"', '""'),
    _INPUT.replace('"gw-a"', "gw-a"),
    _INPUT.replace('"n-1"', "n-1"),
    _INPUT.replace('"jisr-xroad/1"', "jisr-xroad/1"),
    _INPUT.replace('"gw-a"', '"g\u00e9"'),
    _INPUT.replace('"gw-a"', '"g\x7fw"'),
    _INPUT.replace('"@method"', "@method"),
    _INPUT.replace('"@method"', "method"),
    _INPUT.replace('"@method"', '"@method";req'),
    _INPUT.replace('"@method"', '"@method";req=?1'),
    _INPUT.replace('"@method"', '"@method";req=?0'),
    _INPUT.replace('"@method"', '"@method";req;req'),
    _INPUT.replace('"@method"', '"@method";reqx'),
    _INPUT.replace('"@method"', '"@method";sf'),
    _INPUT.replace('"@method"', '"@Method"'),
    _INPUT.replace('"x-road-client"', '"X-Road-Client"'),
    _INPUT.replace('"x-road-client"', '"@method"'),
    _INPUT.replace('"x-road-client"', '"x-road-client;req"'),
    _INPUT.replace('"x-road-client"', '"x road"'),
    _INPUT.replace(_INNER, "()"),
    _INPUT.replace("jisr=", "Jisr="),
    _INPUT.replace("jisr=", "sig1="),
    _INPUT.replace(";created=", ";Created="),
    _INPUT.replace(";keyid=", ";keyid=;keyid="),
    _INPUT.replace(f"created={NOW}", f"created={NOW};created={NOW}"),
    _INPUT.replace(f"created={NOW}", f"created=0{NOW}"),
    _INPUT.replace(f"created={NOW}", "created=0"),
    _INPUT.replace(f"created={NOW}", "created=00"),
    _INPUT.replace(f"created={NOW}", "created=-0"),
    _INPUT.replace(f"created={NOW}", f"created=-{NOW}"),
    _INPUT.replace(f"created={NOW}", "created=999999999999999"),
    _INPUT.replace(f"created={NOW}", "created=1000000000000000"),
    _INPUT.replace(f"created={NOW}", f"created={NOW}.5"),
    _INPUT.replace(f"created={NOW}", '"created"'),
    _INPUT.replace(f"created={NOW}", "created=?1"),
    _INPUT.replace(f"created={NOW}", "created"),
    _INPUT.replace(f"created={NOW}", "created=:AAAA:"),
    f"{_INPUT},",
    f"{_INPUT}, ",
    f"{_INPUT},,",
    f"{_INPUT}, jisr=()",
    f"jisr=(), {_INPUT}",
    f'{_INPUT}, proxy=("@method");created=1',
    f'proxy=("@method");created=1, {_INPUT}',
    f'proxy=("@method");created=1,{_INPUT}',
    f"jisr={_INNER}",
    f"jisr={_INNER};",
    "jisr",
    "jisr=",
    "jisr=(",
    "",
    " ",
    ",",
]

# Signature values around the fast path's shape.
_TRICKY_SIGNATURES = [
    _SIGNATURE,
    _SIGNATURE.replace("==:", ":"),
    _SIGNATURE.replace("==:", "=:"),
    _SIGNATURE.replace("==:", "===:"),
    _SIGNATURE.replace(":", "", 1),
    _SIGNATURE.replace("jisr=:", "jisr=:=="),
    _SIGNATURE.replace("jisr=:", "jisr=:A"),
    _SIGNATURE.replace("jisr=:", "jisr=:-_"),
    _SIGNATURE.replace("jisr=:", "jisr=: "),
    _SIGNATURE.replace("jisr=", "Jisr="),
    _SIGNATURE.replace("jisr=", "jisr ="),
    f"{_SIGNATURE};x=1",
    f"{_SIGNATURE}, proxy=:AAAA:",
    f"{_SIGNATURE},proxy=:AAAA:",
    f"{_SIGNATURE} , proxy=:AAAA:",
    f"{_SIGNATURE},  proxy=:AAAA:",
    f"proxy=:AAAA:, {_SIGNATURE}",
    f"{_SIGNATURE}, jisr=:AAAA:",
    f"{_SIGNATURE}, proxy=:AA=A:",
    f"{_SIGNATURE}, proxy",
    f"{_SIGNATURE},",
    f"{_SIGNATURE}, ",
    f" {_SIGNATURE} ",
    "jisr=::",
    "jisr=:A:",
    "jisr=:AA:",
    "jisr=:AA=A:",
    "jisr=:AAAA",
    "jisr=AAAA",
    'jisr="AAAA"',
    "jisr=(:AAAA:)",
    "jisr=:\u00e9:",
    "",
]

_DIGEST = content_digest(BODY)
_DIGEST_512 = content_digest(BODY, "sha-512")
_TRICKY_DIGESTS = [
    _DIGEST,
    _DIGEST_512,
    f"{_DIGEST}, {_DIGEST_512}",
    f"{_DIGEST},{_DIGEST_512}",
    f"{_DIGEST}, {_DIGEST}",
    f"{_DIGEST}, sha-999=:AQID:",
    f"{_DIGEST};x=1",
    f"{_DIGEST}, ",
    _DIGEST.replace("=:", ":", 1),
    _DIGEST.replace("sha-256", "SHA-256"),
    _DIGEST.replace("sha-256", "*sha"),
    _DIGEST.replace("sha-256", "1sha"),
    _DIGEST.replace("=:", "==:"),
    _DIGEST.replace("=:", ":").replace("sha-256:", "sha-256=:"),
    "sha-256=:AQID:",
    "sha-256=:AQ:",
    "sha-256=:A:",
    "sha-256=::",
    "sha-256=:AA=A:",
    "sha-256=:AQ==:, sha-256=:AQ==:",
    "sha-256",
    "",
]


def _indices(values: list[str]) -> list[str]:
    return [f"case{i}" for i in range(len(values))]


def _numbered() -> Callable[[object], str]:
    """Ids ``case0``, ``case1``... in parameter order (pytest asks once per value)."""
    counter = itertools.count()
    return lambda _: f"case{next(counter)}"


class TestFastPaths:
    """The fast paths give exactly what the general parser gives, errors included."""

    @pytest.mark.parametrize(
        "fields",
        [
            _SIGNED,
            _STATIC_FIELDS,
            _sign(_request(), _STATIC_KEY, label="sig1", keyid="3f5a" * 16, tag="t"),
            _sign(_request(), _STATIC_KEY, keyid="", nonce="", tag=""),
            _sign(_request(), _STATIC_KEY, keyid=" a;b=c, (d) ", nonce=":AAAA:", tag="'?1'"),
            _sign(_request(), _STATIC_KEY, components=(), created=0),
            _sign(_request(), _STATIC_KEY, created=999_999_999_999_999),
            _sign(_response(_request()), _STATIC_KEY, components=RESPONSE_COMPONENTS),
        ],
        ids=_numbered(),
    )
    def test_what_sign_message_writes_takes_the_fast_path(self, fields: tuple[str, str]) -> None:
        """Every Signature-Input sign_message writes without escapes is recognised."""
        label = fields[0].partition("=")[0]
        assert httpsig._select_fast(*fields, label) is not None
        _select_both_ways(*fields, label)

    # Indices as ids: the values hold a fresh ECDSA signature, and pytest-xdist workers
    # must collect the same test ids.
    @pytest.mark.parametrize("signature_input", _TRICKY_INPUTS, ids=_indices(_TRICKY_INPUTS))
    @pytest.mark.parametrize("label", ["jisr", "sig1", "proxy"])
    def test_tricky_signature_inputs(self, signature_input: str, label: str) -> None:
        """Whitespace, order, escapes, tokens, case, numbers, duplicates, commas: same."""
        _select_both_ways(signature_input, _SIGNATURE.replace("jisr=", f"{label}="), label)

    @pytest.mark.parametrize("signature", _TRICKY_SIGNATURES, ids=_indices(_TRICKY_SIGNATURES))
    def test_tricky_signatures(self, signature: str) -> None:
        """Padding, alphabets, parameters, other and repeated labels, separators: same."""
        _select_both_ways(_INPUT, signature)
        _dictionary_both_ways(signature)

    @pytest.mark.parametrize("value", _TRICKY_DIGESTS, ids=_indices(_TRICKY_DIGESTS))
    def test_tricky_content_digests(self, value: str) -> None:
        """Content-Digest values through both parsers, and through check_content_digest."""
        _dictionary_both_ways(value)
        computed = {"sha-256": hashlib.sha256(BODY).digest()}
        fast = _outcome(lambda: check_content_digest(value, computed))
        with _general_parser_only():
            assert _outcome(lambda: check_content_digest(value, computed)) == fast

    @pytest.mark.parametrize(
        "fields",
        [(f"{_INPUT}, {_INPUT}", _SIGNATURE), (_INPUT, f"{_SIGNATURE}, {_SIGNATURE}")],
        ids=["signature-input", "signature"],
    )
    def test_repeated_dictionary_keys_stay_refused(self, fields: tuple[str, str]) -> None:
        """This parser refuses a repeated key where RFC 8941 §4.2.2 lets the last one win;
        the fast paths leave such fields to it, so they stay refused."""
        outcome = _select_both_ways(*fields)
        assert outcome[:2] == ("raised", "SignatureError")
        assert "duplicate key 'jisr'" in outcome[2]

    @given(
        st.lists(st.sampled_from(REQUEST_COMPONENTS + RESPONSE_COMPONENTS), max_size=8),
        st.lists(st.booleans(), min_size=8, max_size=8),
        st.integers(0, 10**16),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7F), max_size=12),
        st.none() | st.text(st.characters(min_codepoint=0x1F, max_codepoint=0x7E), max_size=8),
        st.sampled_from(["jisr", "sig1", "a*b.c_d-e"]),
    )
    def test_generated_signature_inputs(
        self,
        names: list[str],
        reqs: list[bool],
        created: int,
        keyid: str,
        nonce: str | None,
        label: str,
    ) -> None:
        """Inputs in and near the fast path's shape, from any parameter values."""
        inner = " ".join(f'"{n}";req' if r else f'"{n}"' for n, r in zip(names, reqs, strict=False))
        quoted = [(k, v) for k, v in (("keyid", keyid), ("nonce", nonce)) if v is not None]
        params = "".join(f';{k}="{v}"' for k, v in quoted)
        signature_input = f"{label}=({inner});created={created}{params}{_TAIL}"
        _select_both_ways(signature_input, _VALUE.join([f"{label}=", ""]), label)

    @given(st.data())
    def test_mutated_signature_inputs(self, data: st.DataObject) -> None:
        """The valid fields with a slice replaced by field-like characters: same outcome."""
        alphabet = st.sampled_from(list(' \t"()\\,;=:?*-_./@+abcdejrsqz0189AZ\u00e9'))
        field = data.draw(st.sampled_from([0, 1]))
        text = _SIGNED[field]
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 8)))
        mutated = text[:start] + data.draw(st.text(alphabet, max_size=6)) + text[end:]
        if field == 0:
            _select_both_ways(mutated, _SIGNATURE)
        else:
            _select_both_ways(_INPUT, mutated)
            _dictionary_both_ways(mutated)

    @given(st.lists(st.sampled_from(["sha-256", "sha-512", "x", "A", "*"]), max_size=3), st.data())
    def test_generated_byte_sequence_dictionaries(
        self, keys_: list[str], data: st.DataObject
    ) -> None:
        """Dictionaries of Byte Sequences with any base64-ish content and separators."""
        b64 = st.text(st.sampled_from(list("AQIDZz09+/=")), max_size=8)
        separator = st.sampled_from([", ", ",", " , ", ",  ", ",\t"])
        text = ""
        for index, key in enumerate(keys_):
            text += (data.draw(separator) if index else "") + f"{key}=:{data.draw(b64)}:"
        _dictionary_both_ways(text)

    @pytest.mark.parametrize(
        "fields",
        [
            _SIGNED,
            _sign(_request(), _STATIC_KEY, components=["@method", "@target-uri", "x-road-client"]),
            (_INPUT.replace(f"created={NOW}", f"created={NOW - 1000}"), _SIGNATURE),
            (_INPUT.replace('"gw-a"', '"gw-z"'), _SIGNATURE),
            (_INPUT.replace('"jisr-xroad/1"', '"other"'), _SIGNATURE),
            (_INPUT.replace('"ed25519"', '"ecdsa-p256-sha256"'), _SIGNATURE),
            (_INPUT.replace('"content-digest"', '"content-digest" "x-missing"'), _SIGNATURE),
            (_INPUT.replace('"content-digest"', '"content-digest" "@method"'), _SIGNATURE),
            (_INPUT.replace('"content-digest"', '"content-digest" "@status"'), _SIGNATURE),
            (_INPUT, _SIGNATURE.replace("jisr=:", "jisr=:AAAA")),
        ],
    )
    def test_verify_message_end_to_end(self, fields: tuple[str, str]) -> None:
        """Verified, or the same SignatureError with the same message, either way."""
        public = _STATIC_KEY.public_key()
        fast = _outcome(lambda: _verify(_request(), fields, public))
        with _general_parser_only():
            assert _outcome(lambda: _verify(_request(), fields, public)) == fast


class TestSignatureBaseValues:
    """_base's quick check of field values agrees with the full one of _field_value."""

    @given(st.text(max_size=6) | st.sampled_from([" \ta\t ", "a\tb", "\t", " ", "", "\x7f"]))
    def test_any_header_value(self, value: str) -> None:
        """Whatever a header holds, signature_base signs or refuses it as before."""
        message = Message(headers={"x": value, "y": "ok"})

        def reference() -> bytes:
            value = httpsig._field_value(message, "x")
            return f'"y": ok\n"x": {value}\n"@signature-params": ()'.encode("ascii")

        assert _outcome(lambda: signature_base(message, ["y", "x"], "()")) == _outcome(reference)

    @given(
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
        st.none() | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8),
    )
    def test_signature_input_is_the_general_serialisation(
        self, keyid: str, nonce: str | None, tag: str
    ) -> None:
        """sign_message writes what the general RFC 8941 serialiser writes for its values."""
        signature_input, _ = _sign(_request(), _STATIC_KEY, keyid=keyid, nonce=nonce, tag=tag)
        items, params = httpsig._Parser(signature_input).dictionary()["jisr"]
        assert isinstance(items, list)
        assert signature_input == f"jisr={httpsig._ser_inner_list(items, params)}"
        expected = {"created": NOW, "keyid": keyid} | (
            {"nonce": nonce} if nonce is not None else {}
        )
        assert _typed(params) == _typed(expected | {"alg": "ed25519", "tag": tag})


class TestSignatureAlgorithmCache:
    """signature_algorithm remembers the family of each key class, not more."""

    def test_mocks_are_not_remembered(self) -> None:
        """A Mock fakes __class__; its own class is neither trusted nor kept."""
        key = mock.Mock(spec=ed25519.Ed25519PublicKey)
        assert signature_algorithm(key) == "ed25519"
        assert type(key) not in httpsig._KEY_FAMILIES

    def test_curves_are_read_from_each_key(self) -> None:
        """The class is remembered as EC; the curve still comes from the key itself."""
        p384 = ec.generate_private_key(ec.SECP384R1())
        p256 = ec.generate_private_key(ec.SECP256R1())
        assert signature_algorithm(p256) == "ecdsa-p256-sha256"
        assert signature_algorithm(p384) == "ecdsa-p384-sha384"
        assert signature_algorithm(p256.public_key()) == "ecdsa-p256-sha256"
