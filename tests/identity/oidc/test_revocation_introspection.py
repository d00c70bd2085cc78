"""RFC 7009 revocation and RFC 7662 introspection."""

from __future__ import annotations

from datetime import timedelta

import httpx

from jisr.identity.oidc import Registered
from tests.identity.oidc.conftest import Clock, Register, basic


def _auth(registered: Registered) -> dict[str, str]:
    assert registered.client_secret is not None
    return basic(registered.client.client_id, registered.client_secret)


async def _token(http: httpx.AsyncClient, registered: Registered) -> str:
    response = await http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_auth(registered)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def test_introspection_of_live_token(http: httpx.AsyncClient, register: Register) -> None:
    """A client introspecting its own live token sees it active, with its claims."""
    client = await register()
    token = await _token(http, client)
    response = await http.post("/introspect", data={"token": token}, headers=_auth(client))
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == client.client.client_id and body["scope"] == "read write"


async def test_revoked_token_introspects_inactive(
    http: httpx.AsyncClient, register: Register
) -> None:
    """After RFC 7009 revocation the token introspects as {"active": false}."""
    client = await register()
    token = await _token(http, client)
    revoked = await http.post("/revoke", data={"token": token}, headers=_auth(client))
    assert revoked.status_code == 200
    response = await http.post("/introspect", data={"token": token}, headers=_auth(client))
    assert response.json() == {"active": False}


async def test_expired_token_introspects_inactive(
    http: httpx.AsyncClient, register: Register, clock: Clock
) -> None:
    """Past its exp a token is inactive."""
    client = await register()
    token = await _token(http, client)
    clock.advance(timedelta(minutes=11))
    response = await http.post("/introspect", data={"token": token}, headers=_auth(client))
    assert response.json() == {"active": False}


async def test_unknown_token_revocation_is_200(http: httpx.AsyncClient, register: Register) -> None:
    """RFC 7009 §2.2: revoking an unknown token succeeds silently."""
    client = await register()
    response = await http.post("/revoke", data={"token": "nope"}, headers=_auth(client))
    assert response.status_code == 200


async def test_unauthenticated_introspection_refused(
    http: httpx.AsyncClient, register: Register
) -> None:
    """RFC 7662 §2.1: the caller must authenticate; otherwise invalid_client 401."""
    client = await register()
    token = await _token(http, client)
    anonymous = await http.post("/introspect", data={"token": token})
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")
    wrong = await http.post(
        "/introspect", data={"token": token}, headers=basic(client.client.client_id, "bad")
    )
    assert wrong.status_code == 401


async def test_other_clients_token(http: httpx.AsyncClient, register: Register) -> None:
    """Another client sees the token inactive and may not revoke it; a resource server
    registered with may_introspect sees it active."""
    owner, other = await register(), await register()
    resource_server = await register(may_introspect=True)
    token = await _token(http, owner)
    seen = await http.post("/introspect", data={"token": token}, headers=_auth(other))
    assert seen.json() == {"active": False}
    revoke = await http.post("/revoke", data={"token": token}, headers=_auth(other))
    assert revoke.status_code == 400
    rs = await http.post("/introspect", data={"token": token}, headers=_auth(resource_server))
    assert rs.json()["active"] is True
