"""The leaf format: canonical bytes, what is refused, round trips."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jisr.crypto.canonical import canonical_json
from jisr.exchange.messagelog.merkle import leaf_hash
from jisr.exchange.messagelog.records import (
    LEAF_FORMAT,
    LogRecord,
    body_matches_content_digest,
    body_sha256,
    check_record,
    format_time,
    leaf_bytes,
    leaf_object,
    parse_time,
    prepare,
    record_from_leaf,
    record_leaf_bytes,
)
from tests.exchange.messagelog.conftest import content_digest, make_record

texts = st.text(max_size=40)
#: Header names as gateways log them (ASCII, the writer's fast path) or anything at all.
ascii_names = st.text(st.characters(max_codepoint=127), max_size=20)
header_names = ascii_names | texts
#: Strings JSON escapes or that RFC 8785 orders or encodes specially: quotes, backslashes,
#: controls, DEL, U+2028, non-BMP characters, lone surrogates.
awkward = st.text(
    st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ud800", "é", "😀", "a", "/"]),
    max_size=12,
)


@st.composite
def records(draw: st.DrawFn) -> LogRecord:
    body = draw(st.none() | st.binary(max_size=64))
    return LogRecord(
        kind=draw(st.sampled_from(["request", "response"])),
        direction=draw(st.sampled_from(["consumer", "provider"])),
        xroad_id=draw(texts),
        request_id=draw(texts),
        client=draw(texts),
        service=draw(texts),
        at=draw(st.datetimes(timezones=st.just(UTC))),
        headers=draw(st.dictionaries(header_names, texts | awkward, max_size=6)),
        content_digest=draw(texts),
        body_size=len(body) if body is not None else draw(st.integers(0, 2**53 - 1)),
        body=body,
        status=draw(st.none() | st.integers(100, 599)),
        error=draw(st.none() | texts),
    )


class TestLeafBytes:
    @settings(max_examples=400, deadline=None)
    @given(record=records())
    def test_fast_path_is_rfc8785(self, record: LogRecord) -> None:
        """The leaf bytes are exactly the RFC 8785 canonical JSON of the leaf object,
        whatever the header names and values (non-BMP, controls, quotes...)."""
        leaf = leaf_object(record, None)
        try:
            expected = canonical_json(leaf)
        except ValueError:  # lone surrogates: neither encoder may accept them
            with pytest.raises(ValueError, match=r"surrogate|non-UTF-8"):
                leaf_bytes(leaf)
            return
        assert leaf_bytes(leaf) == expected

    @settings(max_examples=1000, deadline=None)
    @given(
        record=records(), zone=st.sampled_from([UTC, timezone(timedelta(hours=-7, minutes=-30))])
    )
    def test_writer_bytes_are_rfc8785(self, record: LogRecord, zone: timezone) -> None:
        """record_leaf_bytes (the writer's path, no leaf object) gives exactly the RFC 8785
        canonical JSON of the leaf object, and refuses what RFC 8785 refuses."""
        record = dataclasses.replace(record, at=record.at.astimezone(zone))
        digest = body_sha256(record.body)
        try:
            expected = canonical_json(leaf_object(record, digest))
        except ValueError:
            with pytest.raises(ValueError, match=r"surrogate|non-UTF-8"):
                record_leaf_bytes(record, digest)
            return
        assert record_leaf_bytes(record, digest) == expected
        assert prepare(record) == (digest, leaf_hash(expected))

    @settings(max_examples=300, deadline=None)
    @given(
        record=records(),
        changes=st.fixed_dictionaries(
            {},
            optional={
                "kind": st.just(1) | st.builds(type("S", (str,), {}), texts),
                "client": st.none() | st.integers(),
                "body_size": st.just(True) | st.just(2**60) | st.floats(0, 10) | st.just(-3),
                "status": st.just(True) | st.floats(0, 10) | st.integers(-(2**60), 2**60),
                "error": st.just(3),
                "headers": st.dictionaries(st.integers(0, 9) | texts, texts | st.integers())
                | st.dictionaries(texts, texts).map(MappingProxyType),
            },
        ),
    )
    def test_writer_bytes_match_the_general_path_whatever_the_input(
        self, record: LogRecord, changes: dict[str, Any]
    ) -> None:
        """Even for records check_record would refuse, record_leaf_bytes gives what
        leaf_bytes(leaf_object(...)) gives, or the same kind of error."""
        record = dataclasses.replace(record, **changes)
        outcomes = []
        for encode in (
            lambda: record_leaf_bytes(record, "ab"),
            lambda: leaf_bytes(leaf_object(record, "ab")),
        ):
            try:
                outcomes.append(encode())
            except Exception as exc:
                outcomes.append(type(exc))
        assert outcomes[0] == outcomes[1]

    def test_gateway_records(self) -> None:
        """Records as the gateway logs them (lowercase X-Road and signature headers, a
        body or not, a fault) take the fast path and give the canonical bytes."""
        request = make_record("x-1")
        lowered = {k.lower(): v for k, v in request.headers.items()}
        cases = [
            request,
            make_record("x-2", kind="response", keep_body=False, error="Server.ServerProxy.X"),
            dataclasses.replace(request, headers=lowered),
            dataclasses.replace(request, headers={}),
            dataclasses.replace(request, headers={"x-note": 'quote " back \\ tab \t nl \n'}),
            dataclasses.replace(request, client="MA/GOV/ÉCOLE/😀", status=599),
        ]
        for record in cases:
            digest = body_sha256(record.body)
            assert record_leaf_bytes(record, digest) == canonical_json(leaf_object(record, digest))

    def test_leaf_commits_to_the_body_by_digest(self) -> None:
        """The leaf holds the body's SHA-256, not the body; another body, another leaf."""
        record = make_record(body=b"secret payload")
        digest, leaf = prepare(record)
        assert digest is not None
        assert b"secret payload" not in leaf_bytes(leaf_object(record, digest))
        other = prepare(dataclasses.replace(record, body=b"secret paylobd"))
        assert other[1] != leaf

    def test_unkept_body_has_null_digest(self) -> None:
        """A body the gateway does not keep leaves only Content-Digest in the leaf."""
        record = make_record(keep_body=False)
        digest, _ = prepare(record)
        assert digest is None
        assert leaf_object(record, None)["format"] == LEAF_FORMAT

    def test_one_time_spelling_per_instant(self) -> None:
        """The same instant in any zone gives the same leaf."""
        moment = datetime(2026, 11, 29, 13, 0, 0, 5, tzinfo=UTC)
        local = moment.astimezone(timezone(timedelta(hours=1)))
        assert format_time(moment) == format_time(local) == "2026-11-29T13:00:00.000005Z"
        assert parse_time(format_time(local)) == moment
        with pytest.raises(ValueError, match="time format"):
            parse_time("2026-11-29T13:00:00.5Z")


class TestRefusals:
    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"kind": "notice"}, "kind"),
            ({"direction": "sideways"}, "direction"),
            ({"xroad_id": "x" * 256}, "xroad_id"),
            ({"at": datetime(2026, 1, 1)}, "aware"),
            ({"body_size": 3}, "body_size says"),
            ({"body_size": -1}, "non-negative"),
            ({"body_size": 2**53}, "below 2\\*\\*53"),
            ({"status": True}, "status"),
            ({"headers": {"a": 1}}, "headers"),
            ({"headers": {1: "a"}}, "headers"),
            ({"request_id": "r" * 256}, "request_id"),
            ({"request_id": None}, "request_id"),
            ({"client": None}, "client"),
            ({"service": 1}, "service"),
            ({"content_digest": b"x"}, "content_digest"),
            ({"status": 1000}, "status"),
            ({"error": 1}, "error"),
        ],
    )
    def test_bad_records_are_refused(self, change: dict[str, object], message: str) -> None:
        """A record that cannot be logged faithfully is refused before any batch."""
        with pytest.raises(ValueError, match=message):
            check_record(dataclasses.replace(make_record(), **change))  # type: ignore[arg-type]


