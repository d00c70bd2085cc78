"""``jisr globalconf``: fetch and verify a global configuration the way a gateway does."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import typer
from rich.console import Console

from jisr.exchange.globalconf import Anchor, GlobalConfClient, GlobalConfError

__all__ = ["app"]

app = typer.Typer(help="Fetch and verify global configurations (own and federated).")
console = Console()
errors = Console(stderr=True)


@app.command("fetch")
def fetch(
    anchor_file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Anchor JSON."),
    instance: str | None = typer.Option(None, help="Print this (federated) instance's document."),
    cache_dir: Path | None = typer.Option(None, help="Keep verified copies here."),
) -> None:
    """Verify the anchor's instance and every federated instance; print one document."""
    try:
        anchor = Anchor.load(anchor_file)
    except GlobalConfError as error:
        errors.print(f"[red]bad anchor[/red]: {error}")
        raise typer.Exit(1) from None

    async def go(directory: Path) -> dict[str, object] | None:
        async with GlobalConfClient(anchor, directory) as client:
            await client.refresh()
            for name in sorted(client.instances()):
                state = "current" if client.is_current(name) else "NOT current"
                errors.print(f"{name}: {state}")
            document = client.current(instance or anchor.instance)
            return None if document is None else document.model_dump(mode="json")

    with tempfile.TemporaryDirectory() as scratch:
        document = asyncio.run(go(cache_dir or Path(scratch)))
    if document is None:
        errors.print(f"[red]no verified configuration for {instance or anchor.instance}[/red]")
        raise typer.Exit(1)
    console.print_json(json.dumps(document, ensure_ascii=False))
