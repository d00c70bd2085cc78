"""The ``NameMatcher`` extension point of the duplicate check, and the default matcher.

The register asks a matcher one question about two persons already known to share date
and place of birth: *are these the same names?* A matcher answers ``True`` or ``False``;
a scoring matcher applies its own threshold inside. The language component plugs a
cross-script (Arabic ↔ Latin transliteration) matcher here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from jisr.identity.register.names import ScriptedName, normalise_arabic, normalise_latin

__all__ = ["DefaultNameMatcher", "NameMatcher", "PersonNames"]


@dataclass(frozen=True)
class PersonNames:
    """The names the duplicate check compares."""

    given_name: ScriptedName
    family_name: ScriptedName


class NameMatcher(Protocol):
    """Decides whether two sets of names designate the same person."""

    def same_person_names(self, a: PersonNames, b: PersonNames) -> bool: ...


class DefaultNameMatcher:
    """Equal given and family names after normalisation, in Arabic script *or* in Latin."""

    def same_person_names(self, a: PersonNames, b: PersonNames) -> bool:
        return _arabic_key(a) == _arabic_key(b) or _latin_key(a) == _latin_key(b)


def _arabic_key(names: PersonNames) -> tuple[str, str]:
    return normalise_arabic(names.given_name.arab), normalise_arabic(names.family_name.arab)


def _latin_key(names: PersonNames) -> tuple[str, str]:
    return normalise_latin(names.given_name.latn), normalise_latin(names.family_name.latn)
