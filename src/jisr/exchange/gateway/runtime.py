"""One running gateway: configuration, keys, trust, message log, catalogue, connections.

:class:`Gateway` is created once per process and shared by the faces (consumer, provider,
admin). Everything the per-request path reads is prepared here: the catalogue snapshot, the
signing key and its keyid, the public keys of peers (cached per global-configuration
version), the pooled HTTP clients and the replay guard.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import structlog
from cryptography import x509

from jisr.config import GatewaySettings
from jisr.crypto.keys import PublicKey
from jisr.crypto.x509 import load_certificate
from jisr.exchange.gateway import errors, http11
from jisr.exchange.gateway.identity import GatewayKeys, MemberCertificate
from jisr.exchange.gateway.registry import Catalogue
from jisr.exchange.gateway.telemetry import GatewayTelemetry
from jisr.exchange.gateway.transport import TrustStore, client_context
from jisr.exchange.globalconf import Anchor, GatewayEntry, GlobalConf, GlobalConfClient
from jisr.exchange.messagelog import HttpTimestamper, LogSettings, MessageLog, recent_requests
from jisr.exchange.messagelog import migrate as migrate_messagelog
from jisr.ids import GatewayId
from jisr.observability import Metrics
from jisr.storage import Database, upgrade

__all__ = ["MIGRATIONS", "VERSION_TABLE", "Gateway", "ReplayGuard", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_gateway"
FORCED_REFRESH_INTERVAL = 10.0  # seconds; bounds the load an unknown peer can cause
log = structlog.get_logger("jisr.gateway")


def migrate(settings: GatewaySettings) -> None:
    """Create or upgrade the gateway's and the message log's tables (blocking)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url()
    upgrade(MIGRATIONS, url, VERSION_TABLE)
    migrate_messagelog(url)


