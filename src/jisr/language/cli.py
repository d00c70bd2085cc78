"""``jisr lang``: identify, transliterate, names, find-service, train, serve.

Every command reads its items as arguments, or from standard input one per line, and with
``--json`` prints one JSON object per input line (see ``docs/language.md``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from jisr.language.finder import command as finder_command
from jisr.language.identify import command as identify_command
from jisr.language.names import command as names_command
from jisr.language.transliterate import command as transliterate_command

__all__ = ["app"]

app = typer.Typer(
    help="Language: identify, transliterate, match names, find e-services — all local.",
    no_args_is_help=True,
)
train = typer.Typer(
    help="Rebuild a shipped model from ../shared/data/lang with a fixed seed.",
    no_args_is_help=True,
)

for component in (identify_command, transliterate_command, names_command, finder_command):
    component.register(app, train)
app.add_typer(train, name="train")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8600, help="Port to bind."),
    names_index: Path | None = typer.Option(
        None, "--names-index", help="A name index file (`jisr lang names index build`)."
    ),
) -> None:
    """Serve the language HTTP API (OpenAPI at /docs) until Ctrl-C or SIGTERM."""
    import uvicorn

    from jisr.language.api import create_language_app

    application = create_language_app(names_index=names_index)
    uvicorn.run(application, host=host, port=port, log_config=None)
