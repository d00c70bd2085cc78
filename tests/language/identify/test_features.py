# ruff: noqa: RUF001 - Arabic, Tifinagh, Berber Latin and other scripts are the data under test
"""Normalisation, words and n-grams: what the model reads from a text."""

from __future__ import annotations

from jisr.language.identify.features import normalize, tokens, word_grams, words


class TestNormalize:
    def test_folds_greek_letters_into_berber_latin(self) -> None:
        """Kabyle text typed with Greek epsilon/gamma reads as the Latin letters."""
        assert normalize("S\u03b5eddi a\u03b3rum") == "s\u025beddi a\u0263rum"

    def test_drops_arabic_diacritics_and_tatweel(self) -> None:
        """Harakat and tatweel are not features: they would be a source-specific cue."""
        assert normalize("مُرهَقٌ جـميل") == "مرهق جميل"

    def test_makes_apostrophes_and_hyphens_ascii(self) -> None:
        """Typographic apostrophes and non-breaking hyphens become ASCII."""
        assert normalize("l\u2019acte nni\u0263\u2011am") == "l'acte nni\u0263-am"


class TestWords:
    def test_keeps_inner_apostrophes_hyphens_and_arabizi_digits(self) -> None:
        """Arabizi digits stay inside words; numbers alone are not words."""
        assert words("L'acte, k-id-afeɣ 3arf 1943 !") == ["l'acte", "k-id-afeɣ", "3arf"]

    def test_no_words_in_emoji_or_punctuation(self) -> None:
        assert words("🙂 ... 12:30 ؟") == []

    def test_tokens_point_into_the_original_text(self) -> None:
        """Offsets are those of the raw text even when normalisation shortens a word."""
        text = "Salam مُرهَقٌ, ok"
        found = list(tokens(text))
        assert [text[t.start : t.end] for t in found] == ["Salam", "مُرهَقٌ", "ok"]
        assert [t.words for t in found] == [("salam",), ("مرهق",), ("ok",)]


class TestWordGrams:
    def test_grams_of_one_to_five_characters_and_the_whole_word(self) -> None:
        grams = word_grams("dyal")
        assert grams[:4] == ["d", "y", "a", "l"]
        assert {" d", "al ", " dyal", "dyal "} <= set(grams)
        assert grams[-1] == "\x01dyal"
        assert max(len(g) for g in grams) == 5

    def test_short_words_have_no_separate_whole_word_feature(self) -> None:
        assert not any(g.startswith("\x01") for g in word_grams("de"))
