"""How alike two person names are, in [0, 1], whatever their scripts and token order.

Each token of one name is compared with each token of the other (the best of their key
variants, :mod:`.keys`), giving a similarity matrix. Alignment is order-free (a small
:data:`ORDER_PENALTY` only breaks ties in favour of the same order): every token
takes its best counterpart on the other side, in both directions, and each direction
averages the tokens' *distances* (1 - similarity) as a root mean square weighted by token
mass, so one wrong token (محمد/محمود in an otherwise equal name) weighs more than in a
plain mean. The score is one minus the mean of the two directions; a name with an extra
token (a father's name) scores lower in the backward direction only.

If the two names split into a different number of tokens (``Fatimazahra`` and ``Fatima
Zahra``), the names written as one token each are compared too and the better score kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

from jisr.language.names.distance import key_mass, key_similarity
from jisr.language.names.keys import NameToken, name_tokens

__all__ = [
    "ORDER_PENALTY",
    "THRESHOLD",
    "align",
    "joined",
    "joined_similarity",
    "match",
    "score",
    "token_similarity",
    "token_weight",
]

THRESHOLD: Final = 0.90
"""Scores at or above this are the same name (chosen on the dev split, docs/language-names.md)."""

ORDER_PENALTY: Final = 0.02
"""Taken off the score of names whose tokens align only out of order."""


def token_similarity(a: NameToken, b: NameToken) -> float:
    """The best similarity over the two tokens' key variants."""
    return max(key_similarity(x, y) for x in a.variants for y in b.variants)


def token_weight(token: NameToken) -> float:
    """A token weighs its mass without the optional article (at least 1)."""
    return max(1.0, min(key_mass(variant) for variant in token.variants))


def align(
    similarity: npt.NDArray[np.float32],
    weights_a: npt.NDArray[np.float32],
    weights_b: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    """Order-free score from similarity matrices ``(..., len(a), len(b))``.

    Zero weights mark padding tokens (the index scores many names at once this way).
    Symmetric: ``align(s, wa, wb) == align(swapped s, wb, wa)``.
    """
    forward = _direction(similarity.max(axis=-1), weights_a)
    backward = _direction(similarity.max(axis=-2), weights_b)
    # Tokens aligned out of order (Ali Ahmed for Ahmed Ali) cost a little: the same name
    # still, but the one in the same order ranks first.
    crossed = _crossed(similarity.argmax(axis=-1), weights_a) | _crossed(
        similarity.argmax(axis=-2), weights_b
    )
    value = 1.0 - (forward + backward) / 2 - ORDER_PENALTY * crossed
    result: npt.NDArray[np.float32] = np.clip(value, 0.0, 1.0).astype(np.float32)
    return result


def _crossed(best: npt.NDArray[np.intp], weights: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    """Whether the best counterparts of one side's tokens are out of order (padding, at
    the end, is never out of order)."""
    best = np.where(weights > 0, best, np.iinfo(np.intp).max)
    result: npt.NDArray[np.bool_] = np.asarray((np.diff(best, axis=-1) < 0).any(axis=-1))
    return result


def _direction(
    best: npt.NDArray[np.float32], weights: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Weighted root mean square of distances of one side's tokens to their best match."""
    distance = 1.0 - best
    total = np.maximum(weights.sum(axis=-1), np.float32(1e-9))
    squares = (weights * distance * distance).sum(axis=-1) / total
    result: npt.NDArray[np.float32] = np.sqrt(squares).astype(np.float32)
    return result


@lru_cache(maxsize=1 << 14)
def score(a: str, b: str) -> float:
    """How alike names ``a`` and ``b`` are, in [0, 1], in any script and token order."""
    tokens_a, tokens_b = name_tokens(a), name_tokens(b)
    if not tokens_a or not tokens_b:
        return 0.0
    best = _token_score(tokens_a, tokens_b)
    if len(tokens_a) != len(tokens_b):
        best = max(best, joined_similarity(tokens_a, tokens_b))
    return round(best, 4)


def joined_similarity(tokens_a: Sequence[NameToken], tokens_b: Sequence[NameToken]) -> float:
    """The two names compared as one token each (``Fatimazahra``, ``Fatima Zahra``)."""
    return token_similarity(joined(tokens_a), joined(tokens_b))


def match(a: str, b: str, threshold: float = THRESHOLD) -> bool:
    """Whether ``a`` and ``b`` are the same name: :func:`score` at least ``threshold``."""
    return score(a, b) >= threshold


def _token_score(tokens_a: Sequence[NameToken], tokens_b: Sequence[NameToken]) -> float:
    similarity = np.array(
        [[token_similarity(x, y) for y in tokens_b] for x in tokens_a], dtype=np.float32
    )
    weights_a = np.array([token_weight(t) for t in tokens_a], dtype=np.float32)
    weights_b = np.array([token_weight(t) for t in tokens_b], dtype=np.float32)
    return float(align(similarity, weights_a, weights_b))


def joined(tokens: Sequence[NameToken]) -> NameToken:
    """The name as one token: its tokens' first variants end to end, and their last."""
    variants = ("".join(t.variants[0] for t in tokens), "".join(t.variants[-1] for t in tokens))
    return NameToken("".join(t.text for t in tokens), tokens[0].script, variants)
