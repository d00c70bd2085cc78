"""The rendered pages: structure, accessibility, escaping, no external resources."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from jisr.identity.pages import (
    FONT_FILE,
    FONT_LICENCE,
    PAGES,
    STATIC_DIR,
    Locale,
    PageError,
    language_links,
    render,
)
from jisr.identity.pages.i18n import catalogue

TEMPLATES = Path(STATIC_DIR).parent / "templates"
TIFINAGH = re.compile(r"[\u2D30-\u2D7F]")

VOID = {"meta", "link", "input", "br", "img", "hr", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""
    children: list[Element] = field(default_factory=list)
    parent: Element | None = None

    def iter(self) -> list[Element]:
        out = [self]
        for child in self.children:
            out.extend(child.iter())
        return out


class TreeBuilder(HTMLParser):
    """A minimal DOM from the stdlib parser; enough for these checks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.current = self.root
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs), parent=self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Element(tag, dict(attrs), parent=self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        node: Element | None = self.current
        while node is not None:
            node.text += data
            node = node.parent


@dataclass
class Page:
    html: str
    root: Element

    def all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.root.iter()
            if (tag is None or e.tag == tag) and all(e.attrs.get(k) == v for k, v in attrs.items())
        ]

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]

    def by_id(self, ident: str) -> Element:
        return self.one(id=ident)


def parse(html: str) -> Page:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.current is builder.root, "unclosed elements"
    assert builder.doctype.lower() == "doctype html"
    return Page(html, builder.root)


CSRF = "csrf-token-value-123"


def context(page: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "login": {
            "action": "/oidc/login",
            "csrf_token": CSRF,
            "passkey_options_url": "/oidc/passkey/options",
            "passkey_action": "/oidc/passkey",
        },
        "second_factor": {"action": "/oidc/2fa", "csrf_token": CSRF, "recovery_url": "?r=1"},
        "consent": {
            "action": "/oidc/consent",
            "csrf_token": CSRF,
            "client_name": "Bank of Rabat",
            "claims": ["name", "birthdate", "email", "phone_number", "address", "nin"],
        },
        "error": {"code": "invalid_request"},
        "signed_out": {},
        "passkeys": {
            "csrf_token": CSRF,
            "register_options_url": "/account/passkeys/options",
            "register_action": "/account/passkeys",
            "remove_action": "/account/passkeys/remove",
            "passkeys": [
                {
                    "credential_id": "AAEC",
                    "label": "Phone",
                    "created": "2026-11-29",
                    "last_used": None,
                    "flagged": False,
                },
                {
                    "credential_id": "AwQF",
                    "label": None,
                    "created": "2026-11-01",
                    "last_used": "2026-11-28",
                    "flagged": True,
                },
            ],
        },
        "consents": {
            "csrf_token": CSRF,
            "revoke_action": "/account/consents/revoke",
            "consents": [
                {
                    "client_id": "bank",
                    "client_name": "Bank of Rabat",
                    "claims": ["name", "nin"],
                    "granted": "2026-11-29",
                },
                {
                    "client_id": "tax",
                    "client_name": "Tax office",
                    "claims": [],
                    "granted": "2026-10-02",
                },
            ],
        },
    }[page]
    return {**base, **extra}


ERRORS: dict[str, list[PageError]] = {
    "login": [
        PageError("errors.invalid_credentials"),
        PageError("errors.password_required", field="password"),
    ],
    "second_factor": [PageError("errors.code_invalid", field="code")],
    "consent": [PageError("errors.session_expired")],
    "error": [PageError("errors.too_many_attempts", params={"seconds": 30})],
    "signed_out": [PageError("errors.session_expired")],
    "passkeys": [PageError("errors.passkey_not_added", field="label")],
    "consents": [PageError("errors.session_expired")],
}

ALL = [(p, loc) for p in sorted(PAGES) for loc in Locale]


@pytest.mark.parametrize(("page", "locale"), ALL)
@pytest.mark.parametrize("with_errors", [False, True])
def test_every_page_renders_in_every_locale(page: str, locale: Locale, with_errors: bool) -> None:
    errors = ERRORS[page] if with_errors else []
    doc = parse(render(page, locale, **context(page, errors=errors)))
    html = doc.one("html")
    assert html.attrs["lang"] == locale.value
    assert html.attrs["dir"] == ("rtl" if locale is Locale.AR else "ltr")
    assert doc.one("title").text.strip()
    assert len(doc.all("h1")) == 1
    assert catalogue(locale)["common.skip_link"] in doc.html
    skip = doc.all("a")[0]
    assert skip.attrs["href"] == "#main"
    assert doc.by_id("main").tag == "main"
    ids = [e.attrs["id"] for e in doc.root.iter() if "id" in e.attrs]
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_arabic_pages_are_rtl() -> None:
    for page in PAGES:
        out = render(page, Locale.AR, **context(page))
        assert '<html lang="ar" dir="rtl">' in out


