"""The model file: loading, size, corrupt files."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from jisr.language.identify import ModelFormatError, default_model, load_model
from jisr.language.identify.model import DEFAULT_MODEL_DIR, MODEL_FILE

LABELS = {
    "arb_Arab",
    "ary_Arab",
    "ary_Latn",
    "afb_Arab",
    "zgh_Tfng",
    "ber_Latn",
    "fra_Latn",
    "eng_Latn",
}


def test_the_shipped_model_knows_every_label_and_is_calibrated() -> None:
    model = load_model()
    assert set(model.labels) >= LABELS
    assert model.temperature > 0
    assert 0.0 <= model.threshold < 1.0
    assert model.weights.shape == (len(model.vocabulary) + 1, len(model.labels))
    assert not model.weights[-1].any()  # the padding row


def test_the_shipped_model_stays_within_its_size_budget() -> None:
    """The language component's budget gives this model at most 8 MB."""
    size = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir() if p.suffix == ".bin")
    assert size < 8_000_000


def test_default_model_is_loaded_once() -> None:
    assert default_model() is default_model()


def test_a_directory_or_its_file_load_the_same_model() -> None:
    assert load_model(DEFAULT_MODEL_DIR).labels == load_model(DEFAULT_MODEL_DIR / MODEL_FILE).labels


@pytest.mark.parametrize(
    "content",
    [b"not compressed", zlib.compress(b"JISRLID0" + b"\0" * 8), zlib.compress(b"JISRLID1")],
)
def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / MODEL_FILE
    path.write_bytes(content)
    with pytest.raises(ModelFormatError):
        load_model(path)


def test_a_truncated_model_is_refused(tmp_path: Path) -> None:
    payload = zlib.decompress((DEFAULT_MODEL_DIR / MODEL_FILE).read_bytes())
    path = tmp_path / MODEL_FILE
    path.write_bytes(zlib.compress(payload[:-10]))
    with pytest.raises(ModelFormatError, match="bytes where"):
        load_model(path)
