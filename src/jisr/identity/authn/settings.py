"""Settings of authentication: a value object passed in, never read from the environment."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["OWASP_ARGON2ID_MINIMUMS", "Argon2Settings", "AuthnSettings"]

# OWASP Password Storage Cheat Sheet, "Argon2id": five equivalent minimum configurations
# (memory in KiB, iterations), all with parallelism 1:
# https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id
OWASP_ARGON2ID_MINIMUMS: tuple[tuple[int, int], ...] = (
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
)


class Argon2Settings(BaseModel):
    """Argon2id cost. Default: Keycloak's (5 iterations, 7 MiB, parallelism 1).

    That is exactly OWASP's fifth equivalent minimum (m=7 MiB, t=5, p=1); anything weaker
    than every OWASP option is refused.
    """

    model_config = ConfigDict(frozen=True)

    time_cost: int = Field(5, ge=1)
    memory_cost_kib: int = Field(7_168, ge=8)
    parallelism: int = Field(1, ge=1)
    hash_len: int = Field(32, ge=16)
    salt_len: int = Field(16, ge=16)

    @model_validator(mode="after")
    def _at_least_owasp(self) -> Argon2Settings:
        if not any(
            self.memory_cost_kib >= memory and self.time_cost >= time
            for memory, time in OWASP_ARGON2ID_MINIMUMS
        ):
            raise ValueError(
                "Argon2id parameters below every OWASP minimum (e.g. m=19456 KiB t=2, "
                "or m=7168 KiB t=5)"
            )
        return self


class AuthnSettings(BaseModel):
    """Everything authentication can be tuned by; defaults are the production choice."""

    model_config = ConfigDict(frozen=True)

    argon2: Argon2Settings = Argon2Settings()
    password_min_length: int = Field(12, ge=12)
    password_max_length: int = Field(256, ge=64)

    activation_code_lifetime: timedelta = timedelta(days=14)

    # Progressive delay: after `free_failures` consecutive failures each further one doubles
    # the wait, from `delay_base` up to `delay_max`.
    account_free_failures: int = Field(3, ge=0)
    address_free_failures: int = Field(10, ge=0)
    delay_base: timedelta = timedelta(seconds=1)
    delay_max: timedelta = timedelta(minutes=5)
    # Consecutive failures on one account (per factor) that lock it until an admin unlocks.
    lockout_threshold: int = Field(10, ge=1)
    # An address's failures are forgotten after this much quiet.
    address_window: timedelta = timedelta(minutes=15)

    totp_issuer: str = "Jisr"
    totp_digits: Literal[6, 8] = 6
    totp_period: int = Field(30, ge=15)
    totp_window: int = Field(1, ge=0, le=2)
    recovery_code_count: int = Field(10, ge=1)

    session_lifetime: timedelta = timedelta(hours=8)
    # RFC 6265bis §4.1.3.2: a "__Host-" cookie is Secure, has Path=/ and no Domain.
    session_cookie: str = "__Host-jisr-session"
    csrf_field: str = "csrf_token"

    @model_validator(mode="after")
    def _host_prefix(self) -> AuthnSettings:
        if not self.session_cookie.startswith("__Host-"):
            raise ValueError("the session cookie name must carry the __Host- prefix")
        return self
