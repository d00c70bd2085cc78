"""Tests for jisr.exchange.gateway.protocol: X-Road Message Protocol for REST r1 (PR-REST §4)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import uuid
from collections.abc import Callable
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jisr.exchange.gateway.errors import BadRequest, InvalidClientIdentifier, XRoadError
from jisr.exchange.gateway.protocol import (
    MAX_URI_LENGTH,
    REQUEST_HASH_HEADERS,
    ClientHeaders,
    RepresentedParty,
    Target,
    filter_response_headers,
    outgoing_headers,
    parse_client_headers,
    parse_target,
    request_hash,
    wants_xml,
)
from jisr.ids import ALLOWED_CHARACTERS, GatewayId, MemberId, ServiceId, SubsystemId

# The subsystems of the global configuration the examples run against.
SUBSYSTEMS = {
    ("INSTANCE", "CLASS2", "MEMBER2", "SUBSYSTEM2"),
    ("DEV", "COM", "222", "TESTSERVICE"),
    ("I", "C", "M", "S"),
}


def is_subsystem(member: MemberId, code: str) -> bool:
    return (member.instance, member.member_class, member.member_code, code) in SUBSYSTEMS


def never_subsystem(member: MemberId, code: str) -> bool:
    return False


def target(path: bytes, query: bytes = b"") -> Target:
    return parse_target(path, query, is_subsystem=is_subsystem)


PETSTORE = ServiceId("DEV", "COM", "222", "TESTSERVICE", "petstore")


class TestParseTarget:
    def test_section_4_1_example(self) -> None:
        """§4.1: GET /r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE/v1/bar/zyggy?quu=1."""
        parsed = target(b"/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE/v1/bar/zyggy", b"quu=1")
        assert parsed == Target(
            ServiceId("INSTANCE", "CLASS2", "MEMBER2", "SUBSYSTEM2", "BARSERVICE"),
            "/v1/bar/zyggy",
            "quu=1",
        )

    @pytest.mark.parametrize(
        ("section", "path", "service_path"),
        [
            ("6.2 GET", b"/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets/1124", "/v2/pets/1124"),
            (
                "6.3 PUT",
                b"/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets/5657082955040009",
                "/v2/pets/5657082955040009",
            ),
            ("6.4 POST", b"/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets", "/v2/pets"),
            ("6.5 DELETE", b"/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets/1124", "/v2/pets/1124"),
            (
                "6.6 POST images",
                b"/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets/1124/images",
                "/v2/pets/1124/images",
            ),
        ],
    )
    def test_section_6_examples(self, section: str, path: bytes, service_path: str) -> None:
        """§6.2-§6.6 request lines, with the serviceId of their responses (DEV/COM/222/...)."""
        assert target(path) == Target(PETSTORE, service_path, "")

    @pytest.mark.parametrize(
        "service_code", ["listMethods", "allowedMethods", "getOpenAPI"], ids=str
    )
    def test_metaservice_paths(self, service_code: str) -> None:
        """PR-MREST §3-§4: metaservices are addressed like any service of the provider."""
        parsed = target(f"/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/{service_code}".encode())
        assert parsed.service.service_code == service_code
        assert parsed.path == ""

    def test_member_level_service(self) -> None:
        """§4.1: the subsystem is optional; a non-subsystem fourth part is the service code."""
        parsed = target(b"/r1/I/C/M/weather/today")
        assert parsed == Target(ServiceId("I", "C", "M", None, "weather"), "/today", "")

    def test_is_subsystem_decides_with_decoded_member_and_code(self) -> None:
        """The callback gets the member and the percent-decoded fourth part."""
        calls: list[tuple[MemberId, str]] = []

        def record(member: MemberId, code: str) -> bool:
            calls.append((member, code))
            return True

        parsed = parse_target(b"/r1/I/C/M/S%3F1/svc", b"", is_subsystem=record)
        assert calls == [(MemberId("I", "C", "M"), "S?1")]
        assert parsed.service == ServiceId("I", "C", "M", "S?1", "svc")

    def test_subsystem_without_service_code(self) -> None:
        """A path that stops at a subsystem names no service."""
        with pytest.raises(BadRequest, match="subsystem I/C/M/S but no service code"):
            target(b"/r1/I/C/M/S")

    @pytest.mark.parametrize(
        ("path", "expected"), [(b"/r1/I/C/M/S/svc", ""), (b"/r1/I/C/M/S/svc/", "/")]
    )
    def test_empty_and_root_service_path_differ(self, path: bytes, expected: str) -> None:
        """The service path is passed on exactly: none at all is not the same as '/'."""
        assert target(path).path == expected

    def test_service_path_and_query_pass_verbatim(self) -> None:
        """§4.5: path and query reach the provider unmodified, escapes and duplicates kept."""
        parsed = target(b"/r1/I/C/M/S/svc/a%20b/%E2%82%AC/x;y=1", b"q=1&q=2&x=%2F&y=a+b")
        assert parsed.path == "/a%20b/%E2%82%AC/x;y=1"
        assert parsed.query == "q=1&q=2&x=%2F&y=a+b"

    def test_encoded_slash_inside_data_segment_is_allowed(self) -> None:
        """%2F inside a service-path segment is the backend's business unless it hides '..'."""
        assert target(b"/r1/I/C/M/S/svc/files/a%2Fb").path == "/files/a%2Fb"

    def test_uri_is_canonical(self) -> None:
        """Target.uri re-encodes the service id canonically and keeps path and query."""
        parsed = target(b"/r1/%49/C/M/S/svc/x", b"a=1")
        assert parsed.uri == "/r1/I/C/M/S/svc/x?a=1"

    def test_section_4_2_invalid_example(self) -> None:
        """§4.2: INSTANCE%2FCLASS%2FMEMBER%2FSUBSYSTEM%2FBARSERVICE is one part, not an id."""
        with pytest.raises(BadRequest, match="names no service"):
            target(b"/r1/INSTANCE%2FCLASS%2FMEMBER%2FSUBSYSTEM%2FBARSERVICE")

    def test_encoded_slash_in_identifier_part(self) -> None:
        """§4.2's BAR%2FSERVICE decodes to 'BAR/SERVICE', which §4.8 (v1.0.3) forbids."""
        with pytest.raises(BadRequest, match=r"service code 'BAR/SERVICE'.*'/'"):
            target(b"/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BAR%2FSERVICE")

    def test_identifier_error_names_the_part(self) -> None:
        """The message says which part is wrong and why."""
        with pytest.raises(BadRequest, match=r"member code 'M\*': character '\*'"):
            target(b"/r1/I/C/M*/S/svc")

    def test_ambiguous_fourth_part_is_named_as_such(self) -> None:
        """A bad fourth part may be a subsystem or a service code: the message says both."""
        with pytest.raises(BadRequest, match="subsystem or service code"):
            target(b"/r1/I/C/M/S~/svc")

    @pytest.mark.parametrize(
        ("path", "message"),
        [
            (b"/r2/I/C/M/S/svc", "protocol version 'r2' is not supported"),
            (b"/r10/I/C/M/S/svc", "protocol version 'r10'"),
            (b"/v1/I/C/M/S/svc", r"must be /r1/"),
            (b"/R1/I/C/M/S/svc", r"must be /r1/"),
            (b"/%721/I/C/M/S/svc", r"must be /r1/"),
            (b"/r1", r"names no service"),
            (b"/r1/", r"names no service"),
            (b"/", r"must be /r1/"),
            (b"", r"must be /r1/"),
            (b"r1/I/C/M/S/svc", r"must be /r1/"),
            (b"http://evil/r1/I/C/M/S/svc", r"must be /r1/"),
            (b"/r1/I/C/M", r"names no service"),
            (b"/r1/I//M/S/svc", r"member class '': must not be empty"),
        ],
    )
    def test_refused_paths(self, path: bytes, message: str) -> None:
        """Anything but /r1/{serviceId}[/path] is a Client.BadRequest with a precise message."""
        with pytest.raises(BadRequest, match=message):
            target(path)

    @pytest.mark.parametrize(
        "path",
        [
            b"/r1/I/C/M/S/svc/../../etc",
            b"/r1/I/C/M/S/svc/./x",
            b"/r1/I/C/M/S/svc/x/..",
            b"/r1/I/C/M/S/svc/%2e%2e/etc/passwd",
            b"/r1/I/C/M/S/svc/%2E%2E/etc",
            b"/r1/I/C/M/S/svc/.%2e/etc",
            b"/r1/I/C/M/S/svc/%2e",
            b"/r1/I/C/M/S/svc/..%2F..%2Fetc",
            b"/r1/I/C/M/S/svc/x%2F..",
            b"/r1/I/C/M/S/svc/%2F..%2F",
            b"/r1/I/C/M/S/svc/..;/admin",
            b"/r1/I/C/M/S/svc/%2e%2e;x=1/admin",
            b"/r1/I/C/M/S/svc/%EF%BC%8E%EF%BC%8E/etc",  # fullwidth '..'
            b"/r1/I/C/M/S/svc/%E2%80%A5",  # two dot leader
        ],
    )
    def test_traversal_refused(self, path: bytes) -> None:
        """§4.2: no spelling of a '.' or '..' segment reaches the backend."""
        with pytest.raises(BadRequest, match="path traversal"):
            target(path)

    @pytest.mark.parametrize(
        ("path", "message"),
        [
            (b"/r1/I/C/M/S/svc/a\\..\\b", r"backslash at position 17 is refused"),
            (b"/r1/I/C/M/S/svc/a%5C..%5Cb", r"forbidden character '\\\\'"),
            (b"/r1/I/C/M/S/svc/a%5cb", r"forbidden character '\\\\'"),
            (b"/r1/I/C/M/S/svc/a\x00b", r"'\\x00' \(0x00\)"),
            (b"/r1/I/C/M/S/svc/a%00b", r"forbidden character '\\x00'"),
            (b"/r1/I/C/M/S/svc/a%0d%0aHost:%20x", r"forbidden character '\\r'"),
            (b"/r1/I/C/M/S/svc/a%C2%85b", r"forbidden character '\\x85'"),
            (b"/r1/I/C/M/S/svc/a b", r"' ' \(0x20\)"),
            (b"/r1/I/C/M/S/svc/caf\xc3\xa9", r"byte 0xC3 at position 19 is not ASCII"),
            (b"/r1/I/C/M/S/svc/a%zzb", r"'%zz' at position 1 is not a valid percent-escape"),
            (b"/r1/I/C/M/S/svc/a%", r"'%' at position 1 is not a valid percent-escape"),
            (b"/r1/I/C/M/S/svc/%C0%AE%C0%AE", r"does not decode as UTF-8"),
            (b"/r1/I/C/M/S/svc//evil.example/x", r"must not begin with '//'"),
            (b"/r1/I/C/M/S/svc/a#b", r"'#' \(0x23\)"),
        ],
    )
    def test_unsafe_service_paths_refused(self, path: bytes, message: str) -> None:
        """Backslashes, controls, bad escapes, overlong UTF-8 and '//' are refused (§4.2)."""
        with pytest.raises(BadRequest, match=message):
            target(path)

    @pytest.mark.parametrize("query", [b"a=1\x00", b"a=1 2", b"a=\xff", b"a=1#frag", b"a=\r\n"])
    def test_unsafe_query_refused(self, query: bytes) -> None:
        """Bytes that cannot be in a request line are refused; the rest passes (§4.5)."""
        with pytest.raises(BadRequest, match="query string"):
            target(b"/r1/I/C/M/S/svc", query)

    def test_uri_length_limit(self) -> None:
        """§4.2: 2000 characters by default, counting path, '?' and query."""
        path = b"/r1/I/C/M/S/svc/"
        filler = b"a" * (MAX_URI_LENGTH - len(path) - 2)
        assert target(path + filler, b"q").query == "q"
        with pytest.raises(BadRequest, match="2001 characters long, the limit is 2000"):
            target(path + filler + b"a", b"q")

    def test_uri_length_limit_is_a_parameter(self) -> None:
        """The limit can be set per gateway."""
        with pytest.raises(BadRequest, match="the limit is 10"):
            parse_target(b"/r1/I/C/M/S/svc", b"", is_subsystem=is_subsystem, max_uri_length=10)

    @given(raw_path=st.binary(max_size=300), query=st.binary(max_size=50))
    def test_random_bytes_only_raise_xroad_errors(self, raw_path: bytes, query: bytes) -> None:
        """Whatever the bytes, the result is a Target or an XRoadError, never a crash."""
        with contextlib.suppress(XRoadError):
            parse_target(raw_path, query, is_subsystem=never_subsystem)

    @given(
        raw_path=st.lists(
            st.sampled_from(
                [
                    "r1",
                    "I",
                    "C",
                    "M",
                    "S",
                    "svc",
                    "..",
                    ".",
                    "%2e",
                    "%2F",
                    "%5C",
                    "%00",
                    "%",
                    "%zz",
                    "",
                    "a",
                    "\\",
                    "%C0%AE",
                    ";",
                    "..;",
                    "%EF%BC%8E",
                ]
            ),
            max_size=10,
        ).map(lambda parts: "/" + "/".join(parts))
    )
    def test_structured_garbage_only_raises_xroad_errors(self, raw_path: str) -> None:
        """Path-shaped inputs built from the dangerous pieces never crash the parser."""
        try:
            parsed = parse_target(raw_path.encode(), b"", is_subsystem=is_subsystem)
        except XRoadError:
            return
        segments = parsed.path.split("/")
        assert ".." not in segments
        assert "." not in segments

    @given(
        service=st.builds(
            ServiceId,
            *[st.text(sorted(ALLOWED_CHARACTERS), min_size=1, max_size=8)] * 3,
            st.none(),
            st.text(sorted(ALLOWED_CHARACTERS), min_size=1, max_size=8),
        ),
        segments=st.lists(st.text("abcXYZ019-_~", min_size=1, max_size=6), max_size=4),
    )
    def test_valid_requests_round_trip(self, service: ServiceId, segments: list[str]) -> None:
        """An encoded service id and a plain path parse back to themselves (Target.uri)."""
        path = "".join(f"/{segment}" for segment in segments)
        raw = f"/r1/{service.encoded()}{path}".encode()
        parsed = parse_target(raw, b"", is_subsystem=never_subsystem)
        assert parsed == Target(service, path, "")
        assert parsed.uri.encode() == raw


