"""Serving one gateway: the consumer face (HTTP, optional HTTPS), the provider face
(mutual TLS) and the admin API, each a uvicorn server in one event loop.
"""

from __future__ import annotations

import asyncio
import ssl
from contextlib import suppress

import structlog
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from jisr.config import GatewaySettings
from jisr.exchange.gateway.admin import create_admin_app
from jisr.exchange.gateway.consumer import ConsumerFace
from jisr.exchange.gateway.provider import ProviderFace
from jisr.exchange.gateway.runtime import Gateway
from jisr.exchange.gateway.transport import TLSHttpProtocol, server_context
from jisr.observability import Metrics, ReadinessCheck, health_routes
from jisr.serving import start_listener, until_signalled

__all__ = ["GatewayServer", "until_signalled"]

log = structlog.get_logger("jisr.gateway")


class _WithHealth:
    """Answer /health, /ready and /metrics next to a face's own routes."""

    def __init__(self, app: ASGIApp, gateway: Gateway, metrics: Metrics) -> None:
        self.app = metrics.middleware(app)
        routes = health_routes(metrics, _readiness(gateway))
        self.routes = {route.path: route for route in routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is not None:
            await route.handle(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _readiness(gateway: Gateway) -> dict[str, ReadinessCheck]:
    async def database() -> bool:
        return await gateway.database.ping()

    async def configuration() -> bool:
        return gateway.conf.is_current()

    async def message_log() -> bool:
        return gateway.log is not None and gateway.log.healthy()

    async def keys() -> bool:
        return gateway.signing is not None and gateway.auth_certificate is not None

    return {
        "database": database,
        "configuration": configuration,
        "message_log": message_log,
        "keys": keys,
    }


class GatewayServer:
    """Start and stop every listener of one gateway inside the running event loop."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.gateway = Gateway(settings)
        self._servers: list[uvicorn.Server] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.gateway.start()
        settings, gateway = self.settings, self.gateway
        consumer = _WithHealth(ConsumerFace(gateway), gateway, gateway.metrics)
        provider = _WithHealth(ProviderFace(gateway), gateway, gateway.metrics)
        key, cert = gateway.keys.path("auth.key.pem"), gateway.keys.path("auth.cert.pem")
        passphrase = settings.passphrase()
        listeners: list[tuple[ASGIApp, str, int, ssl.SSLContext | None]] = [
            (consumer, settings.host, settings.port, None),
            (
                provider,
                settings.peer_host,
                settings.peer_port,
                server_context(cert, key, passphrase, gateway.peer_trust, require_client=True),
            ),
            (create_admin_app(gateway), settings.host, settings.admin_port, None),
        ]
        if settings.tls_port is not None:
            is_context = server_context(
                cert, key, passphrase, gateway.client_trust, require_client=False
            )
            listeners.append((consumer, settings.host, settings.tls_port, is_context))
        for app, host, port, tls in listeners:
            self._servers.append(self._server(app, host, port, tls))
        self._tasks = [start_listener(server) for server in self._servers]
        while not all(server.started for server in self._servers):
            failed = [task for task in self._tasks if task.done()]
            if failed:
                await self.stop()
                raise RuntimeError(f"a gateway listener failed to start: {failed[0].exception()!r}")
            await asyncio.sleep(0.02)
        log.info(
            "gateway.started",
            gateway=str(gateway.id),
            port=settings.port,
            peer_port=settings.peer_port,
        )

    @staticmethod
    def _server(
        app: ASGIApp, host: str, port: int, context: ssl.SSLContext | None
    ) -> uvicorn.Server:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=TLSHttpProtocol if context is not None else "httptools",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            date_header=False,
            proxy_headers=False,  # gateways are not behind proxies; skip the per-request work
            timeout_keep_alive=75,
            limit_concurrency=2048,
            h11_max_incomplete_event_size=64 * 1024,
        )
        config.load()
        if context is not None:
            config.ssl = context  # ours: client-certificate policy and the live trust store
        server = uvicorn.Server(config)
        return server

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._tasks)

    async def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        for task in self._tasks:
            with suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)
        await self.gateway.stop()

    async def serve_forever(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop every listener and flush the log."""
        await self.start()
        try:
            await until_signalled(self._tasks)
        finally:
            await self.stop()
