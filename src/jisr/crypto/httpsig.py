"""HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530) between gateways.

The Jisr profile of RFC 9421 (§1.4 asks every application to fix these):

* one signature per message under the label ``jisr``, tagged ``jisr-xroad/1``;
* ``created`` and ``keyid`` are required; ``expires`` and ``nonce`` are honoured when present,
  no other signature parameter is accepted;
* the algorithm follows the key the verifier resolved from ``keyid`` (ecdsa-p256-sha256,
  ecdsa-p384-sha384 or ed25519, §3.3); a signed ``alg`` must agree with it and is never used to
  choose the verifier (§3.2 step 6, §7.3.6);
* covered components are HTTP fields by lowercase name and the derived components
  ``@method``, ``@target-uri``, ``@authority``, ``@path``, ``@query`` and ``@status``, each
  optionally with ``;req`` on a response (§2.4). Other derived components and the field
  parameters ``sf``, ``key``, ``bs`` and ``tr`` are refused;
* the body is covered through a signed ``Content-Digest`` (RFC 9530 §2) with sha-256 or sha-512.

Why not the ``http-message-signatures`` package (3.0.0, well kept, RFC 9421 complete): it
fits a client library, not this hot path. Verification reads the wall clock
(``datetime.now``) where the gateway passes ``now``; every refusal is one ``InvalidSignature``
with free text, where the gateway maps stable reasons to X-Road faults; the verifier is built
for one algorithm before ``keyid`` is known, so choosing the algorithm from the resolved key
means parsing Signature-Input twice; and each message goes through a component resolver, a
case-insensitive header copy, a regex URL parser and the ``http-sf`` parser (a second
dependency), and signing builds the base twice. Measured on one core for a typical gateway
request (six components, P-256 or Ed25519), sign + verify takes about 0.78 ms with it and
0.21 ms with this module as first written, of which 0.1 ms is the cryptography itself; with
the fast paths below, 0.13 ms for eight components and P-256 (``benchmarks/httpsig.py``).
The subset Jisr needs is small: the RFC 8941 serialisation and a strict parser for the
Dictionary, Inner List, String, Token, Integer, Boolean and Byte Sequence types that
Signature-Input, Signature and Content-Digest use (Decimal, Date and Display String are
refused), and the signature base of §2.5. What this module itself writes is parsed by a
fast path of anchored regular expressions; anything else goes to the general parser, which
alone decides refusals (see "Fast paths" below).

Exceptions::

    CryptoError (jisr.crypto.errors)
     └── SignatureError(reason)
           reason: "malformed"          a field is not valid RFC 8941, or a parameter or
                                        component is outside the profile
                 | "missing"            no signature under the label (or with the tag)
                 | "unknown_key"        resolve_key knows no key for keyid
                 | "bad_signature"      the signature does not verify
                 | "expired" | "future" created outside the accepted window; expires passed
                 | "missing_component"  a required component is not covered, or a covered
                                        one is absent from the message
                 | "alg_mismatch"       alg is not the resolved key's algorithm
                 | "digest_mismatch"    a Content-Digest value differs from the body's
                 | "digest_missing"     no Content-Digest value that can be checked
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, TypeAlias, cast

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from jisr.crypto import keys
from jisr.crypto.errors import CryptoError
from jisr.crypto.keys import PrivateKey, PublicKey

__all__ = [
    "DIGEST_ALGORITHMS",
    "DigestBuilder",
    "Message",
    "SignatureError",
    "SignatureReason",
    "Verified",
    "check_content_digest",
    "content_digest",
    "parse_content_digest",
    "sign_message",
    "signature_algorithm",
    "signature_base",
    "verify_message",
]

SignatureReason = Literal[
    "malformed",
    "missing",
    "unknown_key",
    "bad_signature",
    "expired",
    "future",
    "missing_component",
    "digest_mismatch",
    "digest_missing",
    "alg_mismatch",
]

DIGEST_ALGORITHMS: tuple[str, ...] = ("sha-256", "sha-512")
# RFC 9530 §7.2: the two algorithms of the registry that are not deprecated.
_HASHES = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
_DIGEST_SIZES = {"sha-256": 32, "sha-512": 64}

# RFC 9421 §3.3.4, §3.3.5: r || s, each zero-padded to the curve's size.
_EC_ALGORITHMS = {"secp256r1": "ecdsa-p256-sha256", "secp384r1": "ecdsa-p384-sha384"}
_EC_SIZES = {"ecdsa-p256-sha256": 32, "ecdsa-p384-sha384": 48}
_EcKey: TypeAlias = ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey

_DERIVED = frozenset({"@method", "@target-uri", "@authority", "@path", "@query", "@status"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# RFC 9110 §5.1: a field name is a token; RFC 9421 §2.1: lowercased as a component name.
_FIELD_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")
_PARAM_TYPES: dict[str, type] = {
    "created": int,
    "expires": int,
    "nonce": str,
    "alg": str,
    "keyid": str,
    "tag": str,
}


class SignatureError(CryptoError):
    """A signature or digest was refused; ``reason`` is the stable code."""

    def __init__(self, reason: SignatureReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: SignatureReason = reason
        self.detail = detail


# --- Structured Field Values (RFC 8941, RFC 9651), the subset the three fields use ---------


class _Token(str):
    """An RFC 8941 §3.3.4 Token, kept apart from a String so it re-serialises unquoted."""

    __slots__ = ()


_Bare: TypeAlias = int | str | bytes | bool
_Params: TypeAlias = dict[str, _Bare]
_Item: TypeAlias = tuple[_Bare, _Params]
_Member: TypeAlias = tuple[_Bare | list[_Item], _Params]

_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*")
_INTEGER = re.compile(r"-?[0-9]+")
_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\["\\])*)"')
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")
_ESCAPE = re.compile(r'\\(["\\])')
_MAX_INTEGER = 999_999_999_999_999


class _SfError(ValueError):
    """The text is not a Structured Field of the shape asked for."""


class _Parser:
    """RFC 8941 §4.2 parsing, strict: duplicate keys and unused types are refused."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise _SfError("not ASCII (RFC 8941 §4.2)")
        # §4.2: leading and trailing SP are discarded before and after parsing.
        self.text = text.strip(" ")
        self.pos = 0

    def dictionary(self) -> dict[str, _Member]:
        """§4.2.2; a repeated key is an error here, not an overwrite."""
        result: dict[str, _Member] = {}
        while self.pos < len(self.text):
            key = self._key()
            if key in result:
                raise _SfError(f"duplicate key {key!r}")
            if self._at("="):
                self.pos += 1
                result[key] = self._member()
            else:
                result[key] = (True, self._params())
            if not self._next_member():
                break
        return result

    def _next_member(self) -> bool:
        self._skip(" \t")
        if self.pos == len(self.text):
            return False
        if not self._at(","):
            raise _SfError(f"expected ',' at {self.pos}")
        self.pos += 1
        self._skip(" \t")
        if self.pos == len(self.text):
            raise _SfError("trailing comma")
        return True

    def _member(self) -> _Member:
        if not self._at("("):
            return self._item()
        self.pos += 1
        items: list[_Item] = []
        while True:  # §4.2.1.2
            self._skip(" ")
            if self._at(")"):
                self.pos += 1
                return items, self._params()
            items.append(self._item())
            if not self._at((" ", ")")):
                raise _SfError(f"inner list not closed at {self.pos}")

    def _item(self) -> _Item:
        return self._bare(), self._params()

    def _params(self) -> _Params:
        params: _Params = {}
        while self._at(";"):  # §4.2.3.2
            self.pos += 1
            self._skip(" ")
            key = self._key()
            if key in params:
                raise _SfError(f"duplicate parameter {key!r}")
            value: _Bare = True
            if self._at("="):
                self.pos += 1
                value = self._bare()
            params[key] = value
        return params

    def _bare(self) -> _Bare:
        char = self._peek()
        if char == '"':
            return self._string()
        if char == ":":
            return self._bytes()
        if char == "?":
            return self._boolean()
        if char == "-" or char.isdigit():
            return self._integer()
        if char.isalpha() or char == "*":
            return _Token(self._match(_TOKEN))
        raise _SfError(f"unsupported item at {self.pos}")

    def _string(self) -> str:
        body = _STRING.match(self.text, self.pos)
        if body is None:
            raise _SfError(f"bad string at {self.pos}")
        self.pos = body.end()
        value = body.group(1)
        return _ESCAPE.sub(r"\1", value) if "\\" in value else value

    def _bytes(self) -> bytes:
        body = _BYTES.match(self.text, self.pos)
        if body is None:
            raise _SfError(f"bad byte sequence at {self.pos}")
        self.pos = body.end()
        try:
            return _decode_base64(body.group(1))
        except binascii.Error as exc:
            raise _SfError(f"bad base64: {exc}") from exc

    def _boolean(self) -> bool:
        value = self.text[self.pos + 1 : self.pos + 2]
        if value not in ("0", "1"):
            raise _SfError(f"bad boolean at {self.pos}")
        self.pos += 2
        return value == "1"

    def _integer(self) -> int:
        digits = self._match(_INTEGER)
        if len(digits.lstrip("-")) > 15:
            raise _SfError("integer longer than 15 digits (RFC 8941 §3.3.1)")
        if self._at("."):
            raise _SfError("decimals are not used by these fields")
        return int(digits)

    def _key(self) -> str:
        return self._match(_KEY)

    def _match(self, pattern: re.Pattern[str]) -> str:
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise _SfError(f"unexpected {self._peek()!r} at {self.pos}")
        self.pos = found.end()
        return found.group()

    def _peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def _at(self, prefix: str | tuple[str, ...]) -> bool:
        return self.text.startswith(prefix, self.pos)

    def _skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1


