"""Pushed authorization requests (RFC 9126): /par (§2), the request_uri at /authorize (§4),
required pushing (§5, §6), and a PAR + PKCE + DPoP flow over real HTTP."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import func, select

from jisr.crypto.keys import generate_private_key
from jisr.identity.oidc import OidcProvider, Registered, create_app, register_client
from jisr.identity.oidc.models import PushedRequestRow
from jisr.identity.register import MoroccoNin, PopulationRegister
from jisr.storage import Database
from tests.identity.oidc.conftest import (
    ASSERTION_TYPE,
    ISSUER,
    RP,
    Clock,
    FlowEnv,
    basic,
    code_client,
    flow_settings,
    prepare_flow_database,
)
from tests.identity.oidc.flow import Browser, allow, log_in, query, s256
from tests.identity.oidc.proofs import Prover
from tests.servers import free_port, serve_in_thread

PAR = f"{ISSUER}/par"
URN = "urn:ietf:params:oauth:request_uri:"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def _request(client: Registered, **params: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.client.client_id,
        "redirect_uri": RP,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        **params,
    }
    return {name: value for name, value in values.items() if value is not None}


async def _push(
    env: FlowEnv, client: Registered, headers: dict[str, str] | None = None, **params: str | None
) -> httpx.Response:
    """POST /par authenticated as the client registered (basic, or a public client_id)."""
    auth = dict(headers or {})
    if client.client_secret is not None and "Authorization" not in auth:
        auth |= basic(client.client.client_id, client.client_secret)
    return await env.http.post("/par", data=_request(client, **params), headers=auth)


async def _authorize(browser: Browser, client_id: str, request_uri: str) -> httpx.Response:
    return await browser.get(
        "/authorize?" + str(httpx.QueryParams(client_id=client_id, request_uri=request_uri))
    )


async def _finish(env: FlowEnv, browser: Browser, response: httpx.Response) -> dict[str, str]:
    """Log in and consent from the authorization response; the callback's query."""
    response = await log_in(browser, response, env.person.nin, env.person.password)
    if response.headers.get("location", "").startswith("/consent?"):
        response = await allow(browser, response)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(RP)
    return query(response.headers["location"])


def _error_page(response: httpx.Response) -> None:
    """A refusal shown to the person, never a redirect (the request cannot be trusted)."""
    assert response.status_code == 400, response.text
    assert "location" not in response.headers


async def test_push_then_authorize_with_the_request_uri(flow_env: FlowEnv) -> None:
    """§2.2: 201 with request_uri (urn:ietf:params:oauth:request_uri:) and expires_in, not
    cached; §4: /authorize with client_id and request_uri runs the pushed request, its state
    and the code it gives redeem as usual."""
    env = flow_env
    client = await env.register()
    pushed = await _push(env, client, state="from-par")
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["cache-control"] == "no-store"
    body = pushed.json()
    assert body["request_uri"].startswith(URN) and body["expires_in"] == 60
    browser = Browser(env.http)
    result = await _finish(
        env, browser, await _authorize(browser, client.client.client_id, body["request_uri"])
    )
    assert result["state"] == "from-par" and result["iss"] == ISSUER
    assert client.client_secret is not None
    redeemed = await env.http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": RP,
            "code_verifier": VERIFIER,
        },
        headers=basic(client.client.client_id, client.client_secret),
    )
    assert redeemed.status_code == 200, redeemed.text


async def test_query_parameters_beside_the_request_uri_are_ignored(flow_env: FlowEnv) -> None:
    """§4: only the pushed parameters count; a redirect_uri or scope added to the front
    channel changes nothing."""
    env = flow_env
    client = await env.register(redirect_uris=[RP, "https://rp.example.test/other"])
    request_uri = (await _push(env, client, state="pushed")).json()["request_uri"]
    browser = Browser(env.http)
    url = "/authorize?" + str(
        httpx.QueryParams(
            client_id=client.client.client_id,
            request_uri=request_uri,
            redirect_uri="https://rp.example.test/other",
            state="front",
        )
    )
    result = await _finish(env, browser, await browser.get(url))
    assert result["state"] == "pushed"


