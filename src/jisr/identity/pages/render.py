"""Render the identity pages (login, second factor, consent, error, signed out, and the
account's passkeys and consents) with Jinja2.

The OIDC endpoints call :func:`render` with a negotiated :class:`~.i18n.Locale` and the
page's context, and serve :data:`STATIC_DIR` (CSS, the passkey script, the Tifinagh
font) under the ``static_url`` they pass (default ``/identity/static``).

Context per page (all pages also take the common keys below):

``login``
    ``action`` (form target), ``csrf_token``; optional ``nin`` (echoed back after a
    failed attempt, never the password), ``passkey_options_url`` and ``passkey_action``
    (both needed for the passkey button to be offered), ``passkey_required`` (``acr``
    ``high``: the password form is left out, the passkey is the only way in).
``second_factor``
    ``action``, ``csrf_token``; optional ``recovery`` (show the recovery-code field
    instead of the one-time code), ``recovery_url`` and ``totp_url`` (links between the
    two).
``consent``
    ``action``, ``csrf_token``, ``client_name``, ``claims`` (claim names such as
    ``name``, ``birthdate``, ``email``, ``phone_number``, ``address``, ``nin``; unknown
    ones are shown as they are); optional ``remember`` (pre-ticks the box).
``error``
    ``code`` (the OAuth 2.0 error code, e.g. ``invalid_request``); optional ``message``
    (a :class:`PageError`; default ``errors.request`` with the code), ``back_url``.
``signed_out``
    nothing beyond the common keys.
``passkeys``
    ``csrf_token``, ``register_options_url``, ``register_action``, ``remove_action``,
    ``passkeys`` (mappings with ``credential_id``, ``label``, ``created``, ``last_used``
    (ISO dates or ``None``), ``flagged``); optional ``label``, ``notice`` (a catalogue key).
``consents``
    ``csrf_token``, ``revoke_action``, ``consents`` (mappings with ``client_id``,
    ``client_name``, ``claims`` as for ``consent``, ``granted`` (ISO date)); optional
    ``notice``.

Common optional keys: ``errors`` (:class:`PageError` list, shown in the error summary
and next to their fields), ``page_url`` (the current URL, for the language links),
``lang_param`` (default ``ui_locales``), ``static_url``, ``service_name`` (default
``Jisr``), ``csp_nonce`` (added to the inline ``<style>`` and the ``<script>``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from jisr.identity.pages.i18n import LANGUAGE_NAMES, Locale, catalogue, direction

__all__ = [
    "FONT_FILE",
    "FONT_LICENCE",
    "PAGES",
    "STATIC_DIR",
    "LanguageLink",
    "PageError",
    "environment",
    "language_links",
    "render",
]

PACKAGE_DIR: Final = Path(__file__).resolve().parent
STATIC_DIR: Final = PACKAGE_DIR / "static"
"""Serve this directory at ``static_url`` (e.g. with Starlette's ``StaticFiles``)."""
FONT_FILE: Final = STATIC_DIR / "fonts" / "noto-sans-tifinagh-tifinagh-400-normal.woff2"
FONT_LICENCE: Final = STATIC_DIR / "fonts" / "OFL.txt"

PAGES: Final = frozenset(
    {"login", "second_factor", "consent", "error", "signed_out", "passkeys", "consents"}
)

_FORM_PAGES: Final = frozenset({"login", "second_factor", "consent", "passkeys", "consents"})
_URL_KEYS: Final = (
    "action",
    "back_url",
    "page_url",
    "passkey_action",
    "passkey_options_url",
    "recovery_url",
    "register_action",
    "register_options_url",
    "remove_action",
    "revoke_action",
    "static_url",
    "totp_url",
)
_DEFAULTS: Final[Mapping[str, Any]] = {
    "errors": (),
    "page_url": "",
    "lang_param": "ui_locales",
    "static_url": "/identity/static",
    "service_name": "Jisr",
    "csp_nonce": None,
    "nin": "",
    "passkey_options_url": None,
    "passkey_action": None,
    "passkey_required": False,
    "notice": None,
    "label": "",
    "recovery": False,
    "recovery_url": None,
    "totp_url": None,
    "remember": False,
    "message": None,
    "back_url": None,
}


@dataclass(frozen=True, slots=True)
class PageError:
    """An error to show: a catalogue key, the field it belongs to (if any), parameters.

    ``field`` is the ``id`` of the input (``nin``, ``password``, ``code``,
    ``recovery_code``); errors without one link to the page's first field.
    """

    key: str
    field: str | None = None
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LanguageLink:
    """One entry of the language switcher."""

    locale: Locale
    name: str
    href: str
    dir: str
    current: bool


def _check_url(name: str, value: object) -> None:
    """Refuse URLs that are not relative or http(s): they end up in href/action."""
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    scheme = urlsplit(value).scheme.lower()
    if scheme not in ("", "http", "https"):
        raise ValueError(f"{name}: scheme {scheme!r} is not allowed")


def language_links(page_url: str, current: Locale, param: str = "ui_locales") -> list[LanguageLink]:
    """Links to ``page_url`` with ``param`` set to each locale, the current one marked."""
    parts = urlsplit(page_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != param]
    links = []
    for locale in Locale:
        href = urlunsplit(parts._replace(query=urlencode([*query, (param, locale.value)])))
        links.append(
            LanguageLink(
                locale=locale,
                name=LANGUAGE_NAMES[locale],
                href=href,
                dir=direction(locale),
                current=locale is current,
            )
        )
    return links


def environment() -> Environment:
    """The Jinja2 environment: templates from the package, autoescaping on, strict."""
    return Environment(
        loader=PackageLoader("jisr.identity.pages", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


_ENV: Final = environment()


def _translator(locale: Locale) -> Callable[..., Markup]:
    messages = catalogue(locale)

    def t(key: str, /, **params: object) -> Markup:
        """A message, escaped; parameters isolated with ``<bdi>`` for mixed directions."""
        message = escape(messages[key])
        if not params:
            return message
        isolated = {k: Markup("<bdi>{}</bdi>").format(v) for k, v in params.items()}
        return message.format(**isolated)

    return t


def _claim_labels(locale: Locale, claims: Iterable[str]) -> list[str]:
    messages = catalogue(locale)
    labels: list[str] = []
    seen: set[str] = set()
    for claim in claims:
        if claim in seen:
            continue
        seen.add(claim)
        labels.append(messages.get(f"claims.{claim}", claim))
    return labels


def _first_field(page: str, context: Mapping[str, Any]) -> str | None:
    if page == "login":
        return None if context["passkey_required"] else "nin"
    if page == "second_factor":
        return "recovery_code" if context["recovery"] else "code"
    return None


def render(page: str, locale: Locale, **context: Any) -> str:
    """Render ``page`` (one of :data:`PAGES`) in ``locale``; see the module docstring."""
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}")
    locale = Locale(locale)
    ctx: dict[str, Any] = {**_DEFAULTS, **context}
    for key in _URL_KEYS:
        _check_url(key, ctx.get(key))
    if page in _FORM_PAGES and not ctx.get("csrf_token"):
        raise ValueError(f"page {page!r} needs a csrf_token")
    errors: Sequence[PageError] = tuple(ctx["errors"])
    messages = catalogue(locale)
    for error in errors:
        if error.key not in messages:
            raise KeyError(f"unknown message key {error.key!r}")
    first_field = _first_field(page, ctx)
    by_field: dict[str, list[PageError]] = {}
    for error in errors:
        if error.field is not None:
            by_field.setdefault(error.field, []).append(error)
    if page == "consent":
        ctx["claim_labels"] = _claim_labels(locale, ctx["claims"])
    if page == "consents":
        ctx["consents"] = [
            {**consent, "claim_labels": _claim_labels(locale, consent["claims"])}
            for consent in ctx["consents"]
        ]
    ctx.update(
        page=page,
        locale=locale.value,
        dir=direction(locale),
        t=_translator(locale),
        errors=errors,
        field_errors=by_field,
        first_field=first_field,
        languages=language_links(ctx["page_url"], locale, ctx["lang_param"]),
    )
    return _ENV.get_template(f"{page}.html").render(ctx)
