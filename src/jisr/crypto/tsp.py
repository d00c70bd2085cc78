"""RFC 3161 Time-Stamp Protocol: requests, a time-stamp authority, verification.

The ASN.1 is asn1crypto's (untyped); it stays inside this module: what crosses
the boundary is bytes, ``str``, ``int``, ``datetime`` and :class:`TimestampInfo`.
Tokens are CMS SignedData (RFC 5652) over a TSTInfo, with the signer's
certificate bound by a signingCertificateV2 attribute (RFC 5816 ESSCertIDv2),
and verify with ``openssl ts -verify``.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from jisr.crypto.errors import ChainError, TimestampError
from jisr.crypto.keys import PrivateKey, sign
from jisr.crypto.x509 import (
    CertificateProfile,
    certificate_to_der,
    check_profile,
    fingerprint_sha256,
    verify_chain,
)

__all__ = [
    "TimeStampAuthority",
    "TimestampInfo",
    "extract_token",
    "make_request",
    "verify_response",
    "verify_token",
]

ACCEPTED_HASHES = frozenset({"sha256", "sha384", "sha512"})
# asn1crypto may raise any of these on malformed or unexpected input.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


class _TimeStampResp(tsp.TimeStampResp):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 3161 §2.4.2 TimeStampResp: asn1crypto 1.5.1 wrongly requires the token."""

    _fields = [  # noqa: RUF012  # asn1crypto's class-level schema
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class TimestampInfo:
    """What a verified token attests: ``digest`` existed at ``gen_time``."""

    gen_time: datetime
    serial_number: int
    policy: str
    hash_algorithm: str
    digest: bytes
    token_der: bytes
    tsa_fingerprint: str
    nonce: int | None = None


# --- requests (RFC 3161 §2.4.1) ------------------------------------------------


def make_request(
    digest: bytes,
    *,
    hash_algorithm: str = "sha256",
    nonce: int | None = None,
    cert_req: bool = True,
    policy: str | None = None,
) -> bytes:
    """DER TimeStampReq for ``digest`` (ValueError if it does not fit the algorithm)."""
    if len(digest) != hashlib.new(hash_algorithm).digest_size:
        raise ValueError(f"{hash_algorithm} digests are not {len(digest)} bytes long")
    if nonce is not None and nonce < 0:
        raise ValueError("the nonce must be a positive integer")
    request: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": hash_algorithm},
            "hashed_message": digest,
        },
        "cert_req": cert_req,
    }
    if policy is not None:
        request["req_policy"] = policy
    if nonce is not None:
        request["nonce"] = nonce
    return bytes(tsp.TimeStampReq(request).dump())


@dataclass(frozen=True)
class _Request:
    imprint_der: bytes
    hash_algorithm: str
    digest: bytes
    policy: str | None
    nonce: int | None
    cert_req: bool
    has_extensions: bool


class _Rejection(Exception):
    """Why a request is refused: a PKIFailureInfo bit name and a text."""

    def __init__(self, fail_info: str, text: str) -> None:
        super().__init__(text)
        self.fail_info = fail_info
        self.text = text


def _parse_request(der: bytes) -> _Request:
    try:
        request = tsp.TimeStampReq.load(der, strict=True)
        request.native  # noqa: B018  # parse every field now, not lazily later
        imprint = request["message_imprint"]
        parsed = _Request(
            imprint_der=bytes(imprint.dump()),
            hash_algorithm=str(imprint["hash_algorithm"]["algorithm"].native),
            digest=bytes(imprint["hashed_message"].native),
            policy=request["req_policy"].native,
            nonce=request["nonce"].native,
            cert_req=bool(request["cert_req"].native),
            has_extensions=bool(request["extensions"].native),
        )
        version = request["version"].native
    except _ASN1_ERRORS as exc:
        raise _Rejection("bad_data_format", "not a DER TimeStampReq") from exc
    if version != "v1":
        raise _Rejection("bad_data_format", f"TimeStampReq version {version} is not v1")
    return parsed


# --- the authority (RFC 3161 §2.4.2) --------------------------------------------------


