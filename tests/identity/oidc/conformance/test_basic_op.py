"""The OpenID Foundation Basic OP certification plan (``oidcc-basic-certification-test-plan``,
variant response_type=code, client_auth_type=client_secret_basic except where the module
fixes another, server_metadata=discovery, client_registration=static_client) as black-box
tests against a live provider over loopback HTTP. One test per module, named after it; the
docstring quotes what the suite checks. ``MODULES.md`` lists the outcomes."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta

from tests.identity.oidc.conformance.conftest import LiveOp
from tests.identity.oidc.conftest import RP
from tests.identity.oidc.flow import Browser


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _unsigned_jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


async def _logged_in(op: LiveOp) -> tuple[Browser, int]:
    """Log in once with a fresh browser, the consent remembered (as the suite's tester
    does, so that prompt=none can succeed later); return the browser and the auth_time."""
    browser = op.browser()
    result, shown = await op.code(browser, op.client, nonce="first", remember=True)
    assert shown == ["login", "consent"]
    tokens = await op.tokens(op.client, result["code"], nonce="first")
    return browser, tokens.claims.get("auth_time", 0)


# ------------------------------------------------------------------------------ core flow


async def test_oidcc_server(op: LiveOp) -> None:
    """oidcc-server: "the authorization server issuing an authorization code, the code
    exchanged at the token endpoint for an id_token and access token", discovery and the
    ID token fully checked (signature by kid, iss, aud, exp, iat, nonce, at_hash)."""
    meta = op.metadata
    assert meta["issuer"] == op.base
    assert "code" in meta["response_types_supported"]
    assert (
        "public" in meta["subject_types_supported"] or "pairwise" in meta["subject_types_supported"]
    )
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    browser = op.browser()
    result, shown = await op.code(browser, op.client, state="s-1", nonce="n-1")
    assert shown == ["login", "consent"]
    assert set(result) == {"code", "state", "iss"}
    tokens = await op.tokens(op.client, result["code"], nonce="n-1")
    assert tokens.claims["at_hash"]


async def test_oidcc_response_type_missing(op: LiveOp) -> None:
    """oidcc-response-type-missing: "sends an authorization request that is missing the
    response_type parameter. The authorization server should either redirect back to the
    client with an invalid_request or unsupported_response_type error, or display an error
    to the user" (the suite asks for a screenshot of the error page)."""
    response = await op.start(op.browser(), op.client, response_type=None, state="rtm")
    # Jisr takes the redirect branch (client and redirect_uri are verified by then).
    result = op.callback(response, "rtm")
    assert result["error"] in ("invalid_request", "unsupported_response_type")
    assert "code" not in result


async def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(op: LiveOp) -> None:
    """oidcc-ensure-request-without-nonce-succeeds-for-code-flow: "should end with the
    authorisation server issuing an authorization code, even though a nonce was not
    supplied"; the ID token then carries no nonce."""
    result, _ = await op.code(op.browser(), op.client, nonce=None)
    tokens = await op.tokens(op.client, result["code"], nonce=None)
    assert "nonce" not in tokens.claims


async def test_oidcc_ensure_request_with_valid_pkce_succeeds(op: LiveOp) -> None:
    """oidcc-ensure-request-with-valid-pkce-succeeds: "a request with a valid PKCE
    challenge (S256) succeeds"; the verifier is sent at the token endpoint."""
    verifier = secrets.token_urlsafe(48)
    challenge = {"code_challenge": _s256(verifier), "code_challenge_method": "S256"}
    result, _ = await op.code(op.browser(), op.client, nonce="pkce", **challenge)
    await op.tokens(op.client, result["code"], nonce="pkce", verifier=verifier)
    # And the challenge binds the code: a public client with a wrong verifier is refused.
    result, _ = await op.code(op.browser(), op.public, nonce="pkce2", **challenge)
    wrong = await op.redeem(op.public, result["code"], verifier=verifier + "x")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


