"""Time-stamping outages and the gateway's own metrics.

X-Road refuses messages it cannot time-stamp: when the TSA stays unreachable for longer
than ``timestamp_failure_limit`` while records are waiting, the gateway answers
``TimestamperFailed`` until the TSA is back. The metrics endpoint reports faults by X-Road
code, the configuration's age and the log's lag.
"""

from __future__ import annotations

import base64
import time

import httpx

from jisr.crypto.x509 import load_certificate
from jisr.exchange.gateway.registry import GatewayRegistry
from jisr.exchange.messagelog import HttpTimestamper
from tests.exchange.gateway.conftest import SERVICE
from tests.exchange.gateway.harness import Federation, RunningGateway

CLIENT = "MA/GOV/INTERIOR/STAMPS"
BOUND = 20.0


def stamping_gateway(exchange: Federation) -> RunningGateway:
    """A second consumer gateway of the Interior with a 1 s time-stamping failure limit."""
    name = "MA/GOV/INTERIOR/GW3"
    if name in exchange.gateways:
        return exchange.gateways[name]

    async def setup(reg: GatewayRegistry) -> None:
        await reg.set_connection(CLIENT, "none")

    running = exchange.gateway(name, ["STAMPS"], setup, timestamp_failure_limit=1.0)
    provider = exchange.gateways["MA/GOV/CIVIL-REGISTRY/GW1"]
    provider.configure(lambda reg: reg.grant(SERVICE, "echo", "client", CLIENT))
    provider.refresh()
    return running


def call(gateway: RunningGateway) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/r1/{SERVICE}/echo",
        content=b"ping",
        headers={"X-Road-Client": CLIENT},
        timeout=10,
    )


class TestTimestamperOutage:
    def test_refused_while_the_tsa_is_down_and_served_again_after(
        self, exchange: Federation
    ) -> None:
        """With the TSA unreachable, traffic is refused with TimestamperFailed once the
        failure limit has passed; with the TSA back, exchanges are served again."""
        running = stamping_gateway(exchange)
        log = running.gateway.log
        assert call(running).status_code == 200
        working = log._timestamper  # test-only: point the log at a dead TSA, then restore
        document = running.gateway.conf.current()
        dead = HttpTimestamper(
            "http://127.0.0.1:9/tsa",
            tsa_certificates=[load_certificate(base64.b64decode(document.tsa[0].certificate))],
            ca_certificates=[
                load_certificate(base64.b64decode(d)) for d in document.ca_certificates
            ],
        )
        log._timestamper = dead
        try:
            deadline, refused = time.monotonic() + BOUND, None
            while time.monotonic() < deadline:
                response = call(running)
                if response.status_code == 500:
                    refused = response
                    break
                time.sleep(0.3)
            assert refused is not None, "never refused while the TSA was down"
            assert refused.headers["x-road-error"] == "Server.ClientProxy.TimestamperFailed"
        finally:
            log._timestamper = working
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline and call(running).status_code != 200:
            time.sleep(0.3)
        assert call(running).status_code == 200


class TestMetrics:
    def test_faults_configuration_age_and_log_lag(self, exchange: Federation) -> None:
        """/metrics counts faults by X-Road code and reports the configuration's age and the
        message log's size and lag."""
        consumer = exchange.gateways["MA/GOV/INTERIOR/GW1"]
        httpx.get(f"{consumer.url}/r1/{SERVICE}/echo", timeout=10)  # no X-Road-Client
        text = httpx.get(f"{consumer.url}/metrics", timeout=10).text
        assert 'jisr_gateway_faults_total{code="Client.BadRequest",face="consumer"}' in text
        assert "jisr_gateway_globalconf_age_seconds" in text
        assert "jisr_gateway_globalconf_current 1.0" in text
        assert "jisr_messagelog_unstamped_records" in text
        assert "jisr_messagelog_records" in text
