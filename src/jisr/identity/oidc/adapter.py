"""The async Starlette ↔ sync Authlib adapter for the token, revocation, introspection and
pushed authorization request (RFC 9126) endpoints.

Authlib ships no async Starlette server integration and its grant logic is synchronous, so
one request goes through three steps (docs/oidc.md §Adapter):

1. **read** (async): the body, bounded, parsed as ``application/x-www-form-urlencoded``
   with duplicate and oversized parameters refused (RFC 6749 §3.2 ``invalid_request``);
   then one read-only query loads every client the request names (HTTP Basic user,
   ``client_id``, the unverified ``sub`` of a client assertion) that the per-process
   :class:`ClientCache` does not hold, and the presented token;
2. **decide** (sync): Authlib's AuthorizationServer runs on an :class:`OidcRequest` holding
   that data; it never blocks and records its effects in ``request.pending``;
3. **commit** (async): one transaction stores the effects. The assertion's ``jti`` is a
   primary key, so a replay — even two racing requests — fails there and the answer becomes
   ``invalid_client`` with nothing issued. A grant whose only effect is its token rows
   (client credentials) shares a commit with concurrent grants instead (:mod:`.ledger`);
   either way the answer waits for the commit.

At ``/token`` and ``/par`` a ``DPoP`` header is verified (:mod:`.dpop`) and its ``jti``
recorded before step 1's query; a refused or replayed proof is ``invalid_dpop_proof``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
)
from authlib.oauth2.rfc6749.util import (  # type: ignore[import-untyped]
    extract_basic_authorization,
)
from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jisr.identity.oidc.clients import ClientCache, unverified_assertion_subject
from jisr.identity.oidc.dpop import ProofReplayStore, checked_proof, dpop_nonces
from jisr.identity.oidc.ledger import TokenLedger, token_row
from jisr.identity.oidc.models import GrantRow, TokenRow, UsedAssertionRow
from jisr.identity.oidc.par import save_pushed_request
from jisr.identity.oidc.server import (
    Loaded,
    OidcRequest,
    OidcServer,
    Pending,
    Reply,
    StoredGrant,
)
from jisr.identity.oidc.settings import OidcSettings
from jisr.identity.oidc.tokens import IssuedToken, hash_token
from jisr.identity.register import PopulationRegister, RegisterError
from jisr.storage import Database
from jisr.storage.rows import record_row

__all__ = ["OAuthAdapter", "grant_row", "load_grant", "revoke_grant", "stored_grant"]

_FORM = "application/x-www-form-urlencoded"
_MAX_PARAMETERS = 16
_TOKENS = cast(Table, TokenRow.__table__)
# Parameters that may be longer than max_parameter_chars: signed JWTs.
_LONG_PARAMETERS = frozenset({"client_assertion", "token"})


class _Replayed(Exception):
    """A code or refresh token was redeemed by a concurrent request first."""

    def __init__(self, grant_id: str) -> None:
        self.grant_id = grant_id


class OAuthAdapter:
    """Serve Authlib's token, revocation and introspection endpoints to Starlette."""

    def __init__(
        self,
        server: OidcServer,
        database: Database,
        settings: OidcSettings,
        clock: Callable[[], datetime],
        register: PopulationRegister | None = None,
        clients: ClientCache | None = None,
    ) -> None:
        self.server, self.database, self.settings, self.clock = server, database, settings, clock
        self.register = register
        self.proofs = ProofReplayStore(database)
        self.ledger = TokenLedger(database)
        self.nonces = dpop_nonces(settings)
        self.clients = clients or ClientCache(settings.client_cache_size, settings.client_cache_ttl)

    async def token(self, request: Request) -> Response:
        return await self._run(request, "/token", self.server.create_token_response, dpop=True)

    async def par(self, request: Request) -> Response:
        """RFC 9126 §2: authenticated like /token; the authorization parameters, client
        authentication and nothing else, so at most max_authorization_parameters + 3."""
        limit = self.settings.max_authorization_parameters + 3
        return await self._run(request, "/par", self.server.push, dpop=True, max_parameters=limit)

    async def revoke(self, request: Request) -> Response:
        return await self._run(request, "/revoke", self._endpoint("revocation"))

    async def introspect(self, request: Request) -> Response:
        return await self._run(request, "/introspect", self._endpoint("introspection"))

    def _endpoint(self, name: str) -> Callable[[OidcRequest], Reply]:
        def respond(oauth_request: OidcRequest) -> Reply:
            reply: Reply = self.server.create_endpoint_response(name, oauth_request)
            return reply

        return respond

    async def _run(
        self,
        request: Request,
        path: str,
        decide: Callable[[OidcRequest], Reply],
        *,
        dpop: bool = False,
        max_parameters: int = _MAX_PARAMETERS,
    ) -> Response:
        now = self.clock()
        try:
            form = await self._read_form(request, max_parameters)
            proof = None
            if dpop:
                proof = await checked_proof(
                    request,
                    uri=self.settings.issuer + path,
                    now=now,
                    settings=self.settings,
                    store=self.proofs,
                    nonces=self.nonces,
                )
        except OAuth2Error as error:
            return _render(error())
        headers = {"Authorization": request.headers.get("authorization", "")}
        loaded = await self._load(headers, form)
        loaded.dpop = proof
        if loaded.grant is not None and loaded.grant.claims.get("id_token"):
            loaded.person = await self._person(loaded.grant)
        oauth_request = OidcRequest(self.settings.issuer + path, headers, form, loaded, now)
        status, body, reply_headers = self.server.decide(oauth_request, decide)
        pending = oauth_request.pending
        if status in (200, 201):
            try:
                await self._commit(pending)
            except IntegrityError:
                # RFC 7523 §3 item 7: a jti may be used once; or the client was deleted by
                # another process while this one had it cached. Nothing was committed.
                refused = InvalidClientError(
                    description="assertion jti replayed, or client deleted", status_code=401
                )
                return _render(refused())
            except _Replayed as replayed:
                # Another request redeemed the code or refresh token first: this one is a
                # replay, so the grant's tokens go (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
                await revoke_grant(self.database, replayed.grant_id, self.clock())
                return _render(InvalidGrantError(description="already used")())
        elif pending.revoke_grant is not None:
            await revoke_grant(self.database, pending.revoke_grant, self.clock())
        if dpop and self.nonces is not None:
            # RFC 9449 §8.2: a fresh nonce with every answer saves the client a round trip.
            reply_headers = [*reply_headers, ("DPoP-Nonce", self.nonces.current(now))]
        return _render((status, body, reply_headers))

    async def _person(self, grant: StoredGrant) -> Any:
        if self.register is None:
            return None
        try:
            return await self.register.read(
                grant.nin, requester=f"oidc:{grant.client_id}", purpose="openid id_token"
            )
        except RegisterError:
            return None

    async def _read_form(self, request: Request, max_parameters: int) -> dict[str, str]:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != _FORM:
            raise InvalidRequestError(description=f"the body must be {_FORM}")
        body = await _bounded_body(request, self.settings.max_body_bytes)
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidRequestError(description="malformed form body") from exc
        authorization = request.headers.get("authorization")
        return self._check_parameters(pairs, authorization, max_parameters)

    def _check_parameters(
        self, pairs: list[tuple[str, str]], authorization: str | None, max_parameters: int
    ) -> dict[str, str]:
        if len(pairs) > max_parameters:
            raise InvalidRequestError(description="too many parameters")
        form: dict[str, str] = {}
        for name, value in pairs:
            if name in form:
                # RFC 6749 §3.2: request parameters MUST NOT be included more than once.
                raise InvalidRequestError(description=f"parameter {name} repeated")
            limit = self.settings.max_parameter_chars
            if name in _LONG_PARAMETERS:
                limit = self.settings.max_assertion_chars
            if len(name) > 64 or len(value) > limit:
                raise InvalidRequestError(description=f"parameter {name[:64]} too long")
            form[name] = value
        if authorization is not None and len(authorization) > self.settings.max_parameter_chars:
            raise InvalidRequestError(description="Authorization header too long")
        # RFC 6749 §2.3: a client MUST NOT use more than one authentication method.
        methods = [
            bool(authorization and authorization.lower().startswith("basic ")),
            "client_secret" in form,
            "client_assertion" in form,
        ]
        if sum(methods) > 1:
            raise InvalidRequestError(description="more than one client authentication method")
        return form

    async def _load(self, headers: dict[str, str], form: dict[str, str]) -> Loaded:
        """What the request names: its clients (through the cache), the presented token and
        the grant of the token or code, read with Core statements outside a transaction."""
        basic_user, _ = extract_basic_authorization(headers)
        assertion = form.get("client_assertion")
        named = {
            basic_user,
            form.get("client_id"),
            unverified_assertion_subject(assertion) if assertion else None,
        }
        client_ids = [client_id for client_id in named if isinstance(client_id, str)]
        loaded = Loaded(clients=await self.clients.clients(self.database, client_ids))
        presented = form.get("token") or form.get("refresh_token")
        code = form.get("code") if form.get("grant_type") == "authorization_code" else None
        if presented is None and code is None:
            return loaded
        async with self.database.reading() as connection:
            if presented is not None:
                statement = select(*_TOKENS.columns).where(
                    TokenRow.token_hash == hash_token(presented)
                )
                row = (await connection.execute(statement)).first()
                loaded.token = None if row is None else _issued(row)
                if row is not None and row.grant_id is not None:
                    loaded.grant = await load_grant(connection, GrantRow.id == row.grant_id)
            if code is not None:
                loaded.grant = await load_grant(connection, GrantRow.code_hash == hash_token(code))
        return loaded

    async def _commit(self, pending: Pending) -> None:
        if (
            pending.assertion is None
            and not pending.tokens
            and pending.revoke is None
            and pending.revoke_grant is None
            and pending.pushed is None
        ):
            return
        if _tokens_only(pending):
            # Client credentials: nothing to check or write but the token rows, which
            # share a commit with concurrent grants' (:mod:`.ledger`).
            await self.ledger.record(pending.tokens)
            return
        now = self.clock()
        async with self.database.writing() as session:  # Core statements only
            if pending.use_code is not None:
                used = await session.execute(
                    update(GrantRow)
                    .where(GrantRow.id == pending.use_code, GrantRow.code_used_at.is_(None))
                    .values(code_used_at=now)
                )
                if used.rowcount != 1:
                    raise _Replayed(pending.use_code)
            if pending.rotate is not None:
                rotated = await session.execute(
                    update(TokenRow)
                    .where(TokenRow.token_hash == pending.rotate, TokenRow.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
                if rotated.rowcount != 1:
                    grant_id = pending.tokens[0].grant_id if pending.tokens else None
                    raise _Replayed(grant_id or "")
            if (claims := pending.assertion) is not None:
                await session.execute(
                    insert(UsedAssertionRow).values(
                        client_id=claims.client_id, jti=claims.jti, expires_at=claims.expires_at
                    )
                )
            if pending.tokens:
                await session.execute(insert(TokenRow), [token_row(t) for t in pending.tokens])
            if pending.pushed is not None:
                await save_pushed_request(session, pending.pushed)
            if pending.revoke is not None:
                await session.execute(
                    update(TokenRow)
                    .where(TokenRow.token_hash == pending.revoke, TokenRow.revoked_at.is_(None))
                    .values(revoked_at=self.clock())
                )
        if pending.revoke_grant is not None:
            await revoke_grant(self.database, pending.revoke_grant, now)


async def load_grant(session: AsyncSession | AsyncConnection, condition: Any) -> StoredGrant | None:
    """The grant matching ``condition``, read as a Core row (on a session or a connection)."""
    statement = select(*cast(Table, GrantRow.__table__).columns).where(condition)
    row = (await session.execute(statement)).first()
    return None if row is None else stored_grant(row)


def stored_grant(row: GrantRow | Row[Any]) -> StoredGrant:
    return StoredGrant(
        id=row.id,
        client_id=row.client_id,
        code_hash=row.code_hash,
        redirect_uri=row.redirect_uri,
        code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method,
        nonce=row.nonce,
        nin=row.nin,
        subject=row.subject,
        scope=row.scope,
        claims=dict(row.claims),
        acr=row.acr,
        amr=tuple(row.amr),
        auth_time=row.auth_time,
        created_at=row.created_at,
        code_expires_at=row.code_expires_at,
        code_used_at=row.code_used_at,
        revoked_at=row.revoked_at,
        dpop_jkt=row.dpop_jkt,
    )


def grant_row(grant: StoredGrant) -> dict[str, Any]:
    """The ``oidc_grants`` row of a new grant, for a Core insert."""
    return record_row(grant, amr=list(grant.amr))


async def revoke_grant(database: Database, grant_id: str, now: datetime) -> None:
    """Revoke a grant and every token issued from it (its code can no longer be redeemed)."""
    if not grant_id:
        return
    async with database.transaction() as session:
        await session.execute(
            update(GrantRow)
            .where(GrantRow.id == grant_id, GrantRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        await session.execute(
            update(TokenRow)
            .where(TokenRow.grant_id == grant_id, TokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )


async def _bounded_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise InvalidRequestError(description=f"the body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidRequestError(description=f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _issued(row: TokenRow | Row[Any]) -> IssuedToken:
    return IssuedToken(
        token_hash=row.token_hash,
        kind=row.kind,
        jti=row.jti,
        client_id=row.client_id,
        scope=row.scope,
        subject=row.subject,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        grant_id=row.grant_id,
        cnf_jkt=row.cnf_jkt,
    )


def _tokens_only(pending: Pending) -> bool:
    """Whether the only effect to commit is new tokens (no code, rotation, assertion ...)."""
    return bool(pending.tokens) and (
        pending.use_code is None
        and pending.rotate is None
        and pending.assertion is None
        and pending.pushed is None
        and pending.revoke is None
        and pending.revoke_grant is None
    )


def _render(reply: Reply) -> Response:
    status, body, headers = reply
    extra = {name: value for name, value in headers if name.lower() != "content-type"}
    return JSONResponse(body, status_code=status, headers=extra)
