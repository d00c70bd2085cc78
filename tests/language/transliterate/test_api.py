"""The public API: the pair dispatcher and its refusal of unsupported pairs."""

from __future__ import annotations

import pytest

import jisr.language.transliterate as transliterate_package
from jisr.language.transliterate import SUPPORTED_PAIRS, UnsupportedPair, transliterate


@pytest.mark.parametrize(
    ("text", "source", "target", "expected"),
    [
        ("ⴰⵣⵓⵍ", "zgh_Tfng", "ber_Latn", "azul"),
        ("azul", "ber_Latn", "zgh_Tfng", "ⴰⵣⵓⵍ"),
        ("ⴰⵣⵓⵍ", "zgh_Tfng", "arb_Arab", "أزول"),
        ("salam", "ary_Latn", "ary_Arab", "سلام"),
    ],
)
def test_each_supported_pair_is_served(text: str, source: str, target: str, expected: str) -> None:
    """The four documented pairs dispatch to their transliterators."""
    assert transliterate(text, source, target) == expected


def test_ascii_input_applies_to_latin_to_tifinagh() -> None:
    """``ascii_input`` reads keyboard spellings on the ber_Latn→zgh_Tfng pair."""
    assert transliterate("amazigh", "ber_Latn", "zgh_Tfng", ascii_input=True) == "ⴰⵎⴰⵣⵉⵖ"


@pytest.mark.parametrize(
    ("source", "target"), [("ber_Latn", "arb_Arab"), ("ary_Arab", "ary_Latn"), ("x", "y")]
)
def test_unsupported_pair_is_refused_with_its_code(source: str, target: str) -> None:
    """Any other pair raises UnsupportedPair naming the pair and the supported ones."""
    with pytest.raises(UnsupportedPair) as caught:
        transliterate("text", source, target)
    assert caught.value.code == "unsupported_pair"
    assert f"{source}→{target}" in str(caught.value)
    assert "zgh_Tfng→ber_Latn" in str(caught.value)


def test_public_api_is_curated() -> None:
    """The package exports exactly the documented names, and four pairs."""
    assert set(transliterate_package.__all__) == {
        "SUPPORTED_PAIRS",
        "ModelMissing",
        "TransliterationError",
        "UnsupportedPair",
        "arabizi_to_arabic",
        "latin_to_tifinagh",
        "tifinagh_to_arabic",
        "tifinagh_to_latin",
        "transliterate",
    }
    assert len(SUPPORTED_PAIRS) == 4