def _decode_base64(value: str) -> bytes:
    """Strict base64 of an RFC 8941 Byte Sequence (``value`` is ASCII, between the colons)."""
    # §4.2.7: parsers SHOULD NOT fail when "=" padding is missing. strict_mode is what
    # base64.b64decode(validate=True) does, without its Python-level argument handling.
    return binascii.a2b_base64(value + "=" * (-len(value) % 4), strict_mode=True)


def _ser_string(value: str) -> str:
    # RFC 8941 §4.1.6: printable ASCII only; DQUOTE and backslash are escaped.
    if not (value.isascii() and value.isprintable()):
        raise ValueError(f"{value!r} is not a Structured Field String")
    if '"' in value or "\\" in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def _ser_bare(value: _Bare) -> str:
    if type(value) is str:  # the common case first: component names, keyid, tag
        return _ser_string(value)
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) > _MAX_INTEGER:
            raise ValueError(f"{value} is out of Structured Field Integer range")
        return str(value)
    if isinstance(value, bytes):
        return f":{binascii.b2a_base64(value, newline=False).decode('ascii')}:"
    if isinstance(value, _Token):
        return str(value)
    return _ser_string(value)


def _ser_params(params: _Params) -> str:
    # RFC 8941 §4.1.1.2: a true Boolean parameter is written as its bare key.
    return "".join([f";{k}" if v is True else f";{k}={_ser_bare(v)}" for k, v in params.items()])


