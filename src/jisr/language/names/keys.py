# ruff: noqa: RUF001, RUF002, RUF003 - Arabic and Tifinagh letters are meant, not look-alikes
"""Person names to phonetic keys, the same for Arabic, Latin and Tifinagh script.

A name is split into tokens on spaces and hyphens. Particles that begin a compound name
(بن/Ben, ولد/Ould, آيت/Aït, أبو/Abou, بو/Bou, عبد/Abdel) are glued to the next token, so
``بن علي``, ``Ben Ali`` and ``Benali`` give one token each. The article (ال, آل, El, Al,
Ar-, glued ``El``/``L``) is optional: a token that carries one has two *variants*, with
and without it, because transliterations keep it (``El Idrissi``, ``Lamrani``) or drop it
(``Alaoui`` for العلوي) at will.

Each variant is written in the symbol alphabet of :mod:`.costs`: Arabic letters by their
consonant class, ا و ي as long vowels; Latin digraphs first (``kh``, ``ch``, ``ou``,
``dj`` ...), single Latin vowels as short vowels; runs of one symbol collapse, since
neither shadda nor doubled Latin letters (``Youssef``/``Yousef``) are reliable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from jisr.identity.register.names import normalise_arabic, normalise_latin, normalise_tifinagh
from jisr.language.names.costs import CONSONANTS

__all__ = ["NameToken", "name_key", "name_tokens", "token_key"]

_MAX_VARIANTS: Final = 4

_ARABIC_LETTERS: Final = {
    "ب": "B", "ت": "T", "ث": "θ", "ج": "J", "ح": "H", "خ": "X", "د": "D", "ذ": "ð",
    "ر": "R", "ز": "Z", "س": "S", "ش": "C", "ص": "S", "ض": "D", "ط": "T", "ظ": "ð",
    "ع": "3", "غ": "G", "ف": "F", "ق": "K", "ك": "K", "ل": "L", "م": "M", "ن": "N",
    "ه": "H", "ة": "E", "و": "U", "ي": "I", "ى": "Y", "ا": "A", "ء": "@", "ئ": "@",
    "ؤ": "@", "أ": "@", "إ": "@", "آ": "@", "پ": "B", "چ": "C", "گ": "G", "ڤ": "F",
    "ڨ": "G", "ک": "K", "ی": "I",
}  # fmt: skip

_TIFINAGH_LETTERS: Final = {
    "ⴰ": "a", "ⴱ": "B", "ⴳ": "G", "ⴷ": "D", "ⴹ": "D", "ⴻ": "e", "ⴼ": "F", "ⴽ": "K",
    "ⵀ": "H", "ⵃ": "H", "ⵄ": "3", "ⵅ": "X", "ⵇ": "K", "ⵉ": "i", "ⵊ": "J", "ⵍ": "L",
    "ⵎ": "M", "ⵏ": "N", "ⵓ": "u", "ⵔ": "R", "ⵕ": "R", "ⵖ": "G", "ⵙ": "S", "ⵚ": "S",
    "ⵛ": "C", "ⵜ": "T", "ⵟ": "T", "ⵡ": "U", "ⵢ": "I", "ⵣ": "Z", "ⵥ": "Z",
}  # fmt: skip

# Longest first: a digraph wins over its letters.
_LATIN_GROUPS: Final = {
    "sch": "C", "tch": "C", "ch": "C", "sh": "C", "kh": "X", "gh": "G", "th": "θ",
    "dh": "ð", "dj": "J", "ph": "F", "ck": "K", "ou": "O", "oo": "O", "uu": "O",
    "ee": "I", "ii": "I", "ie": "I", "aa": "A", "rh": "G",
}  # fmt: skip
_LATIN_LETTERS: Final = {
    "b": "B", "d": "D", "f": "F", "j": "J", "k": "K", "l": "L", "m": "M", "n": "N",
    "p": "B", "q": "K", "r": "R", "s": "S", "t": "T", "v": "F", "w": "U", "x": "KS",
    "y": "I", "z": "Z", "h": "H", "a": "a", "e": "e", "i": "i", "o": "u", "u": "u",
}  # fmt: skip
_LATIN_VOWELS: Final = frozenset("aeiou")
_SOFTENING: Final = frozenset("eiy")  # French c/g before e, i, y: Youcef, Benjelloun

# "Son/daughter of" between a given name and the father's: often left out of the other
# rendering (احمد بن علي, Ahmad Ali), so also keyed as β, which costs little to drop.
_SON_OF: Final = frozenset({"بن", "ابن", "بنت", "ben", "bin", "ibn", "bent", "bint"})
_SON_OF_SYMBOL: Final = "β"
_PARTICLES: Final = frozenset(
    {"ولد", "ايت", "بو", "ابو", "عبد", "ام", "اولاد", "ould", "ait", "bou", "abu", "abou",
     "abd", "abdel", "abdul", "abdal", "abdoul", "abdou", "oulad", "ouled", "umm", "oum"}
)  # fmt: skip
# Standalone articles, with the sun-letter assimilations (Ar-Rashid, Ech-Chaoui).
_ARTICLES: Final = frozenset(
    {"ال", "el", "al", "l", "ul", "ar", "ad", "as", "at", "an", "az", "ach", "ech", "ash",
     "es", "er", "ed", "et", "en", "ez", "ath", "adh", "esh"}
)  # fmt: skip
_WRITTEN: Final = frozenset(CONSONANTS + "3@AIU")
_SPLIT: Final = re.compile(r"[\s\-_\u200c.,/]+")
_ARABIC_CHAR: Final = re.compile(
    "[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"
)
_TIFINAGH_CHAR: Final = re.compile("[\u2d30-\u2d7f]")


@dataclass(frozen=True, slots=True)
class NameToken:
    """One token of a name: its normalised text, script and key variants (first: as written)."""

    text: str
    script: str
    variants: tuple[str, ...]


@lru_cache(maxsize=1 << 14)
def name_tokens(name: str) -> tuple[NameToken, ...]:
    """The tokens of ``name`` after particle gluing, each with its key variants."""
    words = [_word(raw) for raw in _SPLIT.split(unicodedata.normalize("NFC", name))]
    groups = _grouped([word for word in words if word[1]])
    return tuple(_keyed(script, variants) for script, variants in groups)


def name_key(name: str) -> str:
    """The phonetic key of ``name``: each token's key as written, space-separated.

    >>> name_key("محمد بن علي"), name_key("Mohamed Benali")
    ('MHMD BN3LY', 'MuHaMeD BeNaLI')
    """
    return " ".join(token.variants[0] for token in name_tokens(name))


def token_key(script: str, text: str) -> str:
    """The key of one normalised token written in ``script`` (``arab``, ``latn``, ``tfng``)."""
    if script == "arab":
        raw = _arabic_key(text)
    elif script == "tfng":
        raw = "".join(_TIFINAGH_LETTERS.get(char, "") for char in text)
        raw = "V" + raw[1:] if raw[:1] in ("a", "e", "i", "u") else raw
    else:
        raw = _latin_key(text)
    return _collapse(raw)


def _script(word: str) -> str:
    if _ARABIC_CHAR.search(word):
        return "arab"
    return "tfng" if _TIFINAGH_CHAR.search(word) else "latn"


@lru_cache(maxsize=1 << 16)
def _word(raw: str) -> tuple[str, str]:
    """A word's script and normalised text."""
    script = _script(raw)
    return script, _normalise(script, raw)