CLIENT = (b"X-Road-Client", b"INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1")


class TestParseClientHeaders:
    def test_section_4_3_request_headers(self) -> None:
        """§4.3's example values: client, id, user, issue, security server, represented party."""
        parsed = parse_client_headers(
            [
                CLIENT,
                (b"X-Road-Id", b"fa2e18a5-c2cb-4d09-b994-f57727f7c3fb"),
                (b"X-Road-UserId", b"EE12345678901"),
                (b"X-Road-Issue", b"MT324223MSD"),
                (b"X-Road-Security-Server", b"INSTANCE/MEMBERCLASS/MEMBERCODE/SERVERCODE"),
                (b"X-Road-Represented-Party", b"MEMBERCLASS/MEMBERCODE"),
                (b"Accept", b"application/json"),
            ]
        )
        assert parsed == ClientHeaders(
            client=SubsystemId("INSTANCE", "CLASS1", "MEMBER1", "SUBSYSTEM1"),
            x_road_id="fa2e18a5-c2cb-4d09-b994-f57727f7c3fb",
            user_id="EE12345678901",
            issue="MT324223MSD",
            represented_party=RepresentedParty("MEMBERCLASS", "MEMBERCODE"),
            security_server=GatewayId("INSTANCE", "MEMBERCLASS", "MEMBERCODE", "SERVERCODE"),
            passthrough=[(b"accept", b"application/json")],
        )

    def test_section_6_client_header(self) -> None:
        """§6.6 spells it X-Road-client: header names are case-insensitive (§4.3)."""
        parsed = parse_client_headers([(b"X-Road-client", b"DEV/COM/222/TESTCLIENT")])
        assert parsed.client == SubsystemId("DEV", "COM", "222", "TESTCLIENT")

    def test_member_client(self) -> None:
        """§4.1: the subsystem of the client is optional."""
        parsed = parse_client_headers([(b"x-road-client", b"I/C/M")])
        assert parsed.client == MemberId("I", "C", "M")

    def test_last_client_header_wins(self) -> None:
        """§4.3: with several X-Road-Client headers, the last one is the initiator."""
        parsed = parse_client_headers(
            [(b"x-road-client", b"I/C/FIRST"), (b"X-ROAD-CLIENT", b"I/C/LAST/SUB")]
        )
        assert parsed.client == SubsystemId("I", "C", "LAST", "SUB")

    def test_last_client_header_wins_even_if_an_earlier_one_is_malformed(self) -> None:
        """Only the last X-Road-Client is read."""
        parsed = parse_client_headers(
            [(b"x-road-client", b"bad id!"), (b"x-road-client", b"I/C/M")]
        )
        assert parsed.client == MemberId("I", "C", "M")

    def test_missing_client(self) -> None:
        """The one mandatory header (§4.3)."""
        with pytest.raises(BadRequest, match="X-Road-Client header missing"):
            parse_client_headers([(b"accept", b"*/*")])

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (b"I/C/M/S/X", r"client id .*expected INSTANCE/CLASS/MEMBER\[/SUBSYSTEM\], got 5"),
            (b"I/C", r"got 2 parts"),
            (b"I/C/M\xc3\xa9", r"byte 0xC3 at position 5 is not ASCII"),
            (b"I/C/M%2FX", r"member code 'M/X'.*character '/'"),
            (b"I/C/M%zz", r"member code .*not a valid percent-escape"),
            (b"I//M", r"member class '': must not be empty"),
            (b"", r"got 1 part"),
        ],
    )
    def test_malformed_client(self, value: bytes, message: str) -> None:
        """A malformed client id is Client.InvalidClientIdentifier naming the part and char."""
        with pytest.raises(InvalidClientIdentifier, match=message) as caught:
            parse_client_headers([(b"x-road-client", value)])
        assert caught.value.status == 400

    def test_percent_encoded_client_parts_are_decoded(self) -> None:
        """§4.3: the parts are UTF-8 percent-encoded, each on its own."""
        parsed = parse_client_headers([(b"x-road-client", b"I/C/M%3F/S")])
        assert parsed.client == SubsystemId("I", "C", "M?", "S")

    def test_x_road_id_is_generated_when_absent(self) -> None:
        """§4.3: if X-Road-Id is not provided, the consumer gateway generates one (a UUID)."""
        first = parse_client_headers([CLIENT]).x_road_id
        second = parse_client_headers([CLIENT, (b"x-road-id", b"  ")]).x_road_id
        assert uuid.UUID(first).version == 4
        assert uuid.UUID(second).version == 4
        assert first != second

    def test_optional_headers_absent(self) -> None:
        """Without them, user id, issue, represented party and security server are None."""
        parsed = parse_client_headers([CLIENT])
        assert parsed.user_id is None
        assert parsed.issue is None
        assert parsed.represented_party is None
        assert parsed.security_server is None

    def test_text_headers_are_trimmed(self) -> None:
        """User id and issue are free text; surrounding spaces and tabs are removed."""
        parsed = parse_client_headers(
            [CLIENT, (b"x-road-userid", b" EE1\t"), (b"x-road-issue", b"MT 324/223 (MSD)")]
        )
        assert (parsed.user_id, parsed.issue) == ("EE1", "MT 324/223 (MSD)")

    @pytest.mark.parametrize(
        ("header", "value", "message"),
        [
            (b"x-road-userid", b"\xff", "X-Road-UserId header: byte 0xFF at position 0"),
            (
                b"x-road-issue",
                "Dossier Ä1".encode(),
                "X-Road-Issue header: byte 0xC3 at position 8",
            ),
            (b"x-road-issue", b"a\x7fb", "control byte 0x7F at position 1"),
            (b"x-road-id", b"a\tb", "byte 0x09 at position 1"),
            (b"x-road-id", b"x" * 256, "256 characters long, the limit is 255"),
        ],
    )
    def test_text_headers_refused(self, header: bytes, value: bytes, message: str) -> None:
        """Non-ASCII, control-laden or overlong X-Road text headers are Client.BadRequest."""
        with pytest.raises(BadRequest, match=message):
            parse_client_headers([CLIENT, (header, value)])

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (b"MEMBERCLASS/MEMBERCODE", RepresentedParty("MEMBERCLASS", "MEMBERCODE")),
            (b"MEMBERCODE", RepresentedParty(None, "MEMBERCODE")),
            (b"GOV/12%3F3", RepresentedParty("GOV", "12?3")),
        ],
    )
    def test_represented_party(self, value: bytes, expected: RepresentedParty) -> None:
        """§4.3: [member class]/[member code], the class and its separator optional."""
        parsed = parse_client_headers([CLIENT, (b"x-road-represented-party", value)])
        assert parsed.represented_party == expected

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (b"A/B/C", r"must be \[CLASS/\]CODE"),
            (b"/CODE", "member class '': must not be empty"),
            (b"GOV/", "member code '': must not be empty"),
            (b"GOV/a b", "member code 'a b'.*character ' '"),
            (b"GOV/a%zz", "member code 'a%zz'.*not a percent-escape"),
            (b"GOV/%FF", "member code '%FF'"),
        ],
    )
    def test_represented_party_refused(self, value: bytes, message: str) -> None:
        """A malformed represented party is Client.BadRequest naming the part."""
        with pytest.raises(BadRequest, match=message):
            parse_client_headers([CLIENT, (b"x-road-represented-party", value)])

    def test_represented_party_forms(self) -> None:
        """str and encoded() give the §4.3 header form back."""
        party = RepresentedParty("GOV", "12?3")
        assert (str(party), party.encoded()) == ("GOV/12?3", "GOV/12%3F3")
        assert RepresentedParty(None, "X").encoded() == "X"

    def test_security_server_refused(self) -> None:
        """X-Road-Security-Server must be INSTANCE/CLASS/MEMBER/SERVER."""
        with pytest.raises(BadRequest, match=r"X-Road-Security-Server.*expected"):
            parse_client_headers([CLIENT, (b"x-road-security-server", b"I/C/M")])

    def test_passthrough_filtering(self) -> None:
        """§4.3: hop-by-hop, origin-leaking, gateway-handled and X-Road headers stay behind."""
        headers = [
            (b"Host", b"gateway.local"),
            (b"User-Agent", b"curl/8"),
            (b"Server", b"x"),
            (b"Content-Length", b"12"),
            (b"Expect", b"100-continue"),
            (b"Connection", b"keep-alive, X-Secret-Hop"),
            (b"Keep-Alive", b"timeout=5"),
            (b"Proxy-Authorization", b"Basic eA=="),
            (b"Proxy-Authenticate", b"Basic"),
            (b"Proxy-Connection", b"keep-alive"),
            (b"TE", b"trailers"),
            (b"Trailer", b"Expires"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Upgrade", b"h2c"),
            (b"X-Secret-Hop", b"named in Connection"),
            CLIENT,
            (b"X-Road-Service", b"I/C/M/S/forged"),
            (b"X-Road-Request-Hash", b"forged"),
            (b"X-Road-Error", b"forged"),
            (b"X-Road-Request-Id", b"forged"),
            (b"X-Road-Id", b"id-1"),
            (b"Content-Type", b"application/json; charset=utf-8"),
            (b"Accept", b"application/xml"),
            (b"Authorization", b"Bearer eyJ..."),
            (b"Cache-Control", b"no-cache"),
            (b"X-Powered-By", b"PHP/5.2.17"),
            (b"X-Road-Extension", b"contract between ISs"),
            (b"Accept", b"text/plain"),
        ]
        assert parse_client_headers(headers).passthrough == [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"accept", b"application/xml"),
            (b"authorization", b"Bearer eyJ..."),
            (b"cache-control", b"no-cache"),
            (b"x-powered-by", b"PHP/5.2.17"),
            (b"x-road-extension", b"contract between ISs"),
            (b"accept", b"text/plain"),
        ]

    def test_connection_named_headers_are_case_insensitive(self) -> None:
        """A header named in Connection is hop-by-hop whatever its case, in any Connection."""
        headers = [
            CLIENT,
            (b"connection", b"close"),
            (b"CONNECTION", b" X-A ,x-b"),
            (b"x-a", b"1"),
            (b"X-B", b"2"),
            (b"x-c", b"3"),
        ]
        assert parse_client_headers(headers).passthrough == [(b"x-c", b"3")]

    def test_header_size_limit(self) -> None:
        """The headers together may not exceed the limit (64 KiB by default)."""
        big = [CLIENT, (b"x-big", b"a" * (64 * 1024))]
        with pytest.raises(BadRequest, match=r"request headers are \d+ bytes, the limit is 65536"):
            parse_client_headers(big)
        with pytest.raises(BadRequest, match="the limit is 100"):
            parse_client_headers([CLIENT, (b"x", b"a" * 100)], max_header_bytes=100)

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            (b"x-a", b"a\r\nInjected: 1", "control byte 0x0D"),
            (b"x-a", b"a\x00", "control byte 0x00"),
            (b"x a", b"1", "is not an HTTP token"),
            (b"", b"1", "is not an HTTP token"),
            (b"x:a", b"1", "is not an HTTP token"),
        ],
    )
    def test_malformed_headers_refused(self, name: bytes, value: bytes, message: str) -> None:
        """Header injection cannot ride through passthrough (RFC 9110 §5.1, §5.5)."""
        with pytest.raises(BadRequest, match=message):
            parse_client_headers([CLIENT, (name, value)])

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        b"x-road-client",
                        b"x-road-id",
                        b"x-road-userid",
                        b"x-road-issue",
                        b"x-road-represented-party",
                        b"x-road-security-server",
                        b"connection",
                        b"accept",
                    ]
                )
                | st.binary(max_size=12),
                st.binary(max_size=40),
            ),
            max_size=8,
        )
    )
    def test_random_headers_only_raise_xroad_errors(
        self, headers: list[tuple[bytes, bytes]]
    ) -> None:
        """Whatever the headers, the result is ClientHeaders or an XRoadError."""
        try:
            parsed = parse_client_headers(headers)
        except XRoadError:
            return
        assert all(not name.startswith(b"x-road-client") for name, _ in parsed.passthrough)


