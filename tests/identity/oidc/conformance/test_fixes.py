"""Regression tests for defects found while reproducing the Basic OP plan, against the live
provider over loopback HTTP."""

from __future__ import annotations

from tests.identity.oidc.conformance.conftest import LiveOp


async def _id_token(op: LiveOp, nin: str) -> tuple[str, str]:
    """A fresh browser logs ``nin`` in (consent remembered); the ID token and its sub."""
    browser = op.browser()
    response = await op.start(browser, op.client, nonce="h")
    response, _ = await op.interact(browser, response, remember=True, nin=nin)
    tokens = await op.tokens(op.client, op.callback(response)["code"], nonce="h")
    return tokens.body["id_token"], tokens.claims["sub"]


async def test_id_token_hint_of_another_person_is_not_answered_with_a_code(op: LiveOp) -> None:
    """OIDC Core §3.1.2.1, id_token_hint: a positive response only if the person the hint
    names is logged in (or logs in); otherwise an error such as login_required. Before the
    fix the hint was ignored and prompt=none returned a code for whoever was logged in."""
    other_hint, other_sub = await _id_token(op, op.other_nin)
    browser = op.browser()
    response = await op.start(browser, op.client, nonce="me")
    response, _ = await op.interact(browser, response, remember=True)
    mine = await op.tokens(op.client, op.callback(response)["code"], nonce="me")
    assert mine.claims["sub"] != other_sub

    # prompt=none, session of person A, hint of person B: login_required, no code.
    response = await op.start(
        browser, op.client, prompt="none", id_token_hint=other_hint, state="x"
    )
    result = op.callback(response, "x")
    assert result["error"] == "login_required" and "code" not in result

    # Without prompt=none: the login page, not a silent code for A.
    response = await op.start(browser, op.client, id_token_hint=other_hint, state="y")
    assert response.headers["location"].startswith("/login?tx=")
    # A logs in again instead of B: an error, not a code for A.
    response, shown = await op.interact(browser, response)
    assert shown == ["login"]
    result = op.callback(response, "y")
    assert result["error"] == "login_required" and "code" not in result
    # B logs in: the positive response is for B.
    response = await op.start(browser, op.client, id_token_hint=other_hint, nonce="b")
    response, _ = await op.interact(browser, response, nin=op.other_nin)
    tokens = await op.tokens(op.client, op.callback(response)["code"], nonce="b")
    assert tokens.claims["sub"] == other_sub


async def test_invalid_id_token_hint_is_invalid_request(op: LiveOp) -> None:
    """An id_token_hint that is not an ID token this provider issued to this client (a
    forged signature, another client's audience, garbage) is refused with invalid_request
    to the verified redirect_uri."""
    hint, _ = await _id_token(op, op.nin)
    head, body, signature = hint.split(".")
    forged = f"{head}.{body}.{signature[:-4]}AAAA"
    for bad in (forged, "not-a-jwt"):
        response = await op.start(op.browser(), op.client, id_token_hint=bad, state="f")
        result = op.callback(response, "f")
        assert result["error"] == "invalid_request" and "code" not in result, bad
    # The hint was issued to op.client: op.client_post may not present it.
    response = await op.start(op.browser(), op.client_post, id_token_hint=hint, state="a")
    result = op.callback(response, "a")
    assert result["error"] == "invalid_request"
    # Its own client may, logged in or not (an expired hint is still a hint).
    response = await op.start(op.browser(), op.client, id_token_hint=hint, state="ok")
    assert response.headers["location"].startswith("/login?tx=")
