"""RFC 8785 (JCS) examples through jisr.crypto.canonical."""

import json
import struct

import pytest

from jisr.crypto.canonical import CanonicalizationError, canonical_json


def _double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


class TestRfc8785Examples:
    def test_section_3_2_4_whole_transformation(self) -> None:
        """RFC 8785 §3.2.4: the example input serialises to the published bytes."""
        source = (
            '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
            ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
            ' "literals": [null, true, false]}'
        )
        expected = (
            '{"literals":[null,true,false],'
            '"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
            '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        ).encode()
        assert canonical_json(json.loads(source)) == expected

    def test_section_3_2_3_sorts_by_utf16_code_units(self) -> None:
        """RFC 8785 §3.2.3: names sort by UTF-16 code units, so 😀 (D83D…) precedes U+FB33."""
        value = {
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\U0001f600": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis",
        }
        order = list(json.loads(canonical_json(value)))
        assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]

    def test_unicode_is_emitted_as_utf8_not_escaped(self) -> None:
        """RFC 8785 §3.2.2.2: only controls, quote and backslash are escaped."""
        assert canonical_json({"name": "سجل"}) == '{"name":"سجل"}'.encode()
        assert canonical_json("\x1f\t") == b'"\\u001f\\t"'

    def test_nested_objects_are_sorted_at_every_level(self) -> None:
        """RFC 8785 §3.2.3: sorting applies recursively; arrays keep their order."""
        assert canonical_json({"b": [{"z": 1, "a": 2}], "a": {}}) == b'{"a":{},"b":[{"a":2,"z":1}]}'


class TestNumbers:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (1e30, b"1e+30"),
            (-0.0, b"0"),
            (0.000001, b"0.000001"),
            (1e-7, b"1e-7"),
            (4.50, b"4.5"),
            (1e21, b"1e+21"),
            (1e20, b"100000000000000000000"),
            (42, b"42"),
        ],
    )
    def test_ecmascript_number_form(self, value: float, expected: bytes) -> None:
        """RFC 8785 §3.2.2.3: numbers serialise as ECMAScript Number.toString does."""
        assert canonical_json(value) == expected

    @pytest.mark.parametrize(
        ("bits", "expected"),
        [
            ("0000000000000000", "0"),
            ("8000000000000000", "0"),
            ("0000000000000001", "5e-324"),
            ("8000000000000001", "-5e-324"),
            ("7fefffffffffffff", "1.7976931348623157e+308"),
            ("ffefffffffffffff", "-1.7976931348623157e+308"),
            ("4340000000000000", "9007199254740992"),
            ("c340000000000000", "-9007199254740992"),
            ("4430000000000000", "295147905179352830000"),
            ("44b52d02c7e14af5", "9.999999999999997e+22"),
            ("44b52d02c7e14af6", "1e+23"),
            ("44b52d02c7e14af7", "1.0000000000000001e+23"),
            ("444b1ae4d6e2ef4e", "999999999999999700000"),
            ("444b1ae4d6e2ef4f", "999999999999999900000"),
            ("444b1ae4d6e2ef50", "1e+21"),
            ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
            ("3eb0c6f7a0b5ed8d", "0.000001"),
            ("41b3de4355555553", "333333333.3333332"),
            ("41b3de4355555554", "333333333.33333325"),
            ("41b3de4355555555", "333333333.3333333"),
            ("41b3de4355555556", "333333333.3333334"),
            ("41b3de4355555557", "333333333.33333343"),
            ("becbf647612f3696", "-0.0000033333333333333333"),
            ("43143ff3c1cb0959", "1424953923781206.2"),
        ],
    )
    def test_appendix_b_vectors(self, bits: str, expected: str) -> None:
        """RFC 8785 Appendix B: every finite IEEE 754 sample serialises as published."""
        assert canonical_json(_double(bits)) == expected.encode()

    @pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
    def test_nan_and_infinity_are_refused(self, bits: str) -> None:
        """RFC 8785 §3.2.2.3 / Appendix B: NaN and ±Infinity have no JSON form."""
        with pytest.raises(CanonicalizationError):
            canonical_json(_double(bits))

    def test_integers_beyond_ijson_range_are_refused(self) -> None:
        """RFC 8785 §3.2.2.3 (I-JSON): integers beyond ±(2**53 - 1) lose precision."""
        assert canonical_json(2**53 - 1) == b"9007199254740991"
        with pytest.raises(CanonicalizationError):
            canonical_json(2**53)


class TestRefusals:
    def test_lone_surrogate_is_refused(self) -> None:
        """RFC 8785 §3.2.2.2: strings must be valid Unicode."""
        with pytest.raises(CanonicalizationError):
            canonical_json("\ud800")

    def test_non_string_keys_are_refused(self) -> None:
        """RFC 8785 §3.2.3: object member names are strings."""
        with pytest.raises(CanonicalizationError):
            canonical_json({1: "one"})

    def test_tuples_serialise_as_arrays(self) -> None:
        """Pydantic dumps may contain tuples; they are JSON arrays."""
        assert canonical_json({"a": (1, "x")}) == b'{"a":[1,"x"]}'
