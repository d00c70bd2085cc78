"""Discovery (OIDC Discovery §3 / RFC 8414) and the JWK Set (RFC 7517)."""

from __future__ import annotations

import httpx

from tests.identity.oidc.conftest import ISSUER


async def test_discovery_lists_implemented_endpoints_only(http: httpx.AsyncClient) -> None:
    """The document names the issuer, the endpoints that exist and the implemented methods."""
    response = await http.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    document = response.json()
    assert document["issuer"] == ISSUER
    assert document["token_endpoint"] == f"{ISSUER}/token"
    assert document["jwks_uri"] == f"{ISSUER}/jwks"
    assert document["revocation_endpoint"] == f"{ISSUER}/revoke"
    assert document["introspection_endpoint"] == f"{ISSUER}/introspect"
    assert document["grant_types_supported"] == ["client_credentials"]
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    }
    assert "authorization_endpoint" not in document
    assert "userinfo_endpoint" not in document


async def test_jwks_has_kid_alg_and_no_private_parts(http: httpx.AsyncClient) -> None:
    """Every published key carries kid, alg and use=sig; ES256 and RS256 are both there."""
    response = await http.get("/jwks")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert {key["alg"] for key in keys} == {"ES256", "RS256"}
    for key in keys:
        assert key["kid"] and key["use"] == "sig"
        assert "d" not in key and "p" not in key


async def test_openapi_documents_admin_and_oauth_endpoints(http: httpx.AsyncClient) -> None:
    """The OpenAPI document covers the admin API and the form-encoded OAuth endpoints."""
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert {"/token", "/revoke", "/introspect", "/api/v1/clients"} <= set(paths)
