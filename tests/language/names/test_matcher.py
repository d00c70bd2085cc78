"""CrossScriptNameMatcher as the register's NameMatcher, alone and in a PopulationRegister."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from jisr.crypto.keys import generate_private_key
from jisr.identity.register import (
    MoroccoNin,
    NameMatcher,
    PersonNames,
    PopulationRegister,
    migrate,
)
from jisr.identity.register.names import ScriptedName
from jisr.language.names import CrossScriptNameMatcher
from jisr.storage import Database

RECORDED = {"recorded_by": "registrar-12", "legal_basis": "Loi 36-21, art. 15"}


def names(given: tuple[str, str], family: tuple[str, str]) -> PersonNames:
    """PersonNames from (arab, latn) pairs; an empty string is a script the record lacks."""
    return PersonNames(
        ScriptedName(arab=given[0], latn=given[1]), ScriptedName(arab=family[0], latn=family[1])
    )


class TestProtocol:
    matcher: NameMatcher = CrossScriptNameMatcher()

    def test_arabic_only_record_matches_latin_only_record(self) -> None:
        """An Arabic-only record and a Latin-only record of one person are the same names."""
        arabic = names(("يوسف", ""), ("الإدريسي", ""))
        latin = names(("", "Youssef"), ("", "El Idrissi"))
        assert self.matcher.same_person_names(arabic, latin)
        assert self.matcher.same_person_names(latin, arabic)

    def test_other_person_does_not_match(self) -> None:
        """محمود is not Mohamed, even with the same family name."""
        arabic = names(("محمود", ""), ("العلوي", ""))
        latin = names(("", "Mohamed"), ("", "Alaoui"))
        assert not self.matcher.same_person_names(arabic, latin)

    def test_swapped_fields_and_other_transcription_match(self) -> None:
        """Given and family entered in each other's fields, English vs French spelling."""
        first = names(("محمد", "Mohamed"), ("العلوي", "Alaoui"))
        second = names(("العلوي", "Al-Alawi"), ("محمد", "Muhammad"))
        assert self.matcher.same_person_names(first, second)
        assert self.matcher.same_person_names(
            names(("", "Mohamed"), ("", "Alaoui")), names(("", "Al-Alawi"), ("", "Muhammad"))
        )

    def test_common_script_decides(self) -> None:
        """With Arabic on both sides, محمود vs محمد decides, whatever the Latin says."""
        first = names(("محمد", "Mohamed"), ("العلوي", "Alaoui"))
        second = names(("محمود", "Mahmoud"), ("العلوي", "Alaoui"))
        assert not self.matcher.same_person_names(first, second)

    def test_threshold_is_inside_and_adjustable(self) -> None:
        """A stricter matcher refuses what the default accepts; no names score 0."""
        first, second = names(("", "Karim"), ("", "Bennani")), names(("", "Kareem"), ("", "Benani"))
        assert CrossScriptNameMatcher().same_person_names(first, second)
        assert not CrossScriptNameMatcher(threshold=1.0).same_person_names(first, second)
        assert CrossScriptNameMatcher().best_score(names(("", ""), ("", "")), first) == 0.0


def birth(given: dict[str, str], family: dict[str, str]) -> dict[str, Any]:
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": date(1990, 5, 17),
        "place_of_birth": "Rabat",
        "sex": "M",
        "nationality": "MA",
    }


@pytest.fixture
async def database(tmp_path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path / 'register.db'}"
    await asyncio.to_thread(migrate, url)
    db = Database(url)
    yield db
    await db.close()


async def test_plugs_into_the_population_register(database: Database) -> None:
    """PopulationRegister(matcher=...) finds a duplicate the default matcher misses."""
    key = generate_private_key()
    default = PopulationRegister(database, profile=MoroccoNin("BK"), key=key)
    crossing = PopulationRegister(
        database, profile=MoroccoNin("BK"), key=key, matcher=CrossScriptNameMatcher()
    )
    first = await default.enrol(
        birth({"arab": "محمد", "latn": "Mohamed"}, {"arab": "العلوي", "latn": "Alaoui"}),
        **RECORDED,
    )
    variant = birth({"arab": "محمد", "latn": "Mohammed"}, {"arab": "علوي", "latn": "El Alaoui"})
    other = birth({"arab": "محمود", "latn": "Mahmoud"}, {"arab": "العلوي", "latn": "Alaoui"})
    assert await default.find_duplicates(variant) == []
    assert await crossing.find_duplicates(variant) == [first.nin]
    assert await crossing.find_duplicates(other) == []
