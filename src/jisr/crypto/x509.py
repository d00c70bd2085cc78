"""X.509 for an instance: the root CA, certificate profiles, CSRs, issuance, paths.

The central holds the instance CA; gateways send certification requests
(PKCS#10, RFC 2986) and never hand over a private key. The CA does not copy the
requested subject: it writes the name it holds in its registry.

Profiles (RFC 5280 §4.2.1.3 KeyUsage, §4.2.1.12 ExtendedKeyUsage):

* ``auth`` — gateway TLS: digitalSignature (+keyEncipherment for RSA),
  serverAuth + clientAuth, the gateway host as subjectAltName;
* ``sign`` — member message signing: digitalSignature + contentCommitment;
* ``tsa`` — time-stamping: as ``sign``, plus a critical EKU holding
  timeStamping only (RFC 3161 §2.3);
* ``conf-signing`` — global configuration signing: digitalSignature.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from jisr.crypto.errors import ChainError, CryptoError, CsrError
from jisr.crypto.keys import PrivateKey, PublicKey, signature_hash

__all__ = [
    "CertificateProfile",
    "certificate_to_der",
    "certificate_to_pem",
    "check_csr",
    "check_profile",
    "create_csr",
    "create_root_ca",
    "csr_to_pem",
    "fingerprint_sha256",
    "issue_certificate",
    "issue_from_csr",
    "load_certificate",
    "load_certificates",
    "verify_chain",
]

CLOCK_SKEW = timedelta(minutes=5)
MAX_CSR_SIZE = 16 * 1024
MAX_PATH_DEPTH = 5
MIN_RSA_BITS = 3072
_CSR_CURVES = frozenset({"secp256r1", "secp384r1"})
_E = TypeVar("_E", bound=x509.ExtensionType)


class CertificateProfile(StrEnum):
    """What an issued certificate may be used for."""

    AUTH = "auth"
    SIGN = "sign"
    TSA = "tsa"
    CONF_SIGNING = "conf-signing"


# --- encoding -----------------------------------------------------------------


def load_certificate(data: bytes) -> x509.Certificate:
    """Parse one certificate, PEM or DER; :class:`CryptoError` if it is neither."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise CryptoError(f"not an X.509 certificate: {exc}") from exc


def load_certificates(pem_bundle: bytes) -> list[x509.Certificate]:
    """Parse every certificate of a PEM bundle (at least one)."""
    try:
        return x509.load_pem_x509_certificates(pem_bundle)
    except ValueError as exc:
        raise CryptoError(f"not a PEM certificate bundle: {exc}") from exc


def certificate_to_pem(cert: x509.Certificate) -> bytes:
    """PEM encoding of ``cert``."""
    return cert.public_bytes(serialization.Encoding.PEM)


def certificate_to_der(cert: x509.Certificate) -> bytes:
    """DER encoding of ``cert``."""
    return cert.public_bytes(serialization.Encoding.DER)


def fingerprint_sha256(cert: x509.Certificate) -> str:
    """Lowercase hex SHA-256 of the DER certificate."""
    return hashlib.sha256(certificate_to_der(cert)).hexdigest()


# --- names and common building blocks -------------------------------------------


def _name(common_name: str, organization: str | None) -> x509.Name:
    attributes = (
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    )
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _general_name(host: str) -> x509.GeneralName:
    """An IP literal (v4 or v6) becomes an iPAddress, anything else a dNSName."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _serial() -> int:
    # RFC 5280 §4.1.2.2: positive, at most 20 octets; 159 random bits stay below.
    return secrets.randbits(159) | 1


def _utc(moment: datetime | None) -> datetime:
    """``moment`` (default: now) in UTC; a naive datetime is read as UTC."""
    if moment is None:
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _ski(public_key: PublicKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


# --- the instance CA ---------------------------------------------------------------


def create_root_ca(
    key: PrivateKey,
    common_name: str,
    *,
    organization: str | None = None,
    validity_days: int = 7300,
    now: datetime | None = None,
) -> x509.Certificate:
    """A self-signed root that issues end-entity certificates only (pathLen 0)."""
    start = _utc(now)
    name = _name(common_name, organization)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(start - CLOCK_SKEW)
        .not_valid_after(start + timedelta(days=validity_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(_ski(key.public_key()), critical=False)
    )
    return builder.sign(key, signature_hash(key))


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


# --- certification requests ----------------------------------------------------------


def create_csr(
    key: PrivateKey,
    common_name: str,
    *,
    organization: str | None = None,
    san_hosts: Sequence[str] = (),
) -> x509.CertificateSigningRequest:
    """A PKCS#10 request signed by ``key`` (gateway side)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(common_name, organization))
    if san_hosts:
        names = [_general_name(host) for host in san_hosts]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, signature_hash(key))


