"""Client-credentials token grants per second on one core (docs/oidc.md §Performance).

Drives the provider's ASGI app **in process** — no socket, no HTTP parser, no client library:
the script calls the app with a ready ASGI scope, as uvicorn would after parsing, so the
figure is the provider's own cost per grant (form parsing, client lookup, Authlib's grant,
an ES256 at+jwt signature, the token row insert and commit). One event loop on one thread,
so it is the throughput of one core; ``--concurrency`` requests are in flight at once. CPU
is the whole process (every thread: aiosqlite's worker thread included), user mode apart —
the kernel's share is mostly SQLite's WAL writes and fsync (synchronous=FULL).

Every request authenticates with ``client_secret_basic``. Printed: a table and one JSON line.

    .venv/bin/python benchmarks/idp_tokens.py [--seconds 5] [--concurrency 1,16]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--client-cache-size N]

``--client-cache-size 0`` turns the per-process client cache off (every grant reads its
client from the database, as before the cache existed).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))  # the benchmarks' shared helpers
from scratchdb import create_database, database_url, drop_database

from jisr.identity.oidc import ClientMetadata, OidcProvider, OidcSettings, create_app, migrate
from jisr.identity.oidc.clients import register_client
from jisr.storage import Database

ISSUER = "https://id.example.test"


async def _call(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/token",
        "raw_path": b"/token",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("id.example.test", 443),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _run(
    app: Any, headers: list[tuple[bytes, bytes]], seconds: float, concurrency: int
) -> dict[str, float]:
    body = b"grant_type=client_credentials&scope=read"
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            if await _call(app, headers, body) != 200:
                failures += 1
            latencies.append(time.perf_counter() - started)

    for _ in range(20):  # warm-up: caches, pools, the first JIT-less paths
        await _call(app, headers, body)
    usage0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    usage1, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall0
    user = usage1.ru_utime - usage0.ru_utime
    cpu = user + usage1.ru_stime - usage0.ru_stime
    count = len(latencies)
    return {
        "user_us_per_grant": user / count * 1e6,
        "grants": count,
        "failures": failures,
        "grants_per_s": count / wall,
        "grants_per_cpu_s": count / cpu,
        "cpu_us_per_grant": cpu / count * 1e6,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": sorted(latencies)[int(count * 0.99) - 1] * 1e3,
    }


async def _bench(
    url: str, seconds: float, concurrencies: list[int], cache_size: int
) -> list[dict[str, Any]]:
    await asyncio.to_thread(migrate, url)
    database = Database(url)
    settings = OidcSettings(issuer=ISSUER, client_cache_size=cache_size)
    provider = OidcProvider(database, settings)
    await provider.start()
    async with database.transaction() as session:
        registered = await register_client(
            session, ClientMetadata(client_name="bench", scope="read"), provider.clock()
        )
    credentials = f"{registered.client.client_id}:{registered.client_secret}".encode()
    headers = [
        (b"host", b"id.example.test"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"authorization", b"Basic " + base64.b64encode(credentials)),
    ]
    app = create_app(provider)
    rows = []
    for concurrency in concurrencies:
        result = await _run(app, headers, seconds, concurrency)
        rows.append(
            {
                "backend": database.backend,
                "concurrency": concurrency,
                "client_cache_size": cache_size,
                **result,
            }
        )
    await database.close()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--postgres", default=None, help="admin DSN; adds a PostgreSQL run")
    parser.add_argument(
        "--client-cache-size", type=int, default=OidcSettings(issuer=ISSUER).client_cache_size
    )
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'idp.db'}"
        rows += await _bench(url, args.seconds, concurrencies, args.client_cache_size)
    if args.postgres:
        name = await create_database(args.postgres)
        try:
            url = database_url(args.postgres, name)
            rows += await _bench(url, args.seconds, concurrencies, args.client_cache_size)
        finally:
            await drop_database(args.postgres, name)
    print(
        f"{'backend':<11}{'conc':>5}{'grants/s':>10}{'grants/CPU-s':>14}{'CPU µs/grant':>14}{'user µs':>9}{'p50 ms':>9}{'p99 ms':>9}{'fail':>6}"
    )
    for row in rows:
        print(
            f"{row['backend']:<11}{row['concurrency']:>5}{row['grants_per_s']:>10.0f}"
            f"{row['grants_per_cpu_s']:>14.0f}{row['cpu_us_per_grant']:>14.0f}{row['user_us_per_grant']:>9.0f}"
            f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['failures']:>6}"
        )
    print(
        json.dumps(
            {
                "benchmark": "idp_tokens",
                "mode": "in-process ASGI",
                "auth": "client_secret_basic",
                "results": rows,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
