"""``jisr idp``: init, sample generation, bulk import, show and history (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner, Result

from jisr.cli import app
from jisr.config import IdpSettings, load_settings
from jisr.crypto.keys import generate_private_key as register_key
from jisr.identity.cli import enrol_rows
from jisr.identity.register import MoroccoNin, PopulationRegister, migrate
from jisr.identity.register.importer import COLUMNS, Row, csv_record
from jisr.storage import Database
from tests.identity.register.conftest import birth

runner = CliRunner()


@pytest.fixture
def idp(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ``jisr idp`` prefix for a fresh data directory and database."""
    for name in (
        "JISR_CONFIG",
        "JISR_KEY_PASSPHRASE",
        "JISR_KEY_PASSPHRASE_FILE",
        "JISR_SUBJECT_SECRET",
        "JISR_CSRF_SECRET",
        "JISR_DUPLICATES",
        "JISR_COUNTRY",
        "JISR_ISSUER",
    ):
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
        assert "signing key created (P-256, encrypted)" in first.output
        key = tmp_path / "idp" / "keys" / "register.key.pem"
        assert key.stat().st_mode & 0o777 == 0o600
        pem = key.read_bytes()
        generated = {
            name: (tmp_path / "idp" / "secrets" / name).read_bytes()
            for name in ("key_passphrase", "subject_secret", "csrf_secret")
        }
        run(*idp, "register", "generate", "-n", "3", "--enrol")
        second = run(*idp, "init")
        assert second.exit_code == 0, second.output
        assert "signing key kept" in second.output
        assert key.read_bytes() == pem
        for name, value in generated.items():
            secret = tmp_path / "idp" / "secrets" / name
            assert secret.read_bytes() == value, f"init replaced {name}"
            assert secret.stat().st_mode & 0o777 == 0o600
            assert len(value.strip()) >= 32
        assert "generated" not in second.output
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
        result = run(*idp, "register", "generate", "-n", "30", "--enrol", "--batch", "7")
        assert result.exit_code == 0, result.output
        assert re.search(r"enrolled 30 of 30 persons in [\d.]+ s \(\d+ persons/s\)", result.output)

    async def test_batches_enrol_around_refused_rows(self, database_url: str) -> None:
        """Batches of 3: a row refused (duplicate within its batch, invalid date, duplicate
        of a row enrolled earlier in the call) is reported by its line and the rest of its
        batch is still enrolled; progress counts every row once."""
        await asyncio.to_thread(migrate, database_url)
        database = Database(database_url)
        register = PopulationRegister(database, profile=MoroccoNin("BK"), key=register_key())
        karim = {"arab": "كريم", "latn": "Karim"}
        births = [
            birth(),
            birth(given_name={"arab": "يوسف", "latn": "Youssef"}),
            birth(),
            birth(date_of_birth="17/05/1990"),
            birth(given_name=karim),
            birth(given_name=karim),
        ]
        rows = [Row(line, data) for line, data in enumerate(births, start=1)]
        done: list[int] = []
        try:
            result = await enrol_rows(
                register,
                rows,
                batch=3,
                advance=lambda _, count: done.append(count),
                legal_basis="test",
            )
        finally:
            await database.close()
        assert [line for line, _ in result.enrolled] == [1, 2, 5]
        assert sorted({r.row: r.rule for r in result.rejected}.items()) == [
            (3, "duplicate_person"),
            (4, "date"),
            (6, "duplicate_person"),
        ]
        assert result.rows == 6 and sum(done) == 6

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


# ------------------------------------------------------------------ provider operations
PASSWORD = "a long passphrase 4 the test"


def _client_id(output: str) -> str:
    found = re.search(r"client_id: (\S+)", output)
    assert found, output
    return found.group(1)


async def _activate(database_url: str, nin: str, code: str) -> str:
    from jisr.identity.authn import Accounts
    from jisr.storage import Database

    database = Database(database_url)
    try:
        account = await Accounts(database).activate(nin, code, PASSWORD, address="127.0.0.1")
        return account.status
    finally:
        await database.close()