async def test_push_with_a_wrong_secret_is_invalid_client(flow_env: FlowEnv) -> None:
    """§2: client authentication as at the token endpoint; a wrong secret is a 401."""
    env = flow_env
    client = await env.register()
    wrong = basic(client.client.client_id, "not-the-secret")
    refused = await _push(env, client, headers=wrong)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    unauthenticated = await env.http.post("/par", data=_request(client))
    assert unauthenticated.status_code == 401


async def test_push_by_secret_post_private_key_jwt_and_public_client(flow_env: FlowEnv) -> None:
    """client_secret_post, private_key_jwt (aud the PAR endpoint, §2) and a public client
    naming itself with client_id all push."""
    env = flow_env
    post = await env.register(token_endpoint_auth_method="client_secret_post")
    assert post.client_secret is not None
    data = _request(post) | {"client_secret": post.client_secret}
    assert (await env.http.post("/par", data=data)).status_code == 201

    key = ECKey.generate_key("P-256", parameters={"kid": "k1"})
    keyed = await env.register(
        token_endpoint_auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]}
    )
    now = int(env.clock.now.timestamp())
    claims = {
        "iss": keyed.client.client_id,
        "sub": keyed.client.client_id,
        "aud": PAR,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(12),
    }
    assertion = jwt.encode({"alg": "ES256", "kid": "k1"}, claims, key)
    data = _request(keyed) | {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    assert (await env.http.post("/par", data=data)).status_code == 201
    replayed = await env.http.post("/par", data=data)
    assert replayed.status_code == 401 and replayed.json()["error"] == "invalid_client"

    public = await env.register(token_endpoint_auth_method="none")
    assert (await _push(env, public)).status_code == 201


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"redirect_uri": "https://evil.example.test/cb"}, "invalid_request"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": URN + "x"}, "invalid_request"),
        ({"dpop_jkt": "short"}, "invalid_request"),
    ],
)
async def test_invalid_push_is_a_json_error_never_a_redirect(
    flow_env: FlowEnv, params: dict[str, str], error: str
) -> None:
    """§2.1: the request is validated as /authorize would; §2.3: refusals are JSON 400
    (request objects, JAR, are not supported: request_not_supported)."""
    env = flow_env
    client = await env.register()
    refused = await _push(env, client, **params)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == error
    assert "location" not in refused.headers


async def test_public_client_push_needs_pkce(flow_env: FlowEnv) -> None:
    """PKCE rules hold at /par: a public client without code_challenge is refused."""
    env = flow_env
    public = await env.register(token_endpoint_auth_method="none")
    refused = await _push(env, public, code_challenge=None, code_challenge_method=None)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


async def test_client_id_must_be_the_authenticated_client(flow_env: FlowEnv) -> None:
    """§2.1: a client_id in the body other than the authenticated client is refused."""
    env = flow_env
    client, other = await env.register(), await env.register()
    refused = await _push(env, client, client_id=other.client.client_id)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


async def test_request_uri_is_single_use(flow_env: FlowEnv) -> None:
    """§4 (and §7.3): a request_uri serves one authorization request; the second use is
    an error page."""
    env = flow_env
    client = await env.register()
    request_uri = (await _push(env, client)).json()["request_uri"]
    browser = Browser(env.http)
    first = await _authorize(browser, client.client.client_id, request_uri)
    assert first.status_code == 303
    _error_page(await _authorize(Browser(env.http), client.client.client_id, request_uri))