def csr_to_pem(csr: x509.CertificateSigningRequest) -> bytes:
    """PEM encoding of ``csr``."""
    return csr.public_bytes(serialization.Encoding.PEM)


def check_csr(pem_or_der: bytes, *, expected_common_name: str) -> x509.CertificateSigningRequest:
    """Parse a request and accept it only if it is sound and names the right subject.

    :class:`CsrError` ``field/rule``: ``csr/too_large`` (over 16 KiB),
    ``csr/malformed``, ``public_key/unsupported_key_type``,
    ``public_key/weak_key``, ``signature/bad_signature``,
    ``subject/subject_mismatch``.
    """
    if len(pem_or_der) > MAX_CSR_SIZE:
        raise CsrError(
            "csr", "too_large", f"request is {len(pem_or_der)} bytes, limit {MAX_CSR_SIZE}"
        )
    csr = _parse_csr(pem_or_der)
    _check_csr_key(csr)
    # RFC 2986 §3: the self-signature proves possession of the private key.
    if not csr.is_signature_valid:
        raise CsrError("signature", "bad_signature", "request signature does not verify")
    _check_csr_subject(csr, expected_common_name)
    return csr


def _parse_csr(data: bytes) -> x509.CertificateSigningRequest:
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_csr(data)
        return x509.load_der_x509_csr(data)
    except ValueError as exc:
        raise CsrError("csr", "malformed", f"not a PKCS#10 request: {exc}") from exc


def _check_csr_key(csr: x509.CertificateSigningRequest) -> None:
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CsrError("public_key", "unsupported_key_type", f"unreadable key: {exc}") from exc
    if isinstance(key, ed25519.Ed25519PublicKey):
        return
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in _CSR_CURVES:
            raise CsrError(
                "public_key", "unsupported_key_type", f"curve {key.curve.name} not accepted"
            )
        return
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CsrError("public_key", "weak_key", f"RSA {key.key_size} < {MIN_RSA_BITS} bits")
        return
    raise CsrError("public_key", "unsupported_key_type", f"{type(key).__name__} not accepted")


def _check_csr_subject(csr: x509.CertificateSigningRequest, expected: str) -> None:
    values = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if values != [expected]:
        got = ", ".join(repr(v) for v in values) or "no CN"
        raise CsrError("subject", "subject_mismatch", f"expected CN {expected!r}, got {got}")


# --- issuance -----------------------------------------------------------------------------


def issue_certificate(
    *,
    public_key: PublicKey,
    subject_common_name: str,
    subject_organization: str | None,
    profile: CertificateProfile,
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    san_host: str | None = None,
    validity_days: int,
    now: datetime | None = None,
) -> x509.Certificate:
    """Issue an end-entity certificate of ``profile`` signed by the CA.

    ``not_before`` is back-dated by five minutes for clock skew; ``not_after``
    never outlives the CA. ``san_host`` (DNS name or IP literal) is required
    for ``auth`` and added as subjectAltName to any profile when given.
    ValueError if the CA key does not match the CA certificate.
    """
    if validity_days <= 0:
        raise ValueError("validity_days must be positive")
    if profile is CertificateProfile.AUTH and not san_host:
        raise ValueError("an auth certificate needs san_host (the gateway host)")
    if ca_key.public_key() != ca_cert.public_key():
        raise ValueError("ca_key does not belong to ca_cert")
    start = _utc(now)
    end = min(start + timedelta(days=validity_days), ca_cert.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject_common_name, subject_organization))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(_serial())
        .not_valid_before(start - CLOCK_SKEW)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_ski(public_key), critical=False)
        .add_extension(_aki(ca_cert), critical=False)
    )
    for extension, critical in _profile_extensions(profile, public_key):
        builder = builder.add_extension(extension, critical=critical)
    if san_host:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(san_host)]), critical=False
        )
    return builder.sign(ca_key, signature_hash(ca_key))


