"""CPU cost of the gateway's message log per appended record, and of the tree-head path.

Four measurements, each the best of ``--rounds`` rounds where it is a micro-benchmark:

* **build**: what the writer does per record before it touches the database — ``prepare()``
  (leaf bytes, leaf hash, body SHA-256) and the leaf and record rows for the INSERTs — on
  gateway-shaped records (the headers ``jisr.exchange.gateway.journal`` keeps, 1 KB
  bodies kept). ``check_record`` (what ``append()`` checks) is timed apart;
* **insert**: one batch transaction of 8 and 32 records (leaves + records) as the writer
  commits it: on SQLite a synchronous engine with the real pragmas
  (``jisr.storage.engine.sqlite_pragmas``: WAL, synchronous=FULL) in a temporary
  directory; with ``--postgres`` also through the async engine on PostgreSQL. CPU µs per
  batch (``time.process_time``: every thread, user and kernel), user-mode CPU apart (the
  kernel's share is mostly the WAL writes and fsync), wall ms per batch, and "Python
  only": the same calls with the driver's execute skipped, i.e. what holds the GIL;
* **end to end**: a running ``MessageLog`` (STH every second, the production
  ``HttpTimestamper`` talking to the real ``TimeStampAuthority`` in process through an
  ``httpx.MockTransport``) with N concurrent appenders of request+response pairs: pairs/s,
  CPU ms per pair (process, all threads; user mode apart), event-loop thread CPU ms per
  pair (what competes with the gateway's own work for the loop), p50 latency;
* **verify_token**: µs per call on a real token (ECDSA P-256 TSA, certificate embedded)
  as the log calls it (the token's own certificates, no CA) and as ``HttpTimestamper``
  calls it (configured TSA certificate and CA), for the same token again and for distinct
  tokens; and the log's whole stamping step (``MessageLog._stamp``: HTTP to the in-process
  TSA, the timestamper's verification, the log's check) in ms of CPU, with the TSA's own
  signing shown apart.

Printed: a table and one JSON line. ``PYTHONPATH=<other src>`` runs the same script
against another version of the package (``build_batch`` accepts both writer APIs).

    .venv/bin/python benchmarks/messagelog.py [--seconds 5] [--concurrency 64,256]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import resource
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.util.concurrency import await_

sys.path.insert(0, str(Path(__file__).parent))  # the benchmarks' shared helpers
from scratchdb import scratch_postgres

from jisr.crypto.keys import generate_private_key
from jisr.crypto.tsp import TimeStampAuthority, extract_token, make_request, verify_token
from jisr.crypto.x509 import CertificateProfile, create_root_ca, issue_certificate
from jisr.exchange.messagelog import (
    HttpTimestamper,
    LogRecord,
    LogSettings,
    MessageLog,
    _store,
    migrate,
)
from jisr.exchange.messagelog.records import check_record, prepare
from jisr.exchange.messagelog.treehead import TreeHead, token_certificates
from jisr.storage import Database

POLICY = "1.3.6.1.4.1.99999.1.1"
LOG_ID = "MA/GOV/CIVIL-REGISTRY/GW1"
BODY = b'{"query": {"personCode": "38001085718", "purpose": "residence permit"}}' * 14


# --- records and PKI ------------------------------------------------------------------------


def _digest_header(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def make_pair(n: int) -> tuple[LogRecord, LogRecord]:
    """A request and its response as a gateway face logs them (journal.exchange_records)."""
    xroad_id = f"{secrets.token_hex(8)}-{n}"
    signature = base64.b64encode(secrets.token_bytes(72)).decode()
    common = {
        "x-road-client": "MA/GOV/INTERIOR/RESIDENCE",
        "x-road-service": "MA/GOV/CIVIL-REGISTRY/REGISTRY/getPerson/v1",
        "x-road-id": xroad_id,
        "x-road-request-id": f"req-{xroad_id}",
    }
    digest = _digest_header(BODY)
    signature_input = (
        'sig1=("@method" "@target-uri" "content-digest" "x-road-client" "x-road-service" '
        '"x-road-id" "x-road-request-id");created=1764412345;keyid="'
        + hashlib.sha256(b"k").hexdigest()
        + '";alg="ecdsa-p256-sha256"'
    )
    now = datetime.now(UTC)
    request = LogRecord(
        kind="request",
        direction="consumer",
        xroad_id=xroad_id,
        request_id=f"req-{xroad_id}",
        client=common["x-road-client"],
        service=common["x-road-service"],
        at=now,
        headers={
            **common,
            "content-type": "application/json",
            "content-digest": digest,
            "signature-input": signature_input,
            "signature": f"sig1=:{signature}:",
        },
        content_digest=digest,
        body_size=len(BODY),
        body=BODY,
    )
    response = LogRecord(
        kind="response",
        direction="consumer",
        xroad_id=xroad_id,
        request_id=f"req-{xroad_id}",
        client=common["x-road-client"],
        service=common["x-road-service"],
        at=now,
        headers={
            **common,
            "x-road-request-hash": _digest_header(b"request"),
            "content-type": "application/json",
            "content-digest": digest,
            "signature-input": signature_input,
            "signature": f"sig1=:{signature}:",
        },
        content_digest=digest,
        body_size=len(BODY),
        body=BODY,
        status=200,
    )
    return request, response


def make_records(count: int) -> list[LogRecord]:
    return [record for n in range(count // 2) for record in make_pair(n)]


class Pki:
    def __init__(self) -> None:
        ca_key = generate_private_key()
        now = datetime.now(UTC)
        self.ca = create_root_ca(ca_key, "Bench Root", now=now - timedelta(days=30))
        self.tsa_key = generate_private_key()
        self.tsa = issue_certificate(
            public_key=self.tsa_key.public_key(),
            subject_common_name="Bench TSA",
            subject_organization="Jisr",
            profile=CertificateProfile.TSA,
            ca_key=ca_key,
            ca_cert=self.ca,
            validity_days=365,
            now=now - timedelta(days=1),
        )
        self.gateway_key = generate_private_key()
        self.gateway = issue_certificate(
            public_key=self.gateway_key.public_key(),
            subject_common_name=LOG_ID,
            subject_organization="Jisr",
            profile=CertificateProfile.SIGN,
            ca_key=ca_key,
            ca_cert=self.ca,
            validity_days=365,
            now=now - timedelta(days=1),
        )
        self.authority = TimeStampAuthority(
            key=self.tsa_key, certificate=self.tsa, policy_oid=POLICY
        )

    def timestamper(self) -> HttpTimestamper:
        """The production client, answered in process by the real TSA code."""

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                200,
                content=self.authority.respond(request.content),
                headers={"content-type": "application/timestamp-reply"},
            )

        http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        return HttpTimestamper(
            "http://tsa.invalid/tsa",
            tsa_certificates=[self.tsa],
            ca_certificates=[self.ca],
            http=http,
        )


# --- adapters: the writer's per-batch work, old and new APIs -----------------------------


def build_batch(log: int, first: int, records: list[LogRecord]) -> tuple[list[Any], list[Any]]:
    """The writer's in-memory work for one batch (``MessageLog._commit`` without the tree):
    leaf hashes and the rows for the two INSERTs, as that version builds them."""
    leaves: list[Any] = []
    rows: list[Any] = []
    if hasattr(_store, "record_values"):  # rows as tuples in column order
        for index, record in enumerate(records, first):
            digest, leaf = prepare(record)
            leaves.append((log, index, leaf))
            rows.append(_store.record_values(log, index, record, digest))
        return leaves, rows
    for index, record in enumerate(records, first):  # rows as dicts for the Core
        digest, leaf = prepare(record)
        leaves.append({"log": log, "leaf_index": index, "leaf_hash": leaf})
        rows.append(_store.record_row(log, index, record, digest))
    return leaves, rows


# --- measurements ---------------------------------------------------------------------------


def _user_cpu() -> float:
    """User-mode CPU seconds of the process (every thread): without the kernel's fsync work."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def _best_cpu(call: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def bench_build(n: int, rounds: int) -> dict[str, float]:
    records = make_records(n)

    def build() -> None:
        for start in range(0, n, 32):
            build_batch(1, start, records[start : start + 32])

    def only_prepare() -> None:
        for record in records:
            prepare(record)

    def check() -> None:
        for record in records:
            check_record(record)

    build()
    return {
        "build_us": _best_cpu(build, rounds) / n * 1e6,
        "prepare_us": _best_cpu(only_prepare, rounds) / n * 1e6,
        "check_us": _best_cpu(check, rounds) / n * 1e6,
    }


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="jisr-bench-") as tmp:
        yield f"sqlite+aiosqlite:///{Path(tmp) / 'log.db'}"


