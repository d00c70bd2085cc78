"""The checks every language input passes: empty, too large, binary, invalid UTF-8."""

from __future__ import annotations

import io

import pytest

from jisr.language.textinput import (
    MAX_INPUT_BYTES,
    InputRejected,
    check_text,
    decode_text,
    read_inputs,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("  \t\n", "empty"),
        ("a" * (MAX_INPUT_BYTES + 1), "too_large"),
        ("ب" * (MAX_INPUT_BYTES // 2 + 1), "too_large"),
        ("abc\x00def", "binary"),
        ("\x1b[31mred", "binary"),
        ("bad \udcff surrogate", "invalid_utf8"),
    ],
)
def test_unacceptable_text_is_rejected_with_its_code(text: str, code: str) -> None:
    with pytest.raises(InputRejected) as caught:
        check_text(text)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "text",
    ["salam, je voudrais l'acte de naissance dyal weldi", "ⵜⴰⵎⴰⵣⵉⵖⵜ 🙂 بغيت", "a\tb\r\n"],
)
def test_mixed_scripts_emoji_and_whitespace_controls_pass(text: str) -> None:
    assert check_text(text) == text


def test_invalid_utf8_bytes_are_rejected_and_a_bom_is_dropped() -> None:
    with pytest.raises(InputRejected) as caught:
        decode_text(b"caf\xe9")
    assert caught.value.code == "invalid_utf8"
    assert decode_text("\ufeffsalam".encode()) == "salam"


def test_stdin_lines_are_checked_one_by_one() -> None:
    items = list(read_inputs([], io.BytesIO(b"salam\n\xff\xfe\n\nbghit\r\n")))
    assert [(i.number, i.text, i.error.code if i.error else None) for i in items] == [
        (1, "salam", None),
        (2, None, "invalid_utf8"),
        (3, None, "empty"),
        (4, "bghit", None),
    ]


def test_arguments_take_precedence_over_stdin() -> None:
    items = list(read_inputs(["a", ""], io.BytesIO(b"ignored\n")))
    assert [i.text for i in items] == ["a", None]
