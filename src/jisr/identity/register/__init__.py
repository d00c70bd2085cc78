"""The population register: persons, their signed life events, reads and numbers.

See docs/identity.md. Typical use::

    migrate(url)
    register = PopulationRegister(Database(url), profile=MoroccoNin("BK"), key=key)
    person = await register.enrol(birth, recorded_by="registrar-12", legal_basis="Loi 36-21")
"""

from jisr.identity.register.errors import (
    DuplicatePerson,
    HistoryTampered,
    InvalidEvent,
    InvalidInput,
    Problem,
    RegisterError,
    UnknownPerson,
)
from jisr.identity.register.events import (
    EVENT_TYP,
    AddressChange,
    BirthRegistration,
    Death,
    Event,
    EventKind,
    Marriage,
    NameChange,
    SignedEvent,
    verify_chain,
)
from jisr.identity.register.matching import DefaultNameMatcher, NameMatcher, PersonNames
from jisr.identity.register.names import (
    ScriptedName,
    normalise_arabic,
    normalise_latin,
    normalise_tifinagh,
)
from jisr.identity.register.nin import MoroccoNin, NinProfile, QatarNin, damm_check_digit
from jisr.identity.register.person import Person, project
from jisr.identity.register.register import (
    MIGRATIONS,
    VERSION_TABLE,
    PopulationRegister,
    migrate,
)

__all__ = [
    "EVENT_TYP",
    "MIGRATIONS",
    "VERSION_TABLE",
    "AddressChange",
    "BirthRegistration",
    "Death",
    "DefaultNameMatcher",
    "DuplicatePerson",
    "Event",
    "EventKind",
    "HistoryTampered",
    "InvalidEvent",
    "InvalidInput",
    "Marriage",
    "MoroccoNin",
    "NameChange",
    "NameMatcher",
    "NinProfile",
    "Person",
    "PersonNames",
    "PopulationRegister",
    "Problem",
    "QatarNin",
    "RegisterError",
    "ScriptedName",
    "SignedEvent",
    "UnknownPerson",
    "damm_check_digit",
    "migrate",
    "normalise_arabic",
    "normalise_latin",
    "normalise_tifinagh",
    "project",
    "verify_chain",
]
