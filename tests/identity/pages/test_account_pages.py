"""The pages added for passkeys and the account: the passkey-only login (acr high), the
signed-out page, the passkeys page and the consents page."""

from __future__ import annotations

import pytest

from jisr.identity.pages import Locale, PageError, render
from jisr.identity.pages.i18n import catalogue
from tests.identity.pages.test_render import CSRF, context, parse


@pytest.mark.parametrize("locale", list(Locale))
def test_passkey_only_login_has_no_password_form(locale: Locale) -> None:
    """acr high: no NIN or password field, the passkey button is the primary action, a
    noscript note explains the need for JavaScript; errors are plain text in the summary."""
    messages = catalogue(locale)
    errors = [PageError("errors.passkey_required")]
    doc = parse(render("login", locale, **context("login", passkey_required=True, errors=errors)))
    assert not doc.all(id="nin") and not doc.all(id="password")
    assert [f.attrs["id"] for f in doc.all("form")] == ["passkey-form"]
    button = doc.one("button")
    assert button.text == messages["login.passkey"] and "class" not in button.attrs
    assert messages["login.passkey_needs_script"] in doc.html
    assert doc.by_id("passkey-error").text == messages["login.passkey_failed_required"]
    summary = doc.by_id("error-summary")
    assert not [e for e in summary.iter() if e.tag == "a"]
    assert not doc.all("p", **{"class": "or"})


def test_password_login_keeps_the_passkey_secondary() -> None:
    doc = parse(render("login", Locale.EN, **context("login")))
    assert doc.by_id("password")
    assert doc.by_id("passkey-form").iter()[-1].attrs.get("class") == "secondary"
    assert doc.by_id("passkey-error").text == catalogue(Locale.EN)["login.passkey_failed"]


@pytest.mark.parametrize("locale", list(Locale))
def test_signed_out_page(locale: Locale) -> None:
    """A page of its own: heading and message in the language, nothing to submit, no script."""
    messages = catalogue(locale)
    doc = parse(render("signed_out", locale))
    assert doc.one("h1").text == messages["signed_out.title"]
    assert messages["signed_out.body"] in doc.by_id("main").text
    assert not doc.all("form") and not doc.all("script")
    assert doc.one("title").text.startswith(messages["signed_out.title"])


@pytest.mark.parametrize("locale", list(Locale))
def test_passkeys_page(locale: Locale) -> None:
    """The table has column and row headers; each remove button names its passkey for
    screen readers; a flagged passkey says so; the add form's name field is optional
    and described by its hint; the add button waits for passkey.js."""
    messages = catalogue(locale)
    doc = parse(render("passkeys", locale, **context("passkeys")))
    headers = [th.text for th in doc.all("th", scope="col")]
    assert headers[:3] == [
        messages["passkeys.name_column"],
        messages["passkeys.created_column"],
        messages["passkeys.last_used_column"],
    ]
    rows = doc.all("th", scope="row")
    assert [r.text.split("(")[0].strip() for r in rows] == ["Phone", messages["passkeys.unnamed"]]
    assert messages["passkeys.flagged"] in doc.html
    removes = [b for b in doc.all("button") if b.attrs.get("class") == "secondary"]
    assert len(removes) == 2
    assert removes[0].children[0].text.strip() == "Phone"
    assert "visually-hidden" in str(removes[0].children[0].attrs["class"])
    ids = [i.attrs["value"] for i in doc.all("input", name="credential_id")]
    assert ids == ["AAEC", "AwQF"]
    label = doc.by_id("label")
    assert "required" not in label.attrs
    assert label.attrs["aria-describedby"] == "label-hint"
    add = doc.by_id("passkey-register-form")
    assert add.attrs["action"] == "/account/passkeys"
    assert "disabled" in next(b for b in add.iter() if b.tag == "button").attrs
    assert doc.by_id("passkey-register").attrs["data-options-url"] == "/account/passkeys/options"
    assert doc.by_id("passkey-register-unsupported").text == messages["passkeys.add_needs_script"]
    current = doc.one("a", **{"aria-current": "page"})
    assert current.attrs["href"] == "/account/passkeys"


def test_passkeys_page_without_passkeys_notice_and_error() -> None:
    doc = parse(
        render(
            "passkeys",
            Locale.AR,
            **context(
                "passkeys",
                passkeys=[],
                notice="passkeys.removed",
                errors=[PageError("errors.passkey_not_added", "label")],
                label="هاتفي",
            ),
        )
    )
    messages = catalogue(Locale.AR)
    assert not doc.all("table")
    assert messages["passkeys.none"] in doc.html
    assert doc.one("p", role="status").text == messages["passkeys.removed"]
    assert doc.by_id("label").attrs["aria-invalid"] == "true"
    assert doc.by_id("label").attrs["value"] == "هاتفي"
    assert doc.one("html").attrs["dir"] == "rtl"


@pytest.mark.parametrize("locale", list(Locale))
def test_consents_page(locale: Locale) -> None:
    """One section per service: its name as a heading, the date, the information as a list
    (or a note that only an identifier is shared), a revoke button naming the service."""
    messages = catalogue(locale)
    doc = parse(render("consents", locale, **context("consents")))
    assert [h.text for h in doc.all("h2")] == ["Bank of Rabat", "Tax office"]
    assert [t.attrs["datetime"] for t in doc.all("time")] == ["2026-11-29", "2026-10-02"]
    claims = doc.one("ul", **{"class": "claims"})
    assert [li.text for li in claims.children] == [messages["claims.name"], messages["claims.nin"]]
    assert messages["consents.identifier_only"] in doc.html
    buttons = doc.all("button")
    assert [b.children[0].text.strip() for b in buttons] == ["Bank of Rabat", "Tax office"]
    assert [i.attrs["value"] for i in doc.all("input", name="client_id")] == ["bank", "tax"]
    assert all(f.attrs["action"] == "/account/consents/revoke" for f in doc.all("form"))


def test_consents_page_empty_with_notice() -> None:
    doc = parse(
        render(
            "consents",
            Locale.FR,
            csrf_token=CSRF,
            revoke_action="/r",
            consents=[],
            notice="consents.revoked",
        )
    )
    messages = catalogue(Locale.FR)
    assert messages["consents.none"] in doc.html
    assert doc.one("p", role="status").text == messages["consents.revoked"]
    assert not doc.all("form")
