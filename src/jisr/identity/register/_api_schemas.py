"""Request and response bodies of the register's GovStack data API (:mod:`.api`).

The envelopes are those of the GovStack Digital Registries Data API template 1.3.0
(``query.content``, ``write.content``, ``answer``, ``count``/``next``/``previous``/
``results``); ``content`` is this registry's own schema, the register's fields in
snake_case (docs/identity.md, Person), with the national number as ``nin``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jisr.identity.register.events import (
    AddressChange,
    BirthRegistration,
    Death,
    Marriage,
    NameChange,
)
from jisr.identity.register.names import ScriptedName
from jisr.identity.register.person import Person
from jisr.identity.register.register import PersonQuery

__all__ = [
    "CreateRequest",
    "ExistsAnswer",
    "ExistsResponse",
    "ListResponse",
    "PersonRecord",
    "QueryIn",
    "ReadRequest",
    "RecordResponse",
    "UpdateRequest",
]

_LegalBasis = Annotated[
    str | None,
    Field(
        None,
        min_length=1,
        max_length=500,
        description="The law the change rests on; defaults to the API's configured one.",
    ),
]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class _In(BaseModel):
    """A request body: unknown members refused, and no NUL character in any text (neither
    database stores one, and a name never contains one)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nul(self) -> _In:
        if _has_nul(self.model_dump(mode="json")):
            raise ValueError("text must not contain the NUL character")
        return self


class PersonRecord(BaseModel):
    """A person's current record (docs/identity.md, Person); dates ISO 8601."""

    nin: str = Field(description="National identification number.", examples=["BK1234567"])
    given_name: ScriptedName
    family_name: ScriptedName
    date_of_birth: date
    date_of_birth_hijri: str | None = Field(
        description="Umm al-Qura date of birth (YYYY-MM-DD); null outside 1924-2077.",
        pattern=r"^\d{4}-\d{2}-\d{2}$",
    )
    place_of_birth: str
    sex: Literal["F", "M"]
    nationality: str
    parents: list[str]
    address: str | None
    status: Literal["living", "deceased"]
    spouse: str | None
    photo_sha256: str | None
    possible_duplicate: bool

    @classmethod
    def of(cls, person: Person) -> PersonRecord:
        hijri = person.date_of_birth_hijri
        return cls(
            nin=person.nin,
            given_name=person.given_name,
            family_name=person.family_name,
            date_of_birth=person.date_of_birth,
            date_of_birth_hijri=(
                None if hijri is None else f"{hijri.year:04d}-{hijri.month:02d}-{hijri.day:02d}"
            ),
            place_of_birth=person.place_of_birth,
            sex=person.sex,
            nationality=person.nationality,
            parents=list(person.parents),
            address=person.address,
            status=person.status,
            spouse=person.spouse,
            photo_sha256=person.photo_sha256,
            possible_duplicate=person.possible_duplicate,
        )


class QueryIn(_In):
    content: PersonQuery = Field(
        description="Exact filters, all of which must hold; names are compared after "
        "normalisation, the place of birth case-insensitively."
    )


class ReadRequest(_In):
    """``read`` and ``exists``: the spec's ``query.content``."""

    query: QueryIn


class CreateWrite(_In):
    content: BirthRegistration
    legal_basis: _LegalBasis = None


class CreateRequest(_In):
    """``create``: ``write.content`` is a birth registration."""

    write: CreateWrite


class NameChangeIn(NameChange):
    event: Literal["name_change"]


class AddressChangeIn(AddressChange):
    event: Literal["address_change"]


class MarriageIn(Marriage):
    event: Literal["marriage"]


class DeathIn(Death):
    event: Literal["death"]


LifeEvent = Annotated[
    NameChangeIn | AddressChangeIn | MarriageIn | DeathIn, Field(discriminator="event")
]


class UpdateWrite(_In):
    content: LifeEvent = Field(
        description="One life event: `event` names its kind, the other members are its "
        "payload (docs/identity.md)."
    )
    legal_basis: _LegalBasis = None


class UpdateRequest(_In):
    """``update``: ``query.content`` finds exactly one record, ``write.content`` is the
    life event recorded for it."""

    query: QueryIn
    write: UpdateWrite


class RecordResponse(BaseModel):
    content: PersonRecord


class ExistsAnswer(BaseModel):
    status: bool = Field(description="Whether a record matches the query.")
    message: str


class ExistsResponse(BaseModel):
    answer: ExistsAnswer


class ListResponse(BaseModel):
    count: int = Field(description="Number of matching records, over all pages.")
    next: str | None = Field(description="URI of the next page; null on the last.")
    previous: str | None = Field(description="URI of the previous page; null on the first.")
    results: list[PersonRecord]
