"""The ``jisr lang identify`` and ``jisr lang train identify`` commands.

    jisr lang identify [--json] [TEXT...]
    jisr lang train identify [--data PATH] [--out DIR] [--seed N]

Texts come as arguments or, without any, from standard input one per line. With ``--json``
each result is one line ``{"text", "label", "scores", "spans"}``; rejected lines are
reported as described in :mod:`jisr.language._cli` and make the command exit with 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jisr.language import corpus
from jisr.language._cli import run_items
from jisr.language.identify.identifier import identify
from jisr.language.identify.model import DEFAULT_MODEL_DIR, MODEL_FILE
from jisr.language.identify.training import STEPS, Step, TrainingSettings, train

__all__ = ["identify_command", "register", "train_command"]

_SEED = TrainingSettings().seed


def register(app: typer.Typer, train: typer.Typer) -> None:
    """Add ``identify`` to ``app`` and to ``train``."""
    app.command("identify", help="Identify the language and script of texts.")(identify_command)
    train.command("identify", help="Rebuild the language identification model.")(train_command)


def identify_command(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts; default: stdin lines.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print each text's label and probability (with ``--json``: scores and spans too)."""
    run_items(texts or [], as_json=as_json, process=_process, render=_render)


def train_command(
    data: Annotated[
        Path | None, typer.Option("--data", help="Language data folder (holds SOURCES.md).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to write the model.")] = (
        DEFAULT_MODEL_DIR
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sub-sampling.")] = _SEED,
) -> None:
    """Rebuild the model from ``--data`` into ``--out`` (same data and seed: same bytes)."""
    try:
        root = corpus.data_root(data)
    except corpus.DataMissing as exc:
        raise typer.BadParameter(str(exc), param_hint="'--data'") from exc
    with _progress() as step:
        figures = train(root, out, TrainingSettings(seed=seed), step)
    path = out / MODEL_FILE
    typer.echo(
        f"wrote {path} ({path.stat().st_size} bytes): dev macro-F1 "
        f"{figures['dev'].get('macro_f1', 0.0)}, ECE {figures.get('dev_ece_after', 0.0)}"
    )


def _process(text: str) -> dict[str, Any]:
    return identify(text).as_dict()


def _render(result: dict[str, Any]) -> str:
    label = result["label"]
    best = next(iter(result["scores"].values()))
    line = f"{label}\t{best:.3f}\t{result['text']}"
    if len(result["spans"]) > 1:
        line += "\t" + " | ".join(f"{s['label']}: {s['text']}" for s in result["spans"])
    return line


@contextmanager
def _progress() -> Iterator[Step]:
    """A Rich progress bar on stderr, one tick per training step."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    console = Console(stderr=True)
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("training", total=len(STEPS))
        started: list[str] = []

        def step(name: str) -> None:
            if started:
                bar.advance(task)
            started.append(name)
            bar.update(task, description=name)

        yield step
        bar.update(task, completed=len(STEPS))
