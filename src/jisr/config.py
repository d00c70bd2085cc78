"""Settings: one pydantic-settings object per process.

Sources, highest priority first: explicit keyword arguments (the CLI's options), ``JISR_*``
environment variables, the TOML file named by ``JISR_CONFIG`` (or ``--config``), then the
defaults below. Secrets are :class:`pydantic.SecretStr` and print masked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from jisr.ids import GatewayId, validate_part

__all__ = [
    "CentralSettings",
    "CommonSettings",
    "GatewaySettings",
    "IdpSettings",
    "load_settings",
]

CONFIG_ENV = "JISR_CONFIG"


class CommonSettings(BaseSettings):
    """What every Jisr process has: where it keeps its state and how it logs."""

    model_config = SettingsConfigDict(env_prefix="JISR_", extra="forbid", frozen=True)
    toml_file: ClassVar[Path | None] = None

    data_dir: Path = Field(Path("var"), description="Directory for keys, the SQLite file, caches.")
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL; default: SQLite file in data_dir."
    )
    key_passphrase: SecretStr | None = Field(
        None, description="Passphrase encrypting private keys at rest (PKCS#8)."
    )
    key_passphrase_file: Path | None = Field(
        None, description="File whose first line is the key passphrase (wins over key_passphrase)."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = cls.toml_file or _env_path(CONFIG_ENV)
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / self.database_file).resolve()}"

    database_file: ClassVar[str] = "jisr.db"

    def passphrase(self) -> bytes | None:
        """The key passphrase, from the file if one is named, else from the setting."""
        if self.key_passphrase_file is not None:
            lines = self.key_passphrase_file.read_text(encoding="utf-8").splitlines()
            return lines[0].encode() if lines and lines[0] else None
        if self.key_passphrase is not None:
            return self.key_passphrase.get_secret_value().encode()
        return None

    def masked(self) -> dict[str, Any]:
        """Effective settings for display: secrets and URL passwords masked."""
        shown = self.model_dump(mode="json")
        for name, value in shown.items():
            if isinstance(getattr(self, name), SecretStr) and value is not None:
                shown[name] = "**********"
        shown["database_url"] = _mask_url(self.effective_database_url())
        return shown


class CentralSettings(CommonSettings):
    """Settings of ``jisr central``: one country's exchange registry, CA and TSA."""

    database_file: ClassVar[str] = "central.db"

    instance: str = Field("DEV", description="X-Road instance identifier, e.g. MA or QA.")
    public_url: str | None = Field(
        None, description="Base URL gateways use to reach this central (default http://host:port)."
    )
    port: int = Field(8001, ge=0, le=65535)
    organization: str = Field("Jisr", description="Organisation name put in the CA subject.")
    globalconf_validity: int = Field(600, ge=60, description="Seconds a configuration is valid.")
    globalconf_refresh: int = Field(
        60, ge=1, description="Seconds between regenerations and client polls."
    )
    auth_certificate_days: int = Field(730, ge=1)
    sign_certificate_days: int = Field(730, ge=1)
    ca_days: int = Field(7300, ge=365)
    tsa_policy_oid: str = Field(
        "2.25.94717734412343911622395163283497212637",
        description="TSA policy OID (a UUID-derived OID under 2.25, ITU-T X.667).",
    )
    max_body_bytes: int = Field(1 << 20, ge=1024, description="Largest accepted request body.")

    @field_validator("instance")
    @classmethod
    def _instance_is_identifier(cls, value: str) -> str:
        return validate_part(value, "instance")

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


S = TypeVar("S", bound=CommonSettings)


