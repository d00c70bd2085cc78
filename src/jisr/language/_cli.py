"""What every ``jisr lang`` command shares: reading items and printing results.

Each command reads its items with :func:`jisr.language.textinput.read_inputs` (arguments,
or standard input one item per line) and prints, per item, one JSON object when
``--json`` is given or one human line otherwise. A rejected item prints
``{"line": N, "error": {"code": ..., "detail": ...}}`` (on standard error without
``--json``); the other items are still processed and the command exits with status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

import typer

from jisr.language.textinput import read_inputs

__all__ = ["run_items"]


def run_items(
    arguments: Iterable[str],
    *,
    as_json: bool,
    process: Callable[[str], dict[str, Any]],
    render: Callable[[dict[str, Any]], str],
) -> None:
    """Process every item; raise ``typer.Exit(1)`` at the end if any was rejected."""
    failed = False
    for item in read_inputs(arguments):
        if item.error is not None:
            failed = True
            error = {"code": item.error.code, "detail": item.error.detail}
            problem = {"line": item.number, "error": error}
            if as_json:
                _print(json.dumps(problem, ensure_ascii=False))
            else:
                print(f"line {item.number}: {item.error.detail}", file=sys.stderr)
            continue
        assert item.text is not None
        result = process(item.text)
        _print(json.dumps(result, ensure_ascii=False) if as_json else render(result))
    if failed:
        raise typer.Exit(1)


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