def _ser_inner_list(items: Sequence[_Item], params: _Params) -> str:
    inner = " ".join([_ser_bare(value) + _ser_params(p) for value, p in items])
    return f"({inner}){_ser_params(params)}"


def _parse_field(text: str, name: str) -> dict[str, _Member]:
    fast = _fast_byte_sequences(text)
    if fast is not None:
        return fast
    try:
        return _Parser(text).dictionary()
    except _SfError as exc:
        raise SignatureError("malformed", f"{name}: {exc}") from exc


# --- Fast paths for what gateways send -------------------------------------------------------
#
# Every exchange parses a Signature-Input, a Signature and a Content-Digest and serialises the
# received Inner List again (RFC 9421 §3.2 step 7); the general parser above spends most of
# its time in small method calls. The fast paths below recognise, with anchored regular
# expressions, exactly what this module's signers write:
#
# * content_digest and the Signature field: a Dictionary of Byte Sequences without
#   parameters, members separated by ", ";
# * sign_message's Signature-Input: one member, an Inner List of Strings each bare or with
#   ``;req``, then the parameters created, keyid, optional nonce, alg and tag in that order,
#   Strings without escapes and created without a leading zero.
#
# Why this is safe: a fast path either returns exactly what _Parser returns for the same text
# (tested against it, with Hypothesis too) or returns None, and then _Parser runs. It returns
# None for any other shape, a repeated key (which _Parser refuses, although RFC 8941 §4.2.2
# would keep the last), or base64 that binascii refuses, so every refusal, and its message,
# still comes from _Parser. The Signature-Input shape is moreover the RFC 8941 §4.1
# serialisation of what it parses to -- single spaces, no optional whitespace, no escapes,
# ``;req`` rather than ``;req=?1``, integers without leading zeros -- so the received member
# text is what _ser_inner_list would rebuild, and serves as @signature-params as it is. The
# covered components checked from an Inner List's text are kept (_fast_covered): peers send a
# few distinct lists.

