"""Tifinagh → Arabic script: consonant table, vowel policy, gemination, pass-through."""

from __future__ import annotations

import pytest

from jisr.language.transliterate import tifinagh_to_arabic


@pytest.mark.parametrize(
    ("tifinagh", "arabic"),
    [
        ("ⴰⵎⴰⵣⵉⵖ", "أمازيغ"),
        ("ⵜⴰⵎⴰⵣⵉⵖⵜ", "تامازيغت"),
        ("ⴰⴳⴰⴷⵉⵔ", "أݣادير"),
        ("ⵉⵎⵉⵔ", "إيمير"),
        ("ⵓⵎⴰ", "أوما"),
        ("ⴰⵥⵕⵓ", "أژرو"),
        ("ⴰⴹⵚⴰ", "أضصا"),
        ("ⵜⵉⴽⵜⴰⴱ ⴻⵏ", "تيكتاب ن"),
        ("ⴳⵯⵎⴰ ⴽⵯⵍ", "ݣوما كول"),
    ],
)
def test_documented_mapping(tifinagh: str, arabic: str) -> None:
    """Consonants, word-initial vowels with a hamza seat, schwa dropped, labialised letters."""
    assert tifinagh_to_arabic(tifinagh) == arabic


def test_geminate_is_written_with_shadda() -> None:
    """A doubled consonant is written once with a shadda."""
    assert tifinagh_to_arabic("ⵉⵎⵇⵇⵓⵔⵏ") == "إيمقّورن"


def test_other_characters_pass_through() -> None:
    """Punctuation, digits and Latin text are kept as they are."""
    assert tifinagh_to_arabic("ⴰⵣⵓⵍ, 2024 ok") == "أزول, 2024 ok"
