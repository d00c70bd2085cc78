"""Errors raised by :mod:`jisr.identity.register`.

The whole tree, drawn once::

    RegisterError                    anything the register refuses or cannot do
    ├── InvalidInput (problems)      the input breaks rules; each Problem names field and rule
    ├── DuplicatePerson (candidates) enrolment matches persons already registered
    ├── UnknownPerson (nin)          no person has this national identification number
    ├── InvalidEvent (rule)          the event is well formed but not allowed for this person
    └── HistoryTampered (nin, seq)   a stored event fails its signature, hash or chain link

``code`` on each class is the stable short code an API renders; nothing is ever written
when one of these is raised from ``enrol`` or ``record``.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "DuplicatePerson",
    "HistoryTampered",
    "InvalidEvent",
    "InvalidInput",
    "Problem",
    "RegisterError",
    "UnknownPerson",
]


class Problem(NamedTuple):
    """One broken rule: ``field`` is a path (``given_name.arab``, ``parents[0]``)."""

    field: str
    rule: str
    message: str


class RegisterError(Exception):
    """Base class of every register error."""

    code = "register_error"


class InvalidInput(RegisterError):
    """The input breaks one or more rules, all listed in ``problems``."""

    code = "invalid_input"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.rule}: {p.message}" for p in problems))

    @property
    def fields(self) -> dict[str, str]:
        """``{field: rule}`` of the first problem per field, convenient to branch on."""
        result: dict[str, str] = {}
        for problem in self.problems:
            result.setdefault(problem.field, problem.rule)
        return result


class DuplicatePerson(RegisterError):
    """Persons already registered look like the one being enrolled."""

    code = "duplicate_person"

    def __init__(self, candidates: list[str]) -> None:
        self.candidates = list(candidates)
        super().__init__(f"possible duplicate of {', '.join(candidates)}")


class UnknownPerson(RegisterError):
    """No person is registered under ``nin``."""

    code = "unknown_person"

    def __init__(self, nin: str) -> None:
        self.nin = nin
        super().__init__(f"no person with national identification number {nin!r}")


class InvalidEvent(RegisterError):
    """The event cannot be recorded for this person (``rule``: ``deceased``, ``date_order``...)."""

    code = "invalid_event"

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(f"{rule}: {message}")


class HistoryTampered(RegisterError):
    """Stored event ``seq`` of ``nin`` fails its signature, its hash or its chain link."""

    code = "history_tampered"

    def __init__(self, nin: str, seq: int, reason: str) -> None:
        self.nin = nin
        self.seq = seq
        self.reason = reason
        super().__init__(f"event {seq} of {nin}: {reason}")