class TestInitProvider:
    def test_configured_secrets_are_not_generated_and_show_masked(
        self, idp: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("JISR_SUBJECT_SECRET", "s" * 40)
        monkeypatch.setenv("JISR_KEY_PASSPHRASE", "correct horse")
        result = run(*idp, "init")
        assert result.exit_code == 0, result.output
        secrets = tmp_path / "idp" / "secrets"
        assert sorted(path.name for path in secrets.iterdir()) == ["csrf_secret"]
        shown = json.loads(run(*idp, "config", "show").output)
        assert shown["subject_secret"] == "**********"
        assert shown["key_passphrase"] == "**********"
        assert "s" * 40 not in run(*idp, "config", "show").output

    def test_short_configured_secret_is_refused_by_commands_that_need_it(
        self, idp: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("JISR_CSRF_SECRET", "short")
        assert run(*idp, "init").exit_code == 1


class TestClients:
    def test_add_prints_the_secret_once_and_list_shows_no_secret(self, idp: list[str]) -> None:
        run(*idp, "init")
        added = run(*idp, "client", "add", "--name", "Tax office batch")
        assert added.exit_code == 0, added.output
        secret = re.search(r"client_secret: (\S+)", added.output)
        assert secret
        assert "grant types: client_credentials" in added.output
        listed = run(*idp, "client", "list")
        assert _client_id(added.output) in listed.output
        assert secret.group(1) not in listed.output

    def test_code_flow_client_with_options(self, idp: list[str]) -> None:
        run(*idp, "init")
        added = run(
            *idp,
            "client",
            "add",
            "--name",
            "Portal",
            "--redirect-uri",
            "https://portal.example/cb",
            "--redirect-uri",
            "https://portal.example/cb2",
            "--auth-method",
            "client_secret_post",
            "--id-token-alg",
            "RS256",
            "--subject-type",
            "public",
        )
        assert added.exit_code == 0, added.output
        assert "authorization_code client_credentials refresh_token" in added.output
        [client] = json.loads(run(*idp, "client", "list", "--json").output)
        assert client["client_id"] == _client_id(added.output)
        assert client["token_endpoint_auth_method"] == "client_secret_post"
        assert client["redirect_uris"] == [
            "https://portal.example/cb",
            "https://portal.example/cb2",
        ]
        assert client["id_token_signed_response_alg"] == "RS256"
        assert client["subject_type"] == "public"
        assert set(client["scope"].split()) == {"openid", "profile", "address", "national_id"}

    def test_public_client_has_no_secret(self, idp: list[str]) -> None:
        run(*idp, "init")
        added = run(
            *idp,
            "client",
            "add",
            "--name",
            "App",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1:7000/cb",
        )
        assert added.exit_code == 0, added.output
        assert "client_secret" not in added.output
        assert "grant types: authorization_code refresh_token" in added.output

    @pytest.mark.parametrize(
        ("extra", "says"),
        [
            (["--redirect-uri", "http://portal.example/cb"], "https_required"),
            (["--public"], "needs --redirect-uri"),
            (["--public", "--auth-method", "client_secret_basic"], "--public"),
            (["--auth-method", "private_key_jwt"], "required"),
        ],
    )
    def test_invalid_clients_exit_2(self, idp: list[str], extra: list[str], says: str) -> None:
        run(*idp, "init")
        result = run(*idp, "client", "add", "--name", "Bad", *extra)
        assert result.exit_code == 2, result.output
        assert says in result.output


class TestUsers:
    def test_activation_code_is_accepted_by_authn(self, idp: list[str], database_url: str) -> None:
        import asyncio

        run(*idp, "init")
        run(*idp, "register", "generate", "-n", "2", "--enrol")
        first = run(*idp, "user", "activate", "BK0000014")
        assert first.exit_code == 0, first.output
        issued = run(*idp, "user", "activate", "BK0000014")
        found = re.search(r"activation code for BK0000014: (\S+)", issued.output)
        assert found, issued.output
        code = found.group(1)
        assert asyncio.run(_activate(database_url, "BK0000014", code)) == "active"
        again = run(*idp, "user", "activate", "BK0000014")
        assert again.exit_code == 1
        assert "already active" in again.output
        unlocked = run(*idp, "user", "unlock", "BK0000014")
        assert unlocked.exit_code == 0, unlocked.output
        assert "status active" in unlocked.output

    def test_an_earlier_code_is_void(self, idp: list[str], database_url: str) -> None:
        import asyncio

        from jisr.identity.authn import ActivationInvalid

        run(*idp, "init")
        run(*idp, "register", "generate", "-n", "1", "--enrol")
        old = re.findall(r": (\S+)\n", run(*idp, "user", "activate", "BK0000014").output)[0]
        run(*idp, "user", "activate", "BK0000014")
        with pytest.raises(ActivationInvalid):
            asyncio.run(_activate(database_url, "BK0000014", old))

    def test_unknown_nin_is_refused(self, idp: list[str]) -> None:
        run(*idp, "init")
        result = run(*idp, "user", "activate", "BK0000014")
        assert result.exit_code == 1
        assert "unknown_person" in result.output
        assert run(*idp, "user", "unlock", "BK0000014").exit_code == 1


class TestKeysAndTokens:
    def test_rotate_publishes_next_keys_once(self, idp: list[str]) -> None:
        run(*idp, "init")
        rotated = run(*idp, "keys", "rotate")
        assert rotated.exit_code == 0, rotated.output
        assert "ES256: next key" in rotated.output
        assert "RS256: next key" in rotated.output
        again = run(*idp, "keys", "rotate", "--alg", "ES256")
        assert again.exit_code == 1
        assert "already published" in again.output

    def test_token_create_prints_a_token_once_per_name(self, idp: list[str]) -> None:
        run(*idp, "init")
        created = run(*idp, "token", "create", "ops", "-s", "admin")
        assert created.exit_code == 0, created.output
        assert created.output.startswith("jisr_")
        duplicate = run(*idp, "token", "create", "ops", "-s", "clients:read")
        assert duplicate.exit_code == 1
        assert "already_exists" in duplicate.output
