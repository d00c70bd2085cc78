"""The central's API token scopes and store (see :mod:`jisr.apitokens`)."""

from __future__ import annotations

from enum import StrEnum

from jisr.apitokens import TokenStore, hash_token
from jisr.exchange.central.models import ApiToken

__all__ = ["TOKENS", "Scope", "hash_token"]


class Scope(StrEnum):
    """What a token may do. ``admin`` implies every other scope."""

    ADMIN = "admin"
    REGISTRY_READ = "registry:read"
    REGISTRY_WRITE = "registry:write"
    CSR_SUBMIT = "csr:submit"
    CERTIFICATES_WRITE = "certificates:write"
    FEDERATION_WRITE = "federation:write"
    KEYS_WRITE = "keys:write"
    AUDIT_READ = "audit:read"


TOKENS = TokenStore(ApiToken, realm="jisr-central")
