"""Tests for jisr.ids: X-Road identifiers (PR-REST §4.1, §4.2, §4.3, §4.8)."""

from __future__ import annotations

import dataclasses
import pickle
import re
from urllib.parse import quote, unquote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from jisr.ids import (
    ALLOWED_CHARACTERS,
    MAX_PART_LENGTH,
    GatewayId,
    GlobalGroupId,
    IdentifierError,
    MemberId,
    ServiceId,
    SubsystemId,
    parse_client,
    validate_part,
)

Identifier = MemberId | SubsystemId | ServiceId | GatewayId | GlobalGroupId

# RFC 3986 §3.3: one path segment is a run of pchar = unreserved / pct-encoded /
# sub-delims / ":" / "@".
PCHAR_SEGMENT = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-F]{2})*")

codes = st.text(alphabet=sorted(ALLOWED_CHARACTERS), min_size=1, max_size=24)
members = st.builds(MemberId, codes, codes, codes)
subsystems = st.builds(SubsystemId, codes, codes, codes, codes)
services = st.builds(ServiceId, codes, codes, codes, st.none() | codes, codes)
gateways = st.builds(GatewayId, codes, codes, codes, codes)
global_groups = st.builds(GlobalGroupId, codes, codes)
identifiers = st.one_of(members, subsystems, services, gateways, global_groups)

# Characters outside the §4.8 alphabet, with the dangerous ones always in the mix.
disallowed_chars = st.one_of(
    st.sampled_from(["/", " ", "%", "\x00", "\n", "\t", "\x7f", "ع", "é", "\u200f", "_", "~"]),
    st.characters().filter(lambda c: c not in ALLOWED_CHARACTERS),
)
# Lone surrogates cannot be UTF-8 encoded, so they cannot be sent percent-encoded.
encodable_disallowed_chars = disallowed_chars.filter(lambda c: not 0xD800 <= ord(c) <= 0xDFFF)

ALL_TYPES = [MemberId, SubsystemId, ServiceId, GatewayId, GlobalGroupId]
PART_COUNTS = {
    MemberId: {3},
    SubsystemId: {4},
    ServiceId: {4, 5},
    GatewayId: {4},
    GlobalGroupId: {2},
}
KINDS = {
    MemberId: "member id",
    SubsystemId: "subsystem id",
    ServiceId: "service id",
    GatewayId: "gateway id",
    GlobalGroupId: "global group id",
}


def present_fields(ident: Identifier) -> list[str]:
    """Field names of the parts of ``ident``, in order, without an omitted subsystem."""
    return [f.name for f in dataclasses.fields(ident) if getattr(ident, f.name) is not None]


def part_name(field_name: str) -> str:
    return field_name.replace("_", " ")


def encode_parts(parts: list[str]) -> str:
    return "/".join(quote(part, safe="") for part in parts)


@st.composite
def identifiers_with_bad_part(
    draw: st.DrawFn, chars: st.SearchStrategy[str] = disallowed_chars
) -> tuple[Identifier, str, str, int, str]:
    """A valid identifier, a field of it, and that field's value with one bad character."""
    ident = draw(identifiers)
    field = draw(st.sampled_from(present_fields(ident)))
    good: str = getattr(ident, field)
    position = draw(st.integers(0, len(good)))
    char = draw(chars)
    return ident, field, good[:position] + char + good[position:], position, char


