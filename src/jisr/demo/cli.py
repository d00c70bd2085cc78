"""``jisr demo``: the two-country federation on one machine."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from jisr.demo.topology import DemoCentral, prepare, serve
from jisr.observability import configure_logging

__all__ = ["demo"]

console = Console()


def demo(
    data_dir: Path = typer.Option(
        Path("var/demo"), help="Fresh data directory for the demo (emptied at start)."
    ),
) -> None:
    """Start centrals MA and QA federated with each other on loopback, until Ctrl-C."""
    configure_logging("warning", "console")
    with console.status("initialising MA and QA (keys, databases, federation)..."):
        centrals = prepare(data_dir)
    try:
        asyncio.run(_serve_then_print(centrals))
    except KeyboardInterrupt:
        console.print("stopped")


async def _serve_then_print(centrals: list[DemoCentral]) -> None:
    """Print the URLs only once every server accepts connections."""
    started = asyncio.Event()
    task = asyncio.create_task(serve(centrals, started))
    await started.wait()
    _print(centrals)
    await task


def _jisr() -> str:
    """How the user ran us (``.venv/bin/jisr`` under ``make demo``), for copyable commands."""
    launcher = Path(sys.argv[0])
    return os.path.relpath(launcher) if launcher.name == "jisr" and launcher.exists() else "jisr"


def _print(centrals: list[DemoCentral]) -> None:
    table = Table("instance", "central URL", "federated with", "anchor")
    for c in centrals:
        table.add_row(c.country.instance, c.url, ", ".join(c.peers), str(c.anchor_file))
    console.print(table)
    first = centrals[0]
    lines = [
        "",
        "Admin tokens (scope admin):",
        *(f"  {c.country.instance}: {c.token}" for c in centrals),
        "",
        "Try:",
        f"  {_jisr()} globalconf fetch {first.anchor_file} --instance QA",
        f"  curl -s {first.url}/anchor",
        f"  curl -s -H 'Authorization: Bearer {first.token}' {first.url}/api/v1/members",
        f"  {first.url}/docs  (admin API, OpenAPI 3.1)",
        "",
        "Ctrl-C stops the demo.",
    ]
    # Plain output: commands must stay on one line to be copied.
    typer.echo("\n".join(lines))
