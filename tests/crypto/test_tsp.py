"""Tests for jisr.crypto.tsp: RFC 3161 requests, the TSA, verification, OpenSSL interop."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from jisr.crypto.errors import TimestampError
from jisr.crypto.keys import PrivateKey, generate_private_key
from jisr.crypto.tsp import (
    TimeStampAuthority,
    extract_token,
    make_request,
    verify_response,
    verify_token,
)
from jisr.crypto.x509 import (
    CertificateProfile,
    certificate_to_pem,
    create_root_ca,
    issue_certificate,
)

POLICY = "1.3.6.1.4.1.99999.1.1"  # a private-enterprise arc, for tests only
DATA = b"message log record 42"
DIGEST = hashlib.sha256(DATA).digest()


@pytest.fixture(scope="module")
def ca_key() -> PrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def ca_cert(ca_key: PrivateKey) -> x509.Certificate:
    return create_root_ca(ca_key, "Jisr TSA Root", now=datetime.now(UTC) - timedelta(days=30))


def _tsa_cert(
    key: PrivateKey,
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    profile: CertificateProfile = CertificateProfile.TSA,
) -> x509.Certificate:
    return issue_certificate(
        public_key=key.public_key(),
        subject_common_name="Jisr TSA",
        subject_organization="Jisr",
        profile=profile,
        ca_key=ca_key,
        ca_cert=ca_cert,
        validity_days=365,
        now=datetime.now(UTC) - timedelta(days=1),
    )


@pytest.fixture(scope="module")
def tsa_key() -> PrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def tsa_cert(
    tsa_key: PrivateKey, ca_key: PrivateKey, ca_cert: x509.Certificate
) -> x509.Certificate:
    return _tsa_cert(tsa_key, ca_key, ca_cert)


@pytest.fixture(scope="module")
def authority(tsa_key: PrivateKey, tsa_cert: x509.Certificate) -> TimeStampAuthority:
    return TimeStampAuthority(key=tsa_key, certificate=tsa_cert, policy_oid=POLICY)


def _status(response: bytes) -> dict[str, Any]:
    """PKIStatusInfo of a response, read without the token (asn1crypto needs one)."""
    first = core.Sequence.load(response)[0]
    return dict(tsp.PKIStatusInfo.load(first.dump()).native)


def _token_parts(response: bytes) -> tuple[Any, Any]:
    signed_data = tsp.TimeStampResp.load(response)["time_stamp_token"]["content"]
    return signed_data, signed_data["encap_content_info"]["content"].parsed


def _flip(data: bytes, index: int) -> bytes:
    tampered = bytearray(data)
    tampered[index] ^= 0x01
    return bytes(tampered)


class TestMakeRequest:
    def test_fields(self) -> None:
        """The request is a v1 TimeStampReq carrying imprint, nonce, certReq and policy."""
        request = tsp.TimeStampReq.load(make_request(DIGEST, nonce=7, policy=POLICY)).native
        assert request["version"] == "v1"
        assert request["message_imprint"]["hash_algorithm"]["algorithm"] == "sha256"
        assert request["message_imprint"]["hashed_message"] == DIGEST
        assert (request["nonce"], request["cert_req"], request["req_policy"]) == (7, True, POLICY)

    def test_minimal(self) -> None:
        """Without nonce or policy, and certReq false, those fields are absent."""
        request = tsp.TimeStampReq.load(make_request(DIGEST, cert_req=False)).native
        assert (request["nonce"], request["cert_req"], request["req_policy"]) == (None, False, None)

    def test_digest_must_fit(self) -> None:
        """A digest whose length does not fit the algorithm is a ValueError."""
        with pytest.raises(ValueError, match="sha384"):
            make_request(DIGEST, hash_algorithm="sha384")

    def test_negative_nonce(self) -> None:
        """The nonce must be positive."""
        with pytest.raises(ValueError, match="nonce"):
            make_request(DIGEST, nonce=-1)


class TestTimeStampAuthority:
    @pytest.mark.parametrize("hash_algorithm", ["sha256", "sha384", "sha512"])
    @pytest.mark.parametrize("nonce", [None, 2**64 - 1])
    def test_round_trip(
        self,
        authority: TimeStampAuthority,
        tsa_cert: x509.Certificate,
        ca_cert: x509.Certificate,
        hash_algorithm: str,
        nonce: int | None,
    ) -> None:
        """request → respond → verify_response holds per accepted hash, with or without nonce."""
        digest = hashlib.new(hash_algorithm, DATA).digest()
        response = authority.respond(
            make_request(digest, hash_algorithm=hash_algorithm, nonce=nonce)
        )
        info = verify_response(
            response,
            digest=digest,
            hash_algorithm=hash_algorithm,
            nonce=nonce,
            tsa_certificates=[tsa_cert],
            ca_certificates=[ca_cert],
        )
        assert (info.hash_algorithm, info.digest, info.policy) == (hash_algorithm, digest, POLICY)
        assert info.nonce == nonce
        assert abs(info.gen_time - datetime.now(UTC)) < timedelta(minutes=1)
        assert info.token_der == extract_token(response)

    def test_token_structure(
        self, authority: TimeStampAuthority, tsa_cert: x509.Certificate
    ) -> None:
        """SignedData v3 over id-ct-TSTInfo: TSTInfo v1, 128-bit serial, four signed attributes."""
        signed_data, tst_info = _token_parts(authority.respond(make_request(DIGEST)))
        assert signed_data["version"].native == "v3"
        assert signed_data["encap_content_info"]["content_type"].native == "tst_info"
        assert tst_info["version"].native == "v1"
        assert 0 < tst_info["serial_number"].native < 2**128
        assert tst_info["accuracy"].native == {"seconds": 1, "millis": None, "micros": None}
        assert tst_info["ordering"].native is False
        assert tst_info["tsa"].chosen.native == {
            "organization_name": "Jisr",
            "common_name": "Jisr TSA",
        }
        (signer,) = signed_data["signer_infos"]
        assert signer["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
        names = [attr["type"].native for attr in signer["signed_attrs"]]
        assert sorted(names) == sorted(
            ["content_type", "signing_time", "message_digest", "signing_certificate_v2"]
        )
        cert_id = next(
            a for a in signer["signed_attrs"] if a["type"].native == "signing_certificate_v2"
        )["values"][0]["certs"][0]
        expected = hashlib.sha256(tsa_cert.public_bytes(Encoding.DER)).digest()
        assert cert_id["cert_hash"].native == expected

    def test_serials_differ(self, authority: TimeStampAuthority) -> None:
        """Each token gets a fresh serial number."""
        serials = {
            _token_parts(authority.respond(make_request(DIGEST)))[1]["serial_number"].native
            for _ in range(5)
        }
        assert len(serials) == 5

    def test_certificates_only_on_request(self, authority: TimeStampAuthority) -> None:
        """The TSA certificate is embedded when certReq is true, left out otherwise."""
        with_certs, _ = _token_parts(authority.respond(make_request(DIGEST, cert_req=True)))
        without, _ = _token_parts(authority.respond(make_request(DIGEST, cert_req=False)))
        assert len(with_certs["certificates"]) == 1
        assert without["certificates"].native is None

    def test_chain_is_embedded(
        self, tsa_key: PrivateKey, tsa_cert: x509.Certificate, ca_cert: x509.Certificate
    ) -> None:
        """Certificates given as chain follow the TSA certificate."""
        tsa = TimeStampAuthority(
            key=tsa_key, certificate=tsa_cert, chain=[ca_cert], policy_oid=POLICY
        )
        signed_data, _ = _token_parts(tsa.respond(make_request(DIGEST)))
        assert len(signed_data["certificates"]) == 2

    def test_clock_and_accuracy(self, tsa_key: PrivateKey, tsa_cert: x509.Certificate) -> None:
        """genTime comes from the injected clock, with its fraction; accuracy is as configured."""
        moment = datetime.now(UTC).replace(microsecond=250000)
        tsa = TimeStampAuthority(
            key=tsa_key,
            certificate=tsa_cert,
            policy_oid=POLICY,
            accuracy_ms=1500,
            clock=lambda: moment,
        )
        _, tst_info = _token_parts(tsa.respond(make_request(DIGEST)))
        assert tst_info["gen_time"].native == moment
        assert tst_info["accuracy"].native == {"seconds": 1, "millis": 500, "micros": None}

    def test_our_policy_is_accepted(self, authority: TimeStampAuthority) -> None:
        """A request naming the TSA's own policy is granted."""
        assert (
            _status(authority.respond(make_request(DIGEST, policy=POLICY)))["status"] == "granted"
        )

    def test_sha1_is_refused(self, authority: TimeStampAuthority) -> None:
        """A SHA-1 imprint is rejected with badAlg."""
        request = make_request(hashlib.sha1(DATA).digest(), hash_algorithm="sha1")  # noqa: S324
        status = _status(authority.respond(request))
        assert (status["status"], status["fail_info"]) == ("rejection", {"bad_alg"})

    @pytest.mark.parametrize("garbage", [b"", b"garbage", b"\x30\x03\x02\x01\x01", b"\x30\x80"])
    def test_garbage(self, authority: TimeStampAuthority, garbage: bytes) -> None:
        """Bytes that are not a TimeStampReq are rejected with badDataFormat."""
        status = _status(authority.respond(garbage))
        assert (status["status"], status["fail_info"]) == ("rejection", {"bad_data_format"})

    def test_trailing_bytes(self, authority: TimeStampAuthority) -> None:
        """A request followed by extra bytes is not DER: badDataFormat."""
        status = _status(authority.respond(make_request(DIGEST) + b"\x00"))
        assert status["fail_info"] == {"bad_data_format"}

    def test_wrong_digest_length(self, authority: TimeStampAuthority) -> None:
        """A sha256 imprint that is not 32 bytes long is rejected with badDataFormat."""
        request = _raw_request(hashed_message=DIGEST[:20])
        status = _status(authority.respond(request))
        assert (status["status"], status["fail_info"]) == ("rejection", {"bad_data_format"})

    def test_wrong_version(self, authority: TimeStampAuthority) -> None:
        """A TimeStampReq other than version 1 is rejected with badDataFormat."""
        status = _status(authority.respond(_raw_request(version="v2")))
        assert status["fail_info"] == {"bad_data_format"}

    def test_foreign_policy(self, authority: TimeStampAuthority) -> None:
        """A request for another policy is rejected with unacceptedPolicy."""
        status = _status(authority.respond(make_request(DIGEST, policy="1.2.3.4")))
        assert (status["status"], status["fail_info"]) == ("rejection", {"unaccepted_policy"})

    def test_extensions(self, authority: TimeStampAuthority) -> None:
        """A request carrying extensions is rejected with unacceptedExtension."""
        extension = {"extn_id": "1.2.3.4", "critical": False, "extn_value": b"\x05\x00"}
        status = _status(authority.respond(_raw_request(extensions=[extension])))
        assert (status["status"], status["fail_info"]) == ("rejection", {"unaccepted_extensions"})

    def test_rejection_explains_itself(self, authority: TimeStampAuthority) -> None:
        """A rejection carries a human statusString and no token."""
        response = authority.respond(b"nonsense")
        assert _status(response)["status_string"] == ["not a DER TimeStampReq"]
        assert len(core.Sequence.load(response)) == 1

    @settings(max_examples=150)
    @given(data=st.binary(max_size=300))
    def test_any_bytes_get_a_response(self, authority: TimeStampAuthority, data: bytes) -> None:
        """Whatever arrives, respond returns a TimeStampResp and never raises."""
        assert _status(authority.respond(data))["status"] in {"granted", "rejection"}

    @settings(max_examples=150)
    @given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
    def test_mutated_requests_get_a_response(
        self, authority: TimeStampAuthority, position: int, bit: int
    ) -> None:
        """A valid request with any one bit flipped still gets a TimeStampResp."""
        request = bytearray(make_request(DIGEST, nonce=99, policy=POLICY))
        request[position % len(request)] ^= 1 << bit
        assert _status(authority.respond(bytes(request)))["status"] in {"granted", "rejection"}

    def test_key_must_match_certificate(self, tsa_cert: x509.Certificate) -> None:
        """A TSA whose key is not its certificate's refuses to start."""
        with pytest.raises(ValueError, match="does not belong"):
            TimeStampAuthority(key=generate_private_key(), certificate=tsa_cert, policy_oid=POLICY)

    def test_certificate_must_be_for_time_stamping(
        self, ca_key: PrivateKey, ca_cert: x509.Certificate
    ) -> None:
        """A certificate without the critical timeStamping EKU cannot run a TSA."""
        key = generate_private_key()
        cert = _tsa_cert(key, ca_key, ca_cert, CertificateProfile.SIGN)
        with pytest.raises(ValueError, match="not a TSA certificate"):
            TimeStampAuthority(key=key, certificate=cert, policy_oid=POLICY)

    def test_ed25519_authority(self, ca_key: PrivateKey, ca_cert: x509.Certificate) -> None:
        """An Ed25519 TSA signs tokens (SHA-512 digest, RFC 8419) that verify."""
        key = generate_private_key("ed25519")
        cert = _tsa_cert(key, ca_key, ca_cert)
        tsa = TimeStampAuthority(key=key, certificate=cert, policy_oid=POLICY)
        info = verify_response(
            tsa.respond(make_request(DIGEST)),
            digest=DIGEST,
            tsa_certificates=[cert],
            ca_certificates=[ca_cert],
        )
        assert info.tsa_fingerprint == hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


