"""The service finder: rank catalogue services for a citizen's free text.

A query is scored three ways and the scores are fused (``docs/language-finder.md``):

* **semantic** — the best cosine between the query (and its Arabic-script rewrite when it
  is Arabizi) and the service's titles, descriptions and keywords, under the multilingual
  Universal Sentence Encoder; rescaled from ``[floor, 1]`` to ``[0, 1]``;
* **phrase** — the best character n-gram TF-IDF cosine between the folded query forms
  (original, Tifinagh → Latin, Arabizi → Arabic) and one title or keyword of the service,
  in any script, in ``[0, 1]``;
* **service** — the same cosine against all the service's titles and keywords at once.

``lexical = s · phrase + (1 - s) · service`` and ``score = w · semantic + (1 - w) · lexical``
with ``w`` chosen by the query's dominant script, because the encoder cannot read Tifinagh
and reads Latin-script Amazigh poorly. ``s`` and ``w`` were tuned on the dev part of
``benchmarks/data/service_queries.tsv``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from jisr.language.finder.lexical import FloatArray, LexicalIndex
from jisr.language.finder.normalise import (
    Normaliser,
    Script,
    default_normalisers,
    dominant_script,
    fold,
    has_tifinagh,
)
from jisr.language.finder.semantic import (
    SemanticIndex,
    SentenceEncoder,
    UniversalSentenceEncoder,
)
from jisr.services.catalogue import Catalogue, Service, load_catalogue

__all__ = [
    "MAX_QUERY_CHARS",
    "FinderSettings",
    "ServiceFinder",
    "ServiceMatch",
    "Signals",
    "default_finder",
    "fuse",
]

_ENCODED_LANGUAGES = ("ar", "ary", "fr", "en")  # the encoder does not read Tifinagh
#: Only the start of a longer text is searched: a request for a service fits in far less,
#: and the encoder and the Arabizi model cost time linear in the length (a 100 kB text
#: takes tens of seconds; 1 000 characters of Arabizi still take 0.2 s).
MAX_QUERY_CHARS = 500
_WARM_UP = "bghit 3afak \u2d30\u2d63\u2d53\u2d4d"  # Arabizi and Tifinagh: every normaliser runs


def _tuned_weights() -> dict[Script, float]:
    # benchmarks/service_finder.py --tune on the dev queries (docs/language-finder.md).
    return {"arabic": 0.5, "latin": 0.3, "tifinagh": 0.4}


class FinderSettings(BaseModel):
    """How the signals are fused; defaults tuned on the dev queries."""

    model_config = ConfigDict(frozen=True)

    semantic_weight: dict[Script, float] = Field(
        default_factory=_tuned_weights,
        description="Weight of the semantic score per dominant query script, in [0, 1].",
    )
    semantic_floor: float = Field(
        default=0.3, ge=0, lt=1, description="Cosine mapped to a semantic score of 0."
    )
    phrase_share: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Share of the best single phrase in the lexical score; the rest is the "
        "match against all of the service's phrases together.",
    )
    ngram_sizes: tuple[int, int] = (2, 4)
    encoder_threads: int = Field(default=1, ge=1)


@dataclass(frozen=True)
class Signals:
    """The raw per-service scores of one query, before fusion."""

    script: Script
    phrase: FloatArray  # best TF-IDF cosine to one title or keyword, [0, 1]
    service: FloatArray  # TF-IDF cosine to all titles and keywords together, [0, 1]
    semantic: FloatArray  # best encoder cosine, [-1, 1]


def fuse(signals: Signals, settings: FinderSettings) -> FloatArray:
    """``w · rescaled semantic + (1 - w) · lexical``, ``w`` chosen by the query's script.

    ``lexical = s · phrase + (1 - s) · service``: the best phrase rewards one precise
    match, the whole service rewards evidence spread over several of its keywords.
    """
    floor = settings.semantic_floor
    semantic = np.clip((signals.semantic - floor) / (1 - floor), 0.0, 1.0)
    share = settings.phrase_share
    lexical = share * signals.phrase + (1 - share) * signals.service
    weight = settings.semantic_weight.get(signals.script, 0.5)
    fused: FloatArray = np.clip(weight * semantic + (1 - weight) * lexical, 0.0, 1.0)
    return fused.astype(np.float32)


@dataclass(frozen=True)
class ServiceMatch:
    """One ranked result: the service id and its fused score in [0, 1]."""

    service_id: str
    score: float


class ServiceFinder:
    """Rank the services of a catalogue for free text in any catalogue language or script.

    Building it embeds the catalogue (seconds); keep one per process and call :meth:`find`
    for each query.
    """

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        *,
        encoder: SentenceEncoder | None = None,
        normalisers: Sequence[Normaliser] | None = None,
        settings: FinderSettings | None = None,
    ) -> None:
        self.settings = settings or FinderSettings()
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        services = list(self.catalogue)
        self._ids = tuple(service.id for service in services)
        self._normalisers = tuple(default_normalisers() if normalisers is None else normalisers)
        n, sizes = len(services), self.settings.ngram_sizes
        phrases = [[fold(text) for text in _phrases(service)] for service in services]
        self._phrases = LexicalIndex(
            [(i, text) for i, texts in enumerate(phrases) for text in texts], n, sizes
        )
        self._services = LexicalIndex(list(enumerate(map(" ".join, phrases))), n, sizes)
        self._warm_up()
        self._semantic = SemanticIndex(
            encoder or UniversalSentenceEncoder(self.settings.encoder_threads),
            [(i, text) for i, service in enumerate(services) for text in _sentences(service)],
            n,
        )

    def find(self, text: str, limit: int = 5) -> list[ServiceMatch]:
        """The ``limit`` best services for ``text``, best first, scores in [0, 1]."""
        scores = self.scores(text)
        order = np.argsort(-scores, kind="stable")[: max(limit, 0)]
        return [ServiceMatch(self._ids[i], round(float(scores[i]), 4)) for i in order]

    def scores(self, text: str) -> FloatArray:
        """The fused score of every service, in catalogue id order."""
        return fuse(self.signals(text), self.settings)

    def signals(self, text: str) -> Signals:
        """The unfused per-service scores of ``text`` (for fusion tuning and debugging)."""
        text = text[:MAX_QUERY_CHARS]
        forms = self._forms(text)
        script = dominant_script(text)
        folded = list(dict.fromkeys(fold(form) for form in forms))
        readable = [form for form in forms if not has_tifinagh(form)]
        if self.settings.semantic_weight.get(script, 0.5) == 0:
            readable = []  # the encoder call would cost time and add nothing
        return Signals(
            script,
            self._phrases.scores(folded),
            self._services.scores(folded),
            self._semantic.scores(readable),
        )

    def _warm_up(self) -> None:
        """Load the normalisers' models now rather than on a citizen's first query."""
        for normalise in self._normalisers:
            normalise(_WARM_UP)

    def _forms(self, text: str) -> list[str]:
        """The query and each normaliser's rewrite of it, without duplicates."""
        rewrites = (normalise(text) for normalise in self._normalisers)
        return list(dict.fromkeys([text, *(form for form in rewrites if form)]))


def _phrases(service: Service) -> Iterator[str]:
    """The short strings the lexical index matches: titles and keywords in every script."""
    for text in service.texts.values():
        yield text.title
        yield from text.keywords
    for keywords in service.latin_keywords.values():
        yield from keywords


def _sentences(service: Service) -> Iterator[str]:
    """The texts the encoder embeds: titles, descriptions, keywords it can read."""
    for language in _ENCODED_LANGUAGES:
        text = service.texts[language]
        yield text.title
        yield text.description
        yield from text.keywords


@cache
def default_finder() -> ServiceFinder:
    """The process-wide finder over the shipped catalogue (built on first use)."""
    return ServiceFinder()