def issue_from_csr(
    csr: x509.CertificateSigningRequest,
    *,
    profile: CertificateProfile,
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    subject_common_name: str,
    subject_organization: str | None = None,
    san_host: str | None = None,
    validity_days: int,
) -> x509.Certificate:
    """Certify the key of a checked ``csr``; the subject comes from the registry."""
    return issue_certificate(
        public_key=_public_key(csr),
        subject_common_name=subject_common_name,
        subject_organization=subject_organization,
        profile=profile,
        ca_key=ca_key,
        ca_cert=ca_cert,
        san_host=san_host,
        validity_days=validity_days,
    )


def _public_key(holder: x509.Certificate | x509.CertificateSigningRequest) -> PublicKey:
    key = holder.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        raise ValueError(f"{type(key).__name__} keys are not supported")
    return key


def _aki(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """RFC 5280 §4.2.1.1: the issuer's key identifier, taken from its SKI."""
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(_public_key(ca_cert))
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _profile_extensions(
    profile: CertificateProfile, public_key: PublicKey
) -> list[tuple[x509.ExtensionType, bool]]:
    """(extension, critical) pairs that define ``profile``."""
    if profile is CertificateProfile.AUTH:
        usage = _key_usage(
            digital_signature=True, key_encipherment=isinstance(public_key, rsa.RSAPublicKey)
        )
        eku = x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        )
        return [(usage, True), (eku, False)]
    if profile is CertificateProfile.SIGN:
        return [(_key_usage(digital_signature=True, content_commitment=True), True)]
    if profile is CertificateProfile.TSA:
        usage = _key_usage(digital_signature=True, content_commitment=True)
        # RFC 3161 §2.3: the TSA certificate has one critical EKU, timeStamping.
        eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
        return [(usage, True), (eku, True)]
    return [(_key_usage(digital_signature=True), True)]


# --- path validation ------------------------------------------------------------------------
#
# Written here rather than with ``cryptography.x509.verification``: that
# verifier implements the Web PKI (CA/Browser Forum) profile — it wants a
# server name or client EKU, and rejects signing, TSA and configuration-signing
# leaves that are perfectly valid in an instance. What we need is RFC 5280 §6
# basic path validation against the instance's own anchors, plus our profiles.


def verify_chain(
    cert: x509.Certificate,
    *,
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    at: datetime | None = None,
    profile: CertificateProfile | None = None,
) -> list[x509.Certificate]:
    """Build and check the path from ``cert`` to one of ``roots``; return it leaf→root.

    Every certificate must be valid at ``at`` (default now), every issuer a CA
    allowed to sign certificates within its path length, every signature good,
    the root self-signed. With ``profile``, the leaf must fit it. At most five
    certificates. :class:`ChainError` (``reason``) otherwise.
    """
    moment = _utc(at)
    _check_validity(cert, moment)
    if profile is not None:
        check_profile(cert, profile)
    if any(cert == root for root in roots):
        _check_root(cert)
        return [cert]
    path = [cert]
    while len(path) < MAX_PATH_DEPTH:
        issuer, is_root = _find_issuer(path[-1], roots, intermediates)
        _check_issuer(issuer, moment, intermediates_below=len(path) - 1)
        path.append(issuer)
        if is_root:
            _check_root(issuer)
            return path
    raise ChainError("path_too_long", f"no trusted root within {MAX_PATH_DEPTH} certificates")


