"""Passkeys in the browser flow, over HTTP in process: sign-in at ``acr`` ``high`` within an
authorization transaction (/login/passkey/options, /login/passkey), and registration,
listing and removal on /account/passkeys after a ``substantial`` sign-in. The ceremonies
are real: a software authenticator (tests/identity/webauthn_soft.py) signs them."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from joserfc.jwk import KeySet
from webauthn.helpers.structs import ResidentKeyRequirement

from jisr.crypto.jose import verify_compact
from jisr.identity.authn import AuthnSettings, Passkeys, Totp
from jisr.identity.authn.totp import totp_at
from jisr.identity.oidc import Registered
from jisr.identity.oidc.web import LoginFlow
from jisr.identity.pages import Locale
from jisr.identity.pages.i18n import catalogue
from tests.identity.oidc.conftest import ISSUER, RP, FlowEnv, basic
from tests.identity.oidc.flow import Browser, allow, authorize_url, log_in, query, s256
from tests.identity.webauthn_soft import UP, SoftAuthenticator

RP_ID = "id.example.test"  # the issuer's host is the WebAuthn RP ID
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
PKCE = {"code_challenge": s256(VERIFIER), "code_challenge_method": "S256"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_OPTIONS = re.compile(r'id="passkey" data-options-url="([^"]+)"')
_ACTION = re.compile(r'action="([^"]+)" id="passkey-form"')


def _says(response: httpx.Response, key: str) -> bool:
    """Whether the page shows the message ``key`` (pages default to Arabic)."""
    return catalogue(Locale.AR)[key] in response.text


def _flow(env: FlowEnv) -> LoginFlow:
    assert env.provider.flow is not None
    return env.provider.flow


def _passkeys(env: FlowEnv) -> Passkeys:
    passkeys = _flow(env).passkeys
    assert passkeys is not None
    return passkeys


async def _enrolled(env: FlowEnv) -> SoftAuthenticator:
    """A discoverable passkey of the person, registered through authn directly."""
    authenticator = SoftAuthenticator(ISSUER, RP_ID)
    passkeys = _passkeys(env)
    options = await passkeys.begin_registration(
        env.person.nin, resident_key=ResidentKeyRequirement.REQUIRED
    )
    await passkeys.finish_registration(env.person.nin, authenticator.create(options.options_json))
    return authenticator


@dataclass
class Ceremony:
    """A login page's passkey ceremony: its CSRF token, options and assertion target."""

    csrf: str
    options: str
    action: str


async def _begin(browser: Browser, location: str) -> Ceremony:
    """Open the login page at ``location`` and fetch the passkey request options."""
    page = await browser.get(location)
    assert page.status_code == 200, page.text
    csrf = _CSRF.search(page.text)
    options_url, action = _OPTIONS.search(page.text), _ACTION.search(page.text)
    assert csrf and options_url and action, page.text
    options = await browser.request(
        "POST", html.unescape(options_url.group(1)), data={"csrf_token": csrf.group(1)}
    )
    assert options.status_code == 200, options.text
    assert options.headers["cache-control"] == "no-store"
    return Ceremony(csrf.group(1), options.text, html.unescape(action.group(1)))


async def _finish(browser: Browser, ceremony: Ceremony, credential: str) -> httpx.Response:
    data = {"csrf_token": ceremony.csrf, "credential": credential}
    return await browser.request("POST", ceremony.action, data=data)


async def _to_login(browser: Browser, client: Registered, **params: str) -> str:
    response = await browser.get(authorize_url(client.client.client_id, RP, **PKCE, **params))
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/login?tx="), location
    return location


async def _id_claims(env: FlowEnv, client: Registered, code: str) -> dict[str, Any]:
    assert client.client_secret is not None
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": RP,
        "code_verifier": VERIFIER,
    }
    headers = basic(client.client.client_id, client.client_secret)
    response = await env.http.post("/token", data=data, headers=headers)
    assert response.status_code == 200, response.text
    keys = {
        key.kid: key.get_op_key("verify")
        for key in KeySet.import_key_set((await env.http.get("/jwks")).json()).keys
    }
    _, payload = verify_compact(response.json()["id_token"], keys, typ="JWT", algorithms=["ES256"])
    claims: dict[str, Any] = json.loads(payload)
    return claims


