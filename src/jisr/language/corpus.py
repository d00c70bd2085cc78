"""The language data in ``../shared/data/lang`` and its fixed train / dev / test split.

Every sentence is assigned to a split by a hash of its normalised text, *before* anyone
looks at the data, so the split is the same on every machine, independent of file order,
and a sentence that occurs in two files (Tatoeba repeats) lands in the same split both
times — no test sentence leaks into training through a duplicate. Proportions: 80 % train,
10 % dev, 10 % test. Tune on dev; report on test; never tune on test.

    data_root()        where the data is: $JISR_LANG_DATA, else ../shared/data/lang from
                       the repository, else an error naming both
    split_of(text)     "train" | "dev" | "test"
    read_lines(path)   the non-empty lines of one UTF-8 file, stripped
    sentences(label, split, root)  every sentence of one class folder in one split,
                       deduplicated, in a stable order
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path
from typing import Literal

__all__ = ["DataMissing", "Split", "data_root", "read_lines", "sentences", "split_of"]

Split = Literal["train", "dev", "test"]

_REPOSITORY = Path(__file__).resolve().parents[3]


class DataMissing(FileNotFoundError):
    """The language data directory is not where it was looked for."""


def data_root(explicit: Path | None = None) -> Path:
    """The language data directory: ``explicit``, ``$JISR_LANG_DATA`` or the shared copy."""
    candidates = [explicit] if explicit is not None else []
    if not candidates and os.environ.get("JISR_LANG_DATA"):
        candidates.append(Path(os.environ["JISR_LANG_DATA"]))
    if not candidates:
        candidates.append(_REPOSITORY.parent / "shared" / "data" / "lang")
    for candidate in candidates:
        if (candidate / "SOURCES.md").is_file():
            return candidate
    raise DataMissing(
        f"language data not found at {', '.join(map(str, candidates))}; "
        "pass --data or set JISR_LANG_DATA to the folder holding SOURCES.md"
    )


def split_of(text: str) -> Split:
    """The split a sentence belongs to, from a SHA-256 of its NFC, case-folded, trimmed form."""
    key = unicodedata.normalize("NFC", text).strip().casefold()
    bucket = hashlib.sha256(key.encode("utf-8")).digest()[0] % 10
    if bucket == 0:
        return "test"
    if bucket == 1:
        return "dev"
    return "train"


def read_lines(path: Path) -> list[str]:
    """The non-empty, stripped lines of a UTF-8 file."""
    with path.open(encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def sentences(folder: str, split: Split, root: Path | None = None) -> list[str]:
    """Every distinct sentence of one class folder (e.g. ``ary_Arab``) in ``split``, in
    file-name then line order."""
    base = data_root(root) / folder
    seen: set[str] = set()
    result: list[str] = []
    for path in sorted(base.glob("*.txt")):
        for line in read_lines(path):
            if line not in seen and split_of(line) == split:
                seen.add(line)
                result.append(line)
    return result
