"""The registry's operations: every change validated, applied in one transaction, audited.

Functions take the caller's open :class:`AsyncSession` (inside ``Database.transaction()``)
and the actor's name, and raise :class:`jisr.problems.Problem` on refusal. They never
commit: the caller's transaction makes a change all-or-nothing. Both the admin API and the
operator CLI call these functions, so both enforce the same rules.

Error codes raised here (see docs/central.md): ``invalid_input``, ``not_found``,
``already_exists``, ``unknown_reference``, ``in_use``, ``csr_invalid``, ``csr_not_pending``,
``signing_key_state``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jisr.crypto.errors import CsrError
from jisr.crypto.keys import public_key_fingerprint
from jisr.crypto.x509 import (
    CertificateProfile,
    certificate_to_der,
    certificate_to_pem,
    check_csr,
    fingerprint_sha256,
    issue_from_csr,
    load_certificate,
)
from jisr.exchange.central.keystore import KeyStore
from jisr.exchange.central.models import (
    AuditEntry,
    Certificate,
    Csr,
    FederationPartner,
    Gateway,
    GatewayClient,
    GlobalGroup,
    GroupMember,
    Member,
    MemberClass,
    Service,
    SigningKey,
    Subsystem,
)
from jisr.exchange.globalconf import Anchor
from jisr.ids import (
    ClientId,
    GatewayId,
    IdentifierError,
    MemberId,
    SubsystemId,
    parse_client,
    validate_part,
)
from jisr.problems import FieldError, Problem
from jisr.storage.types import utcnow

__all__ = ["Registry"]


def _identifier_problem(field: str, error: IdentifierError) -> Problem:
    return Problem.invalid(field, "invalid_identifier", str(error))


def code_of(field: str, value: str, part: str) -> str:
    """Validate one identifier part (X-Road §4.8) or refuse naming the field."""
    try:
        return validate_part(value, part)
    except IdentifierError as error:
        raise _identifier_problem(field, error) from None


@dataclass(frozen=True)
class CertificateSettings:
    auth_days: int
    sign_days: int


class Registry:
    """Operations on one instance's registry, run inside the caller's transaction."""

    def __init__(
        self,
        session: AsyncSession,
        actor: str,
        *,
        instance: str,
        keystore: KeyStore | None = None,
        certificates: CertificateSettings | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.instance = instance
        self.keystore = keystore
        self.certificates = certificates or CertificateSettings(730, 730)

    # ------------------------------------------------------------------ audit
    async def audit(self, action: str, target: str, **detail: Any) -> None:
        self.session.add(AuditEntry(actor=self.actor, action=action, target=target, detail=detail))

    async def flush(self, what: str) -> None:
        """Flush, turning a uniqueness race (two writers) into a clean 409."""
        try:
            await self.session.flush()
        except IntegrityError:
            raise Problem(409, "already_exists", f"{what} already exists") from None

    # --------------------------------------------------------- member classes
    async def add_member_class(self, code: str, description: str) -> MemberClass:
        code = code_of("code", code, "member class")
        if await self.session.get(MemberClass, code) is not None:
            raise Problem(409, "already_exists", f"member class {code!r} already exists")
        row = MemberClass(code=code, description=description)
        self.session.add(row)
        await self.flush(f"member class {code!r}")
        await self.audit("member_class.add", code, description=description)
        return row

    async def list_member_classes(self) -> list[MemberClass]:
        return list(await self.session.scalars(select(MemberClass).order_by(MemberClass.code)))

    async def delete_member_class(self, code: str) -> None:
        row = await self.session.get(MemberClass, code)
        if row is None:
            raise Problem(404, "not_found", f"no member class {code!r}")
        used = await self.session.scalar(
            select(func.count()).select_from(Member).where(Member.member_class == code)
        )
        if used:
            raise Problem(409, "in_use", f"member class {code!r} still has {used} member(s)")
        await self.session.delete(row)
        await self.audit("member_class.delete", code)

    # ---------------------------------------------------------------- members
    def member_id(self, member: Member) -> MemberId:
        return MemberId(self.instance, member.member_class, member.code)

    async def add_member(
        self, member_class: str, code: str, name_ar: str, name_fr: str = "", name_en: str = ""
    ) -> Member:
        member_class = code_of("member_class", member_class, "member class")
        code = code_of("code", code, "member code")
        if not name_ar.strip():
            raise Problem.invalid("name.ar", "required", "the Arabic name is required")
        if await self.session.get(MemberClass, member_class) is None:
            raise Problem.invalid(
                "member_class", "unknown_reference", f"no member class {member_class!r}"
            )
        if await self._find_member(member_class, code) is not None:
            raise Problem(409, "already_exists", f"member {member_class}/{code} already exists")
        row = Member(
            member_class=member_class, code=code, name_ar=name_ar, name_fr=name_fr, name_en=name_en
        )
        self.session.add(row)
        await self.flush(f"member {member_class}/{code}")
        await self.audit("member.add", str(self.member_id(row)), name_ar=name_ar)
        return row

    async def _find_member(self, member_class: str, code: str) -> Member | None:
        return await self.session.scalar(
            select(Member).where(Member.member_class == member_class, Member.code == code)
        )

    async def get_member(self, member_class: str, code: str) -> Member:
        row = await self._find_member(member_class, code)
        if row is None:
            raise Problem(404, "not_found", f"no member {member_class}/{code}")
        return row

    async def list_members(self) -> list[Member]:
        query = select(Member).order_by(Member.member_class, Member.code)
        return list(await self.session.scalars(query))

    async def rename_member(
        self, member_class: str, code: str, names: dict[str, str | None]
    ) -> Member:
        row = await self.get_member(member_class, code)
        if names.get("ar") is not None and not (names["ar"] or "").strip():
            raise Problem.invalid("name.ar", "required", "the Arabic name cannot be empty")
        for language in ("ar", "fr", "en"):
            value = names.get(language)
            if value is not None:
                setattr(row, f"name_{language}", value)
        await self.audit("member.rename", str(self.member_id(row)), names=names)
        return row

    async def delete_member(self, member_class: str, code: str) -> None:
        """Delete a member; the database cascades its subsystems, gateways, certificates."""
        row = await self.get_member(member_class, code)
        await self.session.delete(row)
        await self.audit("member.delete", str(self.member_id(row)))

    # ------------------------------------------------------------- subsystems
    async def add_subsystem(self, member_class: str, member_code: str, code: str) -> Subsystem:
        code = code_of("code", code, "subsystem code")
        member = await self.get_member(member_class, member_code)
        if await self._find_subsystem(member, code) is not None:
            raise Problem(409, "already_exists", f"subsystem {code!r} already exists")
        row = Subsystem(member_id=member.id, code=code)
        self.session.add(row)
        await self.flush(f"subsystem {code!r}")
        await self.audit("subsystem.add", str(self.member_id(member).subsystem(code)))
        return row

    async def _find_subsystem(self, member: Member, code: str) -> Subsystem | None:
        return await self.session.scalar(
            select(Subsystem).where(Subsystem.member_id == member.id, Subsystem.code == code)
        )

    async def get_subsystem(self, member_class: str, member_code: str, code: str) -> Subsystem:
        member = await self.get_member(member_class, member_code)
        row = await self._find_subsystem(member, code)
        if row is None:
            raise Problem(404, "not_found", f"no subsystem {member_class}/{member_code}/{code}")
        return row

    async def list_subsystems(self, member_class: str, member_code: str) -> list[Subsystem]:
        member = await self.get_member(member_class, member_code)
        query = select(Subsystem).where(Subsystem.member_id == member.id).order_by(Subsystem.code)
        return list(await self.session.scalars(query))

    async def delete_subsystem(self, member_class: str, member_code: str, code: str) -> None:
        row = await self.get_subsystem(member_class, member_code, code)
        await self.session.delete(row)
        await self.audit("subsystem.delete", f"{self.instance}/{member_class}/{member_code}/{code}")

    async def resolve_client(self, field: str, text: str) -> tuple[Member, Subsystem | None]:
        """Find the member or subsystem an identifier of this instance names."""
        try:
            client = parse_client(text, encoded=False)
        except IdentifierError as error:
            raise _identifier_problem(field, error) from None
        if client.instance != self.instance:
            raise Problem.invalid(
                field, "foreign_instance", f"{text} is not in instance {self.instance}"
            )
        member = await self._find_member(client.member_class, client.member_code)
        if member is None:
            raise Problem.invalid(field, "unknown_reference", f"no member {client}")
        if not isinstance(client, SubsystemId):
            return member, None
        subsystem = await self._find_subsystem(member, client.subsystem_code)
        if subsystem is None:
            raise Problem.invalid(field, "unknown_reference", f"no subsystem {client}")
        return member, subsystem

    # --------------------------------------------------------------- gateways
    async def add_gateway(
        self, member_class: str, member_code: str, code: str, address: str
    ) -> Gateway:
        code = code_of("code", code, "gateway code")
        address = validate_address("address", address)
        member = await self.get_member(member_class, member_code)
        if await self._find_gateway(member, code) is not None:
            raise Problem(409, "already_exists", f"gateway {code!r} already exists")
        row = Gateway(member_id=member.id, code=code, address=address)
        self.session.add(row)
        await self.flush(f"gateway {code!r}")
        await self.audit("gateway.add", str(self.gateway_id(member, row)), address=address)
        return row

    def gateway_id(self, member: Member, gateway: Gateway) -> GatewayId:
        return self.member_id(member).gateway(gateway.code)

    async def _find_gateway(self, member: Member, code: str) -> Gateway | None:
        return await self.session.scalar(
            select(Gateway).where(Gateway.member_id == member.id, Gateway.code == code)
        )

    async def get_gateway(self, member_class: str, member_code: str, code: str) -> Gateway:
        member = await self.get_member(member_class, member_code)
        row = await self._find_gateway(member, code)
        if row is None:
            raise Problem(404, "not_found", f"no gateway {member_class}/{member_code}/{code}")
        return row

    async def list_gateways(self) -> list[Gateway]:
        query = (
            select(Gateway).join(Member).order_by(Member.member_class, Member.code, Gateway.code)
        )
        return list(await self.session.scalars(query))

    async def move_gateway(
        self, member_class: str, member_code: str, code: str, address: str
    ) -> Gateway:
        row = await self.get_gateway(member_class, member_code, code)
        row.address = validate_address("address", address)
        await self.audit("gateway.address", f"{member_class}/{member_code}/{code}", address=address)
        return row

    async def delete_gateway(self, member_class: str, member_code: str, code: str) -> None:
        row = await self.get_gateway(member_class, member_code, code)
        await self.session.delete(row)
        await self.audit("gateway.delete", f"{self.instance}/{member_class}/{member_code}/{code}")

    async def add_gateway_client(self, gateway: Gateway, client: str) -> Subsystem:
        _member, subsystem = await self.resolve_client("client", client)
        if subsystem is None:
            raise Problem.invalid("client", "subsystem_required", "a gateway hosts subsystems")
        key = (gateway.id, subsystem.id)
        if await self.session.get(GatewayClient, key) is not None:
            raise Problem(409, "already_exists", f"{client} is already hosted on this gateway")
        self.session.add(GatewayClient(gateway_id=gateway.id, subsystem_id=subsystem.id))
        await self.flush(f"client {client}")
        await self.audit("gateway.client.add", f"gateway:{gateway.id}", client=client)
        return subsystem

    async def remove_gateway_client(self, gateway: Gateway, client: str) -> None:
        _member, subsystem = await self.resolve_client("client", client)
        link = (
            None
            if subsystem is None
            else await self.session.get(GatewayClient, (gateway.id, subsystem.id))
        )
        if link is None:
            raise Problem(404, "not_found", f"{client} is not hosted on this gateway")
        await self.session.delete(link)
        await self.audit("gateway.client.remove", f"gateway:{gateway.id}", client=client)

    async def gateway_clients(self, gateway: Gateway) -> list[str]:
        query = (
            select(Member.member_class, Member.code, Subsystem.code)
            .join(Subsystem, Subsystem.member_id == Member.id)
            .join(GatewayClient, GatewayClient.subsystem_id == Subsystem.id)
            .where(GatewayClient.gateway_id == gateway.id)
        )
        rows = await self.session.execute(query)
        return sorted(f"{self.instance}/{c}/{m}/{s}" for c, m, s in rows)

    # ------------------------------------------------------------------- CSRs
    async def submit_csr(self, kind: str, subject: str, csr_pem: str) -> Csr:
        """Record a CSR after checking it: key type, self-signature, subject = identifier."""
        if kind not in ("auth", "sign"):
            raise Problem.invalid("kind", "unknown_kind", "kind must be 'auth' or 'sign'")
        member, gateway = await self._csr_subject(kind, subject)
        try:
            csr = check_csr(csr_pem.encode(), expected_common_name=subject)
        except CsrError as error:
            raise Problem(
                422, "csr_invalid", str(error), errors=[_csr_field_error(error)]
            ) from None
        row = Csr(
            kind=kind,
            member_id=member.id,
            gateway_id=gateway.id if gateway else None,
            csr_pem=csr_pem,
            public_key_sha256=public_key_fingerprint(csr.public_key()),  # type: ignore[arg-type]
            submitted_by=self.actor,
        )
        self.session.add(row)
        await self.session.flush()
        await self.audit("csr.submit", subject, kind=kind, csr_id=row.id)
        return row

    async def _csr_subject(self, kind: str, subject: str) -> tuple[Member, Gateway | None]:
        try:
            if kind == "auth":
                gateway_id = GatewayId.parse(subject, encoded=False)
                owner = gateway_id.owner
            else:
                owner = MemberId.parse(subject, encoded=False)
        except IdentifierError as error:
            raise _identifier_problem("subject", error) from None
        if owner.instance != self.instance:
            raise Problem.invalid("subject", "foreign_instance", f"{subject} is not ours")
        member = await self._find_member(owner.member_class, owner.member_code)
        if member is None:
            raise Problem.invalid("subject", "unknown_reference", f"no member {owner}")
        if kind == "sign":
            return member, None
        gateway = await self._find_gateway(member, gateway_id.gateway_code)
        if gateway is None:
            raise Problem.invalid("subject", "unknown_reference", f"no gateway {subject}")
        return member, gateway

    async def get_csr(self, csr_id: int) -> Csr:
        row = await self.session.get(Csr, csr_id)
        if row is None:
            raise Problem(404, "not_found", f"no CSR {csr_id}")
        return row

    async def list_csrs(self, status: str | None = None) -> list[Csr]:
        query = select(Csr).order_by(Csr.id)
        if status is not None:
            query = query.where(Csr.status == status)
        return list(await self.session.scalars(query))

    async def approve_csr(self, csr_id: int) -> Certificate:
        """Issue the certificate a pending CSR asks for; the CA key is read for this only."""
        row = await self._pending_csr(csr_id)
        if self.keystore is None:
            raise RuntimeError("approving a CSR needs the key store")
        member = await self.session.get_one(Member, row.member_id)
        gateway = await self.session.get(Gateway, row.gateway_id) if row.gateway_id else None
        ca_key, ca_cert = self.keystore.ca()
        subject = str(self.gateway_id(member, gateway) if gateway else self.member_id(member))
        csr = x509.load_pem_x509_csr(row.csr_pem.encode())
        certificate = issue_from_csr(
            csr,
            profile=CertificateProfile.AUTH if gateway else CertificateProfile.SIGN,
            ca_key=ca_key,
            ca_cert=ca_cert,
            subject_common_name=subject,
            subject_organization=member.name_en or member.name_fr or member.code,
            san_host=host_of(gateway.address) if gateway else None,
            validity_days=self.certificates.auth_days if gateway else self.certificates.sign_days,
        )
        stored = await self._store_certificate(row.kind, member, gateway, certificate)
        row.status, row.certificate_id = "approved", stored.id
        row.decided_at, row.decided_by = utcnow(), self.actor
        await self.audit("csr.approve", subject, csr_id=row.id, fingerprint=stored.fingerprint)
        return stored

    async def reject_csr(self, csr_id: int, reason: str) -> Csr:
        row = await self._pending_csr(csr_id)
        row.status, row.reason = "rejected", reason
        row.decided_at, row.decided_by = utcnow(), self.actor
        await self.audit("csr.reject", f"csr:{row.id}", reason=reason)
        return row

    async def _pending_csr(self, csr_id: int) -> Csr:
        row = await self.get_csr(csr_id)
        if row.status != "pending":
            raise Problem(409, "csr_not_pending", f"CSR {csr_id} is already {row.status}")
        return row

    async def _store_certificate(
        self, kind: str, member: Member, gateway: Gateway | None, certificate: x509.Certificate
    ) -> Certificate:
        stored = Certificate(
            kind=kind,
            member_id=member.id,
            gateway_id=gateway.id if gateway else None,
            fingerprint=fingerprint_sha256(certificate),
            der=certificate_to_der(certificate),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )
        self.session.add(stored)
        await self.flush("certificate")
        return stored

    # ----------------------------------------------------------- certificates
    async def list_certificates(self) -> list[Certificate]:
        return list(await self.session.scalars(select(Certificate).order_by(Certificate.id)))

    async def get_certificate(self, fingerprint: str) -> Certificate:
        row = await self.session.scalar(
            select(Certificate).where(Certificate.fingerprint == fingerprint.lower())
        )
        if row is None:
            raise Problem(404, "not_found", f"no certificate with fingerprint {fingerprint}")
        return row

    async def revoke_certificate(self, fingerprint: str) -> None:
        """Remove a certificate: it is absent from the next configuration (no OCSP)."""
        row = await self.get_certificate(fingerprint)
        await self.session.delete(row)
        await self.audit("certificate.revoke", row.fingerprint, kind=row.kind)

    # --------------------------------------------------------- global groups
    async def add_group(self, code: str, description: str) -> GlobalGroup:
        code = code_of("code", code, "group code")
        if await self._find_group(code) is not None:
            raise Problem(409, "already_exists", f"global group {code!r} already exists")
        row = GlobalGroup(code=code, description=description)
        self.session.add(row)
        await self.flush(f"global group {code!r}")
        await self.audit("group.add", f"{self.instance}/{code}", description=description)
        return row

    async def _find_group(self, code: str) -> GlobalGroup | None:
        return await self.session.scalar(select(GlobalGroup).where(GlobalGroup.code == code))

    async def get_group(self, code: str) -> GlobalGroup:
        row = await self._find_group(code)
        if row is None:
            raise Problem(404, "not_found", f"no global group {code!r}")
        return row

    async def list_groups(self) -> list[GlobalGroup]:
        return list(await self.session.scalars(select(GlobalGroup).order_by(GlobalGroup.code)))

    async def delete_group(self, code: str) -> None:
        row = await self.get_group(code)
        await self.session.delete(row)
        await self.audit("group.delete", f"{self.instance}/{code}")

    async def add_group_member(self, code: str, client: str) -> None:
        group = await self.get_group(code)
        member, subsystem = await self.resolve_client("client", client)
        key = _client_key(self.instance, member, subsystem)
        exists = await self.session.scalar(
            select(GroupMember.id).where(
                GroupMember.group_id == group.id, GroupMember.client_key == key
            )
        )
        if exists is not None:
            raise Problem(409, "already_exists", f"{key} is already in group {code!r}")
        self.session.add(
            GroupMember(
                group_id=group.id,
                member_id=member.id,
                subsystem_id=subsystem.id if subsystem else None,
                client_key=key,
            )
        )
        await self.flush(f"{key} in group {code!r}")
        await self.audit("group.member.add", f"{self.instance}/{code}", client=key)

    async def remove_group_member(self, code: str, client: str) -> None:
        group = await self.get_group(code)
        member, subsystem = await self.resolve_client("client", client)
        key = _client_key(self.instance, member, subsystem)
        result = await self.session.execute(
            delete(GroupMember).where(
                GroupMember.group_id == group.id, GroupMember.client_key == key
            )
        )
        if not getattr(result, "rowcount", 0):
            raise Problem(404, "not_found", f"{key} is not in group {code!r}")
        await self.audit("group.member.remove", f"{self.instance}/{code}", client=key)

    async def group_members(self, group: GlobalGroup) -> list[str]:
        query = select(GroupMember.client_key).where(GroupMember.group_id == group.id)
        return sorted(await self.session.scalars(query))

    # --------------------------------------------------------------- services
    async def add_service(
        self, subsystem: Subsystem, code: str, openapi_url: str | None
    ) -> Service:
        code = code_of("code", code, "service code")
        if openapi_url is not None:
            openapi_url = validate_url("openapi_url", openapi_url)
        if await self._find_service(subsystem, code) is not None:
            raise Problem(409, "already_exists", f"service {code!r} already exists")
        row = Service(subsystem_id=subsystem.id, code=code, openapi_url=openapi_url)
        self.session.add(row)
        await self.flush(f"service {code!r}")
        await self.audit("service.add", f"subsystem:{subsystem.id}/{code}", openapi_url=openapi_url)
        return row

    async def _find_service(self, subsystem: Subsystem, code: str) -> Service | None:
        return await self.session.scalar(
            select(Service).where(Service.subsystem_id == subsystem.id, Service.code == code)
        )

    async def get_service(self, subsystem: Subsystem, code: str) -> Service:
        row = await self._find_service(subsystem, code)
        if row is None:
            raise Problem(404, "not_found", f"no service {code!r} in this subsystem")
        return row

    async def list_services(self, subsystem: Subsystem) -> list[Service]:
        query = select(Service).where(Service.subsystem_id == subsystem.id).order_by(Service.code)
        return list(await self.session.scalars(query))

    async def delete_service(self, subsystem: Subsystem, code: str) -> None:
        row = await self.get_service(subsystem, code)
        await self.session.delete(row)
        await self.audit("service.delete", f"subsystem:{subsystem.id}/{code}")

    # ------------------------------------------------------------- federation
    async def add_partner(self, anchor_json: bytes) -> FederationPartner:
        try:
            anchor = Anchor.from_json(anchor_json)
        except Exception as error:
            raise Problem.invalid("anchor", "malformed", f"not a Jisr anchor: {error}") from None
        if anchor.instance == self.instance:
            raise Problem.invalid("anchor.instance", "own_instance", "that is our own anchor")
        existing = await self.session.get(FederationPartner, anchor.instance)
        if existing is not None:
            raise Problem(409, "already_exists", f"instance {anchor.instance} is already a partner")
        row = FederationPartner(instance=anchor.instance, anchor_json=anchor.to_json().decode())
        self.session.add(row)
        await self.flush(f"partner {anchor.instance}")
        await self.audit("federation.add", anchor.instance, urls=list(anchor.urls))
        return row

    async def replace_partner_anchor(self, anchor_json: bytes) -> FederationPartner:
        """Replace a partner's anchor (its key rollover or new URLs)."""
        try:
            anchor = Anchor.from_json(anchor_json)
        except Exception as error:
            raise Problem.invalid("anchor", "malformed", f"not a Jisr anchor: {error}") from None
        row = await self.get_partner(anchor.instance)
        row.anchor_json = anchor.to_json().decode()
        await self.audit("federation.update", anchor.instance, urls=list(anchor.urls))
        return row

    async def get_partner(self, instance: str) -> FederationPartner:
        row = await self.session.get(FederationPartner, instance)
        if row is None:
            raise Problem(404, "not_found", f"instance {instance} is not a partner")
        return row

    async def list_partners(self) -> list[FederationPartner]:
        query = select(FederationPartner).order_by(FederationPartner.instance)
        return list(await self.session.scalars(query))

    async def remove_partner(self, instance: str) -> None:
        row = await self.get_partner(instance)
        await self.session.delete(row)
        await self.audit("federation.remove", instance)

    # --------------------------------------------------- conf-signing keys
    async def list_signing_keys(self) -> list[SigningKey]:
        return list(await self.session.scalars(select(SigningKey).order_by(SigningKey.created_at)))

    async def add_signing_key(self, organization: str, validity_days: int) -> SigningKey:
        """Create a key and announce it (``next``); it signs only once activated."""
        if self.keystore is None:
            raise RuntimeError("creating a signing key needs the key store")
        kid, certificate = self.keystore.new_signing_key(
            instance=self.instance, organization=organization, validity_days=validity_days
        )
        has_active = await self.session.scalar(
            select(SigningKey.kid).where(SigningKey.status == "active")
        )
        row = SigningKey(
            kid=kid,
            certificate_der=certificate_to_der(certificate),
            status="next" if has_active else "active",
            activated_at=None if has_active else utcnow(),
        )
        self.session.add(row)
        await self.flush(f"signing key {kid}")
        await self.audit("signing_key.add", kid, status=row.status)
        return row

    async def activate_signing_key(self, kid: str) -> SigningKey:
        """Sign with ``kid`` from now on; the previous active key stays announced as next."""
        row = await self._signing_key(kid)
        if row.status != "next":
            raise Problem(409, "signing_key_state", f"key {kid} is {row.status}, not next")
        for other in await self.list_signing_keys():
            if other.status == "active":
                other.status = "next"
        row.status, row.activated_at = "active", utcnow()
        await self.audit("signing_key.activate", kid)
        return row

    async def retire_signing_key(self, kid: str) -> SigningKey:
        row = await self._signing_key(kid)
        if row.status != "next":
            raise Problem(
                409,
                "signing_key_state",
                f"key {kid} is {row.status}; only a non-active key retires",
            )
        row.status, row.retired_at = "retired", utcnow()
        await self.audit("signing_key.retire", kid)
        return row

    async def _signing_key(self, kid: str) -> SigningKey:
        row = await self.session.get(SigningKey, kid)
        if row is None:
            raise Problem(404, "not_found", f"no signing key {kid}")
        return row

    # ------------------------------------------------------------------ audit
    async def audit_entries(self, after_id: int, limit: int) -> list[AuditEntry]:
        query = select(AuditEntry).where(AuditEntry.id > after_id).order_by(AuditEntry.id)
        return list(await self.session.scalars(query.limit(limit)))


