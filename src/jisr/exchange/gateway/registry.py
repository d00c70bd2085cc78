"""The gateway's own register: local services, access rights, local groups, IS connections.

Operations validate, change and audit inside the caller's transaction (as the central's
registry does) and raise :class:`jisr.problems.Problem`. The per-request path never queries
these tables: :class:`Catalogue` is an immutable snapshot loaded after every change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from jisr.crypto.errors import CryptoError
from jisr.crypto.x509 import (
    certificate_to_der,
    certificate_to_pem,
    fingerprint_sha256,
    load_certificate,
)
from jisr.exchange.gateway.access import PatternError, Right, validate_pattern
from jisr.exchange.gateway.models import (
    AccessRight,
    AuditEntry,
    ClientConnection,
    LocalGroup,
    LocalGroupMember,
    LocalService,
)
from jisr.ids import GlobalGroupId, IdentifierError, parse_client, validate_part
from jisr.problems import Problem

__all__ = ["MODES", "Catalogue", "Connection", "GatewayRegistry", "ServiceEntry"]

MODES = ("none", "tls", "mtls")
SUBJECT_KINDS = ("client", "global_group", "local_group")


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    id: int
    provider: str
    code: str
    backend_url: str
    timeout: float
    enabled: bool
    openapi_url: str | None
    rights: tuple[Right, ...]


@dataclass(frozen=True, slots=True)
class Connection:
    mode: str
    certificate_sha256: str | None
    log_bodies: bool
    certificate: bytes | None = None  # DER of the registered IS certificate (mode mtls)


@dataclass(frozen=True)
class Catalogue:
    """What the hot path needs, in dictionaries, loaded once per change."""

    services: Mapping[tuple[str, str], ServiceEntry] = field(default_factory=dict)
    local_groups: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    connections: Mapping[str, Connection] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession) -> Catalogue:
        rights: dict[int, list[Right]] = {}
        for row in await session.scalars(select(AccessRight)):
            right = Right(row.subject_kind, row.subject, row.method, row.path)
            rights.setdefault(row.service_id, []).append(right)
        services = {
            (s.provider, s.code): ServiceEntry(
                s.id,
                s.provider,
                s.code,
                s.backend_url,
                s.timeout,
                s.enabled,
                s.openapi_url,
                tuple(rights.get(s.id, ())),
            )
            for s in await session.scalars(select(LocalService))
        }
        groups: dict[str, dict[str, set[str]]] = {}
        codes = {g.id: (g.owner, g.code) for g in await session.scalars(select(LocalGroup))}
        for owner, code in codes.values():
            groups.setdefault(owner, {}).setdefault(code, set())
        for member in await session.scalars(select(LocalGroupMember)):
            owner, code = codes[member.group_id]
            groups[owner][code].add(member.client)
        connections = {
            c.client: Connection(
                c.mode, c.certificate_sha256, c.log_bodies, _certificate_der(c.certificate_pem)
            )
            for c in await session.scalars(select(ClientConnection))
        }
        frozen = {o: {c: frozenset(m) for c, m in g.items()} for o, g in groups.items()}
        return cls(services, frozen, connections)

    def services_of(self, provider: str) -> list[ServiceEntry]:
        return sorted((s for (p, _), s in self.services.items() if p == provider), key=_code)

    def client_certificates(self) -> list[bytes]:
        """The registered IS certificates (DER): what the IS-facing TLS listener trusts."""
        return [c.certificate for c in self.connections.values() if c.certificate is not None]


def _code(entry: ServiceEntry) -> str:
    return entry.code


def _certificate_der(pem: str | None) -> bytes | None:
    return None if pem is None else certificate_to_der(load_certificate(pem.encode("ascii")))


class GatewayRegistry:
    """Operations on the gateway's register, inside the caller's transaction."""

    def __init__(self, session: AsyncSession, actor: str, *, instance: str) -> None:
        self.session = session
        self.actor = actor
        self.instance = instance

    async def audit(self, action: str, target: str, **detail: Any) -> None:
        self.session.add(
            AuditEntry(actor=self.actor, action=action, target=target, detail=json.dumps(detail))
        )

    def own_client(self, field_name: str, text: str) -> str:
        """A member or subsystem id of this gateway's instance, in canonical text form."""
        try:
            client = parse_client(text, encoded=False)
        except IdentifierError as error:
            raise Problem.invalid(field_name, "invalid_identifier", str(error)) from None
        if client.instance != self.instance:
            raise Problem.invalid(
                field_name, "foreign_instance", f"{text} is not in instance {self.instance}"
            )
        return str(client)

    # -------------------------------------------------------------- services
    async def add_service(
        self,
        provider: str,
        code: str,
        backend_url: str,
        *,
        service_timeout: float = 30.0,
        enabled: bool = True,
        openapi_url: str | None = None,
    ) -> LocalService:
        provider = self.own_client("provider", provider)
        code = _part("code", code, "service code")
        backend_url = _http_url("backend_url", backend_url)
        if openapi_url is not None:
            openapi_url = _http_url("openapi_url", openapi_url)
        if not 0 < service_timeout <= 3600:
            raise Problem.invalid("timeout", "out_of_range", "timeout must be 0-3600 seconds")
        if await self._find_service(provider, code) is not None:
            raise Problem(409, "already_exists", f"service {provider}/{code} already exists")
        row = LocalService(
            provider=provider,
            code=code,
            backend_url=backend_url,
            timeout=service_timeout,
            enabled=enabled,
            openapi_url=openapi_url,
        )
        self.session.add(row)
        await self.session.flush()
        await self.audit("service.add", f"{provider}/{code}", backend_url=backend_url)
        return row

    async def _find_service(self, provider: str, code: str) -> LocalService | None:
        query = select(LocalService).where(
            LocalService.provider == provider, LocalService.code == code
        )
        return await self.session.scalar(query)

    async def get_service(self, provider: str, code: str) -> LocalService:
        row = await self._find_service(self.own_client("provider", provider), code)
        if row is None:
            raise Problem(404, "not_found", f"no service {provider}/{code}")
        return row

    async def list_services(self) -> list[LocalService]:
        query = select(LocalService).order_by(LocalService.provider, LocalService.code)
        return list(await self.session.scalars(query))

    async def update_service(
        self,
        provider: str,
        code: str,
        *,
        backend_url: str | None = None,
        service_timeout: float | None = None,
        enabled: bool | None = None,
    ) -> LocalService:
        row = await self.get_service(provider, code)
        if backend_url is not None:
            row.backend_url = _http_url("backend_url", backend_url)
        if service_timeout is not None:
            if not 0 < service_timeout <= 3600:
                raise Problem.invalid("timeout", "out_of_range", "timeout must be 0-3600 s")
            row.timeout = service_timeout
        if enabled is not None:
            row.enabled = enabled
        await self.audit(
            "service.update", f"{row.provider}/{code}", enabled=row.enabled, timeout=row.timeout
        )
        return row

    async def delete_service(self, provider: str, code: str) -> None:
        row = await self.get_service(provider, code)
        await self.session.delete(row)
        await self.audit("service.delete", f"{row.provider}/{code}")

    # ---------------------------------------------------------------- rights
    async def grant(
        self,
        provider: str,
        code: str,
        subject_kind: str,
        subject: str,
        *,
        method: str = "*",
        path: str = "**",
    ) -> AccessRight:
        service = await self.get_service(provider, code)
        subject = self._subject(subject_kind, subject)
        try:
            method, path = validate_pattern(method, path)
        except PatternError as error:
            raise Problem.invalid("path", "invalid_pattern", str(error)) from None
        existing = await self.session.scalar(
            select(AccessRight.id).where(
                AccessRight.service_id == service.id,
                AccessRight.subject_kind == subject_kind,
                AccessRight.subject == subject,
                AccessRight.method == method,
                AccessRight.path == path,
            )
        )
        if existing is not None:
            raise Problem(409, "already_exists", "that right is already granted")
        row = AccessRight(
            service_id=service.id,
            subject_kind=subject_kind,
            subject=subject,
            method=method,
            path=path,
        )
        self.session.add(row)
        await self.session.flush()
        await self.audit(
            "access.grant", f"{service.provider}/{code}", subject=subject, method=method, path=path
        )
        return row

    async def revoke(
        self,
        provider: str,
        code: str,
        subject_kind: str,
        subject: str,
        *,
        method: str = "*",
        path: str = "**",
    ) -> None:
        service = await self.get_service(provider, code)
        result = await self.session.execute(
            delete(AccessRight).where(
                AccessRight.service_id == service.id,
                AccessRight.subject_kind == subject_kind,
                AccessRight.subject == subject,
                AccessRight.method == method.upper(),
                AccessRight.path == path,
            )
        )
        if not getattr(result, "rowcount", 0):
            raise Problem(404, "not_found", "no such right")
        await self.audit("access.revoke", f"{service.provider}/{code}", subject=subject)

    async def rights_of(self, service: LocalService) -> list[AccessRight]:
        query = select(AccessRight).where(AccessRight.service_id == service.id)
        return list(await self.session.scalars(query.order_by(AccessRight.id)))

    def _subject(self, kind: str, subject: str) -> str:
        if kind == "client":
            try:
                return str(parse_client(subject, encoded=False))
            except IdentifierError as error:
                raise Problem.invalid("subject", "invalid_identifier", str(error)) from None
        if kind == "global_group":
            try:
                return str(GlobalGroupId.parse(subject, encoded=False))
            except IdentifierError as error:
                raise Problem.invalid("subject", "invalid_identifier", str(error)) from None
        if kind == "local_group":
            return _part("subject", subject, "group code")
        raise Problem.invalid("subject_kind", "unknown_kind", f"one of {', '.join(SUBJECT_KINDS)}")

    # ---------------------------------------------------------- local groups
    async def add_local_group(self, owner: str, code: str, description: str = "") -> LocalGroup:
        owner = self.own_client("owner", owner)
        code = _part("code", code, "group code")
        if await self._find_group(owner, code) is not None:
            raise Problem(409, "already_exists", f"local group {code!r} already exists")
        row = LocalGroup(owner=owner, code=code, description=description)
        self.session.add(row)
        await self.session.flush()
        await self.audit("local_group.add", f"{owner}:{code}")
        return row

    async def _find_group(self, owner: str, code: str) -> LocalGroup | None:
        query = select(LocalGroup).where(LocalGroup.owner == owner, LocalGroup.code == code)
        return await self.session.scalar(query)

    async def add_local_group_member(self, owner: str, code: str, client: str) -> None:
        owner = self.own_client("owner", owner)
        group = await self._find_group(owner, code)
        if group is None:
            raise Problem(404, "not_found", f"no local group {code!r} of {owner}")
        try:
            member = str(parse_client(client, encoded=False))
        except IdentifierError as error:
            raise Problem.invalid("client", "invalid_identifier", str(error)) from None
        exists = await self.session.scalar(
            select(LocalGroupMember.id).where(
                LocalGroupMember.group_id == group.id, LocalGroupMember.client == member
            )
        )
        if exists is not None:
            raise Problem(409, "already_exists", f"{member} is already in {code!r}")
        self.session.add(LocalGroupMember(group_id=group.id, client=member))
        await self.session.flush()
        await self.audit("local_group.member.add", f"{owner}:{code}", client=member)

    # ----------------------------------------------------------- IS clients
    async def set_connection(
        self,
        client: str,
        mode: str,
        *,
        certificate_sha256: str | None = None,
        certificate: bytes | None = None,
        log_bodies: bool = True,
    ) -> ClientConnection:
        """How ``client`` connects. Mode ``mtls`` needs the IS ``certificate`` (PEM or DER):
        the IS-facing TLS listener must trust it, and requests are pinned to its SHA-256.
        A ``certificate_sha256`` alone pins, but TLS cannot verify the certificate unless
        it chains to one registered in full."""
        client = self.own_client("client", client)
        if mode not in MODES:
            raise Problem.invalid("mode", "unknown_mode", f"mode is one of {', '.join(MODES)}")
        pem: str | None = None
        if certificate is not None:
            pem, fingerprint = _is_certificate(certificate)
            if certificate_sha256 not in (None, fingerprint):
                raise Problem.invalid(
                    "certificate_sha256", "mismatch", "does not match the certificate given"
                )
            certificate_sha256 = fingerprint
        if mode == "mtls" and not certificate_sha256:
            raise Problem.invalid(
                "certificate", "required", "mode mtls needs the IS client certificate"
            )
        row = await self.session.get(ClientConnection, client)
        if row is None:
            row = ClientConnection(client=client)
            self.session.add(row)
        row.mode, row.certificate_sha256, row.log_bodies = mode, certificate_sha256, log_bodies
        row.certificate_pem = pem
        await self.session.flush()
        await self.audit("client.connection", client, mode=mode, log_bodies=log_bodies)
        return row


def _is_certificate(data: bytes) -> tuple[str, str]:
    """(PEM, SHA-256 hex) of an IS client certificate given as PEM or DER."""
    try:
        parsed = load_certificate(data)
    except CryptoError as error:
        raise Problem.invalid("certificate", "invalid_certificate", str(error)) from None
    return certificate_to_pem(parsed).decode("ascii"), fingerprint_sha256(parsed)


def _part(field_name: str, value: str, part: str) -> str:
    try:
        return validate_part(value, part)
    except IdentifierError as error:
        raise Problem.invalid(field_name, "invalid_identifier", str(error)) from None


def _http_url(field_name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise Problem.invalid(field_name, "invalid_url", "expected an http(s) URL")
    if parts.query or parts.fragment:
        raise Problem.invalid(field_name, "invalid_url", "a base URL has no query or fragment")
    return url.rstrip("/")
