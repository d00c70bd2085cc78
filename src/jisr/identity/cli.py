"""``jisr idp``: initialise, serve and operate one country's identity provider.

``init`` is idempotent: it keeps an existing signing key and secrets, generates the missing
ones (files of mode 0600 under ``<data_dir>/secrets``) and brings the register's,
authentication's and the provider's tables to the latest migration. ``serve`` runs the
provider (:mod:`jisr.identity.app`). The other commands (``register``, ``client``, ``user``,
``keys``, ``token``) run directly on the database, after ``init``; register commands record
the actor ``cli:<user>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

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
from jisr.identity import authn
from jisr.identity import oidc as provider
from jisr.identity.app import NotInitialised, name_matcher_of, oidc_settings, profile_of
from jisr.identity.authn import AccountActive, Accounts, UnknownAccount
from jisr.identity.oidc.app import TOKENS, OidcScope
from jisr.identity.oidc.clients import ClientMetadata, list_clients, register_client
from jisr.identity.oidc.errors import KeyRingError, RegistrationError
from jisr.identity.oidc.keys import Algorithm, KeyRing
from jisr.identity.register import (
    InvalidInput,
    Person,
    PopulationRegister,
    RegisterError,
    SignedEvent,
    migrate,
)
from jisr.identity.register import Problem as RegisterProblem
from jisr.identity.register.api import RegisterScope
from jisr.identity.register.calendar import format_hijri
from jisr.identity.register.importer import (
    ImportFileError,
    ImportResult,
    Mode,
    Rejection,
    Row,
    birth_from_sample,
    import_rows,
    read_rows,
    write_births,
    write_report,
)
from jisr.identity.register.register import BulkEnrolError
from jisr.identity.register.samples import generate as generate_samples
from jisr.problems import Problem
from jisr.serving import start_listener, until_signalled
from jisr.storage import Database, utcnow

__all__ = ["ENROL_BATCH", "app", "enrol_rows", "initialise"]

#: Persons per transaction of ``register generate --enrol``: bigger batches gain little.
ENROL_BATCH = 500
T = TypeVar("T")
Advance = Callable[[Literal["checking", "enrolling"], int], None]

app = typer.Typer(help="One country's identity provider: population register, authentication.")
register_app = typer.Typer(help="The population register: sample data, bulk import, records.")
client_app = typer.Typer(help="OpenID Connect clients (relying parties, machine clients).")
user_app = typer.Typer(help="Accounts of enrolled persons: activation codes, lockouts.")
keys_app = typer.Typer(help="The provider's token-signing keys.")
token_app = typer.Typer(help="Scoped API tokens for the admin API and the register data API.")
config_app = typer.Typer(help="Effective settings.")
for _group, _name in (
    (register_app, "register"),
    (client_app, "client"),
    (user_app, "user"),
    (keys_app, "keys"),
    (token_app, "token"),
    (config_app, "config"),
):
    app.add_typer(_group, name=_name)

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
    """Create the data directory, secrets and the register's signing key; migrate the
    register, authentication and provider tables; create the first token-signing keys."""
    settings = settings_of(ctx)
    try:
        initialise(settings, console.print)
    except KeyLoadError as error:
        path = settings.register_key_path()
        errors.print(f"[red]cannot read the signing key[/red] {path}: {error}")
        raise typer.Exit(1) from None
    _with_database(settings, lambda database: _keyring(settings, database).initialise(utcnow()))
    console.print(f"idp {settings.country} ready in {settings.data_dir}")


def initialise(settings: IdpSettings, say: Callable[[str], object]) -> None:
    """What ``init`` does before the token-signing keys: the register key, the secrets and
    the migrations; each step is told to ``say``. Blocking: never call from a running loop.

    Raises :class:`~jisr.crypto.errors.KeyLoadError` if an existing key cannot be read.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = _register_key(settings, say)
    say(f"key fingerprint: {public_key_fingerprint(key.public_key())}")
    for name in ("subject_secret", "csrf_secret"):
        secret_file = settings.secret_path(name)
        if getattr(settings, name) is None and not secret_file.exists():
            _write_secret(secret_file)
            say(f"{name} generated: {secret_file}")
    url = settings.effective_database_url()
    for migrate_one in (migrate, authn.migrate, provider.migrate):
        migrate_one(url)
    say(
        "register, authentication and provider tables at the latest migration: "
        f"{settings.masked()['database_url']}"
    )


