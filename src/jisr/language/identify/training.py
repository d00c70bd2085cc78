"""Training the identifier from the language data (``jisr lang train identify``).

    read → vocabulary → features → fit → calibrate → write

* Data: every class folder of the shared corpus (``gulf_Arab`` is the label ``afb_Arab``)
  and, as the label ``und``, the Tachelhit-in-Arabic-script file of ``extra_confusables``:
  a near neighbour the model must learn not to call ``arb_Arab`` or ``ary_Arab``. The
  Tamasheq-in-Tifinagh file is left out: as ``und`` it cost ``zgh_Tfng`` 9 % of its dev
  recall, and Tifinagh text sent to a Moroccan administration is Standard Amazigh. The
  fixed split of :mod:`jisr.language.corpus` is used: fit on train, calibrate and tune on
  dev; test is never read here.
* Large labels are sub-sampled to ``max_per_label`` train sentences (seeded), and the
  loss weights every label equally (``class_weight="balanced"``), so Gulf Arabic's few
  hundred lines count as much as English's tens of thousands.
* Vocabulary: the features of :mod:`.features` seen in at least ``min_count`` train
  sentences, the ``max_features`` most frequent, in code-point order.
* Fit: multinomial logistic regression by SAGA, a fixed number of epochs (scikit-learn,
  seeded; on dev it beat one-vs-rest SGD on Gulf Arabic, and L-BFGS took ten times as
  long for the same figures), weights quantised to int8;
  features that quantise to zero for every label are dropped.
* Calibrate on dev with the quantised model: temperature scaling, the ``und`` threshold
  (the highest within 0.002 of the best dev macro-F1), and the span switch penalty and
  context weight (the smallest within 0.005 of the best word accuracy on dev sentences,
  half of them with a stretch of another label's dev sentence spliced in).

Same data and settings give the same model bytes: sampling is seeded, every order is
sorted, and SAGA draws its samples with the seed.
"""

from __future__ import annotations

import json
import random
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from jisr.language import corpus
from jisr.language.identify.calibration import (
    expected_calibration_error,
    fit_temperature,
    softmax,
)
from jisr.language.identify.evaluation import evaluate
from jisr.language.identify.features import word_grams, words
from jisr.language.identify.model import MODEL_FILE, Model, load_model, write_model
from jisr.language.identify.spans import runs

__all__ = [
    "FOLDERS",
    "HARD_NEGATIVES",
    "LABELS",
    "METRICS_FILE",
    "STEPS",
    "TrainingSettings",
    "train",
]

FOLDERS = {
    "arb_Arab": "arb_Arab",
    "ary_Arab": "ary_Arab",
    "ary_Latn": "ary_Latn",
    "gulf_Arab": "afb_Arab",
    "zgh_Tfng": "zgh_Tfng",
    "ber_Latn": "ber_Latn",
    "fra_Latn": "fra_Latn",
    "eng_Latn": "eng_Latn",
    "extra_confusables": "und",
}
LABELS = tuple(FOLDERS.values())
# Hard negatives (label ``und``): these files of extra_confusables only.
HARD_NEGATIVES = ("ntrex128.shi.txt",)
METRICS_FILE = "metrics.json"
STEPS = ("read", "vocabulary", "features", "fit", "calibrate", "write")
_THRESHOLDS = (0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
_PENALTIES = (1.0, 2.0, 3.0, 4.0, 6.0)
_CONTEXT_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 3.0)
_F1_SLACK = 0.002
_SPAN_SLACK = 0.005

Step = Callable[[str], None]


class TrainingSettings(BaseModel):
    """Everything that decides the model besides the data."""

    model_config = ConfigDict(frozen=True)

    seed: int = 20261129
    max_per_label: int = Field(20_000, ge=1)
    min_count: int = Field(2, ge=1)
    max_features: int = Field(200_000, ge=1)
    regularization: float = Field(50.0, gt=0, description="inverse L2 strength (C)")
    epochs: int = Field(40, ge=1)
    span_examples: int = Field(2000, ge=0)


@dataclass(frozen=True)
class _Examples:
    texts: list[str]
    labels: list[str]


