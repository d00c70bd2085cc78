"""Service finder benchmark: accuracy per language on the hand-written query set, latency.

    .venv/bin/python benchmarks/service_finder.py [--tune]

Queries are ``benchmarks/data/service_queries.tsv`` (language, query, expected service).
Each query belongs to the dev or the held-out part by a hash of its text (first byte of
SHA-256 even → dev): fusion weights are tuned on dev only (``--tune`` searches them and
prints the best). ``benchmarks/data/service_queries_blind.tsv`` is a second held-out set,
12 queries per language written and committed before the finder was ever run on them.
The figures to quote are held-out and blind together (``test``: 27-34 queries per
language). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import os
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jisr.language.finder import FinderSettings, ServiceFinder
from jisr.language.finder.normalise import dominant_script, looks_arabizi
from jisr.language.finder.ranking import Signals, fuse

QUERIES = Path(__file__).parent / "data" / "service_queries.tsv"
BLIND = Path(__file__).parent / "data" / "service_queries_blind.tsv"
LANGUAGES = ("ar", "ary_Arab", "ary_Latn", "zgh_Tfng", "ber_Latn", "fr", "en")


@dataclass(frozen=True)
class Query:
    language: str
    text: str
    expected: str
    blind: bool = False

    @property
    def split(self) -> str:
        if self.blind:
            return "blind"
        return "dev" if hashlib.sha256(self.text.encode()).digest()[0] % 2 == 0 else "heldout"


def read_queries(path: Path = QUERIES, blind: bool = False) -> list[Query]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Query(row["language"], row["query"], row["expected"], blind) for row in rows]


def percentiles(values: list[float]) -> tuple[float, float]:
    """p50 and p99 (nearest rank) of ``values``; zeros when there are none."""
    if not values:
        return 0.0, 0.0
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def rank_of(ids: tuple[str, ...], scores: np.ndarray, expected: str) -> int:
    order = np.argsort(-scores, kind="stable")
    return [ids[i] for i in order].index(expected) + 1


def accuracy(ranks: list[int]) -> tuple[float, float]:
    n = len(ranks) or 1
    return sum(r == 1 for r in ranks) / n, sum(r <= 3 for r in ranks) / n


def tune(finder: ServiceFinder, queries: list[Query]) -> FinderSettings:
    """Grid-search the fusion settings on the dev queries only.

    The dev part is small, so the objective has plateaus; ties go to the untuned prior
    (weights 0.5, floor 0.2, phrase share 0.5) rather than to a plateau's edge.
    """
    signals = [(q, finder.signals(q.text)) for q in queries if q.split == "dev"]
    grid = [round(x * 0.1, 1) for x in range(11)]
    best: tuple[tuple[float, float], FinderSettings] | None = None
    for floor, share in itertools.product((0.0, 0.1, 0.2, 0.3, 0.4), (0.3, 0.5, 0.7, 1.0)):
        weights: dict[str, float] = {}
        for script in ("arabic", "latin", "tifinagh"):
            scored = [(q, s) for q, s in signals if s.script == script]
            weights[script] = max(
                grid,
                key=lambda w: (
                    _objective(
                        finder,
                        scored,
                        FinderSettings(
                            semantic_floor=floor, phrase_share=share, semantic_weight={script: w}
                        ),
                    ),
                    -abs(w - 0.5),
                ),
            )
        settings = FinderSettings(semantic_floor=floor, phrase_share=share, semantic_weight=weights)
        value = (_objective(finder, signals, settings), -abs(floor - 0.2) - abs(share - 0.5))
        print(f"floor={floor} phrase_share={share} weights={weights} dev objective={value[0]:.4f}")
        if best is None or value > best[0]:
            best = (value, settings)
    assert best is not None
    return best[1]


def _objective(
    finder: ServiceFinder, signals: list[tuple[Query, Signals]], settings: FinderSettings
) -> float:
    """top-3 accuracy + 0.5 top-1 accuracy + 0.25 mean reciprocal rank."""
    ids = finder.catalogue.ids
    ranks = [rank_of(ids, fuse(s, settings), q.expected) for q, s in signals]
    top1, top3 = accuracy(ranks)
    mrr = statistics.fmean(1 / r for r in ranks) if ranks else 0.0
    return top3 + 0.5 * top1 + 0.25 * mrr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true", help="search fusion weights on dev")
    args = parser.parse_args()
    queries = read_queries() + read_queries(BLIND, blind=True)
    # Tuning needs the semantic signal of every query, also where the default weight is 0.
    untuned = FinderSettings(semantic_weight=dict.fromkeys(("arabic", "latin", "tifinagh"), 0.5))
    started = time.perf_counter()
    finder = ServiceFinder(settings=untuned if args.tune else None)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    finder.find("warm-up")
    first_ms = (time.perf_counter() - started) * 1000
    if args.tune:
        print("best:", tune(finder, queries))
        return
    ranks, misses, cold = run(finder, queries)
    _, _, warm = run(finder, queries)
    report(ranks, misses, cold, warm, load_s, first_ms)


@dataclass
class Timings:
    wall: list[float] = field(default_factory=list)  # ms, every query
    cpu: list[float] = field(default_factory=list)  # ms of this thread's CPU: no other load
    arabizi: list[float] = field(default_factory=list)  # ms, queries the Arabizi model reads


def run(finder: ServiceFinder, queries: list[Query]):
    """Rank every query once, one at a time; ranks per (language, split), misses, timings."""
    ranks: dict[tuple[str, str], list[int]] = defaultdict(list)
    timings = Timings()
    misses = []
    for query in queries:
        started, cpu_started = time.perf_counter(), time.thread_time()
        scores = finder.scores(query.text)
        timings.wall.append((time.perf_counter() - started) * 1000)
        timings.cpu.append((time.thread_time() - cpu_started) * 1000)
        if dominant_script(query.text) == "latin" and looks_arabizi(query.text):
            timings.arabizi.append(timings.wall[-1])
        rank = rank_of(finder.catalogue.ids, scores, query.expected)
        ranks[(query.language, query.split)].append(rank)
        if rank > 3:
            misses.append((query.language, query.split, rank, query.text, query.expected))
    return ranks, misses, timings


def report(ranks, misses, cold: Timings, warm: Timings, load_s: float, first_ms: float) -> None:
    result: dict[str, object] = {"benchmark": "service_finder"}
    print(f"{'language':10} {'split':8} {'n':>3} {'top1':>6} {'top3':>6}")
    for language in LANGUAGES:  # test: the held-out and the blind queries together
        ranks[(language, "test")] = ranks[(language, "heldout")] + ranks[(language, "blind")]
    for language, split in itertools.product(LANGUAGES, ("dev", "heldout", "blind", "test")):
        top1, top3 = accuracy(ranks[(language, split)])
        n = len(ranks[(language, split)])
        print(f"{language:10} {split:8} {n:3} {top1:6.3f} {top3:6.3f}")
        result[f"{language}.{split}"] = {"n": n, "top1": round(top1, 3), "top3": round(top3, 3)}
    for miss in misses:
        print("miss (rank > 3):", *miss)
    load = os.getloadavg()[0]
    print(
        f"load {load_s:.2f} s, first query {first_ms:.1f} ms; load average {load:.1f} on {os.cpu_count()} CPUs; {len(cold.wall)} queries, one at a time"
    )
    print(f"{'latency ms':26} {'p50':>7} {'p99':>7}")
    result.update(
        load_s=round(load_s, 3), first_query_ms=round(first_ms, 2), loadavg=round(load, 1)
    )
    for name, timings in (("first pass", cold), ("second pass (warm caches)", warm)):
        for kind, values in (
            ("wall", timings.wall),
            ("cpu", timings.cpu),
            ("arabizi wall", timings.arabizi),
        ):
            p50, p99 = percentiles(values)
            print(f"{name[:6] + ' ' + kind:26} {p50:7.2f} {p99:7.2f}")
            key = f"{'cold' if timings is cold else 'warm'}_{kind.replace(' ', '_')}"
            result[key] = {"p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
