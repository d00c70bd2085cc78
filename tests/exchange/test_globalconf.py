"""Global configuration: formats, trust rules (docs/globalconf.md §4) and the client (§6).

Documents are signed for real (P-256 keys, self-signed certificates) and served over HTTP
on 127.0.0.1 by a real server running in a thread.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from jisr.crypto.canonical import canonical_json
from jisr.crypto.jose import sign_compact
from jisr.exchange.globalconf import (
    Anchor,
    AnchorCertificate,
    CertificateEntry,
    FederationEntry,
    GatewayEntry,
    GlobalConf,
    GlobalConfClient,
    GlobalConfError,
    GroupEntry,
    MemberEntry,
    ServiceEntry,
    SigningCertificate,
    SubsystemEntry,
    TsaEntry,
    certificate_kid,
    parse_and_verify,
    sign_globalconf,
)

T0 = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=1)
TYP = "jisr-globalconf+json"


# ---------------------------------------------------------------------------- key material
@dataclass(frozen=True)
class Signer:
    key: ec.EllipticCurvePrivateKey
    der: bytes

    @property
    def kid(self) -> str:
        return certificate_kid(self.der)

    def anchor_certificate(self) -> AnchorCertificate:
        return AnchorCertificate.from_der(self.der)

    def announced(self, status: str = "active") -> SigningCertificate:
        return SigningCertificate.from_der(self.der, status)  # type: ignore[arg-type]


def make_signer(common_name: str) -> Signer:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0 - timedelta(days=1))
        .not_valid_after(T0 + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return Signer(key, certificate.public_bytes(Encoding.DER))


@dataclass(frozen=True)
class Keys:
    ma_a: Signer
    ma_b: Signer
    ma_c: Signer
    qa: Signer
    tn: Signer
    gw_ma: Signer
    gw_qa: Signer
    member_sign: Signer


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(*(make_signer(name) for name in Keys.__dataclass_fields__))


def sign(doc: GlobalConf | dict[str, Any], signer: Signer, **header: Any) -> str:
    """Sign as the central does (§2), independently of sign_globalconf."""
    value = doc.model_dump(mode="json") if isinstance(doc, GlobalConf) else doc
    x5t = base64.urlsafe_b64encode(hashlib.sha256(signer.der).digest()).rstrip(b"=").decode()
    extra = {"x5t#S256": x5t, **header}
    return sign_compact(
        canonical_json(value), signer.key, kid=signer.kid, typ=TYP, extra_header=extra
    )


def make_anchor(instance: str, urls: list[str], *signers: Signer) -> Anchor:
    return Anchor(
        instance=instance,
        generated_at=T0,
        urls=urls,
        signing_certificates=[s.anchor_certificate() for s in signers],
    )


def make_doc(
    keys: Keys,
    instance: str = "MA",
    version: int = 1,
    *,
    signing: list[SigningCertificate] | None = None,
    generated_at: datetime = T0,
    validity: timedelta = timedelta(minutes=10),
    federation: list[FederationEntry] | None = None,
    note: str = "",
) -> GlobalConf:
    """A realistic document; ``note`` changes the content without changing anything else."""
    own = {"MA": keys.ma_a, "QA": keys.qa, "TN": keys.tn}[instance]
    gateway_key = keys.gw_qa if instance == "QA" else keys.gw_ma
    member = f"{instance}/GOV/MOI" if instance == "QA" else f"{instance}/GOV/CIVIL-REGISTRY"
    return GlobalConf(
        instance=instance,
        version=version,
        generated_at=generated_at,
        expires_at=generated_at + validity,
        refresh_interval=60,
        members=[
            MemberEntry(
                id=member,
                name={"ar": "السجل", "fr": "Registre", "en": "Registry" + note},
                signing_certificates=[CertificateEntry.from_der(keys.member_sign.der)],
            ),
            MemberEntry(id=f"{instance}/GOV/HEALTH", name={"en": "Health"}),
        ],
        subsystems=[
            SubsystemEntry(
                id=f"{member}/REGISTRY",
                services=[ServiceEntry(code="birth-record", openapi_url="https://x/openapi")],
            ),
            SubsystemEntry(id=f"{instance}/GOV/HEALTH/CLINICS"),
        ],
        gateways=[
            GatewayEntry(
                id=f"{member}/GW1",
                address="127.0.0.1:8443",
                auth_certificates=[CertificateEntry.from_der(gateway_key.der)],
                clients=[f"{member}/REGISTRY", f"{instance}/GOV/HEALTH/CLINICS"],
            )
        ],
        global_groups=[
            GroupEntry(
                id=f"{instance}/security-server-owners",
                description="owners",
                members=[f"{instance}/GOV/HEALTH", f"{member}/REGISTRY"],
            )
        ],
        ca_certificates=[base64.b64encode(keys.member_sign.der).decode()],
        tsa=[
            TsaEntry(
                url="http://127.0.0.1:8001/tsa", certificate=base64.b64encode(own.der).decode()
            )
        ],
        signing_certificates=signing if signing is not None else [own.announced()],
        federation=federation or [],
    )


def verify(token: str, anchor: Anchor, **kwargs: Any) -> GlobalConf:
    kwargs.setdefault("last", None)
    kwargs.setdefault("now", NOW)
    return parse_and_verify(token, anchor=anchor, **kwargs)


def refused(token: str, anchor: Anchor, **kwargs: Any) -> str:
    with pytest.raises(GlobalConfError) as caught:
        verify(token, anchor, **kwargs)
    return caught.value.reason


# ------------------------------------------------------------------------------- the server
@dataclass
class Route:
    token: str = ""
    status: int = 200


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class ConfServer:
    """Serves tokens like the central's ``GET /globalconf`` (§2), recording every request."""

    base: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def publish(self, path: str, token: str) -> None:
        self.routes[path] = Route(token)

    def fail(self, path: str, status: int = 500) -> None:
        self.routes[path] = Route(status=status)

    def hits_on(self, path: str) -> list[Hit]:
        with self.lock:
            return [hit for hit in self.hits if hit.path == path]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        conf = self.server.conf
        with conf.lock:
            conf.hits.append(Hit(self.path, dict(self.headers), time.monotonic()))
        route = conf.routes.get(self.path, Route(status=404))
        if route.status != 200:
            self._send(route.status, b"")
            return
        etag = '"' + hashlib.sha256(route.token.encode()).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", {"ETag": etag})
            return
        headers = {"ETag": etag, "Content-Type": "application/jose", "Cache-Control": "no-cache"}
        self._send(200, route.token.encode() + b"\n", headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, conf: ConfServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.conf = conf


@pytest.fixture
def server() -> Iterator[ConfServer]:
    conf = ConfServer()
    httpd = _Server(conf)
    conf.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield conf
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/globalconf"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def make_client(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., GlobalConfClient]]:
    clients: list[GlobalConfClient] = []

    def make(anchor: Anchor, **kwargs: Any) -> GlobalConfClient:
        kwargs.setdefault("clock", Clock())
        client = GlobalConfClient(anchor, kwargs.pop("cache_dir", tmp_path / "cache"), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


# ------------------------------------------------------------------------------ the models
class TestModels:
    def test_dump_is_exactly_the_documented_format(self, keys: Keys) -> None:
        """model_dump(mode="json") has the §1 field names and timestamp form, nothing else."""
        federation = [
            FederationEntry(instance="QA", anchor=make_anchor("QA", ["http://q/"], keys.qa))
        ]
        dump = make_doc(keys, federation=federation).model_dump(mode="json")
        assert list(dump) == [
            "format", "instance", "version", "generated_at", "expires_at", "refresh_interval",
            "members", "subsystems", "gateways", "global_groups", "ca_certificates", "tsa",
            "signing_certificates", "federation",
        ]  # fmt: skip
        assert dump["format"] == "jisr-globalconf/1"
        assert dump["generated_at"] == "2026-11-29T13:00:00Z"
        assert set(dump["members"][0]) == {"id", "name", "signing_certificates"}
        assert set(dump["members"][0]["signing_certificates"][0]) == {
            "sha256",
            "certificate",
            "not_after",
        }
        assert set(dump["subsystems"][0]) == {"id", "services"}
        assert dump["subsystems"][0]["services"] == [
            {"code": "birth-record", "openapi_url": "https://x/openapi"}
        ]
        assert set(dump["gateways"][0]) == {"id", "address", "auth_certificates", "clients"}
        assert set(dump["global_groups"][0]) == {"id", "description", "members"}
        assert set(dump["tsa"][0]) == {"url", "certificate"}
        assert set(dump["signing_certificates"][0]) == {"kid", "certificate", "status"}
        assert set(dump["federation"][0]) == {"instance", "anchor"}
        assert set(dump["federation"][0]["anchor"]) == {
            "format", "instance", "generated_at", "urls", "signing_certificates"
        }  # fmt: skip
        assert set(dump["federation"][0]["anchor"]["signing_certificates"][0]) == {
            "kid",
            "certificate",
        }

    def test_json_round_trip_is_exact(self, keys: Keys) -> None:
        """Validating a dump gives the same model and the same canonical bytes (§2)."""
        doc = make_doc(keys)
        again = GlobalConf.model_validate(json.loads(canonical_json(doc.model_dump(mode="json"))))
        assert again == doc
        assert again.payload() == doc.payload() == canonical_json(doc.model_dump(mode="json"))

    def test_lists_are_sorted_on_construction_except_tsa(self, keys: Keys) -> None:
        """§1: lists sort by id so the canonical form is stable; tsa keeps preference order."""
        doc = GlobalConf(
            instance="MA",
            version=1,
            generated_at=T0,
            expires_at=T0 + timedelta(minutes=10),
            refresh_interval=60,
            members=[MemberEntry(id="MA/GOV/Z"), MemberEntry(id="MA/GOV/A")],
            global_groups=[GroupEntry(id="MA/g", members=["QA/X/Y", "MA/A/B"])],
            tsa=[
                TsaEntry(url="http://z/", certificate="AA=="),
                TsaEntry(url="http://a/", certificate="AA=="),
            ],
        )
        assert [m.id for m in doc.members] == ["MA/GOV/A", "MA/GOV/Z"]
        assert doc.global_groups[0].members == ("MA/A/B", "QA/X/Y")
        assert [t.url for t in doc.tsa] == ["http://z/", "http://a/"]

    def test_timestamps_accept_aware_datetimes_and_drop_microseconds(self) -> None:
        """A builder may pass datetime.now(UTC); the dump still has seconds precision and Z."""
        moment = datetime(2026, 11, 29, 14, 0, 0, 123456, tzinfo=UTC)
        eastern = moment.astimezone(timezone(timedelta(hours=1)))
        doc = GlobalConf(
            instance="MA", version=1, generated_at=eastern,
            expires_at="2026-11-29T14:10:00Z", refresh_interval=60,
        )  # fmt: skip
        assert doc.model_dump(mode="json")["generated_at"] == "2026-11-29T14:00:00Z"

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (("generated_at",), "2026-11-29T13:00:00.5Z"),
            (("generated_at",), "2026-11-29T13:00:00+00:00"),
            (("expires_at",), "2026-11-29T13:00:00Z"),
            (("version",), "2"),
            (("version",), 0),
            (("instance",), "../MA"),
            (("members", 0, "id"), "QA/GOV/CIVIL-REGISTRY"),
            (("members", 1, "id"), "MA/GOV/CIVIL-REGISTRY"),
            (("members", 0, "id"), "MA/GOV"),
            (("members", 0, "signing_certificates", 0, "sha256"), "0" * 64),
            (("members", 0, "signing_certificates", 0, "certificate"), "not base64!"),
            (("gateways", 0, "clients", 0), "QA/GOV/X/Y"),
            (("signing_certificates", 0, "kid"), "0" * 16),
            (("signing_certificates", 0, "status"), "retired"),
            (("tsa", 0, "url"), "ftp://tsa"),
            (("surprise",), 1),
        ],
    )
    def test_value_rules(self, keys: Keys, path: tuple[Any, ...], value: Any) -> None:
        """§1 value rules: every violation is a validation error."""
        dump = make_doc(keys).model_dump(mode="json")
        target = dump
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        with pytest.raises(ValidationError):
            GlobalConf.model_validate(dump)

    def test_auth_certificate_on_two_gateways_is_refused(self, keys: Keys) -> None:
        """§1: a TLS certificate identifies one gateway only."""
        dump = make_doc(keys).model_dump(mode="json")
        twin = dict(dump["gateways"][0], id="MA/GOV/HEALTH/GW9")
        dump["gateways"].append(twin)
        with pytest.raises(ValidationError, match="two gateways"):
            GlobalConf.model_validate(dump)

    def test_federation_entries_are_consistent(self, keys: Keys) -> None:
        """§1: an entry's anchor is for that instance, and nobody federates with itself."""
        qa_anchor = make_anchor("QA", ["http://q/"], keys.qa)
        with pytest.raises(ValidationError, match="another instance"):
            FederationEntry(instance="TN", anchor=qa_anchor)
        ma_anchor = make_anchor("MA", ["http://m/"], keys.ma_a)
        with pytest.raises(ValidationError, match="itself"):
            make_doc(keys, federation=[FederationEntry(instance="MA", anchor=ma_anchor)])