class TimeStampAuthority:
    """Answers TimeStampReq with TimeStampResp, signing with ``key``.

    ``clock`` returns an aware datetime (default: now, UTC). ValueError at
    construction if ``certificate`` is not ``key``'s or lacks the critical
    timeStamping-only EKU (RFC 3161 §2.3).
    """

    def __init__(
        self,
        *,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        policy_oid: str,
        accuracy_ms: int = 1000,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        _check_authority(key, certificate)
        self._key = key
        self._cert_der = certificate_to_der(certificate)
        self._certificates = [certificate_to_der(c) for c in (certificate, *chain)]
        self._policy = policy_oid
        self._accuracy = _accuracy(accuracy_ms)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._digest_algorithm, self._signature_algorithm = _algorithms(key)

    def respond(self, request_der: bytes) -> bytes:
        """Always a DER TimeStampResp: granted with a token, or a rejection."""
        try:
            request = _parse_request(request_der)
            self._check(request)
        except _Rejection as rejection:
            return _rejection(rejection)
        token = self._token(request)
        return bytes(
            _TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()
        )

    def _check(self, request: _Request) -> None:
        """RFC 3161 §2.4.2 PKIFailureInfo: the first rule the request breaks."""
        name = request.hash_algorithm
        if name not in ACCEPTED_HASHES:
            raise _Rejection("bad_alg", f"hash algorithm {name} is not accepted")
        if len(request.digest) != hashlib.new(name).digest_size:
            raise _Rejection("bad_data_format", f"digest length does not fit {name}")
        if request.policy is not None and request.policy != self._policy:
            raise _Rejection("unaccepted_policy", f"policy {request.policy} is not {self._policy}")
        if request.has_extensions:
            raise _Rejection("unaccepted_extensions", "no request extension is supported")

    def _token(self, request: _Request) -> Any:
        gen_time = self._clock().astimezone(UTC)
        tst_der = self._tst_info(request, gen_time)
        signer = _signer_info(
            key=self._key,
            cert_der=self._cert_der,
            digest_algorithm=self._digest_algorithm,
            signature_algorithm=self._signature_algorithm,
            signed_attrs=self._signed_attrs(tst_der, gen_time),
        )
        signed_data: dict[str, Any] = {
            # RFC 5652 §5.1: version 3 since eContentType is not id-data.
            "version": "v3",
            "digest_algorithms": [{"algorithm": self._digest_algorithm}],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": core.ParsableOctetString(tst_der),
            },
            "signer_infos": [signer],
        }
        if request.cert_req:  # RFC 3161 §2.4.1 certReq
            signed_data["certificates"] = [
                asn1_x509.Certificate.load(d) for d in self._certificates
            ]
        return cms.ContentInfo({"content_type": "signed_data", "content": signed_data})

    def _tst_info(self, request: _Request, gen_time: datetime) -> bytes:
        cert = asn1_x509.Certificate.load(self._cert_der)
        tst_info: dict[str, Any] = {
            "version": "v1",
            "policy": self._policy,
            "message_imprint": tsp.MessageImprint.load(request.imprint_der),  # echoed verbatim
            "serial_number": secrets.randbelow(2**128 - 1) + 1,
            "gen_time": gen_time,
            "accuracy": self._accuracy,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=cert.subject),
        }
        if request.nonce is not None:
            tst_info["nonce"] = request.nonce
        return bytes(tsp.TSTInfo(tst_info).dump())

    def _signed_attrs(self, tst_der: bytes, gen_time: datetime) -> Any:
        cert = asn1_x509.Certificate.load(self._cert_der)
        cert_id = {
            # ESSCertIDv2 hashAlgorithm defaults to SHA-256 (RFC 5035 §4), so it is left out.
            "cert_hash": hashlib.sha256(self._cert_der).digest(),
            "issuer_serial": {
                "issuer": [asn1_x509.GeneralName(name="directory_name", value=cert.issuer)],
                "serial_number": cert.serial_number,
            },
        }
        message_digest = hashlib.new(self._digest_algorithm, tst_der).digest()
        return cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "signing_time", "values": [_cms_time(gen_time)]},
                {"type": "message_digest", "values": [message_digest]},
                {"type": "signing_certificate_v2", "values": [{"certs": [cert_id]}]},
            ]
        )


def _check_authority(key: PrivateKey, certificate: x509.Certificate) -> None:
    if key.public_key() != certificate.public_key():
        raise ValueError("the TSA key does not belong to the TSA certificate")
    try:
        check_profile(certificate, CertificateProfile.TSA)
    except ChainError as exc:
        raise ValueError(f"not a TSA certificate: {exc}") from exc