_SF_KEY = r"[a-z*][a-z0-9_.*-]*"  # = _KEY
_SF_CHARS = r"[ !#-\[\]-~]*"  # a String with no DQUOTE or backslash: nothing to escape
_SF_INTEGER = r"0|[1-9][0-9]{0,14}"  # at most 15 digits (§3.3.1), as §4.1.4 writes them
_SF_COMPONENT = rf'"{_SF_CHARS}"(?:;req)?'
_FAST_BYTE_SEQUENCE = re.compile(rf"({_SF_KEY})=:([A-Za-z0-9+/=]*):")  # a member; see _BYTES
_FAST_SIGNATURE_INPUT = re.compile(
    rf"({_SF_KEY})="  # 1: the label
    rf"(\(((?:{_SF_COMPONENT}(?: {_SF_COMPONENT})*)?)\)"  # 2: the member, 3: its items
    rf";created=({_SF_INTEGER});keyid=\"({_SF_CHARS})\"(?:;nonce=\"({_SF_CHARS})\")?"  # 4-6
    rf";alg=\"({_SF_CHARS})\";tag=\"({_SF_CHARS})\")"  # 7, 8
)
_FAST_COMPONENT = re.compile(r'"([^"]*)"(;req)?')  # one item of group 3


def _fast_byte_sequences(text: str) -> dict[str, _Member] | None:
    """``_Parser(text).dictionary()`` for a Dictionary of bare Byte Sequences, else None."""
    result: dict[str, _Member] = {}
    for member in text.split(", "):  # a member of this shape holds no comma
        found = _FAST_BYTE_SEQUENCE.fullmatch(member)
        if found is None or found[1] in result:
            return None
        try:
            result[found[1]] = (_decode_base64(found[2]), {})
        except binascii.Error:
            return None
    return result


def _fast_items(items: str) -> list[_Item]:
    """The items of group 3 of _FAST_SIGNATURE_INPUT, as _Parser gives them."""
    return [
        (found[1], {"req": True} if found[2] else {}) for found in _FAST_COMPONENT.finditer(items)
    ]


# --- Content-Digest (RFC 9530) ---------------------------------------------------------------


