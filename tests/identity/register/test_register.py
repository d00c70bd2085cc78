"""PopulationRegister on SQLite and PostgreSQL: enrol, record, read, history, duplicates."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update

from jisr.identity.register import (
    DuplicatePerson,
    HistoryTampered,
    InvalidEvent,
    InvalidInput,
    MoroccoNin,
    PopulationRegister,
    QatarNin,
    UnknownPerson,
    project,
)
from jisr.identity.register.models import EventRow, PersonRow, ReadRow, SequenceRow
from jisr.storage import Database
from tests.identity.register.conftest import RECORDED, RegisterFactory, birth

pytestmark = pytest.mark.asyncio


async def _count(database: Database, table: Any) -> int:
    async with database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def _counts(database: Database) -> tuple[int, int, int]:
    return (
        await _count(database, PersonRow),
        await _count(database, EventRow),
        await _count(database, SequenceRow),
    )


class TestEnrol:
    async def test_enrol_read_history_round_trip(self, register: PopulationRegister) -> None:
        """An enrolled person reads back as enrolled; history holds one verified event."""
        person = await register.enrol(birth(), **RECORDED)
        assert MoroccoNin("BK").validate(person.nin)
        read = await register.read(person.nin, requester="MA/GOV/CNSS/APP", purpose="benefits")
        assert read == person
        assert read.given_name.tfng == "ⴰⵃⵎⴷ"
        assert read.status == "living"
        history = await register.history(person.nin)
        assert [e.kind for e in history] == ["birth_registration"]
        assert history[0].prev == "" and history[0].recorded_by == "registrar-12"
        assert project(history) == person

    async def test_numbers_are_sequential(self, register: PopulationRegister) -> None:
        """Numbers are drawn from the office's counter and never reused."""
        first = await register.enrol(birth(), **RECORDED)
        second = await register.enrol(birth(place_of_birth="Fès"), **RECORDED)
        assert (first.nin[2:8], second.nin[2:8]) == ("000001", "000002")

    async def test_hijri_date_of_birth(self, register: PopulationRegister) -> None:
        """The record renders the date of birth in the Umm al-Qura calendar."""
        person = await register.enrol(birth(date_of_birth=date(2000, 1, 1)), **RECORDED)
        hijri = person.date_of_birth_hijri
        assert hijri is not None and (hijri.year, hijri.month, hijri.day) == (1420, 9, 24)

    async def test_qatar_profile(self, make_register: RegisterFactory) -> None:
        """Under the QA profile the number encodes birth year and nationality."""
        register = make_register(profile=QatarNin())
        person = await register.enrol(birth(nationality="QA"), **RECORDED)
        assert person.nin.startswith("2906340001") and QatarNin().validate(person.nin)