def _normalise(script: str, word: str) -> str:
    if script == "arab":
        return normalise_arabic(word).replace(" ", "")
    if script == "tfng":
        return normalise_tifinagh(word).replace(" ", "")
    latin = normalise_latin(word.replace("ç", "s").replace("Ç", "s"))
    return "".join(char for char in latin if char.isalpha())


def _grouped(words: list[tuple[str, str]]) -> list[tuple[str, tuple[tuple[str, ...], ...]]]:
    """Glue particles and articles to the next word; each group lists its variants, each
    variant as segments keyed one by one (so a particle's alef stays word-initial)."""
    groups: list[tuple[str, tuple[tuple[str, ...], ...]]] = []
    prefixes: list[list[str]] = [[]]
    for position, (script, text) in enumerate(words):
        last = position == len(words) - 1
        if not last and text in _ARTICLES:
            prefixes = [[*p, text] for p in prefixes] + prefixes
        elif not last and text in _SON_OF:
            prefixes = [[*p, text] for p in prefixes] + [[*p, _SON_OF_SYMBOL] for p in prefixes]
        elif not last and text in _PARTICLES:
            prefixes = [[*p, text] for p in prefixes]
        else:
            bodies = _article_variants(script, text)
            groups.append((script, tuple((*p, b) for p in prefixes for b in bodies)))
            prefixes = [[]]
    return groups


def _article_variants(script: str, text: str) -> list[str]:
    """The word as written, and without a glued article if it may carry one."""
    if script == "arab" and text.startswith("ال") and len(text) >= 4:
        return [text, text[2:]]
    if script == "latn" and len(text) >= 4:
        if text[:2] in ("el", "al"):
            return [text, text[2:]]
        if text[0] == "l":
            return [text, text[1:]]  # Lamrani, Lhoucine, Lyazidi
        if text[0] in _LATIN_VOWELS and text[1] == text[2] and text[1] not in _LATIN_VOWELS:
            return [text, text[2:]]  # sun letters: Essafi, Erramdani, Assaghir
    return [text]


