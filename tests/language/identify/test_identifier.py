# ruff: noqa: RUF001 - Arabic, Tifinagh, Berber Latin and other scripts are the data under test
"""identify / identify_many with the shipped model: labels, und, scores, spans."""

from __future__ import annotations

import math

import pytest

from jisr.language.identify import UNDETERMINED, Identification, identify, identify_many

EXAMPLES = [
    ("أعلنت وزارة الصحة عن إجراءات جديدة لمكافحة انتشار الفيروس في المدن الكبرى.", "arb_Arab"),
    ("بغيت نمشي للدار ديالي دابا، واش كاين شي مشكل؟", "ary_Arab"),
    ("bghit nmchi l dar dyali daba, wach kayn chi mochkil?", "ary_Latn"),
    ("شلونك يا خوي؟ وايد زين اليوم، ابي اروح السوق الحين", "afb_Arab"),
    ("ⴰⵣⵓⵍ ⴼⵍⵍⴰⵡⵏ, ⵎⴰⵏⵣⴰⴽⵉⵏ?", "zgh_Tfng"),
    ("Ur ssineɣ ara anda i yella wexxam-is.", "ber_Latn"),
    ("Je voudrais obtenir une copie de mon acte de naissance.", "fra_Latn"),
    ("I would like to renew my passport before the summer.", "eng_Latn"),
]
MIXED = "salam, je voudrais l'acte de naissance dyal weldi"


@pytest.mark.parametrize(("text", "label"), EXAMPLES)
def test_each_label_on_a_clear_example(text: str, label: str) -> None:
    result = identify(text)
    assert result.label == label
    assert next(iter(result.scores)) == label


@pytest.mark.parametrize("text", ["🙂🙂👍", "12345", "!!! ... ???", "2026-11-29 18:00"])
def test_text_without_letters_is_und_with_certainty(text: str) -> None:
    result = identify(text)
    assert result == Identification(text, UNDETERMINED, {UNDETERMINED: 1.0}, ())


@pytest.mark.parametrize("text", ["你好，世界，今天天气很好", "Привет, как у тебя дела сегодня?"])
def test_a_script_the_model_never_saw_is_und(text: str) -> None:
    """With no known feature the probabilities are the prior's: not an answer."""
    assert identify(text).label == UNDETERMINED


@pytest.mark.parametrize("text", [text for text, _ in EXAMPLES] + [MIXED, "ok"])
def test_scores_are_probabilities_best_first(text: str) -> None:
    scores = identify(text).scores
    values = list(scores.values())
    assert math.isclose(sum(values), 1.0, abs_tol=1e-9)
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in values)


def test_mixed_darija_and_french_gives_three_spans() -> None:
    result = identify(MIXED)
    assert [(s.label, s.text) for s in result.spans] == [
        ("ary_Latn", "salam"),
        ("fra_Latn", "je voudrais l'acte de naissance"),
        ("ary_Latn", "dyal weldi"),
    ]
    assert all(MIXED[s.start : s.end] == s.text for s in result.spans)
    assert all(0.5 < s.score <= 1.0 for s in result.spans)


def test_a_greeting_in_arabic_script_before_french_is_its_own_span() -> None:
    result = identify("السلام عليكم، je voudrais prendre un rendez-vous")
    assert [(s.label, s.text) for s in result.spans] == [
        ("arb_Arab", "السلام عليكم"),
        ("fra_Latn", "je voudrais prendre un rendez-vous"),
    ]


def test_darija_words_shared_with_msa_stay_in_the_darija_span() -> None:
    """The whole text's probabilities keep common MSA words inside a Darija sentence."""
    text = "في الغالب كيفرقو بين الرياضيات الحرة والرياضيات التطبيقية."
    assert [s.label for s in identify(text).spans] == ["ary_Arab"]


def test_text_in_one_language_is_one_span_with_the_text_label() -> None:
    text = "  Je voudrais obtenir une copie de mon acte de naissance.  "
    result = identify(text)
    assert len(result.spans) == 1
    span = result.spans[0]
    assert (span.label, span.text) == ("fra_Latn", text.strip().rstrip("."))


def test_batch_equals_one_by_one_and_repeats_exactly() -> None:
    texts = [text for text, _ in EXAMPLES] + [MIXED, "🙂"]
    batch = identify_many(texts)
    assert batch == [identify(text) for text in texts]
    assert identify_many(texts) == batch
    assert identify_many([]) == []


def test_spans_can_be_skipped() -> None:
    result = identify(MIXED, spans=False)
    assert result.spans == ()
    assert result.label == identify(MIXED).label


def test_as_dict_is_json_ready() -> None:
    data = identify(MIXED).as_dict()
    assert set(data) == {"text", "label", "scores", "spans"}
    assert data["spans"][0] == {
        "start": 0,
        "end": 5,
        "text": "salam",
        "label": "ary_Latn",
        "score": data["spans"][0]["score"],
    }
