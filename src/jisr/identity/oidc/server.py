"""Authlib's authorization server, grants and endpoints, bound to Jisr's clients and tokens.

Authlib is synchronous: it asks for a client with ``query_client(client_id)`` and saves
tokens with ``save_token(token, request)``. Nothing here touches the database. The adapter
(:mod:`jisr.identity.oidc.adapter`) loads what a request can need into
:class:`OidcRequest.loaded` first; Authlib's sync logic reads only that, and writes its
effects (tokens issued, a token revoked, an assertion's ``jti``) to
:class:`OidcRequest.pending`, which the adapter commits in one transaction afterwards.

DPoP (RFC 9449) reaches this module as :attr:`Loaded.dpop`, a proof the adapter verified;
:meth:`OidcServer.dpop_binding` decides whether and to which key the tokens are bound.
Pushed authorization requests (RFC 9126) are validated by :meth:`OidcServer.push` exactly as
``/authorize`` validates, and stored by the adapter from :attr:`Pending.pushed`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from authlib.common.urls import add_params_to_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationCodeGrant,
    AuthorizationServer,
    ClientCredentialsGrant,
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
    RefreshTokenGrant,
    TokenMixin,
    scope_to_list,
)
from authlib.oauth2.rfc6749.authenticate_client import (  # type: ignore[import-untyped]
    authenticate_client_secret_basic,
    authenticate_client_secret_post,
    authenticate_none,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload  # type: ignore[import-untyped]
from authlib.oauth2.rfc7009 import RevocationEndpoint  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import CodeChallenge  # type: ignore[import-untyped]
from authlib.oauth2.rfc7662 import IntrospectionEndpoint  # type: ignore[import-untyped]
from authlib.oidc.core import OpenIDCode  # type: ignore[import-untyped]

from jisr.identity.oidc.claims import person_claims
from jisr.identity.oidc.clients import (
    AUTH_METHODS,
    TOKEN_AUTH_METHODS,
    AssertionClaims,
    Client,
    unverified_assertion_subject,
    verify_client_assertion,
)
from jisr.identity.oidc.dpop import DpopProof, InvalidDpopProofError, is_thumbprint
from jisr.identity.oidc.errors import AssertionRefused
from jisr.identity.oidc.keys import Algorithm, KeyRing
from jisr.identity.oidc.par import PushedRequest, new_pushed_request
from jisr.identity.oidc.settings import OidcSettings
from jisr.identity.oidc.tokens import (
    IssuedToken,
    at_hash,
    hash_token,
    issue_access_token,
    issue_refresh_token,
    sign_jwt,
)
from jisr.identity.register import Person

__all__ = [
    "ASSERTION_TYPE",
    "EndUser",
    "Loaded",
    "OidcRequest",
    "OidcServer",
    "Pending",
    "Reply",
    "StoredGrant",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
Reply = tuple[int, dict[str, Any], list[tuple[str, str]]]


@dataclass(frozen=True)
class EndUser:
    """The person an authorization is for, and how they authenticated."""

    nin: str
    subject: str
    acr: str
    amr: tuple[str, ...]
    auth_time: datetime


@dataclass(frozen=True)
class StoredGrant:
    """One authorization code and what was granted with it (``oidc_grants``)."""

    id: str
    client_id: str
    code_hash: str
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    nin: str
    subject: str
    scope: str
    claims: dict[str, list[str]]
    acr: str
    amr: tuple[str, ...]
    auth_time: datetime
    created_at: datetime
    code_expires_at: datetime
    code_used_at: datetime | None = None
    revoked_at: datetime | None = None
    dpop_jkt: str | None = None

    @property
    def user(self) -> EndUser:
        return EndUser(self.nin, self.subject, self.acr, self.amr, self.auth_time)

    # Authlib's AuthorizationCodeMixin and CodeChallenge read these.
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Loaded:
    """Read by the adapter before Authlib runs: the clients named, the token presented, the
    grant of a code or refresh token, and the person when the ID token carries claims."""

    clients: Mapping[str, Client]
    token: IssuedToken | None = None
    grant: StoredGrant | None = None
    person: Person | None = None
    dpop: DpopProof | None = None


@dataclass
class Pending:
    """Effects decided by Authlib's sync logic, for the adapter to commit."""

    tokens: list[IssuedToken] = field(default_factory=list)
    assertion: AssertionClaims | None = None
    revoke: str | None = None
    # Authorization endpoint: the grant of the code just issued.
    grant: StoredGrant | None = None
    # Token endpoint: the code redeemed (marked used only if still unused), the refresh
    # token rotated (likewise), the grant whose every token is revoked (a replay).
    use_code: str | None = None
    rotate: str | None = None
    revoke_grant: str | None = None
    # /par: the validated request to store under its request_uri.
    pushed: PushedRequest | None = None


