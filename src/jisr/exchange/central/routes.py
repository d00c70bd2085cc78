"""Routes of the central: ``/api/v1/...`` (admin, token-scoped) and the public endpoints.

Each write runs in one transaction through :class:`Registry` (validated, audited) and is
followed by publishing a new global configuration, so a change is visible to gateways on
their next poll. Error codes: docs/central.md#errors.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from jisr.crypto.x509 import certificate_to_pem, load_certificate
from jisr.exchange.central.app import Central
from jisr.exchange.central.lifecycle import open_registry
from jisr.exchange.central.models import (
    Certificate,
    Csr,
    FederationPartner,
    Gateway,
    GlobalGroup,
    Member,
    Service,
    SigningKey,
    Subsystem,
)
from jisr.exchange.central.registry import Registry, anchor_of
from jisr.exchange.central.schemas import (
    AuditOut,
    CertificateOut,
    ClientIn,
    CodePath,
    CsrIn,
    CsrOut,
    GatewayIn,
    GatewayOut,
    GatewayPatch,
    GroupIn,
    GroupOut,
    MemberClassIn,
    MemberClassOut,
    MemberIn,
    MemberOut,
    MemberPatch,
    PartnerOut,
    RejectIn,
    ServiceIn,
    ServiceOut,
    SigningKeyOut,
    SubsystemIn,
    SubsystemOut,
)
from jisr.exchange.central.tokens import TOKENS, Scope
from jisr.exchange.central.tsa import REPLY_MEDIA_TYPE, stamp
from jisr.problems import Problem, problem_doc

__all__ = ["public_router", "router"]


ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_doc("The body is not valid JSON (`malformed_body`)."),
    401: problem_doc("Missing, unknown, expired or revoked token (`unauthenticated`)."),
    403: problem_doc("The token lacks the scope (`insufficient_scope`)."),
    404: problem_doc("No such resource (`not_found`)."),
    409: problem_doc("Duplicate or conflicting state (`already_exists`, `in_use`, ...)."),
    413: problem_doc("Body over the size limit (`body_too_large`)."),
    415: problem_doc("Body is not application/json (`unsupported_media_type`)."),
    422: problem_doc("Invalid input; `errors` names each field and rule (`invalid_input`)."),
}
router = APIRouter(prefix="/api/v1", responses=ADMIN_RESPONSES)
public_router = APIRouter(responses={422: ADMIN_RESPONSES[422]})

CsrId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
Fingerprint = Annotated[str, PathParam(pattern=r"^[0-9a-fA-F]{64}$")]
Kid = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$")]


def central_of(request: Request) -> Central:
    central: Central = request.app.state.central
    return central


async def _central(request: Request) -> Central:
    """The dependency form of :func:`central_of`. Async on purpose: FastAPI runs a plain ``def``
    dependency in a worker thread, a thread hand-off on every request."""
    return central_of(request)


CentralDep = Annotated[Central, Depends(_central)]


def requires(scope: Scope) -> Callable[..., Awaitable[str]]:
    """Dependency: authenticate the Bearer token for ``scope``; gives the actor's name."""
    return TOKENS.requirement(scope, lambda request: central_of(request).database)


Reader = Annotated[str, Depends(requires(Scope.REGISTRY_READ))]
Writer = Annotated[str, Depends(requires(Scope.REGISTRY_WRITE))]
CsrSubmitter = Annotated[str, Depends(requires(Scope.CSR_SUBMIT))]
CertWriter = Annotated[str, Depends(requires(Scope.CERTIFICATES_WRITE))]
FederationWriter = Annotated[str, Depends(requires(Scope.FEDERATION_WRITE))]
KeyWriter = Annotated[str, Depends(requires(Scope.KEYS_WRITE))]
AuditReader = Annotated[str, Depends(requires(Scope.AUDIT_READ))]


@asynccontextmanager
async def registry(central: Central, actor: str, *, publish: bool) -> AsyncIterator[Registry]:
    """One transaction around the operation; publish a new configuration after a change."""
    async with central.database.transaction() as session:
        yield open_registry(session, actor, central.settings, central.keystore)
    if publish:
        await central.publisher.publish()


# ------------------------------------------------------------------ presenters
async def _member_out(reg: Registry, member: Member) -> MemberOut:
    subsystems = await reg.list_subsystems(member.member_class, member.code)
    return MemberOut(
        id=str(reg.member_id(member)),
        member_class=member.member_class,
        code=member.code,
        name={"ar": member.name_ar, "fr": member.name_fr, "en": member.name_en},
        subsystems=[s.code for s in subsystems],
        created_at=member.created_at,
    )