class TestAnchor:
    def test_file_round_trip(self, keys: Keys, tmp_path: Path) -> None:
        """to_json writes canonical JSON; load and from_json read it back."""
        anchor = make_anchor("MA", ["http://b/", "http://a/"], keys.ma_b, keys.ma_a)
        (tmp_path / "anchor.json").write_bytes(anchor.to_json())
        assert Anchor.load(tmp_path / "anchor.json") == anchor
        assert anchor.to_json() == canonical_json(json.loads(anchor.to_json()))
        assert anchor.urls == ("http://b/", "http://a/")  # order is the try order
        assert [c.kid for c in anchor.signing_certificates] == sorted(
            [keys.ma_a.kid, keys.ma_b.kid]
        )

    def test_refusals(self, keys: Keys) -> None:
        """Unknown format, junk, and certificates whose kid lies are refused."""
        value = json.loads(make_anchor("MA", ["http://a/"], keys.ma_a).to_json())
        with pytest.raises(GlobalConfError) as caught:
            Anchor.from_json(json.dumps(dict(value, format="jisr-anchor/2")).encode())
        assert caught.value.reason == "unknown_format"
        value["signing_certificates"][0]["kid"] = "0" * 16
        for junk in (
            b"[]",
            b"{",
            json.dumps(value).encode(),
            json.dumps(dict(value, urls=[])).encode(),
        ):
            with pytest.raises(GlobalConfError) as caught:
                Anchor.from_json(junk)
            assert caught.value.reason == "malformed"


