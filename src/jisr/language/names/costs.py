# ruff: noqa: RUF002 - Arabic letters are meant, not look-alikes
"""The phonetic-key alphabet and the costs of the weighted edit distance over it.

Both scripts are mapped (:mod:`.keys`) to one alphabet of single-character symbols:

    consonant classes  B T θ D ð J G K X H S C Z F L M N R
    long vowels        A I U      Arabic ا ي و, Latin "aa", "ee"/"y", "ou"/"w"
    short vowels       a e i u    Latin single vowels (Arabic does not write them)
    special            @ hamza or word-initial alef (any vowel), 3 ain (often unwritten),
                       E final ه/ة (Latin a, ah, e), Y final ي/ى (Latin i, y, a),
                       h a Latin final h after a vowel, β a standalone بن/ben/bin/ibn
                       (often left out of the other rendering: Ahmad bin Ali, Ahmad Ali),
                       V a Latin word-initial vowel (an Arabic initial alef or ain is often
                       not written in Latin, Brahim for ابراهيم, the converse is rare:
                       Ahmed is not حمد, so V costs more to drop than @),
                       O French/English "ou"/"oo": و or a short u (Mourad for مراد)

The costs are hand-set, then checked on the dev split of the UNICEF name pairs
(docs/language-names.md): what transliteration conventions vary freely costs little
(short vowels, hamza, ain, ``ou``/``w``), what tells two names apart costs much (a written
long vowel: محمد/محمود, a final ة: Karim/Karima, another consonant class).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["DELETE", "SUBSTITUTE", "SYMBOLS", "code_of"]

CONSONANTS: Final = "BTθDðJGKXHSCZFLMNR"
LONG_VOWELS: Final = "AIU"
SHORT_VOWELS: Final = "aeiu"
SPECIAL: Final = "@V3EYhβO"
SYMBOLS: Final = CONSONANTS + LONG_VOWELS + SHORT_VOWELS + SPECIAL

_DELETE_COST: Final = {
    **dict.fromkeys(CONSONANTS, 1.0),
    "H": 0.7,
    "A": 0.6,
    "I": 0.7,
    "U": 0.7,
    "a": 0.05,
    "e": 0.03,
    "i": 0.07,
    "u": 0.07,
    "@": 0.2,
    "V": 0.5,
    "O": 0.35,
    "3": 0.15,
    "E": 0.7,
    "Y": 0.6,
    "h": 0.15,
    "β": 0.35,
}

# Consonant classes that transliteration conventions confuse (Gulf "g" for ق, "dh"/"z"
# for ذ and ظ, "th"/"t"/"s" for ث, French "kh"/"k" for خ ...).
_NEAR_CONSONANTS: Final = {
    ("T", "θ"): 0.2,
    ("S", "θ"): 0.25,
    ("D", "ð"): 0.2,
    ("Z", "ð"): 0.2,
    ("K", "G"): 0.3,
    ("G", "J"): 0.35,
    ("K", "X"): 0.3,
    ("X", "H"): 0.35,
    ("G", "R"): 0.5,
    ("S", "Z"): 0.45,
    ("S", "C"): 0.5,
    ("J", "Z"): 0.6,
    ("J", "C"): 0.6,
    ("D", "T"): 0.7,
    ("H", "@"): 0.6,
}

_QUALITY: Final = {"A": "a", "a": "a", "I": "i", "i": "i", "U": "u", "u": "u"}


def _vowel_cost(x: str, y: str) -> float | None:
    """The cost of writing vowel ``x`` as vowel ``y``, or None if either is no vowel."""
    if (x not in _QUALITY and x != "e") or (y not in _QUALITY and y != "e"):
        return None
    if "e" in (x, y):
        other = y if x == "e" else x
        return 0.0 if other == "e" else (0.1 if other in "ai" else 0.05 if other in "AI" else 0.6)
    same = _QUALITY[x] == _QUALITY[y]
    strong = (x in LONG_VOWELS) + (y in LONG_VOWELS)
    if same:
        return 0.03 if strong == 1 else 0.0
    return (0.2, 0.6, 0.8)[strong]


def _special_cost(x: str, y: str) -> float | None:
    """Costs of the special symbols against anything, or None if neither is special."""
    vowels = LONG_VOWELS + SHORT_VOWELS
    table = {
        "@": {**dict.fromkeys(vowels, 0.05), "V": 0.0, "O": 0.05, "3": 0.1, "E": 0.3, "Y": 0.2},
        "V": {**dict.fromkeys("AaIie", 0.1), "U": 0.3, "u": 0.1, "O": 0.1, "3": 0.1},
        "O": {"U": 0.0, "u": 0.05, "3": 0.1, "A": 0.6, "a": 0.3, "I": 0.6, "i": 0.3, "e": 0.4},
        "3": {**dict.fromkeys(vowels, 0.1), "@": 0.1, "E": 0.3, "Y": 0.3, "H": 0.6},
        "E": {"A": 0.05, "a": 0.1, "e": 0.1, "H": 0.1, "h": 0.05, "T": 0.25, "I": 0.6, "Y": 0.3},
        "Y": {"I": 0.0, "i": 0.1, "A": 0.1, "a": 0.15, "e": 0.2, "U": 0.7},
        "h": {"H": 0.0, "E": 0.05},
    }
    for first, second in ((x, y), (y, x)):
        if first in table:
            return table[first].get(second, table.get(second, {}).get(first, 1.0))
    return None


def _substitute(x: str, y: str) -> float:
    if x == y:
        return 0.0
    for rule in (_special_cost, _vowel_cost):
        cost = rule(x, y)
        if cost is not None:
            return cost
    return _NEAR_CONSONANTS.get((x, y), _NEAR_CONSONANTS.get((y, x), 1.0))


def _tables() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    size = len(SYMBOLS)
    delete = np.array([_DELETE_COST[s] for s in SYMBOLS], dtype=np.float32)
    substitute = np.ones((size, size), dtype=np.float32)
    for i, x in enumerate(SYMBOLS):
        for j, y in enumerate(SYMBOLS):
            substitute[i, j] = _substitute(x, y)
    return delete, substitute


DELETE, SUBSTITUTE = _tables()
"""``DELETE[s]``: cost of a symbol with no counterpart; ``SUBSTITUTE[s, t]``: of s for t."""

_CODES: Final = {symbol: code for code, symbol in enumerate(SYMBOLS)}


def code_of(key: str) -> list[int]:
    """The symbol codes of a key, indices into :data:`SYMBOLS`."""
    return [_CODES[symbol] for symbol in key]
