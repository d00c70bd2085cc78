"""The population register as a GovStack Digital Registries data API.

Operations of the Data API template 1.3.0 (``/data/{registryName}/{versionNumber}/…``)
mapped onto :class:`PopulationRegister` (docs/identity.md, Data API)::

    GET  …            list    search(query.<field>, filter/search, page, pageSize)
    POST …/read       read    search(query.content) → exactly one record
    POST …/exists     exists  search(query.content) → answer.status
    POST …/create     create  enrol(write.content: a birth registration)
    PUT  …/update     update  record(the one record query.content finds, write.content: an event)

**Requesting party.** The API sits behind the provider gateway, which authenticated the
client (mTLS, signed messages) and forwards ``X-Road-Client``; that header names the
requester recorded in ``register_reads`` for every read, exists and list, and as the
registrar of every write. Without it a request needs a local token (:data:`LocalAuth`).
Errors are RFC 9457 problem documents (:mod:`jisr.problems`).

Not provided (template operations): ``updateEntries``, ``updateOrCreate``, ``delete``
(events are immutable, the register never bulk-edits nor deletes), ``readValue`` and
``myPersonalDataUsage``. Deviations are commented where they are made.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from jisr import __version__
from jisr.apitokens import TokenStore
from jisr.identity.register._api_schemas import (
    CreateRequest,
    ExistsAnswer,
    ExistsResponse,
    ListResponse,
    PersonRecord,
    QueryIn,
    ReadRequest,
    RecordResponse,
    UpdateRequest,
)
from jisr.identity.register.errors import (
    DuplicatePerson,
    InvalidEvent,
    InvalidInput,
    RegisterError,
    UnknownPerson,
)
from jisr.identity.register.person import Person
from jisr.identity.register.register import NameQuery, PersonQuery, PopulationRegister
from jisr.ids import IdentifierError, parse_client
from jisr.problems import FieldError, Problem, install_problem_handlers, problem_doc
from jisr.storage import Database

__all__ = ["LocalAuth", "RegisterScope", "create_register_api", "token_auth"]

log = structlog.get_logger("jisr.identity.register.api")


class RegisterScope(StrEnum):
    """Scopes of local tokens; ``admin`` implies both."""

    ADMIN = "admin"
    READ = "register:read"
    WRITE = "register:write"


LocalAuth = Callable[[str | None, RegisterScope], Awaitable[str]]
"""Check a request's ``Authorization`` header for ``scope``; return the actor's name or
raise :class:`jisr.problems.Problem` (401/403)."""


def token_auth(tokens: TokenStore, database: Database) -> LocalAuth:
    """:data:`LocalAuth` over a component's scoped API tokens (:mod:`jisr.apitokens`)."""

    async def check(header: str | None, scope: RegisterScope) -> str:
        session: AsyncSession
        async with database.transaction() as session:
            return await tokens.authenticate(session, header, scope.value)

    return check


@dataclass(frozen=True)
class Party:
    """Who asks (an X-Road client id, or ``token:<name>``) and the purpose recorded."""

    requester: str
    issue: str | None
    user: str | None

    def purpose(self, operation: str) -> str:
        """``govstack <operation>``, then the X-Road issue and user id the client stated."""
        parts = [f"govstack {operation}"]
        parts += [f"{k}={v}" for k, v in (("issue", self.issue), ("user", self.user)) if v]
        return "; ".join(parts)


@dataclass(frozen=True)
class _Settings:
    register: PopulationRegister
    registry_name: str
    version: str
    local_auth: LocalAuth | None
    legal_basis: str | None


_PAGE_SIZE_LIMIT = 100
_PAGE_LIMIT = 1_000_000
_NAME_FIELDS = (
    "given_name.arab",
    "given_name.latn",
    "given_name.tfng",
    "family_name.arab",
    "family_name.latn",
    "family_name.tfng",
)
_FIELDS = ("nin", *_NAME_FIELDS, "date_of_birth", "place_of_birth", "sex", "nationality", "status")
_FILTER = "^(" + "|".join(re.escape(field) for field in _FIELDS) + ")$"


def _text(alias: str | None = None, max_length: int = 500) -> Any:
    """A text query parameter: not empty, bounded, no NUL (neither database stores one)."""
    return Query(alias=alias, min_length=1, max_length=max_length, pattern=r"^[^\x00]*$")


RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_doc("Malformed JSON (`malformed_body`)."),
    401: problem_doc("Neither X-Road-Client nor a valid local token (`unauthenticated`)."),
    403: problem_doc(
        "The token lacks the scope (`insufficient_scope`), or Information-Mediator-Client "
        "differs from X-Road-Client (`requester_mismatch`)."
    ),
    404: problem_doc(
        "Unknown registry or version (`unknown_registry`), or no record matches "
        "(`unknown_person`, detail `no record found`)."
    ),
    422: problem_doc(
        "Invalid input; `errors` names each field and rule (`invalid_input`), or the query "
        "matches several records (`ambiguous_query`)."
    ),
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: problem_doc(
        "Enrolment matches registered persons (`duplicate_person`), or the event is not "
        "allowed for this person, e.g. after death (`invalid_event`)."
    ),
}


def _settings(request: Request) -> _Settings:
    settings: _Settings = request.app.state.register_api
    return settings


async def _registry(
    request: Request,
    registry_name: Annotated[str, Path(alias="registryName")],
    version: Annotated[str, Path(alias="versionNumber")],
) -> _Settings:
    """The registry the path names: this API serves exactly one name and version. (Async,
    as FastAPI would run a plain ``def`` dependency in a worker thread.)"""
    settings = _settings(request)
    if (registry_name, version) != (settings.registry_name, settings.version):
        raise Problem(404, "unknown_registry", f"no registry {registry_name!r} {version!r}")
    return settings


Registry = Annotated[_Settings, Depends(_registry)]


def _party(scope: RegisterScope) -> Callable[..., Awaitable[Party]]:
    async def identify(
        request: Request,
        x_road_client: Annotated[str | None, Header(max_length=1100)] = None,
        information_mediator_client: Annotated[str | None, Header(max_length=1100)] = None,
        x_road_issue: Annotated[str | None, Header(max_length=500)] = None,
        x_road_userid: Annotated[str | None, Header(max_length=500)] = None,
        authorization: Annotated[str | None, Header(max_length=500)] = None,
    ) -> Party:
        # Trust model (docs/identity.md, Data API): only the provider gateway reaches this
        # API with X-Road-Client, which it sets from the client it authenticated.
        if x_road_client is not None:
            actor = _client(x_road_client, information_mediator_client)
        else:
            local_auth = _settings(request).local_auth
            if local_auth is None:
                raise Problem(
                    401,
                    "unauthenticated",
                    "this API is reached through the provider gateway (X-Road-Client)",
                )
            actor = await local_auth(authorization, scope)
        return Party(actor, x_road_issue, x_road_userid)

    return identify


def _client(x_road_client: str, information_mediator_client: str | None) -> str:
    """The gateway-authenticated client id.

    Deviation (spec components.parameters.Information-Mediator-Client, required): optional
    here; the provider gateway passes it through unverified, so it may only repeat it.
    """
    try:
        client = str(parse_client(x_road_client))
    except IdentifierError as error:
        raise Problem.invalid("header.x-road-client", "format", str(error)) from error
    if information_mediator_client not in (None, x_road_client, client):
        raise Problem(
            403,
            "requester_mismatch",
            "Information-Mediator-Client differs from the authenticated X-Road-Client",
        )
    return client


Reader = Annotated[Party, Depends(_party(RegisterScope.READ))]
Writer = Annotated[Party, Depends(_party(RegisterScope.WRITE))]


@asynccontextmanager
async def _refusals(prefix: str, *, not_found: str) -> AsyncIterator[None]:
    """Register errors as problem documents; field paths as the request names them."""
    try:
        yield
    except InvalidInput as error:
        errors = [
            FieldError(field=_field(prefix, p.field), rule=p.rule, message=p.message)
            for p in error.problems
        ]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise Problem(422, "invalid_input", detail, errors=errors) from error
    except DuplicatePerson as error:
        raise Problem(409, error.code, str(error)) from error
    except InvalidEvent as error:
        raise Problem(409, error.code, str(error)) from error
    except UnknownPerson as error:
        raise Problem(404, error.code, not_found) from error
    except RegisterError as error:
        log.error("register_api.refused", error=repr(error))
        raise Problem(500, error.code, "the register refused the operation; see the log") from error


def _field(prefix: str, field: str) -> str:
    # Event payload problems are named payload.<field>; in this API the payload is the
    # write.content object itself.
    if field == "payload" or field.startswith("payload."):
        field = field[len("payload") :].lstrip(".")
    return ".".join(part for part in (prefix, field) if part)


def _non_empty(query: QueryIn) -> PersonQuery:
    if query.content.is_empty():
        raise Problem.invalid("body.query.content", "required", "the query names no field")
    return query.content


