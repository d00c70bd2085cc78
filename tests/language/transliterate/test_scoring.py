"""Error rates after spelling normalisation, and the n-gram model they rely on."""

from __future__ import annotations

import math

import pytest

from jisr.language.transliterate.arabic import normalise_for_scoring
from jisr.language.transliterate.ngram import NgramModel
from jisr.language.transliterate.scoring import edit_distance, error_rates


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("أنا", "انا"),
        ("إلى", "الي"),
        ("مدرسة", "مدرسه"),
        ("بزّاف", "بزاف"),
        ("كـتـاب", "كتاب"),
        ("ڭال", "ݣال"),
        ("واش؟  لا،", "واش? لا,"),
    ],
)
def test_spelling_variants_are_unified(text: str, normal: str) -> None:
    """Alef, ya, ta marbuta, gaf variants, diacritics, tatweel, punctuation, spaces."""
    assert normalise_for_scoring(text) == normal


def test_edit_distance() -> None:
    """Levenshtein distance with unit costs."""
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a"]) == 1
    assert edit_distance("same", "same") == 0


def test_error_rates_are_micro_averaged_after_normalisation() -> None:
    """Variant spellings cost nothing; a wrong letter costs one over all characters."""
    rates = error_rates(["أنا هنا", "مدرسة"], ["انا هنا", "مدرصة"])
    assert rates.cer == pytest.approx(1 / 12)
    assert rates.wer == pytest.approx(1 / 3)
    assert rates.sentences == 2


def test_ngram_probabilities_sum_to_one() -> None:
    """Witten-Bell smoothed distributions are proper, for seen and unseen histories."""
    model = NgramModel.train(3, [list("abcab"), list("abba"), list("cab")])
    tokens = [*"abc", "\x02"]
    for history in (["a", "b"], ["c", "c"], []):
        total = sum(math.exp(model.logprob(token, history)) for token in tokens)
        unseen = math.exp(model.logprob("z", history))
        assert total + unseen == pytest.approx(1.0)


def test_ngram_round_trips_through_json() -> None:
    """A saved model gives the same probabilities."""
    model = NgramModel.train(2, [list("abab")])
    again = NgramModel.from_json(model.to_json())
    assert again.logprob("b", ["a"]) == model.logprob("b", ["a"])
