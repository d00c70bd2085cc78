"""Builds, signs and stores the global configuration; exports the anchor.

Data flow: registry tables → :meth:`Publisher.build` (a plain document, lists sorted by id)
→ RFC 8785 canonical JSON → compact JWS signed by the active configuration-signing key →
``globalconf_documents`` row with the next version. ``GET /globalconf`` serves the highest
version. A new document is published after every change and at least every
``globalconf_refresh`` seconds, so a healthy central never lets its configuration expire.
The format is specified in docs/globalconf.md.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jisr.config import CentralSettings
from jisr.crypto.keys import PrivateKey
from jisr.crypto.x509 import certificate_to_der
from jisr.exchange.central.keystore import KeyStore
from jisr.exchange.central.models import (
    Certificate,
    ConfDocument,
    FederationPartner,
    Gateway,
    GatewayClient,
    GlobalGroup,
    GroupMember,
    Member,
    Service,
    SigningKey,
    Subsystem,
)
from jisr.exchange.globalconf import Anchor, GlobalConf, sign_globalconf
from jisr.storage import Database
from jisr.storage.types import utcnow

__all__ = ["KEEP_DOCUMENTS", "NoSigningKeyError", "Publisher", "rfc3339"]

KEEP_DOCUMENTS = 100
log = structlog.get_logger("jisr.central.publisher")


def rfc3339(moment: datetime) -> str:
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class NoSigningKeyError(RuntimeError):
    """No active configuration-signing key: run ``jisr central init``."""


class Publisher:
    def __init__(self, database: Database, keystore: KeyStore, settings: CentralSettings) -> None:
        self.database = database
        self.keystore = keystore
        self.settings = settings
        self._keys: dict[str, PrivateKey] = {}

    # ------------------------------------------------------------ documents
    async def publish(self) -> ConfDocument:
        """Generate and store the next version; retried if another process took it."""
        for _attempt in range(5):
            try:
                async with self.database.transaction() as session:
                    return await self._publish(session)
            except IntegrityError:
                await asyncio.sleep(0.01)
        raise RuntimeError("could not allocate a configuration version after 5 attempts")

    async def _publish(self, session: AsyncSession) -> ConfDocument:
        now = utcnow().replace(microsecond=0)
        latest = await session.scalar(select(func.max(ConfDocument.version)))
        version = (latest or 0) + 1
        document = await self.build(session, version, now)
        payload = document.payload()
        key, certificate_der = await self._active_key(session)
        token = sign_globalconf(document, key, certificate_der)
        row = ConfDocument(
            version=version,
            generated_at=now,
            expires_at=now + timedelta(seconds=self.settings.globalconf_validity),
            content_sha256=hashlib.sha256(payload).hexdigest(),
            token=token,
        )
        session.add(row)
        await session.flush()
        await session.execute(
            delete(ConfDocument).where(ConfDocument.version <= version - KEEP_DOCUMENTS)
        )
        return row

    async def latest(self) -> ConfDocument | None:
        async with self.database.sessions() as session:
            query = select(ConfDocument).order_by(ConfDocument.version.desc()).limit(1)
            return await session.scalar(query)

    async def current(self) -> ConfDocument:
        """The newest document, publishing a fresh one if it is missing or half-expired."""
        row = await self.latest()
        half_life = timedelta(seconds=self.settings.globalconf_validity / 2)
        if row is None or row.expires_at - utcnow() < half_life:
            row = await self.publish()
        return row

    async def run(self, stop: asyncio.Event) -> None:
        """Publish at least every ``globalconf_refresh`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.publish()
            except Exception:
                log.exception("globalconf.publish_failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.globalconf_refresh)
            except TimeoutError:
                continue

    async def _active_key(self, session: AsyncSession) -> tuple[PrivateKey, bytes]:
        row = await session.scalar(select(SigningKey).where(SigningKey.status == "active"))
        if row is None:
            raise NoSigningKeyError("no active configuration-signing key")
        if row.kid not in self._keys:
            self._keys[row.kid] = await asyncio.to_thread(self.keystore.signing_key, row.kid)
        return self._keys[row.kid], row.certificate_der

    # --------------------------------------------------------------- build
    async def build(self, session: AsyncSession, version: int, now: datetime) -> GlobalConf:
        """The configuration document (docs/globalconf.md), validated by its model."""
        instance = self.settings.instance
        members = list(await session.scalars(select(Member)))
        by_member = {m.id: f"{instance}/{m.member_class}/{m.code}" for m in members}
        subsystems = list(await session.scalars(select(Subsystem)))
        by_subsystem = {s.id: f"{by_member[s.member_id]}/{s.code}" for s in subsystems}
        certificates = [c for c in await session.scalars(select(Certificate)) if c.not_after > now]
        document = {
            "format": "jisr-globalconf/1",
            "instance": instance,
            "version": version,
            "generated_at": rfc3339(now),
            "expires_at": rfc3339(now + timedelta(seconds=self.settings.globalconf_validity)),
            "refresh_interval": self.settings.globalconf_refresh,
            "members": _members(members, by_member, certificates),
            "subsystems": await _subsystems(session, by_subsystem),
            "gateways": await _gateways(session, by_member, by_subsystem, certificates),
            "global_groups": await _groups(session, instance),
            "ca_certificates": [b64(certificate_to_der(self.keystore.ca_certificate()))],
            "tsa": [
                {
                    "url": f"{self.settings.base_url()}/tsa",
                    "certificate": b64(certificate_to_der(self.keystore.tsa()[1])),
                }
            ],
            "signing_certificates": await _signing_certificates(session),
            "federation": await _federation(session),
        }
        return GlobalConf.model_validate(document)

    async def anchor(self) -> Anchor:
        """The anchor: instance, URLs and every non-retired signing certificate."""
        async with self.database.sessions() as session:
            keys = await session.scalars(
                select(SigningKey).where(SigningKey.status != "retired").order_by(SigningKey.kid)
            )
            certificates = [{"kid": k.kid, "certificate": b64(k.certificate_der)} for k in keys]
        return Anchor.model_validate(
            {
                "format": "jisr-anchor/1",
                "instance": self.settings.instance,
                "generated_at": rfc3339(utcnow()),
                "urls": [f"{self.settings.base_url()}/globalconf"],
                "signing_certificates": certificates,
            }
        )


def _certificate_entry(row: Certificate) -> dict[str, Any]:
    return {
        "sha256": row.fingerprint,
        "certificate": b64(row.der),
        "not_after": rfc3339(row.not_after),
    }


def _members(
    members: list[Member], by_member: dict[int, str], certificates: list[Certificate]
) -> list[dict[str, Any]]:
    signing: dict[int, list[Certificate]] = {}
    for row in certificates:
        if row.kind == "sign":
            signing.setdefault(row.member_id, []).append(row)
    entries = [
        {
            "id": by_member[m.id],
            "name": {"ar": m.name_ar, "fr": m.name_fr, "en": m.name_en},
            "signing_certificates": [
                _certificate_entry(c)
                for c in sorted(signing.get(m.id, []), key=lambda c: c.fingerprint)
            ],
        }
        for m in members
    ]
    return sorted(entries, key=lambda e: e["id"])


async def _subsystems(session: AsyncSession, by_subsystem: dict[int, str]) -> list[dict[str, Any]]:
    services: dict[int, list[Service]] = {}
    for row in await session.scalars(select(Service)):
        services.setdefault(row.subsystem_id, []).append(row)
    entries = [
        {
            "id": name,
            "services": [
                {"code": s.code, "openapi_url": s.openapi_url}
                for s in sorted(services.get(sid, []), key=lambda s: s.code)
            ],
        }
        for sid, name in by_subsystem.items()
    ]
    return sorted(entries, key=lambda e: e["id"])


async def _gateways(
    session: AsyncSession,
    by_member: dict[int, str],
    by_subsystem: dict[int, str],
    certificates: list[Certificate],
) -> list[dict[str, Any]]:
    clients: dict[int, list[str]] = {}
    for link in await session.scalars(select(GatewayClient)):
        clients.setdefault(link.gateway_id, []).append(by_subsystem[link.subsystem_id])
    auth: dict[int, list[Certificate]] = {}
    for row in certificates:
        if row.kind == "auth" and row.gateway_id is not None:
            auth.setdefault(row.gateway_id, []).append(row)
    entries = [
        {
            "id": f"{by_member[g.member_id]}/{g.code}",
            "address": g.address,
            "auth_certificates": [
                _certificate_entry(c)
                for c in sorted(auth.get(g.id, []), key=lambda c: c.fingerprint)
            ],
            "clients": sorted(clients.get(g.id, [])),
        }
        for g in await session.scalars(select(Gateway))
    ]
    return sorted(entries, key=lambda e: e["id"])


async def _groups(session: AsyncSession, instance: str) -> list[dict[str, Any]]:
    members: dict[int, list[str]] = {}
    for row in await session.scalars(select(GroupMember)):
        members.setdefault(row.group_id, []).append(row.client_key)
    entries = [
        {
            "id": f"{instance}/{g.code}",
            "description": g.description,
            "members": sorted(members.get(g.id, [])),
        }
        for g in await session.scalars(select(GlobalGroup))
    ]
    return sorted(entries, key=lambda e: e["id"])


async def _signing_certificates(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(SigningKey).where(SigningKey.status != "retired").order_by(SigningKey.kid)
    )
    return [{"kid": k.kid, "certificate": b64(k.certificate_der), "status": k.status} for k in rows]


async def _federation(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.scalars(select(FederationPartner).order_by(FederationPartner.instance))
    return [
        {
            "instance": p.instance,
            "anchor": Anchor.from_json(p.anchor_json.encode()).model_dump(mode="json"),
        }
        for p in rows
    ]