def _client_key(instance: str, member: Member, subsystem: Subsystem | None) -> str:
    member_id = MemberId(instance, member.member_class, member.code)
    client: ClientId = member_id.subsystem(subsystem.code) if subsystem else member_id
    return str(client)


def _csr_field_error(error: CsrError) -> FieldError:
    return FieldError(field=f"csr.{error.field}", rule=error.rule, message=str(error))


def host_of(address: str) -> str:
    """The host part of ``host[:port]`` (IPv6 literals in brackets)."""
    if address.startswith("["):
        return address[1 : address.index("]")]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def validate_address(field: str, address: str) -> str:
    """``host[:port]``: a DNS name or IP literal and an optional port 1-65535."""
    text = address.strip()
    host, port = text, None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise Problem.invalid(field, "invalid_address", "unclosed '[' in IPv6 literal")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise Problem.invalid(field, "invalid_address", "expected ':port' after ']'")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        label = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
        if not re.fullmatch(rf"{label}(\.{label})*", host) or len(host) > 253:
            raise Problem.invalid(
                field, "invalid_address", f"{host!r} is neither a DNS name nor an IP address"
            ) from None
    if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
        raise Problem.invalid(field, "invalid_address", f"port {port!r} is not 1-65535")
    return text


def validate_url(field: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise Problem.invalid(field, "invalid_url", "expected an http(s) URL of at most 2000 chars")
    return url


def certificate_pem(row: Certificate) -> str:
    return certificate_to_pem(load_certificate(row.der)).decode()


def anchor_of(row: FederationPartner) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(row.anchor_json)
    return value
