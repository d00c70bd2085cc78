"""Population register lookups by national identification number on a large register.

Loads ``--persons`` generated Moroccan persons (``jisr.identity.register.samples``) with
``PopulationRegister.bulk_enrol`` (signed events, numbers, duplicate check: every row is
enrolled as ``enrol`` would, ``batch`` per transaction; policy ``flag``, since a sample of a
million has namesakes born the same day in the same commune), then looks up random numbers
of the loaded set three ways, side by side:

* **read**: ``PopulationRegister.read(nin, requester=..., purpose=...)``, what an external
  party gets: the record, returned once its audit row in ``register_reads`` is committed
  (fsync of the WAL on both backends; SQLite: reads arriving together share one commit;
  PostgreSQL: lookup and audit row in one autocommit statement);
* **get**: ``PopulationRegister.get(nin)``, the register's own read-only lookup, no audit
  (not for external parties);
* **raw**: the baseline, a plain ``SELECT * FROM register_persons WHERE nin = $1`` by
  primary key through the same driver (aiosqlite, asyncpg) on a held connection, no ORM.

Each is timed single-client sequential (p50, p99, max over ``--lookups`` calls after a
warm-up; the methods take turns on each number, so load from elsewhere hits them alike) and
with ``--concurrency`` clients (lookups/s, one method after the other). Two more rows
isolate what the read is made of: **audit**, the audit trail's commit alone
(``register.audit.record``: what a SQLite read waits for after its lookup), and **read1tx**, the read as it was before the audit trail,
reproduced here: audit INSERT and lookup in one transaction per read, on PostgreSQL through
a pool that pings every checkout (the engine's former default). The MA profile numbers at most
999,999 persons per issuing office, so the load spreads over offices ``BK``, ``CA``, …
(one register each, same database). SQLite is a file in a temporary directory with the
production pragmas (WAL, synchronous=FULL); PostgreSQL a scratch database
``jisr_bench_<pid>``, dropped at the end. Loading a million takes about half an hour on
2 cores: ``--sqlite-file`` and ``--postgres-database`` keep the loaded database for the
next run, which reuses it when it holds exactly ``--persons`` persons.

Printed: a table and one JSON line.

    .venv/bin/python benchmarks/register_lookup.py [--persons 200000]
        [--backend sqlite|postgresql|both] [--lookups 20000] [--concurrency 16]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
        [--sqlite-file /tmp/register-1m.db] [--postgres-database jisr_register_1m]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).parent))  # the benchmarks' shared helpers
from scratchdb import scratch_postgres

from jisr.crypto.keys import generate_private_key
from jisr.identity.register import MoroccoNin, PopulationRegister, migrate
from jisr.identity.register._store import fetch_person
from jisr.identity.register.models import ReadRow
from jisr.identity.register.samples import SamplePerson, generate
from jisr.storage import Database

OFFICES = ("BK", "CA", "RA", "FE", "MK", "TG")
PER_OFFICE = 999_999
RECORDED = {"recorded_by": "bench-loader", "legal_basis": "Loi 36-21, art. 15"}
REQUESTER = "MA/GOV/CNSS/BENEFITS"
PURPOSE = "benchmark lookup"
RAW_SQL = {
    "sqlite": "SELECT * FROM register_persons WHERE nin = ?",
    "postgresql": "SELECT * FROM register_persons WHERE nin = $1",
}


def birth_of(sample: SamplePerson) -> dict[str, Any]:
    """A sample person as the birth registration a registrar submits."""
    return {
        "given_name": {"arab": sample.given_name_arab, "latn": sample.given_name_latn},
        "family_name": {"arab": sample.family_name_arab, "latn": sample.family_name_latn},
        "date_of_birth": sample.date_of_birth,
        "place_of_birth": sample.place_of_birth_latn,
        "sex": sample.sex,
        "nationality": sample.nationality,
    }


# --- databases ------------------------------------------------------------------------------


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="jisr-bench-") as tmp:
        yield f"sqlite+aiosqlite:///{Path(tmp) / 'register.db'}"


class RawClient:
    """One held driver connection answering the baseline query."""

    def __init__(self, backend: str, connection: Any) -> None:
        self.backend = backend
        self.connection = connection
        self.sql = RAW_SQL[backend]

    @classmethod
    async def open(cls, url: str, backend: str) -> RawClient:
        if backend == "sqlite":
            import aiosqlite

            path = url.split(":///", 1)[1]
            return cls(backend, await aiosqlite.connect(path))
        import asyncpg

        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        return cls(backend, await asyncpg.connect(dsn))

    async def lookup(self, nin: str) -> Any:
        if self.backend == "sqlite":
            async with self.connection.execute(self.sql, (nin,)) as cursor:
                row = await cursor.fetchone()
        else:
            row = await self.connection.fetchrow(self.sql, nin)
        assert row is not None, nin
        return row

    async def close(self) -> None:
        await self.connection.close()


# --- load -----------------------------------------------------------------------------------


async def load(database: Database, persons: int, batch: int, seed: int) -> dict[str, Any]:
    """Bulk-enrol ``persons`` samples; return the numbers and the load rate."""
    key = generate_private_key()
    samples = (birth_of(sample) for sample in generate("MA", persons, seed=seed))
    nins: list[str] = []
    columns = (
        TextColumn(f"loading {database.backend}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>7.0f} persons/s"),
        TimeElapsedColumn(),
    )
    started = time.perf_counter()
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task("load", total=persons, rate=0.0)
        for office in OFFICES:
            if len(nins) >= persons:
                break
            register = PopulationRegister(
                database, profile=MoroccoNin(office), key=key, duplicates="flag"
            )
            done = len(nins)

            def advance(count: int, done: int = done) -> None:
                rate = (done + count) / (time.perf_counter() - started)
                progress.update(task, completed=done + count, rate=rate)

            nins += await register.bulk_enrol(
                islice(samples, PER_OFFICE), **RECORDED, batch=batch, progress=advance
            )
    seconds = time.perf_counter() - started
    return {"nins": nins, "seconds": seconds, "persons_per_s": len(nins) / seconds}


# --- lookups --------------------------------------------------------------------------------

Lookup = Callable[[str], Awaitable[Any]]


async def sequential(
    lookups: dict[str, Lookup], nins: list[str], warmup: int
) -> dict[str, dict[str, float]]:
    """One client; the methods take turns on each number (in a rotating order), so a
    burst of load from elsewhere on the machine hits them all alike."""
    names = list(lookups)
    for nin in nins[:warmup]:
        for name in names:
            await lookups[name](nin)
    timings: dict[str, list[int]] = {name: [] for name in names}
    for index, nin in enumerate(nins):
        turn = index % len(names)
        for name in names[turn:] + names[:turn]:
            started = time.perf_counter_ns()
            await lookups[name](nin)
            timings[name].append(time.perf_counter_ns() - started)
    return {name: _latency(timings[name]) for name in names}


def _latency(timings: list[int]) -> dict[str, float]:
    timings.sort()
    quantiles = statistics.quantiles(timings, n=100, method="inclusive")
    return {
        "p50_ms": quantiles[49] / 1e6,
        "p99_ms": quantiles[98] / 1e6,
        "max_ms": timings[-1] / 1e6,
        "mean_ms": statistics.fmean(timings) / 1e6,
    }


async def concurrent(lookups: list[Lookup], nins: list[str]) -> dict[str, float]:
    """``len(lookups)`` clients draining ``nins`` together: lookups per second, p99."""
    queue = iter(nins)
    timings: list[int] = []

    async def client(lookup: Lookup) -> None:
        for nin in queue:
            started = time.perf_counter_ns()
            await lookup(nin)
            timings.append(time.perf_counter_ns() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(lookup) for lookup in lookups))
    wall = time.perf_counter() - started
    timings.sort()
    return {
        "per_s": len(nins) / wall,
        "p99_ms": statistics.quantiles(timings, n=100, method="inclusive")[98] / 1e6,
    }


async def measure(
    database: Database, url: str, nins: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    rng = random.Random(args.seed)
    sample = [rng.choice(nins) for _ in range(args.lookups)]
    register = PopulationRegister(
        database, profile=MoroccoNin(OFFICES[0]), key=generate_private_key(), duplicates="flag"
    )

    async def read(nin: str) -> Any:
        return await register.read(nin, requester=REQUESTER, purpose=PURPOSE)

    async def audit(nin: str) -> None:
        await register.audit.record(nin, REQUESTER, PURPOSE, register.clock())

    # The read as it was before the audit trail: audit INSERT and lookup in one transaction
    # per read, on a pool that pings every checkout on PostgreSQL (the old engine default).
    one_tx = database if database.backend == "sqlite" else Database(url, pool_pre_ping=True)

    async def read_1tx(nin: str) -> Any:
        row = {"nin": nin, "requester": REQUESTER, "purpose": PURPOSE, "at": register.clock()}
        async with one_tx.engine.begin() as connection:
            await connection.execute(insert(ReadRow), row)
            person = await fetch_person(connection, nin)
        assert person is not None, nin
        return person

    raws = [await RawClient.open(url, database.backend) for _ in range(args.concurrency)]
    methods: dict[str, list[Lookup]] = {
        "read": [read] * args.concurrency,
        "read1tx": [read_1tx] * args.concurrency,
        "audit": [audit] * args.concurrency,
        "get": [register.get] * args.concurrency,
        "raw": [raw.lookup for raw in raws],
    }
    results: dict[str, Any] = {}
    try:
        rows = await sequential({n: c[0] for n, c in methods.items()}, sample, args.warmup)
        for name, clients in methods.items():
            row = rows[name]
            shuffled = sample[:]
            rng.shuffle(shuffled)
            many = await concurrent(clients, shuffled)
            row[f"c{args.concurrency}_per_s"] = many["per_s"]
            row[f"c{args.concurrency}_p99_ms"] = many["p99_ms"]
            results[name] = row
    finally:
        for raw in raws:
            await raw.close()
        if one_tx is not database:
            await one_tx.close()
    return results


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop  # type: ignore[no-any-return]


async def loaded_nins(database: Database, persons: int) -> list[str] | None:
    """The numbers already in a reused database, if it holds exactly ``persons``."""
    async with database.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT nin FROM register_persons"))).all()
    return [row.nin for row in rows] if len(rows) == persons else None


async def load_or_reuse(database: Database, args: argparse.Namespace) -> dict[str, Any]:
    kept = args.sqlite_file if database.backend == "sqlite" else args.postgres_database
    if kept is not None:
        nins = await loaded_nins(database, args.persons)
        if nins is not None:
            return {"nins": nins, "seconds": 0.0, "persons_per_s": 0.0, "reused": True}
    return await load(database, args.persons, args.batch, args.seed)


def bench(url: str, args: argparse.Namespace) -> dict[str, Any]:
    migrate(url)

    async def run() -> dict[str, Any]:
        database = Database(url)
        try:
            loaded = await load_or_reuse(database, args)
            lookups = await measure(database, url, loaded["nins"], args)
        finally:
            await database.close()
        return {
            "persons": len(loaded["nins"]),
            "load_seconds": loaded["seconds"],
            "load_persons_per_s": loaded["persons_per_s"],
            "reused": loaded.get("reused", False),
            "lookups": lookups,
        }

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(run())


# --- report ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1_000, help="persons per transaction")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--sqlite-file",
        type=Path,
        default=None,
        help="keep the SQLite database here; reused when it holds --persons persons",
    )
    parser.add_argument(
        "--postgres-database",
        default=None,
        help="keep the PostgreSQL database of this name; reused when it holds --persons",
    )
    args = parser.parse_args()
    if args.persons > PER_OFFICE * len(OFFICES):
        parser.error(f"--persons is at most {PER_OFFICE * len(OFFICES)}")

    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    report: dict[str, Any] = {"persons": args.persons, "lookups": args.lookups}
    for backend in backends:
        if backend == "sqlite" and args.sqlite_file is not None:
            report[backend] = bench(f"sqlite+aiosqlite:///{args.sqlite_file}", args)
        elif backend == "sqlite":
            with sqlite_url() as url:
                report[backend] = bench(url, args)
        else:
            with scratch_postgres(args.postgres, keep=args.postgres_database) as url:
                report[backend] = bench(url, args)

    c = args.concurrency
    print(
        f"register lookups by NIN, {args.persons:,} persons, {args.lookups:,} random lookups"
        f" (sequential: one client; c{c}: {c} clients)"
    )
    header = (
        f"  {'backend':<10} {'lookup':<7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
        f" {'p99/raw':>7} {f'c{c} /s':>9} {f'c{c} p99':>8}"
    )
    print(header)
    for backend in backends:
        lookups = report[backend]["lookups"]
        raw_p99 = lookups["raw"]["p99_ms"]
        for name, row in lookups.items():
            print(
                f"  {backend:<10} {name:<7} {row['p50_ms']:7.3f} {row['p99_ms']:7.3f}"
                f" {row['max_ms']:7.2f} {row['p99_ms'] / raw_p99:6.1f}x"
                f" {row[f'c{c}_per_s']:9.0f} {row[f'c{c}_p99_ms']:8.2f}"
            )
    for backend in backends:
        result = report[backend]
        print(
            f"  load {backend}: {result['persons']:,} persons in {result['load_seconds']:.0f} s"
            f" = {result['load_persons_per_s']:.0f} persons/s (bulk_enrol, batch {args.batch})"
        )
    print(json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    main()
