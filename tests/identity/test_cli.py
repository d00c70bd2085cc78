"""``jisr idp``: init, sample generation, bulk import, show and history (SQLite, PostgreSQL)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner, Result

from jisr.cli import app
from jisr.config import IdpSettings, load_settings
from jisr.identity.register.importer import COLUMNS, csv_record
from tests.identity.register.conftest import birth

runner = CliRunner()


@pytest.fixture
def idp(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ``jisr idp`` prefix for a fresh data directory and database."""
    for name in ("JISR_CONFIG", "JISR_KEY_PASSPHRASE", "JISR_DUPLICATES", "JISR_COUNTRY"):
        monkeypatch.delenv(name, raising=False)
    return ["idp", "--data-dir", str(tmp_path / "idp"), "--database-url", database_url]


def run(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def _numbers(output: str) -> list[str]:
    return re.findall(r"\bBK\d{7}\b", output)


class TestInit:
    def test_init_twice_keeps_the_key_and_the_data(self, idp: list[str], tmp_path: Path) -> None:
        """A second init keeps the signing key (same fingerprint) and enrolled persons."""
        first = run(*idp, "init")
        assert first.exit_code == 0, first.output
        assert "signing key created (P-256, unencrypted)" in first.output
        key = tmp_path / "idp" / "keys" / "register.key.pem"
        assert key.stat().st_mode & 0o777 == 0o600
        pem = key.read_bytes()
        run(*idp, "register", "generate", "-n", "3", "--enrol")
        second = run(*idp, "init")
        assert second.exit_code == 0, second.output
        assert "signing key kept" in second.output
        assert key.read_bytes() == pem
        fingerprints = re.findall(r"key fingerprint: ([0-9a-f]{64})", first.output + second.output)
        assert len(set(fingerprints)) == 1
        assert run(*idp, "register", "show", "BK0000014").exit_code == 0

    def test_passphrase_encrypts_the_key_and_is_needed_to_use_it(
        self, idp: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With JISR_KEY_PASSPHRASE the key is stored encrypted; a wrong one is refused."""
        monkeypatch.setenv("JISR_KEY_PASSPHRASE", "correct horse")
        assert "encrypted" in run(*idp, "init").output
        assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "idp/keys/register.key.pem").read_bytes()
        monkeypatch.setenv("JISR_KEY_PASSPHRASE", "wrong")
        refused = run(*idp, "register", "history", "BK0000014")
        assert refused.exit_code == 1
        assert "wrong_passphrase" in refused.output

    def test_commands_before_init_say_so(self, idp: list[str]) -> None:
        result = run(*idp, "register", "show", "BK0000014")
        assert result.exit_code == 1
        assert "jisr idp init" in result.output


class TestRegister:
    def test_generate_import_show_history(self, idp: list[str], tmp_path: Path) -> None:
        """Samples written to JSON Lines import in full; show prints the Hijri date of birth
        and history the verified birth registration."""
        run(*idp, "init")
        samples = tmp_path / "samples.jsonl"
        generated = run(*idp, "register", "generate", "-n", "25", "--seed", "3", "-o", str(samples))
        assert "25 birth registrations written" in generated.output
        first = json.loads(samples.read_text(encoding="utf-8").splitlines()[0])
        imported = run(*idp, "register", "import", str(samples))
        assert imported.exit_code == 0, imported.output
        assert "25 enrolled, 0 rejected" in imported.output
        shown = run(*idp, "register", "show", "BK0000014")
        assert shown.exit_code == 0, shown.output
        assert first["given_name"]["latn"] in shown.output
        assert first["date_of_birth"] in shown.output
        hijri = re.search(r"date of birth \(Hijri\)\s*│\s*(.+?) \((\d+ .+ AH)\)", shown.output)
        assert hijri is not None
        assert hijri[1].endswith(" هـ")
        history = run(*idp, "register", "history", "BK0000014")
        assert "1. birth_registration" in history.output
        assert "bulk import of samples.jsonl" in history.output
        assert "signatures and hash chain verified" in history.output

    def test_show_hijri_date_of_a_known_birth(self, idp: list[str], tmp_path: Path) -> None:
        """17 May 1990 is 22 Shawwal 1410 in the Umm al-Qura calendar."""
        run(*idp, "init")
        path = tmp_path / "one.csv"
        _write_csv(path, csv_record(birth(date_of_birth="1990-05-17")))
        assert run(*idp, "register", "import", str(path)).exit_code == 0
        shown = run(*idp, "register", "show", "BK0000014").output
        assert "٢٢ شوال ١٤١٠ هـ (22 Shawwal 1410 AH)" in shown

    def test_import_rejections_exit_1_and_fill_the_report(
        self, idp: list[str], tmp_path: Path
    ) -> None:
        """all-or-nothing writes nothing when a row is bad; per-row enrols the good rows;
        both write row, field, rule and reason to --report and exit with 1."""
        run(*idp, "init")
        good = csv_record(birth(date_of_birth="1990-05-17"))
        bad = {**good, "date_of_birth": "17/05/1990", "given_name_latn": "أحمد"}
        path = tmp_path / "births.csv"
        _write_csv(path, good, bad)
        report = tmp_path / "report.csv"
        strict = run(*idp, "register", "import", str(path), "--report", str(report))
        assert strict.exit_code == 1
        assert "nothing was written" in strict.output
        rows = list(csv.DictReader(report.open(encoding="utf-8")))
        assert [(r["row"], r["field"], r["rule"]) for r in rows] == [
            ("3", "date_of_birth", "date"),
            ("3", "given_name_latn", "script"),
        ]
        assert run(*idp, "register", "show", "BK0000014").exit_code == 1
        lenient = run(*idp, "register", "import", str(path), "--mode", "per-row")
        assert lenient.exit_code == 1
        assert "1 enrolled, 1 rejected" in lenient.output
        assert run(*idp, "register", "show", "BK0000014").exit_code == 0

    def test_import_refuses_a_file_without_the_required_columns(
        self, idp: list[str], tmp_path: Path
    ) -> None:
        run(*idp, "init")
        path = tmp_path / "x.csv"
        path.write_text("given_name_arab,given_name_latn\nأحمد,Ahmed\n", encoding="utf-8")
        result = run(*idp, "register", "import", str(path))
        assert result.exit_code == 2
        assert "missing column(s)" in result.output

    def test_generate_enrol_reports_the_rate(self, idp: list[str]) -> None:
        """--enrol enrols the samples and prints how many persons per second."""
        run(*idp, "init")
        result = run(*idp, "register", "generate", "-n", "30", "--enrol", "--concurrency", "3")
        assert result.exit_code == 0, result.output
        assert re.search(r"enrolled 30 of 30 persons in [\d.]+ s \(\d+ persons/s\)", result.output)

    def test_generate_needs_exactly_one_destination(self, idp: list[str]) -> None:
        result = run(*idp, "register", "generate", "-n", "3")
        assert result.exit_code == 2

    def test_unknown_number_exits_1(self, idp: list[str]) -> None:
        run(*idp, "init")
        result = run(*idp, "register", "history", "BK0000014")
        assert result.exit_code == 1
        assert "unknown_person" in result.output


def _write_csv(path: Path, *records: dict[str, str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(records)


class TestSettings:
    def test_defaults_and_masked_passphrase(self, tmp_path: Path) -> None:
        """The database defaults to idp.db in the data directory; the passphrase prints masked."""
        settings = load_settings(IdpSettings, data_dir=tmp_path, key_passphrase="s3cret")
        shown = settings.masked()
        assert shown["key_passphrase"] == "**********"
        assert shown["database_url"] == f"sqlite+aiosqlite:///{(tmp_path / 'idp.db').resolve()}"
        defaults = (settings.country, settings.duplicates, settings.nin_office)
        assert defaults == ("MA", "refuse", "BK")
        assert settings.issuer_url() == "http://127.0.0.1:8002"

    @pytest.mark.parametrize(
        "bad", [{"country": "FR"}, {"nin_office": "bk"}, {"duplicates": "merge"}]
    )
    def test_bad_values_are_refused(self, bad: dict[str, str]) -> None:
        with pytest.raises(ValidationError):
            load_settings(IdpSettings, **bad)

    def test_bad_setting_on_the_command_line_exits_2(self, tmp_path: Path) -> None:
        result = run("idp", "--data-dir", str(tmp_path), "--country", "FR", "init")
        assert result.exit_code == 2
        assert "invalid settings" in result.output
