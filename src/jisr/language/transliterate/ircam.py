# ruff: noqa: RUF001, RUF002, RUF003 - Tifinagh and IRCAM Latin letters are meant, not look-alikes
"""Tifinagh ⇄ Latin following the IRCAM standard (Institut Royal de la Culture Amazighe).

The IRCAM alphabet has 33 letters; two of them are labialised (ⴳⵯ gʷ, ⴽⵯ kʷ), written with
the modifier U+2D6F TIFINAGH MODIFIER LETTER LABIALIZATION MARK. Each of the other 31 is one
Tifinagh code point and one Latin letter (after NFC), so the strict mapping is letter by
letter and exactly reversible: ``latin_to_tifinagh(tifinagh_to_latin(t)) == t`` for any
text ``t`` written in IRCAM Tifinagh, digits, punctuation and spaces. The modifier ⵯ maps
to U+02B7 ʷ wherever it stands, so even an unusual ⵯ survives the round trip.

Tifinagh letters outside the IRCAM set (Tuareg and historical letters, e.g. ⵁ ⵒ) and every
non-Tifinagh character pass through unchanged. Tifinagh has no case: Latin capitals are
read as their small letters.

ASCII-friendly input (``ascii_input=True``) also accepts what people type on a keyboard
without ɛ ɣ or dotted letters. The full table and its ambiguities are in
``docs/language-transliteration.md``.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ASCII_INPUT", "IRCAM_LETTERS", "latin_to_tifinagh", "tifinagh_to_latin"]

LABIALISATION_MARK = "\u2d6f"  # ⵯ
LATIN_LABIALISATION = "\u02b7"  # ʷ

#: The 31 single-code-point IRCAM letters, Tifinagh → Latin (NFC). With ⴳⵯ gʷ and ⴽⵯ kʷ,
#: which are written with :data:`LABIALISATION_MARK`, they make the 33 letters.
IRCAM_LETTERS: dict[str, str] = {
    "ⴰ": "a",
    "ⴱ": "b",
    "ⴳ": "g",
    "ⴷ": "d",
    "ⴹ": "ḍ",
    "ⴻ": "e",
    "ⴼ": "f",
    "ⴽ": "k",
    "ⵀ": "h",
    "ⵃ": "ḥ",
    "ⵄ": "ɛ",
    "ⵅ": "x",
    "ⵇ": "q",
    "ⵉ": "i",
    "ⵊ": "j",
    "ⵍ": "l",
    "ⵎ": "m",
    "ⵏ": "n",
    "ⵓ": "u",
    "ⵔ": "r",
    "ⵕ": "ṛ",
    "ⵖ": "ɣ",
    "ⵙ": "s",
    "ⵚ": "ṣ",
    "ⵛ": "c",
    "ⵜ": "t",
    "ⵟ": "ṭ",
    "ⵡ": "w",
    "ⵢ": "y",
    "ⵣ": "z",
    "ⵥ": "ẓ",
}

_TO_LATIN = {**IRCAM_LETTERS, LABIALISATION_MARK: LATIN_LABIALISATION}
_TO_TIFINAGH = {latin: tifinagh for tifinagh, latin in _TO_LATIN.items()}
# Kabyle and Tatoeba writers often type the Greek look-alikes of ɛ and ɣ.
_TO_TIFINAGH.update({"ε": "ⵄ", "γ": "ⵖ"})

#: Extra spellings read in ASCII input mode, longest first; case-sensitive because a
#: capital marks an emphatic (pharyngealised) consonant, as in common Amazigh chat usage.
ASCII_INPUT: dict[str, str] = {
    "g^w": "ⴳⵯ",
    "k^w": "ⴽⵯ",
    "gh": "ⵖ",
    "kh": "ⵅ",
    "ch": "ⵛ",
    "sh": "ⵛ",
    "^w": LABIALISATION_MARK,
    "3": "ⵄ",
    "7": "ⵃ",
    "9": "ⵇ",
    "D": "ⴹ",
    "H": "ⵃ",
    "R": "ⵕ",
    "S": "ⵚ",
    "T": "ⵟ",
    "Z": "ⵥ",
}

# Digraphs are also read capitalised (``Ghali``, ``KH``): an initial capital there marks the
# start of a sentence or a name, not an emphatic.
ASCII_INPUT.update(
    {
        variant: ASCII_INPUT[digraph]
        for digraph in ("gh", "kh", "ch", "sh")
        for variant in (digraph.capitalize(), digraph.upper())
    }
)

_ASCII_PATTERN = re.compile(
    "|".join(re.escape(key) for key in sorted(ASCII_INPUT, key=len, reverse=True))
)
_LETTER_DIGITS = frozenset("379")


def tifinagh_to_latin(text: str) -> str:
    """IRCAM Latin transcription of Tifinagh ``text``; everything else is kept as is."""
    normal = unicodedata.normalize("NFC", text)
    return "".join(_TO_LATIN.get(char, char) for char in normal)


def latin_to_tifinagh(text: str, *, ascii_input: bool = False) -> str:
    """Tifinagh for IRCAM Latin ``text``; with ``ascii_input`` also the keyboard spellings
    of :data:`ASCII_INPUT`. Characters without a Tifinagh letter are kept as is."""
    normal = unicodedata.normalize("NFC", text)
    if ascii_input:
        normal = _ASCII_PATTERN.sub(_ascii_letter, normal)
    return "".join(_TO_TIFINAGH.get(char, char) for char in normal.lower())


def _ascii_letter(match: re.Match[str]) -> str:
    """The Tifinagh letter of one ASCII spelling; a digit 3/7/9 stays a digit unless it is
    next to a letter (``3afak``, ``ta7ja``), so that numbers like ``1993`` are untouched."""
    spelling = match.group()
    if spelling in _LETTER_DIGITS and not _touches_letter(match.string, match.start()):
        return spelling
    return ASCII_INPUT[spelling]


def _touches_letter(text: str, index: int) -> bool:
    """Whether the character at ``index`` has an alphabetic neighbour."""
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return before.isalpha() or after.isalpha()
