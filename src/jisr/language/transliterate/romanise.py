# ruff: noqa: RUF001, RUF002 - Arabic letters are meant, not look-alikes
"""Romanise Arabic-script Darija the way people write Arabizi, with realistic variation.

No licence-clean Arabizi ⇄ Arabic pairs exist, so the training pairs are made here: each
Arabic word is spelt in Latin letters and digits, drawing every letter's spelling from
:data:`SPELLINGS` (3=ع, 7=ح, 9=ق, 2=ء, gh/8=غ, kh/5=خ, ch/sh/x=ش, ou/o/u for و, French-
and English-style digraphs, capitals for emphatics), with dropped or inserted short vowels,
doubled letters, the article as l/el/al or assimilated to a sun letter. The spelling of each
Arabic letter is recorded, so every pair comes aligned: a list of (Latin, Arabic) units.
Where the typed form differs from the corpus spelling in a way Darija writers also show in
Arabic script, the Arabic side follows what was typed: the article typed ``l`` is ل
(لمدرسة), the vowel of a ka-/ta-/gha- prefix or of a joined ma-…-ch negation typed ``a`` is ا
(``kan3ref`` كانعرف, ``makaynch`` ماكاينش).
"""

from __future__ import annotations

import random
import re

from jisr.language.transliterate.arabic import ARABIC_LETTER, strip_diacritics

__all__ = ["SPELLINGS", "Unit", "romanise_sentence", "romanise_word"]

#: One aligned piece of a pair: a Latin chunk and the Arabic it spells ("" if epenthetic).
Unit = tuple[str, str]

#: Spellings of each Arabic consonant letter with their relative weights.
SPELLINGS: dict[str, dict[str, float]] = {
    # French p is written ب in Moroccan Arabic script (بوليس, بورطابل): typing p for a ب
    # teaches the model p → ب rather than the rare Persian پ.
    "ب": {"b": 0.97, "p": 0.03},
    "ت": {"t": 1.0},
    "ث": {"t": 0.6, "th": 0.4},
    "ج": {"j": 0.85, "g": 0.08, "dj": 0.07},
    "ح": {"7": 0.85, "h": 0.12, "H": 0.03},
    "خ": {"kh": 0.9, "5": 0.05, "x": 0.05},
    "د": {"d": 1.0},
    "ذ": {"d": 0.7, "dh": 0.3},
    "ر": {"r": 1.0},
    "ز": {"z": 1.0},
    "س": {"s": 1.0},
    "ش": {"ch": 0.85, "sh": 0.08, "x": 0.07},
    "ص": {"s": 0.6, "S": 0.35, "9": 0.05},
    "ض": {"d": 0.55, "D": 0.45},
    "ط": {"t": 0.55, "T": 0.45},
    "ظ": {"d": 0.4, "D": 0.3, "z": 0.2, "dh": 0.1},
    # ع colours the vowel next to it, which writers often type with it: m3a مع, 3la على.
    "ع": {"3": 0.82, "3a": 0.1, "3e": 0.03, "a": 0.05},
    "غ": {"gh": 0.65, "8": 0.35},
    "ف": {"f": 1.0},
    "ق": {"9": 0.85, "q": 0.08, "k": 0.04, "g": 0.03},
    "ك": {"k": 0.95, "c": 0.05},
    "ل": {"l": 1.0},
    "م": {"m": 1.0},
    "ن": {"n": 1.0},
    "ه": {"h": 0.9, "8": 0.1},
    "ݣ": {"g": 1.0},
    "ڭ": {"g": 1.0},
    "گ": {"g": 1.0},
    "ڤ": {"v": 1.0},
    "پ": {"p": 1.0},
    "ء": {"2": 0.4, "": 0.45, "'": 0.05, "a": 0.1},
    "ئ": {"2": 0.3, "y": 0.3, "i": 0.2, "": 0.2},
    "ؤ": {"2": 0.4, "ou": 0.3, "o": 0.3},
    "ى": {"a": 0.9, "i": 0.1},
}
_VOWEL_LETTERS = frozenset("اويىآأإ")
_SUN_LETTERS = frozenset("تثدذرزسشصضطظلن")
# Short vowels people add between consonants; "e" is the usual Darija schwa.
_EPENTHESIS = {"e": 0.14, "a": 0.02, "i": 0.01, "o": 0.01}
_DOUBLE = 0.06
_PREFIX_VOWEL = 0.5
_PARTICIPLE_VOWEL = 0.3
_WORD = re.compile(f"{ARABIC_LETTER}+")
_PUNCTUATION = str.maketrans({"،": ",", "؛": ";", "؟": "?"})