def train(
    root: Path, out: Path, settings: TrainingSettings, step: Step | None = None
) -> dict[str, Any]:
    """Train on ``root``, write ``identify.bin`` and ``metrics.json`` into ``out`` and
    return the figures written to ``metrics.json``. ``step`` is told each of
    :data:`STEPS` as it starts."""
    tell = step or (lambda _: None)
    tell("read")
    rng = random.Random(settings.seed)  # noqa: S311  # sampling, not secrets
    fit_set = _sample(_read(root, "train"), settings.max_per_label, rng)
    dev_set = _read(root, "dev")
    arrays = _learn(fit_set, settings, tell)
    tell("calibrate")
    with tempfile.TemporaryDirectory() as scratch:
        # Calibrate the quantised model as it will be read, without touching ``out`` yet.
        _write(Path(scratch), arrays, _PROVISIONAL)
        calibration = _calibrate(load_model(Path(scratch)), dev_set, settings, rng)
    tell("write")
    figures = {
        "labels": list(arrays.labels),
        "train_sentences": dict(sorted(Counter(fit_set.labels).items())),
        "dev_sentences": dict(sorted(Counter(dev_set.labels).items())),
        "features": len(arrays.vocabulary),
        "settings": settings.model_dump(),
        **calibration,
    }
    _write(out, arrays, figures)
    text = json.dumps(figures, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out / METRICS_FILE).write_text(text, encoding="utf-8")
    return figures


_PROVISIONAL = {"temperature": 1.0, "threshold": 0.0, "switch_penalty": 3.0, "context_weight": 0.0}


@dataclass(frozen=True)
class _Arrays:
    labels: tuple[str, ...]
    vocabulary: list[str]
    weights: npt.NDArray[np.float64]
    bias: npt.NDArray[np.float64]


def _learn(fit_set: _Examples, settings: TrainingSettings, tell: Step) -> _Arrays:
    """Vocabulary, features, fit, and the quantisation-pruned weights."""
    labels = tuple(label for label in LABELS if label in set(fit_set.labels))
    tell("vocabulary")
    vocabulary = _vocabulary(fit_set.texts, settings)
    tell("features")
    matrix = _matrix(fit_set.texts, vocabulary)
    tell("fit")
    truth = [labels.index(label) for label in fit_set.labels]
    weights, bias = _fit(matrix, truth, len(labels), settings)
    vocabulary, weights = _prune(vocabulary, weights)
    return _Arrays(labels, vocabulary, weights, bias)


def _write(out: Path, arrays: _Arrays, figures: dict[str, Any]) -> None:
    """Write the model with the calibration in ``figures`` and, as metadata, the counts."""
    write_model(
        out / MODEL_FILE,
        labels=arrays.labels,
        vocabulary=arrays.vocabulary,
        weights=arrays.weights,
        bias=arrays.bias,
        temperature=figures["temperature"],
        threshold=figures["threshold"],
        switch_penalty=figures["switch_penalty"],
        context_weight=figures["context_weight"],
        metadata={
            k: figures[k] for k in ("train_sentences", "features", "settings") if k in figures
        },
    )


def _read(root: Path, split: corpus.Split) -> _Examples:
    texts: list[str] = []
    labels: list[str] = []
    for folder, label in FOLDERS.items():
        if (root / folder).is_dir():
            found = _sentences(root, folder, split)
            texts.extend(found)
            labels.extend([label] * len(found))
    return _Examples(texts, labels)


def _sentences(root: Path, folder: str, split: corpus.Split) -> list[str]:
    """The class folder's sentences, or the hard negatives' for ``extra_confusables``."""
    if folder != "extra_confusables":
        return corpus.sentences(folder, split, root)
    found: dict[str, None] = {}
    for name in HARD_NEGATIVES:
        if (root / folder / name).is_file():
            lines = corpus.read_lines(root / folder / name)
            found.update(dict.fromkeys(t for t in lines if corpus.split_of(t) == split))
    return list(found)


def _sample(examples: _Examples, cap: int, rng: random.Random) -> _Examples:
    """At most ``cap`` sentences per label, chosen with ``rng``, in corpus order."""
    keep: list[int] = []
    for label in dict.fromkeys(examples.labels):
        chosen = [i for i, t in enumerate(examples.labels) if t == label]
        keep.extend(sorted(rng.sample(chosen, cap)) if len(chosen) > cap else chosen)
    keep.sort()
    return _Examples([examples.texts[i] for i in keep], [examples.labels[i] for i in keep])


