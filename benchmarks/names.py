"""Cross-script person-name matching: pair classification, and top-10 search in 1M names.

Two measurements, both on ``benchmarks/data/names_devset.tsv`` (never tuned on; see
docs/language-names.md for how it was assembled):

* **pairs**: precision, recall and F1 of ``jisr.language.names.match`` at the shipped
  threshold over every row (true pairs and negatives), overall and per source;
* **search**: ``--size`` generated Moroccan and Qatari persons
  (``jisr.identity.register.samples``; half each, every other one in Arabic script, the
  others in Latin; Qatari names carry a father's name as Qatari IDs do) are the
  distractors. The targets of the devset's true pairs are added, plus ``--generated``
  persons searched by their rendering in the other script. recall@10: the target is among
  the ten best names (the query's own string, if indexed, is not counted as a hit).
  Latency p50/p99 per query on a freshly loaded index, first pass (its token cache
  starts empty), as wall-clock and as CPU time of the process (on a shared machine the
  wall clock also counts the time other processes held the CPU; the load average is
  printed), plus build time, file size and memory.

``--dev-split`` measures the same on the UNICEF *dev* split's true pairs instead (1,104
pairs, no negatives), which is what the matcher is developed on; the devset stays for
reporting.

``--write-devset`` rebuilds the devset's UNICEF rows from the held-out *test* split of the
UNICEF name pairs (``jisr.language.corpus.split_of`` on the Arabic name) and keeps its
hand-written rows (source ``hand``); it needs the shared language data.

Printed: a table and one JSON line.

    .venv/bin/python benchmarks/names.py [--size 1000000] [--generated 1000] [--seed 0]
        [--devset benchmarks/data/names_devset.tsv] [--dev-split] [--write-devset]
        [--data DIR]
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import os
import random
import resource
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jisr.identity.register.samples import SamplePerson, generate
from jisr.language.corpus import data_root, split_of
from jisr.language.names import THRESHOLD, NameIndex, score
from jisr.language.names.keys import name_tokens

DEVSET = Path(__file__).parent / "data" / "names_devset.tsv"
FIELDS = ("a", "b", "label", "kind", "region", "direction", "source")
UNICEF = {
    "MA": "unicef_name_romanizer.full_names.MA.tsv",
    "GULF": "unicef_name_romanizer.full_names.GULF.tsv",
}
TRUE_PAIRS = {"MA": 110, "GULF": 90}
QUOTA = {"hard_negative": 50, "confusable": 30, "random_negative": 20}


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    label: int
    kind: str
    region: str
    direction: str
    source: str


def read_devset(path: Path) -> list[Pair]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Pair(**{**row, "label": int(row["label"])}) for row in rows]  # type: ignore[arg-type]


def write_devset(path: Path, pairs: list[Pair]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n")
        writer.writerow(FIELDS)
        for pair in pairs:
            writer.writerow([getattr(pair, field) for field in FIELDS])


# --- devset assembly -------------------------------------------------------------------


def unicef_pairs(root: Path, split: str = "test") -> dict[str, list[tuple[str, str]]]:
    """The (Arabic, Latin) pairs of ``split`` (the held-out test split unless told) per
    region whose two sides have as many tokens (Wikidata labels often add or drop a
    father's name: another question)."""
    pairs: dict[str, list[tuple[str, str]]] = {}
    for region, name in UNICEF.items():
        with (root / "names" / name).open(encoding="utf-8", newline="") as handle:
            rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            pairs[region] = sorted(
                {
                    (row["arabic"], row["latin"])
                    for row in rows
                    if split_of(row["arabic"]) == split
                    and len(name_tokens(row["arabic"])) == len(name_tokens(row["latin"]))
                }
            )
    return pairs


def unicef_rows(root: Path, rng: random.Random) -> list[Pair]:
    """True pairs (alternating direction), hard negatives (same Arabic given name, another
    person), confusables (given name swapped for the most alike other given name of the
    split, by difflib) and random ones."""
    by_region = unicef_pairs(root)
    rows: list[Pair] = []
    for region, pairs in by_region.items():
        for n, (arab, latn) in enumerate(rng.sample(pairs, TRUE_PAIRS[region])):
            rows.append(oriented(arab, latn, 1, "true", region, n % 2 == 1))
    everyone = [(region, a, latn) for region, pairs in by_region.items() for a, latn in pairs]
    rows += negatives(everyone, rng)
    return rows


def oriented(arab: str, latn: str, label: int, kind: str, region: str, flip: bool) -> Pair:
    source = f"unicef-test:{region}"
    if flip:
        return Pair(latn, arab, label, kind, region, "latn→arab", source)
    return Pair(arab, latn, label, kind, region, "arab→latn", source)


def negatives(everyone: list[tuple[str, str, str]], rng: random.Random) -> list[Pair]:
    by_given: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for person in everyone:
        by_given[person[1].split()[0]].append(person)
    givens = sorted(by_given)
    rows: list[Pair] = []
    shuffled = rng.sample(everyone, len(everyone))
    for region, arab, _ in shuffled:
        others = [p for p in by_given[arab.split()[0]] if p[1] != arab]
        if others and Counter(r.kind for r in rows)["hard_negative"] < QUOTA["hard_negative"]:
            rows.append(
                oriented(
                    arab, rng.choice(others)[2], 0, "hard_negative", region, len(rows) % 2 == 1
                )
            )
    for region, arab, latn in shuffled[: QUOTA["confusable"]]:
        given = arab.split()[0]
        swapped = max((g for g in givens if core(g) != core(given)), key=lambda g: near(g, given))
        rows.append(
            oriented(
                " ".join([swapped, *arab.split()[1:]]),
                latn,
                0,
                "confusable",
                region,
                len(rows) % 2 == 0,
            )
        )
    for (region, arab, _), (_, other, latn) in zip(
        shuffled[-QUOTA["random_negative"] :], shuffled, strict=False
    ):
        if arab != other:
            rows.append(oriented(arab, latn, 0, "random_negative", region, len(rows) % 2 == 0))
    return rows


def near(a: str, b: str) -> float:
    """How alike two Arabic strings are, by difflib: independent of the scorer under test."""
    return difflib.SequenceMatcher(None, a, b).ratio()


def core(arab: str) -> str:
    """An Arabic given name without article and final vowel letter: variants share it."""
    return arab.removeprefix("ال").rstrip("اهىي")


# --- measurements ----------------------------------------------------------------------


def classify(pairs: list[Pair]) -> dict[str, Any]:
    """Precision, recall, F1 at the threshold, overall and per source."""
    scored = [(pair, score(pair.a, pair.b)) for pair in pairs]
    result = {"all": prf(scored)}
    for source in sorted({pair.source for pair in pairs}):
        result[source] = prf([(p, s) for p, s in scored if p.source == source])
    return result


def prf(scored: list[tuple[Pair, float]]) -> dict[str, float]:
    tp = sum(1 for p, s in scored if p.label == 1 and s >= THRESHOLD)
    fp = sum(1 for p, s in scored if p.label == 0 and s >= THRESHOLD)
    fn = sum(1 for p, s in scored if p.label == 1 and s < THRESHOLD)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "pairs": len(scored),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "fp": fp,
        "fn": fn,
    }


