"""The ``jisr lang names`` commands.

    jisr lang names match A B [--json]
    jisr lang names search --index FILE [--limit 10] [--json] [NAME...]
    jisr lang names index build --out FILE [INPUT]

``match`` prints ``{"a", "b", "score", "match"}``. ``search`` takes names as arguments or,
without any, from standard input one per line, and prints ``{"query", "results": [{"name",
"score"}]}`` best first; rejected lines are reported as described in
:mod:`jisr.language._cli`. ``index build`` reads one name per line from INPUT or standard
input (blank lines skipped; a line that is not acceptable text is reported on standard
error and skipped, and the command then exits with status 1 after writing the index).
An index file that cannot be read, or an unacceptable ``match`` argument, exits with
status 2. Nothing here is trained: the key mapping is hand-built (docs/language-names.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from jisr.language._cli import run_items
from jisr.language.names.errors import NameIndexError
from jisr.language.names.index import NameIndex
from jisr.language.names.scoring import THRESHOLD, score
from jisr.language.textinput import InputRejected, check_text, decode_text

__all__ = ["register"]


def register(app: typer.Typer, train: typer.Typer) -> None:
    """Add the ``names`` group to ``app``; ``train`` gets nothing (no trained part)."""
    del train  # the key mapping and costs are hand-set, not learned
    names_app = typer.Typer(help="Match and search person names across Arabic and Latin.")
    index_app = typer.Typer(help="Build name indexes.")
    names_app.command("match", help="Score two names; match if ≥ the threshold.")(match_command)
    names_app.command("search", help="The best matches of names in an index.")(search_command)
    index_app.command("build", help="Index names read one per line.")(build_command)
    names_app.add_typer(index_app, name="index")
    app.add_typer(names_app, name="names")


def match_command(
    a: Annotated[str, typer.Argument(help="A name, in any script.")],
    b: Annotated[str, typer.Argument(help="Another name, in any script.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Print how alike ``a`` and ``b`` are and whether that is a match."""
    first, second = _argument(a, "A"), _argument(b, "B")
    value = score(first, second)
    result = {"a": first, "b": second, "score": value, "match": value >= THRESHOLD}
    typer.echo(json.dumps(result, ensure_ascii=False) if as_json else _render_match(result))


def search_command(
    index: Annotated[Path, typer.Option("--index", help="An index from `names index build`.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="Results per name.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    names: Annotated[list[str] | None, typer.Argument(help="Names; default: stdin lines.")] = None,
) -> None:
    """Print the ``--limit`` best matches of each name in ``--index``."""
    try:
        loaded = NameIndex.load(index)
    except NameIndexError as error:
        raise typer.BadParameter(str(error), param_hint="'--index'") from error

    def process(name: str) -> dict[str, Any]:
        hits = loaded.search(name, k=limit)
        return {"query": name, "results": [{"name": h.name, "score": h.score} for h in hits]}

    run_items(names or [], as_json=as_json, process=process, render=_render_search)


def build_command(
    source: Annotated[
        Path | None, typer.Argument(help="File of names, one per line; default: stdin.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to write the index.")] = Path(
        "names.npz"
    ),
) -> None:
    """Index the names of ``source`` (or standard input) into ``--out``."""
    rejected: list[int] = []
    columns = (TextColumn("indexing"), BarColumn(), TextColumn("{task.completed:,} names"))
    with Progress(*columns, TimeElapsedColumn(), transient=True) as progress:
        task = progress.add_task("build", total=None)
        if source is None:
            built = _build(sys.stdin.buffer, rejected, lambda n: progress.advance(task, n))
        else:
            with source.open("rb") as handle:
                built = _build(handle, rejected, lambda n: progress.advance(task, n))
    built.save(out)
    typer.echo(f"wrote {out}: {len(built):,} distinct names, {out.stat().st_size:,} bytes")
    if rejected:
        raise typer.Exit(1)


def _build(stream: BinaryIO, rejected: list[int], advance: Callable[[int], None]) -> NameIndex:
    return NameIndex.build(_names(stream, rejected), progress=advance)


def _names(stream: BinaryIO, rejected: list[int]) -> Iterator[str]:
    """The acceptable non-blank lines of ``stream``; rejected line numbers are recorded."""
    for number, raw in enumerate(stream, start=1):
        line = raw.removesuffix(b"\n").removesuffix(b"\r")
        if not line.strip():
            continue
        try:
            yield decode_text(line)
        except InputRejected as error:
            rejected.append(number)
            print(f"line {number}: {error.detail}", file=sys.stderr)


def _argument(value: str, name: str) -> str:
    try:
        return check_text(value)
    except InputRejected as error:
        raise typer.BadParameter(f"{error.detail} ({error.code})", param_hint=name) from error


def _render_match(result: dict[str, Any]) -> str:
    verdict = "match" if result["match"] else "no match"
    return f"{result['score']:.4f}\t{verdict}\t{result['a']}\t{result['b']}"


def _render_search(result: dict[str, Any]) -> str:
    found = ", ".join(f"{hit['name']} ({hit['score']:.4f})" for hit in result["results"])
    return f"{result['query']}\t{found or '(none)'}"
