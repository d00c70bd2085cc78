"""Exchange throughput and latency: client → consumer gateway → provider gateway → backend.

Everything runs on loopback as separate processes — the central, the backend (the demo's
streaming echo service), the provider gateway and the consumer gateway — with mutual TLS
between the gateways, RFC 9421 signatures on every request and response, and durable
message logs at both ends (group commit, SQLite in WAL mode with synchronous=FULL). The
same load generator drives, in the same run, the backend **directly** (the baseline) and
the full exchange, for 1 KB and 100 KB bodies over a concurrency sweep. A third column is
the floor of the architecture: two bare relays (``benchmarks/relay.py``) on the same stack —
uvicorn + httptools on uvloop, the gateway's HTTP/1.1 client, mutual TLS between them —
doing none of the gateway's work. No gateway built on this stack can beat that chain.

Printed: a table (exchanges/s, p50, p99, ratio to direct) and one JSON line. Then an open
loop at half the exchange's peak measures the latency the gateways add.

    .venv/bin/python benchmarks/exchange.py [--seconds 5] [--concurrency 1,8,32,64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from loadgen import Result, closed_loop, open_loop

from jisr.config import CentralSettings, GatewaySettings
from jisr.demo.topology import COUNTRIES, GatewayPlan, free_port, prepare_exchange

SERVICE = "MA/GOV/CIVIL-REGISTRY/REGISTRY"
CLIENT = "MA/GOV/INTERIOR/RESIDENCE"
PLANS = (
    GatewayPlan(
        "MA/GOV/CIVIL-REGISTRY/GW1",
        ("REGISTRY",),
        (("REGISTRY", "echo", "/echo", None),),
        (("REGISTRY", "echo", CLIENT),),
    ),
    GatewayPlan("MA/GOV/INTERIOR/GW1", ("RESIDENCE",)),
)


def _wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


def _gateway_env(settings: GatewaySettings) -> dict[str, str]:
    return {
        **os.environ,
        "JISR_GATEWAY": settings.gateway,
        "JISR_DATA_DIR": str(settings.data_dir),
        "JISR_PORT": str(settings.port),
        "JISR_PEER_PORT": str(settings.peer_port),
        "JISR_ADMIN_PORT": str(settings.admin_port),
        "JISR_LOG_LEVEL": "warning",
    }


def _central_env(settings: CentralSettings) -> dict[str, str]:
    return {
        **os.environ,
        "JISR_INSTANCE": settings.instance,
        "JISR_DATA_DIR": str(settings.data_dir),
        "JISR_PORT": str(settings.port),
        "JISR_LOG_LEVEL": "warning",
    }


def start_relays(root: Path, backend_port: int) -> tuple[list[subprocess.Popen[bytes]], str]:
    """The bare relay chain in front of the backend: plain → relay → mTLS → relay → backend."""
    from relay import make_certificate

    tls = root / "relay-tls"
    make_certificate(tls)
    script = str(Path(__file__).parent / "relay.py")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    inner, outer = free_port(), free_port()
    processes = [
        subprocess.Popen(  # type: ignore[call-overload]
            [sys.executable, script, "--port", str(inner), "--tls-in", str(tls),
             "--upstream", f"127.0.0.1:{backend_port}"],
            **quiet,
        ),
        subprocess.Popen(  # type: ignore[call-overload]
            [sys.executable, script, "--port", str(outer), "--tls-out", str(tls),
             "--upstream", f"127.0.0.1:{inner}"],
            **quiet,
        ),
    ]  # fmt: skip
    _wait_ready(f"http://127.0.0.1:{outer}/slow?seconds=0", processes[-1])
    return processes, f"http://127.0.0.1:{outer}/echo"


def start(root: Path) -> tuple[list[subprocess.Popen[bytes]], str, str, int]:
    """Prepare MA with two gateways; start central, backend and gateways as processes."""
    demo = prepare_exchange(root, PLANS, COUNTRIES[:1])
    jisr = [sys.executable, "-m", "jisr.cli"]
    processes: list[subprocess.Popen[bytes]] = []
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    central = demo.centrals[0].settings
    processes.append(
        subprocess.Popen([*jisr, "central", "serve"], env=_central_env(central), **quiet)
    )  # type: ignore[call-overload]
    _wait_ready(f"{central.base_url()}/health", processes[-1])
    backend = f"http://127.0.0.1:{demo.backend_port}"
    processes.append(
        subprocess.Popen(  # type: ignore[call-overload]
            [
                sys.executable,
                "-m",
                "uvicorn",
                "jisr.demo.backend:create_backend",
                "--factory",
                "--port",
                str(demo.backend_port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--http",
                "httptools",
                "--loop",
                "uvloop",
            ],
            **quiet,
        )
    )
    _wait_ready(f"{backend}/slow?seconds=0", processes[-1])
    for gateway in demo.gateways:
        processes.append(
            subprocess.Popen(
                [*jisr, "gateway", "serve"], env=_gateway_env(gateway.settings), **quiet
            )
        )  # type: ignore[call-overload]
        _wait_ready(f"{gateway.url}/ready", processes[-1])
    consumer = demo.gateway("MA/GOV/INTERIOR/GW1").url
    return processes, f"{backend}/echo", f"{consumer}/r1/{SERVICE}/echo", demo.backend_port


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(processes):
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def sweep(
    direct: str, relay: str, exchange: str, sizes: list[int], levels: list[int], seconds: float
) -> list[dict[str, Any]]:
    headers = {"X-Road-Client": CLIENT, "Content-Type": "application/octet-stream"}
    rows = []
    for size in sizes:
        body = os.urandom(size)
        for level in levels:
            base = await closed_loop(
                direct, concurrency=level, seconds=seconds, body=body, headers=headers
            )
            chain = await closed_loop(
                relay, concurrency=level, seconds=seconds, body=body, headers=headers
            )
            full = await closed_loop(
                exchange, concurrency=level, seconds=seconds, body=body, headers=headers
            )
            rows.append(_row(size, level, base, chain, full))
            print(_line(rows[-1]), flush=True)
    return rows


def _row(size: int, level: int, base: Result, chain: Result, full: Result) -> dict[str, Any]:
    return {
        "body_bytes": size,
        "concurrency": level,
        "direct_rps": round(base.rate, 1),
        "relay_rps": round(chain.rate, 1),
        "exchange_rps": round(full.rate, 1),
        "ratio": round(full.rate / base.rate, 3) if base.rate else None,
        "ratio_to_relay": round(full.rate / chain.rate, 3) if chain.rate else None,
        "relay_p50_ms": round(chain.p50, 2),
        "relay_errors": chain.errors,
        "direct_p50_ms": round(base.p50, 2),
        "direct_p99_ms": round(base.percentile(99), 2),
        "exchange_p50_ms": round(full.p50, 2),
        "exchange_p99_ms": round(full.percentile(99), 2),
        "exchange_errors": full.errors,
        "direct_errors": base.errors,
    }


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['body_bytes']:>7} {row['concurrency']:>5} | {row['direct_rps']:>9.1f} {row['direct_p50_ms']:>7.2f} {row['direct_p99_ms']:>7.2f}"
        f" | {row['relay_rps']:>8.1f} {row['relay_p50_ms']:>7.2f}"
        f" | {row['exchange_rps']:>9.1f} {row['exchange_p50_ms']:>7.2f} {row['exchange_p99_ms']:>7.2f} | {row['ratio']!s:>6} {row['ratio_to_relay']!s:>6} {row['exchange_errors']:>4}"
    )


async def added_latency(direct: str, exchange: str, peak: float, seconds: float) -> dict[str, Any]:
    """p50/p99 at half the exchange's peak rate, direct and through the gateways (1 KB)."""
    headers = {"X-Road-Client": CLIENT, "Content-Type": "application/octet-stream"}
    body = os.urandom(1024)
    rate = max(1.0, peak / 2)
    base = await open_loop(direct, rate=rate, seconds=seconds, body=body, headers=headers)
    full = await open_loop(exchange, rate=rate, seconds=seconds, body=body, headers=headers)
    return {
        "rate": round(rate, 1),
        "direct_p50_ms": round(base.p50, 2),
        "exchange_p50_ms": round(full.p50, 2),
        "added_p50_ms": round(full.p50 - base.p50, 2),
        "direct_p99_ms": round(base.percentile(99), 2),
        "exchange_p99_ms": round(full.percentile(99), 2),
        "exchange_errors": full.errors,
    }


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cpu_per_request(
    processes: list[subprocess.Popen[bytes]], names: list[str], url: str, seconds: float
) -> dict[str, float]:
    """CPU milliseconds each process spends per 1 KB request to ``url`` at concurrency 16."""
    before = [_cpu_seconds(p.pid) for p in processes]
    mine = time.process_time()
    result = await closed_loop(
        url,
        concurrency=16,
        seconds=seconds,
        body=os.urandom(1024),
        headers={"X-Road-Client": CLIENT},
    )
    after = [_cpu_seconds(p.pid) for p in processes]
    count = max(1, result.requests)
    usage = {
        n: round((a - b) / count * 1000, 3) for n, a, b in zip(names, after, before, strict=True)
    }
    usage["load_generator"] = round((time.process_time() - mine) / count * 1000, 3)
    return usage


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", default="1,8,32,64")
    parser.add_argument("--sizes", default="1024,102400")
    args = parser.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]
    sizes = [int(x) for x in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="jisr-bench-") as scratch:
        processes, direct, exchange, backend_port = start(Path(scratch) / "federation")
        relays: list[subprocess.Popen[bytes]] = []
        try:
            relays, relay = start_relays(Path(scratch), backend_port)
            asyncio.run(
                closed_loop(
                    exchange,
                    concurrency=8,
                    seconds=2,
                    body=b"x" * 1024,
                    headers={"X-Road-Client": CLIENT},
                )
            )
            print(
                f"machine: {os.cpu_count()} cores; {args.seconds} s per point; mTLS + RFC 9421 + durable logs at both ends"
            )
            print(
                f"{'body':>7} {'conc':>5} | {'direct/s':>9} {'p50 ms':>7} {'p99 ms':>7} | {'relay/s':>8} {'p50 ms':>7} | {'exch/s':>9} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>6} {'/relay':>6} {'err':>4}"
            )
            rows = asyncio.run(sweep(direct, relay, exchange, sizes, levels, args.seconds))
            small = [r for r in rows if r["body_bytes"] == min(sizes)]
            peak = max(r["exchange_rps"] for r in small)
            latency = asyncio.run(added_latency(direct, exchange, peak, args.seconds))
            print(
                f"open loop at {latency['rate']}/s (half the 1 KB peak): p50 direct {latency['direct_p50_ms']} ms,"
                f" exchange {latency['exchange_p50_ms']} ms, added {latency['added_p50_ms']} ms"
            )
            names = ["central", "backend", "provider", "consumer"]
            cpu = asyncio.run(cpu_per_request(processes, names, exchange, args.seconds))
            print(
                "CPU ms per 1 KB exchange (concurrency 16): "
                + ", ".join(f"{k} {v}" for k, v in cpu.items())
            )
            chain = [processes[1], *relays]
            relay_cpu = asyncio.run(
                cpu_per_request(chain, ["backend", "inner_relay", "outer_relay"], relay, 3)
            )
            print(
                "CPU ms per 1 KB request through the bare relays (concurrency 16): "
                + ", ".join(f"{k} {v}" for k, v in relay_cpu.items())
            )
        finally:
            stop(relays)
            stop(processes)
    summary = {
        "benchmark": "exchange",
        "cores": os.cpu_count(),
        "peak_exchange_rps_1kb": peak,
        "best_ratio_1kb": max(r["ratio"] or 0 for r in small),
        "peak_relay_rps_1kb": max(r["relay_rps"] for r in small),
        "added_p50_ms_at_half_peak": latency["added_p50_ms"],
        "rows": rows,
        "latency": latency,
        "cpu_ms_per_exchange": cpu,
        "cpu_ms_per_relayed_request": relay_cpu,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
