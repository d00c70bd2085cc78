"""``jisr central``: initialise, serve and operate one country's exchange registry.

The operator commands call the same :class:`Registry` operations as the admin API (same
validation, same audit log, actor ``cli:<user>``) directly on the database, then publish a
new global configuration. Refusals print the problem's code and detail and exit with 1.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from jisr.apitokens import ApiTokenColumns
from jisr.clisettings import remember_options, settings_from
from jisr.config import CentralSettings
from jisr.crypto.x509 import fingerprint_sha256
from jisr.exchange.central.keystore import KeyStore
from jisr.exchange.central.lifecycle import initialise, open_registry
from jisr.exchange.central.models import Member, Subsystem
from jisr.exchange.central.publisher import Publisher
from jisr.exchange.central.registry import Registry, certificate_pem
from jisr.exchange.central.tokens import TOKENS, Scope
from jisr.ids import GatewayId, IdentifierError
from jisr.problems import Problem
from jisr.storage import Database
from jisr.storage.types import utcnow

__all__ = ["app"]

T = TypeVar("T")

app = typer.Typer(help="One country's exchange registry, CA, TSA and global configuration.")
token_app = typer.Typer(help="Scoped API tokens for the admin API.")
member_class_app = typer.Typer(help="Member classes (GOV, COM, NGO, ...).")
member_app = typer.Typer(help="Members: administrations and organisations.")
subsystem_app = typer.Typer(help="Subsystems: a member's information systems.")
gateway_app = typer.Typer(help="Gateways (security servers) and the subsystems they host.")
csr_app = typer.Typer(help="Certificate signing requests from gateways and members.")
cert_app = typer.Typer(help="Issued certificates.")
group_app = typer.Typer(help="Global groups.")
service_app = typer.Typer(help="Registered services.")
federation_app = typer.Typer(help="Federation partners (other instances' anchors).")
key_app = typer.Typer(help="Global-configuration signing keys and their rotation.")
config_app = typer.Typer(help="Effective settings.")
for sub, name in [
    (config_app, "config"),
    (token_app, "token"),
    (member_class_app, "member-class"),
    (member_app, "member"),
    (subsystem_app, "subsystem"),
    (gateway_app, "gateway"),
    (csr_app, "csr"),
    (cert_app, "cert"),
    (group_app, "group"),
    (service_app, "service"),
    (federation_app, "federation"),
    (key_app, "signing-key"),
]:
    app.add_typer(sub, name=name)

console = Console()
errors = Console(stderr=True)


@app.callback()
def _settings(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", "-c", help="TOML settings file."),
    data_dir: Path | None = typer.Option(None, help="Data directory [env JISR_DATA_DIR]."),
    instance: str | None = typer.Option(None, help="Instance identifier [env JISR_INSTANCE]."),
    database_url: str | None = typer.Option(None, help="Database URL [env JISR_DATABASE_URL]."),
) -> None:
    remember_options(ctx, config, data_dir=data_dir, instance=instance, database_url=database_url)


def settings_of(ctx: typer.Context, **more: Any) -> CentralSettings:
    return settings_from(ctx, CentralSettings, **more)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def run(
    settings: CentralSettings, operation: Callable[[Registry], Awaitable[T]], *, publish: bool
) -> T:
    """Run one registry operation in one transaction, then publish if it changed anything."""

    async def go() -> T:
        database = Database(settings.effective_database_url())
        keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
        try:
            async with database.transaction() as session:
                result = await operation(open_registry(session, _actor(), settings, keystore))
            if publish:
                await Publisher(database, keystore, settings).publish()
            return result
        finally:
            await database.close()

    try:
        return asyncio.run(go())
    except Problem as problem:
        errors.print(f"[red]{problem.code}[/red]: {problem.detail}")
        for error in problem.errors:
            errors.print(f"  {error.field}: {error.rule}: {error.message}")
        raise typer.Exit(1) from None


# ------------------------------------------------------------------ lifecycle
@app.command()
def init(
    ctx: typer.Context,
    organization: str | None = typer.Option(None, help="Organisation in the CA subject."),
) -> None:
    """Create or migrate the database; on first run create the CA, TSA and signing key."""
    settings = settings_of(ctx, organization=organization)
    done = initialise(settings)
    ca = done.keystore.ca_certificate()
    console.print(f"instance [bold]{settings.instance}[/bold] ready in {settings.data_dir}")
    console.print(f"database: {settings.masked()['database_url']}")
    console.print(f"CA {'created' if done.created else 'kept'}: sha256 {fingerprint_sha256(ca)}")


@app.command()
def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Bind address [env JISR_HOST]."),
    port: int | None = typer.Option(None, help="Port [env JISR_PORT]."),
) -> None:
    """Serve the admin API, /globalconf, /anchor, /tsa, /health, /ready and /metrics."""
    import uvicorn

    from jisr.exchange.central.app import create_app
    from jisr.observability import configure_logging

    settings = settings_of(ctx, host=host, port=port)
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
    )


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective settings (secrets masked) as JSON."""
    console.print_json(json.dumps(settings_of(ctx).masked()))


