"""Lexical matching: character n-gram TF-IDF over the catalogue's titles and keywords.

Character n-grams (within word boundaries, padded with spaces) tolerate typos, clitics
(Darija ``ف``/``ال`` prefixes, Amazigh state prefixes ``t``/``u``) and partial words,
and work identically in every script once :func:`~jisr.language.finder.normalise.fold`
has merged spelling variants. Each service owns several short documents (one per
language and per keyword list); a service scores the best cosine any of them reaches.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["LexicalIndex", "char_ngrams"]

FloatArray = npt.NDArray[np.float32]


def char_ngrams(text: str, sizes: tuple[int, int]) -> Counter[str]:
    """Counts of the character n-grams of each word of ``text`` padded with spaces."""
    low, high = sizes
    grams: Counter[str] = Counter()
    for word in text.split():
        padded = f" {word} "
        for n in range(low, high + 1):
            grams.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class LexicalIndex:
    """TF-IDF (sublinear tf, smoothed idf, L2-normalised) over per-service documents."""

    def __init__(
        self, documents: Sequence[tuple[int, str]], n_services: int, sizes: tuple[int, int]
    ) -> None:
        """``documents`` are ``(service index, folded text)`` pairs."""
        self._sizes = sizes
        self._n_services = n_services
        self._owners = np.array([owner for owner, _ in documents], dtype=np.int64)
        counts = [char_ngrams(text, sizes) for _, text in documents]
        self._vocabulary = {gram: i for i, gram in enumerate(sorted(set().union(*counts)))}
        self._idf = self._inverse_frequencies(counts)
        # Stored n-gram-major: a query touches ~100 of ~20 000 n-grams, so scoring reads
        # only those rows instead of streaming the whole (documents x n-grams) matrix.
        self._by_gram = np.ascontiguousarray(np.stack([self._vector(c) for c in counts]).T)

    def _inverse_frequencies(self, counts: Iterable[Counter[str]]) -> FloatArray:
        frequency = np.zeros(len(self._vocabulary), dtype=np.float32)
        n_documents = 0
        for count in counts:
            n_documents += 1
            frequency[[self._vocabulary[gram] for gram in count]] += 1
        return (np.log((1 + n_documents) / (1 + frequency)) + 1).astype(np.float32)

    def _vector(self, count: Counter[str]) -> FloatArray:
        vector = np.zeros(len(self._vocabulary), dtype=np.float32)
        columns, weights = self._weights(count)
        vector[columns] = weights
        return vector

    def _weights(self, count: Counter[str]) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """The known n-grams of ``count`` and their L2-normalised TF-IDF weights."""
        known = [
            (self._vocabulary[gram], n) for gram, n in count.items() if gram in self._vocabulary
        ]
        columns = np.array([column for column, _ in known], dtype=np.int64)
        tf = np.array([1 + math.log(n) for _, n in known], dtype=np.float32)
        weights = tf * self._idf[columns] if known else tf
        norm = float(np.sqrt(np.dot(weights, weights)))
        return columns, weights / norm if norm else weights

    def scores(self, folded_queries: Sequence[str]) -> FloatArray:
        """Per service, the best cosine between any query form and any of its documents."""
        best = np.zeros(self._n_services, dtype=np.float32)
        for query in folded_queries:
            if not query:
                continue
            columns, weights = self._weights(char_ngrams(query, self._sizes))
            # einsum, not BLAS: a multi-threaded gemv this small only waits on its threads.
            per_document = np.einsum("gd,g->d", self._by_gram[columns], weights)
            np.maximum.at(best, self._owners, per_document)
        return best