class TestIdentifierError:
    def test_message_names_part_character_and_alphabet(self) -> None:
        """The message names the part, the value, the character with its code point, and §4.8."""
        with pytest.raises(IdentifierError) as caught:
            MemberId("EE", "GOV", "AB C")
        assert str(caught.value) == (
            "member code 'AB C': character ' ' (U+0020) at position 2 is not allowed "
            "(X-Road §4.8 allows A-Z a-z 0-9 ' ( ) + , - . = ?)"
        )

    def test_is_a_value_error_with_structured_attributes(self) -> None:
        """Callers can catch ValueError and read part, value, char, position and reason."""
        with pytest.raises(ValueError, match="member class") as caught:
            MemberId("EE", "G/V", "1")
        error = caught.value
        assert isinstance(error, IdentifierError)
        assert (error.part, error.value, error.char, error.position) == (
            "member class",
            "G/V",
            "/",
            1,
        )
        assert error.reason.startswith("character '/' (U+002F) at position 1")

    def test_long_values_are_shortened_in_the_message_only(self) -> None:
        """A huge value does not flood the message, but stays whole on the attribute."""
        value = "x" * 10_000
        with pytest.raises(IdentifierError) as caught:
            validate_part(value, "member code")
        assert len(str(caught.value)) < 300
        assert caught.value.value == value

    def test_survives_pickling(self) -> None:
        """Errors cross process boundaries (pytest-xdist, worker pools) intact."""
        with pytest.raises(IdentifierError) as caught:
            ServiceId.parse("EE/GOV/1/%zz")
        # S301: the bytes are our own, just produced; nothing untrusted is unpickled.
        copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301
        assert (copy.part, copy.value, copy.char, copy.position, copy.reason, str(copy)) == (
            caught.value.part,
            caught.value.value,
            caught.value.char,
            caught.value.position,
            caught.value.reason,
            str(caught.value),
        )


class TestValidatePart:
    @given(codes)
    def test_returns_valid_code_unchanged(self, code: str) -> None:
        """A code made of §4.8 characters is returned as it is."""
        assert validate_part(code, "service code") == code

    @given(codes, disallowed_chars, st.data())
    def test_rejects_any_character_outside_alphabet(
        self, code: str, char: str, data: st.DataObject
    ) -> None:
        """One character outside §4.8 anywhere in a code is reported with its position."""
        position = data.draw(st.integers(0, len(code)))
        value = code[:position] + char + code[position:]
        with pytest.raises(IdentifierError) as caught:
            validate_part(value, "service code")
        assert (caught.value.part, caught.value.char, caught.value.position) == (
            "service code",
            char,
            position,
        )

    def test_rejects_empty(self) -> None:
        """An empty code is an error naming the part."""
        with pytest.raises(IdentifierError, match="must not be empty") as caught:
            validate_part("", "group code")
        assert caught.value.part == "group code"
        assert caught.value.char is None

    def test_accepts_the_maximum_length(self) -> None:
        """A code of exactly MAX_PART_LENGTH characters is valid."""
        assert validate_part("A" * MAX_PART_LENGTH, "member code") == "A" * MAX_PART_LENGTH

    def test_rejects_one_character_over_the_maximum_length(self) -> None:
        """A code one character longer than MAX_PART_LENGTH is an error."""
        with pytest.raises(IdentifierError, match=f"limit is {MAX_PART_LENGTH}") as caught:
            validate_part("A" * (MAX_PART_LENGTH + 1), "member code")
        assert caught.value.position == MAX_PART_LENGTH

    def test_rejects_non_strings_with_type_error(self) -> None:
        """A non-str value is a programming error, not a bad identifier."""
        with pytest.raises(TypeError, match="member code must be a str"):
            validate_part(42, "member code")  # type: ignore[arg-type]  # the point of the test


class TestEncoded:
    @given(identifiers)
    def test_every_segment_is_an_rfc3986_pchar_run_without_question_mark(
        self, ident: Identifier
    ) -> None:
        """The encoded form is usable in a URI path: only pchar, and "?" is escaped."""
        text = ident.encoded()
        assert "?" not in text
        segments = text.split("/")
        assert len(segments) == len(ident.parts)
        assert all(PCHAR_SEGMENT.fullmatch(segment) for segment in segments)

    @given(identifiers)
    def test_each_segment_decodes_to_its_part(self, ident: Identifier) -> None:
        """Parts are encoded one by one, so decoding each segment gives back the part (§4.2)."""
        assert [unquote(segment) for segment in ident.encoded().split("/")] == list(ident.parts)

    def test_escapes_question_mark_and_keeps_sub_delims(self) -> None:
        """Only "?" needs escaping in the §4.8 alphabet; ' ( ) + , = stay literal."""
        ident = ServiceId("EE", "GOV", "(1)", "a+b,c=d's", "who?")
        assert ident.encoded() == "EE/GOV/(1)/a+b,c=d's/who%3F"