@lru_cache(maxsize=1 << 16)
def _keyed(script: str, variants: tuple[tuple[str, ...], ...]) -> NameToken:
    """A token from its text variants: their distinct keys, at most four."""
    keys: list[str] = []
    # Latin rh is غ in Maghreb spellings (Oudrhiri) or r + h (Serhani): key it both ways.
    ambiguous = script == "latn" and any("rh" in segment for segment in variants[0])
    readings = (False, True) if ambiguous else (False,)
    for segments, plain in [(segments, plain) for plain in readings for segments in variants]:
        key = _collapse(
            "".join(_segment_key(script, segment, plain) for segment in _spans(script, segments))
        )
        # A variant left with fewer than two written letters (Alaoui without "Al") is
        # too short to tell names apart.
        if key and key not in keys and (not keys or _consonants(key) >= 2):
            keys.append(key)
    text = "".join(variants[0])
    return NameToken(text, script, tuple(keys[:_MAX_VARIANTS]) or ("",))


def _consonants(key: str) -> int:
    """Symbols Arabic writes as letters: consonants, ain, hamza and the long vowels."""
    return sum(symbol in _WRITTEN for symbol in key)


def _spans(script: str, segments: tuple[str, ...]) -> list[str]:
    """Latin particles are keyed as if written together with their word (``Ben Ali`` as
    ``Benali``, which is how Latin records often write them); Arabic ones apart, so that
    the word keeps its initial alef (أبو أسامة)."""
    if script == "arab":
        return list(segments)
    spans: list[str] = []
    for segment in segments:
        if spans and segment != _SON_OF_SYMBOL and spans[-1] != _SON_OF_SYMBOL:
            spans[-1] += segment
        else:
            spans.append(segment)
    return spans


def _segment_key(script: str, segment: str, plain: bool) -> str:
    if segment == _SON_OF_SYMBOL:
        return segment
    return _collapse(_latin_key(segment, plain)) if plain else token_key(script, segment)


def _arabic_key(text: str) -> str:
    # ا before a hamza seat is one glottal vowel (عائشة, أسماء): Aicha, Asmaa.
    text = text.replace("ائ", "ئ").replace("اء", "ء")
    symbols = []
    for position, char in enumerate(text):
        symbol = _ARABIC_LETTERS.get(char, "")
        if symbol == "A" and (position == 0 or (position == 2 and text.startswith("ال"))):
            symbol = "@"
        elif position == len(text) - 1 and position > 0:
            symbol = {"H": "E", "I": "Y"}.get(symbol, symbol)
        symbols.append(symbol)
    return "".join(symbols)


def _latin_key(text: str, plain: bool = False) -> str:
    """A Latin word's key; ``plain`` reads ``rh`` as r and h (``Serhani``, سرحاني) rather
    than the Maghreb spelling of غ (``Oudrhiri``, الودغيري)."""
    symbols: list[str] = []
    position = 0
    while position < len(text):
        symbol, width = _latin_symbol(text, position, plain)
        symbols.append(symbol)
        position += width
    return "".join(symbols)


def _latin_symbol(text: str, position: int, plain: bool = False) -> tuple[str, int]:
    """The symbol at ``position`` of a Latin word and how many letters it spans."""
    group = text[position : position + 3]
    for width in (3, 2):
        symbol = _LATIN_GROUPS.get(group[:width])
        if symbol is not None and not (group[:2] == "ie" and position == 0):
            if plain and group[:2] == "rh":
                break
            return symbol, width
    char = text[position]
    if position == 0 and char in _LATIN_VOWELS:
        return "V", 1  # the word-initial hamza or ain a Latin initial vowel stands for
    after = text[position + 1 : position + 2]
    final = position == len(text) - 1
    before = text[position - 1] if position else ""
    if char == "g" and after == "u" and text[position + 2 : position + 3] in _SOFTENING:
        return "G", 2  # French "gu" before e/i is a hard g: Chiguer, Regraguia
    if char in "cg":
        soft = after in _SOFTENING
        return ("S" if soft else "K") if char == "c" else ("J" if soft else "G"), 1
    if char == "h" and final and before in _LATIN_VOWELS:
        return "h", 1
    if char == "a" and final:
        return "A", 1
    if char == "i" and (final or before in _LATIN_VOWELS):
        return "I", 1
    return _LATIN_LETTERS.get(char, ""), 1


def _collapse(key: str) -> str:
    """Runs of one symbol as one: shadda is unwritten and Latin doubles letters at will."""
    return "".join(
        symbol
        for position, symbol in enumerate(key)
        if position == 0 or key[position - 1] != symbol
    )
