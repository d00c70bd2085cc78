"""Settings: TOML file, JISR_* environment, explicit options, masking."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from jisr.config import CentralSettings, load_settings


class TestSources:
    def test_precedence_option_over_env_over_toml(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Options beat JISR_* variables, which beat the TOML file, which beats defaults."""
        toml = tmp_path / "central.toml"
        toml.write_text('instance = "QA"\nport = 9001\nglobalconf_validity = 900\n')
        monkeypatch.setenv("JISR_PORT", "9002")
        settings = load_settings(CentralSettings, toml, host="0.0.0.0")
        assert (settings.instance, settings.port, settings.globalconf_validity) == ("QA", 9002, 900)
        assert settings.host == "0.0.0.0"
        assert load_settings(CentralSettings, toml, port=9003).port == 9003

    def test_config_file_from_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """JISR_CONFIG names the TOML file when no --config is given."""
        toml = tmp_path / "c.toml"
        toml.write_text('instance = "MA"\n')
        monkeypatch.setenv("JISR_CONFIG", str(toml))
        assert load_settings(CentralSettings).instance == "MA"

    def test_unknown_keys_and_bad_values_are_refused(self, tmp_path: Path) -> None:
        """A typo in the TOML file or an invalid instance code is an error, not ignored."""
        toml = tmp_path / "c.toml"
        toml.write_text('instanse = "MA"\n')
        with pytest.raises(ValidationError):
            load_settings(CentralSettings, toml)
        with pytest.raises(ValidationError, match="instance"):
            CentralSettings(instance="M A")


class TestSecrets:
    def test_masked_hides_passphrase_and_database_password(self) -> None:
        """config show never prints the key passphrase nor the database password."""
        settings = CentralSettings(
            key_passphrase="s3cret",  # type: ignore[arg-type]
            database_url="postgresql://jisr:hunter2@db.example/jisr",
        )
        shown = settings.masked()
        assert "s3cret" not in str(shown) and "hunter2" not in str(shown)
        assert shown["database_url"] == "postgresql://jisr:****@db.example/jisr"

    def test_passphrase_file_wins(self, tmp_path: Path) -> None:
        """A passphrase file's first line is the passphrase."""
        secret = tmp_path / "pass"
        secret.write_text("from-file\nignored\n")
        settings = CentralSettings(key_passphrase="inline", key_passphrase_file=secret)  # type: ignore[arg-type]
        assert settings.passphrase() == b"from-file"