@app.command()
def anchor(
    ctx: typer.Context,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file."),
) -> None:
    """Export the anchor (instance, configuration URLs, signing certificates)."""
    settings = settings_of(ctx)

    async def export() -> bytes:
        database = Database(settings.effective_database_url())
        keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
        try:
            return (await Publisher(database, keystore, settings).anchor()).to_json()
        finally:
            await database.close()

    data = asyncio.run(export())
    if out is None:
        typer.echo(data.decode())  # canonical JSON: its SHA-256 is what partners compare
    else:
        out.write_bytes(data)
        errors.print(f"anchor written to {out}")
    errors.print(f"anchor sha256: {hashlib.sha256(data).hexdigest()}")


@app.command()
def backup(
    ctx: typer.Context, destination: Path = typer.Argument(..., help="New directory.")
) -> None:
    """Copy the key store and (for SQLite) a consistent database snapshot to DESTINATION."""
    settings = settings_of(ctx)
    if destination.exists():
        errors.print(f"[red]{destination} exists[/red]; choose a new directory")
        raise typer.Exit(1)
    shutil.copytree(settings.data_dir / "keys", destination / "keys")
    url = make_url(settings.effective_database_url())
    if url.get_backend_name() == "sqlite" and url.database:
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(destination / Path(url.database).name)
        with target:
            source.backup(target)  # online backup API: consistent even while serving
        source.close()
        target.close()
        console.print(f"backup written to {destination} (keys + SQLite snapshot)")
    else:
        console.print(f"keys copied to {destination}; back up PostgreSQL with pg_dump")


# --------------------------------------------------------------------- tokens
@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Who or what uses the token."),
    scope: list[Scope] = typer.Option(..., "--scope", "-s", help="Repeat for several scopes."),
    expires_days: int | None = typer.Option(None, help="Expire after this many days."),
) -> None:
    """Create a token; its secret is printed once and never stored."""
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None

    async def create(reg: Registry) -> str:
        secret = await TOKENS.create(reg.session, name, scope, expires)
        await reg.audit("token.create", name, scopes=[s.value for s in scope])
        return secret

    typer.echo(run(settings_of(ctx), create, publish=False))


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, name: str) -> None:
    """Revoke a token by name."""

    async def revoke(reg: Registry) -> None:
        await TOKENS.revoke(reg.session, name)
        await reg.audit("token.revoke", name)

    run(settings_of(ctx), revoke, publish=False)
    console.print(f"token {name!r} revoked")


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """List tokens (names, scopes, state; never secrets)."""

    async def rows(reg: Registry) -> list[ApiTokenColumns]:
        return await TOKENS.list(reg.session)

    table = Table("name", "scopes", "created", "expires", "revoked", "last used")
    for row in run(settings_of(ctx), rows, publish=False):
        table.add_row(
            row.name,
            row.scopes,
            *(
                str(v or "")
                for v in (row.created_at, row.expires_at, row.revoked_at, row.last_used_at)
            ),
        )
    console.print(table)


# --------------------------------------------------------------- member classes
@member_class_app.command("add")
def member_class_add(ctx: typer.Context, code: str, description: str = "") -> None:
    """Add a member class."""
    run(settings_of(ctx), lambda reg: reg.add_member_class(code, description), publish=True)
    console.print(f"member class {code} added")


