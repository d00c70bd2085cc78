"""Fixtures for the message log: a PKI, a real TSA on loopback, migrated databases, records."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jisr.crypto.keys import PrivateKey, generate_private_key
from jisr.crypto.tsp import TimeStampAuthority
from jisr.crypto.x509 import CertificateProfile, create_root_ca, issue_certificate
from jisr.exchange.messagelog import (
    HttpTimestamper,
    LogRecord,
    LogSettings,
    MessageLog,
    Timestamper,
    migrate,
)
from jisr.storage import Database, utcnow
from tests.servers import serve_in_thread

POLICY = "1.3.6.1.4.1.99999.1.1"  # a private-enterprise arc, tests only
LOG_ID = "MA/GOV/CIVIL-REGISTRY/GW1"


@dataclass(frozen=True)
class Pki:
    ca_key: PrivateKey
    ca: x509.Certificate
    tsa_key: PrivateKey
    tsa: x509.Certificate
    gateway_key: PrivateKey
    gateway: x509.Certificate


def _issue(
    pki_ca: tuple[PrivateKey, x509.Certificate], name: str, profile: CertificateProfile
) -> tuple[PrivateKey, x509.Certificate]:
    key = generate_private_key()
    cert = issue_certificate(
        public_key=key.public_key(),
        subject_common_name=name,
        subject_organization="Jisr",
        profile=profile,
        ca_key=pki_ca[0],
        ca_cert=pki_ca[1],
        validity_days=365,
        now=datetime.now(UTC) - timedelta(days=1),
    )
    return key, cert


@pytest.fixture(scope="session")
def pki() -> Pki:
    ca_key = generate_private_key()
    ca = create_root_ca(ca_key, "Jisr Test Root", now=datetime.now(UTC) - timedelta(days=30))
    tsa_key, tsa = _issue((ca_key, ca), "Jisr Test TSA", CertificateProfile.TSA)
    gateway_key, gateway = _issue(
        (ca_key, ca), "MA/GOV/CIVIL-REGISTRY/GW1", CertificateProfile.SIGN
    )
    return Pki(ca_key, ca, tsa_key, tsa, gateway_key, gateway)


@pytest.fixture(scope="session")
def authority(pki: Pki) -> TimeStampAuthority:
    return TimeStampAuthority(key=pki.tsa_key, certificate=pki.tsa, policy_oid=POLICY)


@dataclass
class TsaServer:
    """The real :class:`TimeStampAuthority` over HTTP; ``up = False`` answers 503."""

    authority: TimeStampAuthority
    url: str = ""
    up: bool = True
    requests: int = 0

    async def handle(self, request: Request) -> Response:
        self.requests += 1
        if not self.up:
            return Response("maintenance", status_code=503)
        reply = await asyncio.to_thread(self.authority.respond, await request.body())
        return Response(reply, media_type="application/timestamp-reply")


@pytest.fixture(scope="session")
def tsa_server(authority: TimeStampAuthority) -> Iterator[TsaServer]:
    server = TsaServer(authority)
    app = Starlette(routes=[Route("/tsa", server.handle, methods=["POST"])])
    with serve_in_thread(app) as url:
        server.url = f"{url}/tsa"
        yield server


@pytest.fixture
def tsa(tsa_server: TsaServer) -> Iterator[TsaServer]:
    """The shared TSA server, up at the start and at the end of the test."""
    tsa_server.up = True
    yield tsa_server
    tsa_server.up = True


@pytest.fixture
async def http_timestamper(tsa: TsaServer, pki: Pki) -> AsyncIterator[HttpTimestamper]:
    timestamper = HttpTimestamper(
        tsa.url, tsa_certificates=[pki.tsa], ca_certificates=[pki.ca], timeout=5.0
    )
    yield timestamper
    await timestamper.aclose()


class LocalTimestamper:
    """In-process timestamper around the same TSA code (no HTTP); ``up`` makes it fail."""

    def __init__(self, authority: TimeStampAuthority) -> None:
        self.authority = authority
        self.up = True

    async def timestamp(self, digest: bytes) -> bytes:
        from jisr.crypto.tsp import extract_token, make_request

        if not self.up:
            raise ConnectionError("TSA unreachable")
        return extract_token(self.authority.respond(make_request(digest, cert_req=True)))


@pytest.fixture
def local_timestamper(authority: TimeStampAuthority) -> LocalTimestamper:
    return LocalTimestamper(authority)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated database (SQLite and PostgreSQL)."""
    await asyncio.to_thread(migrate, database_url)
    db = Database(database_url)
    yield db
    await db.close()


@dataclass
class Clock:
    """A controllable clock for health decisions; starts at the real now."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


LogFactory = Callable[..., MessageLog]


@pytest.fixture
def make_log(database: Database, pki: Pki, local_timestamper: LocalTimestamper) -> LogFactory:
    def make(
        timestamper: Timestamper | None = None,
        clock: Callable[[], datetime] = utcnow,
        **settings: Any,
    ) -> MessageLog:
        settings.setdefault("log_id", LOG_ID)
        settings.setdefault("sth_interval", 0.05)
        return MessageLog(
            database,
            LogSettings(**settings),
            key=pki.gateway_key,
            certificate=pki.gateway,
            timestamper=timestamper or local_timestamper,
            clock=clock,
        )

    return make


def content_digest(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def make_record(
    xroad_id: str = "id-1",
    *,
    kind: str = "request",
    body: bytes | None = b'{"national_id": "AB123456"}',
    at: datetime | None = None,
    keep_body: bool = True,
    **more: Any,
) -> LogRecord:
    data = body or b""
    fields: dict[str, Any] = {
        "kind": kind,
        "direction": "consumer",
        "xroad_id": xroad_id,
        "request_id": f"req-{xroad_id}",
        "client": "MA/GOV/CIVIL-REGISTRY/REGISTRY",
        "service": "QA/GOV/MOI/PEOPLE/person-lookup",
        "at": at or datetime.now(UTC),
        "headers": {
            "X-Road-Client": "MA/GOV/CIVIL-REGISTRY/REGISTRY",
            "X-Road-Id": xroad_id,
            "Content-Digest": content_digest(data),
            "Signature-Input": 'sig1=("@method" "content-digest");keyid="k1"',
            "Signature": "sig1=:AAAA:",
        },
        "content_digest": content_digest(data),
        "body_size": len(data),
        "body": data if keep_body else None,
        "status": 200 if kind == "response" else None,
    }
    fields.update(more)
    return LogRecord(**fields)


def exchange(xroad_id: str, **more: Any) -> tuple[LogRecord, LogRecord]:
    """A request and its response."""
    return (
        make_record(xroad_id, **more),
        make_record(
            xroad_id, kind="response", body=b'{"name": "\xd8\xb3\xd8\xa7\xd8\xb1\xd8\xa9"}', **more
        ),
    )


async def wait_for(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``condition`` every 10 ms until it holds; fail after ``within`` seconds."""
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not reached within {within} s")
