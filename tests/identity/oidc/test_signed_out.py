"""RP-initiated logout without a post_logout_redirect_uri: the localised "signed out" page
(never a redirect), the session ended."""

from __future__ import annotations

import pytest

from jisr.identity.oidc import Registered
from jisr.identity.pages import Locale
from jisr.identity.pages.i18n import catalogue
from tests.identity.oidc.conftest import RP, RP_LOGOUT, FlowEnv, basic
from tests.identity.oidc.flow import Browser, authorize_url, code_flow, query, s256

VERIFIER = "w" * 43
PKCE = {"code_challenge": s256(VERIFIER), "code_challenge_method": "S256"}


async def _id_token(env: FlowEnv, browser: Browser, client: Registered) -> str:
    result = await code_flow(
        browser, client.client.client_id, RP, env.person.nin, env.person.password, **PKCE
    )
    assert client.client_secret is not None
    data = {
        "grant_type": "authorization_code",
        "code": result["code"],
        "redirect_uri": RP,
        "code_verifier": VERIFIER,
    }
    headers = basic(client.client.client_id, client.client_secret)
    response = await env.http.post("/token", data=data, headers=headers)
    token: str = response.json()["id_token"]
    return token


@pytest.mark.parametrize("locale", list(Locale))
async def test_signed_out_page_in_each_language(flow_env: FlowEnv, locale: Locale) -> None:
    """Logout with only id_token_hint: 200, the page in the asked language (lang, dir),
    the session cookie deleted and the session ended (prompt=none then needs a login)."""
    env = flow_env
    client = await env.register(post_logout_redirect_uris=[RP_LOGOUT])
    browser = Browser(env.http)
    hint = await _id_token(env, browser, client)
    page = await browser.get("/logout", params={"id_token_hint": hint, "ui_locales": locale})
    assert page.status_code == 200
    assert "location" not in page.headers
    messages = catalogue(locale)
    direction = "rtl" if locale is Locale.AR else "ltr"
    assert f'<html lang="{locale.value}" dir="{direction}">' in page.text
    assert f"<h1>{messages['signed_out.title']}</h1>" in page.text
    assert messages["signed_out.body"] in page.text
    assert "__Host-jisr-session" not in browser.cookies
    silent = await browser.get(authorize_url(client.client.client_id, RP, prompt="none", **PKCE))
    assert query(silent.headers["location"])["error"] == "login_required"


async def test_unregistered_redirect_is_never_followed(flow_env: FlowEnv) -> None:
    """A post_logout_redirect_uri that is not registered gets the error page (no
    redirect, session kept); a POST logout without one shows the signed-out page."""
    env = flow_env
    client = await env.register(post_logout_redirect_uris=[RP_LOGOUT])
    browser = Browser(env.http)
    hint = await _id_token(env, browser, client)
    params = {"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example.test/"}
    refused = await browser.get("/logout", params=params)
    assert refused.status_code == 400 and "location" not in refused.headers
    assert "__Host-jisr-session" in browser.cookies
    posted = await browser.request("POST", "/logout", data={"id_token_hint": hint})
    assert posted.status_code == 200
    assert catalogue(Locale.AR)["signed_out.title"] in posted.text
    assert "__Host-jisr-session" not in browser.cookies