class TestOutgoingHeaders:
    def test_reissued_xroad_headers(self) -> None:
        """The consumer gateway sends the passthrough plus X-Road headers it re-issues."""
        client = parse_client_headers(
            [
                (b"x-road-client", b"I/C/M%3F/S"),
                (b"x-road-id", b"id-1"),
                (b"x-road-userid", b"EE1"),
                (b"x-road-represented-party", b"GOV/12%3F3"),
                (b"x-road-security-server", b"I/C/M/SS1"),
                (b"accept", b"application/json"),
                (b"accept", b"text/plain"),
                (b"cookie", b"a=1"),
                (b"cookie", b"b=2"),
            ]
        )
        out = outgoing_headers(
            client, service=ServiceId("I", "C", "P", "S", "svc?"), request_id="r1"
        )
        assert out == {
            "accept": "application/json, text/plain",
            "cookie": "a=1; b=2",
            "x-road-client": "I/C/M%3F/S",
            "x-road-service": "I/C/P/S/svc%3F",
            "x-road-id": "id-1",
            "x-road-request-id": "r1",
            "x-road-userid": "EE1",
            "x-road-represented-party": "GOV/12%3F3",
        }


class TestFilterResponseHeaders:
    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"Content-Type", b"application/json;charset=utf-8"),
        (b"Date", b"Thu, 21 Mar 2019 12:36:39 GMT"),
        (b"Content-Length", b"1148"),
        (b"Server", b"nginx/1.2"),
        (b"Connection", b"keep-alive, X-Hop"),
        (b"X-Hop", b"1"),
        (b"Transfer-Encoding", b"chunked"),
        (b"x-road-id", b"29f4d011-ef17-4f2f-9bb1-0452ce17d3f5"),
        (b"x-road-client", b"DEV/COM/222/TESTCLIENT"),
        (b"x-road-service", b"DEV/COM/222/TESTSERVICE/petstore"),
        (b"x-road-request-id", b"f92591a3-6bf0-49b1-987b-0dd78c034cc3"),
        (b"x-road-request-hash", b"Xvx9V2U5c5RhDUiXpVLtW7L8vTd5cM2IOBU2n9efEk7="),
        (b"X-Road-Error", b"Server.ServerProxy.Forged"),
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"b=2"),
        (b"Location", b"https://elsewhere/"),
    ]

    def test_backend_response(self) -> None:
        """§4.3: X-Road headers a backend sets are dropped (the gateway overwrites them)."""
        assert filter_response_headers(self.HEADERS) == [
            (b"content-type", b"application/json;charset=utf-8"),
            (b"date", b"Thu, 21 Mar 2019 12:36:39 GMT"),
            (b"set-cookie", b"a=1"),
            (b"set-cookie", b"b=2"),
            (b"location", b"https://elsewhere/"),
        ]

    def test_provider_gateway_response_keeps_xroad_headers(self) -> None:
        """§6.2: the client sees the provider gateway's x-road-* headers."""
        kept = filter_response_headers(self.HEADERS, keep_xroad=True)
        assert [name for name, _ in kept] == [
            b"content-type",
            b"date",
            b"x-road-id",
            b"x-road-client",
            b"x-road-service",
            b"x-road-request-id",
            b"x-road-request-hash",
            b"x-road-error",
            b"set-cookie",
            b"set-cookie",
            b"location",
        ]


