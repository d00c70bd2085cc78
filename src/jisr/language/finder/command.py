"""The ``jisr lang find-service`` command.

    jisr lang find-service [--limit N] [--json] [TEXT...]

Texts come as arguments or, without any, from standard input one per line. With ``--json``
each result is one line ``{"query": ..., "results": [{"service": ..., "score": ...}]}``,
best first; rejected lines are reported as described in :mod:`jisr.language._cli`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from jisr.language._cli import run_items
from jisr.language.finder.ranking import ServiceFinder, default_finder

__all__ = ["find_service_command", "register", "search_result"]


def register(app: typer.Typer, train: typer.Typer) -> None:
    """Add ``find-service`` to ``app``; the finder ships no trained artefact for ``train``."""
    app.command("find-service", help="Find the e-services matching a citizen's text.")(
        find_service_command
    )


def find_service_command(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts; default: stdin lines.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=50, help="Results per text.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Rank the catalogue services for each text."""
    finder = default_finder()
    run_items(
        texts or [],
        as_json=as_json,
        process=lambda text: search_result(finder, text, limit),
        render=_render,
    )


def search_result(finder: ServiceFinder, text: str, limit: int) -> dict[str, Any]:
    """``{"query", "results": [{"service", "score"}]}`` for ``text``, best first."""
    matches = finder.find(text, limit=limit)
    return {
        "query": text,
        "results": [{"service": m.service_id, "score": m.score} for m in matches],
    }


def _render(result: dict[str, Any]) -> str:
    ranked = "  ".join(f"{r['service']} {r['score']:.2f}" for r in result["results"])
    return f"{result['query']}\t{ranked}"