def _algorithms(key: PrivateKey) -> tuple[str, str]:
    """(digestAlgorithm, signatureAlgorithm) names matching :func:`keys.sign`."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "sha512", "ed25519"  # RFC 8419 §3: SHA-512 with Ed25519
    if isinstance(key, rsa.RSAPrivateKey):
        return "sha256", "sha256_rsa"
    if key.curve.name == "secp384r1":
        return "sha384", "sha384_ecdsa"
    return "sha256", "sha256_ecdsa"


def _accuracy(accuracy_ms: int) -> dict[str, int]:
    if accuracy_ms <= 0:
        raise ValueError("accuracy_ms must be positive")
    seconds, millis = divmod(accuracy_ms, 1000)
    # RFC 3161 §2.4.2: millis is 1..999; absent fields count as zero.
    return {k: v for k, v in (("seconds", seconds), ("millis", millis)) if v}


def _cms_time(moment: datetime) -> Any:
    """RFC 5652 §11.3: UTCTime for 1950-2049, GeneralizedTime otherwise."""
    if 1950 <= moment.year < 2050:
        return cms.Time({"utc_time": moment})
    return cms.Time({"generalized_time": moment})


def _signer_info(
    *,
    key: PrivateKey,
    cert_der: bytes,
    digest_algorithm: str,
    signature_algorithm: str,
    signed_attrs: Any,
) -> Any:
    cert = asn1_x509.Certificate.load(cert_der)
    return cms.SignerInfo(
        {
            "version": "v1",  # RFC 5652 §5.3: v1 with issuerAndSerialNumber
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": cert.issuer,
                        "serial_number": cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": digest_algorithm},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": signature_algorithm},
            # RFC 5652 §5.4: the signature covers the DER of the SET OF attributes.
            "signature": sign(key, bytes(signed_attrs.dump())),
        }
    )


def _rejection(rejection: _Rejection) -> bytes:
    status = {
        "status": "rejection",
        "status_string": [rejection.text],
        "fail_info": {rejection.fail_info},
    }
    return bytes(_TimeStampResp({"status": status}).dump())


# --- verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    """The fields of a token that verification needs, as plain values."""

    tst_der: bytes
    gen_time: datetime
    serial_number: int
    policy: str
    hash_algorithm: str
    digest: bytes
    nonce: int | None
    content_type: str | None
    message_digest: bytes | None
    digest_algorithm: str
    signature_algorithm: str
    signature_hash: str | None
    signature: bytes
    signed_attrs_der: bytes
    cert_id: tuple[str, bytes] | None
    certificates: tuple[bytes, ...]


def extract_token(response_der: bytes) -> bytes:
    """The DER token of a granted response; :class:`TimestampError` otherwise."""
    try:
        response = _TimeStampResp.load(response_der, strict=True)
        status = response["status"].native
        token = response["time_stamp_token"]
    except _ASN1_ERRORS as exc:
        raise TimestampError("malformed", "not a DER TimeStampResp") from exc
    if status["status"] not in {"granted", "granted_with_mods"}:
        fail_info = ", ".join(sorted(status["fail_info"] or ())) or "none"
        text = "; ".join(status["status_string"] or ())
        raise TimestampError("rejected", f"{status['status']} (failInfo {fail_info}) {text}")
    # An absent optional field parses as Void; ``.native`` would decode the whole token.
    if isinstance(token, core.Void):
        raise TimestampError("malformed", "granted response without a token")
    return bytes(token.dump())


def verify_response(
    response_der: bytes,
    *,
    digest: bytes,
    hash_algorithm: str = "sha256",
    nonce: int | None = None,
    tsa_certificates: Sequence[x509.Certificate],
    ca_certificates: Sequence[x509.Certificate] = (),
) -> TimestampInfo:
    """Verify a TimeStampResp answering a request for ``digest`` (and ``nonce``)."""
    info = verify_token(
        extract_token(response_der),
        digest=digest,
        hash_algorithm=hash_algorithm,
        tsa_certificates=tsa_certificates,
        ca_certificates=ca_certificates,
    )
    if nonce is not None and info.nonce != nonce:
        raise TimestampError("nonce_mismatch", f"nonce {info.nonce} does not answer {nonce}")
    return info


def verify_token(
    token_der: bytes,
    *,
    digest: bytes,
    hash_algorithm: str = "sha256",
    tsa_certificates: Sequence[x509.Certificate],
    ca_certificates: Sequence[x509.Certificate] = (),
) -> TimestampInfo:
    """Verify a time-stamp token over ``digest``; :class:`TimestampError` (``reason``) if not.

    The signer must be one of ``tsa_certificates``, named by the signed
    ESSCertID, with the critical timeStamping EKU and valid at genTime; with
    ``ca_certificates`` it must also chain to one of them at genTime. Verifying the same
    token again, or another token of the same TSA, reuses what parsing it found (a cache
    keyed by the bytes); every check above runs on every call.
    """
    token = _parse_token(token_der)
    if token.hash_algorithm != hash_algorithm or token.digest != digest:
        raise TimestampError("imprint_mismatch", "the token does not cover this digest")
    _check_content(token)
    signer = _find_signer(token, tsa_certificates)
    _check_signer(signer, token, ca_certificates)
    return TimestampInfo(
        gen_time=token.gen_time,
        serial_number=token.serial_number,
        policy=token.policy,
        hash_algorithm=token.hash_algorithm,
        digest=token.digest,
        token_der=token_der,
        tsa_fingerprint=fingerprint_sha256(signer),
        nonce=token.nonce,
    )


def _parse_token(der: bytes) -> _Token:
    try:
        return _read_cached(der) if isinstance(der, bytes) else _read_token(der)
    except _ASN1_ERRORS as exc:
        raise TimestampError("malformed", f"not a time-stamp token: {exc}") from exc


def _read_token(der: bytes) -> _Token:
    """The fields of a token (ValueError and the like if it is not one).

    The bytes that are hashed or signed (the TSTInfo, the signed attributes) and the
    certificates are taken as received, before any value of theirs is read: asn1crypto
    re-encodes a structure once reading its values has normalised it (it adds NULL
    parameters to algorithm identifiers, drops fields equal to their default), which was
    most of the cost of a verification, and is not what was signed. Every structure is
    still decoded in full (``.native``), as strictly as before: the signed attributes and
    the certificates one by one, through a cache (:func:`_decode`).
    """
    content_info = cms.ContentInfo.load(der, strict=True)
    if content_info["content_type"].native != "signed_data":
        raise ValueError("content is not SignedData")
    signed_data = content_info["content"]
    encap = signed_data["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise ValueError("eContentType is not id-ct-TSTInfo")
    # RFC 3161 §2.4.2: the TSA's signature is the only one.
    (signer,) = list(signed_data["signer_infos"])
    signed_attrs = signer["signed_attrs"]
    # RFC 5652 §5.4: signed over as a SET OF, not under the [0] IMPLICIT tag.
    signed_attrs_der = b"\x31" + bytes(signed_attrs.dump())[1:]
    tst_der = bytes(encap["content"].contents)
    tst = tsp.TSTInfo.load(tst_der, strict=True).native
    if tst["version"] != "v1" or tst["gen_time"].tzinfo is None:
        raise ValueError("TSTInfo is not version 1 with a UTC genTime")
    attrs = _signed_attributes(signed_attrs)
    sig_alg = signer["signature_algorithm"]
    return _Token(
        tst_der=tst_der,
        gen_time=tst["gen_time"],
        serial_number=tst["serial_number"],
        policy=tst["policy"],
        hash_algorithm=tst["message_imprint"]["hash_algorithm"]["algorithm"],
        digest=tst["message_imprint"]["hashed_message"],
        nonce=tst["nonce"],
        content_type=attrs["content_type"].native if "content_type" in attrs else None,
        message_digest=attrs["message_digest"].native if "message_digest" in attrs else None,
        digest_algorithm=signer["digest_algorithm"]["algorithm"].native,
        signature_algorithm=sig_alg.signature_algo,
        signature_hash=_signature_hash_name(sig_alg),
        signature=signer["signature"].native,
        signed_attrs_der=signed_attrs_der,
        cert_id=_cert_id(attrs),
        certificates=_embedded_certificates(signed_data),
    )


# Parsing is a pure function of the bytes, so these caches, keyed by the bytes, return
# exactly what parsing again would, and every check of verify_token still runs on every
# call. They are bounded: a token may be verified more than once in a row (the log's
# verifier, evidence), and every token of one TSA embeds the same certificates and
# signingCertificate attribute, whose full decoding was most of the cost of a verification.
_read_cached = functools.lru_cache(maxsize=16)(_read_token)


@functools.lru_cache(maxsize=64)
def _decode(spec: type[Any], der: bytes) -> None:
    """Decode ``der`` as ``spec`` in full (ValueError and the like if it does not)."""
    spec.load(der, strict=True).native  # noqa: B018  # parse every field, as .native does


def _embedded_certificates(signed_data: Any) -> tuple[bytes, ...]:
    """The DER of every certificate in SignedData.certificates (each choice decoded)."""
    choices = signed_data["certificates"]
    if isinstance(choices, core.Void):  # absent
        return ()
    found = []
    for choice in choices:
        encoded = bytes(choice.dump())
        _decode(cms.CertificateChoices, encoded)
        if choice.name == "certificate":  # the untagged alternative: the Certificate itself
            found.append(encoded)
    return tuple(found)


def _signed_attributes(signed_attrs: Any) -> dict[str, Any]:
    """The first value of each signed attribute, by name (duplicates are refused)."""
    if isinstance(signed_attrs, core.Void):  # absent
        raise ValueError("no signed attributes")
    attrs: dict[str, Any] = {}
    for attr in signed_attrs:
        _decode(cms.CMSAttribute, bytes(attr.dump()))
        name = attr["type"].native
        if name in attrs or len(attr["values"]) != 1:
            raise ValueError(f"attribute {name} repeated")
        attrs[name] = attr["values"][0]
    return attrs


def _signature_hash_name(sig_alg: Any) -> str | None:
    try:
        return str(sig_alg.hash_algo)
    except ValueError:  # plain "ecdsa" / "rsassa_pkcs1v15": the digestAlgorithm says
        return None


def _cert_id(attrs: dict[str, Any]) -> tuple[str, bytes] | None:
    """RFC 5816 §2.2.1 / RFC 2634 §5.4: the first ESSCertID names the signer."""
    if "signing_certificate_v2" in attrs:
        first = attrs["signing_certificate_v2"]["certs"][0]
        return first["hash_algorithm"]["algorithm"].native, first["cert_hash"].native
    if "signing_certificate" in attrs:  # RFC 3161 §2.4.2 original form, SHA-1 ESSCertID
        return "sha1", attrs["signing_certificate"]["certs"][0]["cert_hash"].native
    return None


def _check_content(token: _Token) -> None:
    """RFC 5652 §5.4 / §11: the signed attributes bind the TSTInfo."""
    if token.content_type != "tst_info":
        raise TimestampError("content_mismatch", "contentType attribute is not id-ct-TSTInfo")
    if token.digest_algorithm not in ACCEPTED_HASHES:
        raise TimestampError("unsupported_algorithm", f"digest {token.digest_algorithm}")
    expected = hashlib.new(token.digest_algorithm, token.tst_der).digest()
    if token.message_digest != expected:
        raise TimestampError("content_mismatch", "messageDigest does not match the TSTInfo")


def _find_signer(token: _Token, candidates: Sequence[x509.Certificate]) -> x509.Certificate:
    """The candidate named by the signed ESSCertID whose key made the signature.

    The unsigned SignerIdentifier is not consulted: the ESSCertID is signed.
    """
    if token.cert_id is None:
        raise TimestampError("malformed", "no signingCertificate(V2) attribute")
    hash_name, cert_hash = token.cert_id
    named = [c for c in candidates if _hash(hash_name, certificate_to_der(c)) == cert_hash]
    if not named:
        raise TimestampError("unknown_signer", "the token names none of the TSA certificates")
    for cert in named:
        if _signature_valid(cert, token):
            return cert
    raise TimestampError("bad_signature", "the token signature does not verify")


def _hash(name: str, data: bytes) -> bytes | None:
    try:
        return hashlib.new(name, data).digest()
    except ValueError:
        return None


def _signature_valid(cert: x509.Certificate, token: _Token) -> bool:
    key = cert.public_key()
    name = token.signature_hash or token.digest_algorithm
    if name not in ACCEPTED_HASHES:
        raise TimestampError("unsupported_algorithm", f"signature hash {name}")
    chosen = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[name]
    data, signature, algorithm = token.signed_attrs_der, token.signature, token.signature_algorithm
    try:
        if algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(chosen))
        elif algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), chosen)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _check_signer(
    signer: x509.Certificate, token: _Token, ca_certificates: Sequence[x509.Certificate]
) -> None:
    try:
        check_profile(signer, CertificateProfile.TSA)
    except ChainError as exc:
        raise TimestampError("not_a_tsa", str(exc)) from exc
    if not signer.not_valid_before_utc <= token.gen_time <= signer.not_valid_after_utc:
        raise TimestampError("tsa_not_valid", f"TSA certificate not valid at {token.gen_time}")
    if not ca_certificates:
        return
    try:
        intermediates = [x509.load_der_x509_certificate(d) for d in token.certificates]
    except ValueError as exc:
        raise TimestampError("malformed", f"embedded certificate: {exc}") from exc
    try:
        verify_chain(
            signer,
            roots=ca_certificates,
            intermediates=intermediates,
            at=token.gen_time,
            profile=CertificateProfile.TSA,
        )
    except ChainError as exc:
        raise TimestampError("untrusted_tsa", str(exc)) from exc
