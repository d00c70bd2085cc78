"""``jisr idp``: initialise one country's identity provider and operate its population register.

``init`` is idempotent: it keeps an existing signing key and brings the register's tables
to the latest migration. The ``register`` commands run directly on the register's database
with actor ``cli:<user>``, after ``init``.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Literal, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from jisr.clisettings import remember_options, settings_from
from jisr.config import IdpSettings
from jisr.crypto.errors import KeyLoadError
from jisr.crypto.keys import (
    PrivateKey,
    generate_private_key,
    load_private_key,
    public_key_fingerprint,
    save_private_key,
)
from jisr.identity.register import (
    MoroccoNin,
    NinProfile,
    Person,
    PopulationRegister,
    QatarNin,
    RegisterError,
    SignedEvent,
    migrate,
)
from jisr.identity.register.calendar import format_hijri
from jisr.identity.register.importer import (
    ImportFileError,
    ImportResult,
    Mode,
    Row,
    birth_from_sample,
    import_rows,
    read_rows,
    write_births,
    write_report,
)
from jisr.identity.register.samples import generate as generate_samples
from jisr.storage import Database

__all__ = ["app"]

T = TypeVar("T")
Advance = Callable[[Literal["checking", "enrolling"], int], None]

app = typer.Typer(help="One country's identity provider: population register, authentication.")
register_app = typer.Typer(help="The population register: sample data, bulk import, records.")
app.add_typer(register_app, name="register")

console = Console(soft_wrap=True)
errors = Console(stderr=True)


@app.callback()
def _settings(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", "-c", help="TOML settings file."),
    data_dir: Path | None = typer.Option(None, help="Data directory [env JISR_DATA_DIR]."),
    country: str | None = typer.Option(None, help="MA or QA [env JISR_COUNTRY]."),
    database_url: str | None = typer.Option(None, help="Database URL [env JISR_DATABASE_URL]."),
) -> None:
    remember_options(ctx, config, data_dir=data_dir, country=country, database_url=database_url)


def settings_of(ctx: typer.Context) -> IdpSettings:
    return settings_from(ctx, IdpSettings)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the data directory and the register's signing key; migrate the register."""
    settings = settings_of(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.register_key_path()
    if path.exists():
        key = _load_key(settings)
        console.print(f"signing key kept: {path}")
    else:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = generate_private_key("p256")
        save_private_key(key, path, settings.passphrase())
        state = "encrypted" if settings.passphrase() else "[yellow]unencrypted[/yellow]"
        console.print(f"signing key created (P-256, {state}): {path}")
    console.print(f"key fingerprint: {public_key_fingerprint(key.public_key())}")
    migrate(settings.effective_database_url())
    console.print(f"register tables at the latest migration: {settings.masked()['database_url']}")
    console.print(f"idp {settings.country} ready in {settings.data_dir}")


def _load_key(settings: IdpSettings) -> PrivateKey:
    path = settings.register_key_path()
    if not path.exists():
        errors.print(f"[red]not initialised[/red]: no key at {path}; run `jisr idp init`")
        raise typer.Exit(1)
    try:
        return load_private_key(path, settings.passphrase())
    except KeyLoadError as error:
        errors.print(f"[red]cannot read the signing key[/red] {path}: {error}")
        raise typer.Exit(1) from None


def _profile(settings: IdpSettings) -> NinProfile:
    profile = MoroccoNin(settings.nin_office) if settings.country == "MA" else QatarNin()
    # NinProfile declares ``country: str`` (settable); the profiles are frozen dataclasses.
    return profile  # type: ignore[return-value]


@asynccontextmanager
async def _register(settings: IdpSettings, key: PrivateKey) -> AsyncIterator[PopulationRegister]:
    database = Database(settings.effective_database_url())
    try:
        yield PopulationRegister(
            database, profile=_profile(settings), key=key, duplicates=settings.duplicates
        )
    finally:
        await database.close()


# ------------------------------------------------------------------ generate and import
@register_app.command("generate")
def generate(
    ctx: typer.Context,
    country: str | None = typer.Option(None, help="MA or QA (default: the idp's country)."),
    count: int = typer.Option(..., "-n", "--count", min=1, help="How many persons."),
    seed: int = typer.Option(0, help="The same seed gives the same persons."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write .jsonl (or .csv)."),
    enrol: bool = typer.Option(False, "--enrol", help="Enrol them in the register instead."),
    concurrency: int = typer.Option(
        4, min=1, max=64, help="Enrolments in flight at once (--enrol)."
    ),
    legal_basis: str = typer.Option("sample data (jisr idp register generate)"),
) -> None:
    """Realistic sample persons as birth registrations: to a file, or enrolled directly."""
    settings = settings_of(ctx)
    if (output is None) == (not enrol):
        errors.print("[red]give exactly one of --output FILE and --enrol[/red]")
        raise typer.Exit(2)
    chosen = country or settings.country
    if chosen not in ("MA", "QA"):
        errors.print(f"[red]--country must be MA or QA, not {chosen!r}[/red]")
        raise typer.Exit(2)
    births = (birth_from_sample(p) for p in generate_samples(chosen, count, seed=seed))
    if output is not None:
        written = write_births(output, births)
        console.print(f"{written} birth registrations written to {output}")
        return
    key = _load_key(settings)
    rows = (Row(line, birth) for line, birth in enumerate(births, start=1))
    started = time.perf_counter()
    with _progress(count, "enrolling") as advance:
        result = asyncio.run(_enrol_batches(settings, key, rows, concurrency, advance, legal_basis))
    elapsed = time.perf_counter() - started
    rate = len(result.enrolled) / elapsed if elapsed else 0.0
    console.print(
        f"enrolled {len(result.enrolled)} of {count} persons in {elapsed:.1f} s "
        f"({rate:.0f} persons/s); {result.rejected_rows} refused"
    )
    _print_rejections(result)


async def _enrol_batches(
    settings: IdpSettings,
    key: PrivateKey,
    rows: Iterator[Row],
    concurrency: int,
    advance: Advance,
    legal_basis: str,
) -> ImportResult:
    """Enrol in batches of ``concurrency`` rows run together (each row its own transaction)."""
    total = ImportResult("per-row")
    actor = _actor()
    async with _register(settings, key) as register:

        async def one(row: Row) -> ImportResult:
            return await import_rows(
                register, [row], "per-row", advance, recorded_by=actor, legal_basis=legal_basis
            )

        while batch := list(itertools.islice(rows, concurrency)):
            for part in await asyncio.gather(*(one(row) for row in batch)):
                total.rows += part.rows
                total.enrolled += part.enrolled
                total.rejected += part.rejected
    return total


@register_app.command("import")
def import_file(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".csv or .jsonl"),
    mode: str = typer.Option("all-or-nothing", help="all-or-nothing or per-row."),
    report: Path | None = typer.Option(None, help="Write rejected rows here (CSV)."),
    legal_basis: str | None = typer.Option(None, help="Default: 'bulk import of FILE'."),
) -> None:
    """Enrol the birth registrations of FILE; exit 1 if any row is rejected."""
    if mode not in ("all-or-nothing", "per-row"):
        errors.print(f"[red]--mode must be all-or-nothing or per-row, not {mode!r}[/red]")
        raise typer.Exit(2)
    settings = settings_of(ctx)
    key = _load_key(settings)
    try:
        rows = list(read_rows(file))
    except (ImportFileError, UnicodeDecodeError) as error:
        errors.print(f"[red]cannot import {file}[/red]: {error}")
        raise typer.Exit(2) from None
    basis = legal_basis or f"bulk import of {file.name}"
    checked: Mode = "per-row" if mode == "per-row" else "all-or-nothing"

    async def run(advance: Advance) -> ImportResult:
        async with _register(settings, key) as register:
            return await import_rows(
                register, rows, checked, advance, recorded_by=_actor(), legal_basis=basis
            )

    with _progress(len(rows), "checking" if checked == "all-or-nothing" else "enrolling") as bar:
        result: ImportResult = asyncio.run(run(bar))
    if report is not None:
        write_report(report, result.rejected)
    _print_import(result, report)
    if result.rejected:
        raise typer.Exit(1)


def _print_import(result: ImportResult, report: Path | None) -> None:
    console.print(
        f"{result.rows} rows ({result.mode}): {len(result.enrolled)} enrolled, "
        f"{result.rejected_rows} rejected"
    )
    if result.mode == "all-or-nothing" and result.rejected and not result.partial:
        console.print("nothing was written: every row must pass")
    if result.partial:
        errors.print(
            f"[red]stopped midway[/red]: {len(result.enrolled)} rows were enrolled before "
            "the rejected one; the rows after it were not"
        )
    _print_rejections(result)
    if report is not None:
        console.print(f"report: {report}")


def _print_rejections(result: ImportResult, limit: int = 20) -> None:
    if not result.rejected:
        return
    table = Table("row", "field", "rule", "reason")
    for item in result.rejected[:limit]:
        table.add_row(str(item.row), item.field, item.rule, item.reason)
    console.print(table)
    if len(result.rejected) > limit:
        console.print(f"… and {len(result.rejected) - limit} more (see --report)")


@contextmanager
def _progress(total: int, first: str) -> Iterator[Advance]:
    """A Rich progress bar on stderr; the callback switches it to a new phase when told."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=errors, transient=True) as bar:
        task = bar.add_task(first, total=total)
        phase = [first]

        def advance(name: Literal["checking", "enrolling"], done: int) -> None:
            if name != phase[0]:
                phase[0] = name
                bar.reset(task, total=total, description=name)
            bar.advance(task, done)

        yield advance


# ------------------------------------------------------------------ records
@register_app.command("show")
def show(
    ctx: typer.Context,
    nin: str,
    purpose: str = typer.Option("operator lookup", help="Recorded with the read."),
) -> None:
    """The current record of NIN, with the date of birth in the Hijri calendar."""
    settings = settings_of(ctx)
    key = _load_key(settings)

    async def read() -> Person:
        async with _register(settings, key) as register:
            return await register.read(nin, requester=_actor(), purpose=purpose)

    person = _or_exit(lambda: asyncio.run(read()))
    table = Table("field", "value", show_header=False)
    for name, value in _record_lines(person):
        table.add_row(name, value)
    console.print(table)


def _record_lines(person: Person) -> list[tuple[str, str]]:
    hijri = person.date_of_birth_hijri
    shown = (
        f"{format_hijri(hijri, 'ar')} ({format_hijri(hijri, 'en')})"
        if hijri
        else "outside the Umm al-Qura table"
    )
    names = [
        (f"{label} ({script})", value)
        for label, name in (("given name", person.given_name), ("family name", person.family_name))
        for script, value in (("arab", name.arab), ("latn", name.latn), ("tfng", name.tfng))
        if value
    ]
    return [
        ("nin", person.nin),
        *names,
        ("date of birth", person.date_of_birth.isoformat()),
        ("date of birth (Hijri)", shown),
        ("place of birth", person.place_of_birth),
        ("sex", person.sex),
        ("nationality", person.nationality),
        ("parents", ", ".join(person.parents) or "-"),
        ("address", person.address or "-"),
        ("spouse", person.spouse or "-"),
        ("status", person.status),
        ("possible duplicate", "yes" if person.possible_duplicate else "no"),
    ]


@register_app.command("history")
def history(ctx: typer.Context, nin: str) -> None:
    """The signed events of NIN in order; every signature and chain link is re-verified."""
    settings = settings_of(ctx)
    key = _load_key(settings)

    async def events() -> list[SignedEvent]:
        async with _register(settings, key) as register:
            return await register.signed_history(nin)

    signed = _or_exit(lambda: asyncio.run(events()))
    for item in signed:
        event = item.event
        console.print(
            f"[bold]{item.seq}. {event.kind}[/bold] at {event.at.isoformat()} "
            f"by {event.recorded_by} ({event.legal_basis})  sha256 {item.sha256[:16]}…"
        )
        payload = {name: value for name, value in event.payload.items() if value not in (None, [])}
        console.print(json.dumps(payload, ensure_ascii=False, indent=2), markup=False)
    console.print(f"{len(signed)} events, signatures and hash chain verified")


def _or_exit(operation: Callable[[], T]) -> T:
    try:
        return operation()
    except RegisterError as error:
        errors.print(f"[red]{error.code}[/red]: {error}")
        raise typer.Exit(1) from None
