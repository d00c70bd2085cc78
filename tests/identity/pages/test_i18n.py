"""Language negotiation and the message catalogues."""

from __future__ import annotations

import re
import string

import pytest

from jisr.identity.pages.i18n import (
    DEFAULT_LOCALE,
    LANGUAGE_NAMES,
    Locale,
    catalogue,
    direction,
    negotiate,
    parse_accept_language,
    translate,
)


def test_default_is_arabic() -> None:
    assert DEFAULT_LOCALE is Locale.AR
    assert negotiate(None, None, None) is Locale.AR


def test_ui_locales_beats_cookie_beats_accept_language() -> None:
    assert negotiate("fr", "en", "zgh") is Locale.FR
    assert negotiate(None, "en", "fr") is Locale.EN
    assert negotiate(None, None, "fr") is Locale.FR
    assert negotiate("", "", "en") is Locale.EN


def test_ui_locales_first_supported_wins() -> None:
    assert negotiate("de es-ES en fr", None, None) is Locale.EN
    assert negotiate("de ja", "fr", None) is Locale.FR  # none supported: fall through


def test_unsupported_cookie_falls_through() -> None:
    assert negotiate(None, "de", "en") is Locale.EN
    assert negotiate(None, "<script>", None) is Locale.AR


def test_accept_language_q_values() -> None:
    assert negotiate(None, None, "en;q=0.5, fr;q=0.9") is Locale.FR
    assert negotiate(None, None, "de, en;q=0.2, fr;q=0.1") is Locale.EN
    # equal q: header order
    assert negotiate(None, None, "fr;q=0.8, en;q=0.8") is Locale.FR
    # q=0 means "not acceptable"
    assert negotiate(None, None, "fr;q=0, en;q=0.1") is Locale.EN
    assert negotiate(None, None, "fr;q=0", default=Locale.FR) is Locale.FR  # only default left


def test_accept_language_wildcard_and_exclusion() -> None:
    assert negotiate(None, None, "de, *;q=0.5", default=Locale.EN) is Locale.EN
    assert negotiate(None, None, "ar;q=0, *") is Locale.ZGH  # default excluded: next locale


def test_accept_language_malformed_members_skipped() -> None:
    assert negotiate(None, None, "fr;q=2, en;q=abc, ar-QA;q=0.3") is Locale.AR
    assert negotiate(None, None, ";;,,, en") is Locale.EN
    assert parse_accept_language("fr-MA;q=0.7, en") == [("en", 1.0), ("fr-MA", 0.7)]


def test_huge_header_is_bounded() -> None:
    header = ", ".join(["de"] * 10_000) + ", fr"
    assert negotiate(None, None, header, default=Locale.EN) is Locale.EN


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("fr-MA", Locale.FR),
        ("ar-QA", Locale.AR),
        ("ar-MA", Locale.AR),
        ("en-GB", Locale.EN),
        ("FR-ma", Locale.FR),
        ("fr_MA", Locale.FR),
        ("zgh", Locale.ZGH),
        ("zgh-Tfng-MA", Locale.ZGH),
        ("tzm", Locale.ZGH),
        ("ber", Locale.ZGH),
        ("shi", Locale.ZGH),
        ("rif", Locale.ZGH),
    ],
)
def test_regional_variants_and_amazigh_codes(tag: str, expected: Locale) -> None:
    assert negotiate(tag, None, None) is expected
    assert negotiate(None, tag, None) is expected
    assert negotiate(None, None, f"de, {tag};q=0.5") is expected


@pytest.mark.parametrize("default", list(Locale))
def test_unknown_gives_default(default: Locale) -> None:
    assert negotiate("de", "xx", "ja, ko;q=0.5", default=default) is default


def test_direction() -> None:
    assert direction(Locale.AR) == "rtl"
    assert [direction(x) for x in (Locale.ZGH, Locale.FR, Locale.EN)] == ["ltr"] * 3


def test_catalogues_have_identical_keys() -> None:
    keys = set(catalogue(Locale.EN))
    for locale in Locale:
        assert set(catalogue(locale)) == keys, locale


def _placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


@pytest.mark.parametrize("locale", list(Locale))
def test_catalogue_values(locale: Locale) -> None:
    english = catalogue(Locale.EN)
    for key, message in catalogue(locale).items():
        assert message.strip(), key
        assert message == message.strip(), key
        assert _placeholders(message) == _placeholders(english[key]), key


def test_amazigh_is_tifinagh_and_arabic_is_arabic() -> None:
    tifinagh = re.compile(r"[\u2D30-\u2D7F]")
    arabic = re.compile(r"[\u0600-\u06FF]")
    latin = re.compile(r"[A-Za-z]")
    placeholder = re.compile(r"\{[a-z_]+\}")
    for key, message in catalogue(Locale.ZGH).items():
        text = placeholder.sub("", message)
        assert tifinagh.search(text), key
        assert not latin.search(text), key
    for key, message in catalogue(Locale.AR).items():
        text = placeholder.sub("", message)
        assert arabic.search(text), key
        assert not latin.search(text), key


def test_catalogue_covers_brief() -> None:
    keys = set(catalogue(Locale.EN))
    for claim in ("name", "birthdate", "email", "phone_number", "address", "nin"):
        assert f"claims.{claim}" in keys
    for error in (
        "invalid_credentials",
        "account_locked",
        "too_many_attempts",
        "code_invalid",
        "session_expired",
        "request",
    ):
        assert f"errors.{error}" in keys


def test_language_names_in_themselves() -> None:
    assert LANGUAGE_NAMES == {
        Locale.AR: "العربية",
        Locale.ZGH: "ⵜⴰⵎⴰⵣⵉⵖⵜ",
        Locale.FR: "Français",
        Locale.EN: "English",
    }


def test_translate() -> None:
    assert translate(Locale.EN, "errors.request", code="invalid_scope") == (
        "The request could not be completed (error code: invalid_scope)."
    )
    assert "30" in translate(Locale.AR, "errors.too_many_attempts", seconds=30)
    with pytest.raises(KeyError):
        translate(Locale.EN, "no.such.key")
