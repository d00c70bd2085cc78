"""The provider's HTTP application: OAuth endpoints, discovery, JWKS and the admin API.

* ``/.well-known/openid-configuration`` and ``/jwks``: public metadata;
* ``/token``, ``/revoke``, ``/introspect``, ``/par`` (RFC 9126): Authlib through
  :mod:`.adapter`, answering RFC 6749 §5.2 JSON errors; ``/token`` and ``/par`` take DPoP
  proofs (RFC 9449), and ``/userinfo`` takes DPoP-bound tokens (:mod:`.dpop`);
* ``/api/v1/...``: client registration and key rotation, scoped Bearer tokens
  (:mod:`jisr.apitokens`), RFC 9457 problems. OpenAPI 3.1 at ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from jisr import __version__
from jisr.apitokens import TokenStore
from jisr.identity.oidc.account import AccountPages
from jisr.identity.oidc.claims import SUPPORTED_CLAIMS, SUPPORTED_SCOPES
from jisr.identity.oidc.clients import (
    AUTH_METHODS,
    TOKEN_AUTH_METHODS,
    Client,
    ClientMetadata,
    delete_client,
    get_client,
    list_clients,
    register_client,
)
from jisr.identity.oidc.dpop import protected_resource_token
from jisr.identity.oidc.errors import KeyRingError, RegistrationError
from jisr.identity.oidc.keys import Algorithm, SigningKey
from jisr.identity.oidc.models import ApiToken
from jisr.identity.oidc.provider import OidcProvider
from jisr.identity.oidc.web import LoginFlow
from jisr.identity.pages import STATIC_DIR, Locale
from jisr.problems import Problem, install_problem_handlers, problem_doc

__all__ = ["TOKENS", "OidcScope", "create_app", "discovery_document"]

log = structlog.get_logger("jisr.identity.oidc")
TOKENS = TokenStore(ApiToken, realm="jisr-oidc")
# Shorter than settings.key_publish_lead, so a cached JWKS always holds the next key.
_JWKS_MAX_AGE = 300
_ASSERTION_ALGORITHMS = ["ES256", "RS256", "EdDSA"]


class OidcScope(StrEnum):
    ADMIN = "admin"
    CLIENTS_READ = "clients:read"
    CLIENTS_WRITE = "clients:write"
    KEYS_WRITE = "keys:write"


class ClientOut(BaseModel):
    client_id: str
    client_name: str
    redirect_uris: list[str]
    grant_types: list[str]
    response_types: list[str]
    scope: str
    token_endpoint_auth_method: str
    jwks: dict[str, Any] | None
    id_token_signed_response_alg: str
    subject_type: str
    sector_identifier_uri: str | None
    dpop_bound_access_tokens: bool
    may_introspect: bool
    created_at: datetime
    userinfo_signed_response_alg: str | None
    post_logout_redirect_uris: list[str]
    require_pushed_authorization_requests: bool


class RegisteredOut(ClientOut):
    client_secret: str | None = None


class KeyOut(BaseModel):
    kid: str
    alg: str
    state: str
    not_before: datetime
    retire_after: datetime | None


def _key_out(key: SigningKey) -> KeyOut:
    return KeyOut(
        kid=key.kid,
        alg=key.alg,
        state=key.state,
        not_before=key.not_before,
        retire_after=key.retire_after,
    )


def _client_out(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": list(client.response_types),
        "scope": " ".join(client.scopes),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "jwks": client.jwks,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "subject_type": client.subject_type,
        "sector_identifier_uri": client.sector_identifier_uri,
        "dpop_bound_access_tokens": client.dpop_bound_access_tokens,
        "may_introspect": client.may_introspect,
        "created_at": client.created_at,
        "userinfo_signed_response_alg": client.userinfo_signed_response_alg,
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
    }


def discovery_document(provider: OidcProvider) -> dict[str, Any]:
    """Provider metadata (OIDC Discovery §3, RFC 8414 §2): only what is implemented."""
    settings = provider.settings
    issuer = settings.issuer
    document: dict[str, Any] = {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/jwks",
        "token_endpoint": f"{issuer}/token",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": _ASSERTION_ALGORITHMS,
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "scopes_supported": [],
        # RFC 9449 §5.1: the token endpoint binds tokens to DPoP keys of these algorithms.
        "dpop_signing_alg_values_supported": list(settings.dpop_signing_algorithms),
    }
    if provider.flow is None:
        return document
    return document | {
        "authorization_endpoint": f"{issuer}/authorize",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "end_session_endpoint": f"{issuer}/logout",
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "userinfo_signing_alg_values_supported": ["ES256", "RS256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "claims_supported": [
            *SUPPORTED_CLAIMS,
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "at_hash",
        ],
        "claims_parameter_supported": True,
        "claim_types_supported": ["normal"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "acr_values_supported": list(provider.flow.acr_values_supported),
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": [locale.value for locale in Locale],
        "authorization_response_iss_parameter_supported": True,
        # RFC 9126 §5. request_uri_parameter_supported stays false: /authorize resolves only
        # the request_uri values /par issued, and fetches nothing.
        "pushed_authorization_request_endpoint": settings.pushed_authorization_request_endpoint,
        "require_pushed_authorization_requests": settings.require_pushed_authorization_requests,
    }


def provider_of(request: Request) -> OidcProvider:
    provider: OidcProvider = request.app.state.provider
    return provider


async def _provider(request: Request) -> OidcProvider:
    """The dependency form of :func:`provider_of`. Async on purpose: FastAPI runs a plain ``def``
    dependency in a worker thread, a thread hand-off on every request."""
    return provider_of(request)


ProviderDep = Annotated[OidcProvider, Depends(_provider)]


def requires(scope: OidcScope) -> Callable[..., Awaitable[str]]:
    return TOKENS.requirement(scope, lambda request: provider_of(request).database)


Reader = Annotated[str, Depends(requires(OidcScope.CLIENTS_READ))]
Writer = Annotated[str, Depends(requires(OidcScope.CLIENTS_WRITE))]
KeyWriter = Annotated[str, Depends(requires(OidcScope.KEYS_WRITE))]

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem_doc("Missing, unknown, expired or revoked token (`unauthenticated`)."),
    403: problem_doc("The token lacks the scope (`insufficient_scope`)."),
    404: problem_doc("No such client (`not_found`)."),
    422: problem_doc("Invalid metadata; `errors` names each field and rule (`invalid_input`)."),
}
admin = APIRouter(prefix="/api/v1", responses=RESPONSES)
protocol = APIRouter()

_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
}


@admin.post("/clients", status_code=201, tags=["clients"])
async def create_client(
    body: ClientMetadata, provider: ProviderDep, actor: Writer
) -> RegisteredOut:
    """Register a client; the response carries its secret, shown only this once."""
    try:
        async with provider.database.transaction() as session:
            registered = await register_client(session, body, provider.clock())
    except RegistrationError as error:
        raise error.problem() from error
    log.info("oidc.client.registered", client_id=registered.client.client_id, actor=actor)
    return RegisteredOut(**_client_out(registered.client), client_secret=registered.client_secret)


@admin.get("/clients", tags=["clients"])
async def list_all(provider: ProviderDep, actor: Reader) -> list[ClientOut]:
    async with provider.database.transaction() as session:
        return [ClientOut(**_client_out(client)) for client in await list_clients(session)]


@admin.get("/clients/{client_id}", tags=["clients"])
async def get_one(client_id: str, provider: ProviderDep, actor: Reader) -> ClientOut:
    async with provider.database.transaction() as session:
        client = await get_client(session, client_id)
    if client is None:
        raise Problem(404, "not_found", f"no client {client_id!r}")
    return ClientOut(**_client_out(client))


@admin.delete("/clients/{client_id}", status_code=204, tags=["clients"])
async def delete_one(client_id: str, provider: ProviderDep, actor: Writer) -> Response:
    async with provider.database.transaction() as session:
        if not await delete_client(session, client_id):
            raise Problem(404, "not_found", f"no client {client_id!r}")
    provider.adapter.clients.invalidate(client_id)
    log.info("oidc.client.deleted", client_id=client_id, actor=actor)
    return Response(status_code=204)


@admin.get("/keys", tags=["keys"])
async def list_keys(provider: ProviderDep, actor: Reader) -> list[KeyOut]:
    return [_key_out(key) for key in provider.keyring.signing_keys()]


@admin.post("/keys/{alg}/rotate", status_code=201, tags=["keys"])
async def rotate_key(alg: Algorithm, provider: ProviderDep, actor: KeyWriter) -> KeyOut:
    """Publish a new ``next`` key; it signs once ``key_publish_lead`` has passed."""
    try:
        key = await provider.keyring.rotate(alg, provider.clock())
    except KeyRingError as error:
        raise Problem(409, "rotation_pending", str(error)) from error
    log.info("oidc.key.published", kid=key.kid, alg=alg, actor=actor)
    return _key_out(key)


@protocol.get("/.well-known/openid-configuration", tags=["metadata"])
async def openid_configuration(provider: ProviderDep) -> dict[str, Any]:
    return discovery_document(provider)


@protocol.get("/jwks", tags=["metadata"])
async def jwks(provider: ProviderDep) -> JSONResponse:
    headers = {"Cache-Control": f"public, max-age={_JWKS_MAX_AGE}"}
    return JSONResponse(
        provider.keyring.jwks(), headers=headers, media_type="application/jwk-set+json"
    )


@protocol.post("/token", tags=["oauth"], openapi_extra=_FORM_BODY)
async def token(request: Request) -> Response:
    """RFC 6749 §4.4 client-credentials grant; RFC 6749 §5.2 JSON errors."""
    # No FastAPI dependency on the provider's busiest endpoint: it skips dependency solving
    # (about 2-3 % of a grant's CPU in a same-run A/B of benchmarks/idp.py).
    return await provider_of(request).adapter.token(request)


@protocol.post("/revoke", tags=["oauth"], openapi_extra=_FORM_BODY)
async def revoke(request: Request, provider: ProviderDep) -> Response:
    """RFC 7009 token revocation (authenticated clients, their own tokens)."""
    return await provider.adapter.revoke(request)


@protocol.post("/par", tags=["oauth"], status_code=201, openapi_extra=_FORM_BODY)
async def par(request: Request, flow: FlowDep, provider: ProviderDep) -> Response:
    """RFC 9126 pushed authorization request: 201 with a one-time ``request_uri``."""
    return await provider.adapter.par(request)


@protocol.post("/introspect", tags=["oauth"], openapi_extra=_FORM_BODY)
async def introspect(request: Request, provider: ProviderDep) -> Response:
    """RFC 7662 token introspection (authenticated clients only)."""
    return await provider.adapter.introspect(request)


async def _flow(request: Request) -> LoginFlow:
    flow = provider_of(request).flow
    if flow is None:
        # The provider serves machine clients only (no register was configured).
        raise Problem(404, "not_found", "the authorization-code flow is not enabled")
    return flow


FlowDep = Annotated[LoginFlow, Depends(_flow)]


async def authorize(request: Request, flow: FlowDep) -> Response:
    """OIDC Core §3.1.2 authorization endpoint (GET, or a form POST)."""
    return await flow.authorize(request)


async def login(request: Request, flow: FlowDep) -> Response:
    """Password login of a pending authorization request (``?tx=``)."""
    return await flow.login(request)


async def login_totp(request: Request, flow: FlowDep) -> Response:
    """Second factor (TOTP or recovery code) when the requested level needs it."""
    return await flow.second_factor(request)


async def consent(request: Request, flow: FlowDep) -> Response:
    """Consent to release the requested claims to the client."""
    return await flow.consent(request)


async def userinfo(request: Request, flow: FlowDep) -> Response:
    """OIDC Core §5.3 UserInfo: a Bearer access token, or a DPoP-bound one with its proof
    (RFC 9449 §7), checked here before the flow answers."""
    provider = provider_of(request)
    checked = await protected_resource_token(
        request,
        uri=provider.settings.userinfo_endpoint,
        now=provider.clock(),
        settings=provider.settings,
        store=provider.adapter.proofs,
        nonces=provider.adapter.nonces,
    )
    if isinstance(checked, Response):
        return checked
    return await flow.userinfo(checked)


async def logout(request: Request, flow: FlowDep) -> Response:
    """OpenID Connect RP-Initiated Logout 1.0."""
    return await flow.logout(request)


for _path, _endpoint in (
    ("/authorize", authorize),
    ("/login", login),
    ("/login/totp", login_totp),
    ("/consent", consent),
    ("/userinfo", userinfo),
    ("/logout", logout),
):
    for _method in ("GET", "POST"):
        protocol.add_api_route(
            _path,
            _endpoint,
            methods=[_method],
            tags=["oidc"],
            operation_id=f"{_endpoint.__name__}_{_method.lower()}",
            response_class=JSONResponse if _endpoint is userinfo else HTMLResponse,
        )


async def login_passkey_options(request: Request, flow: FlowDep) -> Response:
    """WebAuthn request options (JSON) for a passkey login of a pending request."""
    return await flow.passkey_options(request)


async def login_passkey(request: Request, flow: FlowDep) -> Response:
    """Passkey login (``acr`` ``high``) of a pending authorization request."""
    return await flow.passkey_login(request)


async def account_login(request: Request, flow: FlowDep) -> Response:
    """Sign-in of the account pages (password)."""
    return await AccountPages(flow).login(request)


async def account_login_totp(request: Request, flow: FlowDep) -> Response:
    """Second factor of the account pages' sign-in."""
    return await AccountPages(flow).second_factor(request)


