"""The central's ASGI application: admin API, global configuration, anchor, TSA, health.

``create_app(settings)`` wires the pieces; the routes live in :mod:`.routes`. Errors are RFC
9457 problem documents everywhere (:mod:`jisr.problems`); unknown routes, wrong methods,
oversized bodies and wrong content types are refused before any handler runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jisr import __version__
from jisr.config import CentralSettings
from jisr.crypto.tsp import TimeStampAuthority
from jisr.exchange.central.keystore import KeyStore
from jisr.exchange.central.publisher import Publisher
from jisr.observability import Metrics, health_routes
from jisr.problems import Problem, install_problem_handlers, problem_response
from jisr.storage import Database

__all__ = ["Central", "create_app"]

log = structlog.get_logger("jisr.central")

BODY_MEDIA_TYPES = {"/tsa": "application/timestamp-query"}
JSON = "application/json"


@dataclass
class Central:
    """Everything a request handler needs, created once per process."""

    settings: CentralSettings
    database: Database
    keystore: KeyStore
    publisher: Publisher
    tsa: TimeStampAuthority


def build_central(settings: CentralSettings) -> Central:
    database = Database(settings.effective_database_url())
    keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
    tsa_key, tsa_cert = keystore.tsa()
    tsa = TimeStampAuthority(
        key=tsa_key,
        certificate=tsa_cert,
        chain=[keystore.ca_certificate()],
        policy_oid=settings.tsa_policy_oid,
    )
    return Central(settings, database, keystore, Publisher(database, keystore, settings), tsa)


def create_app(settings: CentralSettings, central: Central | None = None) -> FastAPI:
    """The application; keys are loaded now so a wrong passphrase fails at start-up."""
    from jisr.exchange.central.routes import public_router, router

    central = central or build_central(settings)
    metrics = Metrics("central")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(central.publisher.run(stop))
        log.info("central.started", instance=settings.instance, url=settings.base_url())
        try:
            yield
        finally:
            stop.set()
            with suppress(asyncio.CancelledError):
                await task
            await central.database.close()

    app = FastAPI(
        title=f"Jisr central registry ({settings.instance})",
        version=__version__,
        summary="Members, gateways, certificates and the signed global configuration.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.central = central
    app.include_router(router)
    app.include_router(public_router)
    for route in health_routes(metrics, _readiness(central)):
        app.router.routes.append(route)
    install_problem_handlers(app, log)
    app.add_middleware(_BodyGuard, limit=settings.max_body_bytes)
    app.add_middleware(metrics.middleware)
    return app


def _readiness(central: Central) -> dict[str, Any]:
    async def database() -> bool:
        return await central.database.ping()

    async def keys() -> bool:
        try:
            central.keystore.tsa()
            central.keystore.ca_certificate()
        except Exception:
            return False
        return True

    async def configuration() -> bool:
        try:
            return await central.publisher.latest() is not None
        except Exception:
            return False

    return {"database": database, "keys": keys, "configuration": configuration}


class _BodyGuard:
    """Refuse oversized bodies (413) and wrong media types (415) before any handler reads.

    The declared ``Content-Length`` is checked first; a body without one (chunked) is read
    up to the limit here and replayed to the application, so no handler ever sees more.
    Management bodies are small: buffering at most ``limit`` bytes is the simple bound.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope["path"], headers)
        if refusal is None and "content-length" not in headers:
            body = await self._read_bounded(receive)
            if body is None:
                refusal = self._too_large()
            else:
                receive = _replay(body, receive)
        if refusal is not None:
            await problem_response(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _too_large(self) -> Problem:
        return Problem(413, "body_too_large", f"request bodies are limited to {self.limit} bytes")

    def _refusal(self, path: str, headers: dict[str, str]) -> Problem | None:
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return self._too_large()
        has_body = (length not in (None, "0")) or "transfer-encoding" in headers
        expected = BODY_MEDIA_TYPES.get(path, JSON)
        given = headers.get("content-type", "").split(";")[0].strip().lower()
        if has_body and given != expected:
            return Problem(
                415, "unsupported_media_type", f"expected Content-Type: {expected}, got {given!r}"
            )
        return None

    async def _read_bounded(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, upstream: Receive) -> Receive:
    """Give the buffered body once, then pass through (the next event is a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await upstream()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