def romanise_sentence(sentence: str, rng: random.Random) -> tuple[str, str, list[list[Unit]]]:
    """An Arabizi spelling of ``sentence``, the Arabic that transliterates it faithfully
    (see :func:`romanise_word`), and the aligned units of each Arabic word."""
    text = strip_diacritics(sentence).replace("\u0651", "")
    words: list[list[Unit]] = []
    latin: list[str] = []
    arabic: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        latin.append(text[last : match.start()].translate(_PUNCTUATION))
        arabic.append(text[last : match.start()])
        units = romanise_word(match.group(), rng)
        words.append(units)
        latin.append("".join(spelt for spelt, _ in units))
        arabic.append("".join(letters for _, letters in units))
        last = match.end()
    latin.append(text[last:].translate(_PUNCTUATION))
    arabic.append(text[last:])
    result = "".join(latin)
    if result[:1].islower() and rng.random() < 0.15:
        result = result[0].upper() + result[1:]
    return result, "".join(arabic), words


def romanise_word(word: str, rng: random.Random) -> list[Unit]:
    """One Arabizi spelling of an Arabic ``word`` as aligned (Latin, Arabic) units."""
    units: list[Unit] = []
    start = _article(word, rng, units) or _prefix_vowel(word, rng, units)
    for index in range(start, len(word)):
        latin = _spell(word, index, rng)
        if index == start and _participle(word, index) and rng.random() < _PARTICIPLE_VOWEL:
            latin += _draw({"o": 0.5, "ou": 0.4, "u": 0.1}, rng)
        if index > start and _consonant_at(word, index - 1) and _consonant_at(word, index):
            _maybe_epenthesis(rng, units)
        if latin and index > start and word[index] == word[index - 1] and rng.random() < 0.5:
            latin = ""  # a written double letter is often typed once
        units.append((latin, word[index]))
    return _merge_silent(units)


def _participle(word: str, index: int) -> bool:
    """Whether ``word`` has, at ``index``, the م of a participle or noun of the mu- pattern
    (مستشفى, مدير, مشكل), whose u is pronounced and typed but not written in Arabic."""
    rest = len(word) - index
    return word[index] == "م" and rest >= 4 and _consonant_at(word, index + 1)


def _prefix_vowel(word: str, rng: random.Random, units: list[Unit]) -> int:
    """Spell the vowel of a verbal prefix ka-/ta-/gha- or of a joined negation ma-…-ch, which
    Darija pronounces and, in Arabic script, commonly writes with ا (كانعرف, ماكاينش)."""
    if len(word) < 4:
        return 0
    # ka-/ta-/gha- + person prefix: كنعرف, تيقول, غنمشي
    aspect = word[0] in "كتغ" and word[1] in "نتي"
    negation = word[0] == "م" and word[1] not in _VOWEL_LETTERS and word.endswith("ش")
    if not (aspect or negation) or rng.random() >= _PREFIX_VOWEL:
        return 0
    units.append((_draw(SPELLINGS[word[0]], rng) + "a", word[0] + "ا"))
    return 1


def _article(word: str, rng: random.Random, units: list[Unit]) -> int:
    """Spell a leading article ال (l, el, al, or assimilated) and return where to go on."""
    if not word.startswith("ال") or len(word) < 4:
        return 0
    if word[2] in _SUN_LETTERS and rng.random() < 0.35:
        units.append(("", "ال"))
        units.append((_spell(word, 2, rng) * 2, word[2]))
        return 3
    spelt = _draw({"l": 0.6, "el": 0.25, "al": 0.15}, rng)
    # Transliteration is faithful to what was typed: a bare "l" is written ل, as Darija
    # writers in Arabic script do (لمدرسة); "el" and "al" keep the article ال.
    units.append((spelt, "ل" if spelt == "l" else "ال"))
    return 2


