"""Turning scores into probabilities one can trust: softmax, temperature scaling, ECE.

Temperature scaling (Guo et al., 2017, "On Calibration of Modern Neural Networks") divides
every logit by one scalar ``T`` fitted on held-out data to minimise the negative
log-likelihood; it changes no ranking, only how sure the probabilities are. The expected
calibration error (ECE) is the gap between confidence and accuracy, averaged over
equal-width confidence bins weighted by how many predictions fall in each.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["Floats", "expected_calibration_error", "fit_temperature", "log_loss", "softmax"]

Floats = npt.NDArray[np.float64]

_GOLDEN = (math.sqrt(5) - 1) / 2


def softmax(logits: Floats, temperature: float = 1.0) -> Floats:
    """Row-wise softmax of ``logits / temperature``."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    result: Floats = exp / exp.sum(axis=-1, keepdims=True)
    return result


def log_loss(logits: Floats, truth: npt.NDArray[np.int64], temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the true classes under ``softmax(logits / T)``."""
    scaled = logits / temperature
    top = scaled.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(scaled - top).sum(axis=1)) + top[:, 0]
    return float(np.mean(log_norm - scaled[np.arange(len(truth)), truth]))


def fit_temperature(
    logits: Floats, truth: npt.NDArray[np.int64], low: float = 0.05, high: float = 20.0
) -> float:
    """The temperature in ``[low, high]`` minimising :func:`log_loss` (golden-section search
    on ``log T``; the loss is unimodal in ``T``)."""
    a, b = math.log(low), math.log(high)
    for _ in range(60):
        c = b - _GOLDEN * (b - a)
        d = a + _GOLDEN * (b - a)
        if log_loss(logits, truth, math.exp(c)) < log_loss(logits, truth, math.exp(d)):
            b = d
        else:
            a = c
    return round(math.exp((a + b) / 2), 6)


def expected_calibration_error(
    probabilities: Floats, truth: npt.NDArray[np.int64], bins: int = 15
) -> float:
    """ECE of the top-1 predictions over ``bins`` equal-width confidence bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, bins + 1)
    where = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        chosen = where == b
        if chosen.any():
            gap = abs(float(confidence[chosen].mean()) - float(correct[chosen].mean()))
            total += gap * int(chosen.sum())
    return total / max(len(truth), 1)