@pytest.fixture(scope="module")
def response(authority: TimeStampAuthority) -> bytes:
    """A granted response over DIGEST with nonce 4242."""
    return authority.respond(make_request(DIGEST, nonce=4242))


class TestVerify:
    def test_token_alone(self, response: bytes, tsa_cert: x509.Certificate) -> None:
        """verify_token checks an extracted token without the response around it."""
        info = verify_token(extract_token(response), digest=DIGEST, tsa_certificates=[tsa_cert])
        assert info.digest == DIGEST
        assert info.serial_number > 0

    def test_other_digest(self, response: bytes, tsa_cert: x509.Certificate) -> None:
        """A token over another digest fails with imprint_mismatch."""
        with pytest.raises(TimestampError) as caught:
            verify_response(response, digest=bytes(32), tsa_certificates=[tsa_cert])
        assert caught.value.reason == "imprint_mismatch"

    def test_other_algorithm(self, response: bytes, tsa_cert: x509.Certificate) -> None:
        """A token whose imprint uses another algorithm fails with imprint_mismatch."""
        with pytest.raises(TimestampError) as caught:
            verify_response(
                response, digest=DIGEST, hash_algorithm="sha384", tsa_certificates=[tsa_cert]
            )
        assert caught.value.reason == "imprint_mismatch"

    def test_other_nonce(self, response: bytes, tsa_cert: x509.Certificate) -> None:
        """A response echoing another nonce fails with nonce_mismatch."""
        with pytest.raises(TimestampError) as caught:
            verify_response(response, digest=DIGEST, nonce=1, tsa_certificates=[tsa_cert])
        assert caught.value.reason == "nonce_mismatch"

    def test_tampered_tst_info(self, response: bytes, tsa_cert: x509.Certificate) -> None:
        """Changing one byte of the TSTInfo (its serial) fails with content_mismatch."""
        token = extract_token(response)
        _, tst_info = _token_parts(response)
        serial = tst_info["serial_number"].contents
        index = token.index(serial) + len(serial) - 1
        with pytest.raises(TimestampError) as caught:
            verify_token(_flip(token, index), digest=DIGEST, tsa_certificates=[tsa_cert])
        assert caught.value.reason == "content_mismatch"

    def test_tampered_signature(self, response: bytes, tsa_cert: x509.Certificate) -> None:
        """Changing one byte of the signature fails with bad_signature."""
        token = extract_token(response)
        with pytest.raises(TimestampError) as caught:
            verify_token(_flip(token, len(token) - 1), digest=DIGEST, tsa_certificates=[tsa_cert])
        assert caught.value.reason == "bad_signature"

    def test_signed_attributes_swapped(self, response: bytes, tsa_cert: x509.Certificate) -> None:
        """A signing time rewritten after signing fails with bad_signature."""
        token = extract_token(response)
        signed_data, _ = _token_parts(response)
        (signer,) = signed_data["signer_infos"]
        when = next(a for a in signer["signed_attrs"] if a["type"].native == "signing_time")
        encoded = when["values"][0].chosen.contents
        index = token.index(encoded) + len(encoded) - 2  # a seconds digit
        with pytest.raises(TimestampError) as caught:
            verify_token(_flip(token, index), digest=DIGEST, tsa_certificates=[tsa_cert])
        assert caught.value.reason == "bad_signature"

    def test_unknown_tsa(
        self, response: bytes, ca_key: PrivateKey, ca_cert: x509.Certificate
    ) -> None:
        """A token from a TSA not in tsa_certificates fails with unknown_signer."""
        other = _tsa_cert(generate_private_key(), ca_key, ca_cert)
        with pytest.raises(TimestampError) as caught:
            verify_response(response, digest=DIGEST, tsa_certificates=[other])
        assert caught.value.reason == "unknown_signer"

    def test_untrusted_ca(self, response: bytes, tsa_cert: x509.Certificate) -> None:
        """A TSA certificate that does not chain to ca_certificates fails with untrusted_tsa."""
        foreign = create_root_ca(generate_private_key(), "Foreign Root")
        with pytest.raises(TimestampError) as caught:
            verify_response(
                response, digest=DIGEST, tsa_certificates=[tsa_cert], ca_certificates=[foreign]
            )
        assert caught.value.reason == "untrusted_tsa"

    def test_gen_time_outside_tsa_validity(
        self, tsa_key: PrivateKey, tsa_cert: x509.Certificate
    ) -> None:
        """A token dated before the TSA certificate's validity fails with tsa_not_valid."""
        early = tsa_cert.not_valid_before_utc - timedelta(days=1)
        tsa = TimeStampAuthority(
            key=tsa_key, certificate=tsa_cert, policy_oid=POLICY, clock=lambda: early
        )
        with pytest.raises(TimestampError) as caught:
            verify_response(
                tsa.respond(make_request(DIGEST)), digest=DIGEST, tsa_certificates=[tsa_cert]
            )
        assert caught.value.reason == "tsa_not_valid"

    def test_rejection(self, authority: TimeStampAuthority, tsa_cert: x509.Certificate) -> None:
        """A rejection response fails with rejected, naming the failInfo."""
        response = authority.respond(b"nonsense")
        with pytest.raises(TimestampError, match="bad_data_format") as caught:
            verify_response(response, digest=DIGEST, tsa_certificates=[tsa_cert])
        assert caught.value.reason == "rejected"

    @pytest.mark.parametrize("garbage", [b"", b"junk", b"\x30\x00"])
    def test_garbage(self, garbage: bytes, tsa_cert: x509.Certificate) -> None:
        """Bytes that are no response, or no token, fail with malformed."""
        with pytest.raises(TimestampError) as caught:
            extract_token(garbage)
        assert caught.value.reason == "malformed"
        with pytest.raises(TimestampError) as caught:
            verify_token(garbage, digest=DIGEST, tsa_certificates=[tsa_cert])
        assert caught.value.reason == "malformed"


