"""Weighted edit distance between phonetic keys, and the token similarity built on it.

The distance is Levenshtein's with per-symbol deletion costs and a substitution matrix
(:mod:`.costs`). A similarity in [0, 1] divides it by the *mass* of the heavier key (the
cost of deleting all of it), so that a short vowel missed in a long name weighs less than
in a short one. :func:`similarities` computes one key against a whole vocabulary at once
with numpy, one dynamic-programming row per query symbol, vectorised over the vocabulary.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

from jisr.language.names.costs import DELETE, SUBSTITUTE, SYMBOLS, code_of

__all__ = ["EncodedKeys", "key_mass", "key_similarity", "similarities"]

# Distances are divided by the mass of the heavier key, but by no more than this: a wrong
# long vowel is as wrong in a long compound (عبيد العزيز/Abdelaziz) as in a short name.
MAX_NORMALISER: Final = 4.0
_PAD = len(DELETE)  # code of the padding symbol in encoded key arrays
_DELETE_PADDED = np.append(DELETE, np.float32(0.0))
# Matching query padding to a symbol costs inserting that symbol.
_SUBSTITUTE_PADDED = np.pad(SUBSTITUTE, ((0, 1), (0, 1)))
_SUBSTITUTE_PADDED[_PAD, :] = _DELETE_PADDED


def key_mass(key: str) -> float:
    """The cost of deleting every symbol of ``key``."""
    return float(sum(DELETE[code] for code in code_of(key)))


@lru_cache(maxsize=1 << 16)
def key_similarity(a: str, b: str) -> float:
    """``1 - distance / min(max(mass), 4)``, clipped to [0, 1]; 1 means the same key."""
    mass = min(MAX_NORMALISER, max(key_mass(a), key_mass(b)))
    if mass == 0.0:
        return 1.0 if a == b else 0.0
    return max(0.0, 1.0 - _distance(code_of(a), code_of(b)) / mass)


def _distance(a: list[int], b: list[int]) -> float:
    previous = [0.0]
    for code in b:
        previous.append(previous[-1] + float(DELETE[code]))
    for x in a:
        current = [previous[0] + float(DELETE[x])]
        for j, y in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + float(DELETE[x]),
                    current[j - 1] + float(DELETE[y]),
                    previous[j - 1] + float(SUBSTITUTE[x, y]),
                )
            )
        previous = current
    return previous[-1]


class EncodedKeys:
    """Many keys as one padded code matrix, with lengths and masses, for :func:`similarities`.

    For the dynamic programme the keys are also grouped by length, so that no work is
    spent on padding.
    """

    def __init__(self, keys: list[str]) -> None:
        width = max((len(key) for key in keys), default=0)
        codes = np.full((len(keys), width), _PAD, dtype=np.int8)
        for row, key in enumerate(keys):
            codes[row, : len(key)] = code_of(key)
        self._set(codes, np.array([len(key) for key in keys], dtype=np.int16))

    def _set(self, codes: npt.NDArray[np.int8], lengths: npt.NDArray[np.int16]) -> None:
        self.codes = codes
        self.lengths = lengths
        self.masses = _DELETE_PADDED[codes.astype(np.intp)].sum(axis=1, dtype=np.float32)
        self.buckets: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
        for length in np.unique(lengths):
            rows = np.flatnonzero(lengths == length)
            self.buckets.append((rows, codes[rows, :length].astype(np.intp)))

    def __len__(self) -> int:
        return len(self.lengths)

    def key(self, row: int) -> str:
        """The key at ``row``, decoded."""
        return "".join(SYMBOLS[code] for code in self.codes[row, : self.lengths[row]])

    @classmethod
    def from_arrays(
        cls, codes: npt.NDArray[np.int8], lengths: npt.NDArray[np.int16]
    ) -> EncodedKeys:
        """Keys already encoded (e.g. loaded from an index file)."""
        encoded = cls([])
        encoded._set(codes, lengths)
        return encoded


def similarities(keys: list[str], vocabulary: EncodedKeys) -> npt.NDArray[np.float32]:
    """:func:`key_similarity` of each of ``keys`` against every key of ``vocabulary``:
    an array (len(keys), len(vocabulary))."""
    width = max((len(key) for key in keys), default=0)
    query = np.full((len(keys), width), _PAD, dtype=np.intp)
    for row, key in enumerate(keys):
        query[row, : len(key)] = code_of(key)
    distance = np.zeros((len(keys), len(vocabulary)), dtype=np.float32)
    for rows, codes in vocabulary.buckets:
        distance[:, rows] = _distances(query, codes)
    masses = np.array([key_mass(key) for key in keys], dtype=np.float32)[:, None]
    mass = np.minimum(np.maximum(vocabulary.masses[None], masses), MAX_NORMALISER)
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = np.where(mass > 0, 1.0 - distance / mass, 0.0)
    return np.clip(similarity, 0.0, 1.0).astype(np.float32)


def _distances(query: npt.NDArray[np.intp], codes: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
    """Distances (K, n) of K padded query keys to n keys of one length, in one programme.

    Query padding costs nothing to delete and as much to match as to insert, so it changes
    no distance. Within a row, insertions are a running minimum:
    ``D[j] = C[j] + min_{i<=j}(B[i] - C[i])`` with ``C`` the cumulative insertion costs and
    ``B`` the best of substitution and deletion, computed without a loop over columns.
    """
    cumulative = np.concatenate(
        [np.zeros((len(codes), 1), np.float32), np.cumsum(DELETE[codes], axis=1)], axis=1
    )
    previous = np.broadcast_to(cumulative, (len(query), *cumulative.shape))
    for column in query.T:
        delete = _DELETE_PADDED[column][:, None, None]  # (K, 1, 1)
        substitute = _SUBSTITUTE_PADDED[column][:, codes]  # (K, n, L)
        best = np.empty_like(previous)
        best[..., 0] = previous[..., 0] + delete[..., 0]
        np.minimum(previous[..., :-1] + substitute, previous[..., 1:] + delete, out=best[..., 1:])
        best -= cumulative
        previous = np.minimum.accumulate(best, axis=-1)
        previous += cumulative
    return previous[..., -1]