def _expected_hash(head: bytes, body: bytes | None) -> str:
    """§4.3 written out independently: base64(SHA512(SHA512(headers) + SHA512(body)))."""
    if body is None:
        return base64.b64encode(hashlib.sha512(head).digest()).decode()
    inner = hashlib.sha512(head).digest() + hashlib.sha512(body).digest()
    return base64.b64encode(hashlib.sha512(inner).digest()).decode()


HashInput = tuple[str, Target, list[tuple[bytes, bytes]], bytes | None]
HASH_TARGET = Target(PETSTORE, "/v2/pets", "a=1")
HASH_HEADERS = [
    (b"X-Road-Client", b"DEV/COM/222/TESTCLIENT"),
    (b"x-road-service", b"DEV/COM/222/TESTSERVICE/petstore"),
    (b"x-road-id", b"dcaaa3a2-a158-41e1-8775-309848052358"),
    (b"x-road-request-id", b"f92591a3-6bf0-49b1-987b-0dd78c034cc3"),
    (b"content-type", b"application/json"),
]
HASH_HEAD = (
    b"POST\n"
    b"/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets?a=1\n"
    b"x-road-client: DEV/COM/222/TESTCLIENT\n"
    b"x-road-id: dcaaa3a2-a158-41e1-8775-309848052358\n"
    b"x-road-request-id: f92591a3-6bf0-49b1-987b-0dd78c034cc3\n"
    b"x-road-service: DEV/COM/222/TESTSERVICE/petstore\n"
)