class TestRepeatedVerification:
    """verify_token keeps what it parsed, keyed by the bytes: every check still runs."""

    def test_same_token_twice(self, response: bytes, tsa_cert: x509.Certificate) -> None:
        """The second verification of a token gives the same result as the first."""
        token = extract_token(response)
        first = verify_token(token, digest=DIGEST, tsa_certificates=[tsa_cert])
        assert verify_token(bytes(token), digest=DIGEST, tsa_certificates=[tsa_cert]) == first

    def test_checks_run_again(
        self, response: bytes, tsa_cert: x509.Certificate, ca_key: PrivateKey
    ) -> None:
        """A token verified once is checked again on the next call: another digest,
        another TSA, another CA are still refused."""
        token = extract_token(response)
        verify_token(token, digest=DIGEST, tsa_certificates=[tsa_cert])
        for kwargs, reason in [
            ({"digest": bytes(32), "tsa_certificates": [tsa_cert]}, "imprint_mismatch"),
            ({"digest": DIGEST, "tsa_certificates": []}, "unknown_signer"),
            (
                {
                    "digest": DIGEST,
                    "tsa_certificates": [tsa_cert],
                    "ca_certificates": [create_root_ca(ca_key, "Other Root")],
                },
                "untrusted_tsa",
            ),
        ]:
            with pytest.raises(TimestampError) as caught:
                verify_token(token, **kwargs)
            assert caught.value.reason == reason

    def test_tampered_copies_of_a_verified_token(
        self, response: bytes, tsa_cert: x509.Certificate
    ) -> None:
        """Tampered copies of a token already verified (and parsed) are still refused."""
        token = extract_token(response)
        verify_token(token, digest=DIGEST, tsa_certificates=[tsa_cert])
        _, tst_info = _token_parts(response)
        serial = tst_info["serial_number"].contents
        for index, reason in [
            (token.index(serial) + len(serial) - 1, "content_mismatch"),
            (len(token) - 1, "bad_signature"),
        ]:
            with pytest.raises(TimestampError) as caught:
                verify_token(_flip(token, index), digest=DIGEST, tsa_certificates=[tsa_cert])
            assert caught.value.reason == reason

    def test_embedded_certificates_are_decoded(
        self, response: bytes, tsa_cert: x509.Certificate
    ) -> None:
        """An embedded certificate that does not decode makes the token malformed, even
        right after a token embedding the good one verified."""
        token = extract_token(response)
        verify_token(token, digest=DIGEST, tsa_certificates=[tsa_cert])
        der = tsa_cert.public_bytes(Encoding.DER)
        start = token.index(der)
        when = der.index(b"\x17\x0d") + 2  # the notBefore UTCTime: 13 ASCII characters
        broken = token[: start + when] + b"X" + token[start + when + 1 :]
        with pytest.raises(TimestampError) as caught:
            verify_token(broken, digest=DIGEST, tsa_certificates=[tsa_cert])
        assert caught.value.reason == "malformed"