def _subsystem_out(reg: Registry, member: Member, subsystem: Subsystem) -> SubsystemOut:
    return SubsystemOut(
        id=str(reg.member_id(member).subsystem(subsystem.code)), code=subsystem.code
    )


async def _certificate_out(reg: Registry, row: Certificate) -> CertificateOut:
    member = await reg.session.get_one(Member, row.member_id)
    owner = reg.member_id(member)
    if row.gateway_id is not None:
        gateway = await reg.session.get_one(Gateway, row.gateway_id)
        owner_text = str(owner.gateway(gateway.code))
    else:
        owner_text = str(owner)
    return CertificateOut(
        fingerprint=row.fingerprint,
        kind="auth" if row.kind == "auth" else "sign",
        owner=owner_text,
        not_before=row.not_before,
        not_after=row.not_after,
        pem=certificate_to_pem(load_certificate(row.der)).decode(),
    )


async def _gateway_out(reg: Registry, gateway: Gateway) -> GatewayOut:
    member = await reg.session.get_one(Member, gateway.member_id)
    certificates = [
        c for c in await reg.list_certificates() if c.gateway_id == gateway.id and c.kind == "auth"
    ]
    return GatewayOut(
        id=str(reg.gateway_id(member, gateway)),
        code=gateway.code,
        address=gateway.address,
        clients=await reg.gateway_clients(gateway),
        auth_certificates=[await _certificate_out(reg, c) for c in certificates],
    )


async def _csr_out(reg: Registry, row: Csr) -> CsrOut:
    member = await reg.session.get_one(Member, row.member_id)
    subject = reg.member_id(member)
    subject_text = str(subject)
    if row.gateway_id is not None:
        gateway = await reg.session.get_one(Gateway, row.gateway_id)
        subject_text = str(subject.gateway(gateway.code))
    fingerprint = None
    if row.certificate_id is not None:
        certificate = await reg.session.get(Certificate, row.certificate_id)
        fingerprint = certificate.fingerprint if certificate else None
    return CsrOut(
        id=row.id,
        kind=row.kind,
        subject=subject_text,
        status=row.status,
        public_key_sha256=row.public_key_sha256,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        reason=row.reason,
        certificate_fingerprint=fingerprint,
    )


async def _group_out(reg: Registry, group: GlobalGroup) -> GroupOut:
    return GroupOut(
        id=f"{reg.instance}/{group.code}",
        code=group.code,
        description=group.description,
        members=await reg.group_members(group),
    )


def _service_out(reg: Registry, subsystem_id: str, service: Service) -> ServiceOut:
    return ServiceOut(
        id=f"{subsystem_id}/{service.code}", code=service.code, openapi_url=service.openapi_url
    )


def _partner_out(row: FederationPartner) -> PartnerOut:
    return PartnerOut(instance=row.instance, anchor=anchor_of(row), added_at=row.added_at)


def _key_out(row: SigningKey) -> SigningKeyOut:
    return SigningKeyOut(
        kid=row.kid,
        status=row.status,
        created_at=row.created_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
        certificate_pem=certificate_to_pem(load_certificate(row.certificate_der)).decode(),
    )


# -------------------------------------------------------------- member classes
@router.get("/member-classes", tags=["members"])
async def list_member_classes(central: CentralDep, actor: Reader) -> list[MemberClassOut]:
    async with registry(central, actor, publish=False) as reg:
        return [
            MemberClassOut(code=r.code, description=r.description)
            for r in await reg.list_member_classes()
        ]


@router.post("/member-classes", status_code=201, tags=["members"])
async def add_member_class(
    body: MemberClassIn, central: CentralDep, actor: Writer
) -> MemberClassOut:
    async with registry(central, actor, publish=True) as reg:
        row = await reg.add_member_class(body.code, body.description)
        return MemberClassOut(code=row.code, description=row.description)


@router.delete("/member-classes/{code}", status_code=204, tags=["members"])
async def delete_member_class(code: CodePath, central: CentralDep, actor: Writer) -> Response:
    async with registry(central, actor, publish=True) as reg:
        await reg.delete_member_class(code)
    return Response(status_code=204)


# --------------------------------------------------------------------- members
@router.get("/members", tags=["members"])
async def list_members(central: CentralDep, actor: Reader) -> list[MemberOut]:
    async with registry(central, actor, publish=False) as reg:
        return [await _member_out(reg, m) for m in await reg.list_members()]


