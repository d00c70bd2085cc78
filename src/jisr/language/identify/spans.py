"""Where the language changes inside one text (code-switching, e.g. Darija and French).

Every word gets the model's calibrated log-probabilities for each label as if it stood
alone (features never cross words, see :mod:`.features`), plus ``context_weight`` times the
whole text's: a Darija sentence's words that are also MSA words stay Darija. A Viterbi
pass then picks the label sequence maximising the summed scores minus ``switch_penalty``
per change of label, so a lone ambiguous word (``de``, ``la``) follows its neighbours while a run of
words that clearly agree starts a span of its own. Runs of one label become spans from
their first word's start to their last word's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from jisr.language.identify.calibration import Floats
from jisr.language.identify.features import Token, tokens
from jisr.language.identify.model import Model

__all__ = ["CONTEXT_FLOOR", "Run", "best_path", "runs"]

# The whole text's log-probabilities are a bounded prior: below this they stop counting, so
# the context settles MSA against Darija but never outvotes a clearly other word or script.
CONTEXT_FLOOR = -2.0


@dataclass(frozen=True)
class Run:
    """Consecutive words given one label: ``text[start:end]`` and the label's index."""

    start: int
    end: int
    label: int


def runs(model: Model, text: str) -> list[Run]:
    """The label runs of ``text``; empty when it has no word with a letter. A text whose
    words all agree is one run with the whole text's best label."""
    found = list(tokens(text))
    if not found:
        return []
    every = [word for token in found for word in token.words]
    logits = model.word_list_logits([*(token.words for token in found), every]).logits
    log_probs = _log_softmax(logits / model.temperature)
    words, whole = log_probs[:-1], log_probs[-1]
    if len(set(words.argmax(axis=1).tolist())) == 1:
        return [Run(found[0].start, found[-1].end, int(whole.argmax()))]
    scores = words + model.context_weight * np.maximum(whole, CONTEXT_FLOOR)
    return _merge(found, best_path(scores, model.switch_penalty))


def _log_softmax(scaled: Floats) -> Floats:
    top = scaled.max(axis=1, keepdims=True)
    result: Floats = scaled - top - np.log(np.exp(scaled - top).sum(axis=1, keepdims=True))
    return result


def best_path(scores: Floats, penalty: float) -> list[int]:
    """The label per row maximising ``sum(scores[t, label_t]) - penalty * changes``."""
    steps, count = scores.shape
    every: npt.NDArray[np.int64] = np.arange(count)
    best = scores[0].copy()
    back = np.zeros((steps, count), dtype=np.int64)
    for step in range(1, steps):
        leader = int(best.argmax())
        switched = best[leader] - penalty
        stay = best >= switched
        back[step] = np.where(stay, every, leader)
        best = np.where(stay, best, switched) + scores[step]
    path = [int(best.argmax())]
    for step in range(steps - 1, 0, -1):
        path.append(int(back[step, path[-1]]))
    return path[::-1]


def _merge(found: list[Token], path: list[int]) -> list[Run]:
    merged = [Run(found[0].start, found[0].end, path[0])]
    for token, label in zip(found[1:], path[1:], strict=True):
        if label == merged[-1].label:
            merged[-1] = Run(merged[-1].start, token.end, label)
        else:
            merged.append(Run(token.start, token.end, label))
    return merged