async def _passkey_code(
    env: FlowEnv, browser: Browser, client: Registered, authenticator: SoftAuthenticator
) -> dict[str, str]:
    ceremony = await _begin(browser, await _to_login(browser, client, acr_values="high"))
    response = await _finish(browser, ceremony, authenticator.get(ceremony.options))
    if response.headers.get("location", "").startswith("/consent?"):
        response = await allow(browser, response)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(RP)
    return query(response.headers["location"])


class TestPasskeySignIn:
    async def test_code_flow_completed_with_a_passkey(self, flow_env: FlowEnv) -> None:
        """acr_values=high: the login page offers only the passkey; options are usernameless
        (empty allowCredentials, user verification required); the assertion logs the person
        in and the ID token says acr high, amr hwk user mfa."""
        env = flow_env
        authenticator = await _enrolled(env)
        client = await env.register()
        browser = Browser(env.http)
        location = await _to_login(browser, client, acr_values="high")
        page = await browser.get(location)
        assert 'id="password"' not in page.text  # no password form for "high"
        ceremony = await _begin(browser, location)
        options = json.loads(ceremony.options)
        assert options["rpId"] == RP_ID
        assert options["userVerification"] == "required"
        assert options["allowCredentials"] == []
        response = await _finish(browser, ceremony, authenticator.get(ceremony.options))
        assert "__Host-jisr-session" in browser.cookies
        result = query((await allow(browser, response)).headers["location"])
        claims = await _id_claims(env, client, result["code"])
        assert claims["acr"] == "high"
        assert claims["amr"] == ["hwk", "user", "mfa"]
        assert claims["auth_time"] == int(env.clock.now.timestamp())

    async def test_a_passkey_also_satisfies_lower_levels(self, flow_env: FlowEnv) -> None:
        """Without acr_values the login page offers both; the passkey session then serves a
        later request for substantial without another login."""
        env = flow_env
        authenticator = await _enrolled(env)
        client = await env.register()
        browser = Browser(env.http)
        location = await _to_login(browser, client)
        assert 'id="password"' in (await browser.get(location)).text
        ceremony = await _begin(browser, location)
        await allow(browser, await _finish(browser, ceremony, authenticator.get(ceremony.options)))
        again = await browser.get(
            authorize_url(client.client.client_id, RP, acr_values="substantial", **PKCE)
        )
        assert again.status_code == 303
        if again.headers["location"].startswith("/consent?"):
            again = await allow(browser, again)
        assert again.headers["location"].startswith(RP)

    async def test_password_does_not_satisfy_high(self, flow_env: FlowEnv) -> None:
        """A password posted for acr high is refused before it is checked, and no session is
        made; a password (or password + TOTP) session is sent back to /login, never to
        /login/totp, and prompt=none answers login_required."""
        env = flow_env
        client = await env.register()
        browser = Browser(env.http)
        location = await _to_login(browser, client, acr_values="high")
        page = await browser.get(location)
        token = _CSRF.search(page.text)
        assert token
        refused = await browser.request(
            "POST",
            location,
            data={"csrf_token": token.group(1), "nin": env.person.nin, "password": "x"},
        )
        assert refused.status_code == 403
        assert _says(refused, "errors.passkey_required")
        assert "__Host-jisr-session" not in browser.cookies
        # A password session (acr low) does not reach high either.
        low = await browser.get(authorize_url(client.client.client_id, RP, **PKCE))
        await allow(browser, await log_in(browser, low, env.person.nin, env.person.password))
        assert "__Host-jisr-session" in browser.cookies
        step_up = await browser.get(
            authorize_url(client.client.client_id, RP, acr_values="high", **PKCE)
        )
        assert step_up.headers["location"].startswith("/login?tx=")
        silent = await browser.get(
            authorize_url(client.client.client_id, RP, acr_values="high", prompt="none", **PKCE)
        )
        assert query(silent.headers["location"])["error"] == "login_required"

    async def test_wrong_origin_is_refused(self, flow_env: FlowEnv) -> None:
        """An assertion made for another origin (a phishing page) fails: WebAuthn L2 §7.2
        step 13; no session."""
        env = flow_env
        authenticator = await _enrolled(env)
        browser = Browser(env.http)
        location = await _to_login(browser, await env.register(), acr_values="high")
        ceremony = await _begin(browser, location)
        forged = authenticator.get(ceremony.options, origin="https://id.example.test.evil.test")
        refused = await _finish(browser, ceremony, forged)
        assert refused.status_code == 401
        assert _says(refused, "errors.passkey_invalid")
        assert "__Host-jisr-session" not in browser.cookies

    async def test_replayed_or_transplanted_challenge_is_refused(self, flow_env: FlowEnv) -> None:
        """A challenge works once, and only in the transaction and browser that asked for
        it: an assertion replayed into a new transaction, or a challenge of one
        transaction used in another, is refused."""
        env = flow_env
        authenticator = await _enrolled(env)
        client = await env.register()
        browser = Browser(env.http)
        ceremony = await _begin(browser, await _to_login(browser, client, acr_values="high"))
        credential = authenticator.get(ceremony.options)
        assert (await _finish(browser, ceremony, credential)).status_code == 303
        # The transaction waits for consent: the same assertion, posted again, fails.
        assert (await _finish(browser, ceremony, credential)).status_code == 401
        replay = await _begin(Browser(env.http), await _to_login(browser, client, prompt="login"))
        stranger = Browser(env.http)
        later = await _begin(stranger, await _to_login(stranger, client, acr_values="high"))
        refused = await _finish(stranger, later, credential)
        assert refused.status_code == 401
        # Options of one transaction, assertion posted to another.
        other = await _begin(stranger, await _to_login(stranger, client, acr_values="high"))
        moved = Ceremony(other.csrf, replay.options, other.action)
        transplanted = await _finish(stranger, moved, authenticator.get(replay.options))
        assert transplanted.status_code == 401
        assert "__Host-jisr-session" not in stranger.cookies

    async def test_unknown_credential_is_refused(self, flow_env: FlowEnv) -> None:
        """A well-formed assertion from a credential nobody registered fails."""
        env = flow_env
        await _enrolled(env)
        stranger = SoftAuthenticator(ISSUER, RP_ID)
        browser = Browser(env.http)
        ceremony = await _begin(browser, await _to_login(browser, await env.register()))
        refused = await _finish(browser, ceremony, stranger.get(ceremony.options))
        assert refused.status_code == 401
        assert "__Host-jisr-session" not in browser.cookies

    async def test_counter_regression_is_refused_and_flags_the_passkey(
        self, flow_env: FlowEnv
    ) -> None:
        """A signature counter that goes backwards means a cloned authenticator (WebAuthn
        L2 §6.1.1): refused with its own message, and the passkey stays refused."""
        env = flow_env
        authenticator = await _enrolled(env)
        client = await env.register()
        await _passkey_code(env, Browser(env.http), client, authenticator)
        browser = Browser(env.http)
        ceremony = await _begin(browser, await _to_login(browser, client, acr_values="high"))
        cloned = await _finish(browser, ceremony, authenticator.get(ceremony.options, sign_count=0))
        assert cloned.status_code == 401
        assert _says(cloned, "errors.passkey_flagged")
        ceremony = await _begin(browser, await _to_login(browser, client, acr_values="high"))
        again = await _finish(browser, ceremony, authenticator.get(ceremony.options, sign_count=9))
        assert again.status_code == 401
        listed = await _passkeys(env).for_account(env.person.nin)
        assert listed[0].flagged_at is not None

    async def test_user_verification_is_required(self, flow_env: FlowEnv) -> None:
        """User presence alone (no PIN or biometric, UV flag unset) is not enough for high."""
        env = flow_env
        authenticator = await _enrolled(env)
        browser = Browser(env.http)
        ceremony = await _begin(browser, await _to_login(browser, await env.register()))
        refused = await _finish(browser, ceremony, authenticator.get(ceremony.options, flags=UP))
        assert refused.status_code == 401

    async def test_endpoints_need_a_live_transaction_and_the_csrf_token(
        self, flow_env: FlowEnv
    ) -> None:
        """Options need the page's CSRF token and a live transaction; an expired or unknown
        transaction gets the error page; the endpoints take POST only."""
        env = flow_env
        browser = Browser(env.http)
        location = await _to_login(browser, await env.register())
        ceremony = await _begin(browser, location)
        tx = location.removeprefix("/login?tx=")
        no_token = await browser.request("POST", f"/login/passkey/options?tx={tx}", data={})
        assert no_token.status_code == 403
        other_browser = await Browser(env.http).request(
            "POST", f"/login/passkey/options?tx={tx}", data={"csrf_token": ceremony.csrf}
        )
        assert other_browser.status_code == 403  # the token is bound to the pre-session
        unknown = await browser.request(
            "POST", "/login/passkey/options?tx=nope", data={"csrf_token": ceremony.csrf}
        )
        assert unknown.status_code == 400
        assert (await browser.get(f"/login/passkey/options?tx={tx}")).status_code == 405
        no_csrf = await browser.request(
            "POST", ceremony.action, data={"credential": "{}", "csrf_token": "x"}
        )
        assert no_csrf.status_code == 403
        env.clock.advance(timedelta(minutes=11))  # the transaction has expired
        expired = await browser.request(
            "POST", ceremony.action, data={"credential": "{}", "csrf_token": ceremony.csrf}
        )
        assert expired.status_code == 400

    async def test_discovery_lists_high(self, flow_env: FlowEnv) -> None:
        document = (await flow_env.http.get("/.well-known/openid-configuration")).json()
        assert document["acr_values_supported"] == ["low", "substantial", "high"]