_CURRENT: ContextVar[OidcRequest] = ContextVar("jisr_oidc_request")


class OidcRequest(OAuth2Request):  # type: ignore[misc]
    """Authlib's view of one HTTP request: method, URI, headers, the parsed form."""

    def __init__(
        self,
        uri: str,
        headers: Mapping[str, str],
        form: dict[str, str],
        loaded: Loaded,
        now: datetime,
        method: str = "POST",
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form
        self.loaded = loaded
        self.pending = Pending()
        self.now = now
        self.claims_request: dict[str, list[str]] = {"userinfo": [], "id_token": []}

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class OAuthClient(ClientMixin):  # type: ignore[misc]
    """A registered :class:`Client` in Authlib's client interface."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client.check_secret(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # One registered method for every endpoint (RFC 7591 §2 token_endpoint_auth_method).
        return method == self.client.token_endpoint_auth_method

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.client.grant_types

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string comparison (RFC 9700 §4.1.1), no pattern or prefix matching.
        return redirect_uri in self.client.redirect_uris

    def get_default_redirect_uri(self) -> None:
        # OIDC Core §3.1.2.1: redirect_uri is REQUIRED; there is no default.
        return None

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.client.response_types

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in self.client.scopes)


class _Token(TokenMixin):  # type: ignore[misc]
    def __init__(self, token: IssuedToken, now: datetime) -> None:
        self.token, self.now = token, now

    def check_client(self, client: OAuthClient) -> bool:
        return self.token.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.token.scope

    def get_expires_in(self) -> int:
        return int((self.token.expires_at - self.token.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.token.expires_at <= self.now

    def is_revoked(self) -> bool:
        return self.token.revoked_at is not None

    def get_client_id(self) -> str:
        return self.token.client_id


def _bound(
    method: Callable[[Callable[[str], OAuthClient | None], OidcRequest], OAuthClient | None],
) -> Callable[[Any, OidcRequest], OAuthClient | None]:
    """An Authlib auth method that looks clients up in the request's preloaded set."""

    def authenticate(_query_client: Any, request: OidcRequest) -> OAuthClient | None:
        return method(lambda client_id: _lookup(request, client_id), request)

    return authenticate


def _lookup(request: OidcRequest, client_id: str) -> OAuthClient | None:
    client = request.loaded.clients.get(client_id)
    return None if client is None else OAuthClient(client)


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    server: OidcServer
    request: OidcRequest

    def validate_requested_scope(self) -> None:
        # RFC 6749 §3.3: only scopes registered for the client; none asked means all of them.
        requested = scope_to_list(self.request.payload.scope) or []
        if not set(requested) <= set(self.request.client.client.scopes):
            raise InvalidScopeError()

    def generate_token(self, **_: Any) -> dict[str, Any]:
        client: Client = self.request.client.client
        scope = self.request.payload.scope or " ".join(client.scopes)
        # RFC 9068 §2.2: with no resource owner, sub identifies the client.
        return self.server.issue(self.request, client, subject=client.client_id, scope=scope)


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(TOKEN_AUTH_METHODS)
    SUPPORTED_TOKEN_TYPES = ("access_token", "refresh_token")

    def query_token(self, token_string: str, token_type_hint: str | None) -> None:
        raise AssertionError("tokens are preloaded by the adapter")  # never called

    def authenticate_token(self, request: OidcRequest, client: OAuthClient) -> _Token | None:
        self.check_params(request, client)
        token = _loaded_token(request)
        if token is not None and not token.check_client(client):
            # RFC 7009 §2.1: a client may revoke only its own tokens. Answering as for an
            # unknown token (200) would hide the refusal; Authlib's invalid_grant says it.
            raise InvalidGrantError()
        return token

    def revoke_token(self, token: _Token, request: OidcRequest) -> None:
        request.pending.revoke = token.token.token_hash
        if token.token.kind == "refresh_token" and token.token.grant_id is not None:
            # RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens
            # of the same authorization grant.
            request.pending.revoke_grant = token.token.grant_id


class _Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def __init__(self, server: OidcServer) -> None:
        super().__init__(server)
        self.settings = server.settings

    def query_token(self, token_string: str, token_type_hint: str | None) -> None:
        raise AssertionError("tokens are preloaded by the adapter")  # never called

    def authenticate_token(self, request: OidcRequest, client: OAuthClient) -> _Token | None:
        self.check_params(request, client)
        token = _loaded_token(request)
        if token is not None and self.check_permission(token, client, request):
            return token
        return None

    def check_permission(self, token: _Token, client: OAuthClient, request: OidcRequest) -> bool:
        # RFC 7662 §4: a client sees its own tokens; resource servers registered with
        # may_introspect see all. Anything else is answered {"active": false}.
        return bool(token.check_client(client) or client.client.may_introspect)

    def introspect_token(self, token: _Token) -> dict[str, Any]:
        issued = token.token
        bound = {} if issued.cnf_jkt is None else {"cnf": {"jkt": issued.cnf_jkt}}
        return bound | {
            "active": True,
            "iss": self.settings.issuer,
            "client_id": issued.client_id,
            "sub": issued.subject,
            "scope": issued.scope,
            # RFC 9449 §6.2: a bound token is a DPoP token, its cnf names the key.
            "token_type": "Bearer" if issued.cnf_jkt is None else "DPoP",
            "iat": int(issued.issued_at.timestamp()),
            "exp": int(issued.expires_at.timestamp()),
            "jti": issued.jti,
        }


def _loaded_token(request: OidcRequest) -> _Token | None:
    token = request.loaded.token
    return None if token is None else _Token(token, request.now)


class _AuthorizationCode(AuthorizationCodeGrant):  # type: ignore[misc]
    """RFC 6749 §4.1 with OIDC Core §3.1; PKCE by the CodeChallenge extension."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(TOKEN_AUTH_METHODS)
    server: OidcServer
    request: OidcRequest

    def validate_requested_scope(self) -> None:
        requested = scope_to_list(self.request.payload.scope) or []
        if not set(requested) <= set(self.request.client.client.scopes):
            raise InvalidScopeError()

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        try:
            self.server.check_authorization_request(self.request)
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri
            raise
        return redirect_uri

    def create_authorization_response(self, redirect_uri: str, grant_user: EndUser | None) -> Reply:
        status, body, headers = super().create_authorization_response(redirect_uri, grant_user)
        # RFC 9207: the issuer in the response lets the client detect mix-up attacks.
        location = add_params_to_uri(dict(headers)["Location"], [("iss", self.server.issuer)])
        return status, body, [("Location", location)]

    def save_authorization_code(self, code: str, request: OidcRequest) -> None:
        user: EndUser = request.user
        data = request.payload.data
        lifetime = self.server.settings.code_lifetime
        request.pending.grant = StoredGrant(
            id=secrets.token_urlsafe(18),
            client_id=request.client.get_client_id(),
            code_hash=hash_token(code),
            redirect_uri=request.payload.redirect_uri,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method") or None,
            nonce=data.get("nonce"),
            nin=user.nin,
            subject=user.subject,
            scope=request.scope,
            claims=request.claims_request,
            acr=user.acr,
            amr=user.amr,
            auth_time=user.auth_time,
            created_at=request.now,
            code_expires_at=request.now + lifetime,
            dpop_jkt=data.get("dpop_jkt") or None,
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> StoredGrant | None:
        grant = self.request.loaded.grant
        if grant is None or grant.code_hash != hash_token(code):
            return None
        if grant.client_id != client.get_client_id():
            return None
        if grant.code_used_at is not None or grant.revoked_at is not None:
            # RFC 6749 §4.1.2: a code used twice is refused and every token issued from it
            # revoked; the adapter commits the revocation with the refusal.
            self.request.pending.revoke_grant = grant.id
            return None
        if grant.code_expires_at <= self.request.now:
            return None
        return grant

    def delete_authorization_code(self, authorization_code: StoredGrant) -> None:
        self.request.pending.use_code = authorization_code.id

    def authenticate_user(self, authorization_code: StoredGrant) -> EndUser:
        return authorization_code.user

    def generate_token(
        self, user: EndUser, scope: str, include_refresh_token: bool = True, **_: Any
    ) -> dict[str, Any]:
        grant: StoredGrant = self.request.authorization_code
        return self.server.issue_for_user(
            self.request,
            self.request.client.client,
            user,
            scope,
            grant.id,
            include_refresh_token,
            bound_to=grant.dpop_jkt,
        )


class _CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """RFC 7636 with S256 only: ``plain`` gives no protection once the request leaks."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    """ID tokens (OIDC Core §2) signed by the key ring instead of Authlib's key lookup."""

    def __init__(self, server: OidcServer) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce: str, request: OidcRequest) -> bool:
        # Replayed ID tokens are caught by the relying party, which compares the nonce
        # with the one it stored for the browser session (OIDC Core §15.5.2).
        return False

    def encode_id_token(self, token: dict[str, Any], request: OidcRequest) -> str:
        grant: StoredGrant = request.authorization_code
        return self.server.id_token(request, request.client.client, grant, token["access_token"])


