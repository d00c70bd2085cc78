"""Random one-time codes and their stored digests."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["digest", "new_code", "normalise_code"]

# Crockford's base32 alphabet: no I, L, O, U, so codes read aloud or typed survive.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_code(length: int, group: int = 4) -> str:
    """``length`` random base32 characters (5 bits each) in hyphenated groups of ``group``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(length))
    return "-".join(raw[i : i + group] for i in range(0, length, group))


def normalise_code(code: str) -> str:
    """Upper case, without spaces or hyphens, confusable letters read as digits."""
    return "".join(code.split()).replace("-", "").upper().translate(_CONFUSABLE)


def digest(value: str) -> str:
    """SHA-256 hex of ``value``: enough for high-entropy random codes (no slow hash needed)."""
    return hashlib.sha256(value.encode()).hexdigest()