def _raw_request(
    *,
    version: str = "v1",
    hashed_message: bytes = DIGEST,
    extensions: list[dict[str, Any]] | None = None,
) -> bytes:
    """A TimeStampReq built field by field, to say what make_request refuses to."""
    fields: dict[str, Any] = {
        "version": version,
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"},
            "hashed_message": hashed_message,
        },
        "cert_req": True,
    }
    if extensions is not None:
        fields["extensions"] = extensions
    return bytes(tsp.TimeStampReq(fields).dump())


# --- OpenSSL interoperability ------------------------------------------------------------

_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


@pytest.mark.slow
@_openssl
class TestOpenSslInterop:
    @pytest.fixture
    def files(
        self,
        tmp_path: Path,
        authority: TimeStampAuthority,
        ca_cert: x509.Certificate,
        tsa_cert: x509.Certificate,
    ) -> Path:
        (tmp_path / "data.bin").write_bytes(DATA)
        (tmp_path / "ca.pem").write_bytes(certificate_to_pem(ca_cert))
        (tmp_path / "tsa.pem").write_bytes(certificate_to_pem(tsa_cert))
        (tmp_path / "resp.tsr").write_bytes(authority.respond(make_request(DIGEST, nonce=31337)))
        return tmp_path

    def _openssl(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["openssl", "ts", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )

    def _verify(self, cwd: Path, *args: str) -> None:
        result = self._openssl(
            cwd, "-verify", *args, "-in", "resp.tsr", "-CAfile", "ca.pem", "-untrusted", "tsa.pem"
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Verification: OK" in result.stdout

    def test_verify_data(self, files: Path) -> None:
        """`openssl ts -verify -data` accepts our token over the data file."""
        self._verify(files, "-data", "data.bin")

    def test_verify_digest(self, files: Path) -> None:
        """`openssl ts -verify -digest` accepts our token over the hex digest."""
        self._verify(files, "-digest", DIGEST.hex())

    def test_verify_query(self, files: Path, authority: TimeStampAuthority) -> None:
        """An OpenSSL request answered by respond passes `-verify -queryfile` (nonce and all)."""
        made = self._openssl(
            files, "-query", "-data", "data.bin", "-sha256", "-cert", "-out", "req.tsq"
        )
        assert made.returncode == 0, made.stderr
        (files / "resp.tsr").write_bytes(authority.respond((files / "req.tsq").read_bytes()))
        self._verify(files, "-queryfile", "req.tsq")

    def test_openssl_rejects_tampering(self, files: Path) -> None:
        """OpenSSL also refuses our token for other data: the check is real."""
        (files / "data.bin").write_bytes(DATA + b"!")
        result = self._openssl(
            files,
            "-verify",
            "-data",
            "data.bin",
            "-in",
            "resp.tsr",
            "-CAfile",
            "ca.pem",
            "-untrusted",
            "tsa.pem",
        )
        assert result.returncode != 0

    @pytest.mark.parametrize("ess_cert_id_alg", ["sha256", "sha512", "sha1"])
    def test_openssl_tokens_verify(
        self,
        files: Path,
        tsa_key: PrivateKey,
        tsa_cert: x509.Certificate,
        ca_cert: x509.Certificate,
        ess_cert_id_alg: str,
    ) -> None:
        """Tokens OpenSSL's TSA issues (encoded by another implementation, the signer
        named by ESSCertIDv2 with SHA-256 or SHA-512, or by the SHA-1 ESSCertID) verify:
        the signature is checked over the signed attributes as received."""
        key_pem = tsa_key.private_bytes(
            Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (files / "tsa.key").write_bytes(key_pem)
        (files / "serial").write_text("01\n")
        (files / "ts.cnf").write_text(
            "[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\n"
            f"serial = {files / 'serial'}\nsigner_cert = {files / 'tsa.pem'}\n"
            f"signer_key = {files / 'tsa.key'}\nsigner_digest = sha256\n"
            f"default_policy = {POLICY}\ndigests = sha256\naccuracy = secs:1\n"
            f"tsa_name = yes\ness_cert_id_alg = {ess_cert_id_alg}\n"
        )
        (files / "req.tsq").write_bytes(make_request(DIGEST, nonce=77, cert_req=True))
        made = self._openssl(
            files, "-reply", "-config", "ts.cnf", "-queryfile", "req.tsq", "-out", "resp.tsr"
        )
        assert made.returncode == 0, made.stderr
        info = verify_response(
            (files / "resp.tsr").read_bytes(),
            digest=DIGEST,
            nonce=77,
            tsa_certificates=[tsa_cert],
            ca_certificates=[ca_cert],
        )
        assert info.policy == POLICY

    def test_reply_text(self, files: Path) -> None:
        """`openssl ts -reply -text` parses the response and shows our policy and nonce."""
        result = self._openssl(files, "-reply", "-in", "resp.tsr", "-text")
        assert result.returncode == 0, result.stderr
        assert "Status: Granted." in result.stdout
        assert f"Policy OID: {POLICY}" in result.stdout
        assert f"Nonce: 0x{31337:X}" in result.stdout

    def test_reply_text_of_rejection(self, files: Path, authority: TimeStampAuthority) -> None:
        """OpenSSL reads our rejections too, with their failure info."""
        (files / "resp.tsr").write_bytes(authority.respond(b"nonsense"))
        result = self._openssl(files, "-reply", "-in", "resp.tsr", "-text")
        assert result.returncode == 0, result.stderr
        assert "Status: Rejected." in result.stdout
        assert "the data submitted has the wrong format" in result.stdout  # badDataFormat