class TestRequestHash:
    def test_documented_serialisation_with_body(self) -> None:
        """The §6.4 POST: the hash is the §4.3 formula over the documented head."""
        body = b'{ "id": 0, "name": "doggie" }'
        value = request_hash("POST", HASH_TARGET, HASH_HEADERS, hashlib.sha512(body).digest())
        assert value == _expected_hash(HASH_HEAD, body)
        assert len(value) == 88  # like the spec's examples: 64 bytes in base64

    def test_documented_serialisation_without_body(self) -> None:
        """No body: base64(SHA512(head)) (§4.3)."""
        value = request_hash("POST", HASH_TARGET, HASH_HEADERS, None)
        assert value == _expected_hash(HASH_HEAD, None)

    def test_empty_body_counts_as_no_body(self) -> None:
        """A gateway that hashed zero bytes and one that passed None agree."""
        empty = hashlib.sha512(b"").digest()
        assert request_hash("GET", HASH_TARGET, HASH_HEADERS, empty) == request_hash(
            "GET", HASH_TARGET, HASH_HEADERS, None
        )

    def test_stable_under_header_order_case_and_other_headers(self) -> None:
        """Only the listed X-Road headers count, by lowercase name, in a fixed order."""
        shuffled = [(name.upper(), b" " + value + b"\t") for name, value in reversed(HASH_HEADERS)]
        shuffled.append((b"user-agent", b"differs per hop"))
        assert request_hash("GET", HASH_TARGET, shuffled, None) == request_hash(
            "GET", HASH_TARGET, HASH_HEADERS, None
        )

    def test_mapping_and_pairs_agree(self) -> None:
        """The consumer's str mapping and the provider's raw pairs give the same hash."""
        mapping = {name.decode().lower(): value.decode() for name, value in HASH_HEADERS}
        assert request_hash("GET", HASH_TARGET, mapping, None) == request_hash(
            "GET", HASH_TARGET, HASH_HEADERS, None
        )

    def test_consumer_and_provider_views_agree(self) -> None:
        """Both gateways parse the same raw path; a non-canonical id encoding does not matter."""
        consumer = target(b"/r1/%44EV/COM/222/TESTSERVICE/petstore/v2/pets", b"a=1")
        provider = target(b"/r1/DEV/COM/222/TESTSERVICE/petstore/v2/pets", b"a=1")
        assert request_hash("GET", consumer, HASH_HEADERS, None) == request_hash(
            "GET", provider, HASH_HEADERS, None
        )

    @pytest.mark.parametrize(
        "change",
        [
            lambda m, t, h, b: ("PUT", t, h, b),
            lambda m, t, h, b: (m, Target(t.service, "/v2/pets/1", t.query), h, b),
            lambda m, t, h, b: (m, Target(t.service, t.path, "a=2"), h, b),
            lambda m, t, h, b: (m, Target(t.service, t.path, ""), h, b),
            lambda m, t, h, b: (m, t, [*h, (b"x-road-userid", b"EE1")], b),
            lambda m, t, h, b: (m, t, [*h, (b"x-road-client", b"OTHER")], b),
            lambda m, t, h, b: (m, t, h, hashlib.sha512(b"other").digest()),
            lambda m, t, h, b: (m, t, h, None),
        ],
    )
    def test_any_change_changes_the_hash(self, change: Callable[..., HashInput]) -> None:
        """Method, path, query, bound headers and body are all bound to the response."""
        base: HashInput = ("POST", HASH_TARGET, HASH_HEADERS, hashlib.sha512(b"body").digest())
        assert request_hash(*change(*base)) != request_hash(*base)

    def test_line_breaks_cannot_forge_lines(self) -> None:
        """A value cannot smuggle a second header line into the head."""
        with pytest.raises(ValueError, match="line break"):
            request_hash("GET", HASH_TARGET, [(b"x-road-id", b"a\nx-road-userid: b")], None)

    def test_body_digest_must_be_sha512(self) -> None:
        """A SHA-256 digest passed by mistake is refused, not silently hashed."""
        with pytest.raises(ValueError, match="SHA-512"):
            request_hash("GET", HASH_TARGET, HASH_HEADERS, hashlib.sha256(b"x").digest())

    def test_bound_headers_are_documented(self) -> None:
        """The docstring lists the same headers as REQUEST_HASH_HEADERS, in order."""
        from jisr.exchange.gateway import protocol

        assert protocol.__doc__ is not None
        assert ", ".join(REQUEST_HASH_HEADERS) in " ".join(protocol.__doc__.split())


def test_wants_xml_is_exported() -> None:
    """protocol re-exports the content negotiation of errors.py."""
    assert wants_xml("application/xml") is True
    assert wants_xml(None) is False


def test_request_line_patterns_accept_exactly_the_documented_alphabets() -> None:
    """The per-message patterns and the sets that name a refused character agree on every
    Latin-1 character, so the fast check refuses nothing the slow one accepts and back."""
    from jisr.exchange.gateway import protocol

    for code in range(256):
        char = chr(code)
        in_path = protocol._PATH_TEXT.fullmatch(char) is not None
        in_query = protocol._QUERY_TEXT.fullmatch(char) is not None
        assert in_path == (char in protocol._PATH_CHARS), repr(char)
        assert in_query == (char in protocol._QUERY_CHARS), repr(char)
