"""The leaf format: canonical bytes, what is refused, round trips."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jisr.crypto.canonical import canonical_json
from jisr.exchange.messagelog.records import (
    LEAF_FORMAT,
    LogRecord,
    body_matches_content_digest,
    check_record,
    format_time,
    leaf_bytes,
    leaf_object,
    parse_time,
    prepare,
    record_from_leaf,
)
from tests.exchange.messagelog.conftest import content_digest, make_record

texts = st.text(max_size=40)


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
        headers=draw(st.dictionaries(texts, texts, max_size=6)),
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