class TestStr:
    @given(identifiers)
    def test_joins_plain_parts_with_slash(self, ident: Identifier) -> None:
        """str() is the plain parts joined by "/", with no escaping."""
        assert str(ident) == "/".join(ident.parts)


class TestParse:
    @given(identifiers)
    def test_plain_form_round_trips(self, ident: Identifier) -> None:
        """parse(str(x), encoded=False) gives back x for every identifier type."""
        assert type(ident).parse(str(ident), encoded=False) == ident

    @given(identifiers)
    def test_encoded_form_round_trips(self, ident: Identifier) -> None:
        """parse(x.encoded()) gives back x for every identifier type."""
        assert type(ident).parse(ident.encoded()) == ident

    @given(identifiers)
    def test_fully_escaped_form_round_trips(self, ident: Identifier) -> None:
        """A sender may escape more than needed (even "+" as %2B); decoding is per RFC 3986."""
        text = "/".join("".join(f"%{b:02x}" for b in part.encode()) for part in ident.parts)
        assert type(ident).parse(text) == ident

    @given(identifiers_with_bad_part())
    def test_constructor_rejects_a_bad_character_in_any_part(
        self, case: tuple[Identifier, str, str, int, str]
    ) -> None:
        """Building an identifier with one bad character names the part and the character."""
        ident, field, bad_value, position, char = case
        with pytest.raises(IdentifierError) as caught:
            dataclasses.replace(ident, **{field: bad_value})  # type: ignore[arg-type]  # dynamic field
        error = caught.value
        assert (error.part, error.value, error.char, error.position) == (
            part_name(field),
            bad_value,
            char,
            position,
        )

    @given(identifiers_with_bad_part(encodable_disallowed_chars))
    def test_encoded_parse_rejects_a_bad_character_in_any_part(
        self, case: tuple[Identifier, str, str, int, str]
    ) -> None:
        """A percent-encoded bad character (even %2F) is decoded, then rejected by name."""
        ident, field, bad_value, position, char = case
        parts = list(ident.parts)
        parts[present_fields(ident).index(field)] = bad_value
        with pytest.raises(IdentifierError) as caught:
            type(ident).parse(encode_parts(parts))
        error = caught.value
        assert (error.part, error.value, error.char, error.position) == (
            part_name(field),
            bad_value,
            char,
            position,
        )

    @given(identifiers_with_bad_part())
    def test_plain_parse_rejects_a_bad_character_in_any_part(
        self, case: tuple[Identifier, str, str, int, str]
    ) -> None:
        """Parsing the plain form also names the part and the character."""
        ident, field, bad_value, _, char = case
        assume(char != "/")  # in the plain form "/" separates parts; see the count tests
        parts = list(ident.parts)
        parts[present_fields(ident).index(field)] = bad_value
        with pytest.raises(IdentifierError) as caught:
            type(ident).parse("/".join(parts), encoded=False)
        assert (caught.value.part, caught.value.char) == (part_name(field), char)

    @pytest.mark.parametrize("cls", ALL_TYPES)
    @given(parts=st.lists(codes, min_size=1, max_size=8))
    def test_rejects_wrong_number_of_parts(self, cls: type[Identifier], parts: list[str]) -> None:
        """A text with a part count the type does not have is rejected as a whole."""
        assume(len(parts) not in PART_COUNTS[cls])
        with pytest.raises(IdentifierError, match=f"got {len(parts)} part") as caught:
            cls.parse("/".join(parts))
        assert caught.value.part == KINDS[cls]
        assert caught.value.char is None

    def test_wrong_count_message_shows_the_expected_form(self) -> None:
        """The count error tells the sender which form was expected."""
        with pytest.raises(IdentifierError) as caught:
            SubsystemId.parse("EE/GOV")
        assert caught.value.reason == "expected INSTANCE/CLASS/MEMBER/SUBSYSTEM, got 2 parts"

    @given(identifiers, st.data())
    def test_rejects_an_empty_part(self, ident: Identifier, data: st.DataObject) -> None:
        """An empty part ("EE//1", a trailing "/") is named in the error."""
        fields = present_fields(ident)
        index = data.draw(st.integers(0, len(fields) - 1))
        parts = list(ident.parts)
        parts[index] = ""
        with pytest.raises(IdentifierError, match="must not be empty") as caught:
            type(ident).parse("/".join(parts))
        assert caught.value.part == part_name(fields[index])

    def test_rejects_a_part_too_long_after_decoding(self) -> None:
        """The length limit applies to the decoded part."""
        text = "EE/GOV/" + "%3F" * (MAX_PART_LENGTH + 1)
        with pytest.raises(IdentifierError, match="limit is 255") as caught:
            MemberId.parse(text)
        assert caught.value.part == "member code"

    def test_accepts_a_part_at_the_length_limit_encoded(self) -> None:
        """255 escaped characters are 765 encoded ones, still one valid part."""
        assert MemberId.parse("EE/GOV/" + "%3F" * MAX_PART_LENGTH).member_code == "?" * 255

    @pytest.mark.parametrize(
        ("code", "position"),
        [
            ("%zz", 0),
            ("AB%", 2),
            ("AB%4", 2),
            ("%G0", 0),
            ("A%4%41", 1),
            ("%٣٣", 0),  # Arabic-Indic digits are not hex digits
        ],
    )
    def test_rejects_malformed_percent_escapes(self, code: str, position: int) -> None:
        """A "%" not followed by two hex digits is an error at that "%"."""
        with pytest.raises(IdentifierError, match="not a valid percent-escape") as caught:
            ServiceId.parse(f"EE/GOV/1/{code}")
        error = caught.value
        assert (error.part, error.value, error.char, error.position) == (
            "service code",
            code,
            "%",
            position,
        )

    @pytest.mark.parametrize(
        ("code", "position"),
        [
            ("%C3", 0),  # truncated two-byte sequence
            ("AB%FF", 2),  # never valid in UTF-8
            ("%C0%AF", 0),  # overlong "/"
            ("A%E2%82", 1),  # truncated three-byte sequence
            ("%41%80", 3),  # stray continuation byte after "A"
            ("%ED%A0%80", 0),  # encoded surrogate
        ],
    )
    def test_rejects_escapes_that_are_not_utf8(self, code: str, position: int) -> None:
        """§4.2: parts are UTF-8; bytes that do not decode are an error at their escape."""
        with pytest.raises(IdentifierError, match="do not decode as UTF-8") as caught:
            MemberId.parse(f"EE/GOV/{code}")
        assert (caught.value.part, caught.value.value, caught.value.position) == (
            "member code",
            code,
            position,
        )

    def test_decodes_lowercase_hex_and_keeps_plus_literal(self) -> None:
        """Escapes are case-insensitive and "+" is a "+", not a space (not form encoding)."""
        assert MemberId.parse("EE/GOV/a+b%3f%2B").member_code == "a+b?+"

    def test_does_not_decode_twice(self) -> None:
        """%2541 decodes to "%41" (then rejected for "%"), never to "A"."""
        with pytest.raises(IdentifierError) as caught:
            MemberId.parse("EE/GOV/%2541")
        assert (caught.value.value, caught.value.char) == ("%41", "%")

    def test_plain_form_does_not_decode(self) -> None:
        """With encoded=False a "%" is a literal character, and not allowed."""
        with pytest.raises(IdentifierError) as caught:
            MemberId.parse("EE/GOV/%41", encoded=False)
        assert (caught.value.char, caught.value.position) == ("%", 0)