def _spell(word: str, index: int, rng: random.Random) -> str:
    """The Latin spelling of the letter at ``index`` given its neighbours."""
    letter = word[index]
    if letter in "اآأإ":
        return _alef(word, index, rng)
    if letter == "و":
        return _draw(_waw(word, index), rng)
    if letter == "ي":
        return _draw(_ya(word, index), rng)
    if letter == "ة":
        return _draw({"a": 0.85, "e": 0.05, "": 0.05, "at": 0.05}, rng)
    spelling = _draw(SPELLINGS.get(letter, {letter: 1.0}), rng)
    if spelling and spelling.isalpha() and rng.random() < _DOUBLE:
        spelling += spelling[-1]
    return spelling


def _alef(word: str, index: int, rng: random.Random) -> str:
    """Alef and its hamza forms: a long a, an initial a/i, a glottal stop 2."""
    letter = word[index]
    if letter == "إ":
        return _draw({"i": 0.75, "e": 0.25}, rng)
    if letter == "أ" and index > 0:
        return _draw({"2": 0.4, "a": 0.4, "": 0.2}, rng)
    if letter == "آ":
        return _draw({"a": 0.7, "aa": 0.3}, rng)
    return _draw({"a": 0.92, "e": 0.04, "aa": 0.04}, rng)


def _waw(word: str, index: int) -> dict[str, float]:
    """و is a consonant w word-initially or before a vowel letter, else mostly a vowel."""
    after = word[index + 1] if index + 1 < len(word) else ""
    if index == 0:
        return {"w": 0.75, "o": 0.15, "ou": 0.1} if after else {"w": 0.5, "o": 0.4, "ou": 0.1}
    if after in _VOWEL_LETTERS:
        return {"w": 0.95, "ou": 0.05}
    if word[index - 1] in _VOWEL_LETTERS:
        return {"w": 0.8, "o": 0.1, "u": 0.1}
    return {"o": 0.5, "ou": 0.3, "u": 0.15, "w": 0.05}


def _ya(word: str, index: int) -> dict[str, float]:
    """ي is a consonant y word-initially or before a vowel letter, else mostly i."""
    after = word[index + 1] if index + 1 < len(word) else ""
    if index == 0:
        return {"y": 0.7, "i": 0.3}
    if index == len(word) - 2 and after in "ةا":
        return {"y": 0.45, "iy": 0.35, "i": 0.2}  # -iyya typed -iya: chwiya شوية
    if after in _VOWEL_LETTERS:
        return {"y": 0.7, "i": 0.3}
    if word[index - 1] in _VOWEL_LETTERS:
        return {"y": 0.8, "i": 0.2}
    return {"i": 0.82, "y": 0.1, "e": 0.06, "ee": 0.02}


def _consonant_at(word: str, index: int) -> bool:
    """Whether the letter at ``index`` is a consonant (not a long-vowel letter)."""
    return word[index] not in _VOWEL_LETTERS and word[index] != "ة"


def _maybe_epenthesis(rng: random.Random, units: list[Unit]) -> None:
    """Sometimes add a short vowel that the Arabic spelling does not write."""
    roll = rng.random()
    for vowel, probability in _EPENTHESIS.items():
        if roll < probability:
            units.append((vowel, ""))
            return
        roll -= probability


def _merge_silent(units: list[Unit]) -> list[Unit]:
    """Fold units with no Latin into a neighbour, so every unit spells at least one letter."""
    merged: list[Unit] = []
    pending = ""
    for latin, arabic in units:
        if not latin:
            if merged:
                merged[-1] = (merged[-1][0], merged[-1][1] + arabic)
            else:
                pending += arabic
            continue
        merged.append((latin, pending + arabic))
        pending = ""
    if pending and merged:
        merged[-1] = (merged[-1][0], merged[-1][1] + pending)
    return merged


def _draw(weights: dict[str, float], rng: random.Random) -> str:
    """One key of ``weights`` drawn in proportion to its weight."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[key] for key in keys])[0]
