"""How alike two person names are, in [0, 1], whatever their scripts and token order.

Each token of one name is compared with each token of the other (the best of their key
variants, :mod:`.keys`), giving a similarity matrix. Alignment is order-free (a small
:data:`ORDER_PENALTY` only breaks ties in favour of the same order) and one to one: the
most alike pair of tokens is paired first, then the most alike of the rest, and so on; a
token left over (the longer name's father's name) has no partner. Each direction averages
its tokens' *distances* (1 - similarity to the partner, 1 without one) as a root mean
square weighted by token mass, so one wrong token (محمد/محمود in an otherwise equal
name) weighs more than in a plain mean. The score is one minus the mean of the two
directions.

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

    Tokens are paired one to one (:func:`pairing`); a token left without a partner (the
    longer name's extra token) counts at distance 1. Zero weights mark padding tokens (the
    index scores many names at once this way).
    Symmetric: ``align(s, wa, wb) == align(swapped s, wb, wa)``.
    """
    partner_a, partner_b, paired_a, paired_b = pairing(similarity, weights_a, weights_b)
    forward = _direction(paired_a, weights_a)
    backward = _direction(paired_b, weights_b)
    # Tokens aligned out of order (Ali Ahmed for Ahmed Ali) cost a little: the same name
    # still, but the one in the same order ranks first.
    crossed = _crossed(partner_a, weights_a) | _crossed(partner_b, weights_b)
    value = 1.0 - (forward + backward) / 2 - ORDER_PENALTY * crossed
    result: npt.NDArray[np.float32] = np.clip(value, 0.0, 1.0).astype(np.float32)
    return result


def pairing(
    similarity: npt.NDArray[np.float32],
    weights_a: npt.NDArray[np.float32],
    weights_b: npt.NDArray[np.float32],
) -> tuple[
    npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float32], npt.NDArray[np.float32]
]:
    """Pair the tokens of two names one to one, most alike first (greedy, ties to the
    first pair), for every matrix of ``similarity`` ``(..., A, B)`` at once; padding
    tokens (weight 0) are never paired.

    Returns each ``a`` token's partner index in ``b`` and each ``b`` token's in ``a``
    (-1 when unpaired), and each token's similarity to its partner (0 when unpaired).
    One to one, a name's token stands for one token of the other: ``أحمد أحمد علي``
    is not ``Ahmed Ali`` with both ``أحمد`` taking the same ``Ahmed``.
    """
    rows, columns = similarity.shape[-2:]
    batch = np.broadcast_shapes(similarity.shape[:-2], weights_a.shape[:-1], weights_b.shape[:-1])
    free = np.array(np.broadcast_to(similarity, (*batch, rows, columns)), dtype=np.float32)
    free = np.maximum(free, 0.0).reshape(-1, rows, columns)
    count = free.shape[0]
    padding_a = np.broadcast_to(weights_a <= 0, (*batch, rows)).reshape(count, rows)
    padding_b = np.broadcast_to(weights_b <= 0, (*batch, columns)).reshape(count, columns)
    free[padding_a[:, :, None] | padding_b[:, None, :]] = -1.0
    partner_a = np.full((count, rows), -1, dtype=np.intp)
    partner_b = np.full((count, columns), -1, dtype=np.intp)
    paired_a = np.zeros((count, rows), dtype=np.float32)
    paired_b = np.zeros((count, columns), dtype=np.float32)
    every = np.arange(count)
    for _ in range(min(rows, columns)):
        flat = free.reshape(count, rows * columns)
        best = flat.argmax(axis=1)
        value = flat[every, best]
        valid = value >= 0.0
        if not valid.any():
            break
        which = every[valid]
        row, column = np.divmod(best[valid], columns)
        partner_a[which, row], partner_b[which, column] = column, row
        paired_a[which, row] = paired_b[which, column] = value[valid]
        free[which, row, :] = -1.0
        free[which, :, column] = -1.0
    return (
        partner_a.reshape(*batch, rows),
        partner_b.reshape(*batch, columns),
        paired_a.reshape(*batch, rows),
        paired_b.reshape(*batch, columns),
    )


def _crossed(
    partner: npt.NDArray[np.intp], weights: npt.NDArray[np.float32]
) -> npt.NDArray[np.bool_]:
    """Whether the partners of one side's tokens are out of order (padding and unpaired
    tokens are never out of order)."""
    kept = (weights > 0) & (partner >= 0)
    ahead = np.where(kept, partner, -1)
    # The largest partner index among the tokens before each token.
    before = np.maximum.accumulate(ahead, axis=-1)[..., :-1]
    result: npt.NDArray[np.bool_] = np.asarray(
        (kept[..., 1:] & (partner[..., 1:] < before)).any(axis=-1)
    )
    return result


def _direction(
    best: npt.NDArray[np.float32], weights: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Weighted root mean square of distances of one side's tokens to their partners."""
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
