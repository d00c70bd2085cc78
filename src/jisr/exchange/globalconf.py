"""Global configuration: the signed document a central publishes and gateways trust.

The formats, trust rules and client behaviour are specified in ``docs/globalconf.md``
(cited below as §N). This module holds their executable form:

* the pydantic models (:class:`GlobalConf`, :class:`Anchor` and their entries), which the
  central's builder constructs and dumps with ``model_dump(mode="json")``;
* :func:`sign_globalconf` / :func:`parse_and_verify`, the pure signing and trust functions;
* :class:`GlobalConfClient`, the async client gateways run: polling, disk cache, federation
  and the indexed look-ups gateways need on every message.

Exceptions::

    Exception
     └── GlobalConfError(reason)
           reason: "malformed"       not a JWS / not canonical / breaks the §1 value rules
                 | "unknown_kid"     signed by a key outside the trusted set (rule 1)
                 | "bad_signature"   signature or alg refused (rule 1)
                 | "unknown_format"  format is not jisr-globalconf/1 (or jisr-anchor/1)
                 | "wrong_instance"  document instance differs from the anchor's (rule 2)
                 | "rollback"        older version, or same version with other content (rule 3)
                 | "expired"         expires_at <= now, also for a 304 (rule 4, §6)
                 | "not_yet_valid"   generated_at beyond the clock-skew allowance (rule 4)
                 | "fetch_failed"    network error, unexpected HTTP status, body too large
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Final, Literal, Self, TypeVar

import httpx
import structlog
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    model_validator,
)

from jisr.crypto.canonical import CanonicalizationError, canonical_json
from jisr.crypto.jose import (
    JoseError,
    PrivateKey,
    PublicKey,
    b64url_encode,
    sign_compact,
    verify_compact,
)
from jisr.files import atomic_write, strict_json_object

__all__ = [
    "ANCHOR_FORMAT",
    "CLOCK_SKEW",
    "FORMAT",
    "JWS_TYPE",
    "Anchor",
    "AnchorCertificate",
    "CertificateEntry",
    "FederationEntry",
    "GatewayEntry",
    "GlobalConf",
    "GlobalConfClient",
    "GlobalConfError",
    "GroupEntry",
    "MemberEntry",
    "Reason",
    "ServiceEntry",
    "SigningCertificate",
    "SubsystemEntry",
    "TsaEntry",
    "certificate_kid",
    "parse_and_verify",
    "sign_globalconf",
    "utcnow",
]

FORMAT: Final = "jisr-globalconf/1"
ANCHOR_FORMAT: Final = "jisr-anchor/1"
JWS_TYPE: Final = "jisr-globalconf+json"
CLOCK_SKEW: Final = timedelta(minutes=5)  # rule 4
DEFAULT_REFRESH_INTERVAL: Final = 60.0
MAX_DOCUMENT_BYTES: Final = 32 * 1024 * 1024  # §2
_CACHE_FORMAT: Final = "jisr-globalconf-cache/1"

log = structlog.get_logger("jisr.exchange.globalconf")

Reason = Literal[
    "malformed",
    "unknown_kid",
    "bad_signature",
    "wrong_instance",
    "rollback",
    "expired",
    "not_yet_valid",
    "unknown_format",
    "fetch_failed",
]


class GlobalConfError(Exception):
    """A configuration (or anchor) was refused; ``reason`` is the stable code (§7)."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason
        self.detail = detail


def utcnow() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------ value types (§1)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_PART = r"[^/\s]+"
_INSTANCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # also a cache file name
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_KID = re.compile(r"[0-9a-f]{16}")


def _parse_timestamp(value: object) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("timestamp must be timezone-aware")
        return value.astimezone(UTC).replace(microsecond=0)
    if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    raise ValueError("timestamp must be RFC 3339 UTC with seconds precision: YYYY-MM-DDTHH:MM:SSZ")


def _format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _identifier(*lengths: int) -> AfterValidator:
    pattern = re.compile("|".join("/".join([_PART] * n) for n in lengths))

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"identifier must have {' or '.join(map(str, lengths))} parts")
        return value

    return AfterValidator(check)


def _base64_der(value: str) -> str:
    _decode_base64(value)
    return value


def _lower_hex(value: str) -> str:
    value = value.lower()
    if not _SHA256_HEX.fullmatch(value):
        raise ValueError("sha256 must be 64 hex characters")
    return value


