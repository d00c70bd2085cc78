"""The consent page of the account (/account/consents), over HTTP in process: remembered
consents listed with client, information and date; revoking one makes the next
authorization ask again."""

from __future__ import annotations

import re

import httpx

from jisr.identity.pages import Locale
from jisr.identity.pages.i18n import catalogue
from tests.identity.oidc.conftest import RP, FlowEnv
from tests.identity.oidc.flow import Browser, allow, authorize_url, log_in, s256

PKCE = {"code_challenge": s256("v" * 43), "code_challenge_method": "S256"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EN = catalogue(Locale.EN)


async def _remembered(env: FlowEnv, browser: Browser, client_id: str) -> httpx.Response:
    """Log in and consent with "remember" ticked; the final redirect to the client."""
    first = await browser.get(
        authorize_url(client_id, RP, scope="openid profile national_id", **PKCE)
    )
    if first.headers["location"].startswith("/login?"):
        first = await log_in(browser, first, env.person.nin, env.person.password)
    done = await allow(browser, first, remember=True)
    assert done.headers["location"].startswith(RP)
    return done


async def test_revoking_a_consent_makes_the_next_authorization_ask_again(
    flow_env: FlowEnv,
) -> None:
    """A remembered consent skips the consent page; once revoked on /account/consents the
    next authorization shows it again."""
    env = flow_env
    client = await env.register(client_name="Bank of Rabat")
    browser = Browser(env.http)
    await _remembered(env, browser, client.client.client_id)
    silent = await browser.get(
        authorize_url(client.client.client_id, RP, scope="openid profile national_id", **PKCE)
    )
    assert silent.headers["location"].startswith(RP)  # remembered: no consent page
    page = await browser.get("/account/consents?ui_locales=en")
    assert page.status_code == 200
    assert "Bank of Rabat" in page.text
    assert EN["claims.name"] in page.text and EN["claims.nin"] in page.text
    assert f'<time datetime="{env.clock.now.date().isoformat()}">' in page.text
    token = _CSRF.search(page.text)
    assert token
    revoked = await browser.request(
        "POST",
        "/account/consents/revoke?ui_locales=en",
        data={"csrf_token": token.group(1), "client_id": client.client.client_id},
    )
    assert revoked.status_code == 303
    assert revoked.headers["location"] == "/account/consents?done=revoked&ui_locales=en"
    after = await browser.get(revoked.headers["location"])
    assert EN["consents.revoked"] in after.text and EN["consents.none"] in after.text
    again = await browser.get(
        authorize_url(client.client.client_id, RP, scope="openid profile national_id", **PKCE)
    )
    assert again.headers["location"].startswith("/consent?tx=")


async def test_only_the_persons_own_consents_are_listed_and_revoked(flow_env: FlowEnv) -> None:
    """Each consent is listed separately; revoking one leaves the other; a client id that is
    not the person's changes nothing."""
    env = flow_env
    bank = await env.register(client_name="Bank of Rabat")
    tax = await env.register(client_name="Tax office")
    browser = Browser(env.http)
    await _remembered(env, browser, bank.client.client_id)
    await _remembered(env, browser, tax.client.client_id)
    page = await browser.get("/account/consents")
    assert page.text.count('name="client_id"') == 2
    token = _CSRF.search(page.text)
    assert token
    for client_id in ("no-such-client", tax.client.client_id):
        await browser.request(
            "POST",
            "/account/consents/revoke",
            data={"csrf_token": token.group(1), "client_id": client_id},
        )
    after = await browser.get("/account/consents")
    assert "Bank of Rabat" in after.text and "Tax office" not in after.text


async def test_the_page_needs_a_session_and_the_csrf_token(flow_env: FlowEnv) -> None:
    """Without a session: to the account sign-in (a password is enough for this page); a
    revocation without the session's CSRF token is refused and changes nothing."""
    env = flow_env
    client = await env.register()
    browser = Browser(env.http)
    start = await browser.get("/account/consents")
    assert start.headers["location"] == "/account/login?next=%2Faccount%2Fconsents"
    form = await browser.get(start.headers["location"])
    signed_in = await browser.submit(
        start.headers["location"], form, {"nin": env.person.nin, "password": env.person.password}
    )
    assert signed_in.headers["location"] == "/account/consents"
    await _remembered(env, browser, client.client.client_id)
    refused = await browser.request(
        "POST",
        "/account/consents/revoke",
        data={"csrf_token": "forged", "client_id": client.client.client_id},
    )
    assert refused.status_code == 403
    assert 'name="client_id"' in refused.text  # still listed
    assert (await Browser(env.http).request("POST", "/account/consents/revoke")).status_code == 303