class DigestBuilder:
    """Content-Digest of a body fed in chunks (RFC 9530 §2: the content, as sent)."""

    __slots__ = ("_hash", "algorithm")

    def __init__(self, algorithm: str = "sha-256") -> None:
        if algorithm not in _HASHES:
            raise ValueError(f"unsupported digest algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._hash = _HASHES[algorithm]()

    def update(self, chunk: bytes) -> None:
        """Add the next chunk of content."""
        self._hash.update(chunk)

    def digest(self) -> bytes:
        """The digest of the content so far."""
        return self._hash.digest()

    def header_value(self) -> str:
        """The Content-Digest field value, e.g. ``sha-256=:<base64>:``."""
        return f"{self.algorithm}={_ser_bare(self.digest())}"


def content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """The Content-Digest field value of a whole ``body``."""
    builder = DigestBuilder(algorithm)
    builder.update(body)
    return builder.header_value()


def parse_content_digest(value: str) -> dict[str, bytes]:
    """Algorithm -> digest; unknown algorithms are kept, parameters ignored (RFC 9530 §2)."""
    result: dict[str, bytes] = {}
    for algorithm, (digest, _) in _parse_field(value, "Content-Digest").items():
        if not isinstance(digest, bytes):
            raise SignatureError("malformed", f"Content-Digest {algorithm} is not a Byte Sequence")
        if len(digest) != _DIGEST_SIZES.get(algorithm, len(digest)):
            raise SignatureError("malformed", f"Content-Digest {algorithm} has the wrong length")
        result[algorithm] = digest
    return result


def check_content_digest(value: str, computed: Mapping[str, bytes]) -> None:
    """Check a received Content-Digest against the digests the caller ``computed``.

    Every algorithm of :data:`DIGEST_ALGORITHMS` present both in ``value`` and in
    ``computed`` must match, and there must be at least one. Algorithms the caller did not
    compute cannot be checked and are ignored, as are unknown ones (RFC 9530 §2: a
    recipient MAY ignore any member).
    """
    received = parse_content_digest(value)
    checked = [a for a in DIGEST_ALGORITHMS if a in received and a in computed]
    if not checked:
        raise SignatureError("digest_missing", f"no digest among {sorted(computed)}")
    for algorithm in checked:
        if not hmac.compare_digest(received[algorithm], computed[algorithm]):
            raise SignatureError("digest_mismatch", f"{algorithm} differs from the content")


# --- Messages and the signature base (RFC 9421 §2) ------------------------------------------


@dataclass(frozen=True)
class Message:
    """What a signature can cover: control data and header fields of one message.

    ``headers`` maps lowercase field names to values, repeated fields already combined with
    ", " (§2.1). A response carries ``status`` and, for ``;req`` components, ``request``.
    """

    method: str | None = None
    target_uri: str | None = None
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    request: Message | None = None


@dataclass(frozen=True)
class Verified:
    """A signature that verified: who signed, when, and what it covers."""

    label: str
    keyid: str
    created: int
    components: tuple[str, ...]
    alg: str
    nonce: str | None


class _Unresolved(ValueError):
    """A covered component has no value in this message (§2.5: an error)."""


class _Covered(NamedTuple):
    """Checked covered components, with what the base and the result need worked out once."""

    pairs: tuple[tuple[str, bool], ...]  # (name, req), in order
    pair_set: frozenset[tuple[str, bool]]
    # (base line prefix '"name": ' or '"name";req: ', name, req, whether a field here)
    entries: tuple[tuple[str, str, bool, bool], ...]
    names: tuple[str, ...]  # 'name' or 'name;req' (Verified.components)
    inner: str  # the serialised Inner List, without its parameters

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, bool]]) -> _Covered:
        identifiers = [_identifier(name, req) for name, req in pairs]
        return cls(
            tuple(pairs),
            frozenset(pairs),
            tuple(
                (f"{identifier}: ", name, req, not req and name[0] != "@")
                for identifier, (name, req) in zip(identifiers, pairs, strict=True)
            ),
            tuple([f"{name};req" if req else name for name, req in pairs]),
            f"({' '.join(identifiers)})",
        )


def signature_base(message: Message, components: Sequence[str], params: str) -> bytes:
    """The §2.5 signature base; ``params`` is the serialised ``@signature-params`` value."""
    return _base(message, _components(tuple(components)), params)


@functools.lru_cache(maxsize=128)
def _components(components: tuple[str, ...]) -> _Covered:
    """What a signer covers: a gateway uses a handful of lists, so they are parsed once."""
    return _Covered.of([_parse_component(c) for c in components])


def _base(message: Message, covered: _Covered, params: str) -> bytes:
    if len(covered.pair_set) != len(covered.pairs):
        raise ValueError("a component is covered twice (RFC 9421 §2)")
    if "\n" in params:
        raise ValueError("@signature-params spans lines")
    headers = message.headers
    lines = []
    for prefix, name, req, is_field in covered.entries:
        value = headers.get(name) if is_field else None
        # A printable ASCII field value is what _field_value returns once stripped; for
        # anything else, _component_value decides, and raises what it raises.
        if value is not None and value.isascii() and value.isprintable():
            value = value.strip(" \t")
        else:
            value = _component_value(message, name, req)
        lines.append(prefix + value)
    lines.append(f'"@signature-params": {params}')
    # §2.5: the signature base is US-ASCII.
    return "\n".join(lines).encode("ascii")


@functools.lru_cache(maxsize=256)
def _parse_component(text: str) -> tuple[str, bool]:
    name, sep, param = text.partition(";")
    if sep and param != "req":
        raise ValueError(f"component {text!r}: only the ;req parameter is supported")
    _check_name(name)
    return name, bool(sep)


def _check_name(name: str) -> None:
    if name.startswith("@"):
        if name not in _DERIVED:
            raise ValueError(f"derived component {name!r} is not supported")
    elif _FIELD_NAME.fullmatch(name) is None:
        raise ValueError(f"{name!r} is not a lowercase field name (RFC 9421 §2.1)")


def _identifier(name: str, req: bool) -> str:
    # Names were checked by _check_name: no character needs escaping.
    return f'"{name}";req' if req else f'"{name}"'


