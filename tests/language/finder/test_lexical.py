"""Character n-gram TF-IDF matching."""

from __future__ import annotations

from jisr.language.finder.lexical import LexicalIndex, char_ngrams


def test_char_ngrams_are_taken_within_padded_words() -> None:
    """N-grams never span two words; word edges are marked by spaces."""
    grams = char_ngrams("ab cd", (2, 3))
    assert grams[" a"] == 1 and grams["ab "] == 1
    assert "b c" not in grams


def test_each_service_scores_its_best_document() -> None:
    """A service owning several documents scores the best of them, in [0, 1]."""
    index = LexicalIndex([(0, "passport"), (0, "travel"), (1, "birth certificate")], 2, (2, 4))
    scores = index.scores(["pasport renewal"])
    assert scores[0] > scores[1] >= 0
    assert 0 < scores[0] <= 1
    assert index.scores(["birth"])[1] > 0


def test_unknown_or_empty_queries_score_zero() -> None:
    """Text sharing no n-gram with the catalogue, or no text at all, scores 0 everywhere."""
    index = LexicalIndex([(0, "passport"), (1, "visa")], 2, (2, 4))
    assert index.scores(["zzz"]).tolist() == [0.0, 0.0]
    assert index.scores([""]).tolist() == [0.0, 0.0]
    assert index.scores([]).tolist() == [0.0, 0.0]
