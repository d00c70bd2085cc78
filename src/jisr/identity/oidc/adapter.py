"""The async Starlette ↔ sync Authlib adapter for the token, revocation and introspection
endpoints.

Authlib ships no async Starlette server integration and its grant logic is synchronous, so
one request goes through three steps (docs/oidc.md §Adapter):

1. **read** (async): the body, bounded, parsed as ``application/x-www-form-urlencoded``
   with duplicate and oversized parameters refused (RFC 6749 §3.2 ``invalid_request``);
   then one read-only query loads every client the request names (HTTP Basic user,
   ``client_id``, the unverified ``sub`` of a client assertion) and the presented token;
2. **decide** (sync): Authlib's AuthorizationServer runs on an :class:`OidcRequest` holding
   that data; it never blocks and records its effects in ``request.pending``;
3. **commit** (async): one transaction stores the effects. The assertion's ``jti`` is a
   primary key, so a replay — even two racing requests — fails there and the answer becomes
   ``invalid_client`` with nothing issued.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    InvalidClientError,
    InvalidRequestError,
    OAuth2Error,
)
from authlib.oauth2.rfc6749.util import (  # type: ignore[import-untyped]
    extract_basic_authorization,
)
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jisr.identity.oidc.clients import load_clients, unverified_assertion_subject
from jisr.identity.oidc.models import TokenRow, UsedAssertionRow
from jisr.identity.oidc.server import Loaded, OidcRequest, OidcServer, Pending, Reply
from jisr.identity.oidc.settings import OidcSettings
from jisr.identity.oidc.tokens import IssuedToken, hash_token
from jisr.storage import Database

__all__ = ["OAuthAdapter"]

_FORM = "application/x-www-form-urlencoded"
_MAX_PARAMETERS = 16
# Parameters that may be longer than max_parameter_chars: signed JWTs.
_LONG_PARAMETERS = frozenset({"client_assertion", "token"})


class OAuthAdapter:
    """Serve Authlib's token, revocation and introspection endpoints to Starlette."""

    def __init__(
        self,
        server: OidcServer,
        database: Database,
        settings: OidcSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.server, self.database, self.settings, self.clock = server, database, settings, clock

    async def token(self, request: Request) -> Response:
        return await self._run(request, "/token", self.server.create_token_response)

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
        self, request: Request, path: str, decide: Callable[[OidcRequest], Reply]
    ) -> Response:
        now = self.clock()
        try:
            form = await self._read_form(request)
        except OAuth2Error as error:
            return _render(error())
        headers = {"Authorization": request.headers.get("authorization", "")}
        async with self.database.sessions() as session:
            loaded = await self._load(session, headers, form)
        oauth_request = OidcRequest(self.settings.issuer + path, headers, form, loaded, now)
        status, body, reply_headers = decide(oauth_request)
        if status == 200:
            try:
                await self._commit(oauth_request.pending)
            except IntegrityError:
                # RFC 7523 §3 item 7: a jti may be used once; nothing was committed.
                refused = InvalidClientError(description="assertion jti replayed", status_code=401)
                return _render(refused())
        return _render((status, body, reply_headers))

    async def _read_form(self, request: Request) -> dict[str, str]:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != _FORM:
            raise InvalidRequestError(description=f"the body must be {_FORM}")
        body = await _bounded_body(request, self.settings.max_body_bytes)
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidRequestError(description="malformed form body") from exc
        return self._check_parameters(pairs, request.headers.get("authorization"))

    def _check_parameters(
        self, pairs: list[tuple[str, str]], authorization: str | None
    ) -> dict[str, str]:
        if len(pairs) > _MAX_PARAMETERS:
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

    async def _load(
        self, session: AsyncSession, headers: dict[str, str], form: dict[str, str]
    ) -> Loaded:
        basic_user, _ = extract_basic_authorization(headers)
        assertion = form.get("client_assertion")
        named = {
            basic_user,
            form.get("client_id"),
            unverified_assertion_subject(assertion) if assertion else None,
        }
        client_ids = [client_id for client_id in named if isinstance(client_id, str)]
        loaded = Loaded(clients=await load_clients(session, client_ids))
        if "token" in form:
            row = await session.get(TokenRow, hash_token(form["token"]))
            loaded.token = None if row is None else _issued(row)
        return loaded

    async def _commit(self, pending: Pending) -> None:
        if pending.assertion is None and not pending.tokens and pending.revoke is None:
            return
        async with self.database.transaction() as session:
            if (claims := pending.assertion) is not None:
                await session.execute(
                    insert(UsedAssertionRow).values(
                        client_id=claims.client_id, jti=claims.jti, expires_at=claims.expires_at
                    )
                )
            if pending.tokens:
                await session.execute(insert(TokenRow), [_row(t) for t in pending.tokens])
            if pending.revoke is not None:
                await session.execute(
                    update(TokenRow)
                    .where(TokenRow.token_hash == pending.revoke, TokenRow.revoked_at.is_(None))
                    .values(revoked_at=self.clock())
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


def _issued(row: TokenRow) -> IssuedToken:
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
    )


def _row(token: IssuedToken) -> dict[str, Any]:
    return {
        "token_hash": token.token_hash,
        "kind": token.kind,
        "jti": token.jti,
        "client_id": token.client_id,
        "scope": token.scope,
        "subject": token.subject,
        "issued_at": token.issued_at,
        "expires_at": token.expires_at,
        "revoked_at": None,
    }


def _render(reply: Reply) -> Response:
    status, body, headers = reply
    extra = {name: value for name, value in headers if name.lower() != "content-type"}
    return JSONResponse(body, status_code=status, headers=extra)
