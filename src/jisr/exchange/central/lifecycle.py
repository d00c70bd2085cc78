"""Initialising a central: database schema, key store, first signing key, first document."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from jisr.config import CentralSettings
from jisr.exchange.central.keystore import KeyStore
from jisr.exchange.central.publisher import Publisher
from jisr.exchange.central.registry import CertificateSettings, Registry
from jisr.ids import GatewayId
from jisr.storage import Database, upgrade

__all__ = [
    "MIGRATIONS",
    "VERSION_TABLE",
    "Initialised",
    "initialise",
    "migrate",
    "onboard_gateway",
    "open_registry",
]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_central"


@dataclass(frozen=True)
class Initialised:
    keystore: KeyStore
    created: bool


def migrate(settings: CentralSettings) -> None:
    """Create or upgrade the schema (blocking; never call from a running event loop)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(MIGRATIONS, settings.effective_database_url(), VERSION_TABLE)


def initialise(settings: CentralSettings) -> Initialised:
    """Idempotent: migrate; create CA and TSA if missing; ensure a signing key; publish."""
    migrate(settings)
    keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
    created = not keystore.exists()
    if created:
        keystore.create(
            instance=settings.instance, organization=settings.organization, ca_days=settings.ca_days
        )
    asyncio.run(_first_key_and_document(settings, keystore))
    return Initialised(keystore, created)


async def _first_key_and_document(settings: CentralSettings, keystore: KeyStore) -> None:
    database = Database(settings.effective_database_url())
    try:
        async with database.transaction() as session:
            registry = open_registry(session, "system:init", settings, keystore)
            if not await registry.list_signing_keys():
                await registry.add_signing_key(settings.organization, settings.ca_days // 2)
        await Publisher(database, keystore, settings).publish()
    finally:
        await database.close()


def open_registry(
    session: AsyncSession, actor: str, settings: CentralSettings, keystore: KeyStore
) -> Registry:
    """A :class:`Registry` configured from the settings, on the caller's session."""
    return Registry(
        session,
        actor,
        instance=settings.instance,
        keystore=keystore,
        certificates=CertificateSettings(
            settings.auth_certificate_days, settings.sign_certificate_days
        ),
    )


def onboard_gateway(
    settings: CentralSettings,
    gateway: GatewayId,
    address: str,
    *,
    subsystems: Sequence[str],
    auth_csr: bytes,
    sign_csr: bytes | None,
    actor: str = "system:onboarding",
) -> None:
    """Register a gateway with the subsystems it hosts and approve its CSRs, in one
    transaction, then publish (blocking). What an operator does with ``gateway add``,
    ``gateway host``, ``csr submit`` and ``csr approve``; used by the demo and tests."""

    async def go() -> None:
        keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())
        database = Database(settings.effective_database_url())
        try:
            async with database.transaction() as session:
                registry = open_registry(session, actor, settings, keystore)
                owner = gateway.owner
                row = await registry.add_gateway(
                    owner.member_class, owner.member_code, gateway.gateway_code, address
                )
                for code in subsystems:
                    existing = {
                        s.code
                        for s in await registry.list_subsystems(
                            owner.member_class, owner.member_code
                        )
                    }
                    if code not in existing:
                        await registry.add_subsystem(owner.member_class, owner.member_code, code)
                    await registry.add_gateway_client(row, str(owner.subsystem(code)))
                csr = await registry.submit_csr("auth", str(gateway), auth_csr.decode())
                await registry.approve_csr(csr.id)
                if sign_csr is not None:
                    csr = await registry.submit_csr("sign", str(owner), sign_csr.decode())
                    await registry.approve_csr(csr.id)
            await Publisher(database, keystore, settings).publish()
        finally:
            await database.close()

    asyncio.run(go())