# ---------------------------------------------------------------------- the trust rules (§4)
class TestSignature:
    def test_document_signed_by_anchor_key_verifies(self, keys: Keys) -> None:
        """Rule 1: a key from the anchor verifies the document."""
        doc = make_doc(keys)
        assert verify(sign(doc, keys.ma_a), make_anchor("MA", ["http://a/"], keys.ma_a)) == doc

    def test_sign_globalconf_writes_the_contract_header(self, keys: Keys) -> None:
        """§2: alg, kid, typ and x5t#S256 exactly; payload is the canonical document."""
        doc = make_doc(keys)
        token = sign_globalconf(doc, keys.ma_a.key, keys.ma_a.der)
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        x5t = base64.urlsafe_b64encode(hashlib.sha256(keys.ma_a.der).digest()).rstrip(b"=")
        assert header == {
            "alg": "ES256",
            "kid": keys.ma_a.kid,
            "typ": TYP,
            "x5t#S256": x5t.decode(),
        }
        assert base64.urlsafe_b64decode(token.split(".")[1] + "==") == doc.payload()
        assert verify(token, make_anchor("MA", ["http://a/"], keys.ma_a)) == doc

    def test_flipping_any_single_byte_fails(self, keys: Keys) -> None:
        """Every position of header, payload and signature is covered by the signature."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        token = sign(make_doc(keys), keys.ma_a)
        raw = token.encode()
        for position in range(len(raw)):
            forged = bytearray(raw)
            forged[position] ^= 0x01
            with pytest.raises(GlobalConfError):
                verify(forged.decode("latin-1"), anchor)

    @settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def test_any_single_byte_replacement_fails(self, keys: Keys, data: st.DataObject) -> None:
        """Replacing any byte with any other value is refused (hypothesis)."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        token = _fixed_token(keys)
        position = data.draw(st.integers(0, len(token) - 1))
        byte = data.draw(st.integers(0, 255).filter(lambda b: b != ord(token[position])))
        forged = token[:position] + chr(byte) + token[position + 1 :]
        with pytest.raises(GlobalConfError):
            verify(forged, anchor)

    def test_unknown_kid(self, keys: Keys) -> None:
        """Rule 1: a key outside the anchor and the announced set is refused by kid."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        assert refused(sign(make_doc(keys), keys.ma_c), anchor) == "unknown_kid"

    def test_alg_none_and_hs256_are_refused(self, keys: Keys) -> None:
        """Rule 1: an unsigned or HMAC token naming a trusted kid is refused."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        good = sign(make_doc(keys), keys.ma_a)
        _, payload, signature = good.split(".")
        for alg in ("none", "HS256"):
            header = {"alg": alg, "kid": keys.ma_a.kid, "typ": TYP}
            encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
            assert refused(f"{encoded}.{payload}.{signature}", anchor) == "bad_signature"

    def test_typ_and_thumbprint_must_match(self, keys: Keys) -> None:
        """§2: a token of another type, or naming another certificate, is malformed."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        doc = make_doc(keys)
        other_typ = sign_compact(doc.payload(), keys.ma_a.key, kid=keys.ma_a.kid, typ="JWT")
        assert refused(other_typ, anchor) == "malformed"
        assert refused(sign(doc, keys.ma_a, **{"x5t#S256": "AAAA"}), anchor) == "malformed"

    def test_payload_must_be_canonical(self, keys: Keys) -> None:
        """§2: a pretty-printed payload is malformed even with a valid signature."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        pretty = json.dumps(make_doc(keys).model_dump(mode="json"), indent=2).encode()
        x5t = base64.urlsafe_b64encode(hashlib.sha256(keys.ma_a.der).digest()).rstrip(b"=")
        token = sign_compact(
            pretty,
            keys.ma_a.key,
            kid=keys.ma_a.kid,
            typ=TYP,
            extra_header={"x5t#S256": x5t.decode()},
        )
        assert refused(token, anchor) == "malformed"

    def test_wrong_instance(self, keys: Keys) -> None:
        """Rule 2: QA's document signed by a key MA trusts is still not MA's."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        qa_doc = make_doc(keys, "QA", signing=[keys.ma_a.announced()])
        assert refused(sign(qa_doc, keys.ma_a), anchor) == "wrong_instance"

    def test_unknown_format(self, keys: Keys) -> None:
        """Rule 2: a signed document of another format version is refused as such."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        value = dict(make_doc(keys).model_dump(mode="json"), format="jisr-globalconf/2")
        assert refused(sign(value, keys.ma_a), anchor) == "unknown_format"

    def test_signed_but_invalid_document_is_malformed(self, keys: Keys) -> None:
        """§1 rules apply after the signature: a foreign member id is malformed."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        value = make_doc(keys).model_dump(mode="json")
        value["members"][0]["id"] = "QA/GOV/SPY"
        assert refused(sign(value, keys.ma_a), anchor) == "malformed"


_TOKENS: dict[int, str] = {}


def _fixed_token(keys: Keys) -> str:
    return _TOKENS.setdefault(id(keys), sign(make_doc(keys), keys.ma_a))


class TestRollbackAndFreshness:
    def test_lower_version_is_rollback(self, keys: Keys) -> None:
        """Rule 3: v4 after v5 is refused."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        v5 = make_doc(keys, version=5)
        assert refused(sign(make_doc(keys, version=4), keys.ma_a), anchor, last=v5) == "rollback"

    def test_same_version_same_payload_is_idempotent(self, keys: Keys) -> None:
        """Rule 3: a refetch of the same document (fresh ECDSA signature) is accepted."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        v5 = make_doc(keys, version=5)
        first, second = sign(v5, keys.ma_a), sign(v5, keys.ma_a)
        assert first != second
        assert verify(second, anchor, last=verify(first, anchor)) == v5

    def test_same_version_other_payload_is_rollback(self, keys: Keys) -> None:
        """Rule 3: reissuing a version with other content is refused."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        v5 = make_doc(keys, version=5)
        changed = sign(make_doc(keys, version=5, note="!"), keys.ma_a)
        assert refused(changed, anchor, last=v5) == "rollback"

    def test_expired(self, keys: Keys) -> None:
        """Rule 4: expires_at <= now is refused, at the boundary too."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        token = sign(make_doc(keys), keys.ma_a)
        assert refused(token, anchor, now=T0 + timedelta(minutes=10)) == "expired"
        assert verify(token, anchor, now=T0 + timedelta(minutes=9, seconds=59))

    def test_not_yet_valid(self, keys: Keys) -> None:
        """Rule 4: generated_at more than 5 minutes ahead is refused; 5 minutes is tolerated."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        token = sign(make_doc(keys), keys.ma_a)
        assert refused(token, anchor, now=T0 - timedelta(minutes=5, seconds=1)) == "not_yet_valid"
        assert verify(token, anchor, now=T0 - timedelta(minutes=5))


