"""Per-label precision, recall and F1, macro-F1 and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LabelScores", "Report", "evaluate"]


@dataclass(frozen=True)
class LabelScores:
    """How one label fared: precision, recall, F1 and how many true examples it had."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Scores per label, macro-F1 over the labels with examples, accuracy, confusions."""

    labels: tuple[str, ...]
    per_label: dict[str, LabelScores]
    macro_f1: float
    accuracy: float
    confusion: dict[str, dict[str, int]]  # truth → prediction → count

    def as_dict(self) -> dict[str, object]:
        """Plain, JSON-ready figures rounded to four decimals."""
        return {
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "per_label": {
                label: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                }
                for label, s in self.per_label.items()
            },
            "confusion": self.confusion,
        }


def evaluate(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Report:
    """Score ``predicted`` against ``truth``. Rows of the confusion matrix are ``labels``
    (the truths evaluated); a prediction outside ``labels`` (e.g. ``und``) still counts as
    an error for recall and gets its own column. Macro-F1 averages the labels with
    examples in ``truth``."""
    columns = list(labels) + sorted(set(predicted) - set(labels))
    confusion = {t: dict.fromkeys(columns, 0) for t in labels}
    for t, p in zip(truth, predicted, strict=True):
        if t in confusion:
            confusion[t][p] += 1
    per_label = {label: _scores(label, confusion) for label in labels}
    present = [s.f1 for s in per_label.values() if s.support]
    total = sum(sum(row.values()) for row in confusion.values())
    right = sum(confusion[label][label] for label in labels)
    return Report(
        labels=tuple(labels),
        per_label=per_label,
        macro_f1=sum(present) / len(present) if present else 0.0,
        accuracy=right / total if total else 0.0,
        confusion=confusion,
    )


def _scores(label: str, confusion: dict[str, dict[str, int]]) -> LabelScores:
    hits = confusion[label][label]
    support = sum(confusion[label].values())
    claimed = sum(row.get(label, 0) for row in confusion.values())
    precision = hits / claimed if claimed else 0.0
    recall = hits / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LabelScores(precision, recall, f1, support)