class _RefreshToken(RefreshTokenGrant):  # type: ignore[misc]
    """RFC 6749 §6 with rotation: every use returns a new refresh token and retires the old
    one; presenting a retired one revokes the whole grant (RFC 9700 §4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(TOKEN_AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: OidcServer
    request: OidcRequest

    def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
        token = self.request.loaded.token
        grant = self.request.loaded.grant
        if token is None or token.kind != "refresh_token" or grant is None:
            return None
        if token.token_hash != hash_token(refresh_token):
            return None
        if token.revoked_at is not None or grant.revoked_at is not None:
            self.request.pending.revoke_grant = grant.id
            return None
        if token.expires_at <= self.request.now:
            return None
        return _Token(token, self.request.now)

    def authenticate_user(self, refresh_token: _Token) -> EndUser | None:
        grant = self.request.loaded.grant
        return None if grant is None else grant.user

    def revoke_old_credential(self, refresh_token: _Token) -> None:
        self.request.pending.rotate = refresh_token.token.token_hash

    def generate_token(
        self, user: EndUser, scope: str, include_refresh_token: bool = True, **_: Any
    ) -> dict[str, Any]:
        grant = self.request.loaded.grant
        token = self.request.loaded.token
        assert grant is not None  # authenticate_refresh_token checked both
        assert token is not None
        return self.server.issue_for_user(
            self.request,
            self.request.client.client,
            user,
            scope,
            grant.id,
            True,
            bound_to=token.cnf_jkt,
        )


class OidcServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's AuthorizationServer with Jisr's grant, endpoints and auth methods."""

    def __init__(self, settings: OidcSettings, keyring: KeyRing) -> None:
        super().__init__()
        self.settings = settings
        self.keyring = keyring
        # OIDC parameter rules of /authorize beyond Authlib's (prompt, max_age, claims ...),
        # set by the provider when the login flow is on; /par applies them too.
        self.authorization_rules: Callable[[Mapping[str, str]], object] | None = None
        self.register_grant(_ClientCredentials)
        self.register_grant(_AuthorizationCode, [_CodeChallenge(required=True), _OpenIDCode(self)])
        self.register_grant(_RefreshToken)
        self.register_endpoint(_Revocation(self))
        self.register_endpoint(_Introspection(self))
        self.register_client_auth_method(
            "client_secret_basic", _bound(authenticate_client_secret_basic)
        )
        self.register_client_auth_method(
            "client_secret_post", _bound(authenticate_client_secret_post)
        )
        self.register_client_auth_method("private_key_jwt", self._private_key_jwt)
        self.register_client_auth_method("none", _bound(authenticate_none))

    @property
    def issuer(self) -> str:
        return self.settings.issuer

    def query_client(self, client_id: str) -> OAuthClient | None:
        # Only the clients the adapter preloaded for the request being decided.
        request = _CURRENT.get(None)
        return None if request is None else _lookup(request, client_id)

    def decide(self, request: OidcRequest, decision: Callable[[OidcRequest], Reply]) -> Reply:
        """Run Authlib's sync ``decision`` on ``request``, its clients visible to query_client."""
        marker = _CURRENT.set(request)
        try:
            return decision(request)
        finally:
            _CURRENT.reset(marker)

    def authorization_grant(self, request: OidcRequest) -> _AuthorizationCode:
        """Authlib's grant for an authorization request, validated; raises OAuth2Error."""
        marker = _CURRENT.set(request)
        try:
            grant: _AuthorizationCode = self.get_authorization_grant(request)
            grant.validate_no_multiple_request_parameter(request)
            grant.redirect_uri = grant.validate_authorization_request()
            return grant
        except OAuth2Error as error:
            error.state = request.payload.state
            raise
        finally:
            _CURRENT.reset(marker)

    def check_authorization_request(self, request: OidcRequest) -> None:
        """OIDC and PKCE rules Authlib leaves to the server (after client and redirect URI)."""
        data = request.payload.data
        client: Client = request.client.client
        if "openid" not in (scope_to_list(request.payload.scope) or []):
            raise InvalidScopeError(description="scope must include openid")
        if data.get("code_challenge_method") == "plain":
            raise InvalidRequestError(description="code_challenge_method plain is not supported")
        if client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError(description="public clients must use PKCE (S256)")
        if client.is_public and not data.get("nonce"):
            raise InvalidRequestError(description="public clients must send a nonce")
        if data.get("code_challenge") and not data.get("code_challenge_method"):
            # RFC 7636 §4.3 would default to plain, which is refused.
            raise InvalidRequestError(description="code_challenge_method S256 is required")
        if "dpop_jkt" in data and not is_thumbprint(data["dpop_jkt"]):
            # RFC 9449 §10: a base64url SHA-256 JWK thumbprint.
            raise InvalidRequestError(description="dpop_jkt must be a JWK SHA-256 thumbprint")

    def dpop_binding(
        self, request: OidcRequest, client: Client, bound_to: str | None
    ) -> str | None:
        """The thumbprint the tokens are bound to: the proof's key, if a proof came.

        A proof is required when the client registered ``dpop_bound_access_tokens``
        (RFC 9449 §5.2) or the grant is bound already, by ``dpop_jkt`` (§10) or by a bound
        refresh token (§5); then its key must be that key."""
        proof = request.loaded.dpop
        if proof is None:
            if client.dpop_bound_access_tokens or bound_to is not None:
                raise InvalidDpopProofError(description="a DPoP proof is required")
            return None
        if bound_to is not None and proof.jkt != bound_to:
            raise InvalidDpopProofError(description="the proof's key is not the bound key")
        return proof.jkt

    def push(self, request: OidcRequest) -> Reply:
        """RFC 9126 §2: authenticate the client, validate the request as /authorize would,
        keep it under a new request_uri (201); errors are JSON (§2.3), never redirects."""
        try:
            client = self.authenticate_client(request, list(TOKEN_AUTH_METHODS), "par")
            params = self._pushed_parameters(request, client.client)
            self._validate_pushed(request, client.client, params)
        except OAuth2Error as error:
            error.redirect_uri, error.state = None, None
            return self.handle_error_response(request, error)
        lifetime = self.settings.pushed_request_lifetime
        request_uri, pushed = new_pushed_request(
            client.client.client_id, params, request.now, lifetime
        )
        request.pending.pushed = pushed
        body = {"request_uri": request_uri, "expires_in": int(lifetime.total_seconds())}
        return 201, body, [("Cache-Control", "no-store")]

    def _pushed_parameters(self, request: OidcRequest, client: Client) -> dict[str, str]:
        form = request.form
        if "request" in form:
            # RFC 9126 §3 pushes request objects (JAR, RFC 9101), which Jisr does not support.
            raise OAuth2Error(
                error="request_not_supported", description="request objects are not supported"
            )
        if "request_uri" in form:
            raise InvalidRequestError(description="request_uri may not be pushed")  # §2.1
        if form.get("client_id", client.client_id) != client.client_id:
            raise InvalidRequestError(description="client_id is not the authenticated client")
        params = {k: v for k, v in form.items() if k not in _CLIENT_AUTH_PARAMETERS}
        params["client_id"] = client.client_id
        proof = request.loaded.dpop
        if proof is not None:
            # RFC 9449 §10.1: a proof at /par binds the code to its key, like dpop_jkt.
            if params.get("dpop_jkt", proof.jkt) != proof.jkt:
                raise InvalidDpopProofError(description="dpop_jkt is not the proof's key")
            params["dpop_jkt"] = proof.jkt
        return params

    def _validate_pushed(
        self, request: OidcRequest, client: Client, params: dict[str, str]
    ) -> None:
        authorization = OidcRequest(
            self.settings.issuer + "/authorize",
            {},
            params,
            Loaded(clients={client.client_id: client}),
            request.now,
            method="GET",
        )
        self.authorization_grant(authorization)
        if self.authorization_rules is not None:
            self.authorization_rules(params)

    def issue_for_user(
        self,
        request: OidcRequest,
        client: Client,
        user: EndUser,
        scope: str,
        grant_id: str,
        with_refresh: bool,
        *,
        bound_to: str | None = None,
    ) -> dict[str, Any]:
        jkt = self.dpop_binding(request, client, bound_to)
        lifetime = self.settings.access_token_lifetime
        token, record = issue_access_token(
            self.keyring.signer("ES256"),
            issuer=self.settings.issuer,
            audience=self.settings.issuer,
            client_id=client.client_id,
            subject=user.subject,
            scope=scope,
            now=request.now,
            lifetime=lifetime,
            grant_id=grant_id,
            jkt=jkt,
        )
        request.pending.tokens.append(record)
        response: dict[str, Any] = {
            "access_token": token,
            "token_type": _token_type(jkt),
            "expires_in": int(lifetime.total_seconds()),
            "scope": scope,
        }
        if with_refresh and "refresh_token" in client.grant_types:
            refresh_scope = scope
            if request.refresh_token is not None:
                refresh_scope = request.refresh_token.get_scope()
            refresh, refresh_record = issue_refresh_token(
                client_id=client.client_id,
                subject=user.subject,
                scope=refresh_scope,
                now=request.now,
                lifetime=self.settings.refresh_token_lifetime,
                grant_id=grant_id,
                # RFC 9449 §5: a public client's refresh token is bound to its DPoP key; a
                # confidential client's is already bound to the client's authentication.
                jkt=jkt if client.is_public else None,
            )
            request.pending.tokens.append(refresh_record)
            response["refresh_token"] = refresh
        return response

    def id_token(
        self, request: OidcRequest, client: Client, grant: StoredGrant, access_token: str
    ) -> str:
        """The ID token (OIDC Core §2, §3.1.3.6) of the code ``grant``, for ``client``."""
        issued_at = int(request.now.timestamp())
        claims: dict[str, Any] = {
            "iss": self.settings.issuer,
            "sub": grant.subject,
            "aud": client.client_id,
            "iat": issued_at,
            "exp": issued_at + int(self.settings.id_token_lifetime.total_seconds()),
            "auth_time": int(grant.auth_time.timestamp()),
            "acr": grant.acr,
            "amr": list(grant.amr),
            "at_hash": at_hash(access_token),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        person = request.loaded.person
        asked = grant.claims.get("id_token", [])
        if person is not None and asked:
            claims.update(person_claims(person, asked))
        rs256 = client.id_token_signed_response_alg == "RS256"  # noqa: S105 -- an algorithm
        alg: Algorithm = "RS256" if rs256 else "ES256"
        return sign_jwt(self.keyring.signer(alg), claims)

    def issue(
        self, request: OidcRequest, client: Client, *, subject: str, scope: str
    ) -> dict[str, Any]:
        jkt = self.dpop_binding(request, client, None)
        lifetime = self.settings.access_token_lifetime
        token, record = issue_access_token(
            self.keyring.signer("ES256"),
            issuer=self.settings.issuer,
            audience=self.settings.issuer,
            client_id=client.client_id,
            subject=subject,
            scope=scope,
            now=request.now,
            lifetime=lifetime,
            jkt=jkt,
        )
        request.pending.tokens.append(record)
        response = {
            "access_token": token,
            "token_type": _token_type(jkt),
            "expires_in": int(lifetime.total_seconds()),
        }
        if scope:
            response["scope"] = scope
        return response

    def save_token(self, token: dict[str, Any], request: OidcRequest) -> None:
        # issue() already recorded it in request.pending; the adapter commits it.
        return None

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: OidcRequest) -> OidcRequest:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Reply:
        return status, dict(body), list(headers)

    def handle_error_response(self, request: OidcRequest, error: OAuth2Error) -> Reply:
        if isinstance(error, InvalidClientError):
            # RFC 6749 §5.2: 401 (we answer it for every failed client authentication).
            error.status_code = 401
        reply: Reply = self.handle_response(*error())
        return reply

    def _private_key_jwt(self, _query_client: Any, request: OidcRequest) -> OAuthClient | None:
        form = request.form
        if form.get("client_assertion_type") != ASSERTION_TYPE or "client_assertion" not in form:
            return None
        assertion = form["client_assertion"]
        client = request.loaded.clients.get(unverified_assertion_subject(assertion) or "")
        if client is None:
            raise InvalidClientError(description="unknown client", status_code=401)
        try:
            claims = verify_client_assertion(
                assertion,
                client,
                audience=self._assertion_audiences(request),
                now=request.now,
                max_lifetime=self.settings.assertion_max_lifetime,
                leeway=self.settings.clock_leeway,
            )
        except AssertionRefused as refused:
            raise InvalidClientError(description=refused.reason, status_code=401) from refused
        request.pending.assertion = claims
        return OAuthClient(client)

    def _assertion_audiences(self, request: OidcRequest) -> str | tuple[str, ...]:
        if request.uri == self.settings.pushed_authorization_request_endpoint:
            # RFC 9126 §2: the issuer, the token endpoint or the PAR endpoint itself.
            return (
                self.settings.issuer,
                self.settings.token_endpoint,
                self.settings.pushed_authorization_request_endpoint,
            )
        return self.settings.token_endpoint


_CLIENT_AUTH_PARAMETERS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


def _token_type(jkt: str | None) -> str:
    # RFC 9449 §5: a token bound to a DPoP key has the token_type DPoP.
    return "Bearer" if jkt is None else "DPoP"
