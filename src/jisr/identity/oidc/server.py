"""Authlib's authorization server, grants and endpoints, bound to Jisr's clients and tokens.

Authlib is synchronous: it asks for a client with ``query_client(client_id)`` and saves
tokens with ``save_token(token, request)``. Nothing here touches the database. The adapter
(:mod:`jisr.identity.oidc.adapter`) loads what a request can need into
:class:`OidcRequest.loaded` first; Authlib's sync logic reads only that, and writes its
effects (tokens issued, a token revoked, an assertion's ``jti``) to
:class:`OidcRequest.pending`, which the adapter commits in one transaction afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationServer,
    ClientCredentialsGrant,
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
    TokenMixin,
    scope_to_list,
)
from authlib.oauth2.rfc6749.authenticate_client import (  # type: ignore[import-untyped]
    authenticate_client_secret_basic,
    authenticate_client_secret_post,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload  # type: ignore[import-untyped]
from authlib.oauth2.rfc7009 import RevocationEndpoint  # type: ignore[import-untyped]
from authlib.oauth2.rfc7662 import IntrospectionEndpoint  # type: ignore[import-untyped]

from jisr.identity.oidc.clients import (
    AUTH_METHODS,
    AssertionClaims,
    Client,
    unverified_assertion_subject,
    verify_client_assertion,
)
from jisr.identity.oidc.errors import AssertionRefused
from jisr.identity.oidc.keys import KeyRing
from jisr.identity.oidc.settings import OidcSettings
from jisr.identity.oidc.tokens import IssuedToken, issue_access_token

__all__ = [
    "ASSERTION_TYPE",
    "Loaded",
    "OidcRequest",
    "OidcServer",
    "Pending",
    "Reply",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
Reply = tuple[int, dict[str, Any], list[tuple[str, str]]]


@dataclass
class Loaded:
    """Read by the adapter before Authlib runs: the clients named and the token presented."""

    clients: Mapping[str, Client]
    token: IssuedToken | None = None


@dataclass
class Pending:
    """Effects decided by Authlib's sync logic, for the adapter to commit."""

    tokens: list[IssuedToken] = field(default_factory=list)
    assertion: AssertionClaims | None = None
    revoke: str | None = None


class OidcRequest(OAuth2Request):  # type: ignore[misc]
    """Authlib's view of one HTTP request: method, URI, headers, the parsed form."""

    def __init__(
        self,
        uri: str,
        headers: Mapping[str, str],
        form: dict[str, str],
        loaded: Loaded,
        now: datetime,
    ) -> None:
        super().__init__("POST", uri, headers=headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form
        self.loaded = loaded
        self.pending = Pending()
        self.now = now

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
        return redirect_uri in self.client.redirect_uris

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
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    SUPPORTED_TOKEN_TYPES = ("access_token",)

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
        return {
            "active": True,
            "iss": self.settings.issuer,
            "client_id": issued.client_id,
            "sub": issued.subject,
            "scope": issued.scope,
            "token_type": "Bearer",
            "iat": int(issued.issued_at.timestamp()),
            "exp": int(issued.expires_at.timestamp()),
            "jti": issued.jti,
        }


def _loaded_token(request: OidcRequest) -> _Token | None:
    token = request.loaded.token
    return None if token is None else _Token(token, request.now)


class OidcServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's AuthorizationServer with Jisr's grant, endpoints and auth methods."""

    def __init__(self, settings: OidcSettings, keyring: KeyRing) -> None:
        super().__init__()
        self.settings = settings
        self.keyring = keyring
        self.register_grant(_ClientCredentials)
        self.register_endpoint(_Revocation(self))
        self.register_endpoint(_Introspection(self))
        self.register_client_auth_method(
            "client_secret_basic", _bound(authenticate_client_secret_basic)
        )
        self.register_client_auth_method(
            "client_secret_post", _bound(authenticate_client_secret_post)
        )
        self.register_client_auth_method("private_key_jwt", self._private_key_jwt)

    def query_client(self, client_id: str) -> None:
        # Every registered auth method reads OidcRequest.loaded instead (see _bound).
        return None

    def issue(
        self, request: OidcRequest, client: Client, *, subject: str, scope: str
    ) -> dict[str, Any]:
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
        )
        request.pending.tokens.append(record)
        response = {
            "access_token": token,
            "token_type": "Bearer",
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
                audience=self.settings.token_endpoint,
                now=request.now,
                max_lifetime=self.settings.assertion_max_lifetime,
                leeway=self.settings.clock_leeway,
            )
        except AssertionRefused as refused:
            raise InvalidClientError(description=refused.reason, status_code=401) from refused
        request.pending.assertion = claims
        return OAuthClient(client)
