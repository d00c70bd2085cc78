# ruff: noqa: RUF001, RUF003 - Arabic, Greek and IRCAM Latin letters are meant, not look-alikes
"""Query normalisation: folding every script to one comparable form, and script rewriting.

Two kinds of normalisation happen before a query is scored:

* :func:`fold` maps spelling variants to one key, on the query and on the catalogue alike
  (Arabic letter variants and diacritics, Tifinagh → IRCAM Latin, Latin accents, Arabizi
  digits, the digraphs Amazigh and Darija writers use interchangeably).
* a :class:`Normaliser` rewrites the whole query into another script the encoder can read
  (Arabizi → Arabic script) or the lexical index indexes (Tifinagh → Latin). Normalisers
  come from :mod:`jisr.language.transliterate`; a failing or missing one only costs recall,
  never the search (see :func:`default_normalisers`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Literal

from jisr.language.transliterate import arabizi_to_arabic, tifinagh_to_latin

__all__ = [
    "Normaliser",
    "Script",
    "arabizi_normaliser",
    "default_normalisers",
    "dominant_script",
    "fold",
    "has_tifinagh",
    "looks_arabizi",
    "tifinagh_normaliser",
]

#: Rewrites a query into another script; ``None`` when it does not apply to this text.
Normaliser = Callable[[str], str | None]
Script = Literal["arabic", "tifinagh", "latin"]

_TIFINAGH = re.compile("[\u2d30-\u2d7f]")
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile("[a-zA-Z\u00c0-\u024f\u1e00-\u1eff\u0263\u025b]")
# Harakat, superscript alef and tatweel carry no meaning for search.
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_ARABIC_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "گ": "ك",
        "ڭ": "ك",
        "ڤ": "ف",
        "پ": "ب",
    }
)
# Letters of Amazigh Latin (IRCAM) and their casual spellings; ɛ/ε and γ appear in
# Kabyle-style text (see /work/shared/data/lang/SOURCES.md).
_LATIN_LETTERS = str.maketrans({"ɣ": "gh", "γ": "gh", "ɛ": "3", "ε": "3", "ʷ": "w"})
# Arabizi digits → the Latin letters other writers use for the same Arabic sound.
_ARABIZI_DIGITS = str.maketrans({"2": "", "3": "", "5": "kh", "7": "h", "8": "gh", "9": "q"})
_DIGRAPHS = (("sh", "c"), ("ch", "c"), ("x", "kh"), ("ou", "u"), ("o", "u"), ("y", "i"))
_ARABIZI_DIGIT = re.compile(r"(?<=[a-z])\d|\d(?=[a-z])")
_ARABIZI_DIGIT_WORD = re.compile(r"[a-z][235789]|[235789][a-z]")
# Darija words that are not French, English or Amazigh words (so "fin", "ma" are not here).
_DARIJA_WORDS = frozenset(
    {
        "bghit", "bghina", "bgha", "baghi", "dyal", "dyali", "dyalek", "dial", "diali",
        "kifach", "kifash", "kifch", "wach", "chno", "chnou", "chnu", "khas", "khasni",
        "khassni", "khasna", "bach", "daba", "mzyan", "lia", "liya", "ndir", "njib",
        "nkhrej", "nakhod", "3la", "m3a", "fach", "ghadi", "hna", "dakchi",
    }
)  # fmt: skip
_REPEATS = re.compile(r"(\D)\1+")
_SCHWA = re.compile(r"e")
_NON_WORD = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """One search key per spelling: lower case, letter variants merged, punctuation gone.

    Applied to catalogue strings and queries alike, so any two spellings it merges match.
    The schwa ``e`` is dropped because Amazigh writers insert it freely (``tamettant`` /
    ``tamttant``); French and English words lose it on both sides, which keeps them equal.
    """
    if _TIFINAGH.search(text):
        text = tifinagh_to_latin(text)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)
    text = text.translate(_LATIN_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = unicodedata.normalize("NFC", text)  # recompose Arabic letters NFKD split
    text = _fold_arabizi(text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def _fold_arabizi(text: str) -> str:
    # Digits are folded only inside words: "3a9d" is Arabizi, "2026" is a number.
    text = _ARABIZI_DIGIT.sub(lambda m: m.group().translate(_ARABIZI_DIGITS), text)
    for digraph, single in _DIGRAPHS:
        text = text.replace(digraph, single)
    text = _SCHWA.sub("", text)
    return _REPEATS.sub(r"\1", text)


def has_tifinagh(text: str) -> bool:
    """Whether ``text`` holds any Tifinagh letter."""
    return _TIFINAGH.search(text) is not None


def dominant_script(text: str) -> Script:
    """The script most letters of ``text`` are in (Latin when there are no letters)."""
    counts: dict[Script, int] = {
        "tifinagh": len(_TIFINAGH.findall(text)),
        "arabic": len(_ARABIC.findall(text)),
        "latin": len(_LATIN.findall(text)),
    }
    best = max(counts, key=lambda script: counts[script])
    return best if counts[best] else "latin"


def tifinagh_normaliser(text: str) -> str | None:
    """IRCAM Latin for a query holding Tifinagh letters."""
    if not _TIFINAGH.search(text):
        return None
    return tifinagh_to_latin(text)


def looks_arabizi(text: str) -> bool:
    """Whether Latin-script ``text`` shows Arabizi: a digit inside a word (``3a9d``,
    ``s7iya``) or a frequent Darija function word.

    The Arabizi model costs 10-30 ms a query, more than the rest of the search; French,
    English and Amazigh queries, which it cannot improve, skip it.
    """
    folded = text.casefold()
    return bool(_ARABIZI_DIGIT_WORD.search(folded)) or not _DARIJA_WORDS.isdisjoint(
        _NON_WORD.sub(" ", folded).split()
    )


def arabizi_normaliser(text: str) -> str | None:
    """Arabic script for a Latin-script query that may be Arabizi Darija.

    The Arabizi model is learned and may be missing or weak; any failure of it means "no
    rewrite", because a normaliser only adds a candidate form and must never fail a search.
    """
    if dominant_script(text) != "latin" or not looks_arabizi(text):
        return None
    try:
        rewritten = arabizi_to_arabic(text)
    except Exception:  # any failure of the model degrades to the original form
        return None
    return rewritten if _ARABIC.search(rewritten) else None


def default_normalisers() -> tuple[Normaliser, ...]:
    """The normalisers a :class:`~jisr.language.finder.ServiceFinder` uses by default."""
    return (tifinagh_normaliser, arabizi_normaliser)