class TestSpecExamples:
    def test_client_header_example(self) -> None:
        """§4.1: X-Road-Client: INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1 is a subsystem."""
        client = parse_client("INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1")
        assert client == SubsystemId("INSTANCE", "CLASS1", "MEMBER1", "SUBSYSTEM1")

    def test_service_id_example(self) -> None:
        """§4.1: INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE is a subsystem's service."""
        service = ServiceId.parse("INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE")
        assert service == ServiceId("INSTANCE", "CLASS2", "MEMBER2", "SUBSYSTEM2", "BARSERVICE")
        assert service.provider == SubsystemId("INSTANCE", "CLASS2", "MEMBER2", "SUBSYSTEM2")

    def test_separators_must_not_be_encoded(self) -> None:
        """§4.2 invalid example: encoded separators make one part, not a service id."""
        with pytest.raises(IdentifierError, match=r"got 1 part$") as caught:
            ServiceId.parse("INSTANCE%2FCLASS%2FMEMBER%2FSUBSYSTEM%2FBARSERVICE")
        assert caught.value.part == "service id"

    def test_encoded_slash_inside_a_part_is_refused_by_the_alphabet(self) -> None:
        """§4.2 "BAR%2FSERVICE" is well-formed encoding, but §4.8 forbids "/" in codes."""
        with pytest.raises(IdentifierError) as caught:
            ServiceId.parse("INSTANCE/CLASS/MEMBER/SUBSYSTEM/BAR%2FSERVICE")
        error = caught.value
        assert (error.part, error.value, error.char, error.position) == (
            "service code",
            "BAR/SERVICE",
            "/",
            3,
        )

    def test_security_server_header_example(self) -> None:
        """§4.3: X-Road-Security-Server: INSTANCE/MEMBERCLASS/MEMBERCODE/SERVERCODE."""
        gateway = GatewayId.parse("INSTANCE/MEMBERCLASS/MEMBERCODE/SERVERCODE")
        assert gateway.gateway_code == "SERVERCODE"
        assert gateway.owner == MemberId("INSTANCE", "MEMBERCLASS", "MEMBERCODE")


