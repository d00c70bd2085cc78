"""Character and word error rates of transliterations, after spelling normalisation.

CER = total character edit distance / total reference characters; WER the same over
space-separated words. Both sides first go through
:func:`jisr.language.transliterate.arabic.normalise_for_scoring`, so diacritics, tatweel
and alef / ya / ta-marbuta / gaf variants do not count as errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jisr.language.transliterate.arabic import normalise_for_scoring

__all__ = ["ErrorRates", "edit_distance", "error_rates"]


@dataclass(frozen=True)
class ErrorRates:
    """Micro-averaged error rates over a set of sentences."""

    cer: float
    wer: float
    sentences: int


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance (unit costs) between two sequences."""
    previous = list(range(len(hypothesis) + 1))
    for row, ref in enumerate(reference, start=1):
        current = [row]
        for column, hyp in enumerate(hypothesis, start=1):
            current.append(
                min(previous[column] + 1, current[-1] + 1, previous[column - 1] + (ref != hyp))
            )
        previous = current
    return previous[-1]


def error_rates(references: Sequence[str], hypotheses: Sequence[str]) -> ErrorRates:
    """CER and WER of ``hypotheses`` against ``references`` (same length, same order)."""
    chars = char_errors = words = word_errors = 0
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        ref, hyp = normalise_for_scoring(reference), normalise_for_scoring(hypothesis)
        chars += len(ref)
        char_errors += edit_distance(ref, hyp)
        words += len(ref.split())
        word_errors += edit_distance(ref.split(), hyp.split())
    return ErrorRates(char_errors / max(chars, 1), word_errors / max(words, 1), len(references))
