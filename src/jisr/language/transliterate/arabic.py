# ruff: noqa: RUF001, RUF002 - Arabic letters are meant, not look-alikes
"""Arabic-script helpers: letters, diacritics, and the normalisation used before scoring.

Arabic Darija spelling varies in ways that carry no meaning for a reader, so before any
character or word error rate is computed both the reference and the hypothesis go through
:func:`normalise_for_scoring`: NFC, diacritics (harakat, shadda, sukun, dagger
alef) and tatweel removed, alef forms أ إ آ ٱ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي, gaf forms
ڭ گ ݣ → ݣ, ڤ stays, Arabic comma/semicolon/question mark → , ; ?, Latin letters lowercased,
spaces collapsed. The same function is applied to both sides.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "ARABIC_LETTER",
    "normalise_for_scoring",
    "strip_diacritics",
]

#: One Arabic letter (the basic block's letters plus the Moroccan/Persian extensions).
ARABIC_LETTER = "[\u0621-\u063a\u0641-\u064a\u067e\u0686\u0698\u06a4\u06a9\u06ad\u06af\u06cc\u0763]"

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ڭ": "ݣ",
        "گ": "ݣ",
        "ک": "ك",
        "ی": "ي",
        "،": ",",
        "؛": ";",
        "؟": "?",
    }
)
_SPACES = re.compile(r"\s+")


def strip_diacritics(text: str) -> str:
    """``text`` without Arabic diacritics and tatweel."""
    return _DIACRITICS.sub("", unicodedata.normalize("NFC", text))


def normalise_for_scoring(text: str) -> str:
    """The spelling-neutral form compared by the error rates (see the module docstring)."""
    folded = strip_diacritics(text).translate(_FOLD).lower()
    return _SPACES.sub(" ", folded).strip()
