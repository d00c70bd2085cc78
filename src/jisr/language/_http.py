"""What every language HTTP route shares: checking a text field into a problem document."""

from __future__ import annotations

from jisr.language.textinput import InputRejected, check_text
from jisr.problems import Problem

__all__ = ["checked_text"]


def checked_text(text: str, field: str = "body.text") -> str:
    """``text`` if acceptable, else a 422 ``invalid_input`` problem naming ``field`` and the
    rule (``empty``, ``too_large``, ``binary``, ``invalid_utf8``)."""
    try:
        return check_text(text)
    except InputRejected as exc:
        raise Problem.invalid(field, exc.code, exc.detail) from exc
