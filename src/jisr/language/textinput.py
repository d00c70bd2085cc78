"""The checks every text given to the language component passes first.

Citizens' text arrives from the CLI (arguments, or standard input one item per line) and
from the HTTP API. Before any model sees it, it must be a non-empty, valid UTF-8 string of
at most :data:`MAX_INPUT_BYTES` bytes without binary control characters. Mixed scripts and
emoji are ordinary text and pass.

    InputRejected(ValueError)     code: empty | too_large | binary | invalid_utf8
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

__all__ = [
    "MAX_INPUT_BYTES",
    "InputItem",
    "InputRejected",
    "check_text",
    "decode_text",
    "read_inputs",
]

MAX_INPUT_BYTES = 100_000

T = TypeVar("T", str, bytes)

# C0 controls but tab, line feed and carriage return; DEL; C1 controls. Any of these in a
# citizen's text means the input is not text (a binary file piped in by mistake).
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class InputRejected(ValueError):
    """Input that is not acceptable text; ``code`` is stable and documented."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def check_text(text: str) -> str:
    """Return ``text`` unchanged if it is acceptable, else raise :class:`InputRejected`."""
    if not text.strip():
        raise InputRejected("empty", "the text is empty")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_INPUT_BYTES:
        raise InputRejected(
            "too_large", f"the text is {size} bytes; at most {MAX_INPUT_BYTES} are accepted"
        )
    found = _BINARY.search(text)
    if found is not None:
        raise InputRejected(
            "binary",
            f"the text holds control character U+{ord(found.group()):04X} at offset "
            f"{found.start()}; binary input is not accepted",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates, e.g. from os.fsdecode'd argv
        raise InputRejected("invalid_utf8", f"the text is not valid Unicode: {exc.reason}") from exc
    return text


def decode_text(data: bytes) -> str:
    """Decode strict UTF-8 (a leading BOM is dropped) and :func:`check_text` the result."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputRejected(
            "invalid_utf8", f"the input is not valid UTF-8 (byte {exc.start}: {exc.reason})"
        ) from exc
    return check_text(text.removeprefix("\ufeff"))


@dataclass(frozen=True)
class InputItem:
    """One item to process: its 1-based position, and the text or why it was rejected."""

    number: int
    text: str | None
    error: InputRejected | None


def read_inputs(arguments: Iterable[str], stdin: BinaryIO | None = None) -> Iterator[InputItem]:
    """The items a CLI command processes: its arguments, or else standard input one per line.

    Arguments that the shell could not decode arrive with lone surrogates and are rejected
    as invalid UTF-8. Lines are read as bytes so that a bad line is rejected on its own and
    the following lines are still processed.
    """
    given = list(arguments)
    if given:
        for number, argument in enumerate(given, start=1):
            yield _item(number, check_text, argument)
        return
    stream = stdin if stdin is not None else sys.stdin.buffer
    for number, raw in enumerate(stream, start=1):
        line = raw.removesuffix(b"\n").removesuffix(b"\r")
        yield _item(number, decode_text, line)


def _item(number: int, check: Callable[[T], str], raw: T) -> InputItem:
    try:
        return InputItem(number, check(raw), None)
    except InputRejected as exc:
        return InputItem(number, None, exc)
