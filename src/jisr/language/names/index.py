"""Top-k search of a query name among many names, in any script.

Layout (all numpy arrays, saved together in one ``.npz`` file without pickles):

    vocabulary   every distinct token (:class:`.keys.NameToken`) of the indexed names: its
                 key variants as a padded int8 code matrix, the token owning each variant,
                 and the token's weight
    names        the distinct names as one UTF-8 blob with offsets, and their token ids as
                 an (N, T) matrix padded with the id of an empty token (weight 0)
    postings     for every token, the names holding it (CSR: indptr, indices)

A search keys the query's tokens, compares each with the whole vocabulary at once
(:func:`.distance.similarities`; the vocabulary of a population is small: names repeat),
and blocks on the vocabulary: a name is a candidate if it holds tokens near (similarity
≥ :data:`BLOCK`) to at least two of the query's tokens (one for a one-token query); if
that finds fewer than k names, nearness is loosened to :data:`LOOSE_BLOCK`, then one
near token is enough. Candidates are scored all at once with the alignment of
:func:`.scoring.align`; the best get the rest of :func:`.scoring.score` (the names compared
joined, where their token counts differ).
A query token near to no indexed token is first cut in two where both halves are
(``Fatimazahra`` for فاطمة الزهراء), for blocking and ranking; the hits are then scored
with :func:`.scoring.score` on the query as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from jisr.language.names.costs import SYMBOLS
from jisr.language.names.distance import EncodedKeys, similarities
from jisr.language.names.errors import NameIndexError
from jisr.language.names.keys import NameToken, name_tokens
from jisr.language.names.scoring import align, joined_similarity, score, token_weight

__all__ = ["BLOCK", "LOOSE_BLOCK", "NEAREST", "NameHit", "NameIndex"]

BLOCK: Final = 0.75
"""Token similarity at which a vocabulary token counts as near a query token."""
LOOSE_BLOCK: Final = 0.6
"""The nearness tried next, before settling for names near to one query token only."""
NEAREST: Final = 8
"""Each query token's most alike vocabulary tokens count as near from LOOSE_BLOCK up."""

_FORMAT: Final = 1
_MAX_TOKENS: Final = 8
_RESCORED: Final = 3  # re-score exactly this many times k of the best approximate hits
_CACHED_KEYS: Final = 4096
_PROGRESS_STEP: Final = 10_000
_MIN_HALF: Final = 3  # letters in each half of a cut compound


@dataclass(frozen=True, slots=True)
class NameHit:
    """One search result: an indexed name and its score against the query."""

    name: str
    score: float


@dataclass(slots=True)
class _Vocabulary:
    """Tokens being collected while an index is built."""

    ids: dict[tuple[str, ...], int]
    tokens: list[NameToken]

    def id_of(self, token: NameToken) -> int:
        found = self.ids.get(token.variants)
        if found is None:
            found = self.ids[token.variants] = len(self.tokens)
            self.tokens.append(token)
        return found


