"""Sample persons for Morocco and Qatar."""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from importlib import resources

import pytest

from jisr.identity.register.samples import AS_OF, SamplePerson, generate

# docs/identity.md "Scripts".
ARABIC = re.compile(
    "^[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff \u200c-]+$"
)
LATIN = re.compile("^[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f '-]+$")
HAS_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
HAS_LATIN_LETTER = re.compile("[A-Za-z]")


@pytest.fixture(scope="module", params=["MA", "QA"])
def persons(request: pytest.FixtureRequest) -> list[SamplePerson]:
    return list(generate(request.param, 10_000, seed=7))


def _given_names(country: str) -> dict[str, str]:
    path = resources.files("jisr.identity.register") / "data" / f"names_{country}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {g["latn"]: g["sex"] for g in data["given"]}


class TestGenerate:
    def test_count(self) -> None:
        """Exactly n persons, also across the internal block boundary."""
        assert len(list(generate("MA", 5000))) == 5000
        assert list(generate("QA", 0)) == []

    def test_same_seed_same_persons(self) -> None:
        """A seed always gives the same persons."""
        assert list(generate("MA", 300, seed=42)) == list(generate("MA", 300, seed=42))

    def test_other_seed_other_persons(self) -> None:
        """Different seeds give different persons."""
        assert list(generate("QA", 300, seed=1)) != list(generate("QA", 300, seed=2))

    def test_shorter_run_is_a_prefix(self) -> None:
        """generate(c, 10) starts with generate(c, 5)."""
        assert list(generate("MA", 10, seed=3))[:5] == list(generate("MA", 5, seed=3))

    def test_unknown_country_is_refused(self) -> None:
        """Only MA and QA have sample data."""
        with pytest.raises(ValueError, match="country"):
            next(generate("FR", 1))

    def test_negative_n_is_refused(self) -> None:
        """n < 0 is an error."""
        with pytest.raises(ValueError, match="negative"):
            next(generate("MA", -1))


class TestScripts:
    def test_arabic_fields_are_arabic_script(self, persons: list[SamplePerson]) -> None:
        """Every Arabic name and place passes the register's Arabic-script rule."""
        for p in persons:
            for text in (p.given_name_arab, p.family_name_arab, p.place_of_birth_arab):
                assert ARABIC.match(text) and HAS_ARABIC_LETTER.search(text), text

    def test_latin_fields_are_latin_script(self, persons: list[SamplePerson]) -> None:
        """Every Latin name and place passes the register's Latin-script rule."""
        for p in persons:
            for text in (p.given_name_latn, p.family_name_latn, p.place_of_birth_latn):
                assert LATIN.match(text) and HAS_LATIN_LETTER.search(text), text


class TestPlausibility:
    def test_sex_matches_the_given_name(self, persons: list[SamplePerson]) -> None:
        """A person's sex is the sex the name list gives their given name."""
        sexes = _given_names(persons[0].nationality)
        for p in persons:
            assert sexes[p.given_name_latn] == p.sex

    def test_both_sexes_roughly_even(self, persons: list[SamplePerson]) -> None:
        """Women and men each make up 45-55 % of the sample."""
        share = Counter(p.sex for p in persons)["F"] / len(persons)
        assert 0.45 < share < 0.55

    def test_ages_zero_to_ninety_five(self, persons: list[SamplePerson]) -> None:
        """Dates of birth lie within 0-95 years before AS_OF, with more young than old."""
        oldest = AS_OF.replace(year=AS_OF.year - 96)
        assert all(oldest < p.date_of_birth <= AS_OF for p in persons)
        ages = [(AS_OF - p.date_of_birth).days / 365.2425 for p in persons]
        assert sum(a < 40 for a in ages) > 3 * sum(a >= 70 for a in ages)
        assert any(a >= 80 for a in ages)

    def test_nationality(self, persons: list[SamplePerson]) -> None:
        """All persons carry the requested nationality."""
        assert {p.nationality for p in persons} in ({"MA"}, {"QA"})

    def test_names_vary(self, persons: list[SamplePerson]) -> None:
        """10,000 persons use well over a hundred given and family names each."""
        assert len({p.given_name_latn for p in persons}) > 100
        assert len({p.family_name_latn for p in persons}) > 100

    def test_dates_are_dates(self, persons: list[SamplePerson]) -> None:
        """date_of_birth is a datetime.date (not a datetime)."""
        assert all(type(p.date_of_birth) is datetime.date for p in persons)


class TestCountryStyle:
    def test_morocco_spells_the_french_way(self) -> None:
        """Moroccan lists spell محمد Mohamed and يوسف Youssef."""
        names = _given_names("MA")
        assert {"Mohamed", "Youssef", "Hicham"} <= names.keys()
        assert not {"Mohammed", "Yousef", "Hisham"} & names.keys()

    def test_qatar_spells_the_english_way(self) -> None:
        """Qatari lists spell يوسف Yousef, هشام Hisham, not the French way."""
        names = _given_names("QA")
        assert {"Yousef", "Hisham", "Khalid"} <= names.keys()
        assert not {"Youssef", "Hicham", "Mohamed"} & names.keys()

    def test_moroccan_family_names_carry_particles_from_the_data(self) -> None:
        """Some Moroccan family names come with El / ال (or آل), as attested in the source."""
        persons = list(generate("MA", 5000, seed=11))
        with_el = [p for p in persons if p.family_name_latn.startswith("El ")]
        assert with_el
        assert all(p.family_name_arab.startswith(("ال", "آل")) for p in with_el)

    def test_qatari_places_are_municipalities(self) -> None:
        """Qatari persons are born in one of the eight municipalities, mostly Doha/Al Rayyan."""
        places = Counter(p.place_of_birth_latn for p in generate("QA", 5000, seed=5))
        assert set(places) <= {
            "Doha",
            "Al Rayyan",
            "Al Wakrah",
            "Al Khor",
            "Umm Salal",
            "Al Daayen",
            "Al Shamal",
            "Al Shahaniya",
        }
        assert places["Doha"] + places["Al Rayyan"] > 2500

    def test_moroccan_places_are_communes(self) -> None:
        """Moroccan persons are born in many different communes."""
        places = {p.place_of_birth_arab for p in generate("MA", 5000, seed=5)}
        assert len(places) > 500