async def account_login_passkey_options(request: Request, flow: FlowDep) -> Response:
    """WebAuthn request options (JSON) for the account pages' passkey sign-in."""
    return await AccountPages(flow).login_options(request)


async def account_login_passkey(request: Request, flow: FlowDep) -> Response:
    """Passkey sign-in of the account pages."""
    return await AccountPages(flow).login_passkey(request)


async def account_passkeys(request: Request, flow: FlowDep) -> Response:
    """The citizen's passkeys: list (GET), add (POST)."""
    return await AccountPages(flow).passkeys(request)


async def account_passkey_options(request: Request, flow: FlowDep) -> Response:
    """WebAuthn creation options (JSON) for a new passkey."""
    return await AccountPages(flow).registration_options(request)


async def account_passkey_remove(request: Request, flow: FlowDep) -> Response:
    """Remove one of the citizen's passkeys."""
    return await AccountPages(flow).remove_passkey(request)


async def account_consents(request: Request, flow: FlowDep) -> Response:
    """The relying parties whose consent is remembered."""
    return await AccountPages(flow).consents(request)


async def account_consent_revoke(request: Request, flow: FlowDep) -> Response:
    """Revoke a remembered consent: the next authorization asks again."""
    return await AccountPages(flow).revoke_consent(request)


