"""``jisr gateway``: initialise, serve and operate one administration's gateway.

Register operations (services, access rights, IS connections) run directly on the
gateway's database, like the admin API, and take effect in a running gateway on its next
catalogue reload (immediately for changes made through the admin API).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import typer
from rich.console import Console
from rich.table import Table

from jisr.clisettings import remember_options, settings_from
from jisr.config import GatewaySettings
from jisr.exchange.gateway.admin import TOKENS, GatewayScope
from jisr.exchange.gateway.lifecycle import announce_services, init_gateway, with_registry
from jisr.exchange.gateway.registry import GatewayRegistry
from jisr.problems import Problem
from jisr.storage.types import utcnow

__all__ = ["app"]

T = TypeVar("T")

app = typer.Typer(help="One administration's gateway: consumer and provider faces, message log.")
service_app = typer.Typer(help="Services this gateway provides (service code → backend).")
access_app = typer.Typer(help="Access rights to local services.")
client_app = typer.Typer(help="How local information systems authenticate (none, tls, mtls).")
token_app = typer.Typer(help="Scoped API tokens for the admin API.")
app.add_typer(service_app, name="service")
app.add_typer(access_app, name="access")
app.add_typer(client_app, name="client")
app.add_typer(token_app, name="token")

console = Console()
errors = Console(stderr=True)


@app.callback()
def _settings(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", "-c", help="TOML settings file."),
    data_dir: Path | None = typer.Option(None, help="Data directory [env JISR_DATA_DIR]."),
    gateway: str | None = typer.Option(None, help="Gateway id [env JISR_GATEWAY]."),
    database_url: str | None = typer.Option(None, help="Database URL [env JISR_DATABASE_URL]."),
) -> None:
    remember_options(ctx, config, data_dir=data_dir, gateway=gateway, database_url=database_url)


def settings_of(ctx: typer.Context, **more: Any) -> GatewaySettings:
    return settings_from(ctx, GatewaySettings, **more)


def _run(ctx: typer.Context, operation: Callable[[GatewayRegistry], Awaitable[T]]) -> T:
    try:
        return with_registry(settings_of(ctx), f"cli:{getpass.getuser()}", operation)
    except Problem as problem:
        errors.print(f"[red]{problem.code}[/red]: {problem.detail}")
        raise typer.Exit(1) from None


@app.command()
def init(
    ctx: typer.Context,
    anchor: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="Own instance's anchor."
    ),
    central_url: str | None = typer.Option(None, help="Submit the CSRs to this central."),
    token: str | None = typer.Option(
        None, envvar="JISR_CENTRAL_TOKEN", help="Central token (csr:submit)."
    ),
) -> None:
    """Create the database, keys and CSRs; optionally submit the CSRs to the central."""
    settings = settings_of(ctx, central_url=central_url)
    auth_csr, sign_csr = init_gateway(settings, anchor)
    console.print(f"gateway {settings.gateway} initialised in {settings.data_dir}")
    keys = settings.data_dir / "keys"
    console.print(f"CSRs: {keys / 'auth.csr.pem'}, {keys / 'sign.csr.pem'}")
    if settings.central_url and token:
        owner = settings.gateway.rsplit("/", 1)[0]
        for kind, subject, csr in (("auth", settings.gateway, auth_csr), ("sign", owner, sign_csr)):
            response = httpx.post(
                f"{settings.central_url.rstrip('/')}/api/v1/csrs",
                json={"kind": kind, "subject": subject, "csr": csr.decode()},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            if response.status_code != 201:
                errors.print(f"[red]central refused the {kind} CSR[/red]: {response.text}")
                raise typer.Exit(1)
            number = response.json()["id"]
            console.print(f"{kind} CSR submitted as #{number}; the central operator approves it")


@app.command()
def serve(ctx: typer.Context) -> None:
    """Serve the consumer face, the provider face (mutual TLS) and the admin API."""
    from jisr.exchange.gateway.app import GatewayServer
    from jisr.observability import configure_logging

    settings = settings_of(ctx)
    configure_logging(settings.log_level, settings.log_format)
    with (
        contextlib.suppress(KeyboardInterrupt),
        asyncio.Runner(loop_factory=_loop_factory()) as runner,
    ):
        runner.run(GatewayServer(settings).serve_forever())


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (uvicorn[standard] brings it): a faster event loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


@app.command()
def status(ctx: typer.Context) -> None:
    """Configuration, certificates and message log of this gateway (offline check)."""
    from jisr.exchange.gateway.runtime import Gateway

    settings = settings_of(ctx)

    async def check() -> dict[str, Any]:
        gateway = Gateway(settings)
        try:
            gateway.conf.load_cache()
            try:
                await gateway.conf.refresh()
            except Exception as error:
                errors.print(f"refresh failed: {error}")
            report: dict[str, Any] = {
                "gateway": settings.gateway,
                "configuration_current": gateway.conf.is_current(),
                "instances": sorted(gateway.conf.instances()),
            }
            for name, find in (
                ("auth_certificate", gateway.keys.auth_certificate),
                ("sign_certificate", gateway.keys.sign_certificate),
            ):
                try:
                    find(gateway.conf)
                    report[name] = "ok"
                except Exception as error:
                    report[name] = str(error)
            return report
        finally:
            await gateway.stop()

    console.print_json(json.dumps(asyncio.run(check())))


# ------------------------------------------------------------------ services
@service_app.command("add")
def service_add(
    ctx: typer.Context,
    provider: str = typer.Argument(..., help="INSTANCE/CLASS/MEMBER/SUBSYSTEM"),
    code: str = typer.Argument(...),
    backend_url: str = typer.Argument(..., help="Base URL the service path is appended to."),
    timeout: float = typer.Option(30.0, help="Seconds to wait for the backend."),
    openapi_url: str | None = typer.Option(None, help="OpenAPI description (for getOpenAPI)."),
    disabled: bool = typer.Option(False, help="Register disabled."),
) -> None:
    """Register a local service."""
    _run(
        ctx,
        lambda r: r.add_service(
            provider,
            code,
            backend_url,
            service_timeout=timeout,
            enabled=not disabled,
            openapi_url=openapi_url,
        ),
    )
    console.print(f"service {provider}/{code} → {backend_url}")


@service_app.command("announce")
def service_announce(
    ctx: typer.Context,
    central_url: str | None = typer.Option(None, help="Central base URL [env JISR_CENTRAL_URL]."),
    token: str = typer.Option(..., envvar="JISR_CENTRAL_TOKEN", help="Token (registry:write)."),
) -> None:
    """Register the local services at the central, so the configuration lists them."""
    settings = settings_of(ctx, central_url=central_url)
    if not settings.central_url:
        errors.print("[red]no central URL[/red]: pass --central-url or set JISR_CENTRAL_URL")
        raise typer.Exit(2)
    for service in announce_services(settings, settings.central_url, token):
        console.print(f"announced {service}")


@service_app.command("list")
def service_list(ctx: typer.Context) -> None:
    table = Table("provider", "code", "backend", "timeout", "enabled")
    for row in _run(ctx, lambda r: r.list_services()):
        table.add_row(row.provider, row.code, row.backend_url, str(row.timeout), str(row.enabled))
    console.print(table)


@service_app.command("enable")
def service_enable(ctx: typer.Context, provider: str, code: str) -> None:
    _run(ctx, lambda r: r.update_service(provider, code, enabled=True))
    console.print(f"service {provider}/{code} enabled")


@service_app.command("disable")
def service_disable(ctx: typer.Context, provider: str, code: str) -> None:
    _run(ctx, lambda r: r.update_service(provider, code, enabled=False))
    console.print(f"service {provider}/{code} disabled")


@service_app.command("delete")
def service_delete(ctx: typer.Context, provider: str, code: str) -> None:
    _run(ctx, lambda r: r.delete_service(provider, code))
    console.print(f"service {provider}/{code} deleted")


# -------------------------------------------------------------------- access
SUBJECT_KIND = typer.Option("client", help="client, global_group or local_group.")


@access_app.command("grant")
def access_grant(
    ctx: typer.Context,
    provider: str,
    code: str,
    subject: str = typer.Argument(..., help="Client id, INSTANCE/GROUP, or local group code."),
    kind: str = SUBJECT_KIND,
    method: str = typer.Option("*", help="HTTP method or *."),
    path: str = typer.Option("**", help="Path pattern: /a/*/b, /a/**, or ** for all."),
) -> None:
    """Allow SUBJECT to call the service (optionally one endpoint)."""
    _run(ctx, lambda r: r.grant(provider, code, kind, subject, method=method, path=path))
    console.print(f"{subject} may call {method} {path} of {provider}/{code}")


@access_app.command("revoke")
def access_revoke(
    ctx: typer.Context,
    provider: str,
    code: str,
    subject: str,
    kind: str = SUBJECT_KIND,
    method: str = typer.Option("*"),
    path: str = typer.Option("**"),
) -> None:
    _run(ctx, lambda r: r.revoke(provider, code, kind, subject, method=method, path=path))
    console.print(f"right of {subject} on {provider}/{code} revoked")


@access_app.command("list")
def access_list(ctx: typer.Context, provider: str, code: str) -> None:
    async def rows(reg: GatewayRegistry) -> list[tuple[str, str, str, str]]:
        service = await reg.get_service(provider, code)
        return [(r.subject_kind, r.subject, r.method, r.path) for r in await reg.rights_of(service)]

    table = Table("kind", "subject", "method", "path")
    for row in _run(ctx, rows):
        table.add_row(*row)
    console.print(table)


# ------------------------------------------------------------------- clients
@client_app.command("set")
def client_set(
    ctx: typer.Context,
    client: str,
    mode: str = typer.Option(..., help="none (development only), tls or mtls."),
    certificate: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="IS client certificate (mtls)."
    ),
    log_bodies: bool = typer.Option(True, help="Keep message bodies in the log."),
) -> None:
    """Set how information system CLIENT authenticates to the consumer face."""
    pem = certificate.read_bytes() if certificate is not None else None
    _run(
        ctx,
        lambda r: r.set_connection(client, mode, certificate=pem, log_bodies=log_bodies),
    )
    console.print(f"{client}: mode {mode}")


# -------------------------------------------------------------------- tokens
@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str,
    scope: list[GatewayScope] = typer.Option(..., "--scope", "-s"),
    expires_days: int | None = typer.Option(None),
) -> None:
    """Create an admin API token; the secret is printed once."""
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None

    async def create(reg: GatewayRegistry) -> str:
        secret = await TOKENS.create(reg.session, name, scope, expires)
        await reg.audit("token.create", name, scopes=[s.value for s in scope])
        return secret

    typer.echo(_run(ctx, create))
