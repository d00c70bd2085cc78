# ruff: noqa: RUF001 -- Arabic and Tifinagh letters in names are the data under test
"""Names: script validation per field, normalisation, and the default matcher."""

from __future__ import annotations

import pytest

from jisr.identity.register import (
    DefaultNameMatcher,
    PersonNames,
    ScriptedName,
    normalise_arabic,
    normalise_latin,
    normalise_tifinagh,
)


class TestScripts:
    def test_arabic_in_latin_field_refused(self) -> None:
        """Arabic letters in the Latin field give a field-level script problem."""
        problems = ScriptedName(arab="أحمد", latn="أحمد").problems("given_name")
        assert [(p.field, p.rule) for p in problems] == [("given_name.latn", "script")]

    def test_tifinagh_accepted(self) -> None:
        """A Tifinagh name with a hyphen is valid in the tfng field."""
        assert ScriptedName(arab="أمازيغ", latn="Amazigh", tfng="ⴰⵎⴰⵣⵉⵖ-ⵏ").problems("x") == []

    @pytest.mark.parametrize(
        ("name", "field"),
        [
            (ScriptedName(arab="أحمدAhmed", latn="Ahmed"), "n.arab"),
            (ScriptedName(arab="أحمد", latn="Ahmed ⴰⵃⵎⴷ"), "n.latn"),
            (ScriptedName(arab="أحمد", latn="Ahmed", tfng="ⴰⵃⵎⴷ Ahmed"), "n.tfng"),
        ],
    )
    def test_mixed_scripts_refused(self, name: ScriptedName, field: str) -> None:
        """A name mixing two scripts in one field is refused on that field."""
        assert [(p.field, p.rule) for p in name.problems("n")] == [(field, "script")]

    def test_latin_accents_apostrophes_accepted(self) -> None:
        """French-style names with accents, apostrophes and hyphens are valid Latin."""
        assert ScriptedName(arab="عائشة", latn="Aïcha D'Oultremont-Bénard").problems("n") == []

    def test_empty_and_separator_only_refused(self) -> None:
        """Blank names and names made only of separators are refused."""
        rules = [p.rule for p in ScriptedName(arab="  ", latn="--").problems("n")]
        assert rules == ["required", "script"]

    def test_digits_refused(self) -> None:
        """Digits are not letters of any script."""
        assert ScriptedName(arab="أحمد", latn="Ahmed2").problems("n")[0].rule == "script"


class TestNormalisation:
    def test_arabic(self) -> None:
        """Tatweel and harakat go; hamza alefs, teh marbuta and alef maksura fold."""
        assert normalise_arabic("أَحْمَـــد") == normalise_arabic("احمد") == "احمد"
        assert normalise_arabic("إيمان  فاطمة") == "ايمان فاطمه"
        assert normalise_arabic("مصطفى") == "مصطفي"
        assert normalise_arabic("آمنة") == normalise_arabic("امنه")

    def test_latin(self) -> None:
        """Case, accents, hyphens, spaces and apostrophes do not matter."""
        assert normalise_latin("El-Amrani") == normalise_latin("el amrani") == "elamrani"
        assert normalise_latin("Aïcha D'Oultremont") == "aichadoultremont"

    def test_tifinagh(self) -> None:
        """Hyphens are spaces and runs of spaces collapse."""
        assert normalise_tifinagh(" ⴰⵎⴰⵣⵉⵖ-ⵏ  ⵜⵉ ") == "ⴰⵎⴰⵣⵉⵖ ⵏ ⵜⵉ"


def _names(given: tuple[str, str], family: tuple[str, str]) -> PersonNames:
    return PersonNames(
        ScriptedName(arab=given[0], latn=given[1]), ScriptedName(arab=family[0], latn=family[1])
    )


class TestDefaultMatcher:
    def test_same_after_arabic_normalisation(self) -> None:
        """Names equal in Arabic after normalisation match even if Latin differs."""
        a = _names(("أحمد", "Ahmed"), ("العمراني", "El Amrani"))
        b = _names(("احمـد", "Ahmad"), ("العمراني", "Alamrani"))
        assert DefaultNameMatcher().same_person_names(a, b)

    def test_same_after_latin_normalisation(self) -> None:
        """Names equal in Latin after normalisation match even if Arabic differs."""
        a = _names(("أحمد", "Ahmed"), ("العمراني", "El-Amrani"))
        b = _names(("حمد", "AHMED"), ("عمراني", "el amrani"))
        assert DefaultNameMatcher().same_person_names(a, b)

    def test_different_given_name(self) -> None:
        """A different given name in both scripts is another person."""
        a = _names(("أحمد", "Ahmed"), ("العمراني", "El Amrani"))
        b = _names(("محمد", "Mohamed"), ("العمراني", "El Amrani"))
        assert not DefaultNameMatcher().same_person_names(a, b)
