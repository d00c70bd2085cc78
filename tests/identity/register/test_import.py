"""Bulk import (register/importer.py) on SQLite and PostgreSQL: both modes, the report."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from jisr.identity.register import MoroccoNin, PopulationRegister
from jisr.identity.register.importer import (
    COLUMNS,
    ImportFileError,
    Rejection,
    birth_from_sample,
    csv_record,
    import_rows,
    read_csv,
    read_jsonl,
    read_rows,
    write_births,
    write_report,
)
from jisr.identity.register.models import PersonRow, SequenceRow
from jisr.identity.register.samples import generate
from jisr.storage import Database
from tests.identity.register.conftest import RECORDED, RegisterFactory, birth

AHMED = csv_record(birth(date_of_birth="1990-05-17"))
SALMA = csv_record(
    birth(
        given_name={"arab": "سلمى", "latn": "Salma"},
        family_name={"arab": "بناني", "latn": "Bennani"},
        date_of_birth="1985-11-02",
        place_of_birth="Fès",
        sex="F",
        address="12 rue Talaa Kebira, Fès",
    )
)


def _csv(*records: dict[str, str]) -> io.StringIO:
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS)
    writer.writeheader()
    writer.writerows(records)
    text.seek(0)
    return text


async def _persons(database: Database) -> int:
    async with database.sessions() as session:
        statement = select(func.count()).select_from(PersonRow)
        return int((await session.execute(statement)).scalar_one())


async def _import(register: PopulationRegister, rows: Any, mode: Any) -> Any:
    return await import_rows(register, list(rows), mode, **RECORDED)


UNKNOWN_PARENT = MoroccoNin("BK").format(999_000, date_of_birth=date(1960, 1, 1), nationality="MA")
BAD_DATE = {**AHMED, "given_name_latn": "Youssef", "date_of_birth": "1990-02-30"}
ARABIC_IN_LATIN = {**AHMED, "date_of_birth": "1991-01-01", "family_name_latn": "العمراني"}


class TestPerRow:
    async def test_good_rows_enrolled_as_written_bad_rows_reported(
        self, register: PopulationRegister
    ) -> None:
        """Good rows are enrolled with every column as written; each bad one is reported
        with its line (header = line 1), its CSV column and the rule it broke."""
        rows = read_csv(_csv(AHMED, BAD_DATE, SALMA, ARABIC_IN_LATIN))
        result = await _import(register, rows, "per-row")
        assert [line for line, _ in result.enrolled] == [2, 4]
        assert result.rejected == [
            Rejection(3, "date_of_birth", "date", result.rejected[0].reason),
            Rejection(5, "family_name_latn", "script", "only Latin script is allowed"),
        ]
        salma = await register.read(result.enrolled[1][1], requester="t", purpose="t")
        assert (salma.given_name.arab, salma.given_name.latn) == ("سلمى", "Salma")
        assert (salma.family_name.latn, salma.place_of_birth, salma.sex) == ("Bennani", "Fès", "F")
        assert str(salma.date_of_birth) == "1985-11-02"
        assert salma.address == "12 rue Talaa Kebira, Fès"
        ahmed = await register.read(result.enrolled[0][1], requester="t", purpose="t")
        assert ahmed.given_name.tfng == "ⴰⵃⵎⴷ"
        assert (ahmed.family_name.tfng, ahmed.address, ahmed.parents) == (None, None, ())

    async def test_duplicate_within_the_file_is_refused_by_the_register(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """Per row, the second copy of a person meets the first one in the register."""
        result = await _import(register, read_csv(_csv(AHMED, SALMA, AHMED)), "per-row")
        assert len(result.enrolled) == 2
        (rejection,) = result.rejected
        assert (rejection.row, rejection.field, rejection.rule) == (4, "person", "duplicate_person")
        assert result.enrolled[0][1] in rejection.reason
        assert await _persons(database) == 2

    async def test_unknown_parent_is_named_by_its_column(
        self, register: PopulationRegister
    ) -> None:
        """A parent number that is well formed but unregistered is rejected as ``parent1``."""
        rows = read_csv(_csv({**AHMED, "parent1": UNKNOWN_PARENT}))
        result = await _import(register, rows, "per-row")
        assert [(r.row, r.field, r.rule) for r in result.rejected] == [
            (2, "parent1", "unknown_person")
        ]


class TestAllOrNothing:
    async def test_one_bad_row_writes_nothing(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """Every bad row is reported, and not even the good rows are enrolled."""
        rows = read_csv(_csv(AHMED, BAD_DATE, SALMA, ARABIC_IN_LATIN))
        result = await _import(register, rows, "all-or-nothing")
        assert result.enrolled == []
        assert [(r.row, r.field, r.rule) for r in result.rejected] == [
            (3, "date_of_birth", "date"),
            (5, "family_name_latn", "script"),
        ]
        assert await _persons(database) == 0

    async def test_all_good_rows_are_enrolled_in_order(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """With no bad row, every row is enrolled and numbers follow the file's order."""
        result = await _import(register, read_csv(_csv(AHMED, SALMA)), "all-or-nothing")
        assert [line for line, _ in result.enrolled] == [2, 3]
        assert [nin for _, nin in result.enrolled] == sorted(nin for _, nin in result.enrolled)
        assert result.rejected == []
        assert await _persons(database) == 2

    async def test_duplicates_within_the_file_are_caught_before_writing(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """A person twice in one file is found in the check pass: the later row names the
        earlier one, and nothing is written."""
        spelled = {**AHMED, "family_name_latn": "El-Amrani", "family_name_arab": "العمراني"}
        result = await _import(register, read_csv(_csv(AHMED, SALMA, spelled)), "all-or-nothing")
        assert [(r.row, r.field, r.rule, r.reason) for r in result.rejected] == [
            (4, "person", "duplicate_person", "possible duplicate of row 2")
        ]
        assert await _persons(database) == 0

    async def test_duplicate_of_a_registered_person_is_caught(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """A row matching someone already in the register is rejected with their number."""
        nin = (await register.enrol(birth(), **RECORDED)).nin
        result = await _import(register, read_csv(_csv(SALMA, AHMED)), "all-or-nothing")
        assert [(r.row, r.rule, r.reason) for r in result.rejected] == [
            (3, "duplicate_person", f"possible duplicate of {nin}")
        ]
        assert await _persons(database) == 1

    async def test_flag_policy_enrols_duplicates_flagged(
        self, make_register: RegisterFactory
    ) -> None:
        """Under ``flag`` a duplicate is no error: both rows are enrolled, the second flagged."""
        register = make_register(duplicates="flag")
        result = await _import(register, read_csv(_csv(AHMED, AHMED)), "all-or-nothing")
        assert result.rejected == []
        second = await register.read(result.enrolled[1][1], requester="t", purpose="t")
        assert second.possible_duplicate

    async def test_failure_while_enrolling_writes_nothing(
        self, register: PopulationRegister, database: Database
    ) -> None:
        """What the check pass cannot foresee (here: the office's last serial) refuses that
        row, and the one transaction of the import writes nothing, not even earlier rows."""
        async with database.transaction() as session:
            await session.execute(insert(SequenceRow).values(scope="MA:BK", next_value=999_998))
        third = {**AHMED, "date_of_birth": "1970-03-03"}
        result = await _import(register, read_csv(_csv(AHMED, SALMA, third)), "all-or-nothing")
        assert result.enrolled == []
        assert [(r.row, r.field, r.rule) for r in result.rejected] == [
            (3, "nationality", "nin_profile")
        ]
        assert await _persons(database) == 0


class TestReading:
    def test_jsonl_keeps_register_field_paths_and_reports_unreadable_lines(self) -> None:
        """A line that is no JSON object is a rejected row; blank lines are skipped."""
        lines = [json.dumps({"a": 1}), "", "{not json", "[1]"]
        rows = list(read_jsonl(lines))
        assert [row.line for row in rows] == [1, 3, 4]
        assert [row.problems[0].rule for row in rows[1:]] == ["json", "json"]

    async def test_jsonl_rejections_name_register_fields(
        self, register: PopulationRegister
    ) -> None:
        """JSON Lines rows are reported with the register's own field paths."""
        bad = birth(given_name={"arab": "Ahmed", "latn": "Ahmed"}, date_of_birth="1990-01-01")
        lines = [json.dumps(bad, default=str), json.dumps(birth(sex="X"), default=str)]
        result = await _import(register, read_jsonl(lines), "per-row")
        assert [(r.row, r.field, r.rule) for r in result.rejected] == [
            (1, "given_name.arab", "script"),
            (2, "sex", "choice"),
        ]

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            ("given_name_arab,given_name_latn\n", "missing column(s)"),
            (",".join((*COLUMNS, "nickname")) + "\n", "unknown column(s) nickname"),
        ],
    )
    def test_bad_header_refuses_the_whole_file(self, header: str, message: str) -> None:
        """A CSV without the required columns, or with unknown ones, is not read at all."""
        with pytest.raises(ImportFileError, match=re.escape(message)):
            list(read_csv(io.StringIO(header)))

    def test_a_row_with_missing_cells_is_rejected(self) -> None:
        """A record whose cell count differs from the header's is a rejected row."""
        (row,) = read_csv(io.StringIO(",".join(COLUMNS) + "\nonly,three,cells\n"))
        assert (row.line, row.problems[0].field, row.problems[0].rule) == (2, "row", "columns")

    def test_other_file_types_are_refused(self, tmp_path: Path) -> None:
        (tmp_path / "x.xlsx").write_bytes(b"")
        with pytest.raises(ImportFileError, match=r"\.csv or \.jsonl"):
            list(read_rows(tmp_path / "x.xlsx"))

    def test_report_has_row_field_rule_reason(self, tmp_path: Path) -> None:
        write_report(tmp_path / "r.csv", [Rejection(3, "date_of_birth", "date", "bad, date")])
        assert (tmp_path / "r.csv").read_text().splitlines() == [
            "row,field,rule,reason",
            '3,date_of_birth,date,"bad, date"',
        ]