async def test_oidcc_server_client_secret_post(op: LiveOp) -> None:
    """oidcc-server-client-secret-post: oidcc-server with client_auth_type
    client_secret_post: the client authenticates at the token endpoint with client_id and
    client_secret in the form body."""
    assert "client_secret_post" in op.metadata["token_endpoint_auth_methods_supported"]
    result, _ = await op.code(op.browser(), op.client_post, nonce="post")
    await op.tokens(op.client_post, result["code"], nonce="post")


async def test_oidcc_ensure_post_request_succeeds(op: LiveOp) -> None:
    """oidcc-ensure-post-request-succeeds: "the authorization request is sent as an HTTP
    POST (form-encoded) and should succeed" (OIDC Core §3.1.2.1: GET and POST MUST be
    supported)."""
    browser = op.browser()
    response = await op.start(browser, op.client, method="POST", state="p", nonce="p")
    response, shown = await op.interact(browser, response)
    assert shown == ["login", "consent"]
    result = op.callback(response, "p")
    await op.tokens(op.client, result["code"], nonce="p")


async def test_oidcc_ensure_request_with_unknown_parameter_succeeds(op: LiveOp) -> None:
    """oidcc-ensure-request-with-unknown-parameter-succeeds: "adds an extra parameter
    (extra=foobar) to the authorization request; the server must ignore it" (OIDC Core
    §3.1.2.1, RFC 6749 §3.1)."""
    result, _ = await op.code(op.browser(), op.client, extra="foobar", nonce="x")
    await op.tokens(op.client, result["code"], nonce="x")


async def test_oidcc_ensure_other_scope_order_succeeds(op: LiveOp) -> None:
    """oidcc-ensure-other-scope-order-succeeds: the scopes sent in another order (openid
    not first) must succeed: scope is a set (RFC 6749 §3.3)."""
    result, _ = await op.code(op.browser(), op.client, scope="profile openid", nonce="o")
    tokens = await op.tokens(op.client, result["code"], nonce="o")
    info = (await op.userinfo(tokens.access_token)).json()
    assert info["sub"] == tokens.claims["sub"] and info["given_name"] == "Ahmed"


# ------------------------------------------------------------------------------ userinfo


async def _userinfo_flow(op: LiveOp, how: str) -> None:
    result, _ = await op.code(op.browser(), op.client, scope="openid profile", nonce="u")
    tokens = await op.tokens(op.client, result["code"], nonce="u")
    response = await op.userinfo(tokens.access_token, how)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    info = response.json()
    assert info["sub"] == tokens.claims["sub"]
    assert info["name"] == "Ahmed El Amrani" and info["birthdate"] == "1990-05-17"


async def test_oidcc_userinfo_get(op: LiveOp) -> None:
    """oidcc-userinfo-get: "makes an authenticated GET request to the UserInfo endpoint and
    validates the response" (sub equal to the ID token's, standard claim types)."""
    await _userinfo_flow(op, "get")


async def test_oidcc_userinfo_post_header(op: LiveOp) -> None:
    """oidcc-userinfo-post-header: "makes an authenticated POST request to the UserInfo
    endpoint with the access token in the Authorization header"."""
    await _userinfo_flow(op, "post-header")


async def test_oidcc_userinfo_post_body(op: LiveOp) -> None:
    """oidcc-userinfo-post-body: "POST to the UserInfo endpoint with the access token in the
    body ... not required by the standards - the test will complete with a 'warning' if the
    server returns a http error response". Jisr takes the token from the header only
    (RFC 6750 §2.2 is a MAY): the body form gets a 401 Bearer challenge, never claims."""
    result, _ = await op.code(op.browser(), op.client, scope="openid profile", nonce="b")
    tokens = await op.tokens(op.client, result["code"], nonce="b")
    response = await op.userinfo(tokens.access_token, "post-body")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "sub" not in response.text


# -------------------------------------------------------------------------------- scopes


