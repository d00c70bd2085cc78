"""Registered clients: metadata rules, registration, lookup and client authentication.

Secrets are 256 random bits (``secrets.token_urlsafe(32)``) shown once and stored as their
SHA-256. A slow password hash (Argon2) protects low-entropy secrets against offline guessing;
against 2^256 candidates it adds nothing but latency on every token request, which the
1,000 grants/s per core goal cannot afford. Comparison is constant-time.

``private_key_jwt`` (OIDC Core §9, RFC 7523 §2.2) is verified here with joserfc: the key is
chosen by ``kid`` among the client's registered public keys only, ``alg`` is pinned to the
one algorithm that key's type dictates (so ``none``, HMAC and algorithm-confusion tokens are
refused), ``aud`` must be the token endpoint, ``exp`` must be near, and ``jti`` is returned
for the replay store.

:class:`ClientCache` keeps recently used clients in process (bounded, least recently used
out first, each entry at most ``ttl`` old) so a token request need not read its client from
the database. A delete through this process's admin API invalidates the entry at once; other
processes see a change within ``ttl``. A client deleted elsewhere meanwhile still gets no
token: the token row's foreign key to ``oidc_clients`` fails the commit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, KeySetSerialization, OKPKey, RSAKey
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from jisr.identity.oidc.errors import AssertionRefused, RegistrationError
from jisr.identity.oidc.models import ClientRow
from jisr.storage import Database

__all__ = [
    "AUTH_METHODS",
    "GRANT_TYPES",
    "NONE",
    "PRIVATE_KEY_JWT",
    "TOKEN_AUTH_METHODS",
    "AssertionClaims",
    "Client",
    "ClientCache",
    "ClientMetadata",
    "Registered",
    "delete_client",
    "get_client",
    "hash_secret",
    "list_clients",
    "load_clients",
    "register_client",
    "unverified_assertion_subject",
    "verify_client_assertion",
]

AuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
AUTH_METHODS: tuple[AuthMethod, ...] = (
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
)
# "none": a public client (native or browser app) that holds no secret; it may use only the
# authorization-code flow, with PKCE S256, and refresh tokens (RFC 8252 §8.4).
NONE: AuthMethod = "none"
TOKEN_AUTH_METHODS: tuple[AuthMethod, ...] = (*AUTH_METHODS, NONE)
_PUBLIC_GRANTS = frozenset({"authorization_code", "refresh_token"})
# Registrable grant types. The token endpoint serves client_credentials today; the others
# are metadata for the authorization-code flow that comes next (docs/oidc.md).
GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token")
_SCOPE_TOKEN = frozenset(chr(c) for c in range(0x21, 0x7F) if c not in (0x22, 0x5C))
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
# S105 flags these names as passwords: they are RFC 7591 method names, not secrets.
PRIVATE_KEY_JWT: AuthMethod = "private_key_jwt"
_DEFAULT_METHOD: AuthMethod = "client_secret_basic"
_KEY_ALGORITHM = {"EC": "ES256", "RSA": "RS256", "OKP": "EdDSA"}
_MIN_RSA_BITS = 2048


class ClientMetadata(BaseModel):
    """What an administrator registers (RFC 7591 §2 names)."""

    model_config = ConfigDict(extra="forbid")

    client_name: str = Field(min_length=1, max_length=200)
    redirect_uris: list[str] = Field(default_factory=list, max_length=20)
    grant_types: list[str] = Field(default_factory=lambda: ["client_credentials"], max_length=3)
    response_types: list[str] = Field(default_factory=list, max_length=1)
    scope: str = Field("", max_length=2000, description="Space-separated scopes it may ask.")
    token_endpoint_auth_method: AuthMethod = Field(_DEFAULT_METHOD)
    jwks: dict[str, Any] | None = Field(None, description="Public keys, for private_key_jwt.")
    id_token_signed_response_alg: Literal["ES256", "RS256"] = Field("ES256")
    subject_type: Literal["public", "pairwise"] = "pairwise"
    sector_identifier_uri: str | None = Field(None, max_length=2000)
    dpop_bound_access_tokens: bool = Field(
        False, description="RFC 9449 §5.2: every token request carries a DPoP proof."
    )
    may_introspect: bool = Field(False, description="May introspect other clients' tokens.")
    userinfo_signed_response_alg: Literal["ES256", "RS256"] | None = Field(
        None, description="Answer /userinfo as a signed JWT with this algorithm."
    )
    post_logout_redirect_uris: list[str] = Field(default_factory=list, max_length=20)
    require_pushed_authorization_requests: bool = Field(
        False, description="RFC 9126 §6: authorization requests only through /par."
    )


@dataclass(frozen=True)
class Client:
    client_id: str
    secret_hash: str | None
    name: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    scopes: tuple[str, ...]
    token_endpoint_auth_method: AuthMethod
    jwks: dict[str, Any] | None
    id_token_signed_response_alg: str
    subject_type: str
    sector_identifier_uri: str | None
    dpop_bound_access_tokens: bool
    may_introspect: bool
    created_at: datetime
    userinfo_signed_response_alg: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()
    require_pushed_authorization_requests: bool = False

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == NONE

    @property
    def sector(self) -> str:
        """The sector of pairwise subjects (OIDC Core §8.1): the host of the sector
        identifier URI, else of the redirect URIs (registration ensures there is one)."""
        uri = self.sector_identifier_uri or (self.redirect_uris[0] if self.redirect_uris else "")
        return _sector_host(uri) or self.client_id

    def check_secret(self, secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(self.secret_hash, hash_secret(secret))


@dataclass(frozen=True)
class Registered:
    client: Client
    client_secret: str | None


@dataclass(frozen=True)
class AssertionClaims:
    client_id: str
    jti: str
    expires_at: datetime


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _client(row: ClientRow) -> Client:
    method = row.token_endpoint_auth_method
    if method not in TOKEN_AUTH_METHODS:
        raise ValueError(f"client {row.client_id} has unknown auth method {method}")
    return Client(
        client_id=row.client_id,
        secret_hash=row.secret_hash,
        name=row.name,
        redirect_uris=tuple(row.redirect_uris),
        grant_types=tuple(row.grant_types),
        response_types=tuple(row.response_types),
        scopes=tuple(row.scopes),
        token_endpoint_auth_method=method,
        jwks=row.jwks,
        id_token_signed_response_alg=row.id_token_signed_response_alg,
        subject_type=row.subject_type,
        sector_identifier_uri=row.sector_identifier_uri,
        dpop_bound_access_tokens=row.dpop_bound_access_tokens,
        may_introspect=row.may_introspect,
        created_at=row.created_at,
        userinfo_signed_response_alg=row.userinfo_signed_response_alg,
        post_logout_redirect_uris=tuple(row.post_logout_redirect_uris or ()),
        require_pushed_authorization_requests=row.require_pushed_authorization_requests,
    )


async def register_client(
    session: AsyncSession, metadata: ClientMetadata, now: datetime
) -> Registered:
    """Validate ``metadata``, store the client, return it with its secret (shown once)."""
    _check(metadata)
    uses_secret = metadata.token_endpoint_auth_method not in (PRIVATE_KEY_JWT, NONE)
    secret = secrets.token_urlsafe(32) if uses_secret else None
    row = ClientRow(
        client_id="c_" + secrets.token_urlsafe(18),
        secret_hash=None if secret is None else hash_secret(secret),
        name=metadata.client_name,
        redirect_uris=metadata.redirect_uris,
        grant_types=sorted(set(metadata.grant_types)),
        response_types=sorted(set(metadata.response_types)),
        scopes=sorted(set(metadata.scope.split())),
        token_endpoint_auth_method=metadata.token_endpoint_auth_method,
        jwks=metadata.jwks,
        id_token_signed_response_alg=metadata.id_token_signed_response_alg,
        subject_type=metadata.subject_type,
        sector_identifier_uri=metadata.sector_identifier_uri,
        dpop_bound_access_tokens=metadata.dpop_bound_access_tokens,
        may_introspect=metadata.may_introspect,
        created_at=now,
        userinfo_signed_response_alg=metadata.userinfo_signed_response_alg,
        post_logout_redirect_uris=metadata.post_logout_redirect_uris,
        require_pushed_authorization_requests=metadata.require_pushed_authorization_requests,
    )
    session.add(row)
    await session.flush()
    return Registered(_client(row), secret)


async def get_client(session: AsyncSession, client_id: str) -> Client | None:
    row = await session.get(ClientRow, client_id)
    return None if row is None else _client(row)


async def load_clients(session: AsyncSession, client_ids: Sequence[str]) -> dict[str, Client]:
    """The named clients that exist, by id (one query)."""
    if not client_ids:
        return {}
    rows = await session.scalars(select(ClientRow).where(ClientRow.client_id.in_(client_ids)))
    return {row.client_id: _client(row) for row in rows}


class ClientCache:
    """Clients by id, at most ``size`` of them, each at most ``ttl`` old (``size`` 0: off)."""

    def __init__(
        self, size: int, ttl: timedelta, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.size, self.ttl, self.monotonic = size, ttl.total_seconds(), monotonic
        self._entries: OrderedDict[str, tuple[float, Client]] = OrderedDict()

    async def client(self, database: Database, client_id: str) -> Client | None:
        """One client: from the cache without touching the database, else read and kept."""
        return (await self.clients(database, [client_id])).get(client_id)

    async def clients(self, database: Database, client_ids: Iterable[str]) -> dict[str, Client]:
        """The named clients that exist: cached ones as they are, the others in one query
        (a database session is opened only then). Unknown ids are not remembered, so random
        ids cannot push real clients out."""
        now = self.monotonic()
        found: dict[str, Client] = {}
        missing: list[str] = []
        for client_id in client_ids:
            client = self._get(client_id, now)
            if client is None:
                missing.append(client_id)
            else:
                found[client_id] = client
        if missing:
            async with database.transaction() as session:
                loaded = await load_clients(session, missing)
            for client in loaded.values():
                self._put(client, now)
            found |= loaded
        return found

    def invalidate(self, client_id: str) -> None:
        self._entries.pop(client_id, None)

    def _get(self, client_id: str, now: float) -> Client | None:
        entry = self._entries.get(client_id)
        if entry is None:
            return None
        if now - entry[0] >= self.ttl:
            del self._entries[client_id]
            return None
        self._entries.move_to_end(client_id)
        return entry[1]

    def _put(self, client: Client, now: float) -> None:
        if self.size <= 0:
            return
        self._entries[client.client_id] = (now, client)
        self._entries.move_to_end(client.client_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


async def list_clients(session: AsyncSession) -> list[Client]:
    rows = await session.scalars(select(ClientRow).order_by(ClientRow.created_at))
    return [_client(row) for row in rows]


async def delete_client(session: AsyncSession, client_id: str) -> bool:
    """Delete the client (its issued tokens go with it); whether it existed."""
    result = await session.execute(delete(ClientRow).where(ClientRow.client_id == client_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _check(metadata: ClientMetadata) -> None:
    for index, uri in enumerate(metadata.redirect_uris):
        _check_redirect_uri(f"redirect_uris.{index}", uri)
    for index, uri in enumerate(metadata.post_logout_redirect_uris):
        _check_redirect_uri(f"post_logout_redirect_uris.{index}", uri)
    _check_grants(metadata)
    _check_public(metadata)
    _check_sector(metadata)
    for token in metadata.scope.split():
        if not set(token) <= _SCOPE_TOKEN:
            raise RegistrationError("scope", "invalid_character", f"bad scope token {token!r}")
    if metadata.token_endpoint_auth_method == PRIVATE_KEY_JWT:
        _check_jwks(metadata.jwks)
    elif metadata.jwks is not None:
        raise RegistrationError("jwks", "unexpected", "jwks is only for private_key_jwt")
    sector = metadata.sector_identifier_uri
    if sector is not None and urlsplit(sector).scheme != "https":
        # OIDC Core §8.1: the sector identifier must be fetched over https.
        raise RegistrationError("sector_identifier_uri", "https_required", "must be https")


def _check_public(metadata: ClientMetadata) -> None:
    if metadata.token_endpoint_auth_method != NONE:
        return
    if not set(metadata.grant_types) <= _PUBLIC_GRANTS:
        # A public client cannot authenticate, so it may not use client credentials.
        raise RegistrationError("grant_types", "unsupported", "a public client: code flow only")
    if metadata.may_introspect:
        raise RegistrationError("may_introspect", "unsupported", "a public client cannot")


def _check_sector(metadata: ClientMetadata) -> None:
    # OIDC Core §8.1: without a sector identifier, pairwise subjects are computed from the
    # redirect URIs' host, so they must all share one host.
    if metadata.subject_type != "pairwise" or metadata.sector_identifier_uri is not None:
        return
    if "authorization_code" not in metadata.grant_types:
        return
    hosts = {_sector_host(uri) for uri in metadata.redirect_uris}
    if len(hosts) > 1:
        raise RegistrationError(
            "sector_identifier_uri", "required", "redirect URIs on several hosts need a sector"
        )


def _sector_host(uri: str) -> str:
    host = urlsplit(uri).hostname or ""
    # Loopback redirect URIs of a native app are all the same device (RFC 8252 §7.3).
    return "localhost" if host in _LOOPBACK else host


def _check_redirect_uri(field: str, uri: str) -> None:
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise RegistrationError(field, "malformed", "not a URI") from exc
    if parts.fragment or "#" in uri:
        # RFC 6749 §3.1.2: the redirection endpoint URI MUST NOT include a fragment.
        raise RegistrationError(field, "fragment", "a redirect URI may not have a fragment")
    if not parts.hostname or parts.username or parts.password:
        raise RegistrationError(field, "not_absolute", "must be an absolute URI with a host")
    if parts.scheme == "https":
        return
    # RFC 8252 §7.3 / §8.3: native apps may use http only on the loopback interface.
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return
    raise RegistrationError(field, "https_required", "https, or http on 127.0.0.1/localhost")


def _check_grants(metadata: ClientMetadata) -> None:
    if not metadata.grant_types:
        raise RegistrationError("grant_types", "required", "at least one grant type")
    for grant in metadata.grant_types:
        if grant not in GRANT_TYPES:
            raise RegistrationError("grant_types", "unsupported", f"unsupported grant {grant!r}")
    for response_type in metadata.response_types:
        if response_type != "code":
            raise RegistrationError("response_types", "unsupported", "only 'code' is supported")
    code_flow = "authorization_code" in metadata.grant_types
    if code_flow and not metadata.redirect_uris:
        raise RegistrationError("redirect_uris", "required", "the code flow needs a redirect URI")
    if code_flow != ("code" in metadata.response_types):
        # RFC 7591 §2.1: grant_types and response_types must agree.
        raise RegistrationError("response_types", "inconsistent", "'code' iff authorization_code")


def _check_jwks(jwks: dict[str, Any] | None) -> None:
    if not jwks or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise RegistrationError("jwks", "required", "private_key_jwt needs a JWK Set with keys")
    try:
        key_set = KeySet.import_key_set(cast(KeySetSerialization, jwks))
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise RegistrationError("jwks", "malformed", f"not a JWK Set: {exc}") from exc
    kids = [key.kid for key in key_set.keys]
    if len(kids) > 1 and (None in kids or len(set(kids)) != len(kids)):
        raise RegistrationError("jwks", "kid_required", "several keys need distinct kids")
    for key in key_set.keys:
        _check_public_key(key)


def _check_public_key(key: Any) -> None:
    if key.is_private:
        raise RegistrationError("jwks", "private_key", "register public keys only")
    if isinstance(key, ECKey) and key.curve_name != "P-256":
        raise RegistrationError("jwks", "unsupported_key", "EC keys must be P-256 (ES256)")
    if isinstance(key, OKPKey) and key.curve_name != "Ed25519":
        raise RegistrationError("jwks", "unsupported_key", "OKP keys must be Ed25519")
    if isinstance(key, RSAKey) and key.raw_value.key_size < _MIN_RSA_BITS:
        raise RegistrationError("jwks", "weak_key", "RSA keys need at least 2048 bits")
    if not isinstance(key, ECKey | OKPKey | RSAKey):
        raise RegistrationError("jwks", "unsupported_key", "EC, RSA or OKP keys only")


def unverified_assertion_subject(assertion: str) -> str | None:
    """The ``sub`` of an assertion before any check: only to know which client to load."""
    try:
        claims = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, UnicodeDecodeError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None


def verify_client_assertion(
    assertion: str,
    client: Client,
    *,
    audience: str | tuple[str, ...],
    now: datetime,
    max_lifetime: timedelta,
    leeway: timedelta,
) -> AssertionClaims:
    """Verify a ``private_key_jwt`` assertion of ``client`` (RFC 7523 §3, OIDC Core §9)."""
    try:
        header = jws.extract_compact(assertion.encode()).headers()
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise AssertionRefused("the assertion is not a compact JWS") from exc
    key = _assertion_key(client, header.get("kid"))
    alg = _KEY_ALGORITHM[key.key_type]
    # Pinned: the registered key decides the algorithm, never the token's header.
    if header.get("alg") != alg:
        raise AssertionRefused(f"alg must be {alg} for this key")
    try:
        token = jwt.decode(assertion, key, algorithms=[alg])
    except JoseError as exc:
        raise AssertionRefused("the assertion signature does not verify") from exc
    return _check_claims(token.claims, client.client_id, audience, now, max_lifetime, leeway)


def _assertion_key(client: Client, kid: object) -> ECKey | OKPKey | RSAKey:
    if client.token_endpoint_auth_method != PRIVATE_KEY_JWT or not client.jwks:
        raise AssertionRefused("the client is not registered for private_key_jwt")
    keys = KeySet.import_key_set(cast(KeySetSerialization, client.jwks)).keys
    chosen = next((key for key in keys if kid is not None and key.kid == kid), None)
    if kid is None and len(keys) == 1:
        chosen = keys[0]
    if not isinstance(chosen, ECKey | OKPKey | RSAKey):
        raise AssertionRefused("no registered key matches the assertion's kid")
    return chosen


def _check_claims(
    claims: dict[str, Any],
    client_id: str,
    audience: str | tuple[str, ...],
    now: datetime,
    max_lifetime: timedelta,
    leeway: timedelta,
) -> AssertionClaims:
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise AssertionRefused("iss and sub must be the client_id")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    accepted = (audience,) if isinstance(audience, str) else audience
    if not any(value in accepted for value in audiences):
        raise AssertionRefused("aud must be the token endpoint")
    exp, jti = claims.get("exp"), claims.get("jti")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise AssertionRefused("exp is required")
    expires_at = datetime.fromtimestamp(exp, UTC)
    if expires_at + leeway <= now:
        raise AssertionRefused("the assertion has expired")
    if expires_at - now > max_lifetime:
        raise AssertionRefused("the assertion lives too long")
    for name in ("iat", "nbf"):
        value = claims.get(name)
        if value is not None and (
            not isinstance(value, int | float) or datetime.fromtimestamp(value, UTC) > now + leeway
        ):
            raise AssertionRefused(f"{name} is in the future")
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise AssertionRefused("jti is required (at most 256 characters)")
    return AssertionClaims(client_id, jti, expires_at)