class TestRoundTrip:
    @settings(max_examples=100, deadline=None)
    @given(record=records())
    def test_record_from_leaf(self, record: LogRecord) -> None:
        """A leaf object and the body give back the record (archives, evidence)."""
        try:
            check_record(record)
            digest, _ = prepare(record)
        except ValueError:
            return
        rebuilt = record_from_leaf(leaf_object(record, digest), record.body)
        assert rebuilt.at == record.at
        assert dict(rebuilt.headers) == dict(record.headers)
        assert dataclasses.replace(rebuilt, headers={}, at=record.at) == dataclasses.replace(
            record, headers={}
        )

    def test_body_must_match_its_digest(self) -> None:
        """A body swapped under a leaf is refused."""
        record = make_record()
        digest, _ = prepare(record)
        with pytest.raises(ValueError, match="body_sha256"):
            record_from_leaf(leaf_object(record, digest), b"x" * record.body_size)


class TestContentDigest:
    def test_rfc9530_values(self) -> None:
        """sha-256 and sha-512 members are checked; unknown algorithms say nothing."""
        body = b'{"hello": "world"}'
        assert body_matches_content_digest(content_digest(body), body) is True
        assert body_matches_content_digest(content_digest(body), body + b" ") is False
        assert body_matches_content_digest("md5=:AAAA:", body) is None
        assert body_matches_content_digest("sha-256=not-a-byte-sequence", body) is False
