"""The admin API: client registration with scoped tokens and RFC 9457 problems."""

from __future__ import annotations

import httpx
import pytest

from jisr.identity.oidc import OidcProvider, OidcScope
from jisr.identity.oidc.app import TOKENS


async def _bearer(provider: OidcProvider, *scopes: OidcScope) -> dict[str, str]:
    async with provider.database.transaction() as session:
        secret = await TOKENS.create(session, f"t-{'-'.join(scopes)}", scopes, None)
    return {"Authorization": f"Bearer {secret}"}


async def test_client_lifecycle(http: httpx.AsyncClient, provider: OidcProvider) -> None:
    """Create (secret shown once), list, get, delete; then 404."""
    writer = await _bearer(provider, OidcScope.CLIENTS_WRITE)
    reader = await _bearer(provider, OidcScope.CLIENTS_READ)
    created = await http.post(
        "/api/v1/clients",
        json={"client_name": "Tax office", "scope": "tax:read"},
        headers=writer,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    client_id = body["client_id"]
    assert body["client_secret"] and body["grant_types"] == ["client_credentials"]
    listed = (await http.get("/api/v1/clients", headers=reader)).json()
    assert [c["client_id"] for c in listed] == [client_id]
    assert "client_secret" not in listed[0]
    fetched = await http.get(f"/api/v1/clients/{client_id}", headers=reader)
    assert fetched.json()["scope"] == "tax:read"
    assert (await http.delete(f"/api/v1/clients/{client_id}", headers=writer)).status_code == 204
    missing = await http.get(f"/api/v1/clients/{client_id}", headers=reader)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


async def test_scopes_enforced(http: httpx.AsyncClient, provider: OidcProvider) -> None:
    """No token → 401; a read token cannot register → 403; both as problem documents."""
    anonymous = await http.post("/api/v1/clients", json={"client_name": "x"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    reader = await _bearer(provider, OidcScope.CLIENTS_READ)
    forbidden = await http.post("/api/v1/clients", json={"client_name": "x"}, headers=reader)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "insufficient_scope")


@pytest.mark.parametrize(
    ("metadata", "field", "rule"),
    [
        ({"redirect_uris": ["http://rp.example.test/cb"]}, "redirect_uris.0", "https_required"),
        ({"redirect_uris": ["https://rp.example.test/cb#x"]}, "redirect_uris.0", "fragment"),
        ({"redirect_uris": ["/cb"]}, "redirect_uris.0", "not_absolute"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "jwks", "required"),
        ({"grant_types": ["password"]}, "grant_types", "unsupported"),
        ({"grant_types": ["authorization_code"]}, "redirect_uris", "required"),
        ({"scope": 'a"b'}, "scope", "invalid_character"),
    ],
)
async def test_invalid_metadata_is_422_problem(
    http: httpx.AsyncClient,
    provider: OidcProvider,
    metadata: dict[str, object],
    field: str,
    rule: str,
) -> None:
    """Each metadata rule answers 422 naming the field and the rule."""
    writer = await _bearer(provider, OidcScope.CLIENTS_WRITE)
    response = await http.post(
        "/api/v1/clients", json={"client_name": "x", **metadata}, headers=writer
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["field"], error["rule"]) == (f"body.{field}", rule)


async def test_native_loopback_redirect_accepted(
    http: httpx.AsyncClient, provider: OidcProvider
) -> None:
    """RFC 8252 §7.3: http on 127.0.0.1 / localhost is allowed for native clients."""
    writer = await _bearer(provider, OidcScope.CLIENTS_WRITE)
    response = await http.post(
        "/api/v1/clients",
        json={
            "client_name": "native",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "redirect_uris": ["http://127.0.0.1:8123/cb", "http://localhost/cb"],
        },
        headers=writer,
    )
    assert response.status_code == 201, response.text


async def test_key_rotation_endpoint(http: httpx.AsyncClient, provider: OidcProvider) -> None:
    """POST /keys/{alg}/rotate publishes a next key; a second pending one is 409."""
    keys = await _bearer(provider, OidcScope.KEYS_WRITE)
    first = await http.post("/api/v1/keys/ES256/rotate", headers=keys)
    assert (first.status_code, first.json()["state"]) == (201, "next")
    second = await http.post("/api/v1/keys/ES256/rotate", headers=keys)
    assert (second.status_code, second.json()["code"]) == (409, "rotation_pending")
