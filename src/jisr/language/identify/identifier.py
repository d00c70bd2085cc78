"""Identifying the language and script of texts: the result types and the calls.

    identify(text)         one Identification
    identify_many(texts)   one per text, scored in one batch (faster per text)

The label is the most probable one, except that it is ``und`` when

* the text has no letter at all (digits, punctuation, emoji): ``scores`` is ``{"und": 1}``;
* fewer than :data:`MIN_COVERAGE` of its features are known to the model (another script,
  e.g. Cyrillic or Chinese, whose probabilities would be the prior's);
* the best calibrated probability is below the model's threshold (tuned on dev).

Otherwise ``scores`` holds the model's calibrated probabilities, best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jisr.language.identify.model import Model, default_model
from jisr.language.identify.spans import runs

__all__ = ["MIN_COVERAGE", "UNDETERMINED", "Identification", "Span", "identify", "identify_many"]

UNDETERMINED = "und"
MIN_COVERAGE = 0.3


@dataclass(frozen=True)
class Span:
    """One stretch of a text in one language: ``text == whole[start:end]``."""

    start: int
    end: int
    text: str
    label: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "label": self.label,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class Identification:
    """What a text is written in: a label, probabilities per label (best first), and the
    spans (one for a text in one language, several for code-switched text)."""

    text: str
    label: str
    scores: dict[str, float]
    spans: tuple[Span, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, probabilities rounded to six decimals."""
        return {
            "text": self.text,
            "label": self.label,
            "scores": {label: round(p, 6) for label, p in self.scores.items()},
            "spans": [span.as_dict() for span in self.spans],
        }


def identify(text: str, *, model: Model | None = None, spans: bool = True) -> Identification:
    """Identify one text (see the module docstring); ``spans=False`` skips the spans."""
    return identify_many([text], model=model, spans=spans)[0]


def identify_many(
    texts: Sequence[str], *, model: Model | None = None, spans: bool = True
) -> list[Identification]:
    """Identify every text in one batch, in order."""
    chosen = model if model is not None else default_model()
    if not texts:
        return []
    scored = chosen.logits(texts)
    probabilities = chosen.probabilities(scored.logits).tolist()
    results = []
    for text, row, size, known in zip(
        texts, probabilities, scored.features.tolist(), scored.known.tolist(), strict=True
    ):
        if not size:
            results.append(Identification(text, UNDETERMINED, {UNDETERMINED: 1.0}, ()))
            continue
        result = _result(chosen, text, row, known >= MIN_COVERAGE * size)
        results.append(_with_spans(chosen, result) if spans else result)
    return results


def _result(model: Model, text: str, row: list[float], covered: bool) -> Identification:
    order = sorted(range(len(row)), key=lambda i: (-row[i], model.labels[i]))
    scores = {model.labels[i]: row[i] for i in order}
    best = order[0]
    sure = covered and row[best] >= model.threshold
    return Identification(text, model.labels[best] if sure else UNDETERMINED, scores, ())


def _with_spans(model: Model, result: Identification) -> Identification:
    found = runs(model, result.text)
    if len(found) <= 1:
        start, end = (found[0].start, found[0].end) if found else (0, len(result.text))
        score = result.scores.get(result.label, next(iter(result.scores.values())))
        span = Span(start, end, result.text[start:end], result.label, score)
        return Identification(result.text, result.label, result.scores, (span,))
    pieces = [result.text[run.start : run.end] for run in found]
    probabilities = model.probabilities(model.logits(pieces).logits)
    spans = tuple(
        Span(run.start, run.end, piece, model.labels[run.label], float(row[run.label]))
        for run, piece, row in zip(found, pieces, np.asarray(probabilities), strict=True)
    )
    return Identification(result.text, result.label, result.scores, spans)
