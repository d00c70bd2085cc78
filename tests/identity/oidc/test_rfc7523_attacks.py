"""private_key_jwt (RFC 7523 §3) attacks: replay, alg none, HMAC keyed with the public key,
wrong audience, stale or long-lived assertions, another client's key."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.identity.oidc.conftest import (
    ASSERTION_TYPE,
    START,
    Clock,
    KeyedClient,
    b64json,
    b64url,
)


def _form(assertion: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }


async def _refused(http: httpx.AsyncClient, assertion: str) -> str:
    response = await http.post("/token", data=_form(assertion))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    return str(response.json().get("error_description", ""))


async def test_replayed_jti_refused(http: httpx.AsyncClient, keyed_client: KeyedClient) -> None:
    """The same assertion (same jti) is accepted once, then refused."""
    assertion = keyed_client.assertion(START)
    first = await http.post("/token", data=_form(assertion))
    assert first.status_code == 200, first.text
    assert "replayed" in await _refused(http, assertion)


async def test_alg_none_refused(http: httpx.AsyncClient, keyed_client: KeyedClient) -> None:
    """An unsigned assertion (alg none, RFC 7518 §3.6) is refused."""
    client_id = keyed_client.client_id
    claims = {"iss": client_id, "sub": client_id, "aud": "https://id.example.test/token"}
    claims |= {"exp": int((START + timedelta(minutes=1)).timestamp()), "jti": "j-none"}
    token = f"{b64json({'alg': 'none', 'kid': keyed_client.key.kid})}.{b64json(claims)}."
    await _refused(http, token)


async def test_hs256_keyed_with_public_key_refused(
    http: httpx.AsyncClient, keyed_client: KeyedClient
) -> None:
    """Algorithm confusion: HS256 with the registered public key as the HMAC secret."""
    public = keyed_client.key.as_pem(private=False)
    client_id = keyed_client.client_id
    claims = {"iss": client_id, "sub": client_id, "aud": "https://id.example.test/token"}
    claims |= {"exp": int((START + timedelta(minutes=1)).timestamp()), "jti": "j-hs"}
    signing_input = f"{b64json({'alg': 'HS256', 'kid': keyed_client.key.kid})}.{b64json(claims)}"
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    assert "alg must be ES256" in await _refused(http, f"{signing_input}.{b64url(mac)}")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "https://id.example.test"}, "aud"),
        ({"exp": int((START - timedelta(minutes=5)).timestamp())}, "expired"),
        ({"exp": int((START + timedelta(hours=1)).timestamp())}, "too long"),
        ({"iss": "someone-else"}, "iss and sub"),
        ({"jti": ""}, "jti"),
        ({"iat": int((START + timedelta(hours=1)).timestamp())}, "future"),
    ],
)
async def test_bad_claims_refused(
    http: httpx.AsyncClient, keyed_client: KeyedClient, overrides: dict[str, object], reason: str
) -> None:
    """Wrong audience, expired, too long-lived, mismatched iss, empty jti, future iat."""
    assert reason in await _refused(http, keyed_client.assertion(START, **overrides))


async def test_assertion_signed_by_unregistered_key_refused(
    http: httpx.AsyncClient, keyed_client: KeyedClient
) -> None:
    """A valid-looking assertion signed by a key the client did not register is refused."""
    impostor = ECKey.generate_key("P-256", parameters={"kid": keyed_client.key.kid})
    client_id = keyed_client.client_id
    claims = {"iss": client_id, "sub": client_id, "aud": "https://id.example.test/token"}
    claims |= {"exp": int((START + timedelta(minutes=1)).timestamp()), "jti": "j-imp"}
    token = jwt.encode({"alg": "ES256", "kid": impostor.kid}, claims, impostor)
    assert "does not verify" in await _refused(http, token)


async def test_assertion_and_secret_together_refused(
    http: httpx.AsyncClient, keyed_client: KeyedClient, clock: Clock
) -> None:
    """RFC 6749 §2.3: one authentication method per request."""
    form = _form(keyed_client.assertion(clock.now)) | {"client_secret": "x"}
    response = await http.post("/token", data=form)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
