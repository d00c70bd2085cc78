"""The gateway's admin API: local services, access rights, local groups, IS connections,
status. Token-scoped (:mod:`jisr.apitokens`), RFC 9457 errors, OpenAPI 3.1 at /openapi.json.

Every change runs in one transaction through :class:`GatewayRegistry` (validated, audited)
and reloads the catalogue the per-request path reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from jisr import __version__
from jisr.apitokens import TokenStore
from jisr.exchange.gateway.models import AccessRight, ApiToken, LocalService
from jisr.exchange.gateway.registry import GatewayRegistry
from jisr.exchange.gateway.runtime import Gateway
from jisr.problems import install_problem_handlers, problem_doc

__all__ = ["TOKENS", "GatewayScope", "create_admin_app"]


class GatewayScope(StrEnum):
    ADMIN = "admin"
    READ = "gateway:read"
    SERVICES_WRITE = "services:write"
    ACCESS_WRITE = "access:write"
    CLIENTS_WRITE = "clients:write"


TOKENS = TokenStore(ApiToken, realm="jisr-gateway")
log = structlog.get_logger("jisr.gateway.admin")


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_doc("Malformed JSON (`malformed_body`)."),
    401: problem_doc("Missing, unknown, expired or revoked token (`unauthenticated`)."),
    403: problem_doc("The token lacks the scope (`insufficient_scope`)."),
    404: problem_doc("No such resource (`not_found`)."),
    409: problem_doc("Duplicate (`already_exists`)."),
    422: problem_doc("Invalid input; `errors` names each field and rule (`invalid_input`)."),
}
router = APIRouter(prefix="/api/v1", responses=RESPONSES)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceIn(_In):
    provider: str = Field(max_length=1100, examples=["MA/GOV/CIVIL-REGISTRY/REGISTRY"])
    code: str = Field(max_length=255, examples=["birth-record"])
    backend_url: str = Field(max_length=2000, examples=["http://127.0.0.1:9000"])
    timeout: float = 30.0
    enabled: bool = True
    openapi_url: str | None = Field(None, max_length=2000)


class ServicePatch(_In):
    backend_url: str | None = Field(None, max_length=2000)
    timeout: float | None = None
    enabled: bool | None = None


class RightOut(BaseModel):
    subject_kind: str
    subject: str
    method: str
    path: str


class ServiceOut(BaseModel):
    provider: str
    code: str
    backend_url: str
    timeout: float
    enabled: bool
    openapi_url: str | None
    rights: list[RightOut]


class RightIn(_In):
    provider: str = Field(max_length=1100)
    code: str = Field(max_length=255)
    subject_kind: Literal["client", "global_group", "local_group"] = "client"
    subject: str = Field(max_length=1100, examples=["QA/GOV/MOEHE/ADMISSIONS"])
    method: str = Field("*", max_length=16)
    path: str = Field("**", max_length=2000)


class GroupIn(_In):
    owner: str = Field(max_length=1100)
    code: str = Field(max_length=255)
    description: str = Field("", max_length=1000)


class GroupMemberIn(_In):
    owner: str = Field(max_length=1100)
    code: str = Field(max_length=255)
    client: str = Field(max_length=1100)


class ConnectionIn(_In):
    client: str = Field(max_length=1100)
    mode: Literal["none", "tls", "mtls"]
    certificate_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    certificate_pem: str | None = Field(
        None, max_length=16384, description="The IS client certificate (PEM), for mode mtls."
    )
    log_bodies: bool = True


class StatusOut(BaseModel):
    gateway: str
    configuration_current: bool
    instances: list[str]
    message_log_healthy: bool
    message_log_size: int
    maintenance: bool


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def _gateway(request: Request) -> Gateway:
    """The dependency form of :func:`gateway_of`. Async on purpose: FastAPI runs a plain ``def``
    dependency in a worker thread, a thread hand-off on every request."""
    return gateway_of(request)


GatewayDep = Annotated[Gateway, Depends(_gateway)]


def requires(scope: GatewayScope) -> Callable[..., Awaitable[str]]:
    """Dependency: authenticate the Bearer token for ``scope``; gives the actor's name."""
    return TOKENS.requirement(scope, lambda request: gateway_of(request).database)


Reader = Annotated[str, Depends(requires(GatewayScope.READ))]
ServiceWriter = Annotated[str, Depends(requires(GatewayScope.SERVICES_WRITE))]
AccessWriter = Annotated[str, Depends(requires(GatewayScope.ACCESS_WRITE))]
ClientWriter = Annotated[str, Depends(requires(GatewayScope.CLIENTS_WRITE))]


@asynccontextmanager
async def registry(gateway: Gateway, actor: str, *, reload: bool) -> AsyncIterator[GatewayRegistry]:
    async with gateway.database.transaction() as session:
        yield GatewayRegistry(session, actor, instance=gateway.instance)
    if reload:
        await gateway.reload_catalogue()


