# ruff: noqa: RUF001, RUF002 - Tifinagh and Arabic letters are meant, not look-alikes
"""Tifinagh → Arabic script, for readers of Arabic (one way; Arabic script drops contrasts).

Consonants map one to one where Arabic has the sound, and to the letters Moroccan usage
gives Amazigh names otherwise: ⴳ → ݣ (U+0763, the Moroccan gaf; ڭ U+06AD is a common
look-alike), ⵥ → ژ (U+0698; everyday Moroccan spelling writes ز, losing the emphasis).
ⵕ and ⵔ both become ر (Arabic has no emphatic r), so the map is not reversible.

Vowel policy: the full vowels are written as long-vowel letters — ⴰ → ا, ⵉ → ي, ⵓ → و — and
a word-initial vowel takes a hamza seat (ⴰ → أ, ⵉ → إي, ⵓ → أو), as in أمازيغ. The neutral
vowel ⴻ (schwa), which IRCAM spelling rarely writes, is left out. A doubled (geminate)
consonant is written once with a shadda (ّ). Labialised ⴳⵯ, ⴽⵯ become ݣو, كو.
Characters that are not IRCAM Tifinagh pass through unchanged.
"""

from __future__ import annotations

import unicodedata

__all__ = ["ARABIC_LETTERS", "tifinagh_to_arabic"]

SHADDA = "\u0651"

#: IRCAM Tifinagh letter → Arabic script (inside a word; see the module docstring).
ARABIC_LETTERS: dict[str, str] = {
    "ⴰ": "ا",
    "ⴱ": "ب",
    "ⴳ": "ݣ",
    "ⴷ": "د",
    "ⴹ": "ض",
    "ⴻ": "",
    "ⴼ": "ف",
    "ⴽ": "ك",
    "ⵀ": "ه",
    "ⵃ": "ح",
    "ⵄ": "ع",
    "ⵅ": "خ",
    "ⵇ": "ق",
    "ⵉ": "ي",
    "ⵊ": "ج",
    "ⵍ": "ل",
    "ⵎ": "م",
    "ⵏ": "ن",
    "ⵓ": "و",
    "ⵔ": "ر",
    "ⵕ": "ر",
    "ⵖ": "غ",
    "ⵙ": "س",
    "ⵚ": "ص",
    "ⵛ": "ش",
    "ⵜ": "ت",
    "ⵟ": "ط",
    "ⵡ": "و",
    "ⵢ": "ي",
    "ⵣ": "ز",
    "ⵥ": "ژ",
    "ⵯ": "و",
}

_INITIAL_VOWELS = {"ⴰ": "أ", "ⵉ": "إي", "ⵓ": "أو"}
_VOWELS = frozenset("ⴰⴻⵉⵓ")


def tifinagh_to_arabic(text: str) -> str:
    """Arabic-script rendering of Tifinagh ``text`` (policy in the module docstring)."""
    normal = unicodedata.normalize("NFC", text)
    out: list[str] = []
    for index, char in enumerate(normal):
        before = normal[index - 1] if index else ""
        out.append(_letter(char, before))
    return "".join(out)


def _letter(char: str, before: str) -> str:
    """The Arabic for one character given the character before it."""
    if char not in ARABIC_LETTERS:
        return char
    if char in _INITIAL_VOWELS and before not in ARABIC_LETTERS:
        return _INITIAL_VOWELS[char]
    if char == before and char not in _VOWELS and char != "ⵯ":
        return SHADDA
    return ARABIC_LETTERS[char]
