"""PopulationRegister.bulk_enrol on SQLite and PostgreSQL, and the lookup path (read, get)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from jisr.identity.register import (
    DuplicatePerson,
    InvalidInput,
    MoroccoNin,
    PopulationRegister,
    QatarNin,
    UnknownPerson,
    project,
)
from jisr.identity.register.models import EventRow, PersonRow, ReadRow, SequenceRow
from jisr.identity.register.register import BulkEnrolError
from jisr.storage import Database
from tests.identity.register.conftest import RECORDED, RegisterFactory, birth

pytestmark = pytest.mark.asyncio


def births(n: int) -> list[dict[str, Any]]:
    """``n`` distinct valid births (different days, so no duplicate among them)."""
    return [birth(date_of_birth=date(1960 + i % 50, 1 + i % 12, 1 + i % 28)) for i in range(n)]


async def _count(database: Database, table: Any) -> int:
    async with database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def _enrol_error(register: PopulationRegister, data: dict[str, Any]) -> Exception:
    """What ``enrol`` raises for ``data`` on its own."""
    with pytest.raises((InvalidInput, DuplicatePerson)) as caught:
        await register.enrol(data, **RECORDED)
    return caught.value


class TestBulkEnrol:
    async def test_events_verify_and_chain(self, register: PopulationRegister) -> None:
        """Each person gets one signed birth registration that verifies, and its record."""
        data = births(7)
        nins = await register.bulk_enrol(data, **RECORDED, batch=3)
        assert len(nins) == 7
        for nin, submitted in zip(nins, data, strict=True):
            signed = await register.signed_history(nin)  # signatures, hashes, links checked
            assert [(s.seq, s.event.kind, s.event.prev) for s in signed] == [
                (1, "birth_registration", "")
            ]
            event = signed[0].event
            assert event.recorded_by == RECORDED["recorded_by"]
            assert event.legal_basis == RECORDED["legal_basis"]
            person = await register.get(nin)
            assert project([event]) == person
            assert person.date_of_birth == submitted["date_of_birth"]

    async def test_chain_continues_after_bulk(self, register: PopulationRegister) -> None:
        """A later event links to the bulk-enrolled birth registration."""
        (nin,) = await register.bulk_enrol(births(1), **RECORDED)
        payload = {"address": "12 rue Oukaimeden, Rabat", "effective": date(2020, 1, 1)}
        await register.record(nin, "address_change", payload, **RECORDED)
        history = await register.signed_history(nin)
        assert [s.seq for s in history] == [1, 2]
        assert history[1].event.prev == history[0].sha256

    async def test_numbers_unique_valid_and_sequential(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """Numbers come from the office's counter, in input order, after enrol's."""
        first = await register.enrol(birth(place_of_birth="Fès"), **RECORDED)
        nins = await register.bulk_enrol(births(25), **RECORDED, batch=10)
        assert len(set(nins)) == 25
        assert all(MoroccoNin("BK").validate(nin) for nin in nins)
        serials = [int(MoroccoNin("BK").parse(nin)["serial"]) for nin in [first.nin, *nins]]
        assert serials == list(range(1, 27))
        later = await register.enrol(birth(place_of_birth="Tanger"), **RECORDED)
        assert MoroccoNin("BK").parse(later.nin)["serial"] == "000027"
        assert await _count(database, PersonRow) == 27
        assert await _count(database, EventRow) == 27
        async with database.sessions() as session:
            counter = await session.scalar(select(SequenceRow.next_value))
        assert counter == 27

    async def test_qatar_scopes(self, make_register: RegisterFactory) -> None:
        """Several numbering scopes in one batch each draw their own serials."""
        register = make_register(profile=QatarNin())
        data = [
            birth(date_of_birth=date(1990, 5, 17), nationality="QA"),
            birth(date_of_birth=date(2001, 2, 3), nationality="QA"),
            birth(date_of_birth=date(1990, 6, 1), nationality="QA"),
        ]
        nins = await register.bulk_enrol(data, **RECORDED)
        assert nins == [
            QatarNin().format(1, date_of_birth=date(1990, 5, 17), nationality="QA"),
            QatarNin().format(1, date_of_birth=date(2001, 2, 3), nationality="QA"),
            QatarNin().format(2, date_of_birth=date(1990, 6, 1), nationality="QA"),
        ]

    async def test_empty_input_and_progress(self, register: PopulationRegister) -> None:
        seen: list[int] = []
        assert await register.bulk_enrol([], **RECORDED, progress=seen.append) == []
        assert seen == []
        await register.bulk_enrol(births(5), **RECORDED, batch=2, progress=seen.append)
        assert seen == [2, 4, 5]

    async def test_batch_must_be_positive(self, register: PopulationRegister) -> None:
        with pytest.raises(ValueError, match="batch"):
            await register.bulk_enrol(births(1), **RECORDED, batch=0)


class TestRefusedRows:
    @pytest.mark.parametrize(
        "changes",
        [
            {"given_name": {"arab": "Ahmed", "latn": "Ahmed"}},  # Latin in the Arabic slot
            {"date_of_birth": date(2999, 1, 1)},
            {"sex": "X", "place_of_birth": ""},
            {"parents": ["BK0000000"]},  # bad check digit
            {"parents": [MoroccoNin("BK").format(999, date_of_birth=date.min, nationality="MA")]},
            {"surname": "unknown field"},
        ],
    )
    async def test_same_field_errors_as_enrol(
        self,
        register: PopulationRegister,
        make_register: RegisterFactory,
        database: Database,
        changes: dict[str, Any],
    ) -> None:
        """The refused row carries enrol's own error; its whole batch writes nothing."""
        bad = birth(**changes)
        data = [*births(3), bad, *births(4)[3:]]
        with pytest.raises(BulkEnrolError) as caught:
            await register.bulk_enrol(data, **RECORDED, batch=2)
        error = caught.value
        assert error.index == 3
        assert error.code == "invalid_input"
        assert len(error.enrolled) == 2  # batch [0, 1] committed, batch [2, 3] refused
        assert await _count(database, PersonRow) == 2
        expected = await _enrol_error(make_register(), bad)
        assert isinstance(error.error, InvalidInput) and isinstance(expected, InvalidInput)
        assert error.error.problems == expected.problems

    async def test_earlier_batches_stay_committed(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """Batches before the refused row's are committed; its batch and later ones are not."""
        bad = birth(date_of_birth=date(2999, 1, 1))
        data = [*births(4), bad, *births(6)[4:]]
        with pytest.raises(BulkEnrolError) as caught:
            await register.bulk_enrol(data, **RECORDED, batch=2)
        assert caught.value.index == 4
        enrolled = caught.value.enrolled
        assert len(enrolled) == 4  # batches [0, 1] and [2, 3]; batch [4, 5] refused
        assert await _count(database, PersonRow) == 4
        assert await _count(database, EventRow) == 4
        for nin in enrolled:
            await register.get(nin)
        rest = await register.bulk_enrol(data[5:], **RECORDED)  # resume after the bad row
        assert len(rest) == 2 and not set(rest) & set(enrolled)

    async def test_unknown_parent_and_parent_order(self, register: PopulationRegister) -> None:
        parent = await register.enrol(birth(date_of_birth=date(1960, 1, 1)), **RECORDED)
        young = await register.enrol(birth(date_of_birth=date(2000, 1, 1)), **RECORDED)
        ghost = MoroccoNin("BK").format(999, date_of_birth=date.min, nationality="MA")
        child = birth(date_of_birth=date(1990, 1, 1), place_of_birth="Salé")
        ok = await register.bulk_enrol([{**child, "parents": [parent.nin]}], **RECORDED)
        assert (await register.get(ok[0])).parents == (parent.nin,)
        for parents, rule in (([ghost], "unknown_person"), ([young.nin], "date_order")):
            row = {**child, "parents": parents, "given_name": {"arab": "سعيد", "latn": "Said"}}
            with pytest.raises(BulkEnrolError) as caught:
                await register.bulk_enrol([row], **RECORDED)
            assert caught.value.index == 0
            assert isinstance(caught.value.error, InvalidInput)
            assert caught.value.error.fields == {"parents[0]": rule}
            expected = await _enrol_error(register, row)
            assert isinstance(expected, InvalidInput)
            assert caught.value.error.problems == expected.problems

    async def test_profile_refusal_as_enrol(self, make_register: RegisterFactory) -> None:
        """A nationality the number profile cannot encode fails as enrol fails."""
        register = make_register(profile=QatarNin())
        row = birth(nationality="ZZ", place_of_birth="Doha")
        with pytest.raises(BulkEnrolError) as caught:
            await register.bulk_enrol([birth(nationality="QA"), row], **RECORDED)
        assert caught.value.index == 1 and caught.value.enrolled == []
        assert isinstance(caught.value.error, InvalidInput)
        assert caught.value.error.fields == {"nationality": "nin_profile"}
        expected = await _enrol_error(register, row)
        assert isinstance(expected, InvalidInput)
        assert caught.value.error.problems == expected.problems


class TestDuplicates:
    async def test_refuses_registered_duplicate(
        self, register: PopulationRegister, database: Database
    ) -> None:
        first = await register.enrol(birth(), **RECORDED)
        with pytest.raises(BulkEnrolError) as caught:
            await register.bulk_enrol([*births(2)[1:], birth()], **RECORDED)
        error = caught.value
        assert error.index == 1 and error.code == "duplicate_person"
        assert isinstance(error.error, DuplicatePerson)
        assert error.error.candidates == [first.nin]
        assert await _count(database, PersonRow) == 1

    async def test_refuses_duplicate_within_the_batch(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """The same person twice in one call: the second is refused, naming the first row."""
        respelled = birth(given_name={"arab": "أحمد", "latn": "AHMED"})  # same after normalising
        with pytest.raises(BulkEnrolError) as caught:
            await register.bulk_enrol([birth(), *births(3)[1:], respelled], **RECORDED)
        assert caught.value.index == 3
        assert isinstance(caught.value.error, DuplicatePerson)
        assert caught.value.error.candidates == ["births[0]"]
        assert await _count(database, PersonRow) == 0
        assert await _count(database, EventRow) == 0

    async def test_duplicate_of_an_earlier_batch(self, register: PopulationRegister) -> None:
        with pytest.raises(BulkEnrolError) as caught:
            await register.bulk_enrol([birth(), *births(3)[1:], birth()], **RECORDED, batch=2)
        assert caught.value.index == 3
        assert isinstance(caught.value.error, DuplicatePerson)
        assert caught.value.error.candidates == [caught.value.enrolled[0]]

    async def test_flag_policy_enrols_and_flags(self, make_register: RegisterFactory) -> None:
        """Under ``flag`` the result is what sequential enrol calls give."""
        register = make_register(duplicates="flag")
        existing = await register.enrol(birth(), **RECORDED)
        nins = await register.bulk_enrol(
            [birth(), birth(place_of_birth="Fès"), birth()], **RECORDED
        )
        flags = [(await register.get(nin)).possible_duplicate for nin in nins]
        assert flags == [True, False, True]
        first = await register.history(nins[0])
        third = await register.history(nins[2])
        assert first[0].payload["possible_duplicate_of"] == [existing.nin]
        assert third[0].payload["possible_duplicate_of"] == sorted([existing.nin, nins[0]])


class TestLookups:
    async def test_get_does_not_audit(
        self, register: PopulationRegister, database: Database
    ) -> None:
        (nin,) = await register.bulk_enrol(births(1), **RECORDED)
        person = await register.get(nin)
        assert person == await register.read(nin, requester="MA/GOV/CNSS/APP", purpose="check")
        assert await _count(database, ReadRow) == 1  # the read, not the get
        with pytest.raises(UnknownPerson):
            await register.get("BK0000000")

    async def test_read_of_unknown_person_leaves_no_audit_row(
        self, register: PopulationRegister, database: Database
    ) -> None:
        with pytest.raises(UnknownPerson):
            await register.read("BK0000000", requester="MA/GOV/CNSS/APP", purpose="check")
        assert await _count(database, ReadRow) == 0