def test_amazigh_pages_use_tifinagh_and_the_font() -> None:
    for page in PAGES:
        doc = parse(render(page, Locale.ZGH, **context(page)))
        assert TIFINAGH.search(doc.one("h1").text)
        style = doc.one("style").text
        assert "@font-face" in style
        assert "/identity/static/fonts/noto-sans-tifinagh-tifinagh-400-normal.woff2" in style
        assert 'font-family: "Noto Sans Tifinagh"' in style.split("}", 1)[1]


def test_font_face_is_subset_limited_elsewhere() -> None:
    doc = parse(render("login", Locale.FR, **context("login")))
    style = doc.one("style").text
    assert "unicode-range: U+2D30-2D7F" in style
    assert "body {" not in style  # Tifinagh is not the body font outside zgh


def test_language_switcher() -> None:
    doc = parse(
        render(
            "login", Locale.FR, **context("login", page_url="/authorize?client_id=x&ui_locales=en")
        )
    )
    nav = doc.one("nav")
    links = [e for e in nav.iter() if e.tag == "a"]
    assert [a.text for a in links] == ["العربية", "ⵜⴰⵎⴰⵣⵉⵖⵜ", "Français", "English"]
    assert [a.attrs["lang"] for a in links] == ["ar", "zgh", "fr", "en"]
    assert links[0].attrs["dir"] == "rtl"
    assert links[2].attrs.get("aria-current") == "true"
    assert links[1].attrs["href"] == "/authorize?client_id=x&ui_locales=zgh"
    assert all("aria-current" not in a.attrs for a in links if a is not links[2])


def test_language_links_replace_the_parameter() -> None:
    links = language_links("/a?x=1&lang=ar&y=2", Locale.EN, param="lang")
    assert [link.href for link in links] == [
        "/a?x=1&y=2&lang=ar",
        "/a?x=1&y=2&lang=zgh",
        "/a?x=1&y=2&lang=fr",
        "/a?x=1&y=2&lang=en",
    ]


def _inputs(doc: Page) -> list[Element]:
    return [e for e in doc.all("input") if e.attrs.get("type") != "hidden"]


@pytest.mark.parametrize(("page", "locale"), ALL)
def test_every_input_has_a_label(page: str, locale: Locale) -> None:
    for recovery in (False, True):
        doc = parse(render(page, locale, **context(page, recovery=recovery)))
        labels = {e.attrs.get("for"): e for e in doc.all("label")}
        for element in _inputs(doc):
            ident = element.attrs.get("id")
            assert ident, element.attrs
            assert ident in labels, ident
            assert labels[ident].text.strip()
        for button in doc.all("button"):
            assert button.text.strip()


def test_login_fields() -> None:
    doc = parse(render("login", Locale.EN, **context("login")))
    nin = doc.by_id("nin")
    assert nin.attrs["autocomplete"] == "username"
    assert nin.attrs["aria-describedby"] == "nin-hint"
    assert doc.by_id("nin-hint").text.strip()
    password = doc.by_id("password")
    assert password.attrs["type"] == "password"
    assert password.attrs["autocomplete"] == "current-password"
    assert "value" not in password.attrs
    form = doc.all("form")[0]
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == "/oidc/login"
    # tab order: NIN, password, sign in; no positive tabindex anywhere
    focusable = [e.attrs.get("id") or e.tag for e in form.iter() if e.tag in {"input", "button"}]
    assert [f for f in focusable if f != "input"] == ["nin", "password", "button"]
    assert all(int(e.attrs["tabindex"] or 0) <= 0 for e in doc.all() if "tabindex" in e.attrs)


def test_passkey_is_progressive_enhancement() -> None:
    doc = parse(render("login", Locale.EN, **context("login")))
    box = doc.by_id("passkey")
    assert "hidden" in box.attrs  # revealed by passkey.js only
    assert box.attrs["data-options-url"] == "/oidc/passkey/options"
    script = doc.one("script")
    assert script.attrs["src"] == "/identity/static/passkey.js"
    assert "defer" in script.attrs
    assert not script.text.strip()  # no inline script
    # the password form comes first and does not depend on the script
    assert doc.all("form")[0].attrs["action"] == "/oidc/login"
    # without passkey endpoints there is no button and no script at all
    plain = render("login", Locale.EN, action="/oidc/login", csrf_token=CSRF)
    assert "<script" not in plain
    assert "passkey" not in plain


