"""The Witten-Bell n-gram: the batched log-probabilities equal the single ones bit for bit."""

from __future__ import annotations

import pytest

from jisr.language.transliterate.ngram import BOUNDARY, NgramModel


@pytest.fixture(scope="module")
def model() -> NgramModel:
    """A trigram over a few letter sequences."""
    return NgramModel.train(3, ["abcab", "bca", "aab", "cc", "abd"])


@pytest.mark.parametrize(
    "history",
    [
        (BOUNDARY, BOUNDARY),
        ("a", "b"),
        ("b", "c"),
        ("c", "c"),
        ("d", "a"),  # the trigram history never seen: the bigram one decides
        ("x", "y"),  # neither seen: the unigram decides
        ("a", ""),  # the empty token the Arabizi search uses for a copied character
        ("", ""),
    ],
)
def test_logprobs_equal_logprob(model: NgramModel, history: tuple[str, str]) -> None:
    """Each batched value is exactly the value of :meth:`NgramModel.logprob`, also for
    histories and tokens the model never saw."""
    tokens = ("a", "b", "c", "d", "z", BOUNDARY)
    expected = tuple(model.logprob(token, history) for token in tokens)
    assert model.logprobs(tokens, history) == expected
    assert model.logprobs(tokens, history) == expected  # and so is the cached vector


def test_logprob_is_unchanged_by_batched_lookups() -> None:
    """Batched lookups first fill the caches; the single lookups then still agree."""
    first = NgramModel.train(3, ["abcab", "bca"])
    second = NgramModel.train(3, ["abcab", "bca"])
    first.logprobs(("a", "c"), ("b", "c"))
    assert first.logprob("a", ("b", "c")) == second.logprob("a", ("b", "c"))