def _matches(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"invalid {what}")
        return value

    return AfterValidator(check)


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("URL must be http:// or https://")
    return value


def _sorted_unique(key: Callable[[Any], Any] | None = None) -> AfterValidator:
    """Sort a list so the canonical form is stable (§1); duplicates are an error."""

    def sort(items: tuple[Any, ...]) -> tuple[Any, ...]:
        ordered = tuple(sorted(items, key=key))
        keys = [key(item) if key else item for item in ordered]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate entries")
        return ordered

    return AfterValidator(sort)


UtcTimestamp = Annotated[
    datetime,
    PlainValidator(_parse_timestamp),
    PlainSerializer(_format_timestamp, return_type=str),
]
InstanceCode = Annotated[str, _matches(_INSTANCE, "instance code")]
MemberId = Annotated[str, _identifier(3)]
SubsystemId = Annotated[str, _identifier(4)]
GatewayId = Annotated[str, _identifier(4)]
GroupId = Annotated[str, _identifier(2)]
ClientId = Annotated[str, _identifier(3, 4)]
Base64Der = Annotated[str, AfterValidator(_base64_der)]
Sha256Hex = Annotated[str, AfterValidator(_lower_hex)]
Kid = Annotated[str, _matches(_KID, "kid")]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
_by_id = _sorted_unique(attrgetter("id"))


def certificate_kid(der: bytes) -> str:
    """``kid`` of a configuration-signing certificate: 16 hex of its SHA-256 (§1)."""
    return hashlib.sha256(der).hexdigest()[:16]


def _decode_base64(value: str) -> bytes:
    try:
        der = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc
    if not der or base64.b64encode(der).decode("ascii") != value:
        raise ValueError("not canonical base64")
    return der


