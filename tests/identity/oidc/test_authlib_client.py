"""The whole flow with Authlib's OAuth 2.0 client as the relying party, against the app on a
real loopback uvicorn port: discovery, PKCE S256, code, tokens, ID token, userinfo, refresh."""

from __future__ import annotations

import secrets

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from jisr.identity.oidc import OidcProvider, create_app, register_client
from jisr.storage import Database
from tests.identity.oidc.conftest import (
    PASSWORD,
    Clock,
    code_client,
    flow_settings,
    prepare_flow_database,
)
from tests.identity.oidc.flow import Browser, allow, log_in
from tests.servers import free_port, serve_in_thread


async def test_authlib_relying_party_over_loopback(database_url: str) -> None:
    clock = Clock()
    database, _, nin = await prepare_flow_database(database_url, clock)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    redirect_uri = f"http://127.0.0.1:{port + 1}/callback"  # never served: read by hand
    async with database.transaction() as session:
        registered = await register_client(
            session, code_client(redirect_uris=[redirect_uri]), clock()
        )
    await database.close()

    # The server runs its own event loop in a thread: it gets its own database handle.
    from jisr.crypto.keys import generate_private_key
    from jisr.identity.register import MoroccoNin, PopulationRegister

    served = Database(database_url)
    population = PopulationRegister(served, profile=MoroccoNin("BK"), key=generate_private_key())
    provider = OidcProvider(served, flow_settings(issuer), register=population)
    with serve_in_thread(create_app(provider), port=port):
        async with httpx.AsyncClient(base_url=issuer) as http:
            metadata = (await http.get("/.well-known/openid-configuration")).json()
            assert metadata["issuer"] == issuer
            verifier = secrets.token_urlsafe(48)
            nonce = secrets.token_urlsafe(12)
            async with AsyncOAuth2Client(
                client_id=registered.client.client_id,
                client_secret=registered.client_secret,
                scope="openid profile national_id",
                redirect_uri=redirect_uri,
                code_challenge_method="S256",
            ) as rp:
                url, state = rp.create_authorization_url(
                    metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
                )
                browser = Browser(http, base=issuer)
                response = await browser.get(url)
                response = await log_in(browser, response, nin, PASSWORD)
                response = await allow(browser, response)
                callback = response.headers["location"]
                assert callback.startswith(redirect_uri)
                token = await rp.fetch_token(
                    metadata["token_endpoint"],
                    authorization_response=callback,
                    code_verifier=verifier,
                    state=state,
                )
                keys = KeySet.import_key_set((await http.get("/jwks")).json())
                id_token = jwt.decode(token["id_token"], keys, algorithms=["ES256"])
                assert id_token.header["kid"] in {key.kid for key in keys.keys}
                claims = id_token.claims
                assert claims["iss"] == issuer and claims["aud"] == registered.client.client_id
                assert claims["nonce"] == nonce
                userinfo = (await rp.get(metadata["userinfo_endpoint"])).json()
                assert userinfo["sub"] == claims["sub"]
                assert userinfo["national_id"] == nin
                refreshed = await rp.refresh_token(metadata["token_endpoint"])
                assert refreshed["refresh_token"] != token["refresh_token"]
    await served.close()
