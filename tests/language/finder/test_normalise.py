# ruff: noqa: RUF001, RUF003 - Arabic, Tifinagh and IRCAM Latin letters are the data under test
"""Folding spelling variants and rewriting queries into another script."""

from __future__ import annotations

import pytest

from jisr.language.finder import normalise
from jisr.language.finder.normalise import (
    arabizi_normaliser,
    dominant_script,
    fold,
    looks_arabizi,
    tifinagh_normaliser,
)


class TestFold:
    @pytest.mark.parametrize(
        ("one", "other"),
        [
            ("ⵜⴰⵎⵖⵔⴰ", "tamɣra"),  # Tifinagh and its IRCAM Latin
            ("tamɣra", "tamghra"),  # IRCAM ɣ and the casual gh
            ("tamettant", "tamttant"),  # Kabyle-style schwa
            ("cchikaya", "chikaya"),  # gemination, IRCAM c and casual ch
            ("3a9d", "aqd"),  # Arabizi digits inside a word
            ("l7ayat", "lhayat"),
            ("أَحْمَد", "احمد"),  # harakat and hamza-alef
            ("شهادة", "شهاده"),  # ta marbuta
            ("ڭريز", "كريز"),  # Moroccan g
            ("État CIVIL", "etat civil"),  # accents and case
        ],
    )
    def test_variants_share_one_key(self, one: str, other: str) -> None:
        """Spelling variants writers use interchangeably fold to the same key."""
        assert fold(one) == fold(other)

    def test_numbers_are_not_arabizi(self) -> None:
        """Digits standing alone stay digits; punctuation, emoji and the schwa e are dropped."""
        assert fold("bulletin n° 3 🙂 2026!") == "bultin n 3 2026"

    def test_empty_and_symbol_only_text_fold_to_nothing(self) -> None:
        """Nothing searchable remains of punctuation and emoji."""
        assert fold("🙂 ?! …") == ""


class TestScripts:
    @pytest.mark.parametrize(
        ("text", "script"),
        [
            ("ⵔⵉⵖ ⴰⴱⴰⵙⴱⵓⵔ", "tifinagh"),
            ("بغيت الباسبور passport", "arabic"),
            ("bghit passport بغيت", "latin"),
            ("🙂 123", "latin"),
        ],
    )
    def test_dominant_script(self, text: str, script: str) -> None:
        """The script with most letters wins; no letters counts as Latin."""
        assert dominant_script(text) == script

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("bghit nkhrej l passport", True),
            ("3a9d zwaj", True),
            ("je veux un passeport", False),
            ("riɣ abasbur amaynu", False),
            ("bulletin n 3", False),
        ],
    )
    def test_looks_arabizi(self, text: str, expected: bool) -> None:
        """Digits inside words or Darija function words mark Arabizi."""
        assert looks_arabizi(text) is expected


class TestNormalisers:
    def test_tifinagh_is_rewritten_to_latin(self) -> None:
        """Tifinagh queries get their IRCAM Latin form; others are left alone."""
        assert tifinagh_normaliser("ⴰⴱⴰⵙⴱⵓⵔ") == "abasbur"
        assert tifinagh_normaliser("passeport") is None

    def test_arabizi_is_rewritten_only_when_it_looks_like_arabizi(self) -> None:
        """French and Arabic-script queries are not sent to the Arabizi model."""
        assert arabizi_normaliser("je veux un passeport") is None
        assert arabizi_normaliser("بغيت الباسبور") is None

    def test_a_failing_arabizi_model_means_no_rewrite(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A missing or broken transliteration model degrades to no rewrite, not an error."""

        def broken(text: str) -> str:
            raise RuntimeError("model files missing")

        monkeypatch.setattr(normalise, "arabizi_to_arabic", broken)
        assert arabizi_normaliser("bghit nkhrej l passport") is None

    def test_a_rewrite_without_arabic_letters_is_dropped(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A model that returns Latin text gives nothing new to search with."""
        monkeypatch.setattr(normalise, "arabizi_to_arabic", lambda text: text)
        assert arabizi_normaliser("bghit nkhrej l passport") is None
