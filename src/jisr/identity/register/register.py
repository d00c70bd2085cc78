"""``PopulationRegister``: enrol, record an event, read, history, duplicate check.

Every write runs in one transaction that validates, signs the event, appends it and
updates the person's projection (docs/identity.md, Data flow). Rules beyond the schemas:

* a date of birth lies neither in the future nor before 1880; parents exist and were born
  before the child; event dates lie between the person's birth and today;
* marriage names an existing, living spouse other than the person;
* **death is final**: once a death is recorded the register accepts no further event for
  that person. Correcting a wrongly recorded death is a court matter and will be its own
  event kind, never an edit of the history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jisr.crypto.keys import PrivateKey
from jisr.identity.register import _store
from jisr.identity.register._audit import AuditTrail
from jisr.identity.register._checks import EARLIEST_BIRTH, date_problems, parse_model
from jisr.identity.register.errors import (
    DuplicatePerson,
    InvalidEvent,
    InvalidInput,
    Problem,
    RegisterError,
    UnknownPerson,
)
from jisr.identity.register.events import (
    PAYLOADS,
    BirthRecord,
    BirthRegistration,
    Event,
    EventKind,
    Marriage,
    NameChange,
    SignedEvent,
    sign_event,
    verify_chain,
)
from jisr.identity.register.matching import DefaultNameMatcher, NameMatcher, PersonNames
from jisr.identity.register.models import PersonRow
from jisr.identity.register.names import ScriptedName, normalise_arabic, normalise_latin
from jisr.identity.register.nin import NinProfile
from jisr.identity.register.person import Person, apply_event, person_from_row, place_key
from jisr.storage import Database, upgrade, utcnow

__all__ = [
    "MIGRATIONS",
    "VERSION_TABLE",
    "BulkEnrolError",
    "NameQuery",
    "PersonQuery",
    "PopulationRegister",
    "migrate",
]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_register"


class NameQuery(BaseModel):
    """A name to match: each script given is compared after normalisation (names.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arab: str | None = Field(None, min_length=1, max_length=500)
    latn: str | None = Field(None, min_length=1, max_length=500)
    tfng: str | None = Field(None, min_length=1, max_length=500)


class PersonQuery(BaseModel):
    """Exact filters over current records, all of which must hold (see :meth:`search`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nin: str | None = Field(None, min_length=1, max_length=32)
    given_name: NameQuery | None = None
    family_name: NameQuery | None = None
    date_of_birth: date | None = None
    place_of_birth: str | None = Field(None, min_length=1, max_length=500)
    sex: Literal["F", "M"] | None = None
    nationality: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    status: Literal["living", "deceased"] | None = None

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


class BulkEnrolError(RegisterError):
    """Row ``index`` of a :meth:`PopulationRegister.bulk_enrol` call was refused.

    ``error`` is what :meth:`PopulationRegister.enrol` raises for that row on its own: an
    :class:`InvalidInput` with the same field problems, or a :class:`DuplicatePerson`.
    ``enrolled`` holds the numbers of rows ``0 .. len(enrolled) - 1``, committed by earlier
    batches; the refused row's batch wrote nothing and no later row was looked at.
    """

    def __init__(self, index: int, error: InvalidInput | DuplicatePerson, enrolled: list[str]):
        self.index = index
        self.error = error
        self.enrolled = list(enrolled)
        self.code = error.code
        super().__init__(f"births[{index}]: {error}")


# Where a person the duplicate check compares with comes from: registered (index None) or
# an earlier row of the batch being enrolled (its index in the input).
_Known = tuple[str, int | None, PersonNames]


def migrate(url: str) -> None:
    """Create or upgrade the register's tables (blocking; never call from a running loop)."""
    upgrade(MIGRATIONS, url, VERSION_TABLE)


class PopulationRegister:
    """The population register over ``database``, signing events with ``key``."""

    def __init__(
        self,
        database: Database,
        *,
        profile: NinProfile,
        key: PrivateKey,
        matcher: NameMatcher | None = None,
        duplicates: Literal["refuse", "flag"] = "refuse",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.profile = profile
        self.key = key
        self.matcher: NameMatcher = matcher or DefaultNameMatcher()
        self.duplicates = duplicates
        self.clock = clock
        self.audit = AuditTrail(database)

    async def enrol(
        self,
        birth: BirthRegistration | Mapping[str, Any],
        *,
        recorded_by: str,
        legal_basis: str,
    ) -> Person:
        """Register a newborn (or a person not yet registered) and allocate their number."""
        birth = parse_model(BirthRegistration, birth)
        now = self.clock()
        _raise_if(self._birth_problems(birth, now.date()))
        async with self.database.transaction() as session:
            await _store.begin_write(session, self.database.backend, birth.date_of_birth)
            _raise_if(await _parent_problems(session, birth))
            candidates = await self._duplicates(session, birth)
            if candidates and self.duplicates == "refuse":
                raise DuplicatePerson(candidates)
            nin = await self._allocate(session, birth)
            record = BirthRecord(**birth.model_dump(), possible_duplicate_of=candidates)
            event = self._event("birth_registration", nin, record, now, recorded_by, legal_basis)
            person = apply_event(None, event)
            await _store.insert_person(session, person, now)
            await _store.append_event(session, sign_event(event, 1, self.key))
        return person

    async def bulk_enrol(
        self,
        births: Iterable[BirthRegistration | Mapping[str, Any]],
        *,
        recorded_by: str,
        legal_basis: str,
        batch: int = 500,
        progress: Callable[[int], None] | None = None,
    ) -> list[str]:
        """Enrol many persons, ``batch`` per transaction; return their numbers in input order.

        Each row goes through what :meth:`enrol` does, in the same order and with the same
        errors: validation, parents, the duplicate check (against registered persons *and*
        earlier rows of the call), number allocation, the signed ``birth_registration``
        event, the person row. What is batched is the database work: one lock statement,
        one indexed duplicate-check query, one parents query, one counter update per
        numbering scope and two multi-row INSERTs per batch, in one transaction that takes
        the same write lock as :meth:`enrol` (PostgreSQL: every birth date of the batch).

        A refused row (:class:`BulkEnrolError`, wrapping enrol's own error) refuses its
        **whole batch**, which writes nothing, and stops the call; earlier batches stay
        committed, their numbers in ``error.enrolled``, so a caller resumes at
        ``births[len(error.enrolled):]``. Under policy ``refuse`` a row matching an earlier
        row of the same batch is a duplicate too, named ``births[j]`` among the candidates;
        under ``flag`` both are enrolled and the later one flagged, as sequential
        :meth:`enrol` calls would. ``progress`` is called with the count committed so far
        after each batch.
        """
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        enrolled: list[str] = []
        pending: list[BirthRegistration | Mapping[str, Any]] = []
        for item in births:
            pending.append(item)
            if len(pending) == batch:
                await self._enrol_batch(pending, enrolled, recorded_by, legal_basis)
                pending = []
                if progress is not None:
                    progress(len(enrolled))
        if pending:
            await self._enrol_batch(pending, enrolled, recorded_by, legal_basis)
            if progress is not None:
                progress(len(enrolled))
        return enrolled

    async def _enrol_batch(
        self,
        items: list[BirthRegistration | Mapping[str, Any]],
        enrolled: list[str],
        recorded_by: str,
        legal_basis: str,
    ) -> None:
        """One transaction of :meth:`bulk_enrol`; append the batch's numbers to ``enrolled``."""
        first, now = len(enrolled), self.clock()
        births: list[BirthRegistration] = []
        scopes: list[str | InvalidInput] = []
        for offset, item in enumerate(items):
            try:
                birth = parse_model(BirthRegistration, item)
                _raise_if(self._birth_problems(birth, now.date()))
            except InvalidInput as error:
                raise BulkEnrolError(first + offset, error, enrolled) from error
            births.append(birth)
            scopes.append(self._scope(birth))
        backend = self.database.backend
        async with self.database.transaction() as session:
            await _store.begin_bulk_write(session, backend, (b.date_of_birth for b in births))
            parents = await _store.birth_dates_of(session, (p for b in births for p in b.parents))
            known = await self._known_born(session, births)
            counts = Counter(scope for scope in scopes if isinstance(scope, str))
            sequence = {
                scope: await _store.reserve_sequence(session, backend, scope, count)
                for scope, count in sorted(counts.items())
            }
            persons: list[Person] = []
            signed: list[SignedEvent] = []
            for offset, (birth, scope) in enumerate(zip(births, scopes, strict=True)):
                index = first + offset
                key = (birth.date_of_birth, place_key(birth.place_of_birth))
                names = PersonNames(birth.given_name, birth.family_name)
                try:
                    _raise_if(_known_parent_problems(birth, parents))
                    matches = [
                        (nin, row)
                        for nin, row, other in known.get(key, [])
                        if self.matcher.same_person_names(other, names)
                    ]
                    if matches and self.duplicates == "refuse":
                        raise DuplicatePerson(
                            sorted(nin if row is None else f"births[{row}]" for nin, row in matches)
                        )
                    if isinstance(scope, InvalidInput):
                        raise scope
                    nin = self._number(birth, sequence[scope])
                except (InvalidInput, DuplicatePerson) as error:
                    raise BulkEnrolError(index, error, enrolled) from error
                sequence[scope] += 1
                candidates = sorted(match for match, _ in matches)
                record = BirthRecord(**birth.model_dump(), possible_duplicate_of=candidates)
                event = self._event(
                    "birth_registration", nin, record, now, recorded_by, legal_basis
                )
                persons.append(apply_event(None, event))
                signed.append(sign_event(event, 1, self.key))
                known.setdefault(key, []).append((nin, index, names))
            await _store.insert_persons(session, persons, now)
            await _store.append_events(session, signed)
        enrolled.extend(person.nin for person in persons)

    async def _known_born(
        self, session: AsyncSession, births: list[BirthRegistration]
    ) -> dict[tuple[date, str], list[_Known]]:
        """Registered persons sharing a birth date and place with one of ``births``."""
        pairs = ((b.date_of_birth, place_key(b.place_of_birth)) for b in births)
        known: dict[tuple[date, str], list[_Known]] = {}
        for row in await _store.names_born(session, pairs):
            names = PersonNames(
                ScriptedName.model_construct(
                    arab=row.given_arab, latn=row.given_latn, tfng=row.given_tfng
                ),
                ScriptedName.model_construct(
                    arab=row.family_arab, latn=row.family_latn, tfng=row.family_tfng
                ),
            )
            known.setdefault((row.date_of_birth, row.place_key), []).append((row.nin, None, names))
        return known

    def _scope(self, birth: BirthRegistration) -> str | InvalidInput:
        """The numbering scope of ``birth``, or the error :meth:`_allocate` would raise."""
        born, nationality = birth.date_of_birth, birth.nationality
        try:
            return self.profile.scope(date_of_birth=born, nationality=nationality)
        except ValueError as error:
            return InvalidInput([Problem("nationality", "nin_profile", str(error))])

    def _number(self, birth: BirthRegistration, sequence: int) -> str:
        born, nationality = birth.date_of_birth, birth.nationality
        try:
            return self.profile.format(sequence, date_of_birth=born, nationality=nationality)
        except ValueError as error:
            raise InvalidInput([Problem("nationality", "nin_profile", str(error))]) from error

    async def record(
        self,
        nin: str,
        event_kind: EventKind,
        payload: BaseModel | Mapping[str, Any],
        *,
        recorded_by: str,
        legal_basis: str,
    ) -> Person:
        """Record a life event after the birth registration; return the updated record."""
        if event_kind == "birth_registration":
            raise InvalidEvent("kind", "a birth is registered with enrol()")
        if event_kind not in PAYLOADS:
            raise InvalidEvent("kind", f"unknown event kind {event_kind!r}")
        typed = parse_model(PAYLOADS[event_kind], payload, "payload")
        now = self.clock()
        async with self.database.transaction() as session:
            await _store.begin_write(session, self.database.backend)
            person = await _store.load_person(session, nin, lock=True)
            if person is None:
                raise UnknownPerson(nin)
            await _check_event(session, person, typed, now.date())
            seq, prev = await _store.last_event(session, nin)
            event = self._event(event_kind, nin, typed, now, recorded_by, legal_basis, prev)
            updated = apply_event(person, event)
            await _store.append_event(session, sign_event(event, seq + 1, self.key))
            await _store.update_person(session, updated, now)
        return updated

    async def read(self, nin: str, *, requester: str, purpose: str) -> Person:
        """The person's current record, returned once the read is durably recorded in
        ``register_reads`` (docs/identity.md, Data flow §4 and Performance).

        The hot path of every disclosure, on a Core connection outside any transaction.
        PostgreSQL: lookup and read row in one autocommit statement, one round trip.
        SQLite: the lookup, then the read row committed by the register's
        :class:`AuditTrail`, which shares one commit among the reads that arrive together
        (group commit; SQLite has one writer at a time). A row that cannot be committed
        fails the read; an unknown number raises :class:`UnknownPerson` and writes no row.
        """
        at = self.clock()
        if self.database.backend == "sqlite":
            async with self.database.reading() as connection:
                person = await _store.fetch_person(connection, nin)
            if person is not None:
                await self.audit.record(nin, requester, purpose, at)
        else:
            async with self.database.autocommit() as connection:
                person = await _store.fetch_and_record(connection, nin, requester, purpose, at)
        if person is None:
            raise UnknownPerson(nin)
        return person

    async def get(self, nin: str) -> Person:
        """The person's current record, **without** recording a read.

        For the register's own processing only (consistency checks, the registrar's own
        workflow before a write, benchmarks); never to answer an external party: every
        disclosure goes through :meth:`read` or :meth:`search`, which write the audit row
        (docs/identity.md, Data flow §4). Raises :class:`UnknownPerson`.
        """
        async with self.database.reading() as connection:
            person = await _store.fetch_person(connection, nin)
        if person is None:
            raise UnknownPerson(nin)
        return person

    async def search(
        self,
        query: PersonQuery,
        *,
        requester: str,
        purpose: str,
        offset: int = 0,
        limit: int = 10,
        descending: bool = False,
    ) -> tuple[int, list[Person]]:
        """How many records match ``query`` and one page of them, ordered by number.

        Each returned person's read is recorded in ``register_reads``; a search that
        returns nobody is recorded once with an empty ``nin``, so every query leaves a trace.
        """
        where = _query_conditions(query)
        order = PersonRow.nin.desc() if descending else PersonRow.nin
        page = select(PersonRow).where(*where).order_by(order).offset(offset).limit(limit)
        async with self.database.transaction() as session:
            count = await session.scalar(select(func.count()).select_from(PersonRow).where(*where))
            persons = [person_from_row(row) for row in (await session.execute(page)).scalars()]
            now = self.clock()
            for nin in [p.nin for p in persons] or [""]:
                await _store.record_read(session, nin, requester, purpose, now)
        return int(count or 0), persons

    async def history(self, nin: str) -> list[Event]:
        """The person's events in order, each signature, hash and chain link re-verified."""
        signed = await self.signed_history(nin)
        return [item.event for item in signed]

    async def signed_history(self, nin: str) -> list[SignedEvent]:
        """As :meth:`history`, with each event's hash and JWS."""
        async with self.database.sessions() as session:
            events = await _store.events_of(session, nin)
        if not events:
            raise UnknownPerson(nin)
        verify_chain(events, self.key.public_key())
        return events

    async def find_duplicates(self, candidate: BirthRegistration | Mapping[str, Any]) -> list[str]:
        """Numbers of registered persons the duplicate check matches with ``candidate``."""
        birth = parse_model(BirthRegistration, candidate)
        async with self.database.sessions() as session:
            return await self._duplicates(session, birth)

    def _birth_problems(self, birth: BirthRegistration, today: date) -> list[Problem]:
        problems = birth.given_name.problems("given_name")
        problems += birth.family_name.problems("family_name")
        problems += date_problems(
            "date_of_birth", birth.date_of_birth, today=today, not_before=EARLIEST_BIRTH
        )
        for index, parent in enumerate(birth.parents):
            if not self.profile.validate(parent):
                problems.append(Problem(f"parents[{index}]", "format", f"{parent!r} is no NIN"))
        return problems

    async def _duplicates(self, session: AsyncSession, birth: BirthRegistration) -> list[str]:
        names = PersonNames(birth.given_name, birth.family_name)
        born = await _store.persons_born(session, birth.date_of_birth, birth.place_of_birth)
        return [p.nin for p in born if self.matcher.same_person_names(p.names, names)]

    async def _allocate(self, session: AsyncSession, birth: BirthRegistration) -> str:
        born, nationality = birth.date_of_birth, birth.nationality
        try:
            scope = self.profile.scope(date_of_birth=born, nationality=nationality)
            sequence = await _store.next_sequence(session, self.database.backend, scope)
            return self.profile.format(sequence, date_of_birth=born, nationality=nationality)
        except ValueError as error:
            raise InvalidInput([Problem("nationality", "nin_profile", str(error))]) from error

    def _event(
        self,
        kind: EventKind,
        nin: str,
        payload: BaseModel,
        at: datetime,
        recorded_by: str,
        legal_basis: str,
        prev: str = "",
    ) -> Event:
        return Event(
            kind=kind,
            person=nin,
            at=at,
            recorded_by=recorded_by,
            legal_basis=legal_basis,
            payload=payload.model_dump(mode="json"),
            prev=prev,
        )


def _query_conditions(query: PersonQuery) -> list[ColumnElement[bool]]:
    """SQL conditions of ``query``: names and place as the duplicate check compares them."""
    row = PersonRow
    where: list[ColumnElement[bool]] = []
    for name, columns in (
        (query.given_name, (row.given_arab_norm, row.given_latn_norm, row.given_tfng)),
        (query.family_name, (row.family_arab_norm, row.family_latn_norm, row.family_tfng)),
    ):
        if name is not None:
            arab, latn, tfng = columns
            if name.arab is not None:
                where.append(arab == normalise_arabic(name.arab))
            if name.latn is not None:
                where.append(latn == normalise_latin(name.latn))
            if name.tfng is not None:
                where.append(tfng == name.tfng)
    if query.place_of_birth is not None:
        where.append(row.place_key == place_key(query.place_of_birth))
    exact: list[tuple[Any, Any]] = [
        (row.nin, query.nin),
        (row.date_of_birth, query.date_of_birth),
        (row.sex, query.sex),
        (row.nationality, query.nationality),
        (row.status, query.status),
    ]
    where += [column == value for column, value in exact if value is not None]
    return where


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(problems)


async def _parent_problems(session: AsyncSession, birth: BirthRegistration) -> list[Problem]:
    problems: list[Problem] = []
    for index, nin in enumerate(birth.parents):
        parent = await _store.load_person(session, nin)
        field = f"parents[{index}]"
        if parent is None:
            problems.append(Problem(field, "unknown_person", f"no person {nin}"))
        elif parent.date_of_birth >= birth.date_of_birth:
            problems.append(Problem(field, "date_order", "a parent is born before the child"))
    return problems


def _known_parent_problems(birth: BirthRegistration, born: Mapping[str, date]) -> list[Problem]:
    """:func:`_parent_problems` against ``born`` (``{nin: date_of_birth}``, loaded at once)."""
    problems: list[Problem] = []
    for index, nin in enumerate(birth.parents):
        parent = born.get(nin)
        field = f"parents[{index}]"
        if parent is None:
            problems.append(Problem(field, "unknown_person", f"no person {nin}"))
        elif parent >= birth.date_of_birth:
            problems.append(Problem(field, "date_order", "a parent is born before the child"))
    return problems


async def _check_event(
    session: AsyncSession, person: Person, payload: BaseModel, today: date
) -> None:
    if person.status == "deceased":
        raise InvalidEvent("deceased", f"{person.nin} is deceased: no event may follow death")
    problems = _event_date_problems(person, payload, today)
    if isinstance(payload, NameChange):
        problems += _name_change_problems(payload)
    if isinstance(payload, Marriage):
        problems += await _spouse_problems(session, person, payload.spouse)
    _raise_if(problems)


def _event_date_problems(person: Person, payload: BaseModel, today: date) -> list[Problem]:
    name = "effective" if "effective" in type(payload).model_fields else "date"
    value = getattr(payload, name)
    assert isinstance(value, date)
    return date_problems(f"payload.{name}", value, today=today, not_before=person.date_of_birth)


def _name_change_problems(change: NameChange) -> list[Problem]:
    if change.given_name is None and change.family_name is None:
        return [Problem("payload", "required", "a name change changes at least one name")]
    problems: list[Problem] = []
    if change.given_name is not None:
        problems += change.given_name.problems("payload.given_name")
    if change.family_name is not None:
        problems += change.family_name.problems("payload.family_name")
    return problems


async def _spouse_problems(session: AsyncSession, person: Person, spouse: str) -> list[Problem]:
    if spouse == person.nin:
        return [Problem("payload.spouse", "self", "a person cannot marry themselves")]
    other = await _store.load_person(session, spouse)
    if other is None:
        return [Problem("payload.spouse", "unknown_person", f"no person {spouse}")]
    if other.status == "deceased":
        return [Problem("payload.spouse", "deceased", f"{spouse} is deceased")]
    return []
