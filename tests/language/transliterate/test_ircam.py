# ruff: noqa: RUF001, RUF002 - Tifinagh and IRCAM Latin letters are the data under test
"""Tifinagh ⇄ Latin following IRCAM: the table, labialised letters, ASCII input, round trip."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jisr.language.transliterate import latin_to_tifinagh, tifinagh_to_latin
from jisr.language.transliterate.ircam import IRCAM_LETTERS, LABIALISATION_MARK

IRCAM_TABLE = (
    "ⴰa ⴱb ⴳg ⴷd ⴹḍ ⴻe ⴼf ⴽk ⵀh ⵃḥ ⵄɛ ⵅx ⵇq ⵉi ⵊj ⵍl ⵎm ⵏn ⵓu ⵔr ⵕṛ ⵖɣ ⵙs ⵚṣ ⵛc ⵜt ⵟṭ ⵡw ⵢy ⵣz ⵥẓ"
)


@pytest.mark.parametrize(
    ("tifinagh", "latin"), [(pair[0], pair[1:]) for pair in IRCAM_TABLE.split()]
)
def test_each_ircam_letter_maps_both_ways(tifinagh: str, latin: str) -> None:
    """Every single-code-point IRCAM letter has its standard Latin letter, and back."""
    assert tifinagh_to_latin(tifinagh) == latin
    assert latin_to_tifinagh(latin) == tifinagh


def test_the_alphabet_has_33_letters_with_the_two_labialised() -> None:
    """31 letters of one code point plus ⴳⵯ and ⴽⵯ make the IRCAM alphabet of 33."""
    assert len(IRCAM_LETTERS) == 31
    assert len(IRCAM_TABLE.split()) == 31


@pytest.mark.parametrize(("tifinagh", "latin"), [("ⴳⵯ", "gʷ"), ("ⴽⵯ", "kʷ")])
def test_labialised_letters_use_the_modifier_both_ways(tifinagh: str, latin: str) -> None:
    """ⴳⵯ and ⴽⵯ are written with U+2D6F and transcribed with ʷ (U+02B7)."""
    assert tifinagh_to_latin(tifinagh) == latin
    assert latin_to_tifinagh(latin) == tifinagh


def test_words_transcribe_to_ircam_latin() -> None:
    """Whole words, with geminates and labialisation, read as IRCAM writes them."""
    assert tifinagh_to_latin("ⵜⴰⵎⴰⵣⵉⵖⵜ ⵉⵎⵇⵇⵓⵔⵏ ⴰⴳⵯⵎⴰⵔ") == "tamaziɣt imqqurn agʷmar"


def test_non_tifinagh_passes_through() -> None:
    """Digits, punctuation, Arabic, emoji and non-IRCAM Tifinagh letters are kept."""
    text = "ⴰⵣⵓⵍ, 2024! سلام 🙂 ⵁⵒ"
    assert tifinagh_to_latin(text) == "azul, 2024! سلام 🙂 ⵁⵒ"


def test_decomposed_latin_is_read_after_nfc() -> None:
    """ḍ typed as d + U+0323 combining dot below is the same letter as precomposed ḍ."""
    decomposed = unicodedata.normalize("NFD", "aḍu")
    assert decomposed != "aḍu"
    assert latin_to_tifinagh(decomposed) == "ⴰⴹⵓ"


def test_latin_capitals_and_greek_lookalikes_are_accepted() -> None:
    """Tifinagh has no case; Greek ε and γ are read as ɛ and ɣ (Kabyle habit)."""
    assert latin_to_tifinagh("Amaziɣ") == "ⴰⵎⴰⵣⵉⵖ"
    assert latin_to_tifinagh("εli γer") == "ⵄⵍⵉ ⵖⴻⵔ"


def test_strict_mode_does_not_read_ascii_spellings() -> None:
    """Without ascii_input, gh is g + h and a capital D is plain d."""
    assert latin_to_tifinagh("ghD3") == "ⴳⵀⴷ3"


@pytest.mark.parametrize(
    ("ascii_text", "tifinagh"),
    [
        ("amazigh", "ⴰⵎⴰⵣⵉⵖ"),
        ("Ghali", "ⵖⴰⵍⵉ"),
        ("3afak", "ⵄⴰⴼⴰⴽ"),
        ("ta7ja", "ⵜⴰⵃⵊⴰ"),
        ("khmis", "ⵅⵎⵉⵙ"),
        ("tachlHit", "ⵜⴰⵛⵍⵃⵉⵜ"),
        ("aDu", "ⴰⴹⵓ"),
        ("aSif TaZ", "ⴰⵚⵉⴼ ⵟⴰⵥ"),
        ("aRgaz", "ⴰⵕⴳⴰⵣ"),
        ("a9bu", "ⴰⵇⴱⵓ"),
        ("g^wma k^wra", "ⴳⵯⵎⴰ ⴽⵯⵔⴰ"),
        ("ɣ and ḍ", "ⵖ ⴰⵏⴷ ⴹ"),
    ],
)
def test_ascii_input_mode(ascii_text: str, tifinagh: str) -> None:
    """Keyboard spellings (gh, kh, ch, 3, 7, 9, capitals for emphatics, ^w) are read."""
    assert latin_to_tifinagh(ascii_text, ascii_input=True) == tifinagh


def test_ascii_mode_keeps_numbers() -> None:
    """3, 7 and 9 inside a number stay digits in ASCII mode."""
    assert latin_to_tifinagh("1993 7 39", ascii_input=True) == "1993 7 39"


_ROUND_TRIP_ALPHABET = "".join(IRCAM_LETTERS) + LABIALISATION_MARK + " .,;:!?-()«»0123456789\n"


@given(st.text(alphabet=_ROUND_TRIP_ALPHABET))
def test_round_trip_is_exact_on_ircam_text(text: str) -> None:
    """Tifinagh → Latin → Tifinagh gives back any IRCAM text exactly."""
    assert latin_to_tifinagh(tifinagh_to_latin(text)) == text


@given(st.text(alphabet=st.sampled_from(sorted(IRCAM_LETTERS))))
def test_latin_is_reversed_exactly(text: str) -> None:
    """Latin produced from Tifinagh letters only ever holds IRCAM Latin letters."""
    latin = tifinagh_to_latin(text)
    assert set(latin) <= set(IRCAM_LETTERS.values())
