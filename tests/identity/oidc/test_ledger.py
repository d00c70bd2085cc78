"""The token ledger's group commit: concurrent grants share a commit, a token is returned
only once its row is committed, and a failed commit returns no token to anyone in it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.identity.oidc import OidcProvider, create_app
from jisr.identity.oidc.ledger import TokenLedger
from jisr.identity.oidc.models import ClientRow, TokenRow
from jisr.identity.oidc.tokens import IssuedToken, hash_token
from tests.identity.oidc.conftest import ISSUER, START, Register, basic

GRANT = {"grant_type": "client_credentials"}
Commit = Callable[[AsyncConnection, list[dict[str, Any]]], Awaitable[None]]


class Gate:
    """Wraps a ledger's commit: counts the groups and their sizes, holds the first commit
    until :meth:`open`, and can make chosen commits fail before they write."""

    def __init__(self, ledger: TokenLedger, fail: set[int] | None = None) -> None:
        self.groups: list[int] = []
        self.fail = fail or set()
        self.first_started = asyncio.Event()
        self._open = asyncio.Event()
        self._commit: Commit = ledger._commit
        ledger._commit = self.commit  # type: ignore[method-assign]

    def open(self) -> None:
        self._open.set()

    async def commit(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        number = len(self.groups)
        self.groups.append(len(rows))
        if number == 0:
            self.first_started.set()
            await self._open.wait()
        if number in self.fail:
            raise RuntimeError("disk full")
        await self._commit(connection, rows)


async def _queued(ledger: TokenLedger, count: int) -> None:
    """Return once ``count`` grants wait for the next commit (the requests have run up to
    their commit)."""
    for _ in range(1000):
        if len(ledger._lanes[asyncio.get_running_loop()].waiting) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} grants never queued")


async def _stored(provider: OidcProvider, token: str) -> bool:
    async with provider.database.sessions() as session:
        return await session.get(TokenRow, hash_token(token)) is not None


async def _token_rows(provider: OidcProvider) -> int:
    async with provider.database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(TokenRow)) or 0)


def _record(client_id: str, n: int) -> IssuedToken:
    return IssuedToken(
        token_hash=hash_token(f"token {client_id} {n}"),
        kind="access_token",
        jti=f"jti-{n}",
        client_id=client_id,
        scope="read",
        subject=client_id,
        issued_at=START,
        expires_at=START + timedelta(minutes=5),
    )


async def test_concurrent_grants_share_a_commit(
    http: httpx.AsyncClient, provider: OidcProvider, register: Register
) -> None:
    """Grants that arrive while a commit is in flight are written together by the next one,
    and every grant gets its own token, recorded."""
    registered = await register()
    assert registered.client_secret is not None
    auth = basic(registered.client.client_id, registered.client_secret)
    gate = Gate(provider.adapter.ledger)
    first = asyncio.ensure_future(http.post("/token", data=GRANT, headers=auth))
    await gate.first_started.wait()
    rest = [asyncio.ensure_future(http.post("/token", data=GRANT, headers=auth)) for _ in range(8)]
    await _queued(provider.adapter.ledger, 8)
    gate.open()
    responses = await asyncio.gather(first, *rest)
    assert [response.status_code for response in responses] == [200] * 9
    tokens = {response.json()["access_token"] for response in responses}
    assert len(tokens) == 9
    assert gate.groups == [1, 8]
    for token in tokens:
        assert await _stored(provider, token)


async def test_no_token_before_its_row_is_committed(
    http: httpx.AsyncClient, provider: OidcProvider, register: Register
) -> None:
    """The response waits for the commit of its row: held commit, no answer yet; once the
    answer comes the row is there for introspection and revocation."""
    registered = await register()
    assert registered.client_secret is not None
    gate = Gate(provider.adapter.ledger)
    auth = basic(registered.client.client_id, registered.client_secret)
    pending = asyncio.ensure_future(http.post("/token", data=GRANT, headers=auth))
    await gate.first_started.wait()
    await asyncio.sleep(0.05)
    assert not pending.done()
    assert await _token_rows(provider) == 0
    gate.open()
    response = await pending
    assert response.status_code == 200
    assert await _stored(provider, response.json()["access_token"])


async def test_a_failed_commit_fails_every_grant_in_it(
    provider: OidcProvider, register: Register
) -> None:
    """A group whose commit fails raises the error to each of its grants and writes none of
    their rows; the group before it and the grants after it are unaffected."""
    client_id = (await register()).client.client_id
    ledger = TokenLedger(provider.database)
    gate = Gate(ledger, fail={1})
    first = asyncio.ensure_future(ledger.record([_record(client_id, 0)]))
    await gate.first_started.wait()
    group = [asyncio.ensure_future(ledger.record([_record(client_id, n)])) for n in range(1, 6)]
    await asyncio.sleep(0)
    gate.open()
    await first
    outcomes = await asyncio.gather(*group, return_exceptions=True)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert gate.groups == [1, 5]
    assert await _token_rows(provider) == 1
    await ledger.record([_record(client_id, 6)])
    assert await _token_rows(provider) == 2


async def test_a_failed_commit_returns_no_token(provider: OidcProvider, register: Register) -> None:
    """Over HTTP: a grant whose commit fails is answered 500 with no access token."""
    registered = await register()
    assert registered.client_secret is not None
    gate = Gate(provider.adapter.ledger, fail={0})
    gate.open()
    transport = httpx.ASGITransport(app=create_app(provider), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        auth = basic(registered.client.client_id, registered.client_secret)
        response = await http.post("/token", data=GRANT, headers=auth)
    assert response.status_code == 500
    assert "access_token" not in response.text
    assert await _token_rows(provider) == 0


async def test_a_deleted_client_fails_only_its_own_grant(
    http: httpx.AsyncClient, provider: OidcProvider, register: Register
) -> None:
    """A row refused by the database (its client deleted by another process while cached
    here) fails its own grant with invalid_client, not the other grants of its group."""
    kept, gone = await register(), await register()
    assert kept.client_secret is not None and gone.client_secret is not None
    kept_auth = basic(kept.client.client_id, kept.client_secret)
    gone_auth = basic(gone.client.client_id, gone.client_secret)
    for auth in (kept_auth, gone_auth):  # both clients cached
        assert (await http.post("/token", data=GRANT, headers=auth)).status_code == 200
    async with provider.database.transaction() as session:
        await session.execute(delete(ClientRow).where(ClientRow.client_id == gone.client.client_id))
    gate = Gate(provider.adapter.ledger)
    first = asyncio.ensure_future(http.post("/token", data=GRANT, headers=kept_auth))
    await gate.first_started.wait()
    group = [
        asyncio.ensure_future(http.post("/token", data=GRANT, headers=auth))
        for auth in (kept_auth, gone_auth, kept_auth)
    ]
    await _queued(provider.adapter.ledger, 3)
    gate.open()
    responses = await asyncio.gather(first, *group)
    assert [response.status_code for response in responses] == [200, 200, 401, 200]
    assert responses[2].json()["error"] == "invalid_client"
    for response in (responses[0], responses[1], responses[3]):
        assert await _stored(provider, response.json()["access_token"])
