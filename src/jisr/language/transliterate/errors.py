"""The errors of the transliteration component.

    TransliterationError(ValueError)   code: a stable string, documented in
    │                                  docs/language-transliteration.md
    ├── UnsupportedPair                code ``unsupported_pair``: no transliterator for the
    │                                  (source, target) pair asked for (HTTP 422)
    └── ModelMissing                   code ``model_missing``: the shipped Arabizi model files
                                       are absent or unreadable (HTTP 503; rebuild with
                                       ``jisr lang train arabizi``)

Each error renders itself as a problem document with :meth:`TransliterationError.problem`.
"""

from __future__ import annotations

from jisr.problems import Problem

__all__ = ["ModelMissing", "TransliterationError", "UnsupportedPair"]


class TransliterationError(ValueError):
    """A transliteration request that cannot be served; ``code`` is stable."""

    code = "transliteration_error"
    status = 500

    def problem(self) -> Problem:
        """This error as an RFC 9457 problem document."""
        return Problem(self.status, self.code, str(self))


class UnsupportedPair(TransliterationError):
    """No transliterator exists from ``source`` to ``target``."""

    code = "unsupported_pair"
    status = 422

    def __init__(self, source: str, target: str, supported: list[tuple[str, str]]) -> None:
        pairs = ", ".join(f"{s}→{t}" for s, t in supported)
        super().__init__(f"cannot transliterate {source}→{target}; supported pairs: {pairs}")
        self.source = source
        self.target = target


class ModelMissing(TransliterationError):
    """The Arabizi model files are not where they were looked for."""

    code = "model_missing"
    status = 503
