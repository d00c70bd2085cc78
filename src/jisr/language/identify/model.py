"""The shipped linear model: its file format, loading, and scoring texts in batches.

A text's logits are ``bias + (Σ weights[g] for each known feature g) / √N`` where N counts
all the text's features, known or not (so text in a script the model never saw gets no
evidence and stays near the prior). Probabilities are ``softmax(logits / temperature)``.
Inference is NumPy and the standard library only; scikit-learn is needed to train.

File format (``identify.bin``): zlib-compressed bytes of

    b"JISRLID1" | u32 header length | header (UTF-8 JSON) | vocabulary | weights | bias

with the vocabulary as UTF-8 features joined by ``"\\n"`` (in index order), the weights
as int8 ``[features, labels]`` in row order with one float scale per label, and the bias
as float32 ``[labels]``, all little-endian. The header holds the labels, the scales, the
temperature, the ``und`` threshold, the span switch penalty and context weight, the byte
lengths and training metadata.

    ModelFormatError(ValueError)   the file is not a model this code can read
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from jisr.language.identify.calibration import Floats, softmax
from jisr.language.identify.features import word_grams, words

__all__ = [
    "DEFAULT_MODEL_DIR",
    "MODEL_FILE",
    "Model",
    "ModelFormatError",
    "Scores",
    "default_model",
    "load_model",
    "write_model",
]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILE = "identify.bin"
_MAGIC = b"JISRLID1"
_CACHE_LIMIT = 200_000


class ModelFormatError(ValueError):
    """A model file that is missing parts, has another magic, or is corrupt."""


class Scores(NamedTuple):
    """Uncalibrated logits ``[texts, labels]``, and per text how many features it has
    (0: no letter) and how many of them the model knows."""

    logits: Floats
    features: npt.NDArray[np.int64]
    known: npt.NDArray[np.int64]


@dataclass
class Model:
    """A loaded identifier: labels, feature index, dequantised weights, calibration."""

    labels: tuple[str, ...]
    vocabulary: dict[str, int]
    weights: npt.NDArray[np.float32]  # [features + 1, labels]; the last row is all zero
    bias: npt.NDArray[np.float32]
    temperature: float
    threshold: float
    switch_penalty: float
    context_weight: float
    metadata: dict[str, Any] = field(default_factory=dict)
    _words: dict[str, tuple[list[int], int]] = field(default_factory=dict, repr=False)

    @property
    def padding(self) -> int:
        """The index of the all-zero weight row every text's feature list starts with."""
        return len(self.vocabulary)

    def word_features(self, word: str) -> tuple[list[int], int]:
        """The known feature indices of one normalised word and its feature count."""
        found = self._words.get(word)
        if found is None:
            grams = word_grams(word)
            lookup = self.vocabulary.get
            found = ([i for i in map(lookup, grams) if i is not None], len(grams))
            if len(self._words) >= _CACHE_LIMIT:
                self._words.clear()
            self._words[word] = found
        return found

    def logits(self, texts: Sequence[str]) -> Scores:
        """Score a batch of texts."""
        return self.word_list_logits([words(text) for text in texts])

    def word_list_logits(self, word_lists: Sequence[Sequence[str]]) -> Scores:
        """:meth:`logits` for texts already split into normalised words."""
        flat: list[int] = []
        starts: list[int] = []
        counts: list[int] = []
        for text_words in word_lists:
            starts.append(len(flat))
            flat.append(self.padding)
            total = 0
            for word in text_words:
                indices, size = self.word_features(word)
                flat.extend(indices)
                total += size
            counts.append(total)
        sums = np.add.reduceat(self.weights[flat], starts, axis=0, dtype=np.float64)
        sizes = np.asarray(counts, dtype=np.int64)
        known = np.diff(np.asarray([*starts, len(flat)], dtype=np.int64)).astype(np.int64) - 1
        norm = np.sqrt(np.maximum(sizes, 1))[:, None]
        return Scores(self.bias.astype(np.float64) + sums / norm, sizes, known)

    def probabilities(self, logits: Floats) -> Floats:
        """Calibrated probabilities from :meth:`logits`."""
        return softmax(logits, self.temperature)


def write_model(
    path: Path,
    *,
    labels: Sequence[str],
    vocabulary: Sequence[str],
    weights: Floats,
    bias: Floats,
    temperature: float,
    threshold: float,
    switch_penalty: float,
    context_weight: float,
    metadata: Mapping[str, Any],
) -> None:
    """Write a model file; the same arguments always give the same bytes."""
    scales = np.maximum(np.abs(weights).max(axis=0), 1e-12) / 127.0
    quantized = np.clip(np.rint(weights / scales), -127, 127).astype("<i1")
    vocab_bytes = "\n".join(vocabulary).encode("utf-8")
    header = {
        "format": 1,
        "labels": list(labels),
        "scales": [float(s) for s in scales.astype(np.float32)],
        "temperature": temperature,
        "threshold": threshold,
        "switch_penalty": switch_penalty,
        "context_weight": context_weight,
        "features": len(vocabulary),
        "vocabulary_bytes": len(vocab_bytes),
        "metadata": dict(metadata),
    }
    head = json.dumps(header, sort_keys=True, ensure_ascii=False).encode("utf-8")
    payload = b"".join(
        [
            _MAGIC,
            struct.pack("<I", len(head)),
            head,
            vocab_bytes,
            quantized.tobytes(order="C"),
            np.asarray(bias, dtype="<f4").tobytes(),
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zlib.compress(payload, 9))


def load_model(path: Path | None = None) -> Model:
    """Read a model file (a directory means its ``identify.bin``); default: the shipped one."""
    target = DEFAULT_MODEL_DIR if path is None else path
    if target.is_dir():
        target = target / MODEL_FILE
    try:
        payload = zlib.decompress(target.read_bytes())
    except zlib.error as exc:
        raise ModelFormatError(f"{target}: not a compressed model file ({exc})") from exc
    return _parse(payload, str(target))


@cache
def default_model() -> Model:
    """The shipped model, loaded once per process."""
    return load_model()


def _parse(payload: bytes, name: str) -> Model:
    if not payload.startswith(_MAGIC) or len(payload) < len(_MAGIC) + 4:
        raise ModelFormatError(f"{name}: not a Jisr language-identification model")
    offset = len(_MAGIC) + 4
    (head_size,) = struct.unpack_from("<I", payload, len(_MAGIC))
    header = json.loads(payload[offset : offset + head_size])
    offset += head_size
    labels = tuple(header["labels"])
    features, size = int(header["features"]), int(header["vocabulary_bytes"])
    expected = offset + size + features * len(labels) + 4 * len(labels)
    if len(payload) != expected:
        raise ModelFormatError(f"{name}: {len(payload)} bytes where {expected} were expected")
    vocabulary = payload[offset : offset + size].decode("utf-8").split("\n") if size else []
    offset += size
    quantized = np.frombuffer(payload, "<i1", features * len(labels), offset)
    offset += features * len(labels)
    weights = np.zeros((features + 1, len(labels)), dtype=np.float32)
    scales = np.asarray(header["scales"], dtype=np.float32)
    weights[:features] = quantized.reshape(features, len(labels)) * scales
    return Model(
        labels=labels,
        vocabulary=dict(zip(vocabulary, range(features), strict=True)),
        weights=weights,
        bias=np.frombuffer(payload, "<f4", len(labels), offset).copy(),
        temperature=float(header["temperature"]),
        threshold=float(header["threshold"]),
        switch_penalty=float(header["switch_penalty"]),
        context_weight=float(header["context_weight"]),
        metadata=dict(header["metadata"]),
    )
