"""Scores of name pairs: transcription variants match, different names do not."""

from __future__ import annotations

import numpy as np
import pytest

from jisr.language.names import THRESHOLD, match, score
from jisr.language.names.scoring import ORDER_PENALTY, pairing

SAME = [
    ("محمد", "Mohamed"),
    ("محمد", "Mohammed"),
    ("محمد", "Mhamed"),
    ("Muhammad", "محمد"),
    ("يوسف", "Youssef"),
    ("يوسف", "Youcef"),
    ("Yousef", "يوسف"),
    ("بن علي", "Benali"),
    ("Ben Ali", "بن علي"),
    ("الإدريسي", "El Idrissi"),
    ("Idrissi", "الإدريسي"),
    ("العلوي", "Alaoui"),
    ("العمراني", "Lamrani"),
    ("عبد العزيز", "Abdelaziz"),
    ("Abdul Aziz", "عبد العزيز"),
    ("إبراهيم", "Brahim"),
    ("عائشة", "Aicha"),
    ("آل ثاني", "Al-Thani"),
    ("Hamad bin Khalifa Al Thani", "حمد بن خليفة آل ثاني"),
    ("Youssef El-Idrissi", "يوسف الإدريسي"),
    ("Aymane Serhani", "ايمن السرحاني"),  # rh read as r and h
    ("Amine Oudrhiri", "أمين الودغيري"),  # rh read as غ
]

DIFFERENT = [
    ("محمد", "محمود"),
    ("Mohamed", "محمود"),
    ("Hassan", "Hussein"),
    ("Hassan", "حسين"),
    ("Karim", "Karima"),
    ("Karim", "كريمة"),
    ("Ahmed", "حمد"),
    ("Mohamed Alaoui", "محمود العلوي"),
    ("Youssef El Idrissi", "يوسف الفاسي"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_transcription_variants_match(a: str, b: str) -> None:
    """French and English transcriptions of an Arabic name match it, either way round."""
    assert match(a, b)
    assert match(b, a)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_names_do_not_match(a: str, b: str) -> None:
    """Names differing in a long vowel, a final ة or a consonant are different names."""
    assert not match(a, b)


def test_scores_are_in_unit_interval_and_rank_sensibly() -> None:
    """A variant scores above a near miss, which scores above an unrelated name."""
    variant, near, unrelated = (score("محمد", n) for n in ("Mohamed", "Mahmoud", "Khadija"))
    assert 0.0 <= unrelated < near < variant <= 1.0


def test_order_case_and_diacritics_do_not_matter() -> None:
    """Capitals and accents do not count; swapped names cost only the order penalty."""
    assert score("Mohamed Alaoui", "ALAOUI Mohamed") == 1.0 - ORDER_PENALTY
    assert score("Mohamed Alaoui", "MOHAMED ALAOUI") == 1.0
    assert score("Chraïbi", "chraibi") == 1.0
    assert match("Alaoui Mohamed", "محمد العلوي")


def test_joined_and_split_compounds_match() -> None:
    """``Fatimazahra`` (one token) matches فاطمة الزهراء (two)."""
    assert match("Fatimazahra", "فاطمة الزهراء")


def test_extra_token_lowers_the_score() -> None:
    """A father's name present on one side only costs something."""
    assert score("Ahmed Al-Kuwari", "Ahmed Ali Al-Kuwari") < score(
        "Ahmed Al-Kuwari", "أحمد الكواري"
    )


def test_tokens_pair_one_to_one() -> None:
    """A repeated token cannot take the same counterpart twice: أحمد أحمد علي holds an
    extra token against احمد علي, and scores below the plain transcription."""
    assert score("احمد علي", "أحمد أحمد علي") < score("احمد علي", "Ahmed Ali")
    assert score("El Houssine", "Hussein Hossini") < score("El Houssine", "الحسين")
    assert score("Mohamed Alaoui", "Alaoui Alaoui") < 0.8


def test_pairing_is_greedy_most_alike_first_and_skips_padding() -> None:
    """The most alike pair is taken first; a zero-weight (padding) token stays unpaired."""
    similarity = np.array([[0.9, 0.8, 0.0], [0.85, 0.1, 0.0]], dtype=np.float32)
    weights_a = np.ones(2, dtype=np.float32)
    weights_b = np.array([1.0, 1.0, 0.0], dtype=np.float32)
    partner_a, partner_b, paired_a, paired_b = pairing(similarity, weights_a, weights_b)
    assert partner_a.tolist() == [0, 1]
    assert partner_b.tolist() == [0, 1, -1]
    assert paired_a.tolist() == pytest.approx([0.9, 0.1])
    assert paired_b.tolist() == pytest.approx([0.9, 0.1, 0.0])


def test_empty_names_score_zero_and_threshold_is_a_parameter() -> None:
    """A name without letters scores 0; ``match`` takes another threshold."""
    assert score("-", "Mohamed") == 0.0
    assert not match("Karim", "Karima")
    assert match("Karim", "Karima", threshold=0.5)
    assert 0.5 < THRESHOLD < 1.0
