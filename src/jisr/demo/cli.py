"""``jisr demo``: the two-country federation on one machine, and each country's identity
provider with a demo relying party (what it prints: docs/demo.md)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from jisr.demo.identity import DEMO_PERSONS, DemoIdp, Identity, prepare_identity
from jisr.demo.relying_party import RelyingParty
from jisr.demo.topology import Demo, free_port, prepare_exchange, serve_exchange
from jisr.identity.app import create_idp_app
from jisr.observability import configure_logging

__all__ = ["demo"]

console = Console()


def demo(
    data_dir: Path = typer.Option(
        Path("var/demo"),
        help="Data directory for the demo (emptied at start, but for its cache/ of registers).",
    ),
    persons: int = typer.Option(
        DEMO_PERSONS, min=1, max=1_000_000, help="Generated persons per identity provider."
    ),
) -> None:
    """Start centrals MA and QA (federated), four gateways, a sample backend, an identity
    provider per country and a demo relying party, until Ctrl-C."""
    configure_logging("warning", "console")
    began = time.perf_counter()
    try:
        with console.status("initialising MA and QA: keys, databases, federation, gateways..."):
            exchange = prepare_exchange(data_dir)
        with console.status(f"identity providers MA and QA: {persons:,} generated persons each..."):
            identity = prepare_identity(
                data_dir, [free_port(), free_port()], free_port(), persons=persons
            )
        asyncio.run(_serve_then_print(exchange, identity, began))
    except KeyboardInterrupt:
        console.print("stopped")


async def _serve_then_print(exchange: Demo, identity: Identity, began: float) -> None:
    """Print the URLs only once every server accepts connections."""
    rp = identity.relying_party()
    apps: list[tuple[Any, int]] = [
        (create_idp_app(idp.settings)[0], idp.settings.port) for idp in identity.idps
    ]
    apps.append((rp.app(), identity.rp_port))
    started = asyncio.Event()
    task = asyncio.create_task(serve_exchange(exchange, started, apps))
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        await task  # start-up failed: raise its error
        return
    await rp.discover()
    _print(exchange)
    lines = _identity_lines(identity, rp)
    lines += ["", f"Ready in {time.perf_counter() - began:.1f} s. Ctrl-C stops the demo."]
    typer.echo("\n".join(lines))
    await task


def _jisr() -> str:
    """How the user ran us (``.venv/bin/jisr`` under ``make demo``), for copyable commands."""
    launcher = Path(sys.argv[0])
    return os.path.relpath(launcher) if launcher.name == "jisr" and launcher.exists() else "jisr"


def _print(exchange: Demo) -> None:
    centrals = Table("instance", "central URL", "federated with", "anchor")
    for c in exchange.centrals:
        centrals.add_row(c.country.instance, c.url, ", ".join(c.peers), str(c.anchor_file))
    console.print(centrals)
    gateways = Table("gateway", "consumer face (IS)", "provider face (mTLS)", "admin API")
    for g in exchange.gateways:
        s = g.settings
        gateways.add_row(
            g.plan.gateway,
            g.url,
            f"https://127.0.0.1:{s.peer_port}",
            f"http://127.0.0.1:{s.admin_port}",
        )
    console.print(gateways)
    interior = exchange.gateway("MA/GOV/INTERIOR/GW1")
    moehe = exchange.gateway("QA/GOV/MOEHE/GW1")
    registry = "r1/MA/GOV/CIVIL-REGISTRY/REGISTRY"

    def curl(client: str, url: str, path: str) -> str:
        return f"  curl -s -H 'X-Road-Client: {client}' {url}/{registry}/{path}"

    lines = [
        "",
        "Central admin tokens (scope admin):",
        *(f"  {c.country.instance}: {c.token}" for c in exchange.centrals),
        "",
        "Same country — Ministry of Interior reads a Moroccan birth record:",
        curl("MA/GOV/INTERIOR/RESIDENCE", interior.url, "birth-record/MA1234567"),
        "",
        "Across the border — Qatar's Ministry of Education reads a Moroccan birth record:",
        curl("QA/GOV/MOEHE/ADMISSIONS", moehe.url, "birth-record/MA7654321"),
        "",
        "Refused — Qatar's Ministry of Education may not read Moroccan residence records:",
        curl("QA/GOV/MOEHE/ADMISSIONS", moehe.url, "residence/MA7654321"),
        "",
        "Discover, and check the tamper-evident message log:",
        f"  curl -s -H 'Accept: application/json' {moehe.url}/listClients",
        f"  {_jisr()} globalconf fetch {exchange.centrals[0].anchor_file} --instance QA",
    ]
    # Plain output: commands must stay on one line to be copied.
    typer.echo("\n".join(lines))


def _identity_lines(identity: Identity, rp: RelyingParty) -> list[str]:
    lines = ["", "Identity providers (OpenID Connect) and the demo relying party:"]
    for idp in identity.idps:
        lines += _idp_lines(idp, rp)
    lines += ["", f"Demo relying party (both countries): {identity.rp_url}/"]
    return lines


def _idp_lines(idp: DemoIdp, rp: RelyingParty) -> list[str]:
    person, population = idp.citizen.person, idp.population
    took = f"{population.seconds:.1f} s"
    origin = (
        f"copied in {took} from the cache {population.cache} (delete it to generate afresh)"
        if population.reused
        else f"generated and enrolled in {took}, cached in {population.cache} for the next start"
    )
    name = f"{person.given_name.latn} {person.family_name.latn}"
    name_ar = f"{person.given_name.arab} {person.family_name.arab}"
    callback = idp.redirect_uri.removesuffix("/callback")
    return [
        "",
        f"{idp.country} identity provider (issuer): {idp.issuer}",
        f"  discovery:      {idp.issuer}/.well-known/openid-configuration",
        f"  register:       {population.enrolled:,} persons {origin}",
        f"  test citizen:   {name} ({name_ar}), born {person.date_of_birth.isoformat()}",
        f"  national ID:    {idp.citizen.nin}",
        f"  password:       {idp.citizen.password}",
        "  second factor:  none (password only: acr low)",
        f"  RP client_id:   {idp.client.client.client_id}",
        f"  RP secret:      {idp.client_secret}",
        f"  redirect URI:   {idp.redirect_uri}",
        "  sign in (open in a browser; works once: the RP keeps its PKCE verifier, state, nonce):",
        f"  {rp.authorization_url(idp.country)}",
        f"  sign in again:  {callback}/login",
    ]