def load_settings(cls: type[S], toml_file: Path | None = None, **overrides: Any) -> S:
    """Build a settings object; ``overrides`` are the CLI's explicit options (None = unset)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    previous = cls.toml_file
    cls.toml_file = toml_file
    try:
        return cls(**given)
    finally:
        cls.toml_file = previous


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:****@{host}"


class GatewaySettings(CommonSettings):
    """Settings of ``jisr gateway``: one administration's gateway (X-Road security server)."""

    database_file: ClassVar[str] = "gateway.db"

    gateway: str = Field(
        "DEV/GOV/EXAMPLE/GW1", description="This gateway's id INSTANCE/CLASS/MEMBER/GATEWAY."
    )
    anchor_file: Path | None = Field(
        None, description="Own instance's anchor (default <data_dir>/anchor.json)."
    )
    central_url: str | None = Field(None, description="Central base URL (CSR submission).")
    port: int = Field(8080, ge=0, le=65535, description="Consumer face for information systems.")
    tls_port: int | None = Field(
        None, ge=0, le=65535, description="Consumer face over TLS (IS modes tls and mtls)."
    )
    peer_host: str = Field("127.0.0.1", description="Provider face bind address (mutual TLS).")
    peer_port: int = Field(5500, ge=0, le=65535, description="Provider face for other gateways.")
    admin_port: int = Field(8081, ge=0, le=65535, description="Admin API.")
    replay_window: int = Field(300, ge=5, description="Seconds a signed message is acceptable.")
    request_timeout: float = Field(30.0, gt=0, description="Default backend/peer timeout (s).")
    connect_timeout: float = Field(5.0, gt=0)
    max_body_bytes: int = Field(1 << 30, ge=1024, description="Largest message body.")
    spool_memory_bytes: int = Field(
        1 << 20, ge=0, description="Bodies larger than this are spooled to disk, never held."
    )
    log_bodies: bool = Field(True, description="Store message bodies in the message log.")
    log_body_max_bytes: int = Field(1 << 20, ge=0, description="Bodies above are logged as digest.")
    sth_interval: float = Field(1.0, gt=0, description="Seconds between signed tree heads.")
    sth_max_records: int = Field(10_000, ge=1)
    timestamp_failure_limit: float = Field(
        60.0, gt=0, description="Seconds of TSA failure after which traffic is refused."
    )
    maintenance: bool = Field(False, description="Refuse traffic with MaintenanceMode.")

    @field_validator("gateway")
    @classmethod
    def _gateway_is_identifier(cls, value: str) -> str:
        GatewayId.parse(value, encoded=False)
        return value

    def anchor_path(self) -> Path:
        return self.anchor_file or self.data_dir / "anchor.json"


class IdpSettings(CommonSettings):
    """Settings of ``jisr idp``: one country's identity provider and population register."""

    database_file: ClassVar[str] = "idp.db"

    country: Literal["MA", "QA"] = Field("MA", description="Whose register: NIN profile, names.")
    instance: str = Field("DEV", description="X-Road instance identifier, e.g. MA or QA.")
    port: int = Field(8002, ge=0, le=65535)
    issuer: str | None = Field(
        None, description="OpenID Connect issuer URL (default http://host:port)."
    )
    nin_office: str = Field(
        "BK", pattern=r"^[A-Z]{2}$", description="Issuing office of Moroccan numbers (MA only)."
    )
    duplicates: Literal["refuse", "flag"] = Field(
        "refuse", description="Enrolment of a possible duplicate: refuse it, or enrol and flag."
    )
    require_pushed_authorization_requests: bool = Field(
        False, description="Every client must push its authorization requests (RFC 9126 §5)."
    )
    dpop_nonce_secret: SecretStr | None = Field(
        None,
        description="With a key of at least 32 bytes, DPoP proofs must carry a server nonce "
        "(RFC 9449 §8); processes sharing it accept each other's nonces.",
    )
    name_matcher: Literal["cross-script", "exact"] = Field(
        "cross-script",
        description="How the duplicate check compares names: across Arabic and Latin scripts "
        "with spelling variants (jisr.language.names), or equal after normalisation.",
    )
    subject_secret: SecretStr | None = Field(
        None,
        description="HMAC key of subject identifiers, at least 32 bytes "
        "(default: <data_dir>/secrets/subject_secret, made by init). Never change it.",
    )
    csrf_secret: SecretStr | None = Field(
        None,
        description="Key of the login pages' CSRF tokens, at least 32 bytes "
        "(default: <data_dir>/secrets/csrf_secret, made by init).",
    )
    registry_name: str = Field(
        "population", pattern=r"^[a-z][a-z0-9-]{0,62}$", description="GovStack registry name."
    )

    @field_validator("instance")
    @classmethod
    def _instance_is_identifier(cls, value: str) -> str:
        return validate_part(value, "instance")

    def issuer_url(self) -> str:
        return (self.issuer or f"http://{self.host}:{self.port}").rstrip("/")

    def register_key_path(self) -> Path:
        """The register's event-signing key (PKCS#8 PEM, encrypted with the passphrase)."""
        return self.data_dir / "keys" / "register.key.pem"

    def secret_path(self, name: Literal["subject_secret", "csrf_secret", "key_passphrase"]) -> Path:
        """Where ``jisr idp init`` keeps a generated secret (mode 0600)."""
        return self.data_dir / "secrets" / name

    def passphrase(self) -> bytes | None:
        """The key passphrase: the setting (or its file) if given, else the generated file."""
        given = super().passphrase()
        if given is not None or self.key_passphrase_file or self.key_passphrase:
            return given
        return _first_line(self.secret_path("key_passphrase"))

    def secret(self, name: Literal["subject_secret", "csrf_secret"]) -> SecretStr | None:
        """``subject_secret`` or ``csrf_secret``: the setting, else the generated file."""
        given: SecretStr | None = getattr(self, name)
        if given is not None:
            return given
        value = _first_line(self.secret_path(name))
        return None if value is None else SecretStr(value.decode())


def _first_line(path: Path) -> bytes | None:
    if not path.exists():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[0].encode() if lines and lines[0] else None