def test_second_factor_modes() -> None:
    doc = parse(render("second_factor", Locale.EN, **context("second_factor")))
    code = doc.by_id("code")
    assert code.attrs["autocomplete"] == "one-time-code"
    assert code.attrs["inputmode"] == "numeric"
    link = [a for a in doc.all("a") if a.attrs["href"] == "?r=1"]
    assert link and link[0].text == "Use a recovery code instead"
    doc = parse(
        render("second_factor", Locale.EN, **context("second_factor", recovery=True, totp_url="?"))
    )
    assert doc.by_id("recovery_code").attrs["autocomplete"] == "off"
    assert not doc.all(id="code")
    assert [a.text for a in doc.all("a", href="?")] == [
        "Use a code from your authenticator app instead"
    ]


def test_consent_page() -> None:
    doc = parse(render("consent", Locale.AR, **context("consent", remember=True)))
    asks = doc.by_id("consent-asks")
    assert asks.text == "يطلب Bank of Rabat الوصول إلى:"
    claims = doc.one("ul", **{"aria-labelledby": "consent-asks"})
    assert [li.text for li in claims.children] == [
        "الاسم",
        "تاريخ الميلاد",
        "البريد الإلكتروني",
        "رقم الهاتف",
        "العنوان",
        "رقم الهوية الوطنية",
    ]
    remember = doc.by_id("remember")
    assert remember.attrs["type"] == "checkbox"
    assert "checked" in remember.attrs
    buttons = doc.all("button")
    assert [(b.attrs["name"], b.attrs["value"]) for b in buttons] == [
        ("decision", "allow"),
        ("decision", "deny"),
    ]


def test_consent_unknown_claims_shown_as_is_once() -> None:
    doc = parse(
        render("consent", Locale.EN, **context("consent", claims=["email", "x_foo", "email"]))
    )
    claims = doc.one("ul", **{"aria-labelledby": "consent-asks"})
    assert [li.text for li in claims.children] == ["Email address", "x_foo"]


@pytest.mark.parametrize(("page", "locale"), ALL)
def test_error_summary(page: str, locale: Locale) -> None:
    doc = parse(render(page, locale, **context(page, errors=ERRORS[page])))
    summary = doc.by_id("error-summary")
    assert summary.attrs["tabindex"] == "-1"
    assert summary.attrs["role"] == "alert"
    assert "autofocus" in summary.attrs
    heading = doc.by_id(str(summary.attrs["aria-labelledby"]))
    assert heading.text == catalogue(locale)["errors.summary_heading"]
    # the summary comes before the page heading
    order = [e for e in doc.root.iter() if e is summary or e.tag == "h1"]
    assert order[0] is summary
    assert doc.one("title").text.startswith(catalogue(locale)["common.error_prefix"])
    items = [e for e in summary.iter() if e.tag == "li"]
    assert len(items) == len(ERRORS[page])
    for item, error in zip(items, ERRORS[page], strict=True):
        links = [e for e in item.iter() if e.tag == "a"]
        if page in ("login", "second_factor") or error.field:
            assert links, "errors on form pages link to a field"
            target = str(links[0].attrs["href"]).removeprefix("#")
            assert doc.by_id(target).tag == "input"
            if error.field:
                assert target == error.field
        else:
            assert not links


def test_field_errors_are_described() -> None:
    doc = parse(render("login", Locale.FR, **context("login", errors=ERRORS["login"])))
    password = doc.by_id("password")
    assert password.attrs["aria-invalid"] == "true"
    assert password.attrs["aria-describedby"] == "password-error"
    message = doc.by_id("password-error").text
    assert message == "Erreur : Saisissez votre mot de passe."
    assert "aria-invalid" not in doc.by_id("nin").attrs


def test_no_error_summary_without_errors() -> None:
    for page in PAGES:
        out = render(page, Locale.EN, **context(page))
        assert 'role="alert"' not in out
        assert "error-summary" not in out


def test_too_many_attempts_shows_seconds() -> None:
    out = render(
        "login",
        Locale.AR,
        **context("login", errors=[PageError("errors.too_many_attempts", params={"seconds": 42})]),
    )
    assert "الثواني المتبقية: <bdi>42</bdi>" in out


XSS = '<script>alert("x")</script>'


def test_user_values_are_escaped() -> None:
    outputs = [
        render("consent", Locale.EN, **context("consent", client_name=XSS)),
        render("consent", Locale.EN, **context("consent", claims=[XSS])),
        render("login", Locale.EN, **context("login", nin=XSS)),
        render("login", Locale.EN, **context("login", csrf_token=XSS)),
        render("error", Locale.EN, code=XSS),
        render("error", Locale.EN, code=XSS, message=PageError("errors.session_expired")),
        render("login", Locale.EN, **context("login", page_url=f"/a?x={XSS}")),
        render(
            "login",
            Locale.EN,
            **context(
                "login", errors=[PageError("errors.too_many_attempts", params={"seconds": XSS})]
            ),
        ),
    ]
    for out in outputs:
        assert "<script>alert" not in out
        assert 'alert("x")' not in out
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in outputs[0]
    doc = parse(outputs[2])
    assert doc.by_id("nin").attrs["value"] == XSS  # echoed, as a value, intact


