"""Logs, metrics and health endpoints shared by every Jisr process.

* Structured logs: structlog, one JSON object per line on stderr (``log_format=console`` for
  humans).
* Metrics: Prometheus text format at ``/metrics``, one registry per application so several
  processes can run in one interpreter (tests, the demo).
* ``/health`` answers while the process is alive; ``/ready`` runs the process's readiness
  checks (database reachable, keys loaded) and answers 503 naming the failing ones.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as render_metrics
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "Metrics",
    "ReadinessCheck",
    "configure_logging",
    "health_routes",
]

ReadinessCheck = Callable[[], Awaitable[bool]]


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Route stdlib and structlog output through one JSON (or console) renderer."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class Metrics:
    """Per-application Prometheus registry with request count and latency by route."""

    def __init__(self, component: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "jisr_http_requests_total",
            "HTTP requests answered, by route template, method and status.",
            ["component", "route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "jisr_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["component", "route"],
            registry=self.registry,
        )
        self.component = component
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def children(self, route: str, method: str, status: int) -> tuple[Any, Any]:
        """The (latency, count) series of one label set, looked up once then cached:
        ``labels()`` takes a lock and builds tuples, measurable on the gateway's hot path."""
        key = (route, method, status)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = (
                self.latency.labels(self.component, route),
                self.requests.labels(self.component, route, method, str(status)),
            )
        return found

    def middleware(self, app: ASGIApp) -> ASGIApp:
        return _MetricsMiddleware(app, self)

    def render(self) -> Response:
        return Response(render_metrics(self.registry), media_type=CONTENT_TYPE_LATEST)


class _MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            latency, count = self.metrics.children(_route_template(scope), scope["method"], status)
            latency.observe(time.perf_counter() - started)
            count.inc()


def _route_template(scope: Scope) -> str:
    """The matched route's path template, so metrics do not grow one label per URL.

    The router records the match in the (shared) scope; read it once the app has answered.
    """
    route = scope.get("route")
    if isinstance(route, str):
        return route
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def health_routes(metrics: Metrics, checks: Mapping[str, ReadinessCheck]) -> list[Route]:
    """``/health``, ``/ready`` and ``/metrics`` for a Starlette or FastAPI application."""

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def ready(_: Request) -> Response:
        results = {name: await check() for name, check in checks.items()}
        ok = all(results.values())
        body = {"status": "ready" if ok else "not_ready", "checks": results}
        return JSONResponse(body, status_code=200 if ok else 503)

    async def render(_: Request) -> Response:
        return metrics.render()

    return [
        Route("/health", health, methods=["GET"], include_in_schema=False),
        Route("/ready", ready, methods=["GET"], include_in_schema=False),
        Route("/metrics", render, methods=["GET"], include_in_schema=False),
    ]
