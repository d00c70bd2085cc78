"""Romanising Arabic-script Darija into aligned Arabizi training pairs."""

from __future__ import annotations

import random

import pytest

from jisr.language.transliterate.romanise import romanise_sentence, romanise_word


@pytest.mark.parametrize("seed", range(20))
def test_units_spell_the_latin_and_the_arabic(seed: int) -> None:
    """The units of a sentence concatenate to its Arabizi and to its faithful Arabic."""
    latin, arabic, words = romanise_sentence(
        "واش كتعرف المدرسة ديال الحي؟ 2024", random.Random(seed)
    )
    assert latin.lower().endswith("? 2024")
    assert arabic.endswith("؟ 2024")
    typed = [word for word in latin.replace("?", " ").split() if not word.isdigit()]
    assert ["".join(latin for latin, _ in units).lower() for units in words] == [
        word.lower() for word in typed
    ]
    assert ["".join(letters for _, letters in units) for units in words] == arabic[:-6].split()


@pytest.mark.parametrize("seed", range(20))
def test_every_unit_spells_at_least_one_latin_letter(seed: int) -> None:
    """Silent Arabic letters are folded into a neighbour, so the decoder always advances."""
    for word in ("سماء", "المستشفى", "شوية", "مكاينش", "ء"):
        assert all(latin for latin, _ in romanise_word(word, random.Random(seed)))


def test_digits_for_arabic_letters_occur() -> None:
    """ع, ح and ق are typed with 3, 7 and 9 most of the time."""
    rng = random.Random(0)
    spelt = "".join("".join(latin for latin, _ in romanise_word("عاحق", rng)) for _ in range(50))
    assert spelt.count("3") > 25
    assert spelt.count("7") > 25
    assert spelt.count("9") > 25


def test_same_seed_same_pairs() -> None:
    """Romanisation is reproducible from the seed."""
    first = romanise_sentence("بغيت نمشي للدار", random.Random(7))
    second = romanise_sentence("بغيت نمشي للدار", random.Random(7))
    assert first == second
