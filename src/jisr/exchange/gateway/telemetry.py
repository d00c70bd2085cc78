"""Gateway metrics beyond HTTP: X-Road faults by code, configuration age, log lag.

Gauges are computed when Prometheus scrapes (``set_function``), so they cost nothing on
the per-request path; the fault counter's series are cached per (face, code).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge

if TYPE_CHECKING:
    from jisr.exchange.gateway.runtime import Gateway

__all__ = ["GatewayTelemetry"]


class GatewayTelemetry:
    def __init__(self, gateway: Gateway) -> None:
        registry = gateway.metrics.registry
        self._faults = Counter(
            "jisr_gateway_faults_total",
            "X-Road faults answered, by face (consumer/provider) and X-Road error code.",
            ["face", "code"],
            registry=registry,
        )
        self._series: dict[tuple[str, str], Any] = {}
        age = Gauge(
            "jisr_gateway_globalconf_age_seconds",
            "Seconds since the own instance's current global configuration was generated.",
            registry=registry,
        )
        age.set_function(lambda: _configuration_age(gateway))
        current = Gauge(
            "jisr_gateway_globalconf_current",
            "1 while the own instance's global configuration is current, else 0.",
            registry=registry,
        )
        current.set_function(lambda: 1.0 if gateway.conf.is_current() else 0.0)
        lag = Gauge(
            "jisr_messagelog_unstamped_records",
            "Message-log records not yet covered by a time-stamped tree head (log lag).",
            registry=registry,
        )
        lag.set_function(lambda: _unstamped(gateway))
        size = Gauge(
            "jisr_messagelog_records",
            "Records in the message log.",
            registry=registry,
        )
        size.set_function(lambda: float(gateway.log.status().size) if gateway.log else 0.0)

    def fault(self, face: str, code: str) -> None:
        series = self._series.get((face, code))
        if series is None:
            series = self._series[(face, code)] = self._faults.labels(face, code)
        series.inc()


def _configuration_age(gateway: Gateway) -> float:
    document = gateway.conf.current()
    if document is None:
        return float("nan")
    return max(0.0, time.time() - document.generated_at.timestamp())


def _unstamped(gateway: Gateway) -> float:
    if gateway.log is None:
        return 0.0
    status = gateway.log.status()
    return float(status.size - status.timestamped_size)
