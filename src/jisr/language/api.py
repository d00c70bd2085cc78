"""The language HTTP API as one application: ``jisr lang serve``.

    POST /language/identify             language and script, ranked, with spans
    POST /language/transliterate        Tifinagh ⇄ Latin, Tifinagh → Arabic, Arabizi → Arabic
    POST /language/names/match          score two person names across scripts
    POST /language/names/search         top matches in the name index (when one is loaded)
    POST /language/services/search      the e-services matching a citizen's text
    GET  /services/catalogue[/{id}]     the shipped e-service catalogue
    GET  /health, /ready, /metrics

Every refusal is an RFC 9457 problem document (``jisr.problems``); the codes are listed in
``docs/language.md``. The models load once per process; ``/ready`` answers 200 once they have.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp

from jisr import __version__
from jisr.language.finder import default_finder
from jisr.language.finder.routes import router as finder_router
from jisr.language.identify import default_model
from jisr.language.identify.routes import router as identify_router
from jisr.language.names import NameIndex
from jisr.language.names.routes import make_router as names_router
from jisr.language.transliterate.routes import router as transliterate_router
from jisr.observability import Metrics, health_routes
from jisr.problems import install_problem_handlers, problem_doc

__all__ = ["create_language_app"]


def create_language_app(*, names_index: Path | None = None) -> ASGIApp:
    """The language API; ``names_index`` is a file written by ``jisr lang names index build``
    (without one, ``/language/names/search`` answers 409 ``names_index_unavailable``)."""
    index = NameIndex.load(names_index) if names_index is not None else None
    loaded = {"models": False}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        default_model()
        default_finder()
        loaded["models"] = True
        yield

    async def models_loaded() -> bool:
        return loaded["models"]

    app = FastAPI(
        title="Jisr language API",
        version=__version__,
        description="Language identification, transliteration, cross-script name matching "
        "and the multilingual e-service finder, on local compute.",
        lifespan=lifespan,
    )
    install_problem_handlers(app, structlog.get_logger("jisr.language"))
    malformed: dict[int | str, dict[str, Any]] = {
        400: problem_doc("The body is not JSON (`malformed_body`).")
    }
    for router in (identify_router, transliterate_router, names_router(index), finder_router):
        app.include_router(router, responses=malformed)
    metrics = Metrics("language")
    app.router.routes.extend(health_routes(metrics, {"models": models_loaded}))
    return metrics.middleware(app)
