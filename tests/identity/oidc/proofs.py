"""A DPoP client for the tests: a key pair that signs RFC 9449 proofs, well-formed or not."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

Key = ECKey | RSAKey | OKPKey


def new_key(alg: str = "ES256") -> Key:
    if alg == "RS256":
        return RSAKey.generate_key(2048)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519")
    return ECKey.generate_key("P-256")


def ath(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@dataclass
class Prover:
    """The client's DPoP key; ``proof`` signs one proof for one request."""

    alg: str = "ES256"
    key: Key = field(default_factory=lambda: new_key("ES256"))

    @classmethod
    def for_alg(cls, alg: str) -> Prover:
        return cls(alg, new_key(alg))

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def public_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    def claims(
        self, htm: str, htu: str, now: datetime, access_token: str | None = None
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(12),
            "htm": htm,
            "htu": htu,
            "iat": int(now.timestamp()),
        }
        if access_token is not None:
            claims["ath"] = ath(access_token)
        return claims

    def proof(
        self,
        htm: str,
        htu: str,
        now: datetime,
        *,
        access_token: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A signed proof; ``header`` and ``claims`` override (None removes a claim)."""
        claims = {**self.claims(htm, htu, now, access_token), **(claims or {})}
        claims = {name: value for name, value in claims.items() if value is not None}
        protected = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk(), **(header or {})}
        return jwt.encode(protected, claims, self.key, algorithms=[self.alg])