async def test_oidcc_scope_profile(op: LiveOp) -> None:
    """oidcc-scope-profile: scope "openid profile"; the userinfo (or ID token) should carry
    the profile claims (OIDC Core §5.4). Jisr has name, given_name, family_name (with #ar
    variants), birthdate and gender; the others are absent, which §5.4 allows."""
    assert "profile" in op.metadata["scopes_supported"]
    result, _ = await op.code(op.browser(), op.client, scope="openid profile", nonce="p")
    tokens = await op.tokens(op.client, result["code"], nonce="p")
    info = (await op.userinfo(tokens.access_token)).json()
    assert {"sub", "name", "given_name", "family_name", "birthdate", "gender"} <= info.keys()
    assert info["gender"] == "male" and info["family_name#ar"] == "العمراني"
    assert "address" not in info and "national_id" not in info


async def test_oidcc_scope_email(op: LiveOp) -> None:
    """oidcc-scope-email: scope "openid email"; skipped by the suite when scopes_supported
    does not list email. The register holds no e-mail: discovery does not list the scope,
    and a client that asks for it anyway gets a redirected invalid_scope, not a code."""
    assert "email" not in op.metadata["scopes_supported"]
    assert "email" not in op.metadata["claims_supported"]
    response = await op.start(op.browser(), op.client, scope="openid email", state="e")
    result = op.callback(response, "e")
    assert result["error"] == "invalid_scope" and "code" not in result


async def test_oidcc_scope_address(op: LiveOp) -> None:
    """oidcc-scope-address: scope "openid address"; the address claim (OIDC Core §5.1.1,
    a JSON object) is returned."""
    result, _ = await op.code(op.browser(), op.client, scope="openid address", nonce="a")
    tokens = await op.tokens(op.client, result["code"], nonce="a")
    info = (await op.userinfo(tokens.access_token)).json()
    assert info["address"] == {"formatted": "12 Avenue Mohammed V, Rabat"}
    assert "name" not in info


async def test_oidcc_scope_phone(op: LiveOp) -> None:
    """oidcc-scope-phone: scope "openid phone"; skipped by the suite when scopes_supported
    does not list phone. The register holds no phone number: not listed, and asking for it
    is a redirected invalid_scope."""
    assert "phone" not in op.metadata["scopes_supported"]
    assert "phone_number" not in op.metadata["claims_supported"]
    response = await op.start(op.browser(), op.client, scope="openid phone", state="ph")
    result = op.callback(response, "ph")
    assert result["error"] == "invalid_scope"


async def test_oidcc_scope_all(op: LiveOp) -> None:
    """oidcc-scope-all: every scope the provider supports at once ("openid profile email
    address phone" where supported); all their claims are returned. Jisr's are openid,
    profile, address and national_id."""
    scope = " ".join(op.metadata["scopes_supported"])
    assert set(scope.split()) == {"openid", "profile", "address", "national_id"}
    result, _ = await op.code(op.browser(), op.client, scope=scope, nonce="all")
    tokens = await op.tokens(op.client, result["code"], nonce="all")
    info = (await op.userinfo(tokens.access_token)).json()
    assert {"name", "birthdate", "address", "national_id"} <= info.keys()
    assert info["national_id"] == op.nin
    assert set(info) - {"sub"} <= set(op.metadata["claims_supported"])


async def test_oidcc_claims_essential(op: LiveOp) -> None:
    """oidcc-claims-essential: claims={"userinfo":{"name":{"essential":true}}} with scope
    openid only; the name claim should be returned from userinfo (a warning if not)."""
    assert op.metadata["claims_parameter_supported"] is True
    claims = json.dumps({"userinfo": {"name": {"essential": True}}})
    result, _ = await op.code(op.browser(), op.client, claims=claims, nonce="c")
    tokens = await op.tokens(op.client, result["code"], nonce="c")
    info = (await op.userinfo(tokens.access_token)).json()
    assert info["name"] == "Ahmed El Amrani"
    assert "birthdate" not in info  # only what was asked


# -------------------------------------------------------------------- request parameters


async def test_oidcc_display_page(op: LiveOp) -> None:
    """oidcc-display-page: display=page; "the login page should be displayed as a full
    page" and the flow succeeds (the suite takes a screenshot)."""
    browser = op.browser()
    response = await op.start(browser, op.client, display="page", nonce="d")
    page = await browser.get(response.headers["location"])
    assert page.status_code == 200 and "<html" in page.text and 'name="password"' in page.text
    response, shown = await op.interact(browser, response)
    assert shown == ["login", "consent"]
    await op.tokens(op.client, op.callback(response)["code"], nonce="d")


