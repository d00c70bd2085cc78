"""The demo's relying party: a web site that signs citizens in with their country's IdP.

One confidential client per identity provider (``client_secret_basic``). It builds
authorization requests with PKCE S256 (RFC 7636), ``state`` and ``nonce``, keeping the
verifier and nonce by ``state``; its redirect URI exchanges the code, verifies the ID token
(signature by the provider's JWKS, ``iss``, ``aud``, ``exp``, ``nonce``), calls
``/userinfo`` and shows both. Routes, ``cc`` being ``ma`` or ``qa``:

| path | what |
|---|---|
| ``/`` | a link per country |
| ``/{cc}/login`` | a fresh authorization request: 303 to the provider |
| ``/{cc}/callback`` | the redirect URI: HTML, or JSON when ``Accept`` asks for it |

Demo code: pending requests live in memory, nothing is kept after the page is shown.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

__all__ = ["SCOPE", "Provider", "RelyingParty", "SignInFailed"]

SCOPE = "openid profile address national_id"
_TIMEOUT = 10.0
_MAX_PENDING = 1000


class SignInFailed(Exception):
    """The provider's answer cannot be used; the message says why (shown on the page)."""


@dataclass
class Provider:
    """One identity provider as the relying party knows it: its client and endpoints."""

    country: str
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def endpoint(self, name: str) -> str:
        value: str = self.metadata[name]
        return value


@dataclass(frozen=True)
class _Pending:
    country: str
    verifier: str
    nonce: str


class RelyingParty:
    """The demo RP over ``providers``; :meth:`discover` before the first authorization."""

    def __init__(self, providers: list[Provider]) -> None:
        self.providers = {p.country.lower(): p for p in providers}
        self._pending: dict[str, _Pending] = {}

    async def discover(self) -> None:
        """Read every provider's discovery document (OIDC Discovery 1.0 §4)."""
        async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
            for provider in self.providers.values():
                response = await http.get(provider.discovery_url)
                response.raise_for_status()
                provider.metadata = response.json()

    def authorization_url(self, country: str) -> str:
        """A new authorization request for ``country``'s provider, usable once."""
        provider = self.providers[country.lower()]
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48)  # RFC 7636 §4.1: 43 to 128 characters
        self._pending[state] = _Pending(provider.country, verifier, nonce)
        if len(self._pending) > _MAX_PENDING:  # forget the oldest request no one finished
            del self._pending[next(iter(self._pending))]
        query = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": provider.redirect_uri,
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
            "code_challenge": _s256(verifier),
            "code_challenge_method": "S256",
        }
        return f"{provider.endpoint('authorization_endpoint')}?{urlencode(query)}"

    async def complete(self, country: str, params: dict[str, str]) -> dict[str, Any]:
        """The redirect's query → the verified ID token claims and the userinfo answer."""
        provider = self.providers[country]
        pending = self._pending.pop(params.get("state", ""), None)
        if pending is None or pending.country != provider.country:
            raise SignInFailed("unknown or already used state: start again")
        if "error" in params:
            raise SignInFailed(f"{params['error']}: {params.get('error_description', '')}")
        # RFC 9207 §2.4: the authorization response names the issuer that sent it.
        if params.get("iss", provider.issuer) != provider.issuer:
            raise SignInFailed(f"the response comes from {params['iss']}, not {provider.issuer}")
        async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
            tokens = await _redeem(http, provider, params.get("code", ""), pending.verifier)
            claims = await _id_token_claims(http, provider, tokens["id_token"], pending.nonce)
            userinfo = await http.get(
                provider.endpoint("userinfo_endpoint"),
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
        if userinfo.status_code != 200:
            raise SignInFailed(f"userinfo answered {userinfo.status_code}: {userinfo.text}")
        granted = {k: tokens[k] for k in ("token_type", "expires_in", "scope") if k in tokens}
        return {"id_token": claims, "userinfo": userinfo.json(), "token_response": granted}

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/", self._index),
                Route("/{country:str}/login", self._login),
                Route("/{country:str}/callback", self._callback),
            ]
        )

    async def _index(self, _: Request) -> Response:
        links = "".join(
            f'<li><a href="/{cc}/login">Sign in with {html.escape(p.issuer)} ({cc.upper()})</a>'
            for cc, p in self.providers.items()
        )
        return HTMLResponse(_page("Jisr demo relying party", f"<ul>{links}</ul>"))

    async def _login(self, request: Request) -> Response:
        country = request.path_params["country"]
        if country not in self.providers:
            return HTMLResponse(_page("Unknown country", ""), status_code=404)
        return RedirectResponse(self.authorization_url(country), status_code=303)

    async def _callback(self, request: Request) -> Response:
        country = request.path_params["country"]
        if country not in self.providers:
            return HTMLResponse(_page("Unknown country", ""), status_code=404)
        wants_json = "application/json" in request.headers.get("accept", "")
        try:
            result = await self.complete(country, dict(request.query_params))
        except SignInFailed as failure:
            if wants_json:
                return JSONResponse({"error": str(failure)}, status_code=400)
            body = f"<p>{html.escape(str(failure))}</p>{_again(country)}"
            return HTMLResponse(_page("Sign-in failed", body), status_code=400)
        if wants_json:
            return JSONResponse(result)
        return HTMLResponse(_result_page(country, result))


def _s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


async def _redeem(
    http: httpx.AsyncClient, provider: Provider, code: str, verifier: str
) -> dict[str, Any]:
    """RFC 6749 §4.1.3 with the client's secret (HTTP Basic) and the PKCE verifier."""
    response = await http.post(
        provider.endpoint("token_endpoint"),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": provider.redirect_uri,
            "code_verifier": verifier,
        },
        auth=(provider.client_id, provider.client_secret),
    )
    if response.status_code != 200:
        raise SignInFailed(f"the token endpoint answered {response.status_code}: {response.text}")
    tokens: dict[str, Any] = response.json()
    if not isinstance(tokens.get("id_token"), str) or "access_token" not in tokens:
        raise SignInFailed(f"the token response lacks an ID or access token: {sorted(tokens)}")
    return tokens


async def _id_token_claims(
    http: httpx.AsyncClient, provider: Provider, id_token: str, nonce: str
) -> dict[str, Any]:
    """OIDC Core §3.1.3.7: signature by a key of the JWKS, then iss, aud, exp and nonce."""
    keys = KeySet.import_key_set((await http.get(provider.endpoint("jwks_uri"))).json())
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        token = jwt.decode(id_token, keys, algorithms=["ES256", "RS256"])
        registry.validate(token.claims)
    except (JoseError, ValueError) as error:
        raise SignInFailed(f"the ID token is not valid: {error}") from error
    return dict(token.claims)


def _result_page(country: str, result: dict[str, Any]) -> str:
    info = result["userinfo"]
    who = html.escape(f"{info.get('name', '?')} ({info.get('name#ar', '')})")
    sections = "".join(
        f"<h2>{title}</h2><pre>{html.escape(json.dumps(result[key], ensure_ascii=False, indent=2))}"
        "</pre>"
        for title, key in (
            ("ID token claims (verified)", "id_token"),
            ("userinfo", "userinfo"),
            ("token response (tokens not shown)", "token_response"),
        )
    )
    return _page(f"Signed in with {country.upper()}: {who}", sections + _again(country))


def _again(country: str) -> str:
    return f'<p><a href="/{country}/login">Sign in again</a> · <a href="/">all providers</a></p>'


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        f'<title>{title}</title><body style="font-family:sans-serif;max-width:60rem">'
        f"<h1>{title}</h1>{body}</body></html>"
    )
