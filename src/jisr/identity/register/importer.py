"""Bulk import of birth registrations from CSV or JSON Lines, with a report of rejections.

Input (docs/identity.md, Operations):

* **CSV**, UTF-8 (a BOM is accepted), one header row naming the columns of
  :data:`COLUMNS` in any order; :data:`REQUIRED_COLUMNS` must be present, empty cells of
  optional ones mean "none". Dates are ISO 8601 (``1990-05-17``).
* **JSON Lines**: one :class:`~jisr.identity.register.events.BirthRegistration` object
  per line; blank lines are skipped.

A rejection names the row (the line of the file, so a CSV's first data row is row 2, as in
a spreadsheet), the field (the CSV column, or the register's field path for JSON Lines),
the rule and a reason. Modes:

* ``per-row``: every row is enrolled in its own transaction; good rows are written, bad
  rows reported.
* ``all-or-nothing``: every row is checked first (schemas, scripts, dates, parents, the
  NIN profile, duplicates against the register *and* within the file), so that every
  problem of the file is reported at once; if any row fails nothing is written. The rows
  are then enrolled with :meth:`PopulationRegister.bulk_enrol` in **one transaction**:
  what the check could not foresee (another writer enrolling the same person meanwhile,
  an office running out of serials) refuses that row and the whole import writes nothing.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TextIO

from pydantic import ValidationError

from jisr.identity.register._checks import parse_model
from jisr.identity.register.errors import DuplicatePerson, InvalidInput, Problem, RegisterError
from jisr.identity.register.events import BirthRegistration
from jisr.identity.register.matching import PersonNames
from jisr.identity.register.names import ScriptedName
from jisr.identity.register.person import place_key
from jisr.identity.register.register import BulkEnrolError, PopulationRegister, _parent_problems
from jisr.identity.register.samples import SamplePerson

__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "ImportFileError",
    "ImportResult",
    "Mode",
    "Progress",
    "Rejection",
    "Row",
    "birth_from_csv",
    "birth_from_sample",
    "csv_record",
    "import_rows",
    "read_csv",
    "read_jsonl",
    "read_rows",
    "write_births",
    "write_report",
]

COLUMNS: Final = (
    "given_name_arab",
    "given_name_latn",
    "given_name_tfng",
    "family_name_arab",
    "family_name_latn",
    "family_name_tfng",
    "date_of_birth",
    "place_of_birth",
    "sex",
    "nationality",
    "parent1",
    "parent2",
    "address",
)
REQUIRED_COLUMNS: Final = (
    "given_name_arab",
    "given_name_latn",
    "family_name_arab",
    "family_name_latn",
    "date_of_birth",
    "place_of_birth",
    "sex",
    "nationality",
)
REPORT_COLUMNS: Final = ("row", "field", "rule", "reason")

Mode = Literal["all-or-nothing", "per-row"]
Progress = Callable[[Literal["checking", "enrolling"], int], None]
"""Called with the phase and the number of rows just finished in it."""


class ImportFileError(ValueError):
    """The file as a whole cannot be imported: unknown format, bad CSV header."""


@dataclass(frozen=True, slots=True)
class Row:
    """One input row: its line, the birth registration as plain data, reading problems."""

    line: int
    birth: dict[str, Any]
    problems: tuple[Problem, ...] = ()
    csv: bool = False


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why row ``row`` was not enrolled: ``field`` broke ``rule``."""

    row: int
    field: str
    rule: str
    reason: str


@dataclass
class ImportResult:
    """What an import did: numbers enrolled per row, and rejections."""

    mode: Mode
    rows: int = 0
    enrolled: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return len({rejection.row for rejection in self.rejected})


