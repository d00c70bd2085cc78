"""Locales, language negotiation and message catalogues for the identity pages.

Four locales are supported: Arabic (``ar``, right-to-left), Standard Moroccan Amazigh in
Tifinagh (``zgh``), French (``fr``) and English (``en``). :func:`negotiate` picks one,
in this order (docs/identity-pages.md):

1. the OIDC ``ui_locales`` request parameter (OpenID Connect Core 1.0 §3.1.2.1): a
   space-separated list of BCP 47 tags in order of preference; the first supported wins;
2. the language cookie the pages set when the user picks a language;
3. the ``Accept-Language`` header (RFC 9110 §12.5.4), by descending q-value, ties in
   header order; ``q=0`` excludes a language, ``*`` stands for the deployment default;
4. the deployment default.

Tags match on their primary language subtag (``fr-MA`` → ``fr``, ``ar-QA`` → ``ar``).
``zgh`` (Standard Moroccan Amazigh), ``tzm`` (Central Atlas Tamazight), ``ber`` (the
ISO 639-2 collective code for Berber languages), ``shi`` (Tachelhit) and ``rif``
(Tarifit) all map to ``zgh``: Standard Moroccan Amazigh is the written standard built on
those varieties, and a reader of any of them is better served by it than by another
language.

Catalogues are JSON files in ``locales/`` (one per locale, identical key sets, checked by
the tests). Messages are plain text; ``{name}`` fields are filled in by :func:`translate`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Final

__all__ = [
    "DEFAULT_LOCALE",
    "LANGUAGE_NAMES",
    "Locale",
    "catalogue",
    "direction",
    "match_tag",
    "negotiate",
    "parse_accept_language",
    "translate",
]


class Locale(StrEnum):
    """A supported page locale; the value is the BCP 47 tag used in ``lang``."""

    AR = "ar"
    ZGH = "zgh"
    FR = "fr"
    EN = "en"


DEFAULT_LOCALE: Final = Locale.AR
"""The default for both deployments (Morocco and Qatar); configurable per call."""

LANGUAGE_NAMES: Final[Mapping[Locale, str]] = {
    Locale.AR: "العربية",
    Locale.ZGH: "ⵜⴰⵎⴰⵣⵉⵖⵜ",
    Locale.FR: "Français",
    Locale.EN: "English",
}
"""Each language named in itself, for the language switcher."""

_PRIMARY: Final[Mapping[str, Locale]] = {
    "ar": Locale.AR,
    "zgh": Locale.ZGH,
    "tzm": Locale.ZGH,
    "ber": Locale.ZGH,
    "shi": Locale.ZGH,
    "rif": Locale.ZGH,
    "fr": Locale.FR,
    "en": Locale.EN,
}

_RTL: Final = frozenset({Locale.AR})

# Inputs come from the network: bound the work spent on them.
_MAX_HEADER = 4096
_MAX_ITEMS = 32
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")


def match_tag(tag: str) -> Locale | None:
    """The supported locale a BCP 47 tag falls under, by its primary subtag, or None."""
    tag = tag.strip()
    if not _TAG.match(tag):
        return None
    primary = re.split(r"[-_]", tag, maxsplit=1)[0].lower()
    return _PRIMARY.get(primary)


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """``Accept-Language`` as ``(range, q)`` pairs, best first (stable for equal q).

    Malformed members (bad range or q-value) are skipped, as a recipient may do with a
    field it cannot parse; the rest of the header still counts.
    """
    items: list[tuple[str, float]] = []
    for member in header[:_MAX_HEADER].split(",")[:_MAX_ITEMS]:
        parts = [p.strip() for p in member.split(";")]
        lang_range = parts[0]
        if not lang_range or (lang_range != "*" and not _TAG.match(lang_range)):
            continue
        q = 1.0
        valid = True
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                if not _QVALUE.match(value):
                    valid = False
                    break
                q = float(value)
        if valid:
            items.append((lang_range, q))
    items.sort(key=lambda item: -item[1])
    return items


def _from_accept_language(header: str, default: Locale) -> Locale | None:
    ranked = parse_accept_language(header)
    excluded = {loc for r, q in ranked if q == 0 and (loc := match_tag(r)) is not None}
    for lang_range, q in ranked:
        if q == 0:
            continue
        if lang_range == "*":
            if default not in excluded:
                return default
            for candidate in Locale:
                if candidate not in excluded:
                    return candidate
            return None
        locale = match_tag(lang_range)
        if locale is not None and locale not in excluded:
            return locale
    return None


def negotiate(
    ui_locales: str | None,
    cookie: str | None,
    accept_language: str | None,
    default: Locale = DEFAULT_LOCALE,
) -> Locale:
    """Pick the page locale: ``ui_locales``, then the cookie, then ``Accept-Language``."""
    if ui_locales:
        for tag in ui_locales[:_MAX_HEADER].split()[:_MAX_ITEMS]:
            locale = match_tag(tag)
            if locale is not None:
                return locale
    if cookie:
        locale = match_tag(cookie[:64])
        if locale is not None:
            return locale
    if accept_language:
        locale = _from_accept_language(accept_language, default)
        if locale is not None:
            return locale
    return default


def direction(locale: Locale) -> str:
    """The text direction for ``dir``: ``rtl`` for Arabic, ``ltr`` otherwise."""
    return "rtl" if locale in _RTL else "ltr"


@cache
def catalogue(locale: Locale) -> Mapping[str, str]:
    """The message catalogue of a locale, from ``locales/<tag>.json``."""
    path = resources.files("jisr.identity.pages") / "locales" / f"{locale.value}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"catalogue {locale.value}: expected an object of strings")
    return dict(data)


def translate(locale: Locale, key: str, /, **params: object) -> str:
    """The message ``key`` in ``locale``, its ``{name}`` fields filled in.

    An unknown key raises :class:`KeyError`: a missing string is a bug, not something
    to paper over with a key shown to the user.
    """
    message = catalogue(locale)[key]
    return message.format_map(params) if params else message
