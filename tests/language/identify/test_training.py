"""Training on a tiny synthetic corpus: a model that loads and separates the labels."""

from __future__ import annotations

import json
from pathlib import Path

from jisr.language.identify import identify, load_model
from jisr.language.identify.training import LABELS, METRICS_FILE, TrainingSettings, train

SETTINGS = TrainingSettings(span_examples=40)


def test_trained_model_reads_back_with_every_label_and_figures(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    steps: list[str] = []
    figures = train(tiny_corpus, tmp_path, SETTINGS, steps.append)
    assert steps == ["read", "vocabulary", "features", "fit", "calibrate", "write"]
    model = load_model(tmp_path)
    assert model.labels == LABELS
    assert model.temperature == figures["temperature"]
    assert json.loads((tmp_path / METRICS_FILE).read_text("utf-8")) == json.loads(
        json.dumps(figures)
    )
    assert figures["train_sentences"]["afb_Arab"] > 0


def test_trained_model_tells_its_synthetic_languages_apart(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    train(tiny_corpus, tmp_path, SETTINGS)
    model = load_model(tmp_path)
    expected = {
        "bghit nmchi l dar dyali": "ary_Latn",
        "je voudrais une copie": "fra_Latn",
        "ⴰⵣⵓⵍ ⴼⵍⵍⴰⵡⵏ": "zgh_Tfng",
        "i would like to renew": "eng_Latn",
    }
    for text, label in expected.items():
        assert next(iter(identify(text, model=model).scores)) == label


def test_the_seed_decides_the_sample_and_nothing_else_varies(
    tiny_corpus: Path, tmp_path: Path
) -> None:
    """Same seed: same bytes. Sub-sampling with another seed: another model."""
    small = SETTINGS.model_copy(update={"max_per_label": 20})
    train(tiny_corpus, tmp_path / "a", small)
    train(tiny_corpus, tmp_path / "b", small)
    train(tiny_corpus, tmp_path / "c", small.model_copy(update={"seed": 1}))
    first, second, other = ((tmp_path / n / "identify.bin").read_bytes() for n in "abc")
    assert first == second
    assert first != other
