"""``jisr``: one command, one sub-command group per component."""

from __future__ import annotations

import typer

from jisr import __version__
from jisr.demo.cli import demo
from jisr.exchange.central.cli import app as central_app
from jisr.exchange.gateway.cli import app as gateway_app
from jisr.exchange.globalconf_cli import app as globalconf_app
from jisr.exchange.messagelog.cli import app as log_app
from jisr.identity.cli import app as idp_app
from jisr.language.cli import app as lang_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="jisr",
    help="Jisr (جسر): sovereign digital public infrastructure — exchange, identity, language.",
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(central_app, name="central")
app.add_typer(globalconf_app, name="globalconf")
app.add_typer(gateway_app, name="gateway")
app.add_typer(log_app, name="log")
app.add_typer(idp_app, name="idp")
app.add_typer(lang_app, name="lang")
app.command("demo", help="Start a two-country federation (MA, QA) on loopback until Ctrl-C.")(demo)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jisr {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Jisr command line."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