class TestRoundTrip:
    @pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
    async def test_generated_samples_import_unchanged(
        self, register: PopulationRegister, tmp_path: Path, suffix: str
    ) -> None:
        """Samples written by ``write_births`` import in full and read back as generated."""
        samples = list(generate("MA", 40, seed=7))
        path = tmp_path / f"samples{suffix}"
        assert write_births(path, (birth_from_sample(p) for p in samples)) == 40
        result = await _import(register, read_rows(path), "all-or-nothing")
        assert result.rejected == []
        assert len(result.enrolled) == 40
        for sample, (_, nin) in zip(samples, result.enrolled, strict=True):
            person = await register.read(nin, requester="t", purpose="t")
            assert person.given_name.arab == sample.given_name_arab
            assert person.family_name.latn == sample.family_name_latn
            assert person.date_of_birth == sample.date_of_birth
            assert person.place_of_birth == sample.place_of_birth_latn

    async def test_progress_reports_every_row_in_both_phases(
        self, register: PopulationRegister
    ) -> None:
        """all-or-nothing reports each row while checking, then the rows its one transaction
        enrolled."""
        seen: list[tuple[str, int]] = []
        await import_rows(
            register,
            list(read_csv(_csv(AHMED, SALMA))),
            "all-or-nothing",
            lambda phase, done: seen.append((phase, done)),
            **RECORDED,
        )
        assert seen == [("checking", 1)] * 2 + [("enrolling", 2)]
