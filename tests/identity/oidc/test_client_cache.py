"""The per-process client cache of the token endpoint: bounded, aged, invalidated on delete."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import delete

from jisr.identity.oidc import OidcProvider, OidcScope
from jisr.identity.oidc.app import TOKENS
from jisr.identity.oidc.clients import ClientCache
from jisr.identity.oidc.models import ClientRow
from tests.identity.oidc.conftest import Register, basic


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _delete_row(provider: OidcProvider, client_id: str) -> None:
    """Delete the client behind the cache's back, as another process would."""
    async with provider.database.transaction() as session:
        await session.execute(delete(ClientRow).where(ClientRow.client_id == client_id))


async def test_cached_until_ttl_then_reloaded(provider: OidcProvider, register: Register) -> None:
    """A cached client is served without the database until it is ttl old; then the
    database decides again (here: the row is gone)."""
    ticks = Ticks()
    cache = ClientCache(8, timedelta(seconds=30), ticks)
    client_id = (await register()).client.client_id
    database = provider.database
    assert set(await cache.clients(database, [client_id])) == {client_id}
    await _delete_row(provider, client_id)
    ticks.now = 29.0
    assert set(await cache.clients(database, [client_id])) == {client_id}
    ticks.now = 30.0
    assert await cache.clients(database, [client_id]) == {}


async def test_bounded_least_recently_used_out(provider: OidcProvider, register: Register) -> None:
    """At most ``size`` entries: the least recently used goes first; unknown ids are not
    cached; size 0 caches nothing."""
    cache = ClientCache(2, timedelta(minutes=1), Ticks())
    first, second, third = [(await register()).client.client_id for _ in range(3)]
    database = provider.database
    await cache.clients(database, [first, second, "c_unknown"])
    await cache.clients(database, [first])  # first is now the most recently used
    await cache.clients(database, [third])  # evicts second
    for client_id in (first, second, third):
        await _delete_row(provider, client_id)
    assert set(await cache.clients(database, [first, second, third])) == {first, third}
    off = ClientCache(0, timedelta(minutes=1), Ticks())
    assert await off.clients(database, [first]) == {}


async def test_delete_through_the_admin_api_invalidates(
    http: httpx.AsyncClient, provider: OidcProvider, register: Register
) -> None:
    """A client deleted through the admin API gets no token at once, though it was cached."""
    registered = await register()
    assert registered.client_secret is not None
    auth = basic(registered.client.client_id, registered.client_secret)
    grant = {"grant_type": "client_credentials"}
    assert (await http.post("/token", data=grant, headers=auth)).status_code == 200
    async with provider.database.transaction() as session:
        secret = await TOKENS.create(session, "writer", [OidcScope.CLIENTS_WRITE], None)
    deleted = await http.delete(
        f"/api/v1/clients/{registered.client.client_id}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert deleted.status_code == 204
    refused = await http.post("/token", data=grant, headers=auth)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


async def test_client_deleted_elsewhere_gets_no_token(
    http: httpx.AsyncClient, provider: OidcProvider, register: Register
) -> None:
    """Deleted by another process while cached here: the token row's foreign key fails the
    commit, so nothing is issued even within the ttl."""
    registered = await register()
    assert registered.client_secret is not None
    auth = basic(registered.client.client_id, registered.client_secret)
    grant = {"grant_type": "client_credentials"}
    assert (await http.post("/token", data=grant, headers=auth)).status_code == 200
    await _delete_row(provider, registered.client.client_id)
    refused = await http.post("/token", data=grant, headers=auth)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