class ReplayGuard:
    """Request ids seen within the replay window (RFC 9421 §7.2.2: ``created`` + nonce)."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: OrderedDict[str, float] = OrderedDict()

    def check_and_add(self, request_id: str, now: float) -> bool:
        """False if the id was already seen within the window; records it otherwise."""
        self._expire(now)
        if request_id in self._seen:
            return False
        self._seen[request_id] = now + self.window
        return True

    def _expire(self, now: float) -> None:
        while self._seen:
            request_id, expiry = next(iter(self._seen.items()))
            if expiry > now:
                return
            del self._seen[request_id]


@dataclass
class PeerKeys:
    """Signing public keys by keyid (certificate SHA-256), for one configuration version."""

    versions: tuple[int, ...]
    keys: dict[str, tuple[str, PublicKey]]  # keyid -> (member id, key)


class Gateway:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.id = GatewayId.parse(settings.gateway, encoded=False)
        self.instance = self.id.instance
        self.database = Database(settings.effective_database_url())
        self.keys = GatewayKeys(settings.data_dir / "keys", self.id, settings.passphrase())
        self.conf = GlobalConfClient(
            Anchor.load(settings.anchor_path()), settings.data_dir / "globalconf"
        )
        self.peer_trust = TrustStore()
        self.client_trust = TrustStore()
        self.catalogue = Catalogue()
        self.replay = ReplayGuard(settings.replay_window * 2)
        self.metrics = Metrics("gateway")
        self.telemetry = GatewayTelemetry(self)
        self.signing: MemberCertificate | None = None
        self.auth_certificate: x509.Certificate | None = None
        self.log: MessageLog | None = None
        # Hot path: the lean HTTP/1.1 pools (http11.py). httpx serves the rare calls
        # (getOpenAPI descriptions).
        self.peers = http11.Pool(connect_timeout=settings.connect_timeout)
        self.backends = http11.Pool(connect_timeout=settings.connect_timeout)
        self.tls_backends = http11.Pool(
            ssl_context=ssl.create_default_context(), connect_timeout=settings.connect_timeout
        )
        self.backend_http = httpx.AsyncClient(
            follow_redirects=False,  # PR-REST §4.4: redirects pass back unmodified
            timeout=httpx.Timeout(settings.request_timeout, connect=settings.connect_timeout),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
        )
        self._peer_keys = PeerKeys((), {})
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._last_forced_refresh = float("-inf")

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Load configuration and keys, open the log, prepare TLS; raise if not usable."""
        await asyncio.to_thread(migrate, self.settings)
        self.conf.load_cache()
        with suppress(Exception):
            await self.conf.refresh()
        if self.conf.current() is None:
            raise RuntimeError("no verified global configuration: is the central reachable?")
        self.auth_certificate = self.keys.auth_certificate(self.conf)
        self.signing = self.keys.sign_certificate(self.conf)
        self.sync_trust()
        context = client_context(
            self.keys.path("auth.cert.pem"),
            self.keys.path("auth.key.pem"),
            self.settings.passphrase(),
            self.peer_trust,
        )
        self.peers.ssl_context = context
        self.log = self._message_log()
        await self.log.start()
        await self.remember_recent_requests()
        await self.reload_catalogue()
        self._tasks = [
            asyncio.create_task(self.conf.run(self._stop)),
            asyncio.create_task(self._watch_configuration()),
        ]

    async def remember_recent_requests(self) -> None:
        """Refuse replays across a restart: re-learn the request ids still in the window."""
        window = self.settings.replay_window * 2
        since = datetime.now(UTC) - timedelta(seconds=window)
        for request_id, at in await recent_requests(
            self.database, direction="provider", since=since
        ):
            self.replay.check_and_add(request_id, at.timestamp())

    def _message_log(self) -> MessageLog:
        own = self.conf.current()
        assert own is not None
        assert self.signing is not None
        tsa = own.tsa[0]
        ca = [load_certificate(base64.b64decode(der)) for der in own.ca_certificates]
        timestamper = HttpTimestamper(
            tsa.url,
            tsa_certificates=[load_certificate(base64.b64decode(tsa.certificate))],
            ca_certificates=ca,
        )
        settings = LogSettings(
            log_id=str(self.id),
            sth_interval=self.settings.sth_interval,
            sth_max_records=self.settings.sth_max_records,
            timestamp_failure_limit=self.settings.timestamp_failure_limit,
            archive_dir=self.settings.data_dir / "archive",
        )
        return MessageLog(
            self.database,
            settings,
            key=self.keys.sign_key(),
            certificate=self.signing.certificate,
            timestamper=timestamper,
        )

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task
        if self.log is not None:
            await self.log.stop()
        for pool in (self.peers, self.backends, self.tls_backends):
            await pool.aclose()
        await self.backend_http.aclose()
        await self.conf.aclose()
        await self.database.close()

    async def _watch_configuration(self) -> None:
        while not self._stop.is_set():
            await asyncio.sleep(1.0)
            self.sync_trust()

    def sync_trust(self) -> None:
        """Trust the CAs of the own and every federated current configuration."""
        certificates: list[bytes] = []
        for instance in self.conf.instances():
            document = self.conf.current(instance)
            if document is not None:
                certificates.extend(base64.b64decode(der) for der in document.ca_certificates)
        self.peer_trust.update(certificates)

    async def refresh_configuration(self) -> bool:
        """Fetch the configurations now, at most once per ``FORCED_REFRESH_INTERVAL``;
        True when a fetch was made (whether or not it changed anything)."""
        now = time.monotonic()
        if now - self._last_forced_refresh < FORCED_REFRESH_INTERVAL:
            return False
        self._last_forced_refresh = now
        try:
            await self.conf.refresh()
        except Exception as error:
            log.warning("gateway.refresh_failed", error=repr(error))
            return False
        self.sync_trust()
        return True

    async def reload_catalogue(self) -> None:
        async with self.database.sessions() as session:
            self.catalogue = await Catalogue.load(session)
        # Registered IS certificates become trust anchors of the IS-facing TLS listener;
        # one left behind after a change does no harm, requests are pinned per client.
        self.client_trust.update(self.catalogue.client_certificates())

    # ----------------------------------------------------------- hot path
    def check_serving(self, face: str) -> None:
        """Refuse traffic in maintenance, with outdated configuration or a failing TSA."""
        consumer = face == "consumer"
        if self.settings.maintenance:
            raise (
                errors.ClientProxyMaintenanceMode if consumer else errors.ServerProxyMaintenanceMode
            )("the gateway is in maintenance mode")
        if not self.conf.is_current():
            raise (
                errors.ClientProxyOutdatedGlobalConf
                if consumer
                else errors.ServerProxyOutdatedGlobalConf
            )("global configuration is outdated")
        if self.log is not None and not self.log.healthy():
            raise (
                errors.ClientProxyTimestamperFailed
                if consumer
                else errors.ServerProxyTimestamperFailed
            )("cannot time-stamp the message log")

    def signing_key_for(self, keyid: str) -> tuple[str, PublicKey] | None:
        """(member id, public key) of a member signing certificate listed in any current
        configuration; rebuilt only when a configuration version changes."""
        versions = tuple(
            doc.version for i in sorted(self.conf.instances()) if (doc := self.conf.current(i))
        )
        if versions != self._peer_keys.versions:
            self._peer_keys = PeerKeys(versions, self._index_signing_keys())
        return self._peer_keys.keys.get(keyid)

    def _index_signing_keys(self) -> dict[str, tuple[str, PublicKey]]:
        keys: dict[str, tuple[str, PublicKey]] = {}
        for instance in self.conf.instances():
            document: GlobalConf | None = self.conf.current(instance)
            for member in document.members if document else ():
                for entry in member.signing_certificates:
                    key = load_certificate(entry.der).public_key()
                    keys[entry.sha256] = (str(member.id), key)  # type: ignore[assignment]
        return keys

    def hosted(self) -> GatewayEntry | None:
        return self.conf.find_gateway(str(self.id))

    @staticmethod
    def now() -> int:
        return int(time.time())