@member_class_app.command("delete")
def member_class_delete(ctx: typer.Context, code: str) -> None:
    """Delete a member class that has no members."""
    run(settings_of(ctx), lambda reg: reg.delete_member_class(code), publish=True)
    console.print(f"member class {code} deleted")


@member_class_app.command("list")
def member_class_list(ctx: typer.Context) -> None:
    table = Table("code", "description")
    for row in run(settings_of(ctx), lambda reg: reg.list_member_classes(), publish=False):
        table.add_row(row.code, row.description)
    console.print(table)


# ---------------------------------------------------------------------- members
@member_app.command("add")
def member_add(
    ctx: typer.Context,
    member_class: str,
    code: str,
    name_ar: str = typer.Option(..., "--name-ar", help="Name in Arabic."),
    name_fr: str = typer.Option("", "--name-fr"),
    name_en: str = typer.Option("", "--name-en"),
) -> None:
    """Add a member."""
    run(
        settings_of(ctx),
        lambda reg: reg.add_member(member_class, code, name_ar, name_fr, name_en),
        publish=True,
    )
    console.print(f"member {member_class}/{code} added")


@member_app.command("list")
def member_list(ctx: typer.Context) -> None:
    table = Table("class", "code", "ar", "fr", "en")
    for row in run(settings_of(ctx), lambda reg: reg.list_members(), publish=False):
        table.add_row(row.member_class, row.code, row.name_ar, row.name_fr, row.name_en)
    console.print(table)


@member_app.command("rename")
def member_rename(
    ctx: typer.Context,
    member_class: str,
    code: str,
    name_ar: str | None = typer.Option(None, "--name-ar"),
    name_fr: str | None = typer.Option(None, "--name-fr"),
    name_en: str | None = typer.Option(None, "--name-en"),
) -> None:
    """Change a member's names (only those given)."""
    names = {"ar": name_ar, "fr": name_fr, "en": name_en}
    run(settings_of(ctx), lambda reg: reg.rename_member(member_class, code, names), publish=True)
    console.print(f"member {member_class}/{code} renamed")


@member_app.command("delete")
def member_delete(ctx: typer.Context, member_class: str, code: str) -> None:
    """Delete a member with its subsystems, gateways, certificates and group memberships."""
    run(settings_of(ctx), lambda reg: reg.delete_member(member_class, code), publish=True)
    console.print(f"member {member_class}/{code} deleted")


# ------------------------------------------------------------------- subsystems
@subsystem_app.command("add")
def subsystem_add(ctx: typer.Context, member_class: str, member_code: str, code: str) -> None:
    run(
        settings_of(ctx),
        lambda reg: reg.add_subsystem(member_class, member_code, code),
        publish=True,
    )
    console.print(f"subsystem {member_class}/{member_code}/{code} added")


@subsystem_app.command("delete")
def subsystem_delete(ctx: typer.Context, member_class: str, member_code: str, code: str) -> None:
    run(
        settings_of(ctx),
        lambda reg: reg.delete_subsystem(member_class, member_code, code),
        publish=True,
    )
    console.print(f"subsystem {member_class}/{member_code}/{code} deleted")


# --------------------------------------------------------------------- gateways
@gateway_app.command("add")
def gateway_add(
    ctx: typer.Context,
    member_class: str,
    member_code: str,
    code: str,
    address: str = typer.Option(..., help="host[:port] other gateways connect to."),
) -> None:
    """Register a gateway; it then submits its authentication CSR."""
    run(
        settings_of(ctx),
        lambda reg: reg.add_gateway(member_class, member_code, code, address),
        publish=True,
    )
    console.print(f"gateway {member_class}/{member_code}/{code} added at {address}")


@gateway_app.command("host")
def gateway_host(
    ctx: typer.Context, member_class: str, member_code: str, code: str, client: str
) -> None:
    """Record that gateway CODE hosts subsystem CLIENT (INSTANCE/CLASS/MEMBER/SUBSYSTEM)."""

    async def host(reg: Registry) -> None:
        await reg.add_gateway_client(await reg.get_gateway(member_class, member_code, code), client)

    run(settings_of(ctx), host, publish=True)
    console.print(f"{client} hosted on {member_class}/{member_code}/{code}")


