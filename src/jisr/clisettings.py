"""Settings for the command line: each component group's callback stores its options in the
Typer context; its commands build the one settings object from them (:func:`load_settings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from jisr.config import CommonSettings, load_settings

__all__ = ["remember_options", "settings_from"]

S = TypeVar("S", bound=CommonSettings)
_errors = Console(stderr=True)


def remember_options(ctx: typer.Context, config: Path | None, **overrides: Any) -> None:
    """Keep a group's options (``None`` = not given) for its commands."""
    ctx.obj = {"config": config, "overrides": overrides}


def settings_from(ctx: typer.Context, cls: type[S], **more: Any) -> S:
    """The effective settings; an invalid value exits with status 2 and says why."""
    obj = ctx.obj if ctx.obj is not None else ctx.find_root().obj
    try:
        return load_settings(cls, obj["config"], **obj["overrides"], **more)
    except Exception as error:
        _errors.print(f"[red]invalid settings:[/red] {error}")
        raise typer.Exit(2) from None