def _vocabulary(texts: Sequence[str], settings: TrainingSettings) -> list[str]:
    seen: Counter[str] = Counter()
    grams_of: dict[str, list[str]] = {}
    for text in texts:
        present: set[str] = set()
        for word in words(text):
            if word not in grams_of:
                grams_of[word] = word_grams(word)
            present.update(grams_of[word])
        seen.update(present)
    frequent = [(n, g) for g, n in seen.items() if n >= settings.min_count]
    frequent.sort(key=lambda item: (-item[0], item[1]))
    return sorted(g for _, g in frequent[: settings.max_features])


def _indexer(vocabulary: Sequence[str], labels: int = 1) -> Model:
    """A model with zero weights: its feature lookup is the one inference uses."""
    return Model(
        labels=tuple(str(i) for i in range(labels)),
        vocabulary={g: i for i, g in enumerate(vocabulary)},
        weights=np.zeros((len(vocabulary) + 1, labels), dtype=np.float32),
        bias=np.zeros(labels, dtype=np.float32),
        temperature=1.0,
        threshold=0.0,
        switch_penalty=0.0,
        context_weight=0.0,
    )


def _matrix(texts: Sequence[str], vocabulary: Sequence[str]) -> Any:
    """Sparse ``[texts, features]``: feature counts over √(all features of the text)."""
    from scipy import sparse  # type: ignore[import-untyped]  # scipy ships no stubs

    indexer = _indexer(vocabulary)
    rows: list[int] = []
    columns: list[int] = []
    values: list[float] = []
    for row, text in enumerate(texts):
        found: list[int] = []
        total = 0
        for word in words(text):
            indices, size = indexer.word_features(word)
            found.extend(indices)
            total += size
        rows.extend([row] * len(found))
        columns.extend(found)
        values.extend([1.0 / max(total, 1) ** 0.5] * len(found))
    shape = (len(texts), len(vocabulary))
    return sparse.csr_matrix((values, (rows, columns)), shape=shape, dtype=np.float64)


