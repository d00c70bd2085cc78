"""``jisr log``: verify a gateway's message log, export and check evidence, archive, prune.

Every command that reads the log takes ``--database-url`` (default ``JISR_DATABASE_URL``).
Trust comes from ``--ca`` PEM files (the instance CA certificates of the global
configuration). Exit codes: 0 success, 1 verification failed or nothing to export,
2 bad usage.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import typer
from cryptography import x509
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jisr.crypto.errors import CryptoError
from jisr.crypto.x509 import load_certificates
from jisr.exchange.messagelog.archive import archive as archive_log
from jisr.exchange.messagelog.archive import cleanup as cleanup_log
from jisr.exchange.messagelog.errors import MessageLogError
from jisr.exchange.messagelog.evidence import export_evidence, verify_evidence
from jisr.exchange.messagelog.verify import verify_log
from jisr.files import atomic_write, strict_json_object
from jisr.storage import Database

__all__ = ["app"]

T = TypeVar("T")

app = typer.Typer(help="The gateway message log: verify, evidence, archive, retention.")
# soft_wrap: a verification error is one line, whatever the terminal width.
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

DATABASE_URL = typer.Option(..., envvar="JISR_DATABASE_URL", help="The gateway's database.")
CA = typer.Option(..., "--ca", help="Trusted CA certificates (PEM); repeatable.")
ARCHIVE_DIR = typer.Option(None, help="Directory of the archive files.")


def _certificates(paths: list[Path]) -> list[x509.Certificate]:
    try:
        return [cert for path in paths for cert in load_certificates(path.read_bytes())]
    except (OSError, CryptoError) as exc:
        errors.print(f"[red]cannot read the CA certificates:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _run(url: str, operation: Callable[[Database], Awaitable[T]]) -> T:
    async def go() -> T:
        database = Database(url)
        try:
            return await operation(database)
        finally:
            await database.close()

    try:
        return asyncio.run(go())
    except MessageLogError as exc:
        errors.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    columns = (TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


@app.command()
def verify(
    database_url: str = DATABASE_URL,
    ca: list[Path] = CA,
    archive_dir: Path | None = ARCHIVE_DIR,
    log_id: str | None = typer.Option(None, help="Only this log (default: every log)."),
) -> None:
    """Recompute every leaf, the tree, every STH signature and time-stamp, the archives."""
    roots = _certificates(ca)
    with _progress("verifying") as progress:
        report = _run(
            database_url,
            lambda db: verify_log(
                db, ca_certificates=roots, archive_dir=archive_dir, log_id=log_id, progress=progress
            ),
        )
    console.print(
        f"logs {escape(', '.join(report.logs)) or '-'}: {report.tree_size} leaves, "
        f"{report.records} records, {report.archived_records} archived records in "
        f"{report.archives} archives, {report.tree_heads} tree heads "
        f"({report.timestamped} time-stamped)"
    )
    if report.unchecked:
        console.print(f"[yellow]{report.unchecked} leaves have no record to recompute[/yellow]")
    if not report.ok:
        for error in report.errors:
            errors.print(f"[red]{escape(error)}[/red]")
        raise typer.Exit(1)
    console.print("[green]OK[/green]")


@app.command()
def evidence(
    xroad_id: str = typer.Argument(..., metavar="X-ROAD-ID"),
    output: Path | None = typer.Option(None, "-o", "--output", help="File (default stdout)."),
    database_url: str = DATABASE_URL,
    ca: list[Path] = CA,
    archive_dir: Path | None = ARCHIVE_DIR,
    log_id: str | None = typer.Option(None, help="The log, when several hold this id."),
) -> None:
    """Export the evidence bundle (JSON) of one message."""
    roots = _certificates(ca)
    bundle = _run(
        database_url,
        lambda db: export_evidence(
            db, xroad_id, ca_certificates=roots, log_id=log_id, archive_dir=archive_dir
        ),
    )
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write(output, text.encode(), mode=0o644)
        errors.print(f"evidence for {escape(xroad_id)} written to {escape(str(output))}")


@app.command("verify-evidence")
def verify_evidence_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    ca: list[Path] = CA,
) -> None:
    """Check an evidence bundle offline against the given CA certificates."""
    roots = _certificates(ca)
    try:
        bundle: dict[str, Any] = strict_json_object(file.read_bytes())
    except ValueError as exc:
        errors.print(f"[red]not an evidence bundle:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    report = verify_evidence(bundle, ca_certificates=roots)
    if not report.ok:
        errors.print(f"[red]evidence refused:[/red] {escape(report.error or '')}")
        raise typer.Exit(1)
    console.print(
        f"[green]OK[/green] X-Road-Id {escape(report.xroad_id or '')}: leaves "
        f"{', '.join(map(str, report.leaf_indices))} of {escape(report.log_id or '')}, tree size "
        f"{report.tree_size}, signed {report.signed_at:%Y-%m-%dT%H:%M:%S.%fZ}, "
        f"time-stamped {report.timestamped_at:%Y-%m-%dT%H:%M:%SZ}"
    )


@app.command()
def archive(
    older_than_days: int = typer.Option(..., min=0, help="Archive records older than this."),
    database_url: str = DATABASE_URL,
    archive_dir: Path = typer.Option(..., help="Directory of the archive files."),
) -> None:
    """Move time-stamped records older than N days to digest-chained archive files."""
    with _progress("archiving") as progress:
        count = _run(
            database_url,
            lambda db: archive_log(
                db, archive_dir, older_than=timedelta(days=older_than_days), progress=progress
            ),
        )
    console.print(f"{count} records archived to {escape(str(archive_dir))}")


@app.command()
def cleanup(
    older_than_days: int = typer.Option(..., min=0, help="Delete archived records older."),
    database_url: str = DATABASE_URL,
) -> None:
    """Delete archived records older than N days (leaf hashes stay)."""
    count = _run(
        database_url, lambda db: cleanup_log(db, older_than=timedelta(days=older_than_days))
    )
    console.print(f"{count} archived records deleted")