async def test_oidcc_display_popup(op: LiveOp) -> None:
    """oidcc-display-popup: display=popup; the login page is shown (a popup-sized page is
    optional) and the flow succeeds."""
    browser = op.browser()
    response = await op.start(browser, op.client, display="popup", nonce="d")
    response, shown = await op.interact(browser, response)
    assert shown[0] == "login"
    await op.tokens(op.client, op.callback(response)["code"], nonce="d")


async def test_oidcc_login_hint(op: LiveOp) -> None:
    """oidcc-login-hint: login_hint set; the request succeeds (using the hint is optional;
    the suite takes a screenshot of the prefilled login page)."""
    browser = op.browser()
    response = await op.start(browser, op.client, login_hint=op.nin, nonce="h")
    page = await browser.get(response.headers["location"])
    assert op.nin in page.text  # Jisr prefills the identifier
    response, _ = await op.interact(browser, response)
    await op.tokens(op.client, op.callback(response)["code"], nonce="h")


async def test_oidcc_ui_locales(op: LiveOp) -> None:
    """oidcc-ui-locales: ui_locales set (the suite sends "se", unsupported); the request
    must succeed. Jisr also honours a supported one: ui_locales=fr gives a French page."""
    result, _ = await op.code(op.browser(), op.client, ui_locales="se", nonce="l")
    await op.tokens(op.client, result["code"], nonce="l")
    browser = op.browser()
    response = await op.start(browser, op.client, ui_locales="fr", nonce="l2")
    page = await browser.get(response.headers["location"])
    assert 'lang="fr"' in page.text


async def test_oidcc_claims_locales(op: LiveOp) -> None:
    """oidcc-claims-locales: claims_locales set (the suite sends "se"); the request must
    succeed and userinfo answer (localised claims are optional)."""
    result, _ = await op.code(
        op.browser(), op.client, scope="openid profile", claims_locales="se", nonce="cl"
    )
    tokens = await op.tokens(op.client, result["code"], nonce="cl")
    assert (await op.userinfo(tokens.access_token)).status_code == 200


async def test_oidcc_ensure_request_with_acr_values_succeeds(op: LiveOp) -> None:
    """oidcc-ensure-request-with-acr-values-succeeds: acr_values="1 2" (values the provider
    does not know) must not fail the request; an acr claim, if returned, is checked. Jisr
    also honours its own level: acr_values=substantial asks the TOTP and says so."""
    result, _ = await op.code(op.browser(), op.client, acr_values="1 2", nonce="acr")
    tokens = await op.tokens(op.client, result["code"], nonce="acr")
    assert tokens.claims["acr"] in op.metadata["acr_values_supported"]
    browser = op.browser()
    result, shown = await op.code(browser, op.client, acr_values="substantial", nonce="s")
    assert shown == ["login", "totp", "consent"]
    tokens = await op.tokens(op.client, result["code"], nonce="s")
    assert tokens.claims["acr"] == "substantial" and "otp" in tokens.claims["amr"]


async def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(
    op: LiveOp,
) -> None:
    """oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: an
    alg=none request object; "either the server supports it correctly, or returns an error
    (request_not_supported)". Discovery says request_parameter_supported=false."""
    assert op.metadata["request_parameter_supported"] is False
    request = _unsigned_jwt(
        {
            "iss": op.client.client.client_id,
            "aud": op.base,
            "response_type": "code",
            "client_id": op.client.client.client_id,
            "redirect_uri": RP,
            "scope": "openid",
            "state": "ro",
            "nonce": "ro",
        }
    )
    response = await op.start(op.browser(), op.client, request=request, state="ro")
    result = op.callback(response, "ro")
    assert result["error"] == "request_not_supported" and "code" not in result


async def test_oidcc_ensure_request_object_with_redirect_uri(op: LiveOp) -> None:
    """oidcc-ensure-request-object-with-redirect-uri: a request object carrying the
    redirect_uri; a provider that does not support request objects returns
    request_not_supported (to the verified redirect_uri), never a code."""
    request = _unsigned_jwt(
        {"client_id": op.client.client.client_id, "redirect_uri": RP, "state": "rr"}
    )
    response = await op.start(op.browser(), op.client, request=request, state="rr")
    result = op.callback(response, "rr")
    assert result["error"] == "request_not_supported" and "code" not in result