def rendered(person: SamplePerson, father: SamplePerson | None, arabic: bool) -> str:
    if arabic:
        parts = [
            person.given_name_arab,
            father.given_name_arab if father else "",
            person.family_name_arab,
        ]
    else:
        parts = [
            person.given_name_latn,
            father.given_name_latn if father else "",
            person.family_name_latn,
        ]
    return " ".join(part for part in parts if part)


def population(size: int, seed: int) -> Iterator[tuple[str, str]]:
    """(indexed, other-script) renderings of ``size`` generated persons."""
    qatari_fathers = (p for p in generate("QA", 2 * size, seed=seed + 1) if p.sex == "M")
    persons = chain(
        ((p, None) for p in generate("MA", size // 2, seed=seed)),
        ((p, next(qatari_fathers)) for p in generate("QA", size - size // 2, seed=seed)),
    )
    for n, (person, father) in enumerate(persons):
        arabic = n % 2 == 0
        yield rendered(person, father, arabic), rendered(person, father, not arabic)


def build(
    size: int, seed: int, targets: list[str], generated: int
) -> tuple[NameIndex, list[tuple[str, str]], float]:
    """The index of distractors plus targets, the generated (query, target) pairs, seconds."""
    rng = random.Random(seed)
    picks = sorted(rng.sample(range(size), min(generated, size)))
    renderings = list(population(size, seed))  # generated first: not part of the build time
    queries = [(renderings[n][1], renderings[n][0]) for n in picks]
    names = [indexed for indexed, _ in renderings] + targets
    del renderings
    columns = (TextColumn("index"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("build", total=len(names))
        start = time.perf_counter()
        index = NameIndex.build(names, progress=lambda n: progress.advance(task, n))
        seconds = time.perf_counter() - start
    return index, queries, seconds


def search_all(
    index: NameIndex, queries: list[tuple[str, str]]
) -> tuple[list[bool], list[float], list[float]]:
    """Whether each target is in the top 10 (the query's own string excluded), and the
    wall-clock and CPU milliseconds of each search."""
    found, latencies, cpu = [], [], []
    for query, target in queries:
        start, start_cpu = time.perf_counter(), time.process_time()
        hits = index.search(query, k=11)
        latencies.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        names = [hit.name for hit in hits if hit.name != " ".join(query.split())][:10]
        found.append(" ".join(target.split()) in names)
    return found, latencies, cpu


def percentile(values: list[float], q: int) -> float:
    return (
        round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 2)
        if len(values) > 1
        else round(values[0], 2)
    )


def dev_split_pairs(root: Path) -> list[Pair]:
    """Every true pair of the UNICEF *dev* split (as many tokens on both sides; every other
    one Latin→Arabic): what the matcher is developed on, the devset being for reporting."""
    rows = []
    for region, pairs in unicef_pairs(root, "dev").items():
        for n, (arab, latn) in enumerate(pairs):
            pair = oriented(arab, latn, 1, "true", region, n % 2 == 1)
            rows.append(replace(pair, source=f"unicef-dev:{region}"))
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    pairs = dev_split_pairs(data_root(args.data)) if args.dev_split else read_devset(args.devset)
    classification = classify(pairs)
    truths = [(p.a, p.b) for p in pairs if p.label == 1]
    index, generated, build_seconds = build(
        args.size, args.seed, [b for _, b in truths], args.generated
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "names.npz"
        index.save(path)
        file_bytes = path.stat().st_size
        start = time.perf_counter()
        index = NameIndex.load(path)
        load_seconds = time.perf_counter() - start
    devset_found, devset_ms, devset_cpu = search_all(index, truths)
    generated_found, generated_ms, generated_cpu = search_all(index, generated)
    latencies, cpu = devset_ms + generated_ms, devset_cpu + generated_cpu
    return {
        "benchmark": "names",
        "queries_from": "unicef-dev" if args.dev_split else str(args.devset.name),
        "size": args.size,
        "distinct_names": len(index),
        "vocabulary": index.vocabulary_size,
        "threshold": THRESHOLD,
        "pairs": classification,
        "recall_at_10": {
            "devset": round(sum(devset_found) / len(devset_found), 4),
            "generated": round(sum(generated_found) / len(generated_found), 4)
            if generated_found
            else None,
            "all": round(sum(devset_found + generated_found) / len(latencies), 4),
            "queries": len(latencies),
        },
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "max": round(max(latencies), 2),
        },
        "cpu_ms": {"p50": percentile(cpu, 50), "p99": percentile(cpu, 99)},
        "load_average": round(os.getloadavg()[0], 1),
        "build_seconds": round(build_seconds, 1),
        "load_seconds": round(load_seconds, 2),
        "index_file_mb": round(file_bytes / 1e6, 1),
        "index_memory_mb": round(index.nbytes / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
        "misses": [q for (q, _), ok in zip(truths, devset_found, strict=True) if not ok][:10],
    }


def table(result: dict[str, Any]) -> str:
    lines = [f"{'measure':<38} value", "-" * 60]
    for source, values in result["pairs"].items():
        lines.append(
            f"{'pairs ' + source + ' P / R / F1':<38} {values['precision']:.3f} / {values['recall']:.3f} / {values['f1']:.3f}  ({values['pairs']} pairs, fp {values['fp']}, fn {values['fn']})"
        )
    recall = result["recall_at_10"]
    lines += [
        f"{'threshold':<38} {result['threshold']}",
        f"{'names generated (distinct indexed) / vocab':<38} {result['size']:,} ({result['distinct_names']:,}) / {result['vocabulary']:,}",
        f"{'recall@10 ' + result['queries_from'][:12] + ' / gen / all':<38} {recall['devset']} / {recall['generated']} / {recall['all']}  ({recall['queries']} queries)",
        f"{'latency ms p50 / p99 / max':<38} {result['latency_ms']['p50']} / {result['latency_ms']['p99']} / {result['latency_ms']['max']}",
        f"{'CPU ms p50 / p99 (load average)':<38} {result['cpu_ms']['p50']} / {result['cpu_ms']['p99']}  ({result['load_average']} on {os.cpu_count()} CPUs)",
        f"{'build s / load s':<38} {result['build_seconds']} / {result['load_seconds']}",
        f"{'index file MB / arrays MB / peak RSS MB':<38} {result['index_file_mb']} / {result['index_memory_mb']} / {result['peak_rss_mb']}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="generated distractor names")
    parser.add_argument(
        "--generated",
        type=int,
        default=1000,
        help="generated persons searched by their other-script name",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument(
        "--write-devset", action="store_true", help="rebuild the devset's UNICEF rows, then exit"
    )
    parser.add_argument(
        "--dev-split",
        action="store_true",
        help="search the UNICEF dev split's true pairs instead of the devset's (development)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="the shared language data (with --write-devset or --dev-split)",
    )
    args = parser.parse_args()
    if args.write_devset:
        hand = (
            [p for p in read_devset(args.devset) if p.source == "hand"]
            if args.devset.exists()
            else []
        )
        rows = unicef_rows(data_root(args.data), random.Random(args.seed)) + hand
        write_devset(args.devset, rows)
        print(f"{args.devset}: {len(rows)} pairs", dict(Counter(p.kind for p in rows)))
        return
    result = run(args)
    print(table(result))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