class TestRollover:
    def test_announced_next_key_is_trusted(self, keys: Keys) -> None:
        """§5: v1 (key A) announces B as next; v2 signed by B verifies with v1's list."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        v1 = verify(
            sign(
                make_doc(keys, signing=[keys.ma_a.announced(), keys.ma_b.announced("next")]),
                keys.ma_a,
            ),
            anchor,
        )
        v2_doc = make_doc(keys, version=2, signing=[keys.ma_b.announced()])
        v2 = verify(sign(v2_doc, keys.ma_b), anchor, last=v1, trusted_extra=v1.signing_certificates)
        assert v2 == v2_doc

    def test_key_never_announced_is_refused(self, keys: Keys) -> None:
        """Rule 1: without the announcement, key B is just an unknown kid."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        v1 = make_doc(keys)
        v2 = sign(make_doc(keys, version=2, signing=[keys.ma_b.announced()]), keys.ma_b)
        assert refused(v2, anchor, last=v1, trusted_extra=v1.signing_certificates) == "unknown_kid"

    def test_dropped_key_stops_being_trusted_unless_in_anchor(self, keys: Keys) -> None:
        """Rule 1: C announced in v1 then dropped in v2 is refused for v3; anchor key A is not."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a)
        v2 = make_doc(keys, version=2, signing=[keys.ma_b.announced()])
        trusted = v2.signing_certificates
        v3_c = sign(make_doc(keys, version=3), keys.ma_c)
        assert refused(v3_c, anchor, last=v2, trusted_extra=trusted) == "unknown_kid"
        v3_a = sign(make_doc(keys, version=3), keys.ma_a)
        assert verify(v3_a, anchor, last=v2, trusted_extra=trusted).version == 3

    def test_two_certificate_anchor_trusts_both(self, keys: Keys) -> None:
        """§3: the anchor exported during a rollover lets a new client accept either key."""
        anchor = make_anchor("MA", ["http://a/"], keys.ma_a, keys.ma_b)
        assert verify(sign(make_doc(keys), keys.ma_b), anchor).version == 1


# ----------------------------------------------------------------------------- the client
def ma_anchor(keys: Keys, server: ConfServer, *urls: str) -> Anchor:
    return make_anchor("MA", list(urls) or [server.url("/ma")], keys.ma_a)


class TestRefresh:
    async def test_refresh_verifies_and_caches(
        self,
        keys: Keys,
        server: ConfServer,
        make_client: Callable[..., GlobalConfClient],
        tmp_path: Path,
    ) -> None:
        """§6: the document is fetched, verified, held, and written as .jws + .trusted.json."""
        token = sign(make_doc(keys), keys.ma_a)
        server.publish("/ma", token)
        client = make_client(ma_anchor(keys, server))
        await client.refresh()
        assert client.current() == make_doc(keys)
        assert client.is_current()
        assert client.instances() == ["MA"]
        assert (tmp_path / "cache" / "MA.jws").read_text() == token
        meta = json.loads((tmp_path / "cache" / "MA.trusted.json").read_bytes())
        assert meta["instance"] == "MA"
        assert meta["etag"]["url"] == server.url("/ma")
        assert [c["kid"] for c in meta["signing_certificates"]] == [keys.ma_a.kid]
        assert server.hits_on("/ma")[0].headers["Accept"] == "application/jose"

    async def test_urls_are_tried_in_order(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§3: a dead URL and a failing URL are skipped; the next one serves."""
        server.fail("/broken")
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        anchor = ma_anchor(
            keys, server, closed_port_url(), server.url("/broken"), server.url("/ma")
        )
        client = make_client(anchor)
        await client.refresh()
        assert client.is_current()
        assert len(server.hits_on("/broken")) == 1

    async def test_all_urls_failing_raises_fetch_failed(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: refresh raises when the own instance fails on every URL."""
        server.fail("/ma", 503)
        client = make_client(ma_anchor(keys, server, closed_port_url(), server.url("/ma")))
        with pytest.raises(GlobalConfError) as caught:
            await client.refresh()
        assert caught.value.reason == "fetch_failed"
        assert "503" in caught.value.detail
        assert client.current() is None

    async def test_refused_document_keeps_last_valid_copy(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """Rule 3 over HTTP: after v5, a served v4 is refused and v5 stays."""
        client = make_client(ma_anchor(keys, server))
        server.publish("/ma", sign(make_doc(keys, version=5), keys.ma_a))
        await client.refresh()
        server.publish("/ma", sign(make_doc(keys, version=4), keys.ma_a))
        with pytest.raises(GlobalConfError) as caught:
            await client.refresh()
        assert caught.value.reason == "rollback"
        current = client.current()
        assert current is not None
        assert current.version == 5

    async def test_expiry_makes_the_document_unusable(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """Rule 4 / §6: past expires_at, is_current() is False and look-ups answer nothing."""
        clock = Clock()
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        client = make_client(ma_anchor(keys, server), clock=clock)
        await client.refresh()
        assert client.find_member("MA/GOV/CIVIL-REGISTRY") is not None
        clock.now = T0 + timedelta(minutes=10)
        assert not client.is_current()
        assert client.current() is not None
        assert client.find_member("MA/GOV/CIVIL-REGISTRY") is None
        assert client.is_trusted_auth_certificate(_sha256(keys.gw_ma.der)) is None


def _sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


class TestConditionalRequests:
    async def test_etag_and_304(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: the second fetch sends If-None-Match and a 304 keeps the document."""
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        client = make_client(ma_anchor(keys, server))
        await client.refresh()
        await client.refresh()
        first, second = server.hits_on("/ma")
        assert "If-None-Match" not in first.headers
        assert second.headers["If-None-Match"].startswith('"')
        assert client.is_current()

    async def test_304_never_extends_expiry(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: a 304 for an expired document is an expired refresh."""
        clock = Clock()
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        client = make_client(ma_anchor(keys, server), clock=clock)
        await client.refresh()
        clock.now = T0 + timedelta(minutes=11)
        with pytest.raises(GlobalConfError) as caught:
            await client.refresh()
        assert caught.value.reason == "expired"
        assert not client.is_current()

    async def test_cached_etag_is_sent_after_restart(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: the ETag survives a restart with the cached token."""
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        await make_client(ma_anchor(keys, server)).refresh()
        restarted = make_client(ma_anchor(keys, server))
        await restarted.refresh()
        assert "If-None-Match" in server.hits_on("/ma")[-1].headers
        assert restarted.is_current()


class TestCache:
    async def test_restart_loads_last_valid_copy_without_network(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: a new client with the same cache_dir has the document before any request."""
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        await make_client(ma_anchor(keys, server)).refresh()
        hits = len(server.hits)
        restarted = make_client(ma_anchor(keys, server))
        restarted.load_cache()
        assert restarted.current() == make_doc(keys)
        assert restarted.is_current()
        assert restarted.find_member("MA/GOV/CIVIL-REGISTRY") is not None
        assert len(server.hits) == hits

    async def test_rollback_protection_survives_restart(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """Rule 3 across restarts: the first refresh loads the cache, so v4 is refused."""
        server.publish("/ma", sign(make_doc(keys, version=5), keys.ma_a))
        await make_client(ma_anchor(keys, server)).refresh()
        server.publish("/ma", sign(make_doc(keys, version=4), keys.ma_a))
        restarted = make_client(ma_anchor(keys, server))
        with pytest.raises(GlobalConfError) as caught:
            await restarted.refresh()
        assert caught.value.reason == "rollback"

    async def test_expired_cached_copy_is_last_known_only(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: an expired cached copy guards against rollback but is not current."""
        server.publish("/ma", sign(make_doc(keys, version=5), keys.ma_a))
        await make_client(ma_anchor(keys, server)).refresh()
        later = Clock(T0 + timedelta(hours=2))
        restarted = make_client(ma_anchor(keys, server), clock=later)
        restarted.load_cache()
        current = restarted.current()
        assert current is not None
        assert current.version == 5
        assert not restarted.is_current()
        fresh_but_older = make_doc(keys, version=4, generated_at=T0 + timedelta(hours=2))
        server.publish("/ma", sign(fresh_but_older, keys.ma_a))
        with pytest.raises(GlobalConfError) as caught:
            await restarted.refresh()
        assert caught.value.reason == "rollback"

    async def test_tampered_cache_is_ignored(
        self,
        keys: Keys,
        server: ConfServer,
        make_client: Callable[..., GlobalConfClient],
        tmp_path: Path,
    ) -> None:
        """§6: a cached token that does not verify is not loaded."""
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        await make_client(ma_anchor(keys, server)).refresh()
        forged = sign(make_doc(keys, version=99), keys.ma_c)
        (tmp_path / "cache" / "MA.jws").write_text(forged)
        restarted = make_client(ma_anchor(keys, server))
        restarted.load_cache()
        assert restarted.current() is None

    async def test_rollover_survives_restart(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§5/§6: after A→B, a restarted client with an A-only anchor still trusts v2 (by B)."""
        client = make_client(ma_anchor(keys, server))
        v1 = make_doc(keys, signing=[keys.ma_a.announced(), keys.ma_b.announced("next")])
        server.publish("/ma", sign(v1, keys.ma_a))
        await client.refresh()
        v2 = make_doc(keys, version=2, signing=[keys.ma_b.announced()])
        server.publish("/ma", sign(v2, keys.ma_b))
        await client.refresh()
        assert client.current() == v2
        restarted = make_client(ma_anchor(keys, server))
        restarted.load_cache()
        assert restarted.current() == v2
        v3 = make_doc(keys, version=3, signing=[keys.ma_b.announced()])
        server.publish("/ma", sign(v3, keys.ma_b))
        await restarted.refresh()
        assert restarted.current() == v3


# ------------------------------------------------------------------------------ federation
def federated_world(keys: Keys, server: ConfServer, *partners: str, ma_version: int = 1) -> None:
    """MA federates with ``partners``; QA and TN each publish their own document."""
    entries = [
        FederationEntry(
            instance=p,
            anchor=make_anchor(p, [server.url(f"/{p.lower()}")], getattr(keys, p.lower())),
        )
        for p in partners
    ]
    server.publish("/ma", sign(make_doc(keys, version=ma_version, federation=entries), keys.ma_a))
    server.publish("/qa", sign(make_doc(keys, "QA"), keys.qa))
    server.publish("/tn", sign(make_doc(keys, "TN"), keys.tn))


class TestFederation:
    async def test_federated_instance_is_fetched_and_resolves(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """Rule 5: MA lists QA, so the client fetches QA's document with QA's anchor."""
        federated_world(keys, server, "QA")
        client = make_client(ma_anchor(keys, server))
        await client.refresh()
        assert client.instances() == ["MA", "QA"]
        member = client.find_member("QA/GOV/MOI")
        assert member is not None
        assert member.name["en"] == "Registry"
        gateway = client.is_trusted_auth_certificate(_sha256(keys.gw_qa.der))
        assert gateway is not None
        assert gateway.id == "QA/GOV/MOI/GW1"
        assert client.is_current("QA")

    async def test_unlisted_instance_is_not_fetched_and_dropped_when_delisted(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """Rule 5: TN is never fetched; QA is forgotten once MA stops listing it."""
        federated_world(keys, server, "QA")
        client = make_client(ma_anchor(keys, server))
        await client.refresh()
        assert server.hits_on("/tn") == []
        federated_world(keys, server, ma_version=2)
        qa_hits = len(server.hits_on("/qa"))
        await client.refresh()
        assert client.instances() == ["MA"]
        assert client.find_member("QA/GOV/MOI") is None
        assert len(server.hits_on("/qa")) == qa_hits

    async def test_failing_federated_instance_breaks_nothing_else(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: QA failing leaves MA and TN alone, and QA keeps its last valid copy."""
        federated_world(keys, server, "QA", "TN")
        server.fail("/qa")
        client = make_client(ma_anchor(keys, server))
        await client.refresh()
        assert client.instances() == ["MA", "TN"]
        assert client.find_member("TN/GOV/CIVIL-REGISTRY") is not None
        server.publish("/qa", sign(make_doc(keys, "QA"), keys.qa))
        await client.refresh()
        server.fail("/qa")
        await client.refresh()
        assert client.find_member("QA/GOV/MOI") is not None

    async def test_federated_document_needs_the_anchor_from_own_configuration(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """Rule 5: a QA document signed by a key MA's entry does not vouch for is refused."""
        federated_world(keys, server, "QA")
        server.publish("/qa", sign(make_doc(keys, "QA", signing=[keys.tn.announced()]), keys.tn))
        client = make_client(ma_anchor(keys, server))
        await client.refresh()
        assert client.current("QA") is None

    async def test_federated_lookups_need_a_current_own_document(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """Rule 5: once MA's own document expires, QA's (still valid) one is not used."""
        clock = Clock()
        federated_world(keys, server, "QA")
        server.publish("/qa", sign(make_doc(keys, "QA", validity=timedelta(hours=1)), keys.qa))
        client = make_client(ma_anchor(keys, server), clock=clock)
        await client.refresh()
        clock.now = T0 + timedelta(minutes=30)
        assert client.is_current("QA")
        assert not client.is_current()
        assert client.find_member("QA/GOV/MOI") is None

    async def test_federated_cache_survives_restart(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: load_cache re-verifies federated tokens with the anchors of the cached own doc."""
        federated_world(keys, server, "QA")
        await make_client(ma_anchor(keys, server)).refresh()
        restarted = make_client(ma_anchor(keys, server))
        restarted.load_cache()
        assert restarted.instances() == ["MA", "QA"]
        assert restarted.find_member("QA/GOV/MOI") is not None


# ------------------------------------------------------------------------ gateway look-ups
class TestResolution:
    async def test_lookups(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """The helpers gateways use answer from the indexed current document."""
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        client = make_client(ma_anchor(keys, server))
        await client.refresh()
        subsystem = client.find_subsystem("MA/GOV/CIVIL-REGISTRY/REGISTRY")
        assert subsystem is not None
        assert subsystem.services[0].code == "birth-record"
        gateway = client.find_gateway("MA/GOV/CIVIL-REGISTRY/GW1")
        assert gateway is not None
        assert gateway.address == "127.0.0.1:8443"
        assert client.gateways_for("MA/GOV/HEALTH/CLINICS") == [gateway]
        assert client.gateways_for("MA/GOV/HEALTH/NOTHING") == []
        assert client.is_trusted_auth_certificate(_sha256(keys.gw_ma.der).upper()) == gateway
        assert client.is_trusted_auth_certificate(_sha256(keys.ma_c.der)) is None
        certificates = client.signing_certificates_for("MA/GOV/CIVIL-REGISTRY")
        assert [c.sha256 for c in certificates] == [_sha256(keys.member_sign.der)]
        assert client.signing_certificates_for("MA/GOV/NOBODY") == []
        assert client.find_member("XX/GOV/NOBODY") is None

    async def test_group_membership_is_exact(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: listing a member does not put its subsystems in the group."""
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        client = make_client(ma_anchor(keys, server))
        await client.refresh()
        group = "MA/security-server-owners"
        assert client.in_group(group, "MA/GOV/HEALTH")
        assert client.in_group(group, "MA/GOV/CIVIL-REGISTRY/REGISTRY")
        assert not client.in_group(group, "MA/GOV/HEALTH/CLINICS")
        assert not client.in_group("MA/nobody", "MA/GOV/HEALTH")


# ----------------------------------------------------------------------------- run loop
class TestRun:
    async def test_backoff_grows_then_polling_resumes(
        self, keys: Keys, server: ConfServer, make_client: Callable[..., GlobalConfClient]
    ) -> None:
        """§6: failures back off exponentially; a success sleeps refresh_interval (60 s)."""
        server.fail("/ma")
        client = make_client(ma_anchor(keys, server), min_backoff=0.02, max_backoff=0.16)
        stop = asyncio.Event()
        task = asyncio.create_task(client.run(stop))
        await asyncio.sleep(1.0)
        times = [hit.at for hit in server.hits_on("/ma")]
        # Waits are at least 10, 20, 40 ms, then 80 ms from the fourth failure on (half the
        # 160 ms cap): at most 4 + 12 attempts fit in a second; constant 20 ms would be ~50.
        assert 5 <= len(times) <= 16
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps[3:]) >= 0.08
        assert max(gaps) <= 0.16 + 0.1  # capped (plus scheduling slack)
        server.publish("/ma", sign(make_doc(keys), keys.ma_a))
        for _ in range(100):
            if client.is_current():
                break
            await asyncio.sleep(0.02)
        assert client.is_current()
        settled = len(server.hits_on("/ma"))
        await asyncio.sleep(0.4)
        assert len(server.hits_on("/ma")) == settled
        stop.set()
        await asyncio.wait_for(task, timeout=1.0)