async def _the_one(settings: _Settings, query: QueryIn, party: Party, operation: str) -> Person:
    """The single record the query finds (404 if none, 422 if several)."""
    count, persons = await settings.register.search(
        _non_empty(query), requester=party.requester, purpose=party.purpose(operation), limit=2
    )
    if count == 0:
        raise Problem(404, "unknown_person", "no record found")
    if count > 1:
        raise Problem(
            422,
            "ambiguous_query",
            f"the query matches {count} records; add fields to name one",
            errors=[FieldError(field="body.query.content", rule="ambiguous", message="")],
        )
    return persons[0]


def _legal_basis(settings: _Settings, given: str | None) -> str:
    legal_basis = given or settings.legal_basis
    if legal_basis is None:
        raise Problem.invalid(
            "body.write.legal_basis", "required", "no legal basis given and none configured"
        )
    return legal_basis


router = APIRouter(prefix="/data/{registryName}/{versionNumber}", responses=RESPONSES)


# GovStack Data API 1.3.0, `list`: search, filter, ordering, page, pageSize, query.<field>.
@router.get("", operation_id="list", summary="list")
async def list_records(
    request: Request,
    settings: Registry,
    party: Reader,
    search: Annotated[str | None, _text()] = None,
    filter: Annotated[str | None, Query(pattern=_FILTER)] = None,
    ordering: Literal["ascending", "descending"] = "ascending",
    page: Annotated[int, Query(ge=1, le=_PAGE_LIMIT)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=_PAGE_SIZE_LIMIT)] = 10,
    nin: Annotated[str | None, _text("query.nin", 32)] = None,
    given_arab: Annotated[str | None, _text("query.given_name.arab")] = None,
    given_latn: Annotated[str | None, _text("query.given_name.latn")] = None,
    given_tfng: Annotated[str | None, _text("query.given_name.tfng")] = None,
    family_arab: Annotated[str | None, _text("query.family_name.arab")] = None,
    family_latn: Annotated[str | None, _text("query.family_name.latn")] = None,
    family_tfng: Annotated[str | None, _text("query.family_name.tfng")] = None,
    date_of_birth: Annotated[date | None, Query(alias="query.date_of_birth")] = None,
    place_of_birth: Annotated[str | None, _text("query.place_of_birth")] = None,
    sex: Annotated[Literal["F", "M"] | None, Query(alias="query.sex")] = None,
    nationality: Annotated[
        str | None, Query(alias="query.nationality", pattern=r"^[A-Z]{2}$")
    ] = None,
    status: Annotated[Literal["living", "deceased"] | None, Query(alias="query.status")] = None,
) -> ListResponse:
    """Records matching every ``query.<field>`` given, a page at a time, ordered by number.

    Deviation (spec `list`, `search` "Regex supported"): ``search`` is the exact value of
    the field ``filter`` names, compared like ``query.<filter>``; no regular expressions
    or substrings, which would let a caller enumerate the population and are not portable.
    """
    _refuse_unknown_query_fields(request)
    fields: dict[str, Any] = {
        "nin": nin,
        "given_name.arab": given_arab,
        "given_name.latn": given_latn,
        "given_name.tfng": given_tfng,
        "family_name.arab": family_arab,
        "family_name.latn": family_latn,
        "family_name.tfng": family_tfng,
        "date_of_birth": date_of_birth,
        "place_of_birth": place_of_birth,
        "sex": sex,
        "nationality": nationality,
        "status": status,
    }
    if search is not None or filter is not None:
        if search is None or filter is None:
            raise Problem.invalid("query.search", "required", "search and filter go together")
        fields[filter] = search
    count, persons = await settings.register.search(
        _query_of(fields),
        requester=party.requester,
        purpose=party.purpose("list"),
        offset=(page - 1) * page_size,
        limit=page_size,
        descending=ordering == "descending",
    )
    url = request.url
    last = (count + page_size - 1) // page_size
    return ListResponse(
        count=count,
        next=str(url.include_query_params(page=page + 1)) if page < last else None,
        previous=str(url.include_query_params(page=min(page - 1, last))) if page > 1 else None,
        results=[PersonRecord.of(p) for p in persons],
    )


def _refuse_unknown_query_fields(request: Request) -> None:
    # A misspelt filter would otherwise be ignored and list the whole register.
    for key in request.query_params:
        if key.startswith("query.") and key[len("query.") :] not in _FIELDS:
            raise Problem.invalid(key, "unknown_field", f"{key[6:]!r} is no searchable field")


