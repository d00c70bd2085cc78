"""The errors of the name-matching component.

    NameIndexError(ValueError)   code ``index_invalid``: the file given as a name index is
                                 missing, unreadable or not a name index of this format
                                 (CLI exit status 2; the HTTP routes are built with an
                                 index already loaded)

The HTTP routes answer ``409 names_index_unavailable`` when the application was started
without an index (docs/language-names.md, "Errors").
"""

from __future__ import annotations

__all__ = ["NameIndexError"]


class NameIndexError(ValueError):
    """A name index file that cannot be used; ``code`` is stable."""

    code = "index_invalid"
