"""Softmax, temperature scaling and ECE."""

from __future__ import annotations

import numpy as np

from jisr.language.identify.calibration import (
    expected_calibration_error,
    fit_temperature,
    log_loss,
    softmax,
)


def test_softmax_rows_sum_to_one_and_keep_the_order() -> None:
    logits = np.array([[1.0, 3.0, -2.0], [1000.0, 0.0, 999.0]])
    probabilities = softmax(logits, 2.0)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.argmax(axis=1) == logits.argmax(axis=1)).all()


def test_fit_temperature_recovers_the_temperature_the_labels_were_drawn_with() -> None:
    """Labels sampled from softmax(z / 2) are best explained by T close to 2."""
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 4, size=(20000, 5))
    probabilities = softmax(logits, 2.0)
    truth = np.array([rng.choice(5, p=row) for row in probabilities], dtype=np.int64)
    fitted = fit_temperature(logits, truth)
    assert 1.8 < fitted < 2.2
    assert log_loss(logits, truth, fitted) < log_loss(logits, truth, 1.0)


def test_ece_is_zero_when_confidence_equals_accuracy() -> None:
    probabilities = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5]])
    truth = np.array([0, 1, 0, 1], dtype=np.int64)
    assert expected_calibration_error(probabilities, truth) == 0.0


def test_ece_measures_overconfidence() -> None:
    """Always 90 % sure and right half the time: ECE 0.4."""
    probabilities = np.array([[0.9, 0.1]] * 4)
    truth = np.array([0, 1, 0, 1], dtype=np.int64)
    assert abs(expected_calibration_error(probabilities, truth) - 0.4) < 1e-9