@gateway_app.command("unhost")
def gateway_unhost(
    ctx: typer.Context, member_class: str, member_code: str, code: str, client: str
) -> None:
    """Stop hosting subsystem CLIENT on gateway CODE."""

    async def unhost(reg: Registry) -> None:
        gateway = await reg.get_gateway(member_class, member_code, code)
        await reg.remove_gateway_client(gateway, client)

    run(settings_of(ctx), unhost, publish=True)
    console.print(f"{client} no longer hosted on {member_class}/{member_code}/{code}")


@gateway_app.command("move")
def gateway_move(
    ctx: typer.Context,
    member_class: str,
    member_code: str,
    code: str,
    address: str = typer.Option(..., help="New host[:port]."),
) -> None:
    """Change a gateway's address (its certificate's SAN is fixed: issue a new one if the
    host name changes)."""
    run(
        settings_of(ctx),
        lambda reg: reg.move_gateway(member_class, member_code, code, address),
        publish=True,
    )
    console.print(f"gateway {member_class}/{member_code}/{code} now at {address}")


@gateway_app.command("approve")
def gateway_approve(
    ctx: typer.Context, gateway: str = typer.Argument(..., help="INSTANCE/CLASS/MEMBER/GATEWAY")
) -> None:
    """Approve the pending authentication CSR of GATEWAY (issues its TLS certificate)."""

    async def approve(reg: Registry) -> str:
        for csr in await reg.list_csrs("pending"):
            if csr.kind == "auth" and csr.gateway_id is not None:
                row = await reg.get_gateway(*_member_and_code(gateway))
                if csr.gateway_id == row.id:
                    return (await reg.approve_csr(csr.id)).fingerprint
        raise Problem(404, "not_found", f"no pending authentication CSR for {gateway}")

    console.print(f"certificate issued: sha256 {run(settings_of(ctx), approve, publish=True)}")


def _member_and_code(gateway: str) -> tuple[str, str, str]:
    try:
        parsed = GatewayId.parse(gateway, encoded=False)
    except IdentifierError as error:
        raise Problem.invalid("gateway", "invalid_identifier", str(error)) from None
    return parsed.member_class, parsed.member_code, parsed.gateway_code


@gateway_app.command("list")
def gateway_list(ctx: typer.Context) -> None:
    async def rows(reg: Registry) -> list[tuple[str, str, str]]:
        out = []
        for g in await reg.list_gateways():
            member = await reg.session.get_one(Member, g.member_id)
            out.append(
                (str(reg.gateway_id(member, g)), g.address, ", ".join(await reg.gateway_clients(g)))
            )
        return out

    table = Table("gateway", "address", "clients")
    for row in run(settings_of(ctx), rows, publish=False):
        table.add_row(*row)
    console.print(table)


@gateway_app.command("delete")
def gateway_delete(ctx: typer.Context, member_class: str, member_code: str, code: str) -> None:
    """Remove a gateway: it disappears from the next configuration."""
    run(
        settings_of(ctx),
        lambda reg: reg.delete_gateway(member_class, member_code, code),
        publish=True,
    )
    console.print(f"gateway {member_class}/{member_code}/{code} deleted")


# ------------------------------------------------------------------------- CSRs
@csr_app.command("submit")
def csr_submit(
    ctx: typer.Context,
    kind: str = typer.Option(..., help="auth (gateway TLS) or sign (member signing)."),
    subject: str = typer.Option(..., help="Gateway id (auth) or member id (sign)."),
    csr_file: Path = typer.Argument(..., exists=True, dir_okay=False),
) -> None:
    """Record a CSR received from a gateway operator."""
    row = run(
        settings_of(ctx),
        lambda reg: reg.submit_csr(kind, subject, csr_file.read_text()),
        publish=False,
    )
    console.print(f"CSR {row.id} pending")


@csr_app.command("list")
def csr_list(
    ctx: typer.Context,
    status: str | None = typer.Option(None, help="pending, approved or rejected."),
) -> None:
    table = Table("id", "kind", "status", "submitted", "by", "public key sha256")
    for row in run(settings_of(ctx), lambda reg: reg.list_csrs(status), publish=False):
        table.add_row(
            str(row.id),
            row.kind,
            row.status,
            str(row.submitted_at),
            row.submitted_by,
            row.public_key_sha256[:16],
        )
    console.print(table)


