"""Arabizi → Arabic script with the shipped model: pinned words and sentences, pass-through."""

from __future__ import annotations

import heapq
from pathlib import Path

import pytest

from jisr.language.transliterate import ModelMissing, arabizi_to_arabic
from jisr.language.transliterate.arabizi import UNIT_SEP, load_model
from jisr.language.transliterate.ngram import BOUNDARY


@pytest.mark.parametrize(
    ("arabizi", "arabic"),
    [
        ("salam", "سلام"),
        ("3afak", "عافاك"),
        ("bghit", "بغيت"),
        ("wach", "واش"),
        ("bzaf", "بزاف"),
        ("kifach", "كيفاش"),
        ("mzyan", "مزيان"),
    ],
)
def test_common_words(arabizi: str, arabic: str) -> None:
    """Frequent Darija words come out in their usual Arabic spelling."""
    assert arabizi_to_arabic(arabizi) == arabic


def test_sentence_keeps_punctuation_in_arabic_form() -> None:
    """Words are transliterated; ? and , become ؟ and ،."""
    assert arabizi_to_arabic("wach nta mzyan?") == "واش نتا مزيان؟"


def test_one_letter_proclitic_is_joined_to_the_next_word() -> None:
    """Arabic writes no one-letter words: ``f dar`` is one word in Arabic script."""
    result = arabizi_to_arabic("ana f dar")
    assert len(result.split()) == 2


def test_numbers_emoji_and_arabic_pass_through() -> None:
    """Digit-only tokens, emoji and Arabic-script text are kept as they are."""
    result = arabizi_to_arabic("2024 🙂 سلام")
    assert result == "2024 🙂 سلام"


def test_capitalised_word_is_read_in_small_letters() -> None:
    """A word typed in capitals is the same word."""
    assert arabizi_to_arabic("BGHIT") == arabizi_to_arabic("bghit")


def test_missing_model_is_reported(tmp_path: Path) -> None:
    """A folder without the model raises ModelMissing naming the retraining command."""
    with pytest.raises(ModelMissing, match="jisr lang train arabizi"):
        load_model(tmp_path)


def test_sentence_repeated_gives_its_transliteration_repeated() -> None:
    """The Viterbi back-pointers give each position its own word, over a long text."""
    once = arabizi_to_arabic("wach bghiti chi haja?")
    assert arabizi_to_arabic("wach bghiti chi haja? " * 50).split() == once.split() * 50


def _exhaustive_candidates(word: str) -> tuple[tuple[str, float], ...]:
    """The decoder's search as first written: every expansion scored with ``logprob`` and
    kept until ``nlargest`` prunes the beam — the reference the fast search must equal."""
    model = load_model()
    chunks: dict[str, list[str]] = {}
    for unit in model.joint.to_json()["counts"][""]:
        if unit != BOUNDARY:
            chunks.setdefault(unit.split(UNIT_SEP)[0], []).append(unit)
    beams: list[list[tuple[float, tuple[str, ...], str]]] = [[] for _ in range(len(word) + 1)]
    beams[0].append((0.0, (BOUNDARY, BOUNDARY), ""))
    for start in range(len(word)):
        beams[start] = heapq.nlargest(model.weights.beam, beams[start])
        for score, history, arabic in beams[start]:
            found = [
                (start + size, unit, model.joint.logprob(unit, history))
                for size in range(1, min(4, len(word) - start) + 1)
                for unit in chunks.get(word[start : start + size], ())
            ] or [(start + 1, "", -12.0)]
            for end, unit, logprob in found:
                output = unit.split(UNIT_SEP)[1] if unit else word[start]
                beams[end].append((score + logprob, (history[-1], unit), arabic + output))
    finals: dict[str, float] = {}
    for score, history, arabic in beams[len(word)]:
        total = score + model.joint.logprob(BOUNDARY, history)
        finals[arabic] = max(total, finals.get(arabic, total))
    return tuple(heapq.nlargest(model.weights.candidates, finals.items(), key=lambda i: i[1]))


@pytest.mark.parametrize(
    "word",
    [
        *("salam", "3afak", "kifach", "ma3ndich", "Tbib", "9Sedti", "chhal", "x", "q", "w7d"),
        *("zzzz", "bghitkoumch", "mashi", "ghadi", "qwerty", "é3lach", "dyalhoum", "fhemtch"),
    ],
)
def test_search_equals_the_exhaustive_search(word: str) -> None:
    """The pruned, table-driven search gives exactly the spellings, order and float scores
    of scoring every expansion (words with unknown characters included)."""
    assert load_model()._candidates(word) == _exhaustive_candidates(word)
