"""Life events: payload schemas, the signed envelope, canonical bytes and the hash chain.

An event is stored as the RFC 8785 canonical JSON of its :class:`Event` envelope and a
compact JWS (ES256, ``typ`` :data:`EVENT_TYP`, ``kid`` = the register key's fingerprint)
over exactly those bytes. ``prev`` is the hex SHA-256 of the previous event's canonical
bytes for the same person (``""`` for the birth registration), so deleting, reordering or
editing any stored event breaks the chain or a signature (:func:`verify_chain`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from jisr.crypto.canonical import canonical_json
from jisr.crypto.jose import JoseError, sign_compact, verify_compact
from jisr.crypto.keys import PrivateKey, PublicKey, public_key_fingerprint
from jisr.identity.register.errors import HistoryTampered
from jisr.identity.register.names import ScriptedName

__all__ = [
    "EVENT_TYP",
    "PAYLOADS",
    "AddressChange",
    "BirthRecord",
    "BirthRegistration",
    "Death",
    "Event",
    "EventKind",
    "Marriage",
    "NameChange",
    "SignedEvent",
    "parse_event",
    "sign_event",
    "verify_chain",
]

EVENT_TYP = "jisr-register-event+jws"
EventKind = Literal["birth_registration", "name_change", "address_change", "marriage", "death"]

_STRICT = ConfigDict(extra="forbid", frozen=True)
_Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_Text = Annotated[str, Field(min_length=1, max_length=500)]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a timezone-aware time is required")
    return value.astimezone(UTC)


class BirthRegistration(BaseModel):
    """What a registrar submits to enrol a person (docs/identity.md, Person)."""

    model_config = _STRICT

    given_name: ScriptedName
    family_name: ScriptedName
    date_of_birth: date
    place_of_birth: _Text
    sex: Literal["F", "M"]
    nationality: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    parents: Annotated[list[str], Field(max_length=2)] = []
    address: _Text | None = None
    photo_sha256: _Hex64 | None = None


class BirthRecord(BirthRegistration):
    """The ``birth_registration`` payload: the submission plus the duplicate check's flag."""

    possible_duplicate_of: list[str] = []


class NameChange(BaseModel):
    model_config = _STRICT

    given_name: ScriptedName | None = None
    family_name: ScriptedName | None = None
    effective: date


class AddressChange(BaseModel):
    model_config = _STRICT

    address: _Text
    effective: date


class Marriage(BaseModel):
    model_config = _STRICT

    spouse: str
    date: date
    place: _Text


class Death(BaseModel):
    model_config = _STRICT

    date: date
    place: _Text


PAYLOADS: dict[str, type[BaseModel]] = {
    "birth_registration": BirthRecord,
    "name_change": NameChange,
    "address_change": AddressChange,
    "marriage": Marriage,
    "death": Death,
}


class Event(BaseModel):
    """The envelope that is canonicalised, hashed and signed."""

    model_config = _STRICT

    kind: EventKind
    person: str
    at: Annotated[datetime, AfterValidator(_utc)]
    recorded_by: _Text
    legal_basis: _Text
    payload: dict[str, Any]
    prev: Annotated[str, Field(pattern=r"^([0-9a-f]{64})?$")]

    def canonical(self) -> bytes:
        """RFC 8785 bytes of the envelope: what is signed and hashed."""
        return canonical_json(self.model_dump(mode="json"))

    def typed_payload(self) -> BaseModel:
        """The payload parsed by the model of its kind."""
        return PAYLOADS[self.kind].model_validate(self.payload)


class SignedEvent(BaseModel):
    """An event as stored: its canonical bytes' hash and the JWS over them."""

    model_config = ConfigDict(frozen=True)

    seq: int
    event: Event
    canonical: bytes
    sha256: str
    jws: str


def sign_event(event: Event, seq: int, key: PrivateKey) -> SignedEvent:
    """Canonicalise and sign ``event`` with the register key."""
    data = event.canonical()
    kid = public_key_fingerprint(key.public_key())
    token = sign_compact(data, key, kid=kid, typ=EVENT_TYP)
    digest = hashlib.sha256(data).hexdigest()
    return SignedEvent(seq=seq, event=event, canonical=data, sha256=digest, jws=token)


def verify_chain(events: Sequence[SignedEvent], public_key: PublicKey) -> None:
    """Check every signature, hash and ``prev`` link, in order; raise :class:`HistoryTampered`."""
    keys = {public_key_fingerprint(public_key): public_key}
    previous = ""
    for expected_seq, stored in enumerate(events, start=1):
        nin, seq = stored.event.person, stored.seq
        data = _verified_payload(stored, keys)
        if seq != expected_seq:
            raise HistoryTampered(nin, seq, f"sequence gap: expected {expected_seq}")
        if data != stored.canonical or data != stored.event.canonical():
            raise HistoryTampered(nin, seq, "stored event differs from the signed one")
        if hashlib.sha256(data).hexdigest() != stored.sha256:
            raise HistoryTampered(nin, seq, "hash mismatch")
        if stored.event.prev != previous:
            raise HistoryTampered(nin, seq, "chain link broken")
        previous = stored.sha256


def _verified_payload(stored: SignedEvent, keys: dict[str, PublicKey]) -> bytes:
    try:
        _, payload = verify_compact(stored.jws, keys, typ=EVENT_TYP, algorithms=("ES256",))
    except JoseError as error:
        raise HistoryTampered(stored.event.person, stored.seq, error.reason) from error
    return payload


def parse_event(canonical: bytes, nin: str, seq: int) -> Event:
    """Read stored canonical bytes back into an :class:`Event` (HistoryTampered if unreadable)."""
    try:
        return Event.model_validate_json(canonical)
    except ValidationError as error:
        raise HistoryTampered(nin, seq, "stored event is not a valid event") from error
