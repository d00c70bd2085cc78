"""X-Road identifiers: members, subsystems, services, gateways and global groups.

An identifier is a short sequence of *parts*, each a code from the X-Road alphabet
(PR-REST §4.8: letters ``A-Z a-z``, digits ``0-9`` and the symbols ``'()+,-.=?``, nothing
else). The forms, written with ``/`` between the parts (§4.1, §4.3):

==================  ==============================================  ==========================
type                parts                                           used in
==================  ==============================================  ==========================
``MemberId``        ``INSTANCE/CLASS/MEMBER``                       ``X-Road-Client``
``SubsystemId``     ``INSTANCE/CLASS/MEMBER/SUBSYSTEM``             ``X-Road-Client``
``ServiceId``       ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]/SERVICE``   request path, ``X-Road-Service``
``GatewayId``       ``INSTANCE/CLASS/MEMBER/SERVER``                ``X-Road-Security-Server``
``GlobalGroupId``   ``INSTANCE/GROUP``                              access rights
==================  ==============================================  ==========================

``ClientId`` is ``MemberId | SubsystemId``: the subsystem of a client is optional (§4.1).
X-Road calls a ``GatewayId`` a *security server id*.

Every constructor validates every part, so an invalid identifier cannot exist. Each
identifier has two textual forms:

* ``str(x)``: the plain parts joined by ``/``, for logs and storage;
* ``x.encoded()``: each part UTF-8 percent-encoded on its own, then joined by ``/`` (§4.2,
  §4.3). This is the form used in URIs and headers. Only characters that RFC 3986 does not
  allow in a path segment are escaped, which within the §4.8 alphabet means ``?`` → ``%3F``.

Parsing style: every identifier type has a ``parse(text, *, encoded=True)`` classmethod;
``ServiceId.parse`` accepts both service forms. ``parse_client`` is the single module
function, because ``ClientId`` is a union and cannot carry a classmethod.

With ``encoded=True`` the text is split on ``/`` first, then each part is percent-decoded
on its own (RFC 3986 strictly: ``%zz`` and non-UTF-8 bytes are errors, and ``+`` stays
``+`` because this is not form encoding). A ``%2F`` therefore becomes a ``/`` *inside* a
part, which the §4.8 alphabet rejects: ``INSTANCE%2FCLASS%2FMEMBER%2FSUBSYSTEM%2FBARSERVICE``
is a single part, never a service id, and the service code ``BAR%2FSERVICE`` is refused
(§4.2). Characters that need no escape are accepted unescaped.

Splitting a request path ``/r1/{serviceId}[/path]`` is deliberately *not* done here: the
subsystem code is optional (§4.1), so where the service id ends and the service path
begins cannot be told from the path alone. The gateway decides it with the global
configuration, then calls ``ServiceId.parse`` on the prefix it chose.

Every failure raises ``IdentifierError`` (a ``ValueError``) naming the offending part
(``"member code"``, ``"instance"``...), and the character and its position when there is
one. ``validate_part`` applies the same checks to a single code for other layers.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Hashable, Mapping
from typing import Any, ClassVar, Self, TypeAlias, TypeVar, cast
from urllib.parse import quote

__all__ = [
    "ALLOWED_CHARACTERS",
    "MAX_PART_LENGTH",
    "ClientId",
    "GatewayId",
    "GlobalGroupId",
    "IdentifierError",
    "MemberId",
    "ServiceId",
    "SubsystemId",
    "field_names",
    "parse_client",
    "validate_part",
]

#: PR-REST §4.8: the only characters an identifier part may contain.
ALLOWED_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'()+,-.=?"
)

#: Upper bound on the length of one part, in characters after percent-decoding.
#: §4.2 asks the server to check lengths; X-Road stores the codes in 255-character columns.
MAX_PART_LENGTH = 255

_DISALLOWED = re.compile(r"[^A-Za-z0-9'()+,\-.=?]")
#: What :func:`validate_part` accepts, as one pattern: the check every identifier runs.
_VALID_PART = re.compile(rf"[A-Za-z0-9'()+,\-.=?]{{1,{MAX_PART_LENGTH}}}")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@".
# quote() always keeps the unreserved characters, so only the rest are listed.
_PCHAR_SAFE = "!$&'()*+,;=:@"
_ALPHABET_TEXT = "A-Z a-z 0-9 ' ( ) + , - . = ?"
_SHOWN_VALUE_LENGTH = 80

_T = TypeVar("_T")


class IdentifierError(ValueError):
    """An identifier, or one part of it, is not valid.

    ``part`` names what is wrong: a part (``"member code"``) or, for a wrong number of
    parts, the whole identifier (``"client id"``). ``value`` is the offending text;
    ``char`` and ``position`` locate the offending character in ``value`` when there is one.
    """

    def __init__(
        self,
        part: str,
        value: str,
        reason: str,
        *,
        char: str | None = None,
        position: int | None = None,
    ) -> None:
        self.part = part
        self.value = value
        self.reason = reason
        self.char = char
        self.position = position
        super().__init__(f"{part} {_shorten(value)!r}: {reason}")

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments would be lost by the default exception pickling.
        return _rebuild_error, (self.part, self.value, self.reason, self.char, self.position)


def _rebuild_error(
    part: str, value: str, reason: str, char: str | None, position: int | None
) -> IdentifierError:
    return IdentifierError(part, value, reason, char=char, position=position)


def _shorten(value: str) -> str:
    if len(value) <= _SHOWN_VALUE_LENGTH:
        return value
    return value[:_SHOWN_VALUE_LENGTH] + "..."


def validate_part(value: str, part: str) -> str:
    """Return ``value`` if it is a valid identifier part, else raise ``IdentifierError``.

    ``part`` is the human name used in the error, e.g. ``"member code"``.
    """
    if not isinstance(value, str):
        raise TypeError(f"{part} must be a str, not {type(value).__name__}")
    if not value:
        raise IdentifierError(part, value, "must not be empty")
    if len(value) > MAX_PART_LENGTH:
        reason = f"is {len(value)} characters long, the limit is {MAX_PART_LENGTH}"
        raise IdentifierError(part, value, reason, position=MAX_PART_LENGTH)
    bad = _DISALLOWED.search(value)
    if bad is not None:
        raise _disallowed(part, value, bad.start())
    return value


def _disallowed(part: str, value: str, position: int) -> IdentifierError:
    char = value[position]
    reason = (
        f"character {char!r} (U+{ord(char):04X}) at position {position} is not allowed "
        f"(X-Road §4.8 allows {_ALPHABET_TEXT})"
    )
    return IdentifierError(part, value, reason, char=char, position=position)


def _percent_decode(raw: str, part: str) -> str:
    """Decode RFC 3986 percent-escapes strictly: ``%zz`` and non-UTF-8 bytes are errors."""
    bad = _BAD_ESCAPE.search(raw)
    if bad is not None:
        escape = raw[bad.start() : bad.start() + 3]
        reason = f"{escape!r} at position {bad.start()} is not a valid percent-escape"
        raise IdentifierError(part, raw, reason, char="%", position=bad.start())
    return _ESCAPE_RUN.sub(lambda run: _decode_run(run, raw, part), raw)


def _decode_run(run: re.Match[str], raw: str, part: str) -> str:
    data = bytes.fromhex(run.group().replace("%", ""))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # §4.2: parts are UTF-8; each byte of the run is three characters of ``raw``.
        position = run.start() + 3 * exc.start
        reason = f"percent-escapes at position {position} do not decode as UTF-8"
        raise IdentifierError(part, raw, reason, char="%", position=position) from None


def _split(
    text: str,
    *,
    encoded: bool,
    kind: str,
    form: str,
    layouts: Mapping[int, tuple[str, ...]],
) -> dict[str, str]:
    """Split ``text`` on ``/`` and map the parts to field names by their count."""
    raw_parts = text.split("/")
    names = layouts.get(len(raw_parts))
    if names is None:
        raise _wrong_count(kind, text, form, len(raw_parts))
    if not encoded:
        return dict(zip(names, raw_parts, strict=True))
    return {
        name: _percent_decode(raw, _human(name)) for name, raw in zip(names, raw_parts, strict=True)
    }


def _wrong_count(kind: str, text: str, form: str, count: int) -> IdentifierError:
    noun = "part" if count == 1 else "parts"
    return IdentifierError(kind, text, f"expected {form}, got {count} {noun}")


def _human(field_name: str) -> str:
    return field_name.replace("_", " ")


def _build(factory: Callable[..., _T], values: Mapping[str, str | None]) -> _T:
    return factory(**values)


class _Identifier:
    """Behaviour shared by the identifier dataclasses: validation, text forms, ordering."""

    __slots__ = ()

    # Declared so that dataclasses.fields() type-checks on the shared methods.
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    _KIND: ClassVar[str]
    _FORM: ClassVar[str]
    _LAYOUTS: ClassVar[Mapping[int, tuple[str, ...]]]
    # Identifiers of the same group can be ordered against each other.
    _ORDER_GROUP: ClassVar[str]
    # Fields that may be None, and are then left out of the parts.
    _OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        for name in field_names(type(self)):
            value = getattr(self, name)
            if value is None and name in self._OPTIONAL:
                continue
            # The one-pattern check accepts exactly what validate_part accepts; only a
            # refusal goes through validate_part, for its precise error.
            if type(value) is not str or _VALID_PART.fullmatch(value) is None:
                validate_part(value, _human(name))

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts in order, without an omitted optional part."""
        return tuple(part for part in self._fields() if part is not None)

    def encoded(self) -> str:
        """The form used in URIs and headers: each part percent-encoded, then joined (§4.2)."""
        return _encoded(self)

    def __str__(self) -> str:
        return _plain(self)

    @classmethod
    def parse(cls, text: str, *, encoded: bool = True) -> Self:
        """Parse the ``/``-joined form; ``encoded`` says whether parts are percent-encoded.

        Identifiers are immutable and a gateway sees the same few thousand on every
        message, so successful parses are memoised (errors are not).
        """
        return cast(Self, _parse_cached(cast(Hashable, cls), text, encoded))

    @classmethod
    def _parse(cls, text: str, encoded: bool) -> Self:
        values: dict[str, str | None] = dict.fromkeys(cls._OPTIONAL)
        values |= _split(
            text, encoded=encoded, kind=cls._KIND, form=cls._FORM, layouts=cls._LAYOUTS
        )
        return _build(cls, values)

    def _fields(self) -> tuple[str | None, ...]:
        return tuple(getattr(self, name) for name in field_names(type(self)))

    def _sort_key(self) -> tuple[str, ...]:
        # An omitted subsystem sorts first: "" is below every valid code.
        return tuple(part or "" for part in self._fields())

    def _keys(self, other: object) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        if not isinstance(other, _Identifier) or other._ORDER_GROUP != self._ORDER_GROUP:
            return None
        return self._sort_key(), other._sort_key()

    def __lt__(self, other: object) -> bool:
        keys = self._keys(other)
        return NotImplemented if keys is None else keys[0] < keys[1]

    def __le__(self, other: object) -> bool:
        keys = self._keys(other)
        return NotImplemented if keys is None else keys[0] <= keys[1]

    def __gt__(self, other: object) -> bool:
        keys = self._keys(other)
        return NotImplemented if keys is None else keys[0] > keys[1]

    def __ge__(self, other: object) -> bool:
        keys = self._keys(other)
        return NotImplemented if keys is None else keys[0] >= keys[1]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """The field names of a dataclass type, cached (dataclasses.fields() is slow, and
    gateways build and format identifiers several times per message)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


# Identifiers are immutable and hashable: their two text forms are memoised, since a gateway
# formats the same few identifiers several times per message.
@functools.lru_cache(maxsize=8192)
def _encoded(identifier: _Identifier) -> str:
    return "/".join(quote(part, safe=_PCHAR_SAFE) for part in identifier.parts)


@functools.lru_cache(maxsize=8192)
def _plain(identifier: _Identifier) -> str:
    return "/".join(identifier.parts)


@functools.lru_cache(maxsize=8192)
def _parse_cached(cls: Hashable, text: str, encoded: bool) -> _Identifier:
    identifier_type = cast(type[_Identifier], cls)
    return identifier_type._parse(text, encoded)


_MEMBER_FIELDS = ("instance", "member_class", "member_code")


@dataclasses.dataclass(frozen=True, slots=True)
class MemberId(_Identifier):
    """A member of an X-Road instance: ``INSTANCE/CLASS/MEMBER``.

    Sorts before its own subsystems, so a list of ``ClientId`` can be sorted.
    """

    instance: str
    member_class: str
    member_code: str

    _KIND: ClassVar[str] = "member id"
    _FORM: ClassVar[str] = "INSTANCE/CLASS/MEMBER"
    _LAYOUTS: ClassVar[Mapping[int, tuple[str, ...]]] = {3: _MEMBER_FIELDS}
    _ORDER_GROUP: ClassVar[str] = "client"

    def subsystem(self, code: str) -> SubsystemId:
        """The subsystem ``code`` of this member."""
        return _subsystem_of(self, code)

    def service(self, code: str) -> ServiceId:
        """The member-level service ``code`` (no subsystem) of this member."""
        return ServiceId(self.instance, self.member_class, self.member_code, None, code)

    def gateway(self, code: str) -> GatewayId:
        """The gateway (security server) ``code`` owned by this member."""
        return GatewayId(self.instance, self.member_class, self.member_code, code)


@dataclasses.dataclass(frozen=True, slots=True)
class SubsystemId(_Identifier):
    """A subsystem of a member: ``INSTANCE/CLASS/MEMBER/SUBSYSTEM``."""

    instance: str
    member_class: str
    member_code: str
    subsystem_code: str

    _KIND: ClassVar[str] = "subsystem id"
    _FORM: ClassVar[str] = "INSTANCE/CLASS/MEMBER/SUBSYSTEM"
    _LAYOUTS: ClassVar[Mapping[int, tuple[str, ...]]] = {4: (*_MEMBER_FIELDS, "subsystem_code")}
    _ORDER_GROUP: ClassVar[str] = "client"

    @property
    def member(self) -> MemberId:
        """The member this subsystem belongs to."""
        return _member_of(self)

    def service(self, code: str) -> ServiceId:
        """The service ``code`` of this subsystem."""
        return ServiceId(
            self.instance, self.member_class, self.member_code, self.subsystem_code, code
        )


@dataclasses.dataclass(frozen=True, slots=True)
class ServiceId(_Identifier):
    """A service: ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]/SERVICE``.

    ``subsystem_code`` is ``None`` for a service of the member itself (§4.1).
    """

    instance: str
    member_class: str
    member_code: str
    subsystem_code: str | None
    service_code: str

    _KIND: ClassVar[str] = "service id"
    _FORM: ClassVar[str] = "INSTANCE/CLASS/MEMBER[/SUBSYSTEM]/SERVICE"
    _LAYOUTS: ClassVar[Mapping[int, tuple[str, ...]]] = {
        4: (*_MEMBER_FIELDS, "service_code"),
        5: (*_MEMBER_FIELDS, "subsystem_code", "service_code"),
    }
    _ORDER_GROUP: ClassVar[str] = "service"
    _OPTIONAL: ClassVar[frozenset[str]] = frozenset({"subsystem_code"})

    @property
    def provider(self) -> ClientId:
        """The member or subsystem that provides this service."""
        return _provider_of(self)


@dataclasses.dataclass(frozen=True, slots=True)
class GatewayId(_Identifier):
    """A gateway (X-Road: security server): ``INSTANCE/CLASS/MEMBER/SERVER``.

    The form of the ``X-Road-Security-Server`` header (§4.3).
    """

    instance: str
    member_class: str
    member_code: str
    gateway_code: str

    _KIND: ClassVar[str] = "gateway id"
    _FORM: ClassVar[str] = "INSTANCE/CLASS/MEMBER/SERVER"
    _LAYOUTS: ClassVar[Mapping[int, tuple[str, ...]]] = {4: (*_MEMBER_FIELDS, "gateway_code")}
    _ORDER_GROUP: ClassVar[str] = "gateway"

    @property
    def owner(self) -> MemberId:
        """The member that owns this gateway."""
        return MemberId(self.instance, self.member_class, self.member_code)


@dataclasses.dataclass(frozen=True, slots=True)
class GlobalGroupId(_Identifier):
    """A global group, defined by the central services of an instance: ``INSTANCE/GROUP``."""

    instance: str
    group_code: str

    _KIND: ClassVar[str] = "global group id"
    _FORM: ClassVar[str] = "INSTANCE/GROUP"
    _LAYOUTS: ClassVar[Mapping[int, tuple[str, ...]]] = {2: ("instance", "group_code")}
    _ORDER_GROUP: ClassVar[str] = "global group"


ClientId: TypeAlias = MemberId | SubsystemId


def parse_client(text: str, *, encoded: bool = True) -> ClientId:
    """Parse an ``X-Road-Client`` value: 3 parts give a member, 4 a subsystem (§4.1, §4.3)."""
    count = text.count("/") + 1
    if count == 3:
        return MemberId.parse(text, encoded=encoded)
    if count == 4:
        return SubsystemId.parse(text, encoded=encoded)
    raise _wrong_count("client id", text, "INSTANCE/CLASS/MEMBER[/SUBSYSTEM]", count)


# Identifiers derived from another one, memoised like the text forms: the gateway asks for
# a service's provider and a member's subsystems on every message.
@functools.lru_cache(maxsize=8192)
def _member_of(identifier: SubsystemId) -> MemberId:
    return MemberId(identifier.instance, identifier.member_class, identifier.member_code)


@functools.lru_cache(maxsize=8192)
def _subsystem_of(member: MemberId, code: str) -> SubsystemId:
    return SubsystemId(member.instance, member.member_class, member.member_code, code)


@functools.lru_cache(maxsize=8192)
def _provider_of(service: ServiceId) -> ClientId:
    member = MemberId(service.instance, service.member_class, service.member_code)
    return member if service.subsystem_code is None else member.subsystem(service.subsystem_code)