async def test_expired_request_uri_refused(flow_env: FlowEnv) -> None:
    """§2.2: a request_uri expires after expires_in seconds; expired rows are purged."""
    env = flow_env
    client = await env.register()
    request_uri = (await _push(env, client)).json()["request_uri"]
    env.clock.advance(timedelta(seconds=61))
    _error_page(await _authorize(Browser(env.http), client.client.client_id, request_uri))
    await env.provider.housekeeping()
    async with env.provider.database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PushedRequestRow)) == 0


async def test_request_uri_of_another_client_refused(flow_env: FlowEnv) -> None:
    """§4: the client_id must be the pushing client's; the attempt does not burn the URI."""
    env = flow_env
    client, other = await env.register(), await env.register()
    request_uri = (await _push(env, client)).json()["request_uri"]
    _error_page(await _authorize(Browser(env.http), other.client.client_id, request_uri))
    _error_page(await _authorize(Browser(env.http), client.client.client_id, URN + "unknown"))
    owner = await _authorize(Browser(env.http), client.client.client_id, request_uri)
    assert owner.status_code == 303 and owner.headers["location"].startswith("/login?")


async def test_client_requiring_par_refuses_plain_requests(flow_env: FlowEnv) -> None:
    """§6: require_pushed_authorization_requests: a plain authorization request is
    refused (invalid_request, to the verified redirect URI); a pushed one is served."""
    env = flow_env
    client = await env.register(require_pushed_authorization_requests=True)
    browser = Browser(env.http)
    plain = await browser.get("/authorize?" + str(httpx.QueryParams(_request(client, state="s"))))
    assert plain.status_code == 303
    result = query(plain.headers["location"])
    assert result["error"] == "invalid_request" and result["state"] == "s"
    request_uri = (await _push(env, client)).json()["request_uri"]
    pushed = await _authorize(browser, client.client.client_id, request_uri)
    assert pushed.headers["location"].startswith("/login?")


async def test_discovery_names_the_par_endpoint(flow_env: FlowEnv) -> None:
    """§5: pushed_authorization_request_endpoint and require_pushed_authorization_requests;
    request objects by reference stay unsupported."""
    document = (await flow_env.http.get("/.well-known/openid-configuration")).json()
    assert document["pushed_authorization_request_endpoint"] == PAR
    assert document["require_pushed_authorization_requests"] is False
    assert document["request_uri_parameter_supported"] is False


async def test_server_wide_requirement(database_url: str, clock: Clock) -> None:
    """§5: with require_pushed_authorization_requests set for the server, every client must
    push, and discovery says so."""
    database, population, _ = await prepare_flow_database(database_url, clock)
    settings = flow_settings().model_copy(update={"require_pushed_authorization_requests": True})
    provider = OidcProvider(database, settings, clock=clock, register=population)
    await provider.start()
    async with database.transaction() as session:
        client = await register_client(session, code_client(), clock())
    transport = httpx.ASGITransport(app=create_app(provider))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            document = (await http.get("/.well-known/openid-configuration")).json()
            assert document["require_pushed_authorization_requests"] is True
            url = "/authorize?" + str(httpx.QueryParams(_request(client)))
            plain = await Browser(http).get(url)
            assert query(plain.headers["location"])["error"] == "invalid_request"
    finally:
        await database.close()


async def test_dpop_proof_at_par_binds_the_code(flow_env: FlowEnv) -> None:
    """RFC 9449 §10.1: a DPoP proof at /par binds the code to its key, as dpop_jkt would;
    a dpop_jkt naming another key than the proof's is refused."""
    env = flow_env
    client = await env.register(token_endpoint_auth_method="none")
    prover = Prover()
    mismatch = await _push(
        env,
        client,
        headers={"DPoP": prover.proof("POST", PAR, env.clock.now)},
        dpop_jkt=Prover().jkt,
    )
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_dpop_proof"
    pushed = await _push(env, client, headers={"DPoP": prover.proof("POST", PAR, env.clock.now)})
    assert pushed.status_code == 201, pushed.text
    browser = Browser(env.http)
    result = await _finish(
        env,
        browser,
        await _authorize(browser, client.client.client_id, pushed.json()["request_uri"]),
    )
    data = {
        "grant_type": "authorization_code",
        "code": result["code"],
        "redirect_uri": RP,
        "code_verifier": VERIFIER,
        "client_id": client.client.client_id,
    }
    unbound = await env.http.post("/token", data=data)
    assert unbound.json()["error"] == "invalid_dpop_proof"
    proof = prover.proof("POST", f"{ISSUER}/token", env.clock.now)
    bound = await env.http.post("/token", data=data, headers={"DPoP": proof})
    assert bound.status_code == 200 and bound.json()["token_type"] == "DPoP"