def _check_validity(cert: x509.Certificate, moment: datetime) -> None:
    subject = cert.subject.rfc4514_string()
    if moment < cert.not_valid_before_utc:
        raise ChainError("not_yet_valid", f"{subject} is valid from {cert.not_valid_before_utc}")
    if moment > cert.not_valid_after_utc:
        raise ChainError("expired", f"{subject} expired at {cert.not_valid_after_utc}")


def _find_issuer(
    cert: x509.Certificate,
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
) -> tuple[x509.Certificate, bool]:
    """The first candidate named as ``cert``'s issuer whose key verifies it; roots first."""
    candidates = [(c, True) for c in roots] + [(c, False) for c in intermediates]
    named = [(c, r) for c, r in candidates if c.subject == cert.issuer and c != cert]
    for candidate, is_root in named:
        if _signed_by(cert, candidate):
            return candidate, is_root
    issuer = cert.issuer.rfc4514_string()
    if named:
        raise ChainError("bad_signature", f"signature not made by any {issuer}")
    raise ChainError("unknown_issuer", f"issuer {issuer} is not known")


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _check_issuer(issuer: x509.Certificate, moment: datetime, *, intermediates_below: int) -> None:
    """RFC 5280 §6.1.4 (k), (l), (n): a CA, within path length, allowed keyCertSign."""
    subject = issuer.subject.rfc4514_string()
    constraints = _extension(issuer, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        raise ChainError("not_a_ca", f"{subject} is not a CA")
    if constraints.path_length is not None and intermediates_below > constraints.path_length:
        raise ChainError("path_too_long", f"{subject} allows {constraints.path_length} CAs below")
    usage = _extension(issuer, x509.KeyUsage)
    if usage is None or not usage.key_cert_sign:
        raise ChainError("not_a_ca", f"{subject} may not sign certificates (keyCertSign)")
    _check_validity(issuer, moment)


def _check_root(root: x509.Certificate) -> None:
    if root.subject != root.issuer or not _signed_by(root, root):
        raise ChainError("bad_root", f"{root.subject.rfc4514_string()} is not self-signed")


def _extension(cert: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


# --- profile fit -------------------------------------------------------------------------------

_USAGE_BITS: dict[CertificateProfile, tuple[str, ...]] = {
    CertificateProfile.AUTH: ("digital_signature",),
    CertificateProfile.SIGN: ("digital_signature", "content_commitment"),
    CertificateProfile.TSA: (),  # RFC 3161 §2.3 constrains the EKU only
    CertificateProfile.CONF_SIGNING: ("digital_signature",),
}


def check_profile(cert: x509.Certificate, profile: CertificateProfile) -> None:
    """Raise :class:`ChainError` ``wrong_usage`` unless ``cert`` is a leaf fit for ``profile``."""
    subject = cert.subject.rfc4514_string()
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise ChainError("wrong_usage", f"{subject} is a CA, not a {profile} certificate")
    usage = _extension(cert, x509.KeyUsage)
    missing = [bit for bit in _USAGE_BITS[profile] if usage is None or not getattr(usage, bit)]
    if missing:
        raise ChainError(
            "wrong_usage", f"{subject} lacks key usage {', '.join(missing)} ({profile})"
        )
    if profile is CertificateProfile.AUTH:
        _check_auth_eku(cert, subject)
    elif profile is CertificateProfile.TSA:
        _check_tsa_eku(cert, subject)


def _check_auth_eku(cert: x509.Certificate, subject: str) -> None:
    eku = _extension(cert, x509.ExtendedKeyUsage)
    wanted = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    if eku is None or not wanted <= set(eku):
        raise ChainError("wrong_usage", f"{subject} is not for TLS server and client auth")


def _check_tsa_eku(cert: x509.Certificate, subject: str) -> None:
    """RFC 3161 §2.3: exactly one EKU, id-kp-timeStamping, marked critical."""
    try:
        extension = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        extension = None
    if (
        extension is None
        or not extension.critical
        or list(extension.value) != [ExtendedKeyUsageOID.TIME_STAMPING]
    ):
        raise ChainError("wrong_usage", f"{subject} lacks the critical timeStamping-only EKU")
