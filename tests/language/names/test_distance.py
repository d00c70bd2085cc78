"""The weighted edit distance: one pair in Python, a vocabulary at once in numpy."""

from __future__ import annotations

import random

import numpy as np

from jisr.language.names.costs import DELETE, SUBSTITUTE, SYMBOLS
from jisr.language.names.distance import EncodedKeys, key_similarity, similarities


def _random_keys(rng: random.Random, count: int, longest: int) -> list[str]:
    return ["".join(rng.choices(SYMBOLS, k=rng.randint(1, longest))) for _ in range(count)]


def test_vectorised_similarities_equal_the_pairwise_ones() -> None:
    """similarities() over a vocabulary gives key_similarity() for every pair."""
    rng = random.Random(7)
    vocabulary, queries = _random_keys(rng, 200, 14), _random_keys(rng, 6, 11)
    batch = similarities(queries, EncodedKeys(vocabulary))
    expected = [[key_similarity(q, v) for v in vocabulary] for q in queries]
    np.testing.assert_allclose(batch, expected, atol=1e-5)


def test_costs_are_symmetric_and_identity_is_free() -> None:
    """Substitution costs do not depend on which script came first; x for x costs 0."""
    np.testing.assert_array_equal(SUBSTITUTE, SUBSTITUTE.T)
    assert not np.diag(SUBSTITUTE).any()
    assert (DELETE > 0).all()


def test_similarity_bounds() -> None:
    """Equal keys score 1; keys with nothing in common score 0."""
    assert key_similarity("MHMD", "MHMD") == 1.0
    assert key_similarity("MHMD", "BTSZ") == 0.0
    assert key_similarity("", "") == 1.0