async def test_oidcc_ensure_registered_redirect_uri(op: LiveOp) -> None:
    """oidcc-ensure-registered-redirect-uri: an unregistered redirect_uri; "the server must
    display an error to the user and must not redirect" (screenshot of the error page)."""
    for uri in ("https://rp.example.test/other", RP + "/x", RP + "?a=b", "https://evil.test/cb"):
        response = await op.start(op.browser(), op.client, redirect_uri=uri)
        assert response.status_code == 400, uri
        assert "location" not in response.headers
        assert "text/html" in response.headers["content-type"]


async def test_oidcc_ensure_redirect_uri_in_authorization_request(op: LiveOp) -> None:
    """oidcc-ensure-redirect-uri-in-authorization-request (oidcc-test-plan, not the Basic
    plan): no redirect_uri; OIDC Core §3.1.2.1 makes it REQUIRED, so an error page, no
    redirect."""
    response = await op.start(op.browser(), op.client, redirect_uri=None)
    assert response.status_code == 400 and "location" not in response.headers


async def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(
    op: LiveOp,
) -> None:
    """oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported (Dynamic
    plan, not the Basic plan): a request_uri; discovery says
    request_uri_parameter_supported=false, and the request is refused with
    request_uri_not_supported, without the provider fetching anything."""
    assert op.metadata["request_uri_parameter_supported"] is False
    response = await op.start(
        op.browser(), op.client, request_uri="https://rp.example.test/req/1", state="ru"
    )
    result = op.callback(response, "ru")
    assert result["error"] == "request_uri_not_supported"


# -------------------------------------------------------------------------- session, prompt


async def test_oidcc_prompt_login(op: LiveOp) -> None:
    """oidcc-prompt-login: log in, then a second request with prompt=login; "the server
    must ask the user to login for a second time" (screenshot), and the second ID token's
    auth_time is later than the first."""
    browser, first_auth = await _logged_in(op)
    op.clock.advance(timedelta(seconds=5))
    result, shown = await op.code(browser, op.client, prompt="login", nonce="pl")
    assert shown[0] == "login"
    tokens = await op.tokens(op.client, result["code"], nonce="pl")
    assert tokens.claims["auth_time"] > first_auth


async def test_oidcc_prompt_none_not_logged_in(op: LiveOp) -> None:
    """oidcc-prompt-none-not-logged-in: prompt=none with no session; the error must be one
    that requires a user interface (login_required, interaction_required, ...), redirected
    with the state."""
    response = await op.start(op.browser(), op.client, prompt="none", state="pn")
    result = op.callback(response, "pn")
    assert result["error"] in (
        "login_required",
        "interaction_required",
        "consent_required",
        "account_selection_required",
    )
    assert "code" not in result


async def test_oidcc_prompt_none_logged_in(op: LiveOp) -> None:
    """oidcc-prompt-none-logged-in: log in, then prompt=none; "the server must return a
    code without user interaction", for the same sub."""
    browser, _ = await _logged_in(op)
    response = await op.start(browser, op.client, prompt="none", state="pnl", nonce="pnl")
    result = op.callback(response, "pnl")  # straight back: no page at all
    tokens = await op.tokens(op.client, result["code"], nonce="pnl")
    first = await op.code(op.browser(), op.client, nonce="again")
    again = await op.tokens(op.client, first[0]["code"], nonce="again")
    assert tokens.claims["sub"] == again.claims["sub"]


async def test_oidcc_max_age_1(op: LiveOp) -> None:
    """oidcc-max-age-1: log in, wait more than a second, then max_age=1: "the server must
    ask the user to login for a second time" (screenshot), and auth_time is present and
    later than the first."""
    browser, first_auth = await _logged_in(op)
    op.clock.advance(timedelta(seconds=2))
    result, shown = await op.code(browser, op.client, max_age="1", nonce="m1")
    assert shown[0] == "login"
    tokens = await op.tokens(op.client, result["code"], nonce="m1", max_age=True)
    assert tokens.claims["auth_time"] > first_auth
    assert tokens.claims["auth_time"] >= op.clock.now.timestamp() - 1