# ----------------------------------------------------------------- /account/passkeys


async def _enrol_totp(env: FlowEnv) -> str:
    totp = Totp(env.provider.database, clock=env.clock)
    enrolment = await totp.begin_enrolment(env.person.nin)
    await totp.confirm_enrolment(
        env.person.nin, totp_at(enrolment.secret, env.clock.now, AuthnSettings())
    )
    env.clock.advance(timedelta(seconds=60))
    return enrolment.secret


async def _account_sign_in(env: FlowEnv, browser: Browser, secret: str) -> httpx.Response:
    """Password then TOTP on the account pages; returns the passkeys page."""
    start = await browser.get("/account/passkeys")
    assert start.status_code == 303
    assert start.headers["location"] == "/account/login?next=%2Faccount%2Fpasskeys"
    form = await browser.get(start.headers["location"])
    totp = await browser.submit(
        start.headers["location"],
        form,
        {"nin": env.person.nin, "password": env.person.password},
    )
    assert totp.status_code == 303
    assert totp.headers["location"].startswith("/account/login/totp?")
    page = await browser.get(totp.headers["location"])
    code = totp_at(secret, env.clock.now, AuthnSettings())
    done = await browser.submit(totp.headers["location"], page, {"code": code})
    assert done.headers["location"] == "/account/passkeys"
    listed = await browser.get("/account/passkeys")
    assert listed.status_code == 200
    return listed