# ---------------------------------------------------------------------------- reading
def read_rows(path: Path) -> Iterator[Row]:
    """The rows of a ``.csv`` or ``.jsonl`` (``.ndjson``) file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise ImportFileError(f"{path.name}: expected a .csv or .jsonl file")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from read_csv(handle) if suffix == ".csv" else read_jsonl(handle)


def read_jsonl(lines: Iterable[str]) -> Iterator[Row]:
    """One row per non-blank line; a line that is no JSON object is a rejected row."""
    for line, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            yield Row(line, {}, (Problem("row", "json", f"not JSON: {error.msg}"),))
            continue
        if not isinstance(data, dict):
            yield Row(line, {}, (Problem("row", "json", "a line must hold one JSON object"),))
            continue
        yield Row(line, data)


def read_csv(handle: TextIO) -> Iterator[Row]:
    """One row per CSV record after the header; see the module docstring for the columns."""
    reader = csv.reader(handle)
    header = [name.strip() for name in next(reader, [])]
    _check_header(header)
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            message = f"{len(cells)} cells where the header names {len(header)}"
            yield Row(reader.line_num, {}, (Problem("row", "columns", message),), csv=True)
            continue
        yield Row(reader.line_num, birth_from_csv(dict(zip(header, cells, strict=True))), csv=True)


def _check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    for problem, names in (("missing", missing), ("unknown", unknown), ("repeated", duplicated)):
        if names:
            raise ImportFileError(f"CSV header: {problem} column(s) {', '.join(names)}")


def birth_from_csv(record: Mapping[str, str]) -> dict[str, Any]:
    """A CSV record as birth registration data (cells stripped, empty optional cells left out)."""
    cell = {name: value.strip() for name, value in record.items()}
    birth: dict[str, Any] = {
        "given_name": _name(cell, "given_name"),
        "family_name": _name(cell, "family_name"),
        "date_of_birth": cell["date_of_birth"],
        "place_of_birth": cell["place_of_birth"],
        "sex": cell["sex"],
        "nationality": cell["nationality"],
        "parents": [p for p in (cell.get("parent1", ""), cell.get("parent2", "")) if p],
    }
    if cell.get("address"):
        birth["address"] = cell["address"]
    return birth


def _name(cell: Mapping[str, str], prefix: str) -> dict[str, str]:
    name = {"arab": cell[f"{prefix}_arab"], "latn": cell[f"{prefix}_latn"]}
    if cell.get(f"{prefix}_tfng"):
        name["tfng"] = cell[f"{prefix}_tfng"]
    return name


def csv_record(birth: Mapping[str, Any]) -> dict[str, str]:
    """The CSV record of birth registration data (inverse of :func:`birth_from_csv`)."""
    record = dict.fromkeys(COLUMNS, "")
    for prefix in ("given_name", "family_name"):
        for script, value in birth[prefix].items():
            record[f"{prefix}_{script}"] = value or ""
    for name in ("date_of_birth", "place_of_birth", "sex", "nationality"):
        record[name] = str(birth[name])
    for index, parent in enumerate(birth.get("parents", [])):
        record[f"parent{index + 1}"] = parent
    record["address"] = birth.get("address") or ""
    return record


def _column(path: str) -> str:
    """The CSV column of a register field path: ``given_name.latn`` → ``given_name_latn``."""
    if path.startswith("parents[") and path[8:-1].isdigit():
        return f"parent{int(path[8:-1]) + 1}"
    return path.replace(".", "_")


# ---------------------------------------------------------------------------- writing
def birth_from_sample(person: SamplePerson) -> dict[str, Any]:
    """A sample person as JSON-ready birth registration data (Latin place name)."""
    return {
        "given_name": {"arab": person.given_name_arab, "latn": person.given_name_latn},
        "family_name": {"arab": person.family_name_arab, "latn": person.family_name_latn},
        "date_of_birth": person.date_of_birth.isoformat(),
        "place_of_birth": person.place_of_birth_latn,
        "sex": person.sex,
        "nationality": person.nationality,
    }


def write_births(path: Path, births: Iterable[Mapping[str, Any]]) -> int:
    """Write births as CSV (``.csv``) or JSON Lines (anything else); return how many."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS) if path.suffix.lower() == ".csv" else None
        if writer is not None:
            writer.writeheader()
        for birth in births:
            if writer is not None:
                writer.writerow(csv_record(birth))
            else:
                handle.write(json.dumps(birth, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_report(path: Path, rejections: Iterable[Rejection]) -> None:
    """The rejections as CSV: ``row,field,rule,reason``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for item in rejections:
            writer.writerow((item.row, item.field, item.rule, item.reason))


# ---------------------------------------------------------------------------- importing
async def import_rows(
    register: PopulationRegister,
    rows: Iterable[Row],
    mode: Mode,
    progress: Progress | None = None,
    *,
    recorded_by: str,
    legal_basis: str,
) -> ImportResult:
    """Enrol ``rows`` in ``register`` under ``mode`` (module docstring); never raises for a row."""
    result = ImportResult(mode)
    report = progress or _no_progress
    if mode == "per-row":
        for row in rows:
            result.rows += 1
            await _enrol(register, row, result, recorded_by, legal_basis)
            report("enrolling", 1)
        return result
    checked = list(rows)
    await _check_all(register, checked, result, report)
    if result.rejected:
        return result
    births = [_parse(row) for row in checked]  # every row parsed in the check pass
    try:
        numbers = await register.bulk_enrol(
            [birth for birth in births if not isinstance(birth, list)],
            recorded_by=recorded_by,
            legal_basis=legal_basis,
            batch=max(1, len(births)),  # one transaction: all or nothing
            progress=lambda done: report("enrolling", done),
        )
    except BulkEnrolError as refused:
        row = checked[refused.index]
        problems = refused.error.problems if isinstance(refused.error, InvalidInput) else None
        result.rejected += _rejections(
            row, problems or [Problem("person", refused.error.code, str(refused.error))]
        )
        return result
    result.enrolled += [(row.line, nin) for row, nin in zip(checked, numbers, strict=True)]
    return result


def _no_progress(phase: str, done: int) -> None:
    """No progress display."""


async def _enrol(
    register: PopulationRegister, row: Row, result: ImportResult, by: str, basis: str
) -> bool:
    birth = _parse(row)
    if isinstance(birth, list):
        result.rejected += _rejections(row, birth)
        return False
    try:
        person = await register.enrol(birth, recorded_by=by, legal_basis=basis)
    except InvalidInput as error:
        result.rejected += _rejections(row, error.problems)
        return False
    except RegisterError as error:
        result.rejected += _rejections(row, [Problem("person", error.code, str(error))])
        return False
    result.enrolled.append((row.line, person.nin))
    return True


def _rejections(row: Row, problems: Iterable[Problem]) -> list[Rejection]:
    return [
        Rejection(row.line, _column(p.field) if row.csv else p.field, p.rule, p.message)
        for p in problems
    ]


async def _check_all(
    register: PopulationRegister, rows: list[Row], result: ImportResult, report: Progress
) -> None:
    """First pass of all-or-nothing: every row's problems into ``result``, nothing written."""
    seen: dict[tuple[str, str], list[tuple[int, PersonNames]]] = defaultdict(list)
    for row in rows:
        result.rows += 1
        birth = _parse(row)
        if isinstance(birth, list):
            problems = birth
        else:
            problems = await _row_problems(register, birth)
            if not problems and register.duplicates == "refuse":
                problems = _in_file_duplicates(register, row.line, birth, seen)
        result.rejected += _rejections(row, problems)
        report("checking", 1)


def _parse(row: Row) -> BirthRegistration | list[Problem]:
    """The row as a birth registration, or its problems: the reading problems, or every
    schema problem plus the script problems of the names that are well formed (the register
    checks scripts only once the whole input parses; an operator wants both at once)."""
    if row.problems:
        return list(row.problems)
    try:
        return parse_model(BirthRegistration, row.birth)
    except InvalidInput as error:
        problems = error.problems
    for prefix in ("given_name", "family_name"):
        try:
            name = ScriptedName.model_validate(row.birth.get(prefix))
        except ValidationError:
            continue
        problems += name.problems(prefix)
    return problems


async def _row_problems(register: PopulationRegister, birth: BirthRegistration) -> list[Problem]:
    """What :meth:`PopulationRegister.enrol` would refuse, checked without writing."""
    # The register's own rules, so this pass and enrol() cannot disagree.
    problems = register._birth_problems(birth, register.clock().date())
    try:
        register.profile.scope(date_of_birth=birth.date_of_birth, nationality=birth.nationality)
    except ValueError as error:
        problems.append(Problem("nationality", "nin_profile", str(error)))
    async with register.database.sessions() as session:
        problems += await _parent_problems(session, birth)
    if not problems and register.duplicates == "refuse":
        candidates = await register.find_duplicates(birth)
        if candidates:
            reason = str(DuplicatePerson(candidates))
            problems.append(Problem("person", DuplicatePerson.code, reason))
    return problems


def _in_file_duplicates(
    register: PopulationRegister,
    line: int,
    birth: BirthRegistration,
    seen: dict[tuple[str, str], list[tuple[int, PersonNames]]],
) -> list[Problem]:
    """Rows of this file the duplicate check would match once the earlier one is enrolled."""
    names = PersonNames(birth.given_name, birth.family_name)
    group = seen[(birth.date_of_birth.isoformat(), place_key(birth.place_of_birth))]
    same = register.matcher.same_person_names
    earlier = [str(seen_line) for seen_line, other in group if same(other, names)]
    group.append((line, names))
    if not earlier:
        return []
    rows = ", ".join(earlier)
    return [Problem("person", DuplicatePerson.code, f"possible duplicate of row {rows}")]
