"""Precision, recall, F1 and the confusion matrix."""

from __future__ import annotations

from jisr.language.identify.evaluation import evaluate


def test_scores_count_und_as_a_miss_and_average_labels_with_examples() -> None:
    truth = ["a", "a", "a", "b"]
    predicted = ["a", "a", "und", "a"]
    report = evaluate(truth, predicted, ["a", "b", "c"])
    assert report.per_label["a"].precision == 2 / 3
    assert report.per_label["a"].recall == 2 / 3
    assert report.per_label["b"].f1 == 0.0
    assert report.macro_f1 == (2 / 3 + 0.0) / 2  # "c" has no example
    assert report.confusion["a"] == {"a": 2, "b": 0, "c": 0, "und": 1}
    assert report.accuracy == 0.5
