"""``jisr demo``: the two-country federation on one machine."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from jisr.demo.topology import Demo, prepare_exchange, serve_exchange
from jisr.observability import configure_logging

__all__ = ["demo"]

console = Console()


def demo(
    data_dir: Path = typer.Option(
        Path("var/demo"), help="Fresh data directory for the demo (emptied at start)."
    ),
) -> None:
    """Start centrals MA and QA (federated), four gateways and a sample backend, until Ctrl-C."""
    configure_logging("warning", "console")
    with console.status("initialising MA and QA: keys, databases, federation, gateways..."):
        exchange = prepare_exchange(data_dir)
    try:
        asyncio.run(_serve_then_print(exchange))
    except KeyboardInterrupt:
        console.print("stopped")


async def _serve_then_print(exchange: Demo) -> None:
    """Print the URLs only once every server accepts connections."""
    started = asyncio.Event()
    task = asyncio.create_task(serve_exchange(exchange, started))
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        await task  # start-up failed: raise its error
        return
    _print(exchange)
    await task


def _jisr() -> str:
    """How the user ran us (``.venv/bin/jisr`` under ``make demo``), for copyable commands."""
    launcher = Path(sys.argv[0])
    return os.path.relpath(launcher) if launcher.name == "jisr" and launcher.exists() else "jisr"


def _print(exchange: Demo) -> None:
    centrals = Table("instance", "central URL", "federated with", "anchor")
    for c in exchange.centrals:
        centrals.add_row(c.country.instance, c.url, ", ".join(c.peers), str(c.anchor_file))
    console.print(centrals)
    gateways = Table("gateway", "consumer face (IS)", "provider face (mTLS)", "admin API")
    for g in exchange.gateways:
        s = g.settings
        gateways.add_row(
            g.plan.gateway,
            g.url,
            f"https://127.0.0.1:{s.peer_port}",
            f"http://127.0.0.1:{s.admin_port}",
        )
    console.print(gateways)
    interior = exchange.gateway("MA/GOV/INTERIOR/GW1")
    moehe = exchange.gateway("QA/GOV/MOEHE/GW1")
    registry = "r1/MA/GOV/CIVIL-REGISTRY/REGISTRY"

    def curl(client: str, url: str, path: str) -> str:
        return f"  curl -s -H 'X-Road-Client: {client}' {url}/{registry}/{path}"

    lines = [
        "",
        "Central admin tokens (scope admin):",
        *(f"  {c.country.instance}: {c.token}" for c in exchange.centrals),
        "",
        "Same country — Ministry of Interior reads a Moroccan birth record:",
        curl("MA/GOV/INTERIOR/RESIDENCE", interior.url, "birth-record/MA1234567"),
        "",
        "Across the border — Qatar's Ministry of Education reads a Moroccan birth record:",
        curl("QA/GOV/MOEHE/ADMISSIONS", moehe.url, "birth-record/MA7654321"),
        "",
        "Refused — Qatar's Ministry of Education may not read Moroccan residence records:",
        curl("QA/GOV/MOEHE/ADMISSIONS", moehe.url, "residence/MA7654321"),
        "",
        "Discover, and check the tamper-evident message log:",
        f"  curl -s -H 'Accept: application/json' {moehe.url}/listClients",
        f"  {_jisr()} globalconf fetch {exchange.centrals[0].anchor_file} --instance QA",
        "",
        "Ctrl-C stops the demo.",
    ]
    # Plain output: commands must stay on one line to be copied.
    typer.echo("\n".join(lines))
