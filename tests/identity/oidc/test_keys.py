"""Key rotation: next keys are published before they sign, retired keys stay published
until the tokens they signed have expired."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import pytest

from jisr.crypto.jose import verify_compact
from jisr.identity.oidc import KeyRingError, OidcProvider, OidcSettings, Registered
from tests.identity.oidc.conftest import Clock, Register, basic


async def _published(http: httpx.AsyncClient) -> set[str]:
    return {key["kid"] for key in (await http.get("/jwks")).json()["keys"]}


async def _token_kid(http: httpx.AsyncClient, registered: Registered) -> str:
    assert registered.client_secret is not None
    response = await http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers=basic(registered.client.client_id, registered.client_secret),
    )
    header_segment = response.json()["access_token"].split(".")[0]
    padded = header_segment + "=" * (-len(header_segment) % 4)
    return str(json.loads(base64.urlsafe_b64decode(padded))["kid"])


async def test_rotation_lifecycle(
    http: httpx.AsyncClient, provider: OidcProvider, register: Register, clock: Clock
) -> None:
    """next: published, not signing → active after the lead → old key retired but published
    until its tokens expire → dropped."""
    client = await register()
    old = provider.keyring.signer("ES256").kid
    new = (await provider.keyring.rotate("ES256", clock.now)).kid
    assert new in await _published(http)
    assert await _token_kid(http, client) == old

    clock.advance(timedelta(minutes=59))
    await provider.housekeeping()
    assert await _token_kid(http, client) == old  # lead not over yet

    clock.advance(timedelta(minutes=2))
    await provider.housekeeping()
    assert await _token_kid(http, client) == new
    assert {old, new} <= await _published(http)  # old tokens still verify

    clock.advance(provider.settings.longest_token_lifetime + timedelta(minutes=1))
    await provider.housekeeping()
    published = await _published(http)
    assert new in published and old not in published


async def test_tokens_signed_by_retired_key_still_verify(
    http: httpx.AsyncClient, provider: OidcProvider, register: Register, clock: Clock
) -> None:
    """A token signed just before promotion verifies against the JWKS after it."""
    client = await register()
    assert client.client_secret is not None
    token = (
        await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers=basic(client.client.client_id, client.client_secret),
        )
    ).json()["access_token"]
    await provider.keyring.rotate("ES256", clock.now)
    clock.advance(timedelta(hours=2))
    await provider.keyring.advance(clock.now)
    verify_compact(token, provider.keyring.public_keys(), typ="at+jwt", algorithms=["ES256"])


async def test_second_pending_rotation_refused(provider: OidcProvider, clock: Clock) -> None:
    """Only one next key per algorithm may be pending."""
    await provider.keyring.rotate("RS256", clock.now)
    with pytest.raises(KeyRingError):
        await provider.keyring.rotate("RS256", clock.now)


async def test_keys_survive_restart_encrypted(provider: OidcProvider, clock: Clock) -> None:
    """A second provider over the same database loads the same ring (with the passphrase)."""
    settings = OidcSettings(issuer="https://id.example.test", key_passphrase="correct horse")
    first = OidcProvider(provider.database, settings, clock=clock)
    await first.keyring.rotate("ES256", clock.now)
    second = OidcProvider(provider.database, settings, clock=clock)
    await second.start()
    assert {k.kid for k in second.keyring.signing_keys()} == {
        k.kid for k in first.keyring.signing_keys()
    }
