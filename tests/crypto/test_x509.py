"""Tests for jisr.crypto.x509: the instance CA, CSRs, profiles, path validation."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from jisr.crypto.errors import ChainError, CryptoError, CsrError
from jisr.crypto.keys import PrivateKey, generate_private_key
from jisr.crypto.x509 import (
    CertificateProfile,
    certificate_to_der,
    certificate_to_pem,
    check_csr,
    create_csr,
    create_root_ca,
    csr_to_pem,
    fingerprint_sha256,
    issue_certificate,
    issue_from_csr,
    load_certificate,
    load_certificates,
    verify_chain,
)

GATEWAY = "gw1.health.example"


@pytest.fixture(scope="module")
def ca_key() -> PrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def ca_cert(ca_key: PrivateKey) -> x509.Certificate:
    # Back-dated a month so that certificates issued "in the past" fall inside it.
    month_ago = datetime.now(UTC) - timedelta(days=30)
    return create_root_ca(ca_key, "Jisr Test Root", organization="Jisr", now=month_ago)


@pytest.fixture(scope="module")
def gateway_key() -> PrivateKey:
    return generate_private_key()


def _issue(
    profile: CertificateProfile,
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    *,
    key: PrivateKey | None = None,
    san_host: str | None = GATEWAY,
    validity_days: int = 365,
    now: datetime | None = None,
) -> x509.Certificate:
    return issue_certificate(
        public_key=(key or generate_private_key()).public_key(),
        subject_common_name="GOV:HEALTH",
        subject_organization="Ministry of Health",
        profile=profile,
        ca_key=ca_key,
        ca_cert=ca_cert,
        san_host=san_host,
        validity_days=validity_days,
        now=now,
    )


def _intermediate(
    root_key: PrivateKey, root: x509.Certificate, key: PrivateKey
) -> x509.Certificate:
    """A CA below ``root``, built by hand since Jisr itself issues no intermediates."""
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sub CA")]))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )


def _csr_with_key(key: PrivateKey, common_name: str = GATEWAY) -> bytes:
    """A CSR signed with ``key`` via cryptography directly (any key type)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def _extension(
    cert: x509.Certificate, kind: type[x509.ExtensionType]
) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_class(kind)


