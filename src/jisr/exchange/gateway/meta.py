"""Wiring the metaservices (:mod:`.metaservices`) to the gateway's state.

``listClients`` is answered by the consumer face from the global configurations it holds
(own and federated instances). ``listMethods``, ``allowedMethods`` and ``getOpenAPI`` are
ordinary services of a provider (PR-MREST §3): they travel signed through the exchange and
the provider face answers them from its catalogue and access rights.
"""

from __future__ import annotations

from starlette.types import Scope

from jisr.exchange.gateway import errors
from jisr.exchange.gateway.access import is_allowed
from jisr.exchange.gateway.metaservices import (
    METASERVICES,
    ClientInfo,
    Response,
    ServiceInfo,
    allowed_methods,
    get_openapi,
    list_clients,
    list_clients_instance,
    list_methods,
    openapi_service_code,
)
from jisr.exchange.gateway.registry import ServiceEntry
from jisr.exchange.gateway.runtime import Gateway
from jisr.ids import ServiceId, SubsystemId, parse_client

__all__ = ["METASERVICES", "list_clients_response", "provider_metaservice"]


def list_clients_response(gateway: Gateway, scope: Scope, accept: str | None) -> Response:
    gateway.check_serving("consumer")
    entries: list[ClientInfo] = []
    for instance in gateway.conf.instances():
        document = gateway.conf.current(instance)
        if document is None:
            continue
        names = {str(m.id): _name(m.name) for m in document.members}
        entries.extend(ClientInfo(parse_client(mid, encoded=False), n) for mid, n in names.items())
        for subsystem in document.subsystems:
            client = parse_client(str(subsystem.id), encoded=False)
            assert isinstance(client, SubsystemId)
            entries.append(ClientInfo(client, names.get(str(client.member), "")))
    wanted = list_clients_instance(scope["query_string"])
    return list_clients(entries, accept, instance=wanted)


def _name(names: object) -> str:
    if isinstance(names, dict):
        return str(names.get("en") or names.get("fr") or names.get("ar") or "")
    return ""


async def provider_metaservice(
    gateway: Gateway, service: ServiceId, client: str, query_string: bytes
) -> Response:
    """Answer listMethods / allowedMethods / getOpenAPI for a local provider."""
    provider = str(service.provider)
    entries = gateway.catalogue.services_of(provider)
    if service.service_code == "listMethods":
        return list_methods(_info(service, entry, None, gateway) for entry in entries)
    if service.service_code == "allowedMethods":
        return allowed_methods(
            info for entry in entries if (info := _info(service, entry, client, gateway)).endpoints
        )
    code = openapi_service_code(query_string)
    entry = gateway.catalogue.services.get((provider, code))
    if entry is None or entry.openapi_url is None:
        raise errors.ServerProxyUnknownService(f"no OpenAPI description for service {code}")
    try:
        fetched = await gateway.backend_http.get(entry.openapi_url, timeout=entry.timeout)
    except Exception as error:
        raise errors.ServerProxyServiceFailed(
            f"fetching the OpenAPI description: {error}"
        ) from None
    if fetched.status_code != 200:
        raise errors.ServerProxyServiceFailed(
            f"the OpenAPI description answered HTTP {fetched.status_code}"
        )
    media_type = fetched.headers.get("content-type", "").split(";")[0].strip() or None
    return get_openapi(fetched.content, media_type)


def _info(
    service: ServiceId, entry: ServiceEntry, client: str | None, gateway: Gateway
) -> ServiceInfo:
    """The service with its endpoints: all rights' endpoints, or only the client's."""
    provider = service.provider
    endpoints: set[tuple[str, str]] = set()
    groups = gateway.catalogue.local_groups.get(entry.provider, {})
    for right in entry.rights:
        if client is not None and not is_allowed(
            [right],
            client=client,
            method=right.method,
            path=right.path if right.path != "**" else "",
            in_global_group=gateway.conf.in_group,
            local_groups=groups,
        ):
            continue
        endpoints.add((right.method, "/**" if right.path == "**" else right.path))
    service_type = "OPENAPI" if entry.openapi_url else "REST"
    return ServiceInfo(provider.service(entry.code), service_type, sorted(endpoints))