@router.post("/members", status_code=201, tags=["members"])
async def add_member(body: MemberIn, central: CentralDep, actor: Writer) -> MemberOut:
    async with registry(central, actor, publish=True) as reg:
        row = await reg.add_member(
            body.member_class, body.code, body.name.ar, body.name.fr, body.name.en
        )
        return await _member_out(reg, row)


@router.get("/members/{member_class}/{member_code}", tags=["members"])
async def get_member(
    member_class: CodePath, member_code: CodePath, central: CentralDep, actor: Reader
) -> MemberOut:
    async with registry(central, actor, publish=False) as reg:
        return await _member_out(reg, await reg.get_member(member_class, member_code))


@router.patch("/members/{member_class}/{member_code}", tags=["members"])
async def rename_member(
    member_class: CodePath,
    member_code: CodePath,
    body: MemberPatch,
    central: CentralDep,
    actor: Writer,
) -> MemberOut:
    async with registry(central, actor, publish=True) as reg:
        row = await reg.rename_member(member_class, member_code, body.name.model_dump())
        return await _member_out(reg, row)


@router.delete("/members/{member_class}/{member_code}", status_code=204, tags=["members"])
async def delete_member(
    member_class: CodePath, member_code: CodePath, central: CentralDep, actor: Writer
) -> Response:
    async with registry(central, actor, publish=True) as reg:
        await reg.delete_member(member_class, member_code)
    return Response(status_code=204)


# ------------------------------------------------------------------ subsystems
@router.post("/members/{member_class}/{member_code}/subsystems", status_code=201, tags=["members"])
async def add_subsystem(
    member_class: CodePath,
    member_code: CodePath,
    body: SubsystemIn,
    central: CentralDep,
    actor: Writer,
) -> SubsystemOut:
    async with registry(central, actor, publish=True) as reg:
        row = await reg.add_subsystem(member_class, member_code, body.code)
        return _subsystem_out(reg, await reg.get_member(member_class, member_code), row)


@router.delete(
    "/members/{member_class}/{member_code}/subsystems/{subsystem_code}",
    status_code=204,
    tags=["members"],
)
async def delete_subsystem(
    member_class: CodePath,
    member_code: CodePath,
    subsystem_code: CodePath,
    central: CentralDep,
    actor: Writer,
) -> Response:
    async with registry(central, actor, publish=True) as reg:
        await reg.delete_subsystem(member_class, member_code, subsystem_code)
    return Response(status_code=204)


# -------------------------------------------------------------------- services
ServicesPath = "/members/{member_class}/{member_code}/subsystems/{subsystem_code}/services"


@router.get(ServicesPath, tags=["services"])
async def list_services(
    member_class: CodePath,
    member_code: CodePath,
    subsystem_code: CodePath,
    central: CentralDep,
    actor: Reader,
) -> list[ServiceOut]:
    async with registry(central, actor, publish=False) as reg:
        subsystem = await reg.get_subsystem(member_class, member_code, subsystem_code)
        sid = f"{reg.instance}/{member_class}/{member_code}/{subsystem_code}"
        return [_service_out(reg, sid, s) for s in await reg.list_services(subsystem)]


@router.post(ServicesPath, status_code=201, tags=["services"])
async def add_service(
    member_class: CodePath,
    member_code: CodePath,
    subsystem_code: CodePath,
    body: ServiceIn,
    central: CentralDep,
    actor: Writer,
) -> ServiceOut:
    async with registry(central, actor, publish=True) as reg:
        subsystem = await reg.get_subsystem(member_class, member_code, subsystem_code)
        row = await reg.add_service(subsystem, body.code, body.openapi_url)
        return _service_out(
            reg, f"{reg.instance}/{member_class}/{member_code}/{subsystem_code}", row
        )


@router.delete(ServicesPath + "/{service_code}", status_code=204, tags=["services"])
async def delete_service(
    member_class: CodePath,
    member_code: CodePath,
    subsystem_code: CodePath,
    service_code: CodePath,
    central: CentralDep,
    actor: Writer,
) -> Response:
    async with registry(central, actor, publish=True) as reg:
        subsystem = await reg.get_subsystem(member_class, member_code, subsystem_code)
        await reg.delete_service(subsystem, service_code)
    return Response(status_code=204)