class TestParseClient:
    @given(members)
    def test_three_parts_give_a_member(self, member: MemberId) -> None:
        """A client without subsystem code is a MemberId (§4.1: the subsystem is optional)."""
        assert parse_client(member.encoded()) == member

    @given(subsystems)
    def test_four_parts_give_a_subsystem(self, subsystem: SubsystemId) -> None:
        """A client with subsystem code is a SubsystemId."""
        assert parse_client(str(subsystem), encoded=False) == subsystem

    @pytest.mark.parametrize("text", ["", "EE", "EE/GOV", "EE/GOV/1/SUB/X", "a/b/c/d/e/f"])
    def test_other_part_counts_are_rejected(self, text: str) -> None:
        """Anything but 3 or 4 parts is not a client id."""
        with pytest.raises(IdentifierError, match=r"expected INSTANCE/CLASS/MEMBER\[/SUBSYSTEM\]"):
            parse_client(text)

    def test_invalid_part_is_named(self) -> None:
        """A bad part of a client id is reported like any other."""
        with pytest.raises(IdentifierError) as caught:
            parse_client("EE/GOV/1/SUB%20SYSTEM")
        assert (caught.value.part, caught.value.char) == ("subsystem code", " ")


class TestMemberId:
    def test_builds_its_subsystem_service_and_gateway(self) -> None:
        """A member names its subsystems, member-level services and gateways."""
        member = MemberId("EE", "GOV", "70000310")
        assert member.subsystem("tax") == SubsystemId("EE", "GOV", "70000310", "tax")
        assert member.service("getRate") == ServiceId("EE", "GOV", "70000310", None, "getRate")
        assert member.gateway("ss1") == GatewayId("EE", "GOV", "70000310", "ss1")
        assert member.parts == ("EE", "GOV", "70000310")

    def test_children_validate_the_new_code(self) -> None:
        """A bad code given to a child constructor is rejected with its part name."""
        with pytest.raises(IdentifierError) as caught:
            MemberId("EE", "GOV", "1").gateway("ss 1")
        assert caught.value.part == "gateway code"


class TestSubsystemId:
    def test_knows_its_member_and_builds_services(self) -> None:
        """A subsystem leads back to its member and names its services."""
        subsystem = SubsystemId("EE", "GOV", "1", "tax")
        assert subsystem.member == MemberId("EE", "GOV", "1")
        assert subsystem.service("getRate") == ServiceId("EE", "GOV", "1", "tax", "getRate")


class TestServiceId:
    def test_member_level_service_has_four_parts(self) -> None:
        """Without subsystem the service id has four parts and the member is the provider."""
        service = ServiceId.parse("EE/GOV/1/getRate")
        assert service.subsystem_code is None
        assert service.parts == ("EE", "GOV", "1", "getRate")
        assert service.provider == MemberId("EE", "GOV", "1")

    def test_none_is_only_allowed_for_the_subsystem(self) -> None:
        """The subsystem may be omitted; the other parts may not."""
        with pytest.raises(TypeError, match="service code must be a str"):
            ServiceId("EE", "GOV", "1", "tax", None)  # type: ignore[arg-type]  # the point


