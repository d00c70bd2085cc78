"""The person record: a projection of the person's events, and its table row.

:func:`apply_event` folds one event into the record; :func:`project` folds a whole
history, so the stored row can always be rebuilt from the signed events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from jisr.identity.register.calendar import HijriDate, to_hijri
from jisr.identity.register.events import (
    AddressChange,
    BirthRecord,
    Death,
    Event,
    Marriage,
    NameChange,
)
from jisr.identity.register.matching import PersonNames
from jisr.identity.register.models import PersonRow
from jisr.identity.register.names import ScriptedName, normalise_arabic, normalise_latin

__all__ = ["Person", "apply_event", "person_from_row", "place_key", "project", "row_values"]

Status = Literal["living", "deceased"]


@dataclass(frozen=True)
class Person:
    """A person's current record (docs/identity.md, Person)."""

    nin: str
    given_name: ScriptedName
    family_name: ScriptedName
    date_of_birth: date
    place_of_birth: str
    sex: Literal["F", "M"]
    nationality: str
    parents: tuple[str, ...] = ()
    address: str | None = None
    status: Status = "living"
    photo_sha256: str | None = None
    spouse: str | None = None
    possible_duplicate: bool = False

    @property
    def names(self) -> PersonNames:
        return PersonNames(self.given_name, self.family_name)

    @property
    def date_of_birth_hijri(self) -> HijriDate | None:
        """The date of birth in the Umm al-Qura calendar; ``None`` outside its table."""
        return to_hijri(self.date_of_birth)


def place_key(place: str) -> str:
    """The place of birth as the duplicate check compares it: casefolded, spaces collapsed."""
    return " ".join(place.split()).casefold()


def apply_event(person: Person | None, event: Event) -> Person:
    """The record after ``event``; ``person`` is ``None`` only before the birth registration."""
    payload = event.typed_payload()
    if person is None:
        if not isinstance(payload, BirthRecord):
            raise ValueError("the first event of a person must be the birth registration")
        return _born(event.person, payload)
    if isinstance(payload, NameChange):
        return dataclasses.replace(
            person,
            given_name=payload.given_name or person.given_name,
            family_name=payload.family_name or person.family_name,
        )
    if isinstance(payload, AddressChange):
        return dataclasses.replace(person, address=payload.address)
    if isinstance(payload, Marriage):
        return dataclasses.replace(person, spouse=payload.spouse)
    if isinstance(payload, Death):
        return dataclasses.replace(person, status="deceased")
    raise ValueError(f"{event.kind} cannot follow the birth registration")


def project(events: Iterable[Event]) -> Person:
    """The record rebuilt from a person's whole history."""
    person: Person | None = None
    for event in events:
        person = apply_event(person, event)
    if person is None:
        raise ValueError("no events")
    return person


def _born(nin: str, birth: BirthRecord) -> Person:
    return Person(
        nin=nin,
        given_name=birth.given_name,
        family_name=birth.family_name,
        date_of_birth=birth.date_of_birth,
        place_of_birth=birth.place_of_birth,
        sex=birth.sex,
        nationality=birth.nationality,
        parents=tuple(birth.parents),
        address=birth.address,
        photo_sha256=birth.photo_sha256,
        possible_duplicate=bool(birth.possible_duplicate_of),
    )


def row_values(person: Person, now: datetime) -> dict[str, Any]:
    """Column values of ``register_persons`` for ``person``."""
    given, family = person.given_name, person.family_name
    return {
        "nin": person.nin,
        "given_arab": given.arab,
        "given_latn": given.latn,
        "given_tfng": given.tfng,
        "family_arab": family.arab,
        "family_latn": family.latn,
        "family_tfng": family.tfng,
        "given_arab_norm": normalise_arabic(given.arab),
        "family_arab_norm": normalise_arabic(family.arab),
        "given_latn_norm": normalise_latin(given.latn),
        "family_latn_norm": normalise_latin(family.latn),
        "date_of_birth": person.date_of_birth,
        "place_of_birth": person.place_of_birth,
        "place_key": place_key(person.place_of_birth),
        "sex": person.sex,
        "nationality": person.nationality,
        "parents": list(person.parents),
        "address": person.address,
        "status": person.status,
        "photo_sha256": person.photo_sha256,
        "spouse": person.spouse,
        "possible_duplicate": person.possible_duplicate,
        "updated_at": now,
    }


def person_from_row(row: PersonRow) -> Person:
    """The record stored in a ``register_persons`` row."""
    return Person(
        nin=row.nin,
        given_name=ScriptedName(arab=row.given_arab, latn=row.given_latn, tfng=row.given_tfng),
        family_name=ScriptedName(arab=row.family_arab, latn=row.family_latn, tfng=row.family_tfng),
        date_of_birth=row.date_of_birth,
        place_of_birth=row.place_of_birth,
        sex="F" if row.sex == "F" else "M",
        nationality=row.nationality,
        parents=tuple(row.parents),
        address=row.address,
        status="deceased" if row.status == "deceased" else "living",
        photo_sha256=row.photo_sha256,
        spouse=row.spouse,
        possible_duplicate=row.possible_duplicate,
    )
