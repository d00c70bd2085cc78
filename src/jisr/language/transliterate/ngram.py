"""A Witten-Bell interpolated n-gram model over string tokens, stored as plain JSON.

Used three ways by the Arabizi transliterator: over joint (Latin chunk, Arabic chunk) units
— the joint-sequence model of Bisani & Ney (2008) — over Arabic words, and over Latin
characters (to prefer realistic romanisations when making training pairs).

Witten & Bell (1991) smoothing: P(w | h) = (c(h, w) + T(h) · P(w | h')) / (c(h) + T(h)),
where T(h) is the number of distinct tokens seen after h and h' is h without its oldest
token; the order-0 base is uniform over the vocabulary plus one unseen token.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["BOUNDARY", "NgramModel"]

BOUNDARY = "\x02"  # start and end of a sequence; never a real token
_SEP = "\x1f"
_CACHE_SIZE = 1_000_000


class NgramModel:
    """Counts of n-grams up to ``order``, with Witten-Bell interpolated log-probabilities."""

    def __init__(self, order: int, counts: dict[str, dict[str, int]] | None = None) -> None:
        self.order = order
        self._counts: dict[str, dict[str, int]] = counts or {}
        self._totals = {h: (sum(f.values()), len(f)) for h, f in self._counts.items()}
        self._vocabulary = len(self._counts.get("", {})) + 1
        self._cache: dict[tuple[str, str], float] = {}

    @classmethod
    def train(cls, order: int, sequences: Iterable[Sequence[str]]) -> NgramModel:
        """Count every n-gram (orders 1…``order``) of the boundary-padded ``sequences``."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for sequence in sequences:
            padded = [BOUNDARY] * (order - 1) + list(sequence) + [BOUNDARY]
            for index in range(order - 1, len(padded)):
                for size in range(order):
                    history = padded[index - size : index]
                    counts[_SEP.join(history)][padded[index]] += 1
        return cls(order, {h: dict(f) for h, f in counts.items()})

    def prune(self, minimum: int) -> NgramModel:
        """A copy without highest-order n-grams seen fewer than ``minimum`` times."""
        kept: dict[str, dict[str, int]] = {}
        for history, followers in self._counts.items():
            size = history.count(_SEP) + 1 if history else 0
            top = size == self.order - 1 and size > 0
            selected = {w: c for w, c in followers.items() if not top or c >= minimum}
            if selected:
                kept[history] = selected
        return NgramModel(self.order, kept)

    def logprob(self, token: str, history: Sequence[str]) -> float:
        """Natural-log P(``token`` | last ``order - 1`` tokens of ``history``)."""
        context = _SEP.join(history[len(history) - self.order + 1 :] if self.order > 1 else ())
        key = (context, token)
        if key not in self._cache:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()  # bounded memory in a long-running server
            self._cache[key] = math.log(self._probability(token, context))
        return self._cache[key]

    def _probability(self, token: str, context: str) -> float:
        """Witten-Bell interpolation from the unigram up to ``context``."""
        probability = 1.0 / self._vocabulary
        parts = context.split(_SEP) if context else []
        for size in range(len(parts) + 1):
            history = _SEP.join(parts[len(parts) - size :])
            total, distinct = self._totals.get(history, (0, 0))
            if total:
                seen = self._counts[history].get(token, 0)
                probability = (seen + distinct * probability) / (total + distinct)
        return probability

    def known(self, token: str) -> bool:
        """Whether ``token`` was seen at all in training."""
        return token in self._counts.get("", {})

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form, read back by :meth:`from_json`."""
        return {"order": self.order, "counts": self._counts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NgramModel:
        """The model saved by :meth:`to_json`."""
        return cls(int(data["order"]), data["counts"])