@csr_app.command("approve")
def csr_approve(
    ctx: typer.Context, csr_id: int, out: Path | None = typer.Option(None, "--out", "-o")
) -> None:
    """Issue the certificate; write it as PEM to --out."""
    row = run(settings_of(ctx), lambda reg: reg.approve_csr(csr_id), publish=True)
    if out is not None:
        out.write_text(certificate_pem(row))
    console.print(f"certificate issued: sha256 {row.fingerprint}")


@csr_app.command("reject")
def csr_reject(
    ctx: typer.Context, csr_id: int, reason: str = typer.Option(..., help="Why.")
) -> None:
    run(settings_of(ctx), lambda reg: reg.reject_csr(csr_id, reason), publish=False)
    console.print(f"CSR {csr_id} rejected")


# ------------------------------------------------------------------ certificates
@cert_app.command("list")
def cert_list(ctx: typer.Context) -> None:
    table = Table("sha256", "kind", "not after")
    for row in run(settings_of(ctx), lambda reg: reg.list_certificates(), publish=False):
        table.add_row(row.fingerprint, row.kind, str(row.not_after))
    console.print(table)


@cert_app.command("revoke")
def cert_revoke(ctx: typer.Context, fingerprint: str) -> None:
    """Remove a certificate: absent from the next configuration."""
    run(settings_of(ctx), lambda reg: reg.revoke_certificate(fingerprint), publish=True)
    console.print(f"certificate {fingerprint} revoked")


# ------------------------------------------------------------------------ groups
@group_app.command("add")
def group_add(ctx: typer.Context, code: str, description: str = "") -> None:
    run(settings_of(ctx), lambda reg: reg.add_group(code, description), publish=True)
    console.print(f"group {code} added")


@group_app.command("list")
def group_list(ctx: typer.Context) -> None:
    async def rows(reg: Registry) -> list[tuple[str, str, str]]:
        return [
            (g.code, g.description, ", ".join(await reg.group_members(g)))
            for g in await reg.list_groups()
        ]

    table = Table("code", "description", "members")
    for row in run(settings_of(ctx), rows, publish=False):
        table.add_row(*row)
    console.print(table)


@group_app.command("delete")
def group_delete(ctx: typer.Context, code: str) -> None:
    run(settings_of(ctx), lambda reg: reg.delete_group(code), publish=True)
    console.print(f"group {code} deleted")


@group_app.command("add-member")
def group_add_member(ctx: typer.Context, code: str, client: str) -> None:
    """Add a member or subsystem (INSTANCE/CLASS/MEMBER[/SUBSYSTEM]) to a group."""
    run(settings_of(ctx), lambda reg: reg.add_group_member(code, client), publish=True)
    console.print(f"{client} added to {code}")


@group_app.command("remove-member")
def group_remove_member(ctx: typer.Context, code: str, client: str) -> None:
    run(settings_of(ctx), lambda reg: reg.remove_group_member(code, client), publish=True)
    console.print(f"{client} removed from {code}")


# ---------------------------------------------------------------------- services
async def _subsystem(reg: Registry, subsystem: str) -> Subsystem:
    _member, found = await reg.resolve_client("subsystem", subsystem)
    if found is None:
        raise Problem.invalid("subsystem", "subsystem_required", "give a subsystem identifier")
    return found


@service_app.command("add")
def service_add(
    ctx: typer.Context,
    subsystem: str = typer.Argument(..., help="INSTANCE/CLASS/MEMBER/SUBSYSTEM"),
    code: str = typer.Argument(...),
    openapi_url: str | None = typer.Option(None, help="Where the OpenAPI description is."),
) -> None:
    """Register a service of a subsystem."""

    async def add(reg: Registry) -> None:
        await reg.add_service(await _subsystem(reg, subsystem), code, openapi_url)

    run(settings_of(ctx), add, publish=True)
    console.print(f"service {subsystem}/{code} registered")


