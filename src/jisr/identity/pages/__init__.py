"""Server-rendered identity pages: login, second factor, consent, error, signed out, and
the account's passkeys and consents.

Arabic (right-to-left), Amazigh (Tifinagh), French and English; see
docs/identity-pages.md. The OIDC endpoints negotiate a locale with
:func:`negotiate` and call :func:`render`.
"""

from jisr.identity.pages.i18n import DEFAULT_LOCALE, LANGUAGE_NAMES, Locale, direction, negotiate
from jisr.identity.pages.render import (
    FONT_FILE,
    FONT_LICENCE,
    PAGES,
    STATIC_DIR,
    LanguageLink,
    PageError,
    language_links,
    render,
)

__all__ = [
    "DEFAULT_LOCALE",
    "FONT_FILE",
    "FONT_LICENCE",
    "LANGUAGE_NAMES",
    "PAGES",
    "STATIC_DIR",
    "LanguageLink",
    "Locale",
    "PageError",
    "direction",
    "language_links",
    "negotiate",
    "render",
]
