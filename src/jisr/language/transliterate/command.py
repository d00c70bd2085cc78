"""The ``jisr lang transliterate`` and ``jisr lang train arabizi`` commands.

    jisr lang transliterate --source S --target T [--ascii] [--json] [TEXT...]
    jisr lang train arabizi [--data PATH] [--out DIR] [--seed N]

Texts come as arguments or, without any, from standard input one per line. With ``--json``
each result is one line ``{"text": ..., "result": ...}``; rejected lines are reported as
described in :mod:`jisr.language._cli`. An unsupported pair exits with status 2 before
anything is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from jisr.language._cli import run_items
from jisr.language.transliterate import SUPPORTED_PAIRS, UnsupportedPair, transliterate
from jisr.language.transliterate.training import SEED, train_arabizi

__all__ = ["register"]

_PAIRS = ", ".join(f"{source}→{target}" for source, target in SUPPORTED_PAIRS)
_DEFAULT_OUT = Path(__file__).parent / "model"


def register(app: typer.Typer, train: typer.Typer) -> None:
    """Add ``transliterate`` to ``app`` and ``arabizi`` to ``train``."""
    app.command("transliterate", help=f"Transliterate text. Pairs: {_PAIRS}.")(
        transliterate_command
    )
    train.command("arabizi", help="Rebuild the Arabizi → Arabic model from the data.")(
        train_command
    )


def transliterate_command(
    source: Annotated[str, typer.Option("--source", help="Source label, e.g. zgh_Tfng.")],
    target: Annotated[str, typer.Option("--target", help="Target label, e.g. ber_Latn.")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts; default: stdin lines.")] = None,
    ascii_input: Annotated[
        bool, typer.Option("--ascii", help="ber_Latn→zgh_Tfng: read gh, kh, 3, 7, D …")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Transliterate each text from ``--source`` to ``--target``."""
    if (source, target) not in SUPPORTED_PAIRS:
        message = str(UnsupportedPair(source, target, list(SUPPORTED_PAIRS)))
        raise typer.BadParameter(message, param_hint="'--source' / '--target'")

    def process(text: str) -> dict[str, Any]:
        result = transliterate(text, source, target, ascii_input=ascii_input)
        return {"text": text, "result": result}

    run_items(texts or [], as_json=as_json, process=process, render=lambda r: str(r["result"]))


def train_command(
    data: Annotated[
        Path | None, typer.Option("--data", help="Language data folder (holds SOURCES.md).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to write the model.")] = _DEFAULT_OUT,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the pairs.")] = SEED,
) -> None:
    """Rebuild the Arabizi model from ``--data`` into ``--out``."""
    path = train_arabizi(data, out, seed=seed)
    typer.echo(f"wrote {path} ({path.stat().st_size} bytes)")