class NameIndex:
    """Distinct names, searchable by :func:`.scoring.score`; build, save, load, search."""

    def __init__(self, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
        self._arrays = arrays
        codes, lengths = arrays["variant_codes"], arrays["variant_lengths"]
        self._keys = EncodedKeys.from_arrays(codes.astype(np.int8), lengths.astype(np.int16))
        self._owner = arrays["variant_owner"].astype(np.intp)
        self._starts = np.flatnonzero(np.r_[True, self._owner[1:] != self._owner[:-1]])
        self._weights = np.append(arrays["token_weights"], np.float32(0.0))
        self._tokens = arrays["name_tokens"].astype(np.intp)
        self._indptr = arrays["postings_indptr"]
        self._postings = arrays["postings"]
        self._blob = arrays["names_blob"].tobytes()
        self._offsets = arrays["names_offsets"]
        self._cache: dict[str, npt.NDArray[np.float32]] = {}

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def nbytes(self) -> int:
        """Memory held by the index arrays."""
        return sum(array.nbytes for array in self._arrays.values())

    @property
    def vocabulary_size(self) -> int:
        """The number of distinct tokens."""
        return len(self._weights) - 1

    def name(self, position: int) -> str:
        """The indexed name at ``position`` (0-based, in build order)."""
        start, end = int(self._offsets[position]), int(self._offsets[position + 1])
        return self._blob[start:end].decode("utf-8")

    @classmethod
    def build(
        cls, names: Iterable[str], progress: Callable[[int], None] | None = None
    ) -> NameIndex:
        """An index of the distinct non-empty ``names``; ``progress(n)`` after each n read."""
        vocabulary = _Vocabulary({}, [])
        seen: dict[str, None] = {}
        count = 0
        rows: list[list[int]] = []
        for count, raw in enumerate(names, start=1):
            name = " ".join(raw.split())
            if name and name not in seen:
                tokens = name_tokens(name)[:_MAX_TOKENS]
                if tokens:
                    seen[name] = None
                    rows.append([vocabulary.id_of(token) for token in tokens])
            if progress is not None and count % _PROGRESS_STEP == 0:
                progress(_PROGRESS_STEP)
        if progress is not None and count % _PROGRESS_STEP:
            progress(count % _PROGRESS_STEP)
        return cls(_arrays(list(seen), rows, vocabulary.tokens))

    def search(self, query: str, k: int = 10) -> list[NameHit]:
        """The ``k`` indexed names most like ``query``, best first (ties by name)."""
        tokens = name_tokens(query)
        if not tokens or len(self) == 0 or k <= 0:
            return []
        near = self._query_similarities(tokens)
        split = self._split_compounds(tokens, near)
        if split is not None:
            tokens, near = split, self._query_similarities(split)
        candidates = self._candidates(near, k)
        if candidates.size == 0:
            return []
        aligned = self._aligned(near, tokens, candidates)
        keep = min(candidates.size, k * _RESCORED)
        chosen = np.argpartition(-aligned, keep - 1)[:keep]
        best = [(int(candidates[i]), float(aligned[i])) for i in chosen]
        if split is None:
            values = [self._final(tokens, position, value) for position, value in best]
        else:  # the query was re-tokenised: score it as written
            values = [score(query, self.name(position)) for position, _ in best]
        hits = [NameHit(self.name(p), v) for (p, _), v in zip(best, values, strict=True)]
        return sorted(hits, key=lambda hit: (-hit.score, hit.name))[:k]

    def save(self, path: Path) -> None:
        """Write the index to ``path`` (numpy ``.npz``; no pickled objects)."""
        with path.open("wb") as handle:
            np.savez(handle, **self._arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> NameIndex:
        """Read an index written by :meth:`save`; :class:`NameIndexError` if unusable."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError) as exc:
            raise NameIndexError(f"cannot read a name index from {path}: {exc}") from exc
        if set(arrays) != _FIELDS or arrays["format"].tolist() != [_FORMAT]:
            raise NameIndexError(f"{path} is not a name index of format {_FORMAT}")
        if not _consistent(arrays):
            raise NameIndexError(f"{path} is a damaged name index: its arrays do not agree")
        return cls(arrays)

    def _split_compounds(
        self, tokens: Sequence[NameToken], near: npt.NDArray[np.float32]
    ) -> tuple[NameToken, ...] | None:
        """The query with each token near to no indexed token cut in two, where both
        halves are near to indexed tokens (``Fatimazahra`` → ``Fatima``, ``Zahra``); None
        if no token is cut."""
        best = near[:, :-1].max(axis=1, initial=0.0)
        result: list[NameToken] = []
        for token, nearness in zip(tokens, best, strict=True):
            halves = self._halves(token) if nearness < BLOCK else None
            result.extend(halves or (token,))
        return tuple(result) if len(result) > len(tokens) else None

    def _halves(self, token: NameToken) -> tuple[NameToken, ...] | None:
        """The best cut of one token into two whose halves are near to indexed tokens."""
        cuts = [
            name_tokens(f"{token.text[:cut]} {token.text[cut:]}")
            for cut in range(_MIN_HALF, len(token.text) - _MIN_HALF + 1)
        ]
        cuts = [halves for halves in cuts if len(halves) == 2]
        if not cuts:
            return None
        rows = self._rows([key for halves in cuts for half in halves for key in half.variants])
        worst = [
            min(max(float(rows[key].max(initial=0.0)) for key in half.variants) for half in halves)
            for halves in cuts
        ]
        best = int(np.argmax(worst))
        return cuts[best] if worst[best] >= BLOCK else None

    def _query_similarities(self, tokens: Sequence[NameToken]) -> npt.NDArray[np.float32]:
        """(Q, V + 1): each query token against each vocabulary token; last column padding."""
        rows = self._rows([variant for token in tokens for variant in token.variants])
        per_token = [np.max([rows[key] for key in token.variants], axis=0) for token in tokens]
        return np.pad(np.array(per_token, dtype=np.float32), ((0, 0), (0, 1)))

    def _rows(self, keys: list[str]) -> dict[str, npt.NDArray[np.float32]]:
        """Each key's similarity to every vocabulary token (its best variant).

        Rows are cached (:data:`_CACHED_KEYS`, the oldest dropped first): names repeat, so
        query tokens do too.
        """
        rows = {key: self._cache.get(key) for key in keys}
        missing = [key for key, row in rows.items() if row is None]
        if missing:
            per_variant = similarities(missing, self._keys)  # (keys, vocabulary variants)
            per_token = np.maximum.reduceat(per_variant, self._starts, axis=1)
            for key, row in zip(missing, per_token, strict=True):
                rows[key] = self._cache[key] = row
            while len(self._cache) > _CACHED_KEYS:
                del self._cache[next(iter(self._cache))]
        return {key: row for key, row in rows.items() if row is not None}

    def _candidates(self, near: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.intp]:
        """Names holding tokens near to two query tokens; if fewer than k, with a looser
        nearness; if still fewer, names near to one query token.

        Near is similarity ≥ :data:`BLOCK`, or ≥ :data:`LOOSE_BLOCK` for the
        :data:`NEAREST` most alike vocabulary tokens of each query token: a rare family
        name written unusually (``Serhani`` for السرحاني) still brings in its holders,
        without the many holders of every loosely near common token.
        """
        need = min(2, len(near))
        nearest = self._nearest(near)
        for block in (BLOCK, LOOSE_BLOCK):
            counts = self._counts((near >= block) | nearest)
            candidates = np.flatnonzero(counts >= need)
            if candidates.size >= k or need == 1:
                return candidates
        return np.flatnonzero(self._counts((near >= BLOCK) | nearest) >= 1)

    @staticmethod
    def _nearest(near: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        """(Q, V + 1): each query token's :data:`NEAREST` most alike vocabulary tokens
        that are at least :data:`LOOSE_BLOCK` alike (the padding column never)."""
        vocabulary = near[:, :-1]
        result = np.zeros(near.shape, dtype=np.bool_)
        if vocabulary.shape[1] == 0:
            return result
        count = min(NEAREST, vocabulary.shape[1])
        top = np.argpartition(-vocabulary, count - 1, axis=1)[:, :count]
        rows = np.arange(len(near))[:, None]
        result[rows, top] = vocabulary[rows, top] >= LOOSE_BLOCK
        return result

    def _counts(self, near: npt.NDArray[np.bool_]) -> npt.NDArray[np.int8]:
        """For every name, how many query tokens it holds a near token to."""
        counts = np.zeros(len(self), dtype=np.int8)
        for row in near[:, :-1]:
            holders = np.zeros(len(self), dtype=np.bool_)
            for token in np.flatnonzero(row):
                holders[self._postings[self._indptr[token] : self._indptr[token + 1]]] = True
            counts += holders
        return counts

    def _aligned(
        self,
        near: npt.NDArray[np.float32],
        tokens: Sequence[NameToken],
        candidates: npt.NDArray[np.intp],
    ) -> npt.NDArray[np.float32]:
        """Token-alignment scores of the candidates (:func:`.scoring.score` before joining)."""
        held = self._tokens[candidates]  # (C, T)
        similarity = np.ascontiguousarray(near.T)[held]  # (C, T, Q), contiguous
        query_weights = np.array([token_weight(t) for t in tokens], dtype=np.float32)
        return align(similarity, self._weights[held], query_weights)

    def _final(self, query: Sequence[NameToken], position: int, aligned: float) -> float:
        """:func:`.scoring.score`: the alignment, or the joined names if their token counts
        differ and that is better."""
        held = [int(t) for t in self._tokens[position] if t < self.vocabulary_size]
        best = float(aligned)
        if len(held) != len(query):
            best = max(best, joined_similarity(query, [self._token(t) for t in held]))
        return round(best, 4)

    def _token(self, token: int) -> NameToken:
        """A vocabulary token rebuilt from its key codes (its text is not kept)."""
        start = int(self._starts[token])
        end = int(self._starts[token + 1]) if token + 1 < len(self._starts) else len(self._owner)
        keys = tuple(self._keys.key(row) for row in range(start, end))
        return NameToken("", "", keys)


_FIELDS: Final = frozenset(
    {"format", "names_blob", "names_offsets", "name_tokens", "variant_codes",
     "variant_lengths", "variant_owner", "token_weights", "postings_indptr", "postings"}
)  # fmt: skip


def _consistent(arrays: dict[str, npt.NDArray[np.generic]]) -> bool:
    """Whether every id and offset of a loaded index points inside its arrays."""
    names, vocabulary = len(arrays["names_offsets"]) - 1, len(arrays["token_weights"])
    owner, postings = arrays["variant_owner"], arrays["postings"]
    checks = [
        arrays["names_offsets"][-1] == arrays["names_blob"].size,
        arrays["name_tokens"].ndim == 2 and len(arrays["name_tokens"]) == names,
        _within(arrays["name_tokens"], vocabulary + 1),
        len(owner) == len(arrays["variant_codes"]) == len(arrays["variant_lengths"]),
        _within(owner, vocabulary) and (np.diff(owner) >= 0).all(),
        _within(arrays["variant_codes"], len(SYMBOLS) + 1),
        len(arrays["postings_indptr"]) == vocabulary + 1,
        arrays["postings_indptr"][-1] == len(postings) and _within(postings, names),
    ]
    return all(bool(check) for check in checks)


def _within(values: npt.NDArray[np.generic], limit: int) -> bool:
    return values.size == 0 or bool(values.min() >= 0 and values.max() < limit)


def _arrays(
    names: list[str], rows: list[list[int]], tokens: list[NameToken]
) -> dict[str, npt.NDArray[np.generic]]:
    """The arrays of an index (see the module docstring for the layout)."""
    encoded = [name.encode("utf-8") for name in names]
    offsets = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    width = max((len(row) for row in rows), default=1)
    matrix = np.full((len(rows), width), len(tokens), dtype=np.int32)
    for position, row in enumerate(rows):
        matrix[position, : len(row)] = row
    variants = [(owner, key) for owner, token in enumerate(tokens) for key in token.variants]
    keys = EncodedKeys([key for _, key in variants])
    indptr, postings = _postings(matrix, len(tokens))
    return {
        "format": np.array([_FORMAT], dtype=np.int32),
        "names_blob": np.frombuffer(b"".join(encoded), dtype=np.uint8),
        "names_offsets": offsets,
        "name_tokens": matrix,
        "variant_codes": keys.codes,
        "variant_lengths": keys.lengths,
        "variant_owner": np.array([owner for owner, _ in variants], dtype=np.int32),
        "token_weights": np.array([token_weight(t) for t in tokens], dtype=np.float32),
        "postings_indptr": indptr,
        "postings": postings,
    }


def _postings(
    matrix: npt.NDArray[np.int32], vocabulary: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """For every token id, the sorted distinct rows of ``matrix`` that hold it."""
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int32), matrix.shape[1])
    tokens = matrix.ravel()
    keep = tokens < vocabulary
    pairs = np.unique(np.stack([tokens[keep], rows[keep]], axis=1), axis=0)
    indptr = np.zeros(vocabulary + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs[:, 0], minlength=vocabulary), out=indptr[1:])
    return indptr, pairs[:, 1].astype(np.int32)
