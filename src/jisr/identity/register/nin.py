"""National identification numbers: per-country profiles and the Damm check digit.

Both profiles are modelled on the real documents' formats (docs/identity.md); the check
digit is ours. The Damm algorithm (H. M. Damm, 2004) uses a totally anti-symmetric
quasigroup of order 10: it detects every single-digit error and every adjacent
transposition, with one decimal check digit and no letters.

* :class:`MoroccoNin` (``MA``): two capital letters (the issuing office), six digits, the
  check digit; the letters count as two digits each (``A`` = 10 … ``Z`` = 35).
* :class:`QatarNin` (``QA``): ``C YY NNN SSSS D``: century of birth (``1`` = 1800s,
  ``2`` = 1900s, ``3`` = 2000s), year of birth, ISO 3166-1 numeric nationality, a serial,
  the check digit.

Each profile numbers within a *scope* (the office; the birth year and nationality), so
the register keeps one counter per scope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

__all__ = ["MoroccoNin", "NinProfile", "QatarNin", "damm_check_digit", "damm_valid"]

# Damm's table (the quasigroup of his thesis, as published with the algorithm).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm_check_digit(digits: str) -> str:
    """The Damm check digit of a string of decimal digits (``"572"`` → ``"4"``)."""
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][int(digit)]
    return str(interim)


def damm_valid(digits: str) -> bool:
    """Whether ``digits`` ends with its correct Damm check digit."""
    return digits.isascii() and digits.isdigit() and damm_check_digit(digits) == "0"


class NinProfile(Protocol):
    """A country's number format; ``context`` is the person's ``date_of_birth`` and
    ``nationality`` (ISO 3166-1 alpha-2), which a profile may use or ignore."""

    country: str

    def scope(self, *, date_of_birth: date, nationality: str) -> str:
        """The counter a new number for this person is drawn from."""
        ...

    def format(self, sequence: int, *, date_of_birth: date, nationality: str) -> str:
        """The number for the ``sequence``-th allocation in this person's scope."""
        ...

    def validate(self, text: str) -> bool:
        """Whether ``text`` is a well-formed number with a correct check digit."""
        ...

    def parse(self, text: str) -> dict[str, str]:
        """The named parts of a valid number; ValueError when it is not valid."""
        ...


_MA = re.compile(r"(?P<office>[A-Z]{2})(?P<serial>[0-9]{6})(?P<check>[0-9])")


def _letters_as_digits(text: str) -> str:
    return "".join(str(ord(c) - ord("A") + 10) if c.isalpha() else c for c in text)


@dataclass(frozen=True)
class MoroccoNin:
    """``BK123456`` + check digit; ``office`` is the issuing office of this register."""

    office: str
    country: str = field(default="MA", init=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{2}", self.office):
            raise ValueError(f"office must be two capital letters, not {self.office!r}")

    def scope(self, *, date_of_birth: date, nationality: str) -> str:
        return f"MA:{self.office}"

    def format(self, sequence: int, *, date_of_birth: date, nationality: str) -> str:
        if not 0 <= sequence <= 999_999:
            raise ValueError(f"office {self.office} has no serial left for {sequence}")
        body = f"{self.office}{sequence:06d}"
        return body + damm_check_digit(_letters_as_digits(body))

    def validate(self, text: str) -> bool:
        return _MA.fullmatch(text) is not None and damm_valid(_letters_as_digits(text))

    def parse(self, text: str) -> dict[str, str]:
        match = _MA.fullmatch(text)
        if match is None or not self.validate(text):
            raise ValueError(f"{text!r} is not a valid MA number")
        return match.groupdict()


_QA = re.compile(
    r"(?P<century>[1-3])(?P<year>[0-9]{2})(?P<nationality>[0-9]{3})"
    r"(?P<serial>[0-9]{4})(?P<check>[0-9])"
)
#: ISO 3166-1 numeric codes the QA profile knows out of the box; pass more at construction.
QA_NATIONALITIES: Mapping[str, str] = {
    "QA": "634", "SA": "682", "AE": "784", "BH": "048", "KW": "414", "OM": "512",
    "EG": "818", "JO": "400", "LB": "422", "SY": "760", "PS": "275", "IQ": "368",
    "YE": "887", "SD": "729", "MA": "504", "DZ": "012", "TN": "788", "LY": "434",
    "IN": "356", "PK": "586", "BD": "050", "NP": "524", "LK": "144", "PH": "608",
    "ID": "360", "IR": "364", "TR": "792", "GB": "826", "US": "840", "FR": "250",
}  # fmt: skip


@dataclass(frozen=True)
class QatarNin:
    """``C YY NNN SSSS D``; ``nationalities`` maps ISO alpha-2 to ISO numeric codes."""

    nationalities: Mapping[str, str] = field(default_factory=lambda: dict(QA_NATIONALITIES))
    country: str = field(default="QA", init=False)

    def _prefix(self, date_of_birth: date, nationality: str) -> str:
        century = date_of_birth.year // 100 - 17
        if not 1 <= century <= 3:
            raise ValueError(f"year {date_of_birth.year} is outside the QA profile")
        numeric = self.nationalities.get(nationality)
        if numeric is None:
            raise ValueError(f"nationality {nationality!r} has no numeric code in the profile")
        return f"{century}{date_of_birth.year % 100:02d}{numeric}"

    def scope(self, *, date_of_birth: date, nationality: str) -> str:
        return f"QA:{self._prefix(date_of_birth, nationality)}"

    def format(self, sequence: int, *, date_of_birth: date, nationality: str) -> str:
        if not 0 <= sequence <= 9_999:
            raise ValueError(f"no serial left for {sequence} in this birth year and nationality")
        body = f"{self._prefix(date_of_birth, nationality)}{sequence:04d}"
        return body + damm_check_digit(body)

    def validate(self, text: str) -> bool:
        return _QA.fullmatch(text) is not None and damm_valid(text)

    def parse(self, text: str) -> dict[str, str]:
        match = _QA.fullmatch(text)
        if match is None or not damm_valid(text):
            raise ValueError(f"{text!r} is not a valid QA number")
        return match.groupdict()