class TestValidation:
    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"date_of_birth": date(2027, 1, 1)}, "date_of_birth", "range"),
            ({"date_of_birth": date(1800, 1, 1)}, "date_of_birth", "range"),
            ({"date_of_birth": "2020-02-30"}, "date_of_birth", "date"),
            ({"given_name": {"arab": "أحمد", "latn": "أحمد"}}, "given_name.latn", "script"),
            ({"sex": "X"}, "sex", "choice"),
            ({"parents": ["BK0000000"]}, "parents[0]", "format"),
            ({"nickname": "Hmida"}, "nickname", "unknown_field"),
        ],
    )
    async def test_invalid_birth_writes_nothing(
        self,
        register: PopulationRegister,
        database: Database,
        changes: dict[str, Any],
        field: str,
        rule: str,
    ) -> None:
        """Bad input names its field and rule, and no row is written anywhere."""
        with pytest.raises(InvalidInput) as caught:
            await register.enrol(birth(**changes), **RECORDED)
        assert caught.value.fields[field] == rule
        assert await _counts(database) == (0, 0, 0)

    async def test_unknown_parent_refused(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """A well-formed parent number that is not registered is refused."""
        unknown = MoroccoNin("BK").format(42, date_of_birth=date(1960, 1, 1), nationality="MA")
        with pytest.raises(InvalidInput) as caught:
            await register.enrol(birth(parents=[unknown]), **RECORDED)
        assert caught.value.fields == {"parents[0]": "unknown_person"}
        assert await _count(database, PersonRow) == 0

    async def test_parent_born_after_child_refused(self, register: PopulationRegister) -> None:
        """A parent must be born before the child."""
        parent = await register.enrol(birth(date_of_birth=date(1995, 1, 1)), **RECORDED)
        with pytest.raises(InvalidInput) as caught:
            await register.enrol(birth(place_of_birth="Salé", parents=[parent.nin]), **RECORDED)
        assert caught.value.fields == {"parents[0]": "date_order"}

    async def test_known_parents_accepted(self, register: PopulationRegister) -> None:
        """Registered parents born earlier are recorded on the child."""
        mother = await register.enrol(
            birth(
                given_name={"arab": "فاطمة", "latn": "Fatima"},
                sex="F",
                date_of_birth=date(1965, 3, 3),
            ),
            **RECORDED,
        )
        child = await register.enrol(birth(parents=[mother.nin]), **RECORDED)
        assert child.parents == (mother.nin,)


class TestDuplicates:
    VARIANT = birth(
        given_name={"arab": "احمـــد", "latn": "AHMED"},
        family_name={"arab": "العُمراني", "latn": "el-amrani"},
        place_of_birth="  rabat ",
    )

    async def test_duplicate_refused(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """Same date and place, names differing only in hamza, tatweel, harakat and case."""
        first = await register.enrol(birth(), **RECORDED)
        with pytest.raises(DuplicatePerson) as caught:
            await register.enrol(self.VARIANT, **RECORDED)
        assert caught.value.candidates == [first.nin]
        assert await _count(database, PersonRow) == 1
        assert await register.find_duplicates(self.VARIANT) == [first.nin]

    async def test_accents_do_not_distinguish(self, register: PopulationRegister) -> None:
        """Latin names differing only in accents are the same names."""
        await register.enrol(birth(given_name={"arab": "إيلوا", "latn": "Éloïse"}), **RECORDED)
        candidate = birth(given_name={"arab": "هيلويز", "latn": "Eloise"})
        assert len(await register.find_duplicates(candidate)) == 1

    async def test_flag_mode_enrols_with_flag(
        self, make_register: RegisterFactory, database: Database
    ) -> None:
        """In flag mode the duplicate is enrolled and marked; its birth event names the match."""
        register = make_register(duplicates="flag")
        first = await register.enrol(birth(), **RECORDED)
        second = await register.enrol(self.VARIANT, **RECORDED)
        assert second.possible_duplicate and not first.possible_duplicate
        history = await register.history(second.nin)
        assert history[0].payload["possible_duplicate_of"] == [first.nin]
        assert await _count(database, PersonRow) == 2

    async def test_other_place_is_no_duplicate(self, register: PopulationRegister) -> None:
        """The same names born elsewhere are another person."""
        await register.enrol(birth(), **RECORDED)
        assert await register.find_duplicates(birth(place_of_birth="Tanger")) == []

    async def test_concurrent_enrolments(
        self, make_register: RegisterFactory, migrated_url: str
    ) -> None:
        """Two concurrent enrolments of one person over two connections: one wins."""
        databases = [Database(migrated_url), Database(migrated_url)]
        try:
            registers = [make_register(db) for db in databases]
            results = await asyncio.gather(
                *(r.enrol(birth(), **RECORDED) for r in registers), return_exceptions=True
            )
            kinds = sorted(type(result).__name__ for result in results)
            assert kinds == ["DuplicatePerson", "Person"]
            assert await _count(databases[0], PersonRow) == 1
        finally:
            for db in databases:
                await db.close()


class TestEvents:
    async def test_name_change_updates_projection_keeps_history(
        self, register: PopulationRegister
    ) -> None:
        """A name change updates the record; the birth names stay in the history."""
        person = await register.enrol(birth(), **RECORDED)
        new_name = {"arab": "الفاسي", "latn": "El Fassi"}
        changed = await register.record(
            person.nin,
            "name_change",
            {"family_name": new_name, "effective": date(2020, 1, 1)},
            **RECORDED,
        )
        assert changed.family_name.latn == "El Fassi"
        assert changed.given_name == person.given_name
        history = await register.history(person.nin)
        assert [e.kind for e in history] == ["birth_registration", "name_change"]
        assert history[0].payload["family_name"]["latn"] == "El Amrani"
        read = await register.read(person.nin, requester="r", purpose="p")
        assert read == changed == project(history)

    async def test_name_change_script_checked(self, register: PopulationRegister) -> None:
        """A new name in the wrong script is refused with a payload field problem."""
        person = await register.enrol(birth(), **RECORDED)
        with pytest.raises(InvalidInput) as caught:
            await register.record(
                person.nin,
                "name_change",
                {"given_name": {"arab": "Ahmed", "latn": "Ahmed"}, "effective": date(2020, 1, 1)},
                **RECORDED,
            )
        assert caught.value.fields == {"payload.given_name.arab": "script"}

    async def test_address_change(self, register: PopulationRegister) -> None:
        """An address change sets the current address."""
        person = await register.enrol(birth(), **RECORDED)
        payload = {"address": "12 avenue Hassan II, Rabat", "effective": date(2024, 6, 1)}
        changed = await register.record(person.nin, "address_change", payload, **RECORDED)
        assert changed.address == "12 avenue Hassan II, Rabat"

    async def test_marriage_needs_existing_spouse(self, register: PopulationRegister) -> None:
        """Marriage to an unregistered number is refused; to a registered one, recorded."""
        person = await register.enrol(birth(), **RECORDED)
        spouse = await register.enrol(
            birth(given_name={"arab": "سارة", "latn": "Sara"}, sex="F"), **RECORDED
        )
        payload: dict[str, Any] = {
            "spouse": "BK9999990",
            "date": date(2019, 7, 1),
            "place": "Rabat",
        }
        with pytest.raises(InvalidInput) as caught:
            await register.record(person.nin, "marriage", payload, **RECORDED)
        assert caught.value.fields == {"payload.spouse": "unknown_person"}
        married = await register.record(
            person.nin, "marriage", payload | {"spouse": spouse.nin}, **RECORDED
        )
        assert married.spouse == spouse.nin

    async def test_death_is_final(self, register: PopulationRegister) -> None:
        """Death sets the status; no event is accepted afterwards."""
        person = await register.enrol(birth(), **RECORDED)
        death = {"date": date(2025, 2, 1), "place": "Rabat"}
        dead = await register.record(person.nin, "death", death, **RECORDED)
        assert dead.status == "deceased"
        with pytest.raises(InvalidEvent, match="deceased"):
            await register.record(
                person.nin,
                "address_change",
                {"address": "x", "effective": date(2025, 3, 1)},
                **RECORDED,
            )

    async def test_event_before_birth_refused(self, register: PopulationRegister) -> None:
        """An event dated before the person's birth is refused and not stored."""
        person = await register.enrol(birth(), **RECORDED)
        with pytest.raises(InvalidInput) as caught:
            await register.record(
                person.nin, "death", {"date": date(1980, 1, 1), "place": "Rabat"}, **RECORDED
            )
        assert caught.value.fields == {"payload.date": "range"}
        assert len(await register.history(person.nin)) == 1

    async def test_unknown_person(self, register: PopulationRegister) -> None:
        """Recording, reading or listing an unregistered number raises UnknownPerson."""
        with pytest.raises(UnknownPerson):
            await register.record(
                "BK0000019", "death", {"date": date(2020, 1, 1), "place": "x"}, **RECORDED
            )
        with pytest.raises(UnknownPerson):
            await register.read("BK0000019", requester="r", purpose="p")
        with pytest.raises(UnknownPerson):
            await register.history("BK0000019")

    async def test_birth_via_record_refused(self, register: PopulationRegister) -> None:
        """A birth registration cannot be recorded as a later event."""
        person = await register.enrol(birth(), **RECORDED)
        with pytest.raises(InvalidEvent, match="enrol"):
            await register.record(person.nin, "birth_registration", birth(), **RECORDED)


class TestIntegrity:
    async def test_tampered_event_detected(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """Changing one byte of a stored event makes history raise HistoryTampered."""
        person = await register.enrol(birth(), **RECORDED)
        await register.record(
            person.nin,
            "address_change",
            {"address": "Rabat", "effective": date(2024, 1, 1)},
            **RECORDED,
        )
        async with database.transaction() as session:
            row = (await session.execute(select(EventRow).where(EventRow.seq == 2))).scalar_one()
            forged = row.canonical.replace(b"Rabat", b"Rabas")
            await session.execute(
                update(EventRow).where(EventRow.id == row.id).values(canonical=forged)
            )
        with pytest.raises(HistoryTampered) as caught:
            await register.history(person.nin)
        assert caught.value.seq == 2

    async def test_every_stored_event_verifies(self, register: PopulationRegister) -> None:
        """Each stored event's JWS verifies and links to its predecessor's hash."""
        person = await register.enrol(birth(), **RECORDED)
        await register.record(
            person.nin,
            "address_change",
            {"address": "Fès", "effective": date(2024, 1, 1)},
            **RECORDED,
        )
        signed = await register.signed_history(person.nin)
        assert [s.seq for s in signed] == [1, 2]
        assert signed[1].event.prev == signed[0].sha256

    async def test_read_is_audited(self, register: PopulationRegister, database: Database) -> None:
        """Every read writes who read, for what purpose and when."""
        person = await register.enrol(birth(), **RECORDED)
        await register.read(person.nin, requester="MA/GOV/DGSN/APP", purpose="passport")
        async with database.sessions() as session:
            rows = (await session.execute(select(ReadRow))).scalars().all()
        assert [(r.nin, r.requester, r.purpose) for r in rows] == [
            (person.nin, "MA/GOV/DGSN/APP", "passport")
        ]
        assert rows[0].at.tzinfo is not None