@service_app.command("list")
def service_list(ctx: typer.Context, subsystem: str) -> None:
    async def rows(reg: Registry) -> list[tuple[str, str]]:
        services = await reg.list_services(await _subsystem(reg, subsystem))
        return [(s.code, s.openapi_url or "") for s in services]

    table = Table("code", "OpenAPI description")
    for row in run(settings_of(ctx), rows, publish=False):
        table.add_row(*row)
    console.print(table)


@service_app.command("delete")
def service_delete(ctx: typer.Context, subsystem: str, code: str) -> None:
    async def delete(reg: Registry) -> None:
        await reg.delete_service(await _subsystem(reg, subsystem), code)

    run(settings_of(ctx), delete, publish=True)
    console.print(f"service {subsystem}/{code} removed")


# -------------------------------------------------------------------- federation
@federation_app.command("add")
def federation_add(
    ctx: typer.Context, anchor_file: Path = typer.Argument(..., exists=True, dir_okay=False)
) -> None:
    """Trust another instance through its anchor file (received out of band)."""
    row = run(settings_of(ctx), lambda reg: reg.add_partner(anchor_file.read_bytes()), publish=True)
    console.print(f"federated with {row.instance}")


@federation_app.command("update")
def federation_update(
    ctx: typer.Context, anchor_file: Path = typer.Argument(..., exists=True, dir_okay=False)
) -> None:
    """Replace a partner's anchor (after its signing-key rollover)."""
    row = run(
        settings_of(ctx),
        lambda reg: reg.replace_partner_anchor(anchor_file.read_bytes()),
        publish=True,
    )
    console.print(f"anchor of {row.instance} replaced")


@federation_app.command("list")
def federation_list(ctx: typer.Context) -> None:
    table = Table("instance", "urls", "added")
    for row in run(settings_of(ctx), lambda reg: reg.list_partners(), publish=False):
        table.add_row(
            row.instance, ", ".join(json.loads(row.anchor_json)["urls"]), str(row.added_at)
        )
    console.print(table)


@federation_app.command("remove")
def federation_remove(ctx: typer.Context, instance: str) -> None:
    run(settings_of(ctx), lambda reg: reg.remove_partner(instance), publish=True)
    console.print(f"federation with {instance} removed")


# ------------------------------------------------------------------ signing keys
@key_app.command("list")
def key_list(ctx: typer.Context) -> None:
    table = Table("kid", "status", "created", "activated", "retired")
    for row in run(settings_of(ctx), lambda reg: reg.list_signing_keys(), publish=False):
        table.add_row(
            row.kid,
            row.status,
            *(str(v or "") for v in (row.created_at, row.activated_at, row.retired_at)),
        )
    console.print(table)


@key_app.command("add")
def key_add(ctx: typer.Context) -> None:
    """Create a new signing key, announced as 'next' (step 1 of a rollover)."""
    settings = settings_of(ctx)
    row = run(
        settings,
        lambda reg: reg.add_signing_key(settings.organization, settings.ca_days // 2),
        publish=True,
    )
    console.print(f"signing key {row.kid} created ({row.status}); export the anchor and share it")


@key_app.command("activate")
def key_activate(ctx: typer.Context, kid: str) -> None:
    """Sign with KID from now on (step 2, after clients have seen it announced)."""
    run(settings_of(ctx), lambda reg: reg.activate_signing_key(kid), publish=True)
    console.print(f"signing key {kid} active")


@key_app.command("retire")
def key_retire(ctx: typer.Context, kid: str) -> None:
    """Stop announcing KID (step 3)."""
    run(settings_of(ctx), lambda reg: reg.retire_signing_key(kid), publish=True)
    console.print(f"signing key {kid} retired")


@app.command()
def audit(ctx: typer.Context, limit: int = 50, after_id: int = 0) -> None:
    """Show the audit log (who, what, when)."""
    table = Table("id", "at", "actor", "action", "target", "detail")
    for e in run(settings_of(ctx), lambda reg: reg.audit_entries(after_id, limit), publish=False):
        table.add_row(
            str(e.id),
            str(e.at),
            e.actor,
            e.action,
            e.target,
            json.dumps(e.detail, ensure_ascii=False),
        )
    console.print(table)
