"""Text normalisation, words and the character n-gram features the identifier reads.

A text is normalised (NFKC, lower case, Arabic diacritics and tatweel removed, Greek
epsilon and gamma folded into the Berber Latin open e and gamma, typographic apostrophes
and hyphens made ASCII) and split into words: runs of letters and digits, joined by inner
apostrophes or hyphens (``l'acte``, ``ad k-id-afeg``), holding at least one letter. Each
word gives

* its character n-grams of length 1 to 5 inside ``" " + word + " "`` (the spaces mark the
  word's edges, so ``" dy"`` and ``"al "`` differ from inner ``"dya"``), and
* for words longer than three letters, the whole word (``"\\x01" + word``; shorter words
  are already one of their own n-grams).

Because no feature crosses a word boundary, a text's features are the sum of its words'
features: that is what lets :mod:`.spans` score each word with the sentence model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "MAX_ORDER",
    "Token",
    "has_letter",
    "normalize",
    "tokens",
    "word_grams",
    "words",
]

MAX_ORDER = 5
# Words longer than this are cut: URLs and runs of one letter say little past here.
_MAX_WORD = 40
_WORD_MARK = "\x01"

# Diacritics are rare in what citizens type but common in some MSA sources (Tatoeba);
# keeping them would teach the model a cue that does not carry over to real input.
_ARABIC_MARKS = "\u0640\u064b-\u065f\u0670\u06d6-\u06ed"
_TABLE = str.maketrans(
    {
        **{chr(c): None for c in range(0x064B, 0x0660)},
        **{chr(c): None for c in range(0x06D6, 0x06EE)},
        "\u0640": None,
        "\u0670": None,
        # SOURCES.md: Kabyle Tatoeba text sometimes has Greek epsilon and gamma for the
        # Latin open e (U+025B) and gamma (U+0263).
        "\u03b5": "\u025b",
        "\u03b3": "\u0263",
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "`": "'",
        "\u2010": "-",
        "\u2011": "-",
        "_": " ",
    }
)
_WORDS = re.compile(r"\w+(?:['-]\w+)*")
_JOIN = "['\u2019\u2018\u02bc`\\-\u2010\u2011]"
_RAW_CHAR = rf"[\w{_ARABIC_MARKS}\u0300-\u036f]"
_RAW_WORDS = re.compile(rf"{_RAW_CHAR}+(?:{_JOIN}{_RAW_CHAR}+)*")


@dataclass(frozen=True)
class Token:
    """A word of the original text: where it is (``text[start:end]``) and its normalised
    words (usually one)."""

    start: int
    end: int
    words: tuple[str, ...]


def normalize(text: str) -> str:
    """The text the features are read from (see the module docstring)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.lower().translate(_TABLE)


def has_letter(word: str) -> bool:
    """Whether ``word`` holds a letter (digits alone, as in ``1943``, do not count)."""
    return word.isalpha() or any(character.isalpha() for character in word)


def words(text: str) -> list[str]:
    """The normalised words of ``text`` that hold a letter, in order."""
    return [word for word in _WORDS.findall(normalize(text)) if has_letter(word)]


def tokens(text: str) -> Iterator[Token]:
    """The words of the original ``text`` with their offsets, for per-span results."""
    for match in _RAW_WORDS.finditer(text):
        found = tuple(words(match.group()))
        if found:
            yield Token(match.start(), match.end(), found)


def word_grams(word: str) -> list[str]:
    """Every feature of one normalised word, repeated n-grams included."""
    word = word[:_MAX_WORD]
    padded = f" {word} "
    size = len(padded)
    grams = list(word)
    for order in range(2, MAX_ORDER + 1):
        grams.extend(padded[i : i + order] for i in range(size - order + 1))
    if len(word) > 3:
        grams.append(_WORD_MARK + word)
    return grams
