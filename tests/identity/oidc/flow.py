"""A browserless user agent for the login flow: follows redirects by hand, keeps cookies
itself (``__Host-`` cookies are Secure, and the loopback test runs over http), and posts
forms with the CSRF token read from the page."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Browser:
    http: httpx.AsyncClient
    base: str = ""
    cookies: dict[str, str] = field(default_factory=dict)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if url.startswith(self.base) and self.base:
            url = url[len(self.base) :]
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.http.cookies.clear()
        response = await self.http.request(method, url, headers=headers, **kwargs)
        self.http.cookies.clear()
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header or not value or value == '""':
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def submit(
        self, page_url: str, page: httpx.Response, data: dict[str, str]
    ) -> httpx.Response:
        match = _CSRF.search(page.text)
        assert match, page.text
        return await self.request("POST", page_url, data={"csrf_token": match.group(1), **data})


def authorize_url(client_id: str, redirect_uri: str, **params: str) -> str:
    values = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        **params,
    }
    return "/authorize?" + urlencode({k: v for k, v in values.items() if v is not None})


async def log_in(
    browser: Browser, response: httpx.Response, nin: str, password: str
) -> httpx.Response:
    """From a redirect to /login: fetch the form, post the credentials."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/login?tx="), location
    page = await browser.get(location)
    assert page.status_code == 200
    return await browser.submit(location, page, {"nin": nin, "password": password})


async def allow(
    browser: Browser, response: httpx.Response, remember: bool = False
) -> httpx.Response:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/consent?tx="), location
    page = await browser.get(location)
    assert page.status_code == 200
    data = {"decision": "allow"}
    if remember:
        data["remember"] = "1"
    return await browser.submit(location, page, data)


async def code_flow(
    browser: Browser, client_id: str, redirect_uri: str, nin: str, password: str, **params: str
) -> dict[str, str]:
    """Authorize, log in, consent: the query of the final redirect to the client."""
    response = await browser.get(authorize_url(client_id, redirect_uri, **params))
    if response.headers.get("location", "").startswith("/login?"):
        response = await log_in(browser, response, nin, password)
    if response.headers.get("location", "").startswith("/consent?"):
        response = await allow(browser, response)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri), location
    return query(location)
