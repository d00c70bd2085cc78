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

from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from jisr.crypto.keys import PrivateKey
from jisr.identity.register import _store
from jisr.identity.register._checks import EARLIEST_BIRTH, date_problems, parse_model
from jisr.identity.register.errors import (
    DuplicatePerson,
    InvalidEvent,
    InvalidInput,
    Problem,
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
from jisr.identity.register.nin import NinProfile
from jisr.identity.register.person import Person, apply_event
from jisr.storage import Database, upgrade, utcnow

__all__ = ["MIGRATIONS", "VERSION_TABLE", "PopulationRegister", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_register"


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
        """The person's current record; the read is recorded in ``register_reads``."""
        async with self.database.transaction() as session:
            person = await _store.load_person(session, nin)
            if person is None:
                raise UnknownPerson(nin)
            await _store.record_read(session, nin, requester, purpose, self.clock())
        return person

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