# -------------------------------------------------------------------- gateways
GatewayPath = "/members/{member_class}/{member_code}/gateways/{gateway_code}"


@router.get("/gateways", tags=["gateways"])
async def list_gateways(central: CentralDep, actor: Reader) -> list[GatewayOut]:
    async with registry(central, actor, publish=False) as reg:
        return [await _gateway_out(reg, g) for g in await reg.list_gateways()]


@router.post("/members/{member_class}/{member_code}/gateways", status_code=201, tags=["gateways"])
async def add_gateway(
    member_class: CodePath,
    member_code: CodePath,
    body: GatewayIn,
    central: CentralDep,
    actor: Writer,
) -> GatewayOut:
    async with registry(central, actor, publish=True) as reg:
        row = await reg.add_gateway(member_class, member_code, body.code, body.address)
        return await _gateway_out(reg, row)


@router.get(GatewayPath, tags=["gateways"])
async def get_gateway(
    member_class: CodePath,
    member_code: CodePath,
    gateway_code: CodePath,
    central: CentralDep,
    actor: Reader,
) -> GatewayOut:
    async with registry(central, actor, publish=False) as reg:
        return await _gateway_out(
            reg, await reg.get_gateway(member_class, member_code, gateway_code)
        )


@router.patch(GatewayPath, tags=["gateways"])
async def move_gateway(
    member_class: CodePath,
    member_code: CodePath,
    gateway_code: CodePath,
    body: GatewayPatch,
    central: CentralDep,
    actor: Writer,
) -> GatewayOut:
    async with registry(central, actor, publish=True) as reg:
        row = await reg.move_gateway(member_class, member_code, gateway_code, body.address)
        return await _gateway_out(reg, row)


@router.delete(GatewayPath, status_code=204, tags=["gateways"])
async def delete_gateway(
    member_class: CodePath,
    member_code: CodePath,
    gateway_code: CodePath,
    central: CentralDep,
    actor: Writer,
) -> Response:
    async with registry(central, actor, publish=True) as reg:
        await reg.delete_gateway(member_class, member_code, gateway_code)
    return Response(status_code=204)


@router.post(GatewayPath + "/clients", status_code=201, tags=["gateways"])
async def add_gateway_client(
    member_class: CodePath,
    member_code: CodePath,
    gateway_code: CodePath,
    body: ClientIn,
    central: CentralDep,
    actor: Writer,
) -> GatewayOut:
    async with registry(central, actor, publish=True) as reg:
        gateway = await reg.get_gateway(member_class, member_code, gateway_code)
        await reg.add_gateway_client(gateway, body.client)
        return await _gateway_out(reg, gateway)


@router.delete(
    GatewayPath + "/clients/{client_class}/{client_member}/{client_subsystem}",
    status_code=204,
    tags=["gateways"],
)
async def remove_gateway_client(
    member_class: CodePath,
    member_code: CodePath,
    gateway_code: CodePath,
    client_class: CodePath,
    client_member: CodePath,
    client_subsystem: CodePath,
    central: CentralDep,
    actor: Writer,
) -> Response:
    async with registry(central, actor, publish=True) as reg:
        gateway = await reg.get_gateway(member_class, member_code, gateway_code)
        client = f"{reg.instance}/{client_class}/{client_member}/{client_subsystem}"
        await reg.remove_gateway_client(gateway, client)
    return Response(status_code=204)


# ------------------------------------------------------------------------ CSRs
@router.post("/csrs", status_code=201, tags=["certificates"])
async def submit_csr(body: CsrIn, central: CentralDep, actor: CsrSubmitter) -> CsrOut:
    async with registry(central, actor, publish=False) as reg:
        return await _csr_out(reg, await reg.submit_csr(body.kind, body.subject, body.csr))


@router.get("/csrs", tags=["certificates"])
async def list_csrs(
    central: CentralDep,
    actor: Reader,
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None,
) -> list[CsrOut]:
    async with registry(central, actor, publish=False) as reg:
        return [await _csr_out(reg, r) for r in await reg.list_csrs(status)]


@router.get("/csrs/{csr_id}", tags=["certificates"])
async def get_csr(csr_id: CsrId, central: CentralDep, actor: Reader) -> CsrOut:
    async with registry(central, actor, publish=False) as reg:
        return await _csr_out(reg, await reg.get_csr(csr_id))


@router.post("/csrs/{csr_id}/approve", tags=["certificates"])
async def approve_csr(csr_id: CsrId, central: CentralDep, actor: CertWriter) -> CertificateOut:
    async with registry(central, actor, publish=True) as reg:
        return await _certificate_out(reg, await reg.approve_csr(csr_id))