def _component_value(message: Message, name: str, req: bool) -> str:
    if req:
        if message.status is None:
            raise ValueError("req is only for responses (RFC 9421 §2.4)")
        if message.request is None:
            raise _Unresolved(f"{name};req: the response carries no request")
        message = message.request
    if name[0] == "@":
        return _derived_value(message, name)
    return _field_value(message, name)


def _field_value(message: Message, name: str) -> str:
    value = message.headers.get(name)
    if value is None:
        raise _Unresolved(f"header {name!r} is not in the message")
    value = value.strip(" \t")  # §2.1: leading and trailing whitespace is not signed
    # RFC 9110 §5.5 field-content: visible ASCII, SP and HTAB (obs-text is not signable).
    if not (value.isascii() and (value.isprintable() or value.replace("\t", " ").isprintable())):
        raise ValueError(f"header {name!r} is not printable ASCII")
    return value


def _derived_value(message: Message, name: str) -> str:
    if name == "@status":
        if message.status is None:
            raise ValueError("@status is only for responses (RFC 9421 §2.2.9)")
        if not 100 <= message.status <= 999:
            raise ValueError(f"status {message.status} is not three digits")
        return str(message.status)
    if message.status is not None:
        raise ValueError(f"{name} on a response needs ;req (RFC 9421 §2.4)")
    if name == "@method":
        if message.method is None:
            raise _Unresolved("the message has no method")
        return _checked_derived(message.method)
    if message.target_uri is None:
        raise _Unresolved("the message has no target URI")
    uri = _checked_derived(message.target_uri)
    if name == "@target-uri":
        return uri
    return _URI_PARTS[name](*_split_uri(uri))


def _checked_derived(value: str) -> str:
    # §2.2: printable, no newline, no surrounding whitespace (neither may hold any inside).
    if not (value.isascii() and value.isprintable()) or " " in value or not value:
        raise ValueError(f"{value!r} is not a valid derived component value")
    return value


def _split_uri(uri: str) -> tuple[str, str, str, str | None]:
    """Scheme, authority, path and query (None when absent) of an absolute URI (RFC 3986)."""
    scheme, sep, rest = uri.partition("://")
    if not sep or not scheme.isalnum():
        raise ValueError(f"{uri!r} is not an absolute http(s) URI")
    if "#" in rest:
        raise ValueError("a target URI has no fragment (RFC 9110 §7.1)")
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    path, qmark, query = rest[end:].partition("?")
    return scheme.lower(), rest[:end], path, query if qmark else None


