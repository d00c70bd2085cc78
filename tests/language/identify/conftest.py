# ruff: noqa: RUF001 - Arabic, Tifinagh, Berber Latin and other scripts are the data under test
"""Fixtures for the identifier tests: a tiny synthetic corpus laid out like the shared one.

The corpus is made of words invented per label, so the training tests never read the
shared language data and run in seconds.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

# A handful of words per class folder; sentences are random draws of them.
LEXICON = {
    "arb_Arab": "أعلنت الوزارة عن إجراءات جديدة لمكافحة انتشار المرض في المدن الكبرى",
    "ary_Arab": "بغيت نمشي للدار ديالي دابا واش كاين شي مشكل مزيان بزاف",
    "ary_Latn": "bghit nmchi l dar dyali daba wach kayn chi mochkil mzyan bzaf",
    "gulf_Arab": "شلونك يا خوي وايد زين اليوم ابي اروح السوق الحين عشان",
    "zgh_Tfng": "ⴰⵣⵓⵍ ⴼⵍⵍⴰⵡⵏ ⵎⴰⵏⵣⴰⴽⵉⵏ ⵜⴰⵎⴰⵣⵉⵖⵜ ⴰⵎⴰⵣⵉⵖ ⵜⵉⴼⵉⵏⴰⵖ ⴰⵔ ⵉⵙⵙⵔⵡⴰⵙ",
    "ber_Latn": "ur ssineɣ ara anda i yella wexxam-is tameddakelt tafat",
    "fra_Latn": "je voudrais obtenir une copie de mon acte de naissance merci",
    "eng_Latn": "i would like to renew my passport before the summer please",
    "extra_confusables": "أمزنت غ تكساس الرئيس دايتلماح س التعيين ناكافانو",
}


def write_corpus(root: Path, per_label: int = 60, seed: int = 7) -> Path:
    """Write ``per_label`` random sentences per class folder under ``root``."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    (root / "SOURCES.md").write_text("synthetic test corpus\n", encoding="utf-8")
    for folder, lexicon in LEXICON.items():
        vocabulary = lexicon.split()
        lines = {" ".join(rng.choices(vocabulary, k=rng.randint(3, 9))) for _ in range(per_label)}
        name = "ntrex128.shi.txt" if folder == "extra_confusables" else "synthetic.txt"
        (root / folder).mkdir(parents=True)
        (root / folder / name).write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A synthetic language-data folder (holds SOURCES.md and every class folder)."""
    return write_corpus(tmp_path / "data")