async def _service_out(reg: GatewayRegistry, row: LocalService) -> ServiceOut:
    rights: list[AccessRight] = await reg.rights_of(row)
    return ServiceOut(
        provider=row.provider,
        code=row.code,
        backend_url=row.backend_url,
        timeout=row.timeout,
        enabled=row.enabled,
        openapi_url=row.openapi_url,
        rights=[
            RightOut(subject_kind=r.subject_kind, subject=r.subject, method=r.method, path=r.path)
            for r in rights
        ],
    )


@router.get("/services", tags=["services"])
async def list_services(gateway: GatewayDep, actor: Reader) -> list[ServiceOut]:
    async with registry(gateway, actor, reload=False) as reg:
        return [await _service_out(reg, s) for s in await reg.list_services()]


@router.post("/services", status_code=201, tags=["services"])
async def add_service(body: ServiceIn, gateway: GatewayDep, actor: ServiceWriter) -> ServiceOut:
    async with registry(gateway, actor, reload=True) as reg:
        row = await reg.add_service(
            body.provider,
            body.code,
            body.backend_url,
            service_timeout=body.timeout,
            enabled=body.enabled,
            openapi_url=body.openapi_url,
        )
        return await _service_out(reg, row)


@router.patch("/services/{provider:path}/{code}", tags=["services"])
async def update_service(
    provider: str, code: str, body: ServicePatch, gateway: GatewayDep, actor: ServiceWriter
) -> ServiceOut:
    async with registry(gateway, actor, reload=True) as reg:
        row = await reg.update_service(
            provider,
            code,
            backend_url=body.backend_url,
            service_timeout=body.timeout,
            enabled=body.enabled,
        )
        return await _service_out(reg, row)


@router.delete("/services/{provider:path}/{code}", status_code=204, tags=["services"])
async def delete_service(
    provider: str, code: str, gateway: GatewayDep, actor: ServiceWriter
) -> Response:
    async with registry(gateway, actor, reload=True) as reg:
        await reg.delete_service(provider, code)
    return Response(status_code=204)


@router.post("/access", status_code=201, tags=["access"])
async def grant(body: RightIn, gateway: GatewayDep, actor: AccessWriter) -> RightOut:
    async with registry(gateway, actor, reload=True) as reg:
        row = await reg.grant(
            body.provider,
            body.code,
            body.subject_kind,
            body.subject,
            method=body.method,
            path=body.path,
        )
        return RightOut(
            subject_kind=row.subject_kind, subject=row.subject, method=row.method, path=row.path
        )


@router.post("/access/revoke", status_code=204, tags=["access"])
async def revoke(body: RightIn, gateway: GatewayDep, actor: AccessWriter) -> Response:
    async with registry(gateway, actor, reload=True) as reg:
        await reg.revoke(
            body.provider,
            body.code,
            body.subject_kind,
            body.subject,
            method=body.method,
            path=body.path,
        )
    return Response(status_code=204)


@router.post("/local-groups", status_code=201, tags=["access"])
async def add_group(body: GroupIn, gateway: GatewayDep, actor: AccessWriter) -> Response:
    async with registry(gateway, actor, reload=True) as reg:
        await reg.add_local_group(body.owner, body.code, body.description)
    return Response(status_code=201)


@router.post("/local-groups/members", status_code=201, tags=["access"])
async def add_group_member(
    body: GroupMemberIn, gateway: GatewayDep, actor: AccessWriter
) -> Response:
    async with registry(gateway, actor, reload=True) as reg:
        await reg.add_local_group_member(body.owner, body.code, body.client)
    return Response(status_code=201)


@router.put("/clients", tags=["clients"])
async def set_connection(
    body: ConnectionIn, gateway: GatewayDep, actor: ClientWriter
) -> ConnectionIn:
    async with registry(gateway, actor, reload=True) as reg:
        row = await reg.set_connection(
            body.client,
            body.mode,
            certificate_sha256=body.certificate_sha256,
            certificate=body.certificate_pem.encode() if body.certificate_pem else None,
            log_bodies=body.log_bodies,
        )
        return ConnectionIn(
            client=row.client,
            mode=row.mode,
            certificate_sha256=row.certificate_sha256,
            log_bodies=row.log_bodies,
        )


@router.get("/status", tags=["status"])
async def status(gateway: GatewayDep, actor: Reader) -> StatusOut:
    size = await gateway.log.size() if gateway.log is not None else 0
    return StatusOut(
        gateway=str(gateway.id),
        configuration_current=gateway.conf.is_current(),
        instances=sorted(gateway.conf.instances()),
        message_log_healthy=gateway.log is not None and gateway.log.healthy(),
        message_log_size=size,
        maintenance=gateway.settings.maintenance,
    )


def create_admin_app(gateway: Gateway) -> FastAPI:
    app = FastAPI(
        title=f"Jisr gateway {gateway.id}", version=__version__, docs_url="/docs", redoc_url=None
    )
    app.state.gateway = gateway
    app.include_router(router)
    install_problem_handlers(app, log)
    return app
