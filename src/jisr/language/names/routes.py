"""``POST /language/names/match`` and ``POST /language/names/search``.

``match``: ``{"a", "b"}`` → ``{"a", "b", "score", "match"}``. ``search``: ``{"name",
"limit"}`` → ``{"query", "results": [{"name", "score"}]}`` best first, from the index the
router was made with. Refusals are RFC 9457 problem documents: ``invalid_input`` (422)
for a missing field, a ``limit`` outside 1-100 or an unacceptable text (empty, too large,
binary, invalid_utf8), and ``names_index_unavailable`` (409) for a search when the
application runs without a name index.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from jisr.language._http import checked_text
from jisr.language.names.index import NameIndex
from jisr.language.names.scoring import THRESHOLD, score
from jisr.problems import Problem, problem_doc

__all__ = [
    "MatchIn",
    "MatchOut",
    "SearchHit",
    "SearchIn",
    "SearchOut",
    "make_router",
]

_INVALID = problem_doc(
    "Bad input: `invalid_input`; `errors` names the field and rule (empty, too_large, "
    "binary, invalid_utf8, or a pydantic rule for a missing field or out-of-range limit)."
)
_UNAVAILABLE = problem_doc(
    "No name index is configured on this server (`names_index_unavailable`)."
)


class MatchIn(BaseModel):
    """Two names to compare, in any script."""

    a: str = Field(description="A name, e.g. `محمد العلوي`.")
    b: str = Field(description="Another name, e.g. `Mohamed Alaoui`.")


class MatchOut(BaseModel):
    """The names as given, their score in [0, 1] and whether it reaches the threshold."""

    a: str
    b: str
    score: float
    match: bool


class SearchIn(BaseModel):
    """A name to look up in the server's name index."""

    name: str = Field(description="The name, in any script.")
    limit: int = Field(default=10, ge=1, le=100, description="How many results, 1-100.")


class SearchHit(BaseModel):
    """One indexed name and its score against the query."""

    name: str
    score: float


class SearchOut(BaseModel):
    """The query and its best matches, best first."""

    query: str
    results: list[SearchHit]


def make_router(index: NameIndex | None) -> APIRouter:
    """The name routes; ``search`` answers 409 if ``index`` is None."""
    responses: dict[int | str, dict[str, Any]] = {422: _INVALID}
    router = APIRouter(responses=responses, tags=["language"])

    @router.post("/language/names/match")
    def match_names(body: MatchIn) -> MatchOut:
        """Score two names across scripts; ``match`` if the score reaches the threshold."""
        a, b = checked_text(body.a, "body.a"), checked_text(body.b, "body.b")
        value = score(a, b)
        return MatchOut(a=a, b=b, score=value, match=value >= THRESHOLD)

    @router.post("/language/names/search", responses={409: _UNAVAILABLE})
    def search_names(body: SearchIn) -> SearchOut:
        """The ``limit`` indexed names most like ``name``, best first."""
        name = checked_text(body.name, "body.name")
        if index is None:
            raise Problem(409, "names_index_unavailable", "no name index is configured")
        hits = index.search(name, k=body.limit)
        return SearchOut(query=name, results=[SearchHit(name=h.name, score=h.score) for h in hits])

    return router