def _load_certificate(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise ValueError("not a DER X.509 certificate") from exc


# --------------------------------------------------------------------------- models (§1, §3)
class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CertificateEntry(_Model):
    """A member signing or gateway authentication certificate."""

    sha256: Sha256Hex
    certificate: Base64Der
    not_after: UtcTimestamp

    @classmethod
    def from_der(cls, der: bytes) -> Self:
        """Entry for a DER certificate, fingerprint and expiry taken from it."""
        certificate = _load_certificate(der)
        return cls(
            sha256=hashlib.sha256(der).hexdigest(),
            certificate=base64.b64encode(der).decode("ascii"),
            not_after=certificate.not_valid_after_utc,
        )

    @property
    def der(self) -> bytes:
        return _decode_base64(self.certificate)

    @model_validator(mode="after")
    def _fingerprint_matches(self) -> Self:
        if hashlib.sha256(self.der).hexdigest() != self.sha256:
            raise ValueError("sha256 does not match the certificate")
        return self


class AnchorCertificate(_Model):
    """A configuration-signing certificate, named by its ``kid``."""

    kid: Kid
    certificate: Base64Der

    @classmethod
    def from_der(cls, der: bytes) -> Self:
        return cls(kid=certificate_kid(der), certificate=base64.b64encode(der).decode("ascii"))

    @property
    def der(self) -> bytes:
        return _decode_base64(self.certificate)

    def public_key(self) -> PublicKey | None:
        """The certificate's key, or None for a key type Jisr does not sign with."""
        key = _load_certificate(self.der).public_key()
        if isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
            return key
        return key if isinstance(key, rsa.RSAPublicKey) else None

    @model_validator(mode="after")
    def _kid_matches(self) -> Self:
        _load_certificate(self.der)
        if certificate_kid(self.der) != self.kid:
            raise ValueError("kid does not match the certificate")
        return self


class SigningCertificate(AnchorCertificate):
    """A configuration-signing certificate as announced in a document (§5)."""

    status: Literal["active", "next"]

    @classmethod
    def from_der(cls, der: bytes, status: Literal["active", "next"] = "active") -> Self:
        return cls(
            kid=certificate_kid(der),
            certificate=base64.b64encode(der).decode("ascii"),
            status=status,
        )


class ServiceEntry(_Model):
    code: str = Field(min_length=1)
    openapi_url: str | None = None


class SubsystemEntry(_Model):
    id: SubsystemId
    services: Annotated[tuple[ServiceEntry, ...], _sorted_unique(attrgetter("code"))] = ()


class MemberEntry(_Model):
    id: MemberId
    name: dict[str, str] = Field(default_factory=dict)
    signing_certificates: Annotated[
        tuple[CertificateEntry, ...], _sorted_unique(attrgetter("sha256"))
    ] = ()


class GatewayEntry(_Model):
    id: GatewayId
    address: str = Field(min_length=1)
    auth_certificates: Annotated[
        tuple[CertificateEntry, ...], _sorted_unique(attrgetter("sha256"))
    ] = ()
    clients: Annotated[tuple[SubsystemId, ...], _sorted_unique()] = ()


class GroupEntry(_Model):
    id: GroupId
    description: str = ""
    members: Annotated[tuple[ClientId, ...], _sorted_unique()] = ()


class TsaEntry(_Model):
    url: HttpUrl
    certificate: Base64Der


class Anchor(_Model):
    """Where an instance publishes and which keys sign its configuration (§3)."""

    format: Literal["jisr-anchor/1"] = ANCHOR_FORMAT
    instance: InstanceCode
    generated_at: UtcTimestamp
    urls: tuple[HttpUrl, ...] = Field(min_length=1)
    signing_certificates: Annotated[
        tuple[AnchorCertificate, ...], Field(min_length=1), _sorted_unique(attrgetter("kid"))
    ]

    @classmethod
    def load(cls, path: Path | str) -> Self:
        return cls.from_json(Path(path).read_bytes())

    @classmethod
    def from_json(cls, data: bytes) -> Self:
        value = _json_object(data)
        if value.get("format") != ANCHOR_FORMAT:
            raise GlobalConfError("unknown_format", f"anchor format {value.get('format')!r}")
        return _validate(cls, value)

    def to_json(self) -> bytes:
        """The anchor file: canonical, so its SHA-256 can be compared out of band (§3)."""
        return canonical_json(self.model_dump(mode="json"))


class FederationEntry(_Model):
    """A federated instance, with its anchor as the own central vouches for it (rule 5)."""

    instance: InstanceCode
    anchor: Anchor

    @model_validator(mode="after")
    def _anchor_is_for_instance(self) -> Self:
        if self.anchor.instance != self.instance:
            raise ValueError("anchor is for another instance")
        return self


class GlobalConf(_Model):
    """The global configuration document of one instance (§1)."""

    format: Literal["jisr-globalconf/1"] = FORMAT
    instance: InstanceCode
    version: int = Field(strict=True, ge=1)
    generated_at: UtcTimestamp
    expires_at: UtcTimestamp
    refresh_interval: int = Field(strict=True, ge=1, le=86400)
    members: Annotated[tuple[MemberEntry, ...], _by_id] = ()
    subsystems: Annotated[tuple[SubsystemEntry, ...], _by_id] = ()
    gateways: Annotated[tuple[GatewayEntry, ...], _by_id] = ()
    global_groups: Annotated[tuple[GroupEntry, ...], _by_id] = ()
    ca_certificates: Annotated[tuple[Base64Der, ...], _sorted_unique()] = ()
    tsa: tuple[TsaEntry, ...] = ()  # order of preference, not sorted
    signing_certificates: Annotated[
        tuple[SigningCertificate, ...], _sorted_unique(attrgetter("kid"))
    ] = ()
    federation: Annotated[tuple[FederationEntry, ...], _sorted_unique(attrgetter("instance"))] = ()

    def payload(self) -> bytes:
        """The bytes that are signed: the RFC 8785 form of the JSON dump (§2)."""
        return canonical_json(self.model_dump(mode="json"))

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.expires_at <= self.generated_at:
            raise ValueError("expires_at must be after generated_at")
        _check_own_identifiers(self)
        _check_unique_auth_certificates(self.gateways)
        if any(entry.instance == self.instance for entry in self.federation):
            raise ValueError("an instance does not federate with itself")
        return self


def _check_own_identifiers(doc: GlobalConf) -> None:
    # §1: an instance only speaks for itself; look-ups rely on the instance prefix.
    prefix = f"{doc.instance}/"
    entries: list[MemberEntry | SubsystemEntry | GatewayEntry | GroupEntry] = [
        *doc.members,
        *doc.subsystems,
        *doc.gateways,
        *doc.global_groups,
    ]
    ids = [entry.id for entry in entries]
    ids += [client for gateway in doc.gateways for client in gateway.clients]
    if foreign := [i for i in ids if not i.startswith(prefix)]:
        raise ValueError(f"identifiers outside instance {doc.instance}: {foreign[:3]}")


def _check_unique_auth_certificates(gateways: Sequence[GatewayEntry]) -> None:
    fingerprints = [c.sha256 for gateway in gateways for c in gateway.auth_certificates]
    if len(set(fingerprints)) != len(fingerprints):
        raise ValueError("an authentication certificate is listed for two gateways")


# ------------------------------------------------------------------ signing and trust (§2, §4)
def sign_globalconf(doc: GlobalConf, key: PrivateKey, certificate: bytes) -> str:
    """Sign a document as §2 prescribes; ``certificate`` is the DER of ``key``'s certificate."""
    return sign_compact(
        doc.payload(),
        key,
        kid=certificate_kid(certificate),
        typ=JWS_TYPE,
        extra_header={"x5t#S256": _x5t_s256(certificate)},
    )


def parse_and_verify(
    token: str,
    *,
    anchor: Anchor,
    trusted_extra: Sequence[SigningCertificate] = (),
    last: GlobalConf | None,
    now: datetime,
) -> GlobalConf:
    """Apply the trust rules of §4 to a token claiming to be ``anchor.instance``'s document.

    ``trusted_extra`` is the ``signing_certificates`` list of ``last`` (rule 1); ``last`` is
    the last accepted document of the instance (rule 3).
    """
    doc = _verify_token(token, anchor, trusted_extra)
    _check_freshness(doc, now)
    _check_rollback(doc, last)
    return doc


_FROM_JOSE: Final[Mapping[str, Reason]] = {
    "malformed": "malformed",
    "typ_mismatch": "malformed",
    "unknown_kid": "unknown_kid",
    "alg_not_allowed": "bad_signature",
    "bad_signature": "bad_signature",
}


def _verify_token(
    token: str, anchor: Anchor, trusted_extra: Sequence[AnchorCertificate]
) -> GlobalConf:
    """Rules 1 and 2: signature by a trusted key, then format and instance."""
    certificates = {c.kid: c for c in (*anchor.signing_certificates, *trusted_extra)}
    keys = {kid: key for kid, c in certificates.items() if (key := c.public_key()) is not None}
    try:
        header, payload = verify_compact(token, keys, typ=JWS_TYPE)
    except JoseError as exc:
        raise GlobalConfError(_FROM_JOSE[exc.reason], str(exc)) from exc
    if header.get("x5t#S256") != _x5t_s256(certificates[header["kid"]].der):
        raise GlobalConfError("malformed", "x5t#S256 does not match the signing certificate")
    doc = _decode_document(payload)
    if doc.instance != anchor.instance:
        raise GlobalConfError("wrong_instance", f"{doc.instance!r}, expected {anchor.instance!r}")
    return doc


def _decode_document(payload: bytes) -> GlobalConf:
    value = _json_object(payload)
    try:
        canonical = canonical_json(value) == payload
    except CanonicalizationError as exc:
        raise GlobalConfError("malformed", str(exc)) from exc
    if not canonical:
        raise GlobalConfError("malformed", "payload is not RFC 8785 canonical JSON")
    if value.get("format") != FORMAT:
        raise GlobalConfError("unknown_format", f"format {value.get('format')!r}")
    return _validate(GlobalConf, value)


def _check_freshness(doc: GlobalConf, now: datetime) -> None:
    if doc.expires_at <= now:
        raise GlobalConfError("expired", f"version {doc.version} expired at {doc.expires_at}")
    if doc.generated_at > now + CLOCK_SKEW:
        raise GlobalConfError("not_yet_valid", f"generated_at {doc.generated_at} is ahead")


def _check_rollback(doc: GlobalConf, last: GlobalConf | None) -> None:
    if last is None:
        return
    if last.instance != doc.instance:
        raise ValueError("last is the document of another instance")
    if doc.version < last.version:
        raise GlobalConfError("rollback", f"version {doc.version} < {last.version}")
    if doc.version == last.version and doc.payload() != last.payload():
        raise GlobalConfError("rollback", f"version {doc.version} reissued with other content")


def _x5t_s256(der: bytes) -> str:
    return b64url_encode(hashlib.sha256(der).digest())  # RFC 7515 §4.1.8


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        return strict_json_object(data)
    except ValueError as exc:
        raise GlobalConfError("malformed", f"not a JSON object: {exc}") from exc


_M = TypeVar("_M", bound=BaseModel)


def _validate(model: type[_M], value: Mapping[str, Any]) -> _M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise GlobalConfError("malformed", str(exc)) from exc


# ------------------------------------------------------------------------------ the index
class _Index:
    """Everything gateways look up per message, built once when a document is accepted."""

    def __init__(self, doc: GlobalConf) -> None:
        self.members = {m.id: m for m in doc.members}
        self.subsystems = {s.id: s for s in doc.subsystems}
        self.gateways = {g.id: g for g in doc.gateways}
        self.groups = {g.id: frozenset(g.members) for g in doc.global_groups}
        self.federation = frozenset(entry.instance for entry in doc.federation)
        self.auth_certificates = {c.sha256: g for g in doc.gateways for c in g.auth_certificates}
        serving: dict[str, list[GatewayEntry]] = {}
        for gateway in doc.gateways:
            for client in gateway.clients:
                serving.setdefault(client, []).append(gateway)
        self.gateways_by_client = {client: tuple(gws) for client, gws in serving.items()}


@dataclass(frozen=True, slots=True)
class _Held:
    """An accepted document with what the client needs to keep trusting it."""

    doc: GlobalConf
    token: str
    index: _Index
    etag: _ETag | None
    # Certificates beyond the anchor that were trusted when the token was accepted (§6).
    accepted_under: tuple[SigningCertificate, ...]

    def cache_certificates(self) -> tuple[SigningCertificate, ...]:
        merged = {c.kid: c for c in (*self.accepted_under, *self.doc.signing_certificates)}
        return tuple(merged.values())


# -------------------------------------------------------------------------- disk cache (§6)
class _ETag(_Model):
    url: str
    value: str


class _CacheMeta(_Model):
    format: Literal["jisr-globalconf-cache/1"] = _CACHE_FORMAT
    instance: InstanceCode
    signing_certificates: Annotated[
        tuple[SigningCertificate, ...], _sorted_unique(attrgetter("kid"))
    ] = ()
    etag: _ETag | None = None


class _DiskCache:
    """``<INSTANCE>.jws`` and ``<INSTANCE>.trusted.json``, each replaced atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read(self, instance: str) -> tuple[str, _CacheMeta] | None:
        try:
            token = (self.directory / f"{instance}.jws").read_text("ascii").strip()
            meta = _CacheMeta.model_validate_json(self._meta_path(instance).read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            log.warning("globalconf.cache_unreadable", instance=instance, error=str(exc))
            return None
        return (token, meta) if meta.instance == instance else None

    def write(self, instance: str, held: _Held) -> None:
        meta = _CacheMeta(
            instance=instance, signing_certificates=held.cache_certificates(), etag=held.etag
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        # Token first: a crash between the two writes leaves a metadata file whose
        # certificates still verify the new token (§6).
        atomic_write(self.directory / f"{instance}.jws", held.token.encode("ascii"))
        atomic_write(self._meta_path(instance), canonical_json(meta.model_dump(mode="json")))

    def _meta_path(self, instance: str) -> Path:
        return self.directory / f"{instance}.trusted.json"


# ------------------------------------------------------------------------------ the client
@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    token: str = ""
    etag: str | None = None


class GlobalConfClient:
    """Keeps the own instance's configuration, and its federated instances', fresh (§6)."""

    def __init__(
        self,
        anchor: Anchor,
        cache_dir: Path,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utcnow,
        min_backoff: float = 1.0,
        max_backoff: float = 300.0,
    ) -> None:
        self.anchor = anchor
        self._cache = _DiskCache(Path(cache_dir))
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=10.0)
        self._clock = clock
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._held: dict[str, _Held] = {}
        self._cache_loaded = False
        self._lock = asyncio.Lock()

    @property
    def instance(self) -> str:
        return self.anchor.instance

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ---------------------------------------------------------------- cache
    def load_cache(self) -> None:
        """Re-verify cached tokens (rules 1, 2) as last known documents; idempotent."""
        if self._cache_loaded:
            return
        self._cache_loaded = True
        own = self._load_cached(self.anchor)
        for entry in own.doc.federation if own else ():
            self._load_cached(entry.anchor)

    def _load_cached(self, anchor: Anchor) -> _Held | None:
        if anchor.instance in self._held:
            return self._held[anchor.instance]
        return self._adopt_cached(anchor, self._cache.read(anchor.instance))

    def _adopt_cached(self, anchor: Anchor, cached: tuple[str, _CacheMeta] | None) -> _Held | None:
        if cached is None:
            return None
        token, meta = cached
        try:
            doc = _verify_token(token, anchor, meta.signing_certificates)
        except GlobalConfError as exc:
            log.warning("globalconf.cache_refused", instance=anchor.instance, reason=exc.reason)
            return None
        held = _Held(doc, token, _Index(doc), meta.etag, meta.signing_certificates)
        self._held[anchor.instance] = held
        return held

    # -------------------------------------------------------------- refresh
    async def refresh(self) -> None:
        """Fetch the own instance, then its federated instances (§6).

        Raises :class:`GlobalConfError` if the own instance failed on every URL; failures of
        federated instances are logged and keep their last valid copy.
        """
        async with self._lock:
            if not self._cache_loaded:
                await asyncio.to_thread(self.load_cache)
            own_error: GlobalConfError | None = None
            try:
                await self._refresh_instance(self.anchor)
            except GlobalConfError as exc:
                own_error = exc
            await self._refresh_federation()
        if own_error is not None:
            raise own_error

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh every ``refresh_interval``, backing off exponentially on failure."""
        failures = 0
        while not stop.is_set():
            try:
                await self.refresh()
            except (GlobalConfError, OSError) as exc:
                failures += 1
                delay = _backoff_delay(failures, self._min_backoff, self._max_backoff)
                log.warning("globalconf.refresh_failed", error=str(exc), retry_in=delay)
            else:
                failures = 0
                delay = self._refresh_interval()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    def _refresh_interval(self) -> float:
        held = self._held.get(self.instance)
        return float(held.doc.refresh_interval) if held else DEFAULT_REFRESH_INTERVAL

    async def _refresh_federation(self) -> None:
        # Rule 5: federation hangs off the own *current* document; without one, keep what
        # we have (unusable until the own document is current again) and fetch nothing.
        if not self.is_current():
            return
        entries = self._held[self.instance].doc.federation
        listed = {entry.instance for entry in entries}
        for instance in [i for i in self._held if i != self.instance and i not in listed]:
            del self._held[instance]
        await asyncio.gather(*(self._refresh_federated(entry) for entry in entries))

    async def _refresh_federated(self, entry: FederationEntry) -> None:
        if entry.instance not in self._held:  # newly listed, or listed again: rule 3 memory
            cached = await asyncio.to_thread(self._cache.read, entry.instance)
            self._adopt_cached(entry.anchor, cached)
        try:
            await self._refresh_instance(entry.anchor)
        except GlobalConfError as exc:
            log.warning(
                "globalconf.federated_refresh_failed", instance=entry.instance, error=str(exc)
            )

    async def _refresh_instance(self, anchor: Anchor) -> None:
        errors: list[tuple[str, GlobalConfError]] = []
        for url in anchor.urls:  # §3: in the given order
            try:
                await self._fetch(url, anchor)
                return
            except GlobalConfError as exc:
                errors.append((url, exc))
        detail = "; ".join(f"{url}: {exc}" for url, exc in errors)
        raise GlobalConfError(errors[-1][1].reason, detail)

    async def _fetch(self, url: str, anchor: Anchor) -> None:
        held = self._held.get(anchor.instance)
        # §6: the ETag is only meaningful to the URL that issued it.
        sent = held.etag if held and held.etag and held.etag.url == url else None
        headers = {"Accept": "application/jose"}
        if sent is not None:
            headers["If-None-Match"] = sent.value
        response = await self._get(url, headers)
        if response.status == 304:
            self._not_modified(held if sent else None)
            return
        doc = parse_and_verify(
            response.token,
            anchor=anchor,
            trusted_extra=held.doc.signing_certificates if held else (),
            last=held.doc if held else None,
            now=self._clock(),
        )
        etag = _ETag(url=url, value=response.etag) if response.etag else None
        await self._accept(doc, response.token, etag, held)

    def _not_modified(self, held: _Held | None) -> None:
        if held is None:
            raise GlobalConfError("fetch_failed", "304 to an unconditional request")
        # §6: a 304 keeps the document but never extends its validity.
        _check_freshness(held.doc, self._clock())

    async def _accept(
        self, doc: GlobalConf, token: str, etag: _ETag | None, previous: _Held | None
    ) -> None:
        same = previous is not None and previous.doc.version == doc.version
        index = previous.index if same and previous else _Index(doc)
        accepted_under = previous.doc.signing_certificates if previous else ()
        held = _Held(doc, token, index, etag, accepted_under)
        self._held[doc.instance] = held
        try:
            await asyncio.to_thread(self._cache.write, doc.instance, held)
        except OSError as exc:
            log.warning("globalconf.cache_write_failed", instance=doc.instance, error=str(exc))

    async def _get(self, url: str, headers: Mapping[str, str]) -> _Response:
        try:
            async with self._http.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return _Response(304)
                if response.status_code != 200:
                    raise GlobalConfError("fetch_failed", f"HTTP {response.status_code}")
                body = await _read_limited(response)
                etag = response.headers.get("etag")
        except httpx.HTTPError as exc:
            raise GlobalConfError("fetch_failed", f"{type(exc).__name__}: {exc}") from exc
        try:
            return _Response(200, body.decode("ascii").strip(), etag)
        except UnicodeDecodeError as exc:
            raise GlobalConfError("malformed", "body is not a compact JWS") from exc

    # -------------------------------------------------------------- reading
    def current(self, instance: str | None = None) -> GlobalConf | None:
        """The last accepted document of ``instance`` (default: own), possibly expired."""
        held = self._held.get(instance or self.instance)
        return held.doc if held else None

    def is_current(self, instance: str | None = None) -> bool:
        """Whether there is a document for ``instance`` and ``now < expires_at``."""
        held = self._held.get(instance or self.instance)
        return held is not None and self._clock() < held.doc.expires_at

    def instances(self) -> list[str]:
        """Instances with a document: own first, then federated ones, sorted."""
        others = sorted(i for i in self._held if i != self.instance)
        return [self.instance, *others] if self.instance in self._held else others

    def find_member(self, member_id: str) -> MemberEntry | None:
        index = self._index_for(member_id)
        return index.members.get(member_id) if index else None

    def find_subsystem(self, subsystem_id: str) -> SubsystemEntry | None:
        index = self._index_for(subsystem_id)
        return index.subsystems.get(subsystem_id) if index else None

    def find_gateway(self, gateway_id: str) -> GatewayEntry | None:
        index = self._index_for(gateway_id)
        return index.gateways.get(gateway_id) if index else None

    def gateways_for(self, client_id: str) -> list[GatewayEntry]:
        """Gateways whose ``clients`` include the subsystem."""
        index = self._index_for(client_id)
        return list(index.gateways_by_client.get(client_id, ())) if index else []

    def is_trusted_auth_certificate(self, sha256_hex: str) -> GatewayEntry | None:
        """The gateway (own or federated instance) presenting this TLS certificate, if any."""
        fingerprint = sha256_hex.lower()
        for index in self._usable_indexes():
            if gateway := index.auth_certificates.get(fingerprint):
                return gateway
        return None

    def signing_certificates_for(self, member_id: str) -> list[CertificateEntry]:
        member = self.find_member(member_id)
        return list(member.signing_certificates) if member else []

    def in_group(self, group_id: str, client_id: str) -> bool:
        """Exact membership: a group listing a member does not contain its subsystems (§6)."""
        index = self._index_for(group_id)
        return index is not None and client_id in index.groups.get(group_id, frozenset())

    def _index_for(self, identifier: str) -> _Index | None:
        return self._usable_index(identifier.partition("/")[0])

    def _usable_indexes(self) -> Iterator[_Index]:
        for instance in self.instances():
            if index := self._usable_index(instance):
                yield index

    def _usable_index(self, instance: str) -> _Index | None:
        """The index of a current document that the own current document lets us use."""
        held = self._held.get(instance)
        if held is None or not self.is_current(instance):
            return None
        if instance != self.instance:
            own = self._held.get(self.instance)
            if own is None or not self.is_current() or instance not in own.index.federation:
                return None
        return held.index


def _backoff_delay(failures: int, low: float, high: float) -> float:
    """Attempt n waits U[b/2, b], b = min(high, low * 2**(n-1)): never shorter than before."""
    base = min(high, low * 2.0 ** min(failures - 1, 64))
    return base / 2 + _jitter.uniform(0, base / 2)


_jitter = random.SystemRandom()


async def _read_limited(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise GlobalConfError("fetch_failed", f"body larger than {MAX_DOCUMENT_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
