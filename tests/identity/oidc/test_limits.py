"""Request hygiene at the OAuth endpoints: size limits, duplicates, media type (400)."""

from __future__ import annotations

import httpx
import pytest

from tests.identity.oidc.conftest import Register, basic


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "client_credentials", "scope": "r" * 5000},
        {"grant_type": "client_credentials", "client_assertion": "a" * 9000},
        {"grant_type": "client_credentials", "x" * 100: "1"},
        {"grant_type": "client_credentials", **{f"p{i}": "1" for i in range(20)}},
    ],
    ids=["long-scope", "long-assertion", "long-name", "too-many"],
)
async def test_oversized_parameters_refused(
    http: httpx.AsyncClient, register: Register, form: dict[str, str]
) -> None:
    """Oversized values, names or parameter counts are invalid_request (400)."""
    registered = await register()
    assert registered.client_secret is not None
    headers = basic(registered.client.client_id, registered.client_secret)
    response = await http.post("/token", data=form, headers=headers)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_oversized_body_refused(http: httpx.AsyncClient) -> None:
    """A body over max_body_bytes is refused before it is parsed."""
    response = await http.post(
        "/token",
        content=b"grant_type=client_credentials&pad=" + b"x" * 20_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_oversized_authorization_header_refused(http: httpx.AsyncClient) -> None:
    """An Authorization header longer than a parameter may be is refused."""
    response = await http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + "A" * 5000},
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_repeated_parameter_refused(http: httpx.AsyncClient) -> None:
    """RFC 6749 §3.2: a parameter sent twice is invalid_request."""
    response = await http.post(
        "/token",
        content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_json_body_refused(http: httpx.AsyncClient) -> None:
    """RFC 6749 §3.2: the token endpoint takes application/x-www-form-urlencoded only."""
    response = await http.post("/token", json={"grant_type": "client_credentials"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_unknown_grant_type(http: httpx.AsyncClient) -> None:
    """A grant type the server does not serve is unsupported_grant_type."""
    response = await http.post("/token", data={"grant_type": "password"})
    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")