def _new_log(database: Database, pki: Pki, timestamper: Any, **settings: Any) -> MessageLog:
    return MessageLog(
        database,
        LogSettings(log_id=LOG_ID, **settings),
        key=pki.gateway_key,
        certificate=pki.gateway,
        timestamper=timestamper,
    )


async def _bench_insert(url: str, pki: Pki, sizes: list[int], batches: int) -> dict[str, Any]:
    database = Database(url)
    message_log = _new_log(database, pki, pki.timestamper(), sth_interval=3600)
    await message_log.start()  # the writer engine (SQLite) and the log row
    number = message_log._log
    insert = message_log._insert  # one transaction, as the writer commits a batch
    # "Python only": the same calls with the driver's execute/executemany skipped (a
    # dialect event that reports the statement as executed), so neither the database
    # engine's work nor fsync counts: what is left is what holds the GIL.
    skip = False
    on_loop = database.backend != "sqlite"  # the async engine: the driver must await once

    def skipped(*_: Any) -> bool:
        if skip and on_loop:
            await_(asyncio.sleep(0))
        return skip

    engine = message_log.writer_engine
    event.listen(engine, "do_executemany", skipped)
    event.listen(engine, "do_execute", skipped)
    results: dict[str, Any] = {}
    try:
        index = 0
        for size in sizes:
            records = make_records(size)
            built = []
            for _ in range(2 * batches):
                built.append(build_batch(number, index, records))
                index += size
            for batch in built[:5]:  # warm-up: compiled statements, pages
                await insert(*batch)
            cpu, user, wall = time.process_time(), _user_cpu(), time.perf_counter()
            for batch in built[5:batches]:
                await insert(*batch)
            cpu, user = time.process_time() - cpu, _user_cpu() - user
            wall = time.perf_counter() - wall
            skip = True
            python = time.process_time()
            for batch in built[batches + 5 :]:
                await insert(*batch)
            python = time.process_time() - python
            skip = False
            count = batches - 5
            results[str(size)] = {
                "cpu_us_per_batch": cpu / count * 1e6,
                "user_us_per_batch": user / count * 1e6,
                "cpu_us_per_record": cpu / count / size * 1e6,
                "wall_ms_per_batch": wall / count * 1e3,
                "python_us_per_batch": python / count * 1e6,
            }
    finally:
        event.remove(engine, "do_executemany", skipped)
        event.remove(engine, "do_execute", skipped)
        await message_log.stop()  # its tree is still empty: no final tree head
        await database.close()
    return results


