"""The central's RFC 3161 time-stamp authority over HTTP, checked by OpenSSL."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import httpx
import pytest

from jisr.crypto.tsp import make_request, verify_response
from jisr.crypto.x509 import certificate_to_pem
from jisr.exchange.central.keystore import KeyStore
from tests.exchange.central.conftest import Running

pytestmark = pytest.mark.slow


def stamp(running: Running, query: bytes) -> bytes:
    response = httpx.post(
        f"{running.url}/tsa",
        content=query,
        headers={"Content-Type": "application/timestamp-query"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/timestamp-reply"
    return response.content


class TestTimeStampAuthority:
    def test_token_verifies_with_openssl(self, running_central: Running, tmp_path: Path) -> None:
        """A token for an OpenSSL-made query verifies with `openssl ts -verify` against the
        instance CA — the check an auditor runs on message-log evidence."""
        data = tmp_path / "data.bin"
        data.write_bytes("رسالة — message log record".encode())
        query = tmp_path / "request.tsq"
        subprocess.run(
            ["openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", query],
            check=True,
            capture_output=True,
        )
        reply = tmp_path / "reply.tsr"
        reply.write_bytes(stamp(running_central, query.read_bytes()))
        keystore = KeyStore(running_central.settings.data_dir / "keys", None)
        ca = tmp_path / "ca.pem"
        ca.write_bytes(certificate_to_pem(keystore.ca_certificate()))
        result = subprocess.run(
            ["openssl", "ts", "-verify", "-data", data, "-in", reply, "-CAfile", ca],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        assert "Verification: OK" in result.stdout

    def test_token_verifies_in_python_with_nonce(self, running_central: Running) -> None:
        """Our own verifier accepts the reply and checks the echoed nonce and digest."""
        digest = hashlib.sha512(b"record").digest()
        reply = stamp(running_central, make_request(digest, hash_algorithm="sha512", nonce=42))
        settings = running_central.settings
        keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
        tsa_certificate = keystore.tsa()[1]
        info = verify_response(
            reply,
            digest=digest,
            hash_algorithm="sha512",
            nonce=42,
            tsa_certificates=[tsa_certificate],
            ca_certificates=[keystore.ca_certificate()],
        )
        assert info.nonce == 42 and info.policy == running_central.settings.tsa_policy_oid

    def test_sha1_query_is_rejected_by_status(
        self, running_central: Running, tmp_path: Path
    ) -> None:
        """A SHA-1 query gets an RFC 3161 rejection (badAlg), readable by OpenSSL."""
        reply = tmp_path / "reply.tsr"
        reply.write_bytes(stamp(running_central, make_request(b"\x00" * 20, hash_algorithm="sha1")))
        result = subprocess.run(
            ["openssl", "ts", "-reply", "-in", reply, "-text"], capture_output=True, text=True
        )
        assert "Status: Rejected" in result.stdout
        assert (
            "unrecognized or unsupported algorithm" in result.stdout.lower()
            or "bad" in result.stdout.lower()
        )