def _fit(
    matrix: Any, truth: list[int], labels: int, settings: TrainingSettings
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Weights ``[features, labels]`` and bias of a balanced multinomial regression."""
    from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    regression = LogisticRegression(
        C=settings.regularization,
        class_weight="balanced",
        solver="saga",
        max_iter=settings.epochs,
        tol=1e-4,
        random_state=settings.seed,
    )
    with warnings.catch_warnings():
        # A fixed number of epochs is the budget; dev figures, not convergence, judge it.
        warnings.simplefilter("ignore", ConvergenceWarning)
        regression.fit(matrix, np.asarray(truth))
    weights = np.zeros((matrix.shape[1], labels))
    bias = np.zeros(labels)
    for position, label in enumerate(regression.classes_.tolist()):
        weights[:, label] = regression.coef_[position]
        bias[label] = regression.intercept_[position]
    return weights, bias


def _prune(
    vocabulary: list[str], weights: npt.NDArray[np.float64]
) -> tuple[list[str], npt.NDArray[np.float64]]:
    """Drop the features whose int8 weights would be zero for every label."""
    scales = np.maximum(np.abs(weights).max(axis=0), 1e-12) / 127.0
    keep = (np.abs(weights) >= scales / 2).any(axis=1)
    return [g for g, k in zip(vocabulary, keep.tolist(), strict=True) if k], weights[keep]


def _calibrate(
    model: Model, dev: _Examples, settings: TrainingSettings, rng: random.Random
) -> dict[str, Any]:
    """Temperature, ``und`` threshold and span switch penalty fitted on dev, with figures."""
    if not dev.texts:
        return {**_PROVISIONAL, "dev": {}}
    logits = model.logits(dev.texts).logits
    known = [i for i, t in enumerate(dev.labels) if t in model.labels]
    truth = np.asarray([model.labels.index(dev.labels[i]) for i in known], dtype=np.int64)
    temperature = fit_temperature(logits[known], truth)
    before = expected_calibration_error(softmax(logits[known]), truth)
    probabilities = softmax(logits, temperature)
    after = expected_calibration_error(probabilities[known], truth)
    threshold, report = _threshold(model, probabilities, dev.labels)
    (penalty, weight), accuracy = _span_settings(model, dev, settings.span_examples, rng)
    return {
        "temperature": temperature,
        "threshold": threshold,
        "switch_penalty": penalty,
        "context_weight": weight,
        "dev_span_word_accuracy": accuracy,
        "dev_ece_before": round(before, 4),
        "dev_ece_after": round(after, 4),
        "dev": report,
    }


def _threshold(
    model: Model, probabilities: npt.NDArray[np.float64], truth: list[str]
) -> tuple[float, dict[str, object]]:
    """The highest threshold whose dev macro-F1 is within ``_F1_SLACK`` of the best one:
    as cautious as the dev set allows at (almost) no cost."""
    reports = {}
    for threshold in _THRESHOLDS:
        predicted = [
            model.labels[int(row.argmax())] if row.max() >= threshold else "und"
            for row in probabilities
        ]
        reports[threshold] = evaluate(truth, predicted, model.labels)
    best = max(report.macro_f1 for report in reports.values())
    chosen = max(t for t, report in reports.items() if report.macro_f1 >= best - _F1_SLACK)
    return chosen, reports[chosen].as_dict()


def _span_settings(
    model: Model, dev: _Examples, count: int, rng: random.Random
) -> tuple[tuple[float, float], dict[str, float]]:
    """The switch penalty and context weight for spans: of the pairs whose mean word
    accuracy on spliced and plain dev sentences is within ``_SPAN_SLACK`` of the best, the
    smallest penalty (then weight); and the accuracy of each pair tried ("penalty/weight").
    Differences that small are noise of the synthetic cases, and a smaller penalty finds
    short switches such as a greeting before a French sentence."""
    cases = _span_cases(dev, count, rng)
    if not cases:
        return (3.0, 0.0), {}
    scores: dict[tuple[float, float], float] = {}
    for penalty in _PENALTIES:
        for weight in _CONTEXT_WEIGHTS:
            model.switch_penalty, model.context_weight = penalty, weight
            total = sum(_word_accuracy(model, text, truth) for text, truth in cases)
            scores[penalty, weight] = round(total / len(cases), 4)
    best = max(scores.values())
    chosen = min(pair for pair, score in scores.items() if score >= best - _SPAN_SLACK)
    return chosen, {f"{p}/{w}": score for (p, w), score in scores.items()}


def _span_cases(dev: _Examples, count: int, rng: random.Random) -> list[tuple[str, list[str]]]:
    """Dev sentences of 3 to 20 words, every label equally likely, every second one with the
    first 1 to 6 words of another label's sentence spliced in at a random place."""
    by_label: dict[str, list[int]] = {}
    for i, (text, label) in enumerate(zip(dev.texts, dev.labels, strict=True)):
        if label != "und" and 3 <= len(text.split()) <= 20:
            by_label.setdefault(label, []).append(i)
    names = sorted(by_label)
    cases: list[tuple[str, list[str]]] = []
    for number in range(count if len(names) > 1 else 0):
        host = rng.choice(by_label[rng.choice(names)])
        words = dev.texts[host].split()
        truth = [dev.labels[host]] * len(words)
        if number % 2:
            other = rng.choice([name for name in names if name != dev.labels[host]])
            piece = dev.texts[rng.choice(by_label[other])].split()[: rng.randint(1, 6)]
            at = rng.randint(0, len(words))
            words[at:at] = piece
            truth[at:at] = [other] * len(piece)
        cases.append((" ".join(words), truth))
    return cases


def _word_accuracy(model: Model, text: str, truth: list[str]) -> float:
    """Word accuracy of the spans, averaged over the true labels present: in a spliced
    sentence the guest's few words count as much as the host's many, so finding a switch
    matters as much as not inventing one."""
    predicted = ["und"] * len(truth)
    edges = []
    position = 0
    for word in text.split(" "):
        edges.append((position, position + len(word)))
        position += len(word) + 1
    for run in runs(model, text):
        for i, (start, end) in enumerate(edges):
            if start < run.end and end > run.start:
                predicted[i] = model.labels[run.label]
    rates = []
    for label in set(truth):
        pairs = [(t, p) for t, p in zip(truth, predicted, strict=True) if t == label]
        rates.append(sum(t == p for t, p in pairs) / len(pairs))
    return sum(rates) / len(rates)