def bench_insert(url: str, pki: Pki, sizes: list[int], batches: int) -> dict[str, Any]:
    migrate(url)
    return asyncio.run(_bench_insert(url, pki, sizes, batches))


async def _bench_e2e(url: str, pki: Pki, concurrency: int, seconds: float) -> dict[str, float]:
    database = Database(url)
    timestamper = pki.timestamper()
    message_log = _new_log(database, pki, timestamper, sth_interval=1.0)
    await message_log.start()
    pairs = [make_pair(n) for n in range(4096)]
    done = 0
    measuring = False
    latencies: list[float] = []
    stop = asyncio.Event()

    async def appender(offset: int) -> None:
        nonlocal done
        n = offset
        while not stop.is_set():
            started = time.perf_counter()
            await message_log.append(*pairs[n % len(pairs)])
            if measuring:
                latencies.append(time.perf_counter() - started)
            done += 1
            n += concurrency

    tasks = [asyncio.create_task(appender(i)) for i in range(concurrency)]
    await asyncio.sleep(1.0)  # warm-up
    measuring = True
    first, cpu, user = done, time.process_time(), _user_cpu()
    loop_cpu, wall = time.thread_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    count = done - first
    cpu, user = time.process_time() - cpu, _user_cpu() - user
    loop_cpu = time.thread_time() - loop_cpu
    wall = time.perf_counter() - wall
    measuring = False
    stop.set()
    await asyncio.gather(*tasks)
    await message_log.stop()
    await timestamper.aclose()
    await database.close()
    return {
        "pairs_per_s": count / wall,
        "cpu_ms_per_pair": cpu / count * 1e3,
        "user_ms_per_pair": user / count * 1e3,
        "loop_cpu_ms_per_pair": loop_cpu / count * 1e3,
        "p50_ms": statistics.median(latencies) * 1e3,
    }


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop  # the gateway's loop (jisr.exchange.gateway.cli)
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop  # type: ignore[no-any-return]


def bench_e2e(make_url: Callable[[], Any], pki: Pki, concurrency: int, seconds: float) -> Any:
    with make_url() as url:
        migrate(url)
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(_bench_e2e(url, pki, concurrency, seconds))


def bench_verify(pki: Pki, n: int, rounds: int) -> dict[str, float]:
    digests = [hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(n)]
    tokens = [extract_token(pki.authority.respond(make_request(d, cert_req=True))) for d in digests]
    token, digest = tokens[0], digests[0]

    def as_log(token: bytes, digest: bytes) -> object:
        return verify_token(token, digest=digest, tsa_certificates=token_certificates(token))

    def as_timestamper(token: bytes, digest: bytes) -> object:
        return verify_token(
            token, digest=digest, tsa_certificates=[pki.tsa], ca_certificates=[pki.ca]
        )

    results: dict[str, float] = {}
    for name, call in (("log", as_log), ("timestamper", as_timestamper)):
        call(token, digest)
        same = _best_cpu(lambda call=call: [call(token, digest) for _ in range(n)], rounds)  # type: ignore[misc]
        distinct = _best_cpu(
            lambda call=call: [call(t, d) for t, d in zip(tokens, digests, strict=True)],  # type: ignore[misc]
            1,
        )
        results[f"{name}_same_us"] = same / n * 1e6
        results[f"{name}_distinct_us"] = distinct / n * 1e6
    return results