class TestGlobalGroupId:
    def test_has_instance_and_group_code(self) -> None:
        """A global group is INSTANCE/GROUP."""
        group = GlobalGroupId.parse("EE/security-server-owners")
        assert group == GlobalGroupId("EE", "security-server-owners")
        assert str(group) == "EE/security-server-owners"

    def test_names_the_group_code_part(self) -> None:
        """A bad group code is reported as "group code"."""
        with pytest.raises(IdentifierError) as caught:
            GlobalGroupId("EE", "owners_2")
        assert (caught.value.part, caught.value.char) == ("group code", "_")


class TestValueSemantics:
    @given(identifiers)
    def test_equal_values_are_equal_and_hash_alike(self, ident: Identifier) -> None:
        """A parsed copy is equal, hashes alike and collapses in a set."""
        copy = type(ident).parse(ident.encoded())
        assert copy == ident
        assert hash(copy) == hash(ident)
        assert len({copy, ident}) == 1

    def test_types_with_the_same_parts_differ(self) -> None:
        """A subsystem and a gateway with the same parts are different identifiers."""
        subsystem: object = SubsystemId("EE", "GOV", "1", "x")
        assert subsystem != GatewayId("EE", "GOV", "1", "x")

    @given(identifiers)
    def test_attributes_cannot_be_assigned(self, ident: Identifier) -> None:
        """Identifiers are immutable: validation cannot be bypassed after construction."""
        with pytest.raises(dataclasses.FrozenInstanceError):
            ident.instance = "bad value"  # type: ignore[misc]  # the point of the test

    def test_slotted_without_instance_dict(self) -> None:
        """Identifiers are slotted: no per-instance __dict__."""
        assert not hasattr(MemberId("EE", "GOV", "1"), "__dict__")


class TestOrdering:
    def test_member_sorts_before_its_subsystems(self) -> None:
        """Clients (members and subsystems) sort together, a member before its subsystems."""
        clients = [
            SubsystemId("EE", "GOV", "2", "a"),
            MemberId("EE", "GOV", "2"),
            SubsystemId("EE", "GOV", "1", "b"),
            MemberId("EE", "GOV", "1"),
        ]
        assert sorted(clients) == [clients[3], clients[2], clients[1], clients[0]]

    def test_member_level_service_sorts_before_subsystem_services(self) -> None:
        """An omitted subsystem sorts first, so mixed service lists can be sorted."""
        with_sub = ServiceId("EE", "GOV", "1", "a", "x")
        without = ServiceId("EE", "GOV", "1", None, "z")
        assert sorted([with_sub, without]) == [without, with_sub]
        assert without < with_sub
        assert with_sub >= without

    @given(st.lists(gateways, min_size=2, max_size=5))
    def test_order_follows_parts(self, items: list[GatewayId]) -> None:
        """Within a type, identifiers order like their parts."""
        assert [g.parts for g in sorted(items)] == sorted(g.parts for g in items)

    def test_unrelated_types_do_not_order(self) -> None:
        """Ordering a member against a service is a TypeError, not an arbitrary answer."""
        with pytest.raises(TypeError):
            _ = MemberId("EE", "GOV", "1") < ServiceId("EE", "GOV", "1", None, "x")


def test_fast_part_check_agrees_with_validate_part() -> None:
    """Identifiers check parts with one pattern; validate_part must agree on every input."""
    from jisr.ids import _VALID_PART, IdentifierError, validate_part

    samples = ["", "a", "A" * 255, "A" * 256, "a b", "a/b", "x\n", "ok-1.2", "é", "(x)+,=?'"]
    samples += [chr(code) for code in range(256)]
    for sample in samples:
        try:
            validate_part(sample, "part")
            valid = True
        except IdentifierError:
            valid = False
        assert (_VALID_PART.fullmatch(sample) is not None) == valid, repr(sample)
