"""RFC 6749 §4.4 client-credentials grant with each client authentication method, and the
RFC 9068 access token it returns."""

from __future__ import annotations

import json

import httpx
from joserfc.jwk import KeySet
from sqlalchemy import select

from jisr.crypto.jose import verify_compact
from jisr.crypto.keys import PublicKey
from jisr.identity.oidc import OidcProvider
from jisr.identity.oidc.models import TokenRow
from jisr.identity.oidc.tokens import hash_token
from tests.identity.oidc.conftest import (
    ASSERTION_TYPE,
    ISSUER,
    Clock,
    KeyedClient,
    Register,
    basic,
)


async def _jwks_keys(http: httpx.AsyncClient) -> dict[str, PublicKey]:
    keys: dict[str, PublicKey] = {}
    for key in KeySet.import_key_set((await http.get("/jwks")).json()).keys:
        assert key.kid is not None
        keys[key.kid] = key.get_op_key("verify")
    return keys


async def test_client_secret_basic_issues_token_verifiable_against_jwks(
    http: httpx.AsyncClient, register: Register, clock: Clock
) -> None:
    """A Basic-authenticated client gets an at+jwt access token whose kid is in the JWKS."""
    registered = await register()
    assert registered.client_secret is not None
    response = await http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        headers=basic(registered.client.client_id, registered.client_secret),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read"
    assert response.headers["cache-control"] == "no-store"
    header, payload = verify_compact(
        body["access_token"], await _jwks_keys(http), typ="at+jwt", algorithms=["ES256"]
    )
    claims = json.loads(payload)
    assert header["kid"]
    assert claims["iss"] == ISSUER
    assert claims["client_id"] == claims["sub"] == registered.client.client_id
    assert claims["scope"] == "read"
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert claims["iat"] == int(clock.now.timestamp())


async def test_client_secret_post(http: httpx.AsyncClient, register: Register) -> None:
    """Credentials in the form body work for a client registered for client_secret_post."""
    registered = await register(token_endpoint_auth_method="client_secret_post")
    response = await http.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": registered.client.client_id,
            "client_secret": registered.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "read write"  # no scope asked: all registered ones


async def test_private_key_jwt(http: httpx.AsyncClient, keyed_client: KeyedClient) -> None:
    """A signed client assertion (RFC 7523 §2.2) authenticates a private_key_jwt client."""
    response = await http.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": keyed_client.assertion(Clock().now),
        },
    )
    assert response.status_code == 200, response.text


async def test_wrong_secret_is_invalid_client_401(
    http: httpx.AsyncClient, register: Register
) -> None:
    """A wrong secret answers invalid_client with 401 and a Basic challenge."""
    registered = await register()
    response = await http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers=basic(registered.client.client_id, "not-the-secret"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_unknown_client_and_wrong_method_refused(
    http: httpx.AsyncClient, register: Register
) -> None:
    """An unknown client_id, or a method the client did not register, is invalid_client."""
    unknown = await http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": "c_x", "client_secret": "s"},
    )
    assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_client")
    registered = await register()  # registered for client_secret_basic
    post = await http.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": registered.client.client_id,
            "client_secret": registered.client_secret,
        },
    )
    assert (post.status_code, post.json()["error"]) == (401, "invalid_client")


async def test_scope_outside_registration_refused(
    http: httpx.AsyncClient, register: Register
) -> None:
    """RFC 6749 §3.3: a scope the client was not registered for is invalid_scope."""
    registered = await register(scope="read")
    assert registered.client_secret is not None
    response = await http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "read admin"},
        headers=basic(registered.client.client_id, registered.client_secret),
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")


async def test_grant_type_not_registered_refused(
    http: httpx.AsyncClient, register: Register
) -> None:
    """A client registered only for the code flow may not use client_credentials."""
    registered = await register(
        grant_types=["authorization_code"],
        response_types=["code"],
        redirect_uris=["https://rp.example.test/cb"],
    )
    assert registered.client_secret is not None
    response = await http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers=basic(registered.client.client_id, registered.client_secret),
    )
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


async def test_token_is_recorded_by_hash_only(
    http: httpx.AsyncClient, register: Register, provider: OidcProvider
) -> None:
    """The database holds the token's SHA-256, never the token."""
    registered = await register()
    assert registered.client_secret is not None
    token = (
        await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers=basic(registered.client.client_id, registered.client_secret),
        )
    ).json()["access_token"]
    async with provider.database.transaction() as session:
        rows = list(await session.scalars(select(TokenRow)))
    assert [row.token_hash for row in rows] == [hash_token(token)]
