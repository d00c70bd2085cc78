"""HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530): vectors, round trips,
and every way a signature or digest is refused."""

import base64
import contextlib
import hashlib
from collections.abc import Callable
from typing import Any

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

from jisr.crypto import keys
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