@router.post("/csrs/{csr_id}/reject", tags=["certificates"])
async def reject_csr(
    csr_id: CsrId, body: RejectIn, central: CentralDep, actor: CertWriter
) -> CsrOut:
    async with registry(central, actor, publish=False) as reg:
        return await _csr_out(reg, await reg.reject_csr(csr_id, body.reason))


@router.get("/certificates", tags=["certificates"])
async def list_certificates(central: CentralDep, actor: Reader) -> list[CertificateOut]:
    async with registry(central, actor, publish=False) as reg:
        return [await _certificate_out(reg, c) for c in await reg.list_certificates()]


@router.get("/certificates/{fingerprint}", tags=["certificates"])
async def get_certificate(
    fingerprint: Fingerprint, central: CentralDep, actor: Reader
) -> CertificateOut:
    async with registry(central, actor, publish=False) as reg:
        return await _certificate_out(reg, await reg.get_certificate(fingerprint))


@router.delete("/certificates/{fingerprint}", status_code=204, tags=["certificates"])
async def revoke_certificate(
    fingerprint: Fingerprint, central: CentralDep, actor: CertWriter
) -> Response:
    async with registry(central, actor, publish=True) as reg:
        await reg.revoke_certificate(fingerprint)
    return Response(status_code=204)


# ---------------------------------------------------------------------- groups
@router.get("/groups", tags=["groups"])
async def list_groups(central: CentralDep, actor: Reader) -> list[GroupOut]:
    async with registry(central, actor, publish=False) as reg:
        return [await _group_out(reg, g) for g in await reg.list_groups()]


@router.post("/groups", status_code=201, tags=["groups"])
async def add_group(body: GroupIn, central: CentralDep, actor: Writer) -> GroupOut:
    async with registry(central, actor, publish=True) as reg:
        return await _group_out(reg, await reg.add_group(body.code, body.description))


@router.get("/groups/{group_code}", tags=["groups"])
async def get_group(group_code: CodePath, central: CentralDep, actor: Reader) -> GroupOut:
    async with registry(central, actor, publish=False) as reg:
        return await _group_out(reg, await reg.get_group(group_code))


@router.delete("/groups/{group_code}", status_code=204, tags=["groups"])
async def delete_group(group_code: CodePath, central: CentralDep, actor: Writer) -> Response:
    async with registry(central, actor, publish=True) as reg:
        await reg.delete_group(group_code)
    return Response(status_code=204)


@router.post("/groups/{group_code}/members", status_code=201, tags=["groups"])
async def add_group_member(
    group_code: CodePath, body: ClientIn, central: CentralDep, actor: Writer
) -> GroupOut:
    async with registry(central, actor, publish=True) as reg:
        await reg.add_group_member(group_code, body.client)
        return await _group_out(reg, await reg.get_group(group_code))


@router.delete(
    "/groups/{group_code}/members/{client_class}/{client_member}", status_code=204, tags=["groups"]
)
async def remove_group_member(
    group_code: CodePath,
    client_class: CodePath,
    client_member: CodePath,
    central: CentralDep,
    actor: Writer,
) -> Response:
    async with registry(central, actor, publish=True) as reg:
        await reg.remove_group_member(group_code, f"{reg.instance}/{client_class}/{client_member}")
    return Response(status_code=204)


@router.delete(
    "/groups/{group_code}/members/{client_class}/{client_member}/{client_subsystem}",
    status_code=204,
    tags=["groups"],
)
async def remove_group_subsystem(
    group_code: CodePath,
    client_class: CodePath,
    client_member: CodePath,
    client_subsystem: CodePath,
    central: CentralDep,
    actor: Writer,
) -> Response:
    async with registry(central, actor, publish=True) as reg:
        client = f"{reg.instance}/{client_class}/{client_member}/{client_subsystem}"
        await reg.remove_group_member(group_code, client)
    return Response(status_code=204)


# ------------------------------------------------------------------ federation
@router.get("/federation", tags=["federation"])
async def list_partners(central: CentralDep, actor: Reader) -> list[PartnerOut]:
    async with registry(central, actor, publish=False) as reg:
        return [_partner_out(p) for p in await reg.list_partners()]


