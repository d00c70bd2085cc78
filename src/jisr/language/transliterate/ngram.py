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
from typing import Any, TypeVar

__all__ = ["BOUNDARY", "NgramModel"]

BOUNDARY = "\x02"  # start and end of a sequence; never a real token
_SEP = "\x1f"
_CACHE_SIZE = 1_000_000

# One interpolation step: a history's followers, their total count and how many are distinct.
_Level = tuple[dict[str, int], int, int]
_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


class NgramModel:
    """Counts of n-grams up to ``order``, with Witten-Bell interpolated log-probabilities."""

    def __init__(self, order: int, counts: dict[str, dict[str, int]] | None = None) -> None:
        self.order = order
        self._counts: dict[str, dict[str, int]] = counts or {}
        self._totals = {h: (sum(f.values()), len(f)) for h, f in self._counts.items()}
        self._vocabulary = len(self._counts.get("", {})) + 1
        self._cache: dict[tuple[str, str], float] = {}
        # Caches of the batched lookups (see :meth:`logprobs`).
        self._level_cache: dict[str, tuple[tuple[str, ...], list[_Level]]] = {}
        self._vectors: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[float, ...]] = {}
        self._log_vectors: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[float, ...]] = {}

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
        context = self._context(history)
        key = (context, token)
        if key not in self._cache:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()  # bounded memory in a long-running server
            _, levels = self._levels(context)
            self._cache[key] = math.log(_interpolate(token, levels, self._vocabulary))
        return self._cache[key]

    def logprobs(self, tokens: tuple[str, ...], history: Sequence[str]) -> tuple[float, ...]:
        """:meth:`logprob` of each of ``tokens`` after the same ``history``, bit for bit.
        Kept per (seen histories, tokens): every context whose longest history was never
        seen shares the result of its shorter one, so few are ever computed."""
        seen, levels = self._levels(self._context(history))
        key = (seen, tokens)
        logprobs = self._log_vectors.get(key)
        if logprobs is None:
            probabilities = self._probabilities(seen, levels, tokens)
            logprobs = tuple(math.log(probability) for probability in probabilities)
            remember(self._log_vectors, key, logprobs)
        return logprobs

    def _probabilities(
        self, seen: tuple[str, ...], levels: list[_Level], tokens: tuple[str, ...]
    ) -> tuple[float, ...]:
        """:func:`_interpolate` of each token, one level at a time; the lower levels (the
        unigram, the bigram after the last token) are kept, as many contexts share them."""
        if not levels:
            return (1.0 / self._vocabulary,) * len(tokens)
        key = (seen[:-1], tokens)
        below = self._vectors.get(key)
        if below is None:
            below = self._probabilities(seen[:-1], levels[:-1], tokens)
            remember(self._vectors, key, below)
        followers, total, distinct = levels[-1]
        return tuple(
            (followers.get(token, 0) + distinct * probability) / (total + distinct)
            for token, probability in zip(tokens, below, strict=True)
        )

    def _context(self, history: Sequence[str]) -> str:
        """The cache key of the last ``order - 1`` tokens of ``history``."""
        return _SEP.join(history[len(history) - self.order + 1 :] if self.order > 1 else ())

    def _levels(self, context: str) -> tuple[tuple[str, ...], list[_Level]]:
        """The seen histories Witten-Bell interpolates over, from the unigram up to
        ``context`` (an unseen history leaves the probability as it is, so it is skipped),
        with their counts."""
        found = self._level_cache.get(context)
        if found is None:
            seen: list[str] = []
            levels: list[_Level] = []
            parts = context.split(_SEP) if context else []
            for size in range(len(parts) + 1):
                history = _SEP.join(parts[len(parts) - size :])
                total, distinct = self._totals.get(history, (0, 0))
                if total:
                    seen.append(history)
                    levels.append((self._counts[history], total, distinct))
            found = remember(self._level_cache, context, (tuple(seen), levels))
        return found

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


def _interpolate(token: str, levels: list[_Level], vocabulary: int) -> float:
    """Witten-Bell P(``token``) from the uniform base up through ``levels``.
    :meth:`NgramModel._probabilities` repeats this expression term for term, so that the
    batched and single lookups agree bit for bit."""
    probability = 1.0 / vocabulary
    for followers, total, distinct in levels:
        probability = (followers.get(token, 0) + distinct * probability) / (total + distinct)
    return probability


def remember(
    cache: dict[_Key, _Value], key: _Key, value: _Value, size: int = _CACHE_SIZE
) -> _Value:
    """Store ``value`` in ``cache``, emptied first when it holds ``size`` (bounded memory in a
    long-running server), and return it."""
    if len(cache) >= size:
        cache.clear()
    cache[key] = value
    return value
