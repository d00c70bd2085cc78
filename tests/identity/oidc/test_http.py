"""The provider over real HTTP (uvicorn on a loopback port), lifespan included."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from jisr.identity.oidc import ClientMetadata, OidcProvider, OidcSettings, create_app
from jisr.identity.oidc.clients import register_client
from jisr.storage import Database
from tests.identity.oidc.conftest import ISSUER, basic
from tests.servers import serve_in_thread


@pytest.mark.slow
async def test_token_revoke_introspect_over_http(database: Database) -> None:
    """Discovery, a client-credentials token, revocation and introspection over a socket."""
    provider = OidcProvider(Database(database.url), OidcSettings(issuer=ISSUER))
    async with database.transaction() as session:
        registered = await register_client(
            session, ClientMetadata(client_name="http"), provider.clock()
        )
    assert registered.client_secret is not None
    auth = basic(registered.client.client_id, registered.client_secret)

    def scenario(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/.well-known/openid-configuration").json()["issuer"] == ISSUER
            assert all(key["kid"] for key in client.get("/jwks").json()["keys"])
            token = client.post(
                "/token", data={"grant_type": "client_credentials"}, headers=auth
            ).json()["access_token"]
            live = client.post("/introspect", data={"token": token}, headers=auth).json()
            assert live["active"] is True
            assert client.post("/revoke", data={"token": token}, headers=auth).status_code == 200
            dead = client.post("/introspect", data={"token": token}, headers=auth).json()
            assert dead == {"active": False}

    try:
        with serve_in_thread(create_app(provider)) as base:
            await asyncio.to_thread(scenario, base)
    finally:
        await provider.database.close()