@router.post("/federation", status_code=201, tags=["federation"])
async def add_partner(
    anchor: dict[str, Any], central: CentralDep, actor: FederationWriter
) -> PartnerOut:
    """Trust another instance: the body is its anchor file, received out of band."""
    async with registry(central, actor, publish=True) as reg:
        return _partner_out(await reg.add_partner(json.dumps(anchor).encode()))


@router.put("/federation/{instance}", tags=["federation"])
async def replace_partner(
    instance: CodePath, anchor: dict[str, Any], central: CentralDep, actor: FederationWriter
) -> PartnerOut:
    """Replace a partner's anchor (after its key rollover); the body is the new anchor."""
    async with registry(central, actor, publish=True) as reg:
        await reg.get_partner(instance)
        if anchor.get("instance") != instance:
            raise Problem.invalid("anchor.instance", "mismatch", f"anchor is not for {instance}")
        return _partner_out(await reg.replace_partner_anchor(json.dumps(anchor).encode()))


@router.delete("/federation/{instance}", status_code=204, tags=["federation"])
async def remove_partner(
    instance: CodePath, central: CentralDep, actor: FederationWriter
) -> Response:
    async with registry(central, actor, publish=True) as reg:
        await reg.remove_partner(instance)
    return Response(status_code=204)


# ---------------------------------------------------------- conf-signing keys
@router.get("/signing-keys", tags=["keys"])
async def list_signing_keys(central: CentralDep, actor: Reader) -> list[SigningKeyOut]:
    async with registry(central, actor, publish=False) as reg:
        return [_key_out(k) for k in await reg.list_signing_keys()]


@router.post("/signing-keys", status_code=201, tags=["keys"])
async def add_signing_key(central: CentralDep, actor: KeyWriter) -> SigningKeyOut:
    """Create a new key and announce it as ``next`` in the configuration."""
    settings = central.settings
    async with registry(central, actor, publish=True) as reg:
        return _key_out(await reg.add_signing_key(settings.organization, settings.ca_days // 2))


@router.post("/signing-keys/{kid}/activate", tags=["keys"])
async def activate_signing_key(kid: Kid, central: CentralDep, actor: KeyWriter) -> SigningKeyOut:
    async with registry(central, actor, publish=True) as reg:
        return _key_out(await reg.activate_signing_key(kid))


@router.post("/signing-keys/{kid}/retire", tags=["keys"])
async def retire_signing_key(kid: Kid, central: CentralDep, actor: KeyWriter) -> SigningKeyOut:
    async with registry(central, actor, publish=True) as reg:
        return _key_out(await reg.retire_signing_key(kid))


# ----------------------------------------------------------------------- audit
@router.get("/audit", tags=["audit"])
async def audit_log(
    central: CentralDep,
    actor: AuditReader,
    after_id: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    async with registry(central, actor, publish=False) as reg:
        return [
            AuditOut(
                id=e.id, at=e.at, actor=e.actor, action=e.action, target=e.target, detail=e.detail
            )
            for e in await reg.audit_entries(after_id, limit)
        ]


# ------------------------------------------------------------------ public
@public_router.get(
    "/globalconf",
    tags=["public"],
    response_class=Response,
    responses={
        200: {
            "description": "The signed configuration (compact JWS).",
            "content": {"application/jose": {"schema": {"type": "string"}}},
        },
        304: {"description": "Not modified (If-None-Match matched)."},
    },
)
async def globalconf(
    central: CentralDep, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """The current global configuration as a JWS (docs/globalconf.md)."""
    row = await central.publisher.current()
    etag = f'"{row.content_sha256[:16]}-{row.version}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Jisr-Conf-Version": str(row.version)}
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(row.token, media_type="application/jose", headers=headers)


@public_router.get("/anchor", tags=["public"])
async def anchor(central: CentralDep) -> JSONResponse:
    """This instance's anchor, for convenience; trust comes from the copy received out of band."""
    value = await central.publisher.anchor()
    return JSONResponse(value.model_dump(mode="json"))


@public_router.post(
    "/tsa",
    tags=["public"],
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/timestamp-query": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    responses={
        200: {
            "description": "RFC 3161 TimeStampResp (granted or rejection).",
            "content": {REPLY_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        413: problem_doc("Query over 16 KiB (`body_too_large`)."),
        415: problem_doc("Not application/timestamp-query (`unsupported_media_type`)."),
    },
)
async def tsa(request: Request, central: CentralDep) -> Response:
    """RFC 3161 time-stamp authority (HTTP transport, RFC 3161 §3.4)."""
    return await stamp(central.tsa, request)
