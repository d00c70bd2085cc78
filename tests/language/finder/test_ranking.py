# ruff: noqa: RUF001 - Arabic, Tifinagh and IRCAM Latin letters are the data under test
"""Ranking services for citizens' text in every catalogue language and script.

The example queries come from the dev part of benchmarks/data/service_queries.tsv.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from jisr.language.finder import FinderSettings, ServiceFinder
from jisr.language.finder.lexical import FloatArray
from jisr.language.finder.normalise import tifinagh_normaliser
from jisr.language.finder.ranking import MAX_QUERY_CHARS

EXAMPLES = [
    ("ar", "كيف احصل على شهادة وفاة جدتي", "ma.civil.death-certificate"),
    ("ar", "توثيق شهادتي الجامعية للعمل في قطر", "qa.education.certificate-attestation"),
    ("ary_Arab", "بغيت نخرج الباسبور", "ma.passport.application"),
    ("ary_Arab", "خصني ورقة من الضرائب للصفقة", "ma.tax.compliance-certificate"),
    ("ary_Latn", "salam, je voudrais l'acte de naissance dyal weldi", "ma.civil.birth-certificate"),
    ("ary_Latn", "l9it khedma f doha w bghit visa", "qa.work.visa"),
    ("zgh_Tfng", "ⵜⴰⵎⵟⵟⵓⵜ ⵉⵏⵓ ⵜⵔⴰ ⴰⵙⵍⴽⵉⵏ ⵏ ⵓⵣⵡⴰⵊ", "ma.civil.marriage-certificate"),
    ("zgh_Tfng", "ⵔⵉⵖ ⵜⴰⴽⴰⵔⴹⴰ ⵏ ⵜⴰⴷⵓⵙⵉ ⴳ ⵇⴰⵟⴰⵕ", "qa.health.card"),
    ("ber_Latn", "baba immut, riɣ ad sjjlɣ tamttant nnes", "ma.civil.death-certificate"),
    ("ber_Latn", "mamk ad awiɣ turagt n tnduhi", "ma.driving.licence"),
    ("fr", "comment obtenir une copie intégrale de naissance de ma fille", "ma.civil.birth-certificate"),  # noqa: E501
    ("fr", "obtenir un visa de travail pour Doha", "qa.work.visa"),
    ("en", "my father passed away, how do I report the death", "ma.civil.death-certificate"),
    ("en", "tax clearance certificate for a public tender", "ma.tax.compliance-certificate"),
]  # fmt: skip


def _top3(finder: ServiceFinder, text: str) -> list[str]:
    return [match.service_id for match in finder.find(text, limit=3)]


@pytest.mark.parametrize(("language", "text", "expected"), EXAMPLES)
def test_example_queries_find_their_service(
    finder: ServiceFinder, language: str, text: str, expected: str
) -> None:
    """In each language and script, the expected service is among the first three."""
    assert expected in _top3(finder, text), language


def test_code_switching_darija_french(finder: ServiceFinder) -> None:
    """Arabizi mixed with French finds the passport service first."""
    assert _top3(finder, "bghit nkhrej l passport")[0] == "ma.passport.application"


def test_tifinagh_and_its_latin_form_agree(finder: ServiceFinder) -> None:
    """A Tifinagh query and its IRCAM Latin transcription rank the same service first."""
    tifinagh = "ⵔⵉⵖ ⴰⴷ ⴰⵡⵉⵖ ⴰⴱⴰⵙⴱⵓⵔ ⴰⵎⴰⵢⵏⵓ"
    latin = tifinagh_normaliser(tifinagh)
    assert latin == "riɣ ad awiɣ abasbur amaynu"
    assert _top3(finder, tifinagh)[0] == _top3(finder, latin)[0] == "ma.passport.application"


@pytest.mark.parametrize(
    "text",
    ["🙂🙂🙂", "🚗 carte grise ⵜⴰⴽⴰⵔⵓⵙⵜ السيارة", "?!", "x" * 5000, "123 456", "\u200f\u200e"],
)
def test_odd_text_is_ranked_without_error(finder: ServiceFinder, text: str) -> None:
    """Emoji, mixed scripts, symbols and long text give valid, sorted scores in [0, 1]."""
    matches = finder.find(text, limit=21)
    scores = [match.score for match in matches]
    assert len(matches) == 21
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= score <= 1.0 for score in scores)


def test_mixed_script_query_uses_every_part(finder: ServiceFinder) -> None:
    """A car emoji, French, Tifinagh and Arabic about a car find vehicle registration."""
    assert _top3(finder, "🚗 carte grise ⵜⴰⴽⴰⵔⵓⵙⵜ السيارة")[0] == "ma.vehicle.registration"


def test_limit_bounds_the_results(finder: ServiceFinder) -> None:
    """``limit`` caps the number of matches; zero gives none."""
    assert len(finder.find("passport", limit=2)) == 2
    assert finder.find("passport", limit=0) == []


def test_finder_works_without_any_normaliser() -> None:
    """With no transliterator at all the finder still ranks, from the original text only."""
    finder = ServiceFinder(normalisers=(), encoder=BagOfWordsEncoder())
    assert _top3(finder, "passeport")[0] == "ma.passport.application"


def test_semantic_weight_zero_skips_the_encoder() -> None:
    """Where the semantic weight is 0 the encoder is not called for the query."""
    encoder = BagOfWordsEncoder()
    settings = FinderSettings(semantic_weight={"latin": 0.0})
    finder = ServiceFinder(encoder=encoder, settings=settings)
    calls = encoder.calls
    finder.find("passeport")
    assert encoder.calls == calls


def test_fusion_follows_the_encoder() -> None:
    """With weight 1, the ranking is the encoder's: an in-memory encoder decides it."""
    settings = FinderSettings(semantic_weight={"latin": 1.0}, semantic_floor=0.0)
    finder = ServiceFinder(normalisers=(), encoder=BagOfWordsEncoder(), settings=settings)
    assert _top3(finder, "licence")[0] == "ma.driving.licence"


class BagOfWordsEncoder:
    """A deterministic in-memory encoder: hashed words, unit length."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> FloatArray:
        self.calls += 1
        rows = np.zeros((len(texts), 4096), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.casefold().split():
                rows[row, zlib.crc32(word.encode()) % 4096] += 1
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms == 0, 1, norms)


def test_only_the_start_of_a_long_text_is_searched(finder: ServiceFinder) -> None:
    """Text past MAX_QUERY_CHARS is ignored, which bounds the time one query can take."""
    head = "bghit nkhrej l passport " * 30
    long_text = head + "carte grise " * 8000
    assert len(head) > MAX_QUERY_CHARS
    assert finder.scores(long_text).tolist() == finder.scores(head).tolist()