def _authority(scheme: str, authority: str, path: str, query: str | None) -> str:
    # §2.2.3 with RFC 9110 §4.2.3: host lowercased, default port omitted.
    if "@" in authority:
        raise ValueError("userinfo is not allowed in a target URI (RFC 9110 §4.2.4)")
    host, port = authority, ""
    colon = authority.rfind(":")
    if colon > authority.rfind("]"):  # not inside an IPv6 literal
        host, port = authority[:colon], authority[colon + 1 :]
    if not host or (port and not port.isdigit()):
        raise ValueError(f"bad authority {authority!r}")
    host = host.lower()
    return host if port in ("", _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"


def _path(scheme: str, authority: str, path: str, query: str | None) -> str:
    return path or "/"  # §2.2.6: an empty path is "/"


def _query(scheme: str, authority: str, path: str, query: str | None) -> str:
    return f"?{query or ''}"  # §2.2.7: "?" alone when there is no query


_URI_PARTS: dict[str, Callable[[str, str, str, str | None], str]] = {
    "@authority": _authority,
    "@path": _path,
    "@query": _query,
}


# --- Signing and verifying (RFC 9421 §3) ----------------------------------------------------


def signature_algorithm(key: PrivateKey | PublicKey) -> str:
    """The RFC 9421 §3.3 algorithm name for ``key`` (ValueError for RSA or another curve)."""
    family = _KEY_FAMILIES.get(type(key)) or _key_family(key)
    if family == "ed25519":
        return "ed25519"
    if family == "ec":
        algorithm = _EC_ALGORITHMS.get(cast(_EcKey, key).curve.name)
        if algorithm is not None:
            return algorithm
    raise ValueError(f"no RFC 9421 algorithm in the Jisr profile for {type(key).__name__}")


# Key class -> "ed25519" or "ec": the isinstance checks against the ABCs, done once per class.
_KEY_FAMILIES: dict[type, str] = {}


def _key_family(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        family = "ed25519"
    elif isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        family = "ec"
    else:
        return ""  # not remembered: refusals need no speed, and ABCs can be registered later
    # isinstance also consults __class__, which a proxy may fake; such a class is not
    # remembered. The bound keeps a stream of generated classes (mocks) from growing it.
    if key.__class__ is type(key) and len(_KEY_FAMILIES) < 32:
        _KEY_FAMILIES[type(key)] = family
    return family


def sign_message(
    message: Message,
    *,
    components: Sequence[str],
    key: PrivateKey,
    keyid: str,
    created: int,
    label: str = "jisr",
    tag: str = "jisr-xroad/1",
    nonce: str | None = None,
) -> tuple[str, str]:
    """Sign ``message``; returns the Signature-Input and Signature field values (§3.1, §4)."""
    if _KEY.fullmatch(label) is None:
        raise ValueError(f"label {label!r} is not a Structured Field key")
    if type(created) is not int or created < 0:
        raise ValueError("created must be a non-negative integer (RFC 9421 §2.3)")
    covered = _components(tuple(components))
    algorithm = signature_algorithm(key)
    params: _Params = {"created": created, "keyid": keyid}
    if nonce is not None:
        params["nonce"] = nonce
    params |= {"alg": algorithm, "tag": tag}
    signature_params = covered.inner + _ser_params(params)
    signature = _sign(key, algorithm, _base(message, covered, signature_params))
    return f"{label}={signature_params}", f"{label}={_ser_bare(signature)}"


def verify_message(
    message: Message,
    *,
    signature_input: str,
    signature: str,
    resolve_key: Callable[[str], PublicKey | None],
    required: Collection[str],
    now: int,
    max_age: int,
    max_skew: int = 5,
    label: str = "jisr",
    tag: str | None = "jisr-xroad/1",
) -> Verified:
    """Verify the signature under ``label`` (§3.2); :class:`SignatureError` says why not."""
    covered, params, value, signature_params = _select(signature_input, signature, label)
    _check_params(params, tag, label)
    _check_required(covered, required)
    created = _check_time(params, now, max_age, max_skew)
    keyid = params.get("keyid")
    if not isinstance(keyid, str):
        raise SignatureError("malformed", "keyid is required")
    key = resolve_key(keyid)
    if key is None:
        raise SignatureError("unknown_key", f"no key for keyid {keyid!r}")
    algorithm = _check_alg(params, key)
    base = _verification_base(message, covered, signature_params)
    if not _verify(key, algorithm, value, base):
        raise SignatureError("bad_signature", f"signature {label!r} does not verify")
    nonce = params.get("nonce")
    return Verified(
        label=label,
        keyid=keyid,
        created=created,
        components=covered.names,
        alg=algorithm,
        nonce=nonce if isinstance(nonce, str) else None,
    )


class _Selected(NamedTuple):
    covered: _Covered
    params: _Params
    value: bytes  # the signature
    signature_params: str  # §3.2 step 7: the received inner list, serialised again


def _select(signature_input: str, signature: str, label: str) -> _Selected:
    # §3.2 steps 1-3: the same label in both fields, an Inner List and a Byte Sequence.
    selected = _select_fast(signature_input, signature, label)
    if selected is not None:
        return selected
    inputs = _parse_field(signature_input, "Signature-Input")
    signatures = _parse_field(signature, "Signature")
    if label not in inputs and label not in signatures:
        raise SignatureError("missing", f"no signature labelled {label!r}")
    if label not in inputs or label not in signatures:
        raise SignatureError("malformed", f"label {label!r} is not in both fields (§4)")
    items, params = inputs[label]
    value, _ = signatures[label]
    if not isinstance(items, list):
        raise SignatureError("malformed", "Signature-Input member is not an Inner List (§4.1)")
    if not isinstance(value, bytes):
        raise SignatureError("malformed", "Signature member is not a Byte Sequence (§4.2)")
    return _Selected(_covered(items), params, value, _ser_inner_list(items, params))


def _select_fast(signature_input: str, signature: str, label: str) -> _Selected | None:
    """_select when both fields have a fast-path shape, else None.

    Then both fields parse, the label is in both, with the right types: _select would
    return the same and raise nothing, and only _covered may refuse, as it would next.
    """
    found = _FAST_SIGNATURE_INPUT.fullmatch(signature_input)
    if found is None or found[1] != label:
        return None
    signatures = _fast_byte_sequences(signature)
    member = signatures.get(label) if signatures is not None else None
    if member is None:
        return None
    value = member[0]
    if not isinstance(value, bytes):  # never: _fast_byte_sequences holds Byte Sequences
        return None
    _, signature_params, items, created, keyid, nonce, alg, tag = found.groups()
    params: _Params = {"created": int(created), "keyid": keyid}
    if nonce is not None:
        params["nonce"] = nonce
    params["alg"] = alg
    params["tag"] = tag
    return _Selected(_fast_covered(items), params, value, signature_params)


@functools.lru_cache(maxsize=128)
def _fast_covered(items: str) -> _Covered:
    """_covered of group 3 of _FAST_SIGNATURE_INPUT, kept: peers send few distinct lists."""
    return _covered(_fast_items(items))


def _covered(items: Sequence[_Item]) -> _Covered:
    covered = []
    for name, params in items:
        if type(name) is not str or params.keys() - {"req"} or params.get("req", True) is not True:
            raise SignatureError("malformed", f"unsupported component identifier {name!r}")
        try:
            _check_name(name)
        except ValueError as exc:
            raise SignatureError("malformed", str(exc)) from exc
        covered.append((name, "req" in params))
    return _Covered.of(covered)


@functools.lru_cache(maxsize=64)
def _required(required: tuple[str, ...]) -> frozenset[tuple[str, bool]]:
    return frozenset([_parse_component(r) for r in required])


def _check_params(params: _Params, tag: str | None, label: str) -> None:
    for name, value in params.items():
        if name not in _PARAM_TYPES:
            raise SignatureError("malformed", f"signature parameter {name!r} is not accepted")
        if type(value) is not _PARAM_TYPES[name]:
            raise SignatureError("malformed", f"signature parameter {name!r} has the wrong type")
    # §3.2.1: the application's tag selects its signatures; another tag is not ours.
    if tag is not None and params.get("tag") != tag:
        raise SignatureError("missing", f"signature {label!r} is not tagged {tag!r}")


def _check_required(covered: _Covered, required: Collection[str]) -> None:
    if type(required) is tuple and _required(required) <= covered.pair_set:
        return  # the usual case: a constant tuple of the caller's, all covered
    missing = [r for r in required if _parse_component(r) not in covered.pair_set]
    if missing:
        raise SignatureError("missing_component", f"not covered: {', '.join(missing)}")


def _check_time(params: _Params, now: int, max_age: int, max_skew: int) -> int:
    created = params.get("created")
    if not isinstance(created, int):
        raise SignatureError("malformed", "created is required")
    if created < now - max_age:
        raise SignatureError("expired", f"created {created} is older than {max_age}s")
    if created > now + max_skew:
        raise SignatureError("future", f"created {created} is ahead of {now}")
    expires = params.get("expires")
    if isinstance(expires, int) and expires < now - max_skew:
        raise SignatureError("expired", f"the signature expired at {expires}")
    return created


def _check_alg(params: _Params, key: PublicKey) -> str:
    # §3.2 step 6: the key decides the algorithm; a signed alg may only agree with it.
    try:
        algorithm = signature_algorithm(key)
    except ValueError as exc:
        raise SignatureError("alg_mismatch", str(exc)) from exc
    claimed = params.get("alg")
    if claimed is not None and claimed != algorithm:
        raise SignatureError("alg_mismatch", f"alg {claimed!r} but the key is {algorithm}")
    return algorithm


def _verification_base(message: Message, covered: _Covered, params: str) -> bytes:
    try:
        return _base(message, covered, params)
    except _Unresolved as exc:
        raise SignatureError("missing_component", str(exc)) from exc
    except ValueError as exc:
        raise SignatureError("malformed", str(exc)) from exc


def _sign(key: PrivateKey, algorithm: str, data: bytes) -> bytes:
    signature = keys.sign(key, data)
    if algorithm == "ed25519":
        return signature
    r, s = decode_dss_signature(signature)  # keys.sign gives DER; §3.3.4 wants r || s
    size = _EC_SIZES[algorithm]
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _verify(key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    if algorithm != "ed25519":
        size = _EC_SIZES[algorithm]
        if len(signature) != 2 * size:
            return False
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        signature = encode_dss_signature(r, s)
    return keys.verify(key, signature, data)
