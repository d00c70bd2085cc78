"""Tests for jisr.crypto.keys: generation, PKCS#8 files, fingerprints, signatures."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

from jisr.crypto.errors import KeyLoadError
from jisr.crypto.keys import (
    PrivateKey,
    generate_private_key,
    jws_algorithm,
    load_private_key,
    load_private_key_pem,
    private_key_to_pem,
    public_key_fingerprint,
    save_private_key,
    sign,
    verify,
)

PASSPHRASE = b"correct horse battery staple"


def _spki(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TestGeneratePrivateKey:
    def test_default_is_p256(self) -> None:
        """Without arguments an ECDSA key on P-256 is generated."""
        key = generate_private_key()
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.curve.name == "secp256r1"

    def test_ed25519(self) -> None:
        """kind="ed25519" yields an Ed25519 key."""
        assert isinstance(generate_private_key("ed25519"), ed25519.Ed25519PrivateKey)

    def test_unknown_kind_is_refused(self) -> None:
        """Any other kind is a ValueError, not a silent default."""
        with pytest.raises(ValueError, match="unknown key kind"):
            generate_private_key("rsa")  # type: ignore[arg-type]

    def test_keys_are_fresh(self) -> None:
        """Two calls never return the same key."""
        assert _spki(generate_private_key()) != _spki(generate_private_key())


class TestPrivateKeyPem:
    def test_clear_pem_is_pkcs8(self) -> None:
        """Without a passphrase the key is an unencrypted PKCS#8 PEM."""
        pem = private_key_to_pem(generate_private_key(), None)
        assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")

    def test_encrypted_pem_is_pkcs8(self) -> None:
        """With a passphrase the key is an encrypted PKCS#8 PEM."""
        pem = private_key_to_pem(generate_private_key(), PASSPHRASE)
        assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")

    def test_garbage_is_malformed(self) -> None:
        """Bytes that are no PEM key raise KeyLoadError reason malformed."""
        with pytest.raises(KeyLoadError) as caught:
            load_private_key_pem(b"not a key", None)
        assert caught.value.reason == "malformed"

    def test_unsupported_key_type(self) -> None:
        """A valid PEM key of a type Jisr does not sign with (X25519) is refused."""
        pem = x25519.X25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with pytest.raises(KeyLoadError) as caught:
            load_private_key_pem(pem, None)
        assert caught.value.reason == "unsupported_key_type"

    def test_rsa_and_p384_keys_load(self, rsa_key: rsa.RSAPrivateKey) -> None:
        """Keys made elsewhere (RSA, P-384) load as they are."""
        p384 = ec.generate_private_key(ec.SECP384R1())
        for key in (rsa_key, p384):
            assert _spki(load_private_key_pem(private_key_to_pem(key, None), None)) == _spki(key)


class TestSaveLoadPrivateKey:
    @pytest.mark.parametrize("kind", ["p256", "ed25519"])
    @pytest.mark.parametrize("passphrase", [None, PASSPHRASE])
    def test_round_trip(self, tmp_path: Path, kind: str, passphrase: bytes | None) -> None:
        """A saved key loads back as the same key, encrypted or not."""
        key = generate_private_key(kind)  # type: ignore[arg-type]
        path = tmp_path / "gateway.key"
        save_private_key(key, path, passphrase)
        assert _spki(load_private_key(path, passphrase)) == _spki(key)

    def test_encrypted_file_does_not_hold_clear_key(self, tmp_path: Path) -> None:
        """With a passphrase the file holds only the encrypted form."""
        path = tmp_path / "ca.key"
        save_private_key(generate_private_key(), path, PASSPHRASE)
        content = path.read_bytes()
        assert b"ENCRYPTED PRIVATE KEY" in content
        assert b"BEGIN PRIVATE KEY" not in content

    def test_file_mode_is_0600(self, tmp_path: Path) -> None:
        """The key file is readable and writable by its owner only."""
        path = tmp_path / "tsa.key"
        save_private_key(generate_private_key(), path, None)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_replaces_existing_file_without_leftovers(self, tmp_path: Path) -> None:
        """Saving over a key replaces it, leaving no temporary file behind."""
        path = tmp_path / "gw.key"
        save_private_key(generate_private_key(), path, None)
        second = generate_private_key()
        save_private_key(second, path, None)
        assert _spki(load_private_key(path, None)) == _spki(second)
        assert [p.name for p in tmp_path.iterdir()] == ["gw.key"]

    def test_wrong_passphrase(self, tmp_path: Path) -> None:
        """A wrong passphrase raises KeyLoadError reason wrong_passphrase."""
        path = tmp_path / "ca.key"
        save_private_key(generate_private_key(), path, PASSPHRASE)
        with pytest.raises(KeyLoadError, match="wrong passphrase") as caught:
            load_private_key(path, b"guess")
        assert caught.value.reason == "wrong_passphrase"

    def test_missing_passphrase(self, tmp_path: Path) -> None:
        """An encrypted key read without passphrase says one is required."""
        path = tmp_path / "ca.key"
        save_private_key(generate_private_key(), path, PASSPHRASE)
        with pytest.raises(KeyLoadError, match="passphrase is required") as caught:
            load_private_key(path, None)
        assert caught.value.reason == "passphrase_required"

    def test_passphrase_for_clear_key(self, tmp_path: Path) -> None:
        """A passphrase given for a clear-text key is reported, not ignored."""
        path = tmp_path / "gw.key"
        save_private_key(generate_private_key(), path, None)
        with pytest.raises(KeyLoadError) as caught:
            load_private_key(path, PASSPHRASE)
        assert caught.value.reason == "not_encrypted"

    def test_missing_file_is_an_os_error(self, tmp_path: Path) -> None:
        """A missing file is an I/O problem (FileNotFoundError), not a key problem."""
        with pytest.raises(FileNotFoundError):
            load_private_key(tmp_path / "absent.key", None)