async def _add_passkey(browser: Browser, page: httpx.Response, label: str) -> SoftAuthenticator:
    token = _CSRF.search(page.text)
    assert token
    options = await browser.request(
        "POST", "/account/passkeys/options", data={"csrf_token": token.group(1)}
    )
    assert options.status_code == 200, options.text
    selection = json.loads(options.text)["authenticatorSelection"]
    assert selection["residentKey"] == "required"  # sign-in is usernameless
    assert selection["userVerification"] == "required"
    authenticator = SoftAuthenticator(ISSUER, RP_ID)
    data = {
        "csrf_token": token.group(1),
        "label": label,
        "credential": authenticator.create(options.text),
    }
    added = await browser.request("POST", "/account/passkeys", data=data)
    assert added.status_code == 303, added.text
    assert added.headers["location"] == "/account/passkeys?done=added"
    return authenticator


class TestAccountPasskeys:
    async def test_registration_requires_substantial(self, flow_env: FlowEnv) -> None:
        """Without a session the page sends to the sign-in; a password alone is not enough
        (an account without TOTP is told so); options need a substantial session."""
        env = flow_env
        browser = Browser(env.http)
        start = await browser.get("/account/passkeys")
        assert start.headers["location"] == "/account/login?next=%2Faccount%2Fpasskeys"
        page = await browser.get(start.headers["location"])
        no_totp = await browser.submit(
            start.headers["location"],
            page,
            {"nin": env.person.nin, "password": env.person.password},
        )
        assert no_totp.status_code == 403
        assert _says(no_totp, "errors.second_factor_needed")
        # A low session (password login in an authorization flow) is stepped up.
        client = await env.register()
        low = await browser.get(authorize_url(client.client.client_id, RP, **PKCE))
        await log_in(browser, low, env.person.nin, env.person.password)
        step_up = await browser.get("/account/passkeys")
        assert step_up.headers["location"] == "/account/login/totp?next=%2Faccount%2Fpasskeys"
        no_second_factor = await browser.get(step_up.headers["location"])
        assert no_second_factor.status_code == 403
        assert _says(no_second_factor, "errors.second_factor_needed")
        refused = await browser.request(
            "POST", "/account/passkeys/options", data={"csrf_token": "x"}
        )
        assert refused.status_code == 401
        # next= is an account page or nothing: no open redirect through the sign-in.
        elsewhere = await Browser(env.http).get("/account/login?next=https://evil.test")
        assert 'action="/account/login?next=%2Faccount%2Fpasskeys"' in elsewhere.text

    async def test_add_list_sign_in_and_remove(self, flow_env: FlowEnv) -> None:
        """After password + TOTP: a passkey is added (creation options, attestation none),
        listed with its name, signs in at acr high, and is removed."""
        env = flow_env
        secret = await _enrol_totp(env)
        browser = Browser(env.http)
        page = await _account_sign_in(env, browser, secret)
        assert _says(page, "passkeys.none")
        authenticator = await _add_passkey(browser, page, "My phone")
        listed = await browser.get("/account/passkeys?done=added")
        assert _says(listed, "passkeys.added") and "My phone" in listed.text
        client = await env.register()
        result = await _passkey_code(env, Browser(env.http), client, authenticator)
        assert (await _id_claims(env, client, result["code"]))["acr"] == "high"
        token = _CSRF.search(listed.text)
        assert token
        remove = {"csrf_token": token.group(1), "credential_id": authenticator.id}
        removed = await browser.request("POST", "/account/passkeys/remove", data=remove)
        assert removed.headers["location"] == "/account/passkeys?done=removed"
        assert await _passkeys(env).for_account(env.person.nin) == []
        again = await browser.request("POST", "/account/passkeys/remove", data=remove)
        assert again.status_code == 404

    async def test_forms_need_the_csrf_token(self, flow_env: FlowEnv) -> None:
        """Adding, removing and asking for options without the session's CSRF token fail."""
        env = flow_env
        secret = await _enrol_totp(env)
        browser = Browser(env.http)
        await _account_sign_in(env, browser, secret)
        for path in ("/account/passkeys", "/account/passkeys/remove", "/account/passkeys/options"):
            refused = await browser.request("POST", path, data={"csrf_token": "forged"})
            assert refused.status_code == 403, path
        assert await _passkeys(env).for_account(env.person.nin) == []

    async def test_a_credential_for_another_origin_is_not_added(self, flow_env: FlowEnv) -> None:
        """WebAuthn L2 §7.1 step 9: a registration made for another origin is refused and the
        page says so, with the error linked to the form."""
        env = flow_env
        secret = await _enrol_totp(env)
        browser = Browser(env.http)
        page = await _account_sign_in(env, browser, secret)
        token = _CSRF.search(page.text)
        assert token
        options = await browser.request(
            "POST", "/account/passkeys/options", data={"csrf_token": token.group(1)}
        )
        forged = SoftAuthenticator(ISSUER, RP_ID).create(options.text, origin="https://evil.test")
        refused = await browser.request(
            "POST",
            "/account/passkeys",
            data={"csrf_token": token.group(1), "credential": forged, "label": "x"},
        )
        assert refused.status_code == 400
        assert _says(refused, "errors.passkey_not_added")
        assert await _passkeys(env).for_account(env.person.nin) == []

    async def test_sign_in_with_a_passkey(self, flow_env: FlowEnv) -> None:
        """The account sign-in also takes a passkey (usernameless): acr high is enough for
        the passkeys page, no TOTP asked; a wrong origin is refused there too."""
        env = flow_env
        authenticator = await _enrolled(env)
        browser = Browser(env.http)
        start = await browser.get("/account/passkeys")
        location = start.headers["location"]
        ceremony = await _begin(browser, location)
        assert ceremony.action == "/account/login/passkey?next=%2Faccount%2Fpasskeys"
        forged = authenticator.get(ceremony.options, origin="https://evil.test")
        assert (await _finish(browser, ceremony, forged)).status_code == 401
        ceremony = await _begin(browser, location)
        signed_in = await _finish(browser, ceremony, authenticator.get(ceremony.options))
        assert signed_in.headers["location"] == "/account/passkeys"
        page = await browser.get("/account/passkeys")
        assert page.status_code == 200 and authenticator.id in page.text
