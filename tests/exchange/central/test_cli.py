"""The operator CLI: `jisr central ...` on a real data directory (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jisr.cli import app
from jisr.crypto.keys import generate_private_key
from jisr.crypto.x509 import create_csr, csr_to_pem, load_certificate, verify_chain
from jisr.exchange.globalconf import Anchor

runner = CliRunner()


@pytest.fixture
def central(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `jisr central ...` against a fresh data directory and database."""
    monkeypatch.setenv("JISR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JISR_INSTANCE", "MA")
    monkeypatch.setenv("JISR_DATABASE_URL", database_url)
    monkeypatch.setenv("JISR_KEY_PASSPHRASE", "correct horse")

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, ["central", *args])
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code != 0, result.output
        return result.output

    invoke("init")
    return invoke


class TestOperatorWorkflow:
    def test_init_is_idempotent(self, central) -> None:  # type: ignore[no-untyped-def]
        """A second init migrates nothing new and keeps the CA."""
        assert "CA kept" in central("init")

    def test_member_gateway_csr_approve(self, central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """Operators register a member and gateway, then approve the gateway's CSR."""
        central("member-class", "add", "GOV")
        central(
            "member",
            "add",
            "GOV",
            "INTERIOR",
            "--name-ar",
            "وزارة الداخلية",
            "--name-fr",
            "Intérieur",
        )
        central("subsystem", "add", "GOV", "INTERIOR", "RESIDENCE")
        central("gateway", "add", "GOV", "INTERIOR", "GW1", "--address", "gw1.interior.gov.ma:8443")
        central("gateway", "host", "GOV", "INTERIOR", "GW1", "MA/GOV/INTERIOR/RESIDENCE")
        csr = tmp_path / "gw1.csr"
        csr.write_bytes(csr_to_pem(create_csr(generate_private_key(), "MA/GOV/INTERIOR/GW1")))
        assert "pending" in central(
            "csr", "submit", "--kind", "auth", "--subject", "MA/GOV/INTERIOR/GW1", str(csr)
        )
        assert "certificate issued" in central("gateway", "approve", "MA/GOV/INTERIOR/GW1")
        listing = central("gateway", "list")
        assert "gw1.interior.gov.ma:8443" in listing and "RESIDENCE" in listing

    def test_refusals_exit_non_zero_with_the_code(self, central) -> None:  # type: ignore[no-untyped-def]
        """Bad input prints the problem code and field, exits 1, changes nothing."""
        output = central("member", "add", "NOPE", "X", "--name-ar", "س", ok=False)
        assert "unknown_reference" in output and "member_class" in output
        assert "X" not in central("member", "list").split("code")[-1]

    def test_csr_approve_writes_a_certificate_that_chains(self, central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """csr approve --out writes the signing certificate; it chains to ca.cert.pem."""
        central("member-class", "add", "GOV")
        central("member", "add", "GOV", "MOEHE", "--name-ar", "التعليم")
        csr = tmp_path / "sign.csr"
        csr.write_bytes(csr_to_pem(create_csr(generate_private_key("ed25519"), "MA/GOV/MOEHE")))
        central("csr", "submit", "--kind", "sign", "--subject", "MA/GOV/MOEHE", str(csr))
        out = tmp_path / "sign.pem"
        central("csr", "approve", "1", "--out", str(out))
        ca = load_certificate((tmp_path / "data" / "keys" / "ca.cert.pem").read_bytes())
        verify_chain(load_certificate(out.read_bytes()), roots=[ca])

    def test_tokens_and_anchor_and_config(self, central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """token create prints a secret once; anchor exports a valid anchor; config masks."""
        secret = central("token", "create", "ops", "--scope", "registry:read").strip()
        assert secret.startswith("jisr_")
        assert secret not in central("token", "list")
        anchor_file = tmp_path / "MA.anchor.json"
        central("anchor", "--out", str(anchor_file))
        assert Anchor.load(anchor_file).instance == "MA"
        shown = central("config", "show")
        assert "correct horse" not in shown
        assert json.loads(shown)["key_passphrase"] == "**********"

    def test_signing_key_rotation_commands(self, central) -> None:  # type: ignore[no-untyped-def]
        """signing-key add / activate / retire walk a key through its life."""
        import re

        output = central("signing-key", "add")
        kid = re.search(r"signing key ([0-9a-f]{16})", output)
        assert kid is not None
        old = [
            line.split()[1]
            for line in central("signing-key", "list").splitlines()
            if "active" in line
        ]
        central("signing-key", "activate", kid.group(1))
        central("signing-key", "retire", old[0])
        assert "retired" in central("signing-key", "list")

    def test_backup_copies_keys_and_database(self, central, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        """backup writes the key store (and a SQLite snapshot when on SQLite)."""
        central("backup", str(tmp_path / "backup"))
        assert (tmp_path / "backup" / "keys" / "ca.key.pem").exists()
        central("backup", str(tmp_path / "backup"), ok=False)


class TestMirrorsTheApi:
    def test_services_groups_hosting_rename(self, central) -> None:  # type: ignore[no-untyped-def]
        """Services, groups, hosting and renames can be managed without the API."""
        central("member-class", "add", "GOV")
        central("member", "add", "GOV", "CR", "--name-ar", "الحالة المدنية")
        central("subsystem", "add", "GOV", "CR", "REGISTRY")
        central(
            "service",
            "add",
            "MA/GOV/CR/REGISTRY",
            "birth-record",
            "--openapi-url",
            "https://cr.gov.ma/openapi.json",
        )
        assert "birth-record" in central("service", "list", "MA/GOV/CR/REGISTRY")
        central("service", "delete", "MA/GOV/CR/REGISTRY", "birth-record")
        assert "birth-record" not in central("service", "list", "MA/GOV/CR/REGISTRY")
        central("group", "add", "owners")
        central("group", "add-member", "owners", "MA/GOV/CR")
        assert "MA/GOV/CR" in central("group", "list")
        central("group", "remove-member", "owners", "MA/GOV/CR")
        central("group", "delete", "owners")
        central("gateway", "add", "GOV", "CR", "GW1", "--address", "gw1.cr.gov.ma")
        central("gateway", "host", "GOV", "CR", "GW1", "MA/GOV/CR/REGISTRY")
        central("gateway", "unhost", "GOV", "CR", "GW1", "MA/GOV/CR/REGISTRY")
        central("gateway", "move", "GOV", "CR", "GW1", "--address", "gw2.cr.gov.ma:8443")
        assert "gw2.cr.gov.ma:8443" in central("gateway", "list")
        central("member", "rename", "GOV", "CR", "--name-en", "Civil registry")
        assert "Civil registry" in central("member", "list")
        assert "in_use" in central("member-class", "delete", "GOV", ok=False)
