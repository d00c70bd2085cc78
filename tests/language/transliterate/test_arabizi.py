"""Arabizi → Arabic script with the shipped model: pinned words and sentences, pass-through."""

from __future__ import annotations

from pathlib import Path

import pytest

from jisr.language.transliterate import ModelMissing, arabizi_to_arabic
from jisr.language.transliterate.arabizi import load_model


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