@pytest.mark.parametrize("page", sorted(PAGES - {"error", "signed_out"}))
def test_every_form_has_csrf(page: str) -> None:
    for recovery in (False, True):
        doc = parse(render(page, Locale.EN, **context(page, recovery=recovery)))
        forms = doc.all("form")
        assert forms
        for form in forms:
            assert form.attrs["method"] == "post"
            hidden = [
                e for e in form.iter() if e.tag == "input" and e.attrs.get("name") == "csrf_token"
            ]
            assert len(hidden) == 1
            assert hidden[0].attrs["type"] == "hidden"
            assert hidden[0].attrs["value"] == CSRF


@pytest.mark.parametrize("page", sorted(PAGES - {"error", "signed_out"}))
def test_form_pages_require_csrf(page: str) -> None:
    ctx = context(page)
    del ctx["csrf_token"]
    with pytest.raises(ValueError, match="csrf_token"):
        render(page, Locale.EN, **ctx)


def test_error_page() -> None:
    doc = parse(render("error", Locale.EN, code="access_denied", back_url="/"))
    text = doc.by_id("main").text
    assert "The request could not be completed (error code: access_denied)." in text
    assert doc.one("a", href="/").text == "Go back"
    assert not doc.all("form")
    doc = parse(
        render(
            "error", Locale.FR, code="login_required", message=PageError("errors.session_expired")
        )
    )
    assert "Votre session a expiré" in doc.by_id("main").text
    assert doc.one("code").text == "login_required"


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda: render("nope", Locale.EN), ValueError),
        (lambda: render("error", Locale.EN), Exception),  # code missing
        (lambda: render("error", Locale.EN, code="x", errors=[PageError("no.key")]), KeyError),
        (lambda: render("error", Locale.EN, code="x", back_url="javascript:alert(1)"), ValueError),
        (lambda: render("login", Locale.EN, action="data:text/html,x", csrf_token="t"), ValueError),
    ],
)
def test_bad_calls_fail_loudly(call: Callable[[], str], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        call()


def test_static_url_and_nonce() -> None:
    out = render("login", Locale.ZGH, **context("login", static_url="/s", csp_nonce="n0nce"))
    doc = parse(out)
    assert doc.one("link").attrs["href"] == "/s/pages.css"
    assert doc.one("style").attrs["nonce"] == "n0nce"
    assert doc.one("script").attrs["nonce"] == "n0nce"
    assert 'url("/s/fonts/' in out


def test_no_external_urls_in_templates_or_static() -> None:
    files = [*TEMPLATES.glob("*.html"), *STATIC_DIR.glob("*.css"), *STATIC_DIR.glob("*.js")]
    assert len(files) >= 7
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?i)\bhttps?:|//[a-z0-9.-]+\.[a-z]{2,}/", text), path.name
        assert "@import" not in text, path.name


def test_rendered_pages_reference_nothing_external() -> None:
    for page, locale in ALL:
        doc = parse(render(page, locale, **context(page)))
        for element in doc.root.iter():
            for name in ("href", "src", "action"):
                value = element.attrs.get(name)
                if value is not None:
                    assert not re.match(r"(?i)^(?:[a-z][a-z0-9+.-]*:|//)", value), value


def test_css_uses_logical_properties() -> None:
    css = re.sub(
        r"/\*.*?\*/", "", (STATIC_DIR / "pages.css").read_text(encoding="utf-8"), flags=re.S
    )
    physical = re.findall(
        r"(?:margin|padding|border)-(?:left|right)|\b(?:left|right)\s*:|text-align:\s*(?:left|right)",
        css,
    )
    assert physical == []
    assert ":focus-visible" in css


def test_font_and_licence_shipped() -> None:
    assert FONT_FILE.is_file()
    data = FONT_FILE.read_bytes()
    assert data[:4] == b"wOF2"
    fonts = list(FONT_FILE.parent.glob("*.woff2"))
    assert sum(f.stat().st_size for f in fonts) < 200_000
    licence = FONT_LICENCE.read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "The Noto Project Authors" in licence
    readme = (FONT_FILE.parent / "README.md").read_text(encoding="utf-8")
    assert "@fontsource/noto-sans-tifinagh" in readme
    assert "5.3.0" in readme