class TestEncoding:
    def test_pem_and_der_load(self, ca_cert: x509.Certificate) -> None:
        """load_certificate accepts both PEM and DER encodings."""
        assert load_certificate(certificate_to_pem(ca_cert)) == ca_cert
        assert load_certificate(certificate_to_der(ca_cert)) == ca_cert

    def test_garbage_is_refused(self) -> None:
        """Bytes that are not a certificate raise CryptoError."""
        with pytest.raises(CryptoError):
            load_certificate(b"\x30\x03\x02\x01\x01")
        with pytest.raises(CryptoError):
            load_certificate(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")

    def test_bundle(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """load_certificates returns every certificate of a PEM bundle, in order."""
        leaf = _issue(CertificateProfile.SIGN, ca_key, ca_cert)
        bundle = certificate_to_pem(leaf) + certificate_to_pem(ca_cert)
        assert load_certificates(bundle) == [leaf, ca_cert]

    def test_empty_bundle_is_refused(self) -> None:
        """A bundle without any certificate raises CryptoError."""
        with pytest.raises(CryptoError):
            load_certificates(b"")

    def test_fingerprint(self, ca_cert: x509.Certificate) -> None:
        """The fingerprint is lowercase hex SHA-256 of the DER certificate."""
        expected = hashlib.sha256(certificate_to_der(ca_cert)).hexdigest()
        assert fingerprint_sha256(ca_cert) == expected


class TestCreateRootCa:
    def test_extensions(self, ca_cert: x509.Certificate) -> None:
        """The root is a critical CA with pathLen 0, may sign certs and CRLs, and has an SKI."""
        constraints = _extension(ca_cert, x509.BasicConstraints)
        assert constraints.critical
        assert constraints.value == x509.BasicConstraints(ca=True, path_length=0)
        usage = _extension(ca_cert, x509.KeyUsage)
        assert usage.critical
        assert isinstance(usage.value, x509.KeyUsage)
        assert usage.value.key_cert_sign
        assert usage.value.crl_sign
        assert not usage.value.digital_signature
        assert _extension(ca_cert, x509.SubjectKeyIdentifier)

    def test_self_signed(self, ca_cert: x509.Certificate) -> None:
        """The root is self-issued and its signature verifies with its own key."""
        assert ca_cert.subject == ca_cert.issuer
        ca_cert.verify_directly_issued_by(ca_cert)

    def test_subject_and_validity(self, ca_key: PrivateKey) -> None:
        """Subject holds O and CN; validity runs validity_days from now, back-dated 5 minutes."""
        now = datetime(2030, 1, 1, tzinfo=UTC)
        cert = create_root_ca(ca_key, "Root", organization="Org", validity_days=10, now=now)
        assert cert.subject.rfc4514_string() == "CN=Root,O=Org"
        assert cert.not_valid_before_utc == now - timedelta(minutes=5)
        assert cert.not_valid_after_utc == now + timedelta(days=10)

    def test_signature_algorithm(self, ca_cert: x509.Certificate) -> None:
        """A P-256 CA signs with ECDSA-with-SHA256."""
        assert isinstance(ca_cert.signature_hash_algorithm, hashes.SHA256)

    def test_ed25519_root(self) -> None:
        """An Ed25519 key makes a valid root too (pure EdDSA, no hash)."""
        cert = create_root_ca(generate_private_key("ed25519"), "Ed Root")
        assert cert.signature_hash_algorithm is None
        assert verify_chain(cert, roots=[cert]) == [cert]


class TestCheckCsr:
    def test_accepts_a_sound_request(self, gateway_key: PrivateKey) -> None:
        """A P-256 request naming the expected CN is returned parsed, from PEM or DER."""
        csr = create_csr(gateway_key, GATEWAY, organization="Health", san_hosts=[GATEWAY])
        assert check_csr(csr_to_pem(csr), expected_common_name=GATEWAY) == csr
        der = csr.public_bytes(serialization.Encoding.DER)
        assert check_csr(der, expected_common_name=GATEWAY) == csr

    def test_accepts_ed25519_p384_and_rsa3072(self) -> None:
        """Ed25519, P-384 and RSA-3072 keys are all accepted."""
        keys: list[PrivateKey] = [
            generate_private_key("ed25519"),
            ec.generate_private_key(ec.SECP384R1()),
            rsa.generate_private_key(public_exponent=65537, key_size=3072),
        ]
        for key in keys:
            check_csr(csr_to_pem(create_csr(key, GATEWAY)), expected_common_name=GATEWAY)

    def test_garbage(self) -> None:
        """Bytes that are not a PKCS#10 request fail with csr/malformed."""
        with pytest.raises(CsrError) as caught:
            check_csr(b"garbage", expected_common_name=GATEWAY)
        assert (caught.value.field, caught.value.rule) == ("csr", "malformed")

    def test_too_large(self) -> None:
        """Anything over 16 KiB is refused before parsing with csr/too_large."""
        with pytest.raises(CsrError) as caught:
            check_csr(b"0" * (16 * 1024 + 1), expected_common_name=GATEWAY)
        assert (caught.value.field, caught.value.rule) == ("csr", "too_large")

    def test_wrong_common_name(self, gateway_key: PrivateKey) -> None:
        """A CN other than the expected one fails with subject/subject_mismatch, showing both."""
        pem = csr_to_pem(create_csr(gateway_key, "gw-evil.example"))
        with pytest.raises(CsrError, match=r"gw1\.health\.example.*gw-evil\.example") as caught:
            check_csr(pem, expected_common_name=GATEWAY)
        assert (caught.value.field, caught.value.rule) == ("subject", "subject_mismatch")

    def test_common_name_is_compared_exactly(self, gateway_key: PrivateKey) -> None:
        """Case differences are a mismatch: the CN must be equal, not similar."""
        pem = csr_to_pem(create_csr(gateway_key, GATEWAY.upper()))
        with pytest.raises(CsrError) as caught:
            check_csr(pem, expected_common_name=GATEWAY)
        assert caught.value.rule == "subject_mismatch"

    def test_broken_signature(self, gateway_key: PrivateKey) -> None:
        """A request altered after signing still parses but fails signature/bad_signature."""
        csr = create_csr(gateway_key, GATEWAY, organization="Health A")
        der = csr.public_bytes(serialization.Encoding.DER)
        tampered = der.replace(b"Health A", b"Health B")
        assert tampered != der
        with pytest.raises(CsrError) as caught:
            check_csr(tampered, expected_common_name=GATEWAY)
        assert (caught.value.field, caught.value.rule) == ("signature", "bad_signature")

    def test_weak_rsa(self) -> None:
        """RSA below 3072 bits fails with public_key/weak_key."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505  # the weak key under test
        with pytest.raises(CsrError) as caught:
            check_csr(_csr_with_key(key), expected_common_name=GATEWAY)
        assert (caught.value.field, caught.value.rule) == ("public_key", "weak_key")

    @pytest.mark.parametrize("curve", [ec.SECP521R1(), ec.SECP256K1()])
    def test_unsupported_curve(self, curve: ec.EllipticCurve) -> None:
        """Curves other than P-256 and P-384 fail with public_key/unsupported_key_type."""
        key = ec.generate_private_key(curve)
        with pytest.raises(CsrError) as caught:
            check_csr(_csr_with_key(key), expected_common_name=GATEWAY)
        assert (caught.value.field, caught.value.rule) == ("public_key", "unsupported_key_type")


class TestIssueCertificate:
    def test_auth_with_dns_name(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """AUTH: critical digitalSignature, serverAuth+clientAuth, the host as a dNSName."""
        cert = _issue(CertificateProfile.AUTH, ca_key, ca_cert)
        usage = _extension(cert, x509.KeyUsage)
        assert usage.critical
        assert isinstance(usage.value, x509.KeyUsage)
        assert usage.value.digital_signature
        assert not usage.value.key_encipherment
        assert not usage.value.content_commitment
        eku = _extension(cert, x509.ExtendedKeyUsage).value
        assert isinstance(eku, x509.ExtendedKeyUsage)
        assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
        san = _extension(cert, x509.SubjectAlternativeName).value
        assert isinstance(san, x509.SubjectAlternativeName)
        assert san.get_values_for_type(x509.DNSName) == [GATEWAY]

    @pytest.mark.parametrize("host", ["192.0.2.10", "2001:db8::10"])
    def test_auth_with_ip_address(
        self, ca_key: PrivateKey, ca_cert: x509.Certificate, host: str
    ) -> None:
        """AUTH: an IPv4 or IPv6 literal becomes an iPAddress name, not a dNSName."""
        cert = _issue(CertificateProfile.AUTH, ca_key, ca_cert, san_host=host)
        san = _extension(cert, x509.SubjectAlternativeName).value
        assert isinstance(san, x509.SubjectAlternativeName)
        assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address(host)]
        assert san.get_values_for_type(x509.DNSName) == []

    def test_auth_needs_a_host(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """AUTH without san_host is a ValueError."""
        with pytest.raises(ValueError, match="san_host"):
            _issue(CertificateProfile.AUTH, ca_key, ca_cert, san_host=None)

    def test_auth_rsa_adds_key_encipherment(
        self, ca_key: PrivateKey, ca_cert: x509.Certificate
    ) -> None:
        """AUTH for an RSA key also allows keyEncipherment (RSA key transport in TLS)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = _issue(CertificateProfile.AUTH, ca_key, ca_cert, key=key)
        usage = _extension(cert, x509.KeyUsage).value
        assert isinstance(usage, x509.KeyUsage)
        assert usage.key_encipherment

    def test_sign(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """SIGN: critical digitalSignature+contentCommitment and no EKU."""
        cert = _issue(CertificateProfile.SIGN, ca_key, ca_cert, san_host=None)
        usage = _extension(cert, x509.KeyUsage).value
        assert isinstance(usage, x509.KeyUsage)
        assert usage.digital_signature
        assert usage.content_commitment
        with pytest.raises(x509.ExtensionNotFound):
            _extension(cert, x509.ExtendedKeyUsage)

    def test_tsa(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """TSA: the EKU is timeStamping only and critical (RFC 3161 §2.3)."""
        cert = _issue(CertificateProfile.TSA, ca_key, ca_cert, san_host=None)
        eku = _extension(cert, x509.ExtendedKeyUsage)
        assert eku.critical
        assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]  # type: ignore[call-overload]

    def test_conf_signing(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """CONF_SIGNING: critical digitalSignature only."""
        cert = _issue(CertificateProfile.CONF_SIGNING, ca_key, ca_cert, san_host=None)
        usage = _extension(cert, x509.KeyUsage)
        assert usage.critical
        assert usage.value == x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )

    def test_common_fields(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """Issuer, AKI = CA SKI, own SKI, not a CA, positive serial < 2**159, 5 min back-dating."""
        now = datetime.now(UTC).replace(microsecond=0)
        key = generate_private_key()
        cert = _issue(CertificateProfile.SIGN, ca_key, ca_cert, key=key, now=now, validity_days=30)
        assert cert.issuer == ca_cert.subject
        aki = _extension(cert, x509.AuthorityKeyIdentifier).value
        ca_ski = _extension(ca_cert, x509.SubjectKeyIdentifier).value
        assert isinstance(aki, x509.AuthorityKeyIdentifier)
        assert isinstance(ca_ski, x509.SubjectKeyIdentifier)
        assert aki.key_identifier == ca_ski.digest
        ski = _extension(cert, x509.SubjectKeyIdentifier).value
        assert ski == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        assert _extension(cert, x509.BasicConstraints).value == x509.BasicConstraints(
            ca=False, path_length=None
        )
        assert 0 < cert.serial_number < 2**159
        assert cert.not_valid_before_utc == now - timedelta(minutes=5)
        assert cert.not_valid_after_utc == now + timedelta(days=30)

    def test_never_outlives_the_ca(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """A validity longer than the CA's is cut at the CA's notAfter."""
        cert = _issue(CertificateProfile.SIGN, ca_key, ca_cert, validity_days=100_000)
        assert cert.not_valid_after_utc == ca_cert.not_valid_after_utc

    def test_ca_key_must_match(self, ca_cert: x509.Certificate) -> None:
        """Signing with a key that is not the CA certificate's is a ValueError."""
        with pytest.raises(ValueError, match="ca_key"):
            _issue(CertificateProfile.SIGN, generate_private_key(), ca_cert)

    def test_from_csr_uses_registry_subject(
        self, ca_key: PrivateKey, ca_cert: x509.Certificate, gateway_key: PrivateKey
    ) -> None:
        """issue_from_csr certifies the CSR key under the registry's subject, not the CSR's."""
        csr = create_csr(gateway_key, GATEWAY, organization="Self-Declared Org")
        checked = check_csr(csr_to_pem(csr), expected_common_name=GATEWAY)
        cert = issue_from_csr(
            checked,
            profile=CertificateProfile.AUTH,
            ca_key=ca_key,
            ca_cert=ca_cert,
            subject_common_name=GATEWAY,
            subject_organization="Ministry of Health",
            san_host=GATEWAY,
            validity_days=365,
        )
        assert cert.public_key() == gateway_key.public_key()
        assert cert.subject.rfc4514_string() == f"CN={GATEWAY},O=Ministry of Health"


class TestVerifyChain:
    @pytest.mark.parametrize(
        ("profile", "host"),
        [
            (CertificateProfile.AUTH, GATEWAY),
            (CertificateProfile.AUTH, "198.51.100.7"),
            (CertificateProfile.SIGN, None),
            (CertificateProfile.TSA, None),
            (CertificateProfile.CONF_SIGNING, None),
        ],
    )
    def test_csr_to_valid_path(
        self,
        ca_key: PrivateKey,
        ca_cert: x509.Certificate,
        profile: CertificateProfile,
        host: str | None,
    ) -> None:
        """A certificate issued from a checked CSR chains to the root as leaf→root."""
        key = generate_private_key()
        pem = csr_to_pem(create_csr(key, GATEWAY, san_hosts=[host] if host else []))
        cert = issue_from_csr(
            check_csr(pem, expected_common_name=GATEWAY),
            profile=profile,
            ca_key=ca_key,
            ca_cert=ca_cert,
            subject_common_name=GATEWAY,
            san_host=host,
            validity_days=365,
        )
        assert verify_chain(cert, roots=[ca_cert], profile=profile) == [cert, ca_cert]

    def test_through_an_intermediate(self, ca_key: PrivateKey) -> None:
        """An intermediate CA is found among intermediates; the path has three certificates."""
        root_key = generate_private_key()
        root = create_root_ca(root_key, "Deep Root")
        root = _with_path_length(root_key, root, 1)
        sub_key = generate_private_key()
        sub = _intermediate(root_key, root, sub_key)
        leaf = _issue(CertificateProfile.SIGN, sub_key, sub)
        assert verify_chain(leaf, roots=[root], intermediates=[sub]) == [leaf, sub, root]

    def test_path_length_is_enforced(self) -> None:
        """A root with pathLen 0 cannot vouch for an intermediate CA."""
        root_key = generate_private_key()
        root = create_root_ca(root_key, "Flat Root")
        sub_key = generate_private_key()
        sub = _intermediate(root_key, root, sub_key)
        leaf = _issue(CertificateProfile.SIGN, sub_key, sub)
        with pytest.raises(ChainError) as caught:
            verify_chain(leaf, roots=[root], intermediates=[sub])
        assert caught.value.reason == "path_too_long"

    def test_other_ca(self, ca_cert: x509.Certificate) -> None:
        """A certificate from a CA that is not a root fails with unknown_issuer."""
        other_key = generate_private_key()
        other = create_root_ca(other_key, "Foreign Root")
        cert = _issue(CertificateProfile.SIGN, other_key, other)
        with pytest.raises(ChainError) as caught:
            verify_chain(cert, roots=[ca_cert])
        assert caught.value.reason == "unknown_issuer"

    def test_same_name_other_key(self, ca_cert: x509.Certificate) -> None:
        """A certificate from an impostor CA with the root's very name fails with bad_signature."""
        impostor_key = generate_private_key()
        impostor = create_root_ca(impostor_key, "Jisr Test Root", organization="Jisr")
        cert = _issue(CertificateProfile.SIGN, impostor_key, impostor)
        with pytest.raises(ChainError) as caught:
            verify_chain(cert, roots=[ca_cert])
        assert caught.value.reason == "bad_signature"

    def test_expired(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """A certificate past its notAfter fails with expired."""
        past = datetime.now(UTC) - timedelta(days=3)
        cert = _issue(CertificateProfile.SIGN, ca_key, ca_cert, now=past, validity_days=1)
        with pytest.raises(ChainError) as caught:
            verify_chain(cert, roots=[ca_cert])
        assert caught.value.reason == "expired"

    def test_valid_at_a_past_moment(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """`at` moves the validity check: an expired certificate verifies at a time it was valid."""
        past = datetime.now(UTC) - timedelta(days=3)
        cert = _issue(CertificateProfile.SIGN, ca_key, ca_cert, now=past, validity_days=1)
        assert verify_chain(cert, roots=[ca_cert], at=past + timedelta(hours=1))

    def test_not_yet_valid(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """Before its notBefore a certificate fails with not_yet_valid."""
        cert = _issue(CertificateProfile.SIGN, ca_key, ca_cert)
        with pytest.raises(ChainError) as caught:
            verify_chain(cert, roots=[ca_cert], at=datetime.now(UTC) - timedelta(hours=1))
        assert caught.value.reason == "not_yet_valid"

    def test_tampered_signature(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """A certificate whose signature bytes were altered fails with bad_signature."""
        der = bytearray(certificate_to_der(_issue(CertificateProfile.SIGN, ca_key, ca_cert)))
        der[-1] ^= 0x01  # last byte of the ECDSA signature's s
        with pytest.raises(ChainError) as caught:
            verify_chain(load_certificate(bytes(der)), roots=[ca_cert])
        assert caught.value.reason == "bad_signature"

    @pytest.mark.parametrize(
        ("issued", "wanted"),
        [
            (CertificateProfile.SIGN, CertificateProfile.AUTH),
            (CertificateProfile.AUTH, CertificateProfile.SIGN),
            (CertificateProfile.SIGN, CertificateProfile.TSA),
            (CertificateProfile.CONF_SIGNING, CertificateProfile.SIGN),
        ],
    )
    def test_wrong_profile(
        self,
        ca_key: PrivateKey,
        ca_cert: x509.Certificate,
        issued: CertificateProfile,
        wanted: CertificateProfile,
    ) -> None:
        """A leaf issued for one profile fails with wrong_usage when checked for another."""
        cert = _issue(issued, ca_key, ca_cert)
        with pytest.raises(ChainError) as caught:
            verify_chain(cert, roots=[ca_cert], profile=wanted)
        assert caught.value.reason == "wrong_usage"

    def test_ca_as_leaf_has_wrong_usage(self, ca_cert: x509.Certificate) -> None:
        """A CA certificate is never fit for a leaf profile."""
        with pytest.raises(ChainError) as caught:
            verify_chain(ca_cert, roots=[ca_cert], profile=CertificateProfile.SIGN)
        assert caught.value.reason == "wrong_usage"

    def test_leaf_cannot_issue(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """A certificate signed by an end-entity key fails with not_a_ca."""
        leaf_key = generate_private_key()
        leaf = _issue(CertificateProfile.SIGN, ca_key, ca_cert, key=leaf_key)
        below = _issue(CertificateProfile.SIGN, leaf_key, leaf)
        with pytest.raises(ChainError) as caught:
            verify_chain(below, roots=[ca_cert], intermediates=[leaf])
        assert caught.value.reason == "not_a_ca"

    def test_root_must_be_self_signed(self) -> None:
        """A non-self-signed certificate given as a root fails with bad_root."""
        root_key = generate_private_key()
        root = _with_path_length(root_key, create_root_ca(root_key, "R"), 1)
        sub_key = generate_private_key()
        sub = _intermediate(root_key, root, sub_key)
        leaf = _issue(CertificateProfile.SIGN, sub_key, sub)
        with pytest.raises(ChainError) as caught:
            verify_chain(leaf, roots=[sub])
        assert caught.value.reason == "bad_root"

    def test_root_itself(self, ca_cert: x509.Certificate) -> None:
        """A root verifies against itself as a one-certificate path."""
        assert verify_chain(ca_cert, roots=[ca_cert]) == [ca_cert]


def _with_path_length(key: PrivateKey, root: x509.Certificate, length: int) -> x509.Certificate:
    """``root`` re-signed with BasicConstraints pathLen ``length``."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(root.subject)
        .issuer_name(root.issuer)
        .public_key(root.public_key())
        .serial_number(root.serial_number)
        .not_valid_before(root.not_valid_before_utc)
        .not_valid_after(root.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=length), critical=True)
    )
    for ext in root.extensions:
        if not isinstance(ext.value, x509.BasicConstraints):
            builder = builder.add_extension(ext.value, ext.critical)
    return builder.sign(key, hashes.SHA256())