def _query_of(fields: dict[str, Any]) -> PersonQuery:
    """A :class:`PersonQuery` from dotted field names (``given_name.latn``)."""
    names: dict[str, dict[str, Any]] = {"given_name": {}, "family_name": {}}
    flat: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        head, _, script = key.partition(".")
        if script:
            names[head][script] = value
        else:
            flat[key] = value
    for head, scripts in names.items():
        if scripts:
            flat[head] = NameQuery(**scripts)
    try:
        return PersonQuery(**flat)
    except ValidationError as error:
        errors = [
            FieldError(
                field="query." + ".".join(str(part) for part in item["loc"]),
                rule=item["type"],
                message=item["msg"],
            )
            for item in error.errors()
        ]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise Problem(422, "invalid_input", detail, errors=errors) from error


@router.post("/read", operation_id="read", summary="read")
async def read(body: ReadRequest, settings: Registry, party: Reader) -> RecordResponse:
    """The one record ``query.content`` finds; 404 ``no record found`` when none does."""
    person = await _the_one(settings, body.query, party, "read")
    return RecordResponse(content=PersonRecord.of(person))


@router.post("/exists", operation_id="exists", summary="exists")
async def exists(body: ReadRequest, settings: Registry, party: Reader) -> ExistsResponse:
    """Whether any record matches ``query.content``."""
    count, _ = await settings.register.search(
        _non_empty(body.query),
        requester=party.requester,
        purpose=party.purpose("exists"),
        limit=1,
    )
    message = "Object found from database" if count else "Object not found from database"
    return ExistsResponse(answer=ExistsAnswer(status=count > 0, message=message))


# Spec `create` answers 200 (not 201) with the created record as `content`.
@router.post("/create", operation_id="create", summary="create", responses=WRITE_RESPONSES)
async def create(body: CreateRequest, settings: Registry, party: Writer) -> RecordResponse:
    """Enrol a birth registration (``write.content``); the national number is allocated."""
    legal_basis = _legal_basis(settings, body.write.legal_basis)
    async with _refusals("body.write.content", not_found="no record found"):
        person = await settings.register.enrol(
            body.write.content, recorded_by=party.requester, legal_basis=legal_basis
        )
    return RecordResponse(content=PersonRecord.of(person))


# Deviations (spec `update`): `query` is required (the spec lists only `write`), since the
# update names one record; the 200 answer carries the updated record as `content`.
@router.put("/update", operation_id="update", summary="update", responses=WRITE_RESPONSES)
async def update(body: UpdateRequest, settings: Registry, party: Writer) -> RecordResponse:
    """Record the life event ``write.content`` for the one record ``query.content`` finds."""
    legal_basis = _legal_basis(settings, body.write.legal_basis)
    person = await _the_one(settings, body.query, party, "update")
    event = body.write.content
    async with _refusals("body.write.content", not_found="no record found"):
        updated = await settings.register.record(
            person.nin,
            event.event,
            event.model_dump(exclude={"event"}),
            recorded_by=party.requester,
            legal_basis=legal_basis,
        )
    return RecordResponse(content=PersonRecord.of(updated))


def create_register_api(
    register: PopulationRegister,
    *,
    registry_name: str = "population",
    version: str = "1.0",
    local_auth: LocalAuth | None = None,
    legal_basis: str | None = None,
) -> FastAPI:
    """The GovStack data API of ``register`` as ``/data/<registry_name>/<version>/…``.

    ``local_auth`` admits requests without ``X-Road-Client`` (see :func:`token_auth`);
    ``legal_basis`` is recorded with writes that name none.
    """
    app = FastAPI(
        title=f"Jisr population register: {registry_name} {version}",
        version=__version__,
        description="GovStack Digital Registries Data API (template 1.3.0); "
        "see docs/identity.md, Data API.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.register_api = _Settings(register, registry_name, version, local_auth, legal_basis)
    app.include_router(router)
    install_problem_handlers(app, log)
    _document_registry(app, registry_name, version)
    return app


def _document_registry(app: FastAPI, registry_name: str, version: str) -> None:
    """Name the one registry and version served as the path parameters' only values."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for path in document["paths"].values():
                for operation in path.values():
                    for parameter in operation.get("parameters", []):
                        value = {"registryName": registry_name, "versionNumber": version}
                        if parameter["in"] == "path" and parameter["name"] in value:
                            parameter["schema"]["enum"] = [value[parameter["name"]]]
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