def _register_key(settings: IdpSettings, say: Callable[[str], object]) -> PrivateKey:
    """The register's signing key: kept if it exists, else created (and its passphrase)."""
    path = settings.register_key_path()
    if path.exists():
        say(f"signing key kept: {path}")
        return load_private_key(path, settings.passphrase())
    if settings.passphrase() is None and not _passphrase_configured(settings):
        _write_secret(settings.secret_path("key_passphrase"))
        say(f"key passphrase generated: {settings.secret_path('key_passphrase')}")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = generate_private_key("p256")
    save_private_key(key, path, settings.passphrase())
    state = "encrypted" if settings.passphrase() else "[yellow]unencrypted[/yellow]"
    say(f"signing key created (P-256, {state}): {path}")
    return key


def _passphrase_configured(settings: IdpSettings) -> bool:
    return settings.key_passphrase is not None or settings.key_passphrase_file is not None


def _write_secret(path: Path) -> None:
    """A new random secret (64 URL-safe characters) in a file only the owner can read."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secrets.token_urlsafe(48) + "\n")


def _with_database(settings: IdpSettings, operation: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(settings.effective_database_url())
        try:
            return await operation(database)
        finally:
            await database.close()

    return asyncio.run(run())


def _keyring(settings: IdpSettings, database: Database) -> KeyRing:
    try:
        return KeyRing(database, oidc_settings(settings))
    except (NotInitialised, ValueError) as error:
        errors.print(f"[red]cannot use the provider's settings[/red]: {error}")
        raise typer.Exit(1) from None


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


@asynccontextmanager
async def _register(settings: IdpSettings, key: PrivateKey) -> AsyncIterator[PopulationRegister]:
    database = Database(settings.effective_database_url())
    try:
        yield PopulationRegister(
            database,
            profile=profile_of(settings),
            key=key,
            duplicates=settings.duplicates,
            matcher=name_matcher_of(settings),
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
    batch: int = typer.Option(
        ENROL_BATCH, min=1, max=10_000, help="Persons enrolled per transaction (--enrol)."
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

    async def run(advance: Advance) -> ImportResult:
        async with _register(settings, key) as register:
            return await enrol_rows(
                register, rows, batch=batch, advance=advance, legal_basis=legal_basis
            )

    started = time.perf_counter()
    with _progress(count, "enrolling") as advance:
        result = asyncio.run(run(advance))
    elapsed = time.perf_counter() - started
    rate = len(result.enrolled) / elapsed if elapsed else 0.0
    console.print(
        f"enrolled {len(result.enrolled)} of {count} persons in {elapsed:.1f} s "
        f"({rate:.0f} persons/s); {result.rejected_rows} refused"
    )
    _print_rejections(result)


async def enrol_rows(
    register: PopulationRegister,
    rows: Iterable[Row],
    *,
    batch: int = ENROL_BATCH,
    advance: Advance | None = None,
    legal_basis: str,
    recorded_by: str | None = None,
) -> ImportResult:
    """Enrol ``rows`` ``batch`` per transaction (:meth:`PopulationRegister.bulk_enrol`).

    Rows are independent, as in a ``per-row`` import: a refused row (invalid, or a possible
    duplicate under policy ``refuse``) is reported and its batch enrolled again without it,
    since a refused row makes ``bulk_enrol`` write nothing of its batch.
    """
    result = ImportResult("per-row")
    actor = recorded_by or _actor()
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, batch)):
        result.rows += len(chunk)
        await _enrol_chunk(register, chunk, result, advance, actor, legal_basis)
    return result


async def _enrol_chunk(
    register: PopulationRegister,
    chunk: list[Row],
    result: ImportResult,
    advance: Advance | None,
    actor: str,
    legal_basis: str,
) -> None:
    """One transaction for ``chunk``; again without each refused row until one succeeds."""
    while chunk:
        try:
            numbers = await register.bulk_enrol(
                [row.birth for row in chunk],
                recorded_by=actor,
                legal_basis=legal_basis,
                batch=len(chunk),
            )
        except BulkEnrolError as refused:
            result.rejected += _refusal(chunk[refused.index], refused)
            chunk = chunk[: refused.index] + chunk[refused.index + 1 :]
            done = 1
        else:
            result.enrolled += [(row.line, nin) for row, nin in zip(chunk, numbers, strict=True)]
            done, chunk = len(chunk), []
        if advance is not None:
            advance("enrolling", done)


def _refusal(row: Row, refused: BulkEnrolError) -> list[Rejection]:
    error = refused.error
    problems = error.problems if isinstance(error, InvalidInput) else []
    if not problems:
        problems = [RegisterProblem("person", error.code, str(error))]
    return [Rejection(row.line, p.field, p.rule, p.message) for p in problems]


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
    if result.mode == "all-or-nothing" and result.rejected:
        console.print("nothing was written: every row must pass")
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


# ------------------------------------------------------------------ serving
@app.command()
def serve(ctx: typer.Context) -> None:
    """Serve the provider, the register data API (/registry) and /health, /ready, /metrics
    on host:port until Ctrl-C or SIGTERM, then finish the requests in flight and stop."""
    from jisr.observability import configure_logging

    settings = settings_of(ctx)
    configure_logging(settings.log_level, settings.log_format)
    with (
        contextlib.suppress(KeyboardInterrupt),
        asyncio.Runner(loop_factory=_loop_factory()) as runner,
    ):
        runner.run(_serve(settings))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (uvicorn[standard] brings it): a faster event loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve(settings: IdpSettings) -> None:
    import structlog
    import uvicorn

    from jisr.identity.app import create_idp_app

    try:
        application, _ = create_idp_app(settings)
    except (NotInitialised, KeyLoadError, ValueError) as error:
        errors.print(f"[red]cannot start the identity provider[/red]: {error}")
        raise typer.Exit(1) from None
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    task = start_listener(server)
    while not server.started:
        if task.done():
            errors.print(f"[red]the server did not start[/red]: {task.exception()!r}")
            raise typer.Exit(1)
        await asyncio.sleep(0.02)
    structlog.get_logger("jisr.idp").info(
        "idp.started", issuer=settings.issuer_url(), host=settings.host, port=settings.port
    )
    try:
        await until_signalled([task])
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """The effective settings as JSON; secrets and database passwords masked."""
    console.print_json(json.dumps(settings_of(ctx).masked()))


# ------------------------------------------------------------------ clients
class AuthMethodChoice(StrEnum):
    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 (a method name)
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 (a method name)
    PRIVATE_KEY_JWT = "private_key_jwt"
    NONE = "none"


class AlgChoice(StrEnum):
    ES256 = "ES256"
    RS256 = "RS256"


class SubjectChoice(StrEnum):
    PAIRWISE = "pairwise"
    PUBLIC = "public"


_CODE_SCOPE = "openid profile address national_id"


@client_app.command("add")
def client_add(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="The client's name, shown on consent."),
    redirect_uri: list[str] = typer.Option(
        [], "--redirect-uri", help="Redirect URI (repeatable); enables the code flow."
    ),
    public: bool = typer.Option(False, "--public", help="A public client (auth method none)."),
    auth_method: AuthMethodChoice | None = typer.Option(
        None, "--auth-method", help="Token endpoint authentication (default client_secret_basic)."
    ),
    jwks: Path | None = typer.Option(
        None, "--jwks", exists=True, dir_okay=False, help="JWK Set file (private_key_jwt)."
    ),
    id_token_alg: AlgChoice = typer.Option(AlgChoice.ES256, "--id-token-alg"),
    subject_type: SubjectChoice = typer.Option(SubjectChoice.PAIRWISE, "--subject-type"),
    scope: str | None = typer.Option(
        None, help=f"Scopes it may ask (default with redirect URIs: {_CODE_SCOPE!r})."
    ),
) -> None:
    """Register a client; print its client_id and its secret (shown only this once).

    With redirect URIs the client gets the authorization-code and refresh-token grants; a
    confidential client also gets client_credentials.
    """
    method = _auth_method(public, auth_method)
    if method == "none" and not redirect_uri:
        errors.print("[red]a public client needs --redirect-uri[/red] (it has no secret)")
        raise typer.Exit(2)
    grants = [] if method == "none" else ["client_credentials"]
    if redirect_uri:
        grants += ["authorization_code", "refresh_token"]
    try:
        metadata = ClientMetadata(
            client_name=name,
            redirect_uris=redirect_uri,
            grant_types=grants,
            response_types=["code"] if redirect_uri else [],
            scope=scope if scope is not None else (_CODE_SCOPE if redirect_uri else ""),
            token_endpoint_auth_method=method,
            jwks=json.loads(jwks.read_text(encoding="utf-8")) if jwks else None,
            id_token_signed_response_alg=id_token_alg.value,
            subject_type=subject_type.value,
        )
    except (ValueError, OSError) as error:
        errors.print(f"[red]invalid client[/red]: {error}")
        raise typer.Exit(2) from None

    async def add(database: Database) -> provider.Registered:
        async with database.transaction() as session:
            return await register_client(session, metadata, utcnow())

    try:
        registered = _with_database(settings_of(ctx), add)
    except RegistrationError as error:
        problem = error.problem()
        errors.print(f"[red]{problem.code}[/red]: {problem.detail}")
        for item in problem.errors:
            errors.print(f"  {item.field}: {item.rule} ({item.message})")
        raise typer.Exit(2) from None
    client = registered.client
    console.print(f"client_id: {client.client_id}")
    if registered.client_secret is not None:
        console.print(f"client_secret: {registered.client_secret}")
        console.print("the secret is shown only this once; store it now")
    console.print(f"grant types: {' '.join(client.grant_types)}")


def _auth_method(public: bool, chosen: AuthMethodChoice | None) -> provider.clients.AuthMethod:
    if public and chosen not in (None, AuthMethodChoice.NONE):
        errors.print("[red]--public takes no --auth-method other than none[/red]")
        raise typer.Exit(2)
    if public or chosen is AuthMethodChoice.NONE:
        return "none"
    if chosen is None:
        return "client_secret_basic"
    method: provider.clients.AuthMethod = chosen.value  # type: ignore[assignment]
    return method


@client_app.command("list")
def client_list(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON array, for scripts."),
) -> None:
    """Every registered client (no secrets)."""

    async def clients(database: Database) -> list[provider.Client]:
        async with database.transaction() as session:
            return await list_clients(session)

    found = _with_database(settings_of(ctx), clients)
    if as_json:
        rows = [
            {
                "client_id": client.client_id,
                "client_name": client.name,
                "token_endpoint_auth_method": client.token_endpoint_auth_method,
                "grant_types": list(client.grant_types),
                "redirect_uris": list(client.redirect_uris),
                "scope": " ".join(client.scopes),
                "subject_type": client.subject_type,
                "id_token_signed_response_alg": client.id_token_signed_response_alg,
                "created_at": client.created_at.isoformat(),
            }
            for client in found
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(
        Column("client_id", no_wrap=True, min_width=26),
        Column("name", overflow="fold"),
        Column("auth method", no_wrap=True),
        Column("grant types", overflow="fold"),
        Column("redirect URIs", overflow="fold"),
    )
    for client in found:
        table.add_row(
            client.client_id,
            client.name,
            client.token_endpoint_auth_method,
            " ".join(client.grant_types),
            " ".join(client.redirect_uris) or "-",
        )
    console.print(table)


# ------------------------------------------------------------------ users
class _Deceased(Exception):
    pass


@user_app.command("activate")
def user_activate(ctx: typer.Context, nin: str) -> None:
    """Issue a one-time activation code for NIN (enrolled, living) and print it; it voids
    earlier codes. Deliver it out of band; the person chooses a password with it."""
    settings = settings_of(ctx)
    key = _load_key(settings)

    async def issue(database: Database) -> authn.ActivationCode:
        register = PopulationRegister(database, profile=profile_of(settings), key=key)
        person = await register.read(nin, requester=_actor(), purpose="account activation")
        if person.status != "living":
            raise _Deceased(person.nin)
        return await Accounts(database).issue_activation(person.nin)

    try:
        issued = _with_database(settings, issue)
    except RegisterError as error:
        errors.print(f"[red]{error.code}[/red]: {error}")
        raise typer.Exit(1) from None
    except AccountActive:
        errors.print(f"[red]account_active[/red]: the account of {nin} is already active")
        raise typer.Exit(1) from None
    except _Deceased:
        errors.print(f"[red]deceased[/red]: {nin} is recorded as deceased; no account")
        raise typer.Exit(1) from None
    console.print(f"activation code for {issued.nin}: {issued.code}")
    console.print(
        f"valid until {issued.expires_at.isoformat(timespec='minutes')}; earlier codes void"
    )


@user_app.command("unlock")
def user_unlock(ctx: typer.Context, nin: str) -> None:
    """Lift NIN's lockout after too many failed logins and forget its failures."""
    try:
        account = _with_database(settings_of(ctx), lambda database: Accounts(database).unlock(nin))
    except UnknownAccount:
        errors.print(f"[red]unknown_account[/red]: {nin} has no account")
        raise typer.Exit(1) from None
    console.print(f"{account.nin} unlocked (status {account.status})")


