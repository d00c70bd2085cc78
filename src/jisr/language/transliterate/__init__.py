"""Transliteration: Tifinagh ⇄ Latin (IRCAM), Tifinagh → Arabic, Arabizi → Arabic script.

    ircam              Tifinagh ⇄ IRCAM Latin, exactly reversible; ASCII-friendly input
    tifinagh_arabic    Tifinagh → Arabic script for readers of Arabic (one way)
    arabizi            Arabizi (Darija in Latin letters and digits) → Arabic script
    errors             UnsupportedPair, ModelMissing

:func:`transliterate` dispatches on a (source, target) pair of language_Script labels.
See ``docs/language-transliteration.md``.
"""

from __future__ import annotations

from collections.abc import Callable

from jisr.language.transliterate.arabizi import arabizi_to_arabic
from jisr.language.transliterate.errors import (
    ModelMissing,
    TransliterationError,
    UnsupportedPair,
)
from jisr.language.transliterate.ircam import latin_to_tifinagh, tifinagh_to_latin
from jisr.language.transliterate.tifinagh_arabic import tifinagh_to_arabic

__all__ = [
    "SUPPORTED_PAIRS",
    "ModelMissing",
    "TransliterationError",
    "UnsupportedPair",
    "arabizi_to_arabic",
    "latin_to_tifinagh",
    "tifinagh_to_arabic",
    "tifinagh_to_latin",
    "transliterate",
]

_TRANSLITERATORS: dict[tuple[str, str], Callable[[str], str]] = {
    ("zgh_Tfng", "ber_Latn"): tifinagh_to_latin,
    ("ber_Latn", "zgh_Tfng"): latin_to_tifinagh,
    ("zgh_Tfng", "arb_Arab"): tifinagh_to_arabic,
    ("ary_Latn", "ary_Arab"): arabizi_to_arabic,
}

#: The (source, target) pairs :func:`transliterate` serves.
SUPPORTED_PAIRS: tuple[tuple[str, str], ...] = tuple(_TRANSLITERATORS)


def transliterate(text: str, source: str, target: str, *, ascii_input: bool = False) -> str:
    """``text`` from ``source`` to ``target`` (``language_Script`` labels); ``ascii_input``
    applies to ``ber_Latn→zgh_Tfng`` only. Raises :class:`UnsupportedPair`."""
    if (source, target) == ("ber_Latn", "zgh_Tfng"):
        return latin_to_tifinagh(text, ascii_input=ascii_input)
    try:
        convert = _TRANSLITERATORS[(source, target)]
    except KeyError:
        raise UnsupportedPair(source, target, list(SUPPORTED_PAIRS)) from None
    return convert(text)
