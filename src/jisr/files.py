"""Durable file writes and strict JSON reading, shared by keys, caches and JOSE.

``atomic_write`` replaces a file so that readers see the old or the new content, never a
mix, and the new content survives a crash once the call returns (data and rename fsynced).
``strict_json_object`` reads untrusted JSON the way the Jisr formats require.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["atomic_open", "atomic_write", "strict_json_object"]


@contextmanager
def atomic_open(path: Path, *, mode: int = 0o600) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` only if the block succeeds: written to a
    temporary file beside it, fsynced, renamed over ``path``, directory fsynced."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself is durable only once the directory is synced
    finally:
        os.close(directory)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    with atomic_open(path, mode=mode) as handle:
        handle.write(data)


def strict_json_object(data: bytes) -> dict[str, Any]:
    """Parse UTF-8 JSON that must be an object with unique member names and no NaN/Infinity.

    RFC 7515 §5.2 (JOSE headers) and RFC 8785 §3.1 / RFC 7493 §2.3 (I-JSON) both reject
    duplicate names rather than letting the last one win. Raises ``ValueError``.
    """
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_unique_members,
            parse_constant=_refuse_constant,
        )
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