# ------------------------------------------------------------------ keys
@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    alg: list[AlgChoice] = typer.Option(
        list(AlgChoice), "--alg", help="Algorithm(s) to rotate (default both)."
    ),
) -> None:
    """Publish a next key per algorithm; a running provider promotes it to active once the
    publish lead (24 h) has passed, so relying parties' JWKS caches have it first. Exit 1
    if an algorithm already has a next key."""
    settings = settings_of(ctx)

    async def rotate(database: Database) -> list[str]:
        ring = _keyring(settings, database)
        now = utcnow()
        await ring.initialise(now)
        lines = []
        for one in alg:
            algorithm: Algorithm = one.value
            try:
                key = await ring.rotate(algorithm, now)
            except KeyRingError as error:
                lines.append(f"{one.value}: not rotated, {error}")
                continue
            lines.append(
                f"{one.value}: next key {key.kid} published; signs from "
                f"{key.not_before.isoformat(timespec='minutes')}"
            )
        return lines

    lines = _with_database(settings, rotate)
    for line in lines:
        console.print(line)
    if any("not rotated" in line for line in lines):
        raise typer.Exit(1)


# ------------------------------------------------------------------ tokens
class TokenScope(StrEnum):
    ADMIN = OidcScope.ADMIN.value
    CLIENTS_READ = OidcScope.CLIENTS_READ.value
    CLIENTS_WRITE = OidcScope.CLIENTS_WRITE.value
    KEYS_WRITE = OidcScope.KEYS_WRITE.value
    REGISTER_READ = RegisterScope.READ.value
    REGISTER_WRITE = RegisterScope.WRITE.value


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str,
    scope: list[TokenScope] = typer.Option(..., "--scope", "-s"),
    expires_days: int | None = typer.Option(None, min=1),
) -> None:
    """Create a Bearer token for /api/v1 and /registry; the secret is printed once."""
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None

    async def create(database: Database) -> str:
        async with database.transaction() as session:
            return await TOKENS.create(session, name, scope, expires)

    try:
        typer.echo(_with_database(settings_of(ctx), create))
    except Problem as problem:
        errors.print(f"[red]{problem.code}[/red]: {problem.detail}")
        raise typer.Exit(1) from None
