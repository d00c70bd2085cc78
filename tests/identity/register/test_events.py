"""Events: canonical bytes, signatures and the hash chain, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from jisr.crypto.keys import PrivateKey, generate_private_key
from jisr.identity.register import AddressChange, Event, HistoryTampered, verify_chain
from jisr.identity.register.events import SignedEvent, sign_event

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _event(kind: str = "address_change", prev: str = "", **payload: object) -> Event:
    return Event.model_validate(
        {
            "kind": kind,
            "person": "BK0000019",
            "at": AT,
            "recorded_by": "registrar-12",
            "legal_basis": "Loi 36-21",
            "payload": payload or {"address": "1 rue Oqba, Rabat", "effective": "2026-01-01"},
            "prev": prev,
        }
    )


def _chain(key: PrivateKey, length: int = 3) -> list[SignedEvent]:
    chain: list[SignedEvent] = []
    for seq in range(1, length + 1):
        prev = chain[-1].sha256 if chain else ""
        chain.append(sign_event(_event(prev=prev), seq, key))
    return chain


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return generate_private_key()


def test_canonical_bytes_are_rfc8785() -> None:
    """Members are sorted, there is no whitespace and the time is UTC with a Z."""
    assert _event().canonical() == (
        b'{"at":"2026-01-02T03:04:05Z","kind":"address_change","legal_basis":"Loi 36-21",'
        b'"payload":{"address":"1 rue Oqba, Rabat","effective":"2026-01-01"},'
        b'"person":"BK0000019","prev":"","recorded_by":"registrar-12"}'
    )


def test_valid_chain_verifies(key: PrivateKey) -> None:
    """A chain signed by the register key, each event linking the previous, verifies."""
    verify_chain(_chain(key), key.public_key())


def test_wrong_key_refused(key: PrivateKey) -> None:
    """Events signed by another key do not verify."""
    with pytest.raises(HistoryTampered, match="unknown_kid"):
        verify_chain(_chain(generate_private_key()), key.public_key())


def test_missing_event_breaks_chain(key: PrivateKey) -> None:
    """Deleting an event from the middle is detected."""
    chain = _chain(key)
    with pytest.raises(HistoryTampered):
        verify_chain([chain[0], chain[2]], key.public_key())


def test_swapped_event_bytes_detected(key: PrivateKey) -> None:
    """Stored bytes that differ from the signed ones are detected."""
    chain = _chain(key, 1)
    other = _event(address="2 rue Oqba, Rabat", effective="2026-01-01").canonical()
    forged = chain[0].model_copy(update={"canonical": other})
    with pytest.raises(HistoryTampered, match="differs"):
        verify_chain([forged], key.public_key())


def test_naive_time_refused() -> None:
    """An event time without a time zone is refused."""
    with pytest.raises(ValidationError, match="timezone-aware"):
        Event.model_validate(_event().model_dump() | {"at": datetime(2026, 1, 1)})


def test_payload_extra_fields_forbidden() -> None:
    """Payload models refuse fields they do not define."""
    with pytest.raises(ValidationError, match="extra"):
        AddressChange.model_validate({"address": "x", "effective": date(2026, 1, 1), "x": 1})