# ----------------------------------------------------------------- end to end, real HTTP


async def _live_provider(database_url: str, clock: Clock) -> tuple[Registered, str]:
    """Enrol the person and register a public client requiring PAR and DPoP."""
    database, _, nin = await prepare_flow_database(database_url, clock)
    async with database.transaction() as session:
        client = await register_client(
            session,
            code_client(
                token_endpoint_auth_method="none",
                require_pushed_authorization_requests=True,
                dpop_bound_access_tokens=True,
            ),
            clock(),
        )
    await database.close()
    return client, nin


@pytest.mark.slow
async def test_par_pkce_dpop_flow_over_http(database_url: str) -> None:
    """A public client pushes its request with a DPoP proof, the person logs in and
    consents, the code is redeemed with PKCE and a proof, userinfo answers a DPoP request;
    the same token as Bearer is refused. Uvicorn on a loopback port, real sockets."""
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    client, nin = await _live_provider(database_url, clock)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    served = Database(database_url)
    population = PopulationRegister(served, profile=MoroccoNin("BK"), key=generate_private_key())
    provider = OidcProvider(served, flow_settings(issuer), clock=clock, register=population)
    prover = Prover()
    try:
        with serve_in_thread(create_app(provider), port=port):
            async with httpx.AsyncClient(base_url=issuer, timeout=20) as http:
                await _live_flow(http, issuer, client, nin, prover, clock)
    finally:
        await served.close()


async def _live_flow(
    http: httpx.AsyncClient, issuer: str, client: Registered, nin: str, prover: Prover, clock: Clock
) -> None:
    metadata = (await http.get("/.well-known/openid-configuration")).json()
    par_endpoint = metadata["pushed_authorization_request_endpoint"]
    client_id = client.client.client_id
    pushed = await http.post(
        par_endpoint,
        data=_request(client),
        headers={"DPoP": prover.proof("POST", par_endpoint, clock.now)},
    )
    assert pushed.status_code == 201, pushed.text
    browser = Browser(http, base=issuer)
    response = await _authorize(browser, client_id, pushed.json()["request_uri"])
    response = await log_in(browser, response, nin, "correct horse battery staple")
    response = await allow(browser, response)
    assert response.status_code == 303, response.text
    code = query(response.headers["location"])["code"]
    token_endpoint = metadata["token_endpoint"]
    tokens = await http.post(
        token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": RP,
            "code_verifier": VERIFIER,
            "client_id": client_id,
        },
        headers={"DPoP": prover.proof("POST", token_endpoint, clock.now)},
    )
    assert tokens.status_code == 200, tokens.text
    body: dict[str, Any] = tokens.json()
    assert body["token_type"] == "DPoP"
    access_token = body["access_token"]
    userinfo = metadata["userinfo_endpoint"]
    proof = prover.proof("GET", userinfo, clock.now, access_token=access_token)
    info = await http.get(
        userinfo, headers={"Authorization": f"DPoP {access_token}", "DPoP": proof}
    )
    assert info.status_code == 200, info.text
    assert info.json()["sub"]
    bearer = await http.get(userinfo, headers={"Authorization": f"Bearer {access_token}"})
    assert bearer.status_code == 401
    assert bearer.headers["www-authenticate"].startswith("DPoP ")
