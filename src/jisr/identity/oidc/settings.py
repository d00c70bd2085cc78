"""Settings of the OpenID Connect provider: one value object, passed in."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["OidcSettings"]

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class OidcSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(description="https URL identifying the provider (no query, fragment).")
    access_token_lifetime: timedelta = timedelta(minutes=10)
    # A next key is published this long before it signs: longer than any relying party's
    # JWKS cache (OIDC Core §10.1.1), so no verifier meets an unknown kid.
    key_publish_lead: timedelta = timedelta(hours=24)
    # Retired keys stay in the JWKS while a token they signed may still be presented.
    id_token_lifetime: timedelta = timedelta(minutes=10)
    key_passphrase: SecretStr | None = None
    # RFC 7523 §3: the provider bounds assertion lifetime, which bounds the jti store.
    assertion_max_lifetime: timedelta = timedelta(minutes=5)
    clock_leeway: timedelta = timedelta(seconds=30)
    max_body_bytes: int = 16 * 1024
    max_parameter_chars: int = 4096
    max_assertion_chars: int = 8192
    # Authorization-code flow (docs/oidc.md). A code is single use and short-lived
    # (RFC 6749 §4.1.2 recommends at most 10 minutes; Jisr allows at most 60 s).
    code_lifetime: timedelta = Field(timedelta(seconds=60), le=timedelta(seconds=60))
    refresh_token_lifetime: timedelta = timedelta(days=30)
    # How long a pending authorization request (login, second factor, consent) may take.
    authorization_request_lifetime: timedelta = timedelta(minutes=10)
    # HMAC key of pairwise and public subject identifiers (OIDC Core §8). Changing it
    # changes every subject: keep it as long as the relying parties keep their users.
    subject_secret: SecretStr | None = None
    # Key of the CSRF tokens of the login pages (authn's signed double-submit cookie).
    csrf_secret: SecretStr | None = None
    max_authorization_parameters: int = 24
    # RFC 9126 §2.2: a request_uri lives briefly ("5 to 600 seconds" is suggested); one
    # minute covers a redirect to /authorize. With the setting on, every client must push.
    pushed_request_lifetime: timedelta = Field(
        timedelta(seconds=60), ge=timedelta(seconds=5), le=timedelta(seconds=600)
    )
    require_pushed_authorization_requests: bool = False
    # RFC 9449 §11.1: a proof is accepted this long after its iat (plus clock_leeway, also
    # into the future); its jti is remembered as long, which bounds the replay store.
    dpop_proof_lifetime: timedelta = Field(
        timedelta(seconds=60), gt=timedelta(0), le=timedelta(minutes=10)
    )
    dpop_signing_algorithms: tuple[Literal["ES256", "RS256", "EdDSA"], ...] = (
        "ES256",
        "RS256",
        "EdDSA",
    )
    # RFC 9449 §8: with a secret, every proof must carry a server nonce, valid one to two
    # lifetimes; processes sharing the secret accept each other's nonces.
    dpop_nonce_secret: SecretStr | None = None
    dpop_nonce_lifetime: timedelta = Field(timedelta(minutes=5), ge=timedelta(seconds=10))
    # Clients cached per process for the token endpoint (0: off). Another process's change
    # to a client is seen within client_cache_ttl (docs/oidc.md §Performance).
    client_cache_size: int = Field(1024, ge=0)
    client_cache_ttl: timedelta = Field(timedelta(seconds=30), ge=timedelta(0))

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        # OIDC Discovery §3: https, no query or fragment; plain http only on loopback.
        parts = urlsplit(value)
        secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
        if not secure or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("issuer must be an https URL without query or fragment")
        return value.rstrip("/")

    @field_validator("subject_secret", "csrf_secret", "dpop_nonce_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("secrets must be at least 32 bytes")
        return value

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def pushed_authorization_request_endpoint(self) -> str:
        return f"{self.issuer}/par"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.issuer}/userinfo"

    @property
    def passphrase(self) -> bytes | None:
        return (
            None if self.key_passphrase is None else self.key_passphrase.get_secret_value().encode()
        )

    @property
    def longest_token_lifetime(self) -> timedelta:
        return max(self.access_token_lifetime, self.id_token_lifetime)
