"""A live provider for the Basic OP conformance modules: the OIDC app under uvicorn on a free
loopback port, reached over real HTTP, and the relying party's side of the suite (request
building, redirect following, ID-token validation as the suite does it).

The provider runs on a settable clock shared with the test (the server thread reads it), so
the modules that wait (``max_age=1``, code reuse after 30 seconds) advance it instead of
sleeping. Everything else is black-box: the tests see only HTTP responses, discovery and the
JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from jisr.crypto.keys import generate_private_key
from jisr.identity.authn import Accounts, AuthnSettings, Totp
from jisr.identity.authn.totp import totp_at
from jisr.identity.oidc import OidcProvider, Registered, create_app, register_client
from jisr.identity.register import MoroccoNin, PopulationRegister
from jisr.storage import Database
from tests.identity.oidc.conftest import (
    PASSWORD,
    RP,
    Clock,
    code_client,
    flow_settings,
    prepare_flow_database,
)
from tests.identity.oidc.flow import Browser, allow, log_in, query
from tests.servers import free_port, serve_in_thread

# The suite's own tolerance for iat/exp against its clock.
LEEWAY = 5 * 60


@dataclass
class Tokens:
    """A token response and the validated claims of its ID token."""

    body: dict[str, Any]
    claims: dict[str, Any]

    @property
    def access_token(self) -> str:
        value: str = self.body["access_token"]
        return value


@dataclass
class LiveOp:
    """The provider under test, its two confidential clients and public client, and one
    enrolled, activated person with a password and a confirmed TOTP."""

    base: str
    http: httpx.AsyncClient
    clock: Clock
    nin: str
    other_nin: str
    totp_secret: str
    client: Registered  # client_secret_basic: the suite's "client"
    client_post: Registered  # client_secret_post: oidcc-server-client-secret-post
    public: Registered  # token_endpoint_auth_method=none
    metadata: dict[str, Any]

    def browser(self) -> Browser:
        return Browser(self.http, base=self.base)

    def totp(self) -> str:
        return totp_at(self.totp_secret, self.clock.now, AuthnSettings())

    # ------------------------------------------------------------- authorization endpoint

    async def start(
        self, browser: Browser, client: Registered, *, method: str = "GET", **params: str | None
    ) -> httpx.Response:
        """Send an authorization request (query or form); the first response, unfollowed."""
        values: dict[str, str | None] = {
            "response_type": "code",
            "client_id": client.client.client_id,
            "redirect_uri": RP,
            "scope": "openid",
            "state": "st-" + self.clock.now.strftime("%H%M%S%f"),
            "nonce": "n-" + self.clock.now.strftime("%H%M%S%f"),
            **params,
        }
        present = {k: v for k, v in values.items() if v is not None}
        if method == "POST":
            return await browser.request("POST", "/authorize", data=present)
        return await browser.get("/authorize", params=present)

    async def interact(
        self,
        browser: Browser,
        response: httpx.Response,
        *,
        totp: bool = False,
        remember: bool = False,
        nin: str | None = None,
    ) -> tuple[httpx.Response, list[str]]:
        """Play the user: log in, the second factor, consent (remembered or not), until the
        redirect back to the client. Returns it and the pages shown ("login", "totp",
        "consent")."""
        shown: list[str] = []
        for _ in range(4):
            location = response.headers.get("location", "")
            if location.startswith("/login?"):
                shown.append("login")
                response = await log_in(browser, response, nin or self.nin, PASSWORD)
            elif location.startswith("/login/totp?"):
                shown.append("totp")
                assert totp, "the provider asked for a second factor"
                page = await browser.get(location)
                response = await browser.submit(location, page, {"code": self.totp()})
            elif location.startswith("/consent?"):
                shown.append("consent")
                response = await allow(browser, response, remember=remember)
            else:
                break
        return response, shown

    def callback(self, response: httpx.Response, state: str | None = None) -> dict[str, str]:
        """The query of the redirect to the client's redirect_uri (RFC 9207 ``iss`` checked)."""
        assert response.status_code in (302, 303), response.text
        location = response.headers["location"]
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == RP, location
        result = query(location)
        assert result.get("iss") == self.base, result
        if state is not None:
            assert result.get("state") == state, result
        return result

    async def code(
        self, browser: Browser, client: Registered, *, remember: bool = False, **params: str | None
    ) -> tuple[dict[str, str], list[str]]:
        """A full successful authorization: the callback query and the pages shown."""
        response = await self.start(browser, client, **params)
        response, shown = await self.interact(browser, response, totp=True, remember=remember)
        result = self.callback(response, params.get("state"))
        assert "code" in result and "error" not in result, result
        return result, shown

    # ------------------------------------------------------------------- token endpoint

    async def redeem(
        self, client: Registered, code: str, *, verifier: str | None = None
    ) -> httpx.Response:
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": RP}
        if verifier is not None:
            data["code_verifier"] = verifier
        return await self.token_request(client, data)

    async def token_request(self, client: Registered, data: dict[str, str]) -> httpx.Response:
        """POST /token authenticated as the client registered (basic, post or none)."""
        method = client.client.token_endpoint_auth_method
        headers: dict[str, str] = {}
        data = dict(data)
        if method == "client_secret_basic":
            assert client.client_secret is not None
            raw = f"{client.client.client_id}:{client.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        elif method == "client_secret_post":
            assert client.client_secret is not None
            data.update(client_id=client.client.client_id, client_secret=client.client_secret)
        else:
            data["client_id"] = client.client.client_id
        return await self.http.post("/token", data=data, headers=headers)

    async def tokens(
        self,
        client: Registered,
        code: str,
        *,
        nonce: str | None,
        verifier: str | None = None,
        max_age: bool = False,
    ) -> Tokens:
        response = await self.redeem(client, code, verifier=verifier)
        assert response.status_code == 200, response.text
        assert response.headers.get("cache-control") == "no-store"
        body = response.json()
        assert body["token_type"].lower() == "bearer" and body["access_token"]
        claims = await self.validate_id_token(
            body["id_token"],
            client,
            nonce=nonce,
            access_token=body["access_token"],
            max_age=max_age,
        )
        return Tokens(body, claims)

    # --------------------------------------------------------------------- validation

    async def validate_id_token(
        self,
        token: str,
        client: Registered,
        *,
        nonce: str | None,
        access_token: str | None = None,
        max_age: bool = False,
    ) -> dict[str, Any]:
        """OIDC Core §3.1.3.7 as the suite applies it: signature by the JWKS key named by
        ``kid`` with an algorithm the discovery lists; iss, aud, azp, exp, iat, nonce,
        at_hash, auth_time (required when max_age was sent)."""
        header = json.loads(_unb64(token.split(".")[0]))
        assert header["alg"] in self.metadata["id_token_signing_alg_values_supported"], header
        assert header["alg"] != "none"
        jwks = (await self.http.get(self.metadata["jwks_uri"])).json()
        keys = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
        assert len(keys) == 1, f"kid {header.get('kid')!r} must name exactly one JWKS key"
        assert (
            keys[0].get("use", "sig") == "sig"
            and keys[0].get("alg", header["alg"]) == header["alg"]
        )
        key = KeySet.import_key_set({"keys": keys}).keys[0]
        verified = jws.deserialize_compact(token, key, algorithms=[header["alg"]])
        claims: dict[str, Any] = json.loads(verified.payload)
        now = self.clock.now.timestamp()
        assert claims["iss"] == self.metadata["issuer"] == self.base
        aud = claims["aud"]
        audiences = aud if isinstance(aud, list) else [aud]
        assert client.client.client_id in audiences
        if len(audiences) > 1:
            assert claims.get("azp") == client.client.client_id
        assert isinstance(claims["sub"], str) and 0 < len(claims["sub"]) <= 255
        assert isinstance(claims["exp"], int) and claims["exp"] > now
        assert isinstance(claims["iat"], int) and now - LEEWAY <= claims["iat"] <= now + LEEWAY
        if nonce is None:
            assert "nonce" not in claims
        else:
            assert claims.get("nonce") == nonce
        if access_token is not None and "at_hash" in claims:
            # Optional in the code flow; when present it must match (§3.1.3.8, §3.3.2.11).
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            assert claims["at_hash"] == _b64(digest[: len(digest) // 2])
        if max_age:
            assert isinstance(claims.get("auth_time"), int), claims
        if "auth_time" in claims:
            assert claims["auth_time"] <= now + LEEWAY
        return claims

    # ------------------------------------------------------------------------- userinfo

    async def userinfo(self, access_token: str, how: str = "get") -> httpx.Response:
        if how == "get":
            return await self.http.get(
                self.metadata["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {access_token}"},
            )
        if how == "post-header":
            return await self.http.post(
                self.metadata["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {access_token}"},
            )
        return await self.http.post(
            self.metadata["userinfo_endpoint"], data={"access_token": access_token}
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
async def op(database_url: str) -> AsyncIterator[LiveOp]:
    """The provider over real loopback HTTP, with its clients and person set up beforehand
    through the library (as an operator would with ``jisr idp``)."""
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    database, register, nin = await prepare_flow_database(database_url, clock)
    # A second person, for the id_token_hint of someone other than the one logged in.
    other = await register.enrol(
        {
            "given_name": {"arab": "فاطمة", "latn": "Fatima"},
            "family_name": {"arab": "الزهراء", "latn": "Zahra"},
            "date_of_birth": "1985-02-03",
            "place_of_birth": "Fes",
            "sex": "F",
            "nationality": "MA",
            "address": "3 Rue Talaa Kebira, Fes",
        },
        recorded_by="registrar-1",
        legal_basis="test",
    )
    accounts = Accounts(database, clock=clock)
    issued = await accounts.issue_activation(other.nin)
    await accounts.activate(other.nin, issued.code, PASSWORD, address="192.0.2.2")
    totp = Totp(database, clock=clock)
    enrolment = await totp.begin_enrolment(nin)
    await totp.confirm_enrolment(nin, totp_at(enrolment.secret, clock.now, AuthnSettings()))
    # A fresh TOTP step for the flows (the confirmation code may not be used twice).
    clock.advance(timedelta(seconds=60))
    async with database.transaction() as session:
        client = await register_client(session, code_client(), clock())
        client_post = await register_client(
            session, code_client(token_endpoint_auth_method="client_secret_post"), clock()
        )
        public = await register_client(
            session, code_client(token_endpoint_auth_method="none"), clock()
        )
    await database.close()

    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    served = Database(database_url)
    population = PopulationRegister(served, profile=MoroccoNin("BK"), key=generate_private_key())
    provider = OidcProvider(served, flow_settings(issuer), clock=clock, register=population)
    with serve_in_thread(create_app(provider), port=port):
        async with httpx.AsyncClient(base_url=issuer, timeout=20) as http:
            discovery = await http.get("/.well-known/openid-configuration")
            assert discovery.status_code == 200
            yield LiveOp(
                base=issuer,
                http=http,
                clock=clock,
                nin=nin,
                other_nin=other.nin,
                totp_secret=enrolment.secret,
                client=client,
                client_post=client_post,
                public=public,
                metadata=discovery.json(),
            )
    await served.close()