async def test_oidcc_max_age_10000(op: LiveOp) -> None:
    """oidcc-max-age-10000: log in, then max_age=10000: no new login; auth_time present and
    equal to the first login's."""
    browser, first_auth = await _logged_in(op)
    op.clock.advance(timedelta(seconds=30))
    result, shown = await op.code(browser, op.client, max_age="10000", nonce="m2")
    assert shown == []
    tokens = await op.tokens(op.client, result["code"], nonce="m2", max_age=True)
    assert tokens.claims["auth_time"] == first_auth


async def test_oidcc_id_token_hint(op: LiveOp) -> None:
    """oidcc-id-token-hint: log in, then prompt=none with the first ID token as
    id_token_hint; "the server must return a code" for the same sub."""
    browser = op.browser()
    result, _ = await op.code(browser, op.client, nonce="first", remember=True)
    first = await op.tokens(op.client, result["code"], nonce="first")
    response = await op.start(
        browser,
        op.client,
        prompt="none",
        id_token_hint=first.body["id_token"],
        state="ih",
        nonce="ih",
    )
    result = op.callback(response, "ih")
    assert "code" in result, result
    second = await op.tokens(op.client, result["code"], nonce="ih")
    assert second.claims["sub"] == first.claims["sub"]


# ------------------------------------------------------------------------ token endpoint


async def test_oidcc_codereuse(op: LiveOp) -> None:
    """oidcc-codereuse: the code is redeemed twice; "the second token request must fail
    with invalid_grant" (RFC 6749 §4.1.2)."""
    result, _ = await op.code(op.browser(), op.client, nonce="cr")
    await op.tokens(op.client, result["code"], nonce="cr")
    again = await op.redeem(op.client, result["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


async def test_oidcc_codereuse_30seconds(op: LiveOp) -> None:
    """oidcc-codereuse-30seconds: the code is redeemed, then again 30 seconds later: the
    second request fails with invalid_grant, and the access token of the first "should be
    revoked" (RFC 6749 §4.1.2; the suite warns if userinfo still answers)."""
    result, _ = await op.code(op.browser(), op.client, scope="openid profile", nonce="c30")
    tokens = await op.tokens(op.client, result["code"], nonce="c30")
    assert (await op.userinfo(tokens.access_token)).status_code == 200
    op.clock.advance(timedelta(seconds=30))
    again = await op.redeem(op.client, result["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    revoked = await op.userinfo(tokens.access_token)
    assert revoked.status_code == 401
    refresh = await op.token_request(
        op.client, {"grant_type": "refresh_token", "refresh_token": tokens.body["refresh_token"]}
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


async def test_oidcc_refresh_token(op: LiveOp) -> None:
    """oidcc-refresh-token: redeem the code (scope includes what yields a refresh token),
    then use the refresh token: a new access token, and an ID token if returned with the
    same iss, sub, aud (and auth_time) as the first (OIDC Core §12.2); the rotated-out
    refresh token no longer works."""
    result, _ = await op.code(op.browser(), op.client, scope="openid profile", nonce="rt")
    first = await op.tokens(op.client, result["code"], nonce="rt")
    old = first.body["refresh_token"]
    response = await op.token_request(
        op.client, {"grant_type": "refresh_token", "refresh_token": old}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["access_token"] != first.access_token and body["refresh_token"] != old
    if "id_token" in body:
        claims = await op.validate_id_token(
            body["id_token"], op.client, nonce=None, access_token=body["access_token"]
        )
        for name in ("iss", "sub", "aud", "auth_time"):
            assert claims.get(name) == first.claims.get(name), name
    info = await op.userinfo(body["access_token"])
    assert info.status_code == 200 and info.json()["sub"] == first.claims["sub"]
    # The refresh token is bound to its client: another client cannot use the new one.
    stolen = await op.token_request(
        op.client_post, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