async def _bench_stamp(pki: Pki, n: int) -> dict[str, float]:
    with sqlite_url() as url:
        database = Database(url)  # _stamp does not touch it
        timestamper = pki.timestamper()
        message_log = _new_log(database, pki, timestamper)
        head = TreeHead(LOG_ID, 1, b"\x00" * 32, 1_764_412_345_000, "00" * 32)
        assert await message_log._stamp(head) is not None
        cpu = time.process_time()
        for _ in range(n):
            assert await message_log._stamp(head) is not None
        cpu = time.process_time() - cpu
        await timestamper.aclose()
        await database.close()
    query = make_request(head.digest(), nonce=1, cert_req=True)
    tsa = _best_cpu(lambda: [pki.authority.respond(query) for _ in range(n)], 3)
    return {"stamp_ms": cpu / n * 1e3, "tsa_sign_ms": tsa / n * 1e3}


# --- report ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=4000, help="records per build round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=205, help="insert batches per size")
    parser.add_argument("--seconds", type=float, default=5.0, help="end-to-end window")
    parser.add_argument("--concurrency", default="64,256")
    parser.add_argument("--tokens", type=int, default=100, help="tokens per verify round")
    parser.add_argument("--postgres", help="admin DSN: also run insert and end to end there")
    args = parser.parse_args()
    concurrency = [int(c) for c in args.concurrency.split(",")]
    pki = Pki()
    threading.current_thread().name = "bench"

    report: dict[str, Any] = {"build": bench_build(args.records, args.rounds)}
    with sqlite_url() as url:
        report["insert_sqlite"] = bench_insert(url, pki, [8, 32], args.batches)
    report["e2e_sqlite"] = {
        str(c): bench_e2e(sqlite_url, pki, c, args.seconds) for c in concurrency
    }
    if args.postgres:
        with scratch_postgres(args.postgres) as url:
            report["insert_postgresql"] = bench_insert(url, pki, [8, 32], args.batches)
        report["e2e_postgresql"] = {
            str(c): bench_e2e(lambda: scratch_postgres(args.postgres), pki, c, args.seconds)
            for c in concurrency
        }
    report["verify"] = bench_verify(pki, args.tokens, args.rounds)
    report["stamp"] = asyncio.run(_bench_stamp(pki, 20))

    build = report["build"]
    print("message log, CPU per record (best of rounds; gateway-shaped records, 1 KB bodies)")
    print(f"  build (prepare + rows)       {build['build_us']:8.1f} µs/record")
    print(f"    of which prepare()         {build['prepare_us']:8.1f} µs/record")
    print(f"  check_record                 {build['check_us']:8.1f} µs/record")
    for backend in ("sqlite", "postgresql"):
        if f"insert_{backend}" not in report:
            continue
        print(f"insert, one transaction per batch ({backend})")
        for size, row in report[f"insert_{backend}"].items():
            print(
                f"  {size:>3} records   {row['cpu_us_per_batch']:6.0f} µs CPU/batch"
                f" (user {row['user_us_per_batch']:5.0f})"
                f"  {row['cpu_us_per_record']:6.1f} µs CPU/record"
                f"  {row['wall_ms_per_batch']:6.2f} ms wall/batch"
                f"  Python only {row['python_us_per_batch']:5.0f} µs CPU/batch"
            )
        print(f"end to end ({backend}, request+response pairs, STH every second)")
        for c, row in report[f"e2e_{backend}"].items():
            print(
                f"  {c:>4} appenders  {row['pairs_per_s']:7.0f} pairs/s"
                f"  {row['cpu_ms_per_pair']:6.3f} ms CPU/pair (user {row['user_ms_per_pair']:5.3f})"
                f"  {row['loop_cpu_ms_per_pair']:6.3f} ms loop CPU/pair"
                f"  p50 {row['p50_ms']:6.1f} ms"
            )
    verify = report["verify"]
    print("verify_token, µs CPU per call (ECDSA P-256 TSA, certificate embedded)")
    for name in ("log", "timestamper"):
        print(
            f"  as the {name:<11}  same token {verify[f'{name}_same_us']:8.0f}"
            f"   distinct tokens {verify[f'{name}_distinct_us']:8.0f}"
        )
    stamp = report["stamp"]
    print(
        f"stamping one STH (MessageLog._stamp)  {stamp['stamp_ms']:6.2f} ms CPU"
        f"  (of which the in-process TSA signing {stamp['tsa_sign_ms']:.2f} ms)"
    )
    print(json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    main()