class TestPublicKeyFingerprint:
    def test_is_sha256_of_spki(self) -> None:
        """The fingerprint is the lowercase hex SHA-256 of the SubjectPublicKeyInfo DER."""
        key = generate_private_key()
        assert public_key_fingerprint(key.public_key()) == hashlib.sha256(_spki(key)).hexdigest()

    def test_stable_across_storage(self, tmp_path: Path) -> None:
        """Saving and reloading a key does not change its fingerprint."""
        key = generate_private_key("ed25519")
        save_private_key(key, tmp_path / "k", PASSPHRASE)
        reloaded = load_private_key(tmp_path / "k", PASSPHRASE)
        assert public_key_fingerprint(reloaded.public_key()) == public_key_fingerprint(
            key.public_key()
        )

    def test_differs_between_keys(self) -> None:
        """Different keys have different fingerprints."""
        first, second = generate_private_key(), generate_private_key()
        assert public_key_fingerprint(first.public_key()) != public_key_fingerprint(
            second.public_key()
        )


class TestJwsAlgorithm:
    def test_names(self, rsa_key: rsa.RSAPrivateKey) -> None:
        """Each key type maps to its JWS alg, for private and public keys alike."""
        cases = {
            "ES256": generate_private_key("p256"),
            "ES384": ec.generate_private_key(ec.SECP384R1()),
            "EdDSA": generate_private_key("ed25519"),
            "RS256": rsa_key,
        }
        for alg, key in cases.items():
            assert jws_algorithm(key) == alg
            assert jws_algorithm(key.public_key()) == alg

    def test_unsupported_curve(self) -> None:
        """A curve without a JWS name here (P-521) is a ValueError."""
        with pytest.raises(ValueError, match="secp521r1"):
            jws_algorithm(ec.generate_private_key(ec.SECP521R1()))


class TestSignVerify:
    @pytest.fixture(params=["p256", "p384", "ed25519", "rsa"])
    def key(self, request: pytest.FixtureRequest, rsa_key: rsa.RSAPrivateKey) -> PrivateKey:
        if request.param == "rsa":
            return rsa_key
        if request.param == "p384":
            return ec.generate_private_key(ec.SECP384R1())
        return generate_private_key(request.param)

    def test_signature_verifies(self, key: PrivateKey) -> None:
        """A signature made with the key verifies with its public key."""
        assert verify(key.public_key(), sign(key, b"message"), b"message")

    def test_other_data_fails(self, key: PrivateKey) -> None:
        """The signature does not verify over different data."""
        assert not verify(key.public_key(), sign(key, b"message"), b"massage")

    def test_other_key_fails(self, key: PrivateKey) -> None:
        """The signature does not verify under another key."""
        other = generate_private_key(
            "ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "p256"
        )
        assert not verify(other.public_key(), sign(key, b"m"), b"m")

    def test_p256_signature_is_ecdsa_sha256_der(self) -> None:
        """P-256 signatures are DER ECDSA over SHA-256, checkable with cryptography directly."""
        key = generate_private_key("p256")
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        key.public_key().verify(sign(key, b"data"), b"data", ec.ECDSA(hashes.SHA256()))