_BOTH, _POST = ("GET", "POST"), ("POST",)
for _path, _endpoint, _methods in (
    ("/login/passkey/options", login_passkey_options, _POST),
    ("/login/passkey", login_passkey, _POST),
    ("/account/login", account_login, _BOTH),
    ("/account/login/totp", account_login_totp, _BOTH),
    ("/account/login/passkey/options", account_login_passkey_options, _POST),
    ("/account/login/passkey", account_login_passkey, _POST),
    ("/account/passkeys", account_passkeys, _BOTH),
    ("/account/passkeys/options", account_passkey_options, _POST),
    ("/account/passkeys/remove", account_passkey_remove, _POST),
    ("/account/consents", account_consents, ("GET",)),
    ("/account/consents/revoke", account_consent_revoke, _POST),
):
    for _method in _methods:
        protocol.add_api_route(
            _path,
            _endpoint,
            methods=[_method],
            tags=["oidc"],
            operation_id=f"{_endpoint.__name__}_{_method.lower()}",
            response_class=HTMLResponse,
        )


def create_app(provider: OidcProvider, *, housekeeping_interval: float = 60.0) -> FastAPI:
    """The provider's ASGI app; its lifespan starts the key ring and the housekeeping loop."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await provider.start()
        task = asyncio.create_task(_housekeeping(provider, housekeeping_interval))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="Jisr OpenID Connect provider",
        version=__version__,
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.provider = provider
    app.include_router(protocol)
    app.include_router(admin)
    app.mount("/identity/static", StaticFiles(directory=STATIC_DIR), name="identity-static")
    install_problem_handlers(app, log)
    return app


async def _housekeeping(provider: OidcProvider, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await provider.housekeeping()
        except Exception as error:  # keep rotating on the next tick; the error is logged
            log.exception("oidc.housekeeping_failed", error=repr(error))
