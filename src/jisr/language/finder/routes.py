"""The service finder and catalogue over HTTP.

    POST /language/services/search     {"text", "limit"} → {"query", "results"}
    GET  /services/catalogue            every service
    GET  /services/catalogue/{id}       one service; 404 ``service_not_found`` if unknown

Refusals are RFC 9457 problem documents: ``invalid_input`` (422) for a missing field, a
``limit`` out of range or an unacceptable text (empty, too large, binary), and
``service_not_found`` (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from jisr.language._http import checked_text
from jisr.language.finder.ranking import ServiceFinder, default_finder
from jisr.problems import Problem, problem_doc
from jisr.services.catalogue import Catalogue, Service, load_catalogue

__all__ = [
    "CatalogueOut",
    "SearchIn",
    "SearchOut",
    "SearchResult",
    "get_catalogue",
    "get_finder",
    "router",
]

_INVALID = problem_doc(
    "Bad input: `invalid_input`; `errors` names the field and rule (empty, too_large, "
    "binary, invalid_utf8, or a pydantic rule for `limit`)."
)
_NOT_FOUND = problem_doc("No service has this id (`service_not_found`).")

router = APIRouter()


def get_finder() -> ServiceFinder:
    """The process-wide finder (a dependency, so an app or a test can override it)."""
    return default_finder()


def get_catalogue() -> Catalogue:
    """The shipped catalogue (a dependency, so an app or a test can override it)."""
    return load_catalogue()


class SearchIn(BaseModel):
    """A citizen's text and how many services to return."""

    text: str = Field(description="Free text in any catalogue language, at most 100,000 bytes.")
    limit: int = Field(default=5, ge=1, le=50, description="How many services to return.")


class SearchResult(BaseModel):
    """One matching service."""

    service: str = Field(description="Service id, e.g. `ma.civil.birth-certificate`.")
    score: float = Field(ge=0, le=1, description="Fused relevance score, higher is better.")
    title: dict[str, str] = Field(description="The service title per catalogue language.")
    administration: str = Field(description="Id of the owning administration.")


class SearchOut(BaseModel):
    """The query as given and the matching services, best first."""

    query: str
    results: list[SearchResult]


class CatalogueOut(BaseModel):
    """Every catalogue service, in id order."""

    services: list[Service]


@router.post("/language/services/search", tags=["language"], responses={422: _INVALID})
def search_services(
    body: SearchIn, finder: Annotated[ServiceFinder, Depends(get_finder)]
) -> SearchOut:
    """Rank the catalogue services for ``text``."""
    text = checked_text(body.text)
    results = []
    for match in finder.find(text, limit=body.limit):
        service = finder.catalogue.get(match.service_id)
        if service is None:  # cannot happen: the finder ranks only its catalogue's services
            continue
        titles = {language: value.title for language, value in service.texts.items()}
        results.append(
            SearchResult(
                service=service.id,
                score=match.score,
                title=titles,
                administration=service.administration.id,
            )
        )
    return SearchOut(query=text, results=results)


@router.get("/services/catalogue", tags=["services"])
def list_services(catalogue: Annotated[Catalogue, Depends(get_catalogue)]) -> CatalogueOut:
    """Every service of the catalogue."""
    return CatalogueOut(services=list(catalogue))


@router.get("/services/catalogue/{service_id}", tags=["services"], responses={404: _NOT_FOUND})
def get_service(
    service_id: str, catalogue: Annotated[Catalogue, Depends(get_catalogue)]
) -> Service:
    """One service by id."""
    service = catalogue.get(service_id)
    if service is None:
        raise Problem(404, "service_not_found", f"no service has the id {service_id!r}")
    return service
