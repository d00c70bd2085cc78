"""The Viterbi segmentation behind per-span results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jisr.language.identify import load_model, spans
from jisr.language.identify.spans import best_path, runs


def test_zero_penalty_follows_each_rows_best_label() -> None:
    scores = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]))
    assert best_path(scores, 0.0) == [0, 1, 0]


def test_a_penalty_absorbs_a_weak_lone_switch() -> None:
    """The middle row prefers label 1 only slightly: not worth two switches."""
    scores = np.log(np.array([[0.9, 0.1], [0.45, 0.55], [0.9, 0.1]]))
    assert best_path(scores, 1.0) == [0, 0, 0]


def test_a_strong_run_still_switches() -> None:
    scores = np.log(np.array([[0.99, 0.01], [0.01, 0.99], [0.01, 0.99], [0.99, 0.01]]))
    assert best_path(scores, 3.0) == [0, 1, 1, 0]


def test_without_context_common_msa_words_split_a_darija_sentence() -> None:
    """What the context weight is for: with it off, shared words become MSA spans."""
    model = load_model()
    text = "في الغالب كيفرقو بين الرياضيات الحرة والرياضيات التطبيقية."
    assert len(runs(model, text)) == 1
    model.context_weight = 0.0
    assert len(runs(model, text)) > 1


def test_the_floor_keeps_a_word_in_another_script_out_of_the_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the floor an Arabic greeting in French text keeps its label; without it the
    whole text's French would swallow it."""
    model = load_model()
    model.context_weight = 3.0
    text = "السلام عليكم، je voudrais prendre un rendez-vous"
    labels = [model.labels[run.label] for run in runs(model, text)]
    assert labels == ["arb_Arab", "fra_Latn"]
    monkeypatch.setattr(spans, "CONTEXT_FLOOR", -math.inf)
    assert [model.labels[run.label] for run in runs(model, text)] == ["fra_Latn"]
