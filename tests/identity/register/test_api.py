"""The register's GovStack data API over HTTP: each operation, the requesting party in the
read audit, local tokens, problem documents; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase

from jisr.apitokens import ApiTokenColumns, TokenStore
from jisr.crypto.keys import PrivateKey
from jisr.identity.register import MoroccoNin, PopulationRegister, migrate
from jisr.identity.register.api import RegisterScope, create_register_api, token_auth
from jisr.identity.register.models import ReadRow
from jisr.problems import PROBLEM_MEDIA_TYPE
from jisr.storage import Database
from tests.identity.register.conftest import NOW, birth
from tests.servers import serve_in_thread

CLIENT = "MA/GOV/CNSS/BENEFITS"
GATEWAY = {"X-Road-Client": CLIENT, "X-Road-Issue": "case-42", "X-Road-UserId": "MA12345"}
BASE = "/data/population/1.0"
LEGAL = "Loi 36-21, art. 15"


class _TokenBase(DeclarativeBase):
    pass


class ApiToken(ApiTokenColumns, _TokenBase):
    """A test-only token table: the register has no token table of its own yet."""

    __tablename__ = "test_register_api_tokens"


TOKENS = TokenStore(ApiToken, realm="jisr-register")


def create_body(**changes: Any) -> dict[str, Any]:
    content = birth(**changes)
    content["date_of_birth"] = content["date_of_birth"].isoformat()
    return {"write": {"content": content, "legal_basis": LEGAL}}


def query(**content: Any) -> dict[str, Any]:
    return {"query": {"content": content}}


@pytest.fixture
def app(register: PopulationRegister) -> FastAPI:
    return create_register_api(register)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://register") as http:
        yield http


async def enrol(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post(f"{BASE}/create", json=create_body(**changes), headers=GATEWAY)
    assert response.status_code == 200, response.text
    content: dict[str, Any] = response.json()["content"]
    return content


async def reads(database: Database) -> list[tuple[str, str, str]]:
    async with database.sessions() as session:
        rows = (await session.execute(select(ReadRow).order_by(ReadRow.id))).scalars()
        return [(row.nin, row.requester, row.purpose) for row in rows]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["type"] == f"urn:jisr:problem:{code}"
    return body


class TestCreate:
    async def test_enrols_and_answers_the_record(self, client: httpx.AsyncClient) -> None:
        """create enrols the birth and answers the record: NIN, names per script, ISO dates."""
        content = await enrol(client)
        assert MoroccoNin("BK").validate(content["nin"])
        assert content["given_name"] == {"arab": "أحمد", "latn": "Ahmed", "tfng": "ⴰⵃⵎⴷ"}
        assert content["family_name"]["latn"] == "El Amrani"
        assert content["date_of_birth"] == "1990-05-17"
        assert content["date_of_birth_hijri"] == "1410-10-22"
        assert content["status"] == "living"

    async def test_registrar_is_the_client(
        self, client: httpx.AsyncClient, register: PopulationRegister
    ) -> None:
        """The birth event names the X-Road client as registrar and the given legal basis."""
        content = await enrol(client)
        (event,) = await register.history(content["nin"])
        assert (event.recorded_by, event.legal_basis) == (CLIENT, LEGAL)

    async def test_duplicate_is_409(self, client: httpx.AsyncClient) -> None:
        """Enrolling the same person twice is refused with duplicate_person."""
        first = await enrol(client)
        response = await client.post(f"{BASE}/create", json=create_body(), headers=GATEWAY)
        body = assert_problem(response, 409, "duplicate_person")
        assert first["nin"] in body["detail"]

    async def test_script_problem_names_the_field(self, client: httpx.AsyncClient) -> None:
        """A Latin name in the Arabic slot is 422 naming body.write.content.given_name.arab."""
        given = {"arab": "Ahmed", "latn": "Ahmed"}
        response = await client.post(
            f"{BASE}/create", json=create_body(given_name=given), headers=GATEWAY
        )
        body = assert_problem(response, 422, "invalid_input")
        problem = body["errors"][0]
        assert (problem["field"], problem["rule"]) == (
            "body.write.content.given_name.arab",
            "script",
        )

    async def test_unknown_parent_names_the_field(self, client: httpx.AsyncClient) -> None:
        """A parent that is not registered is 422 on body.write.content.parents[0]."""
        body_in = create_body(parents=["BK0000000"])
        response = await client.post(f"{BASE}/create", json=body_in, headers=GATEWAY)
        body = assert_problem(response, 422, "invalid_input")
        problem = body["errors"][0]
        assert problem["field"].startswith("body.write.content.parents[0]")

    async def test_missing_member_is_422(self, client: httpx.AsyncClient) -> None:
        """Schema violations are 422 naming the member, before the register is asked."""
        body_in = create_body()
        del body_in["write"]["content"]["sex"]
        response = await client.post(f"{BASE}/create", json=body_in, headers=GATEWAY)
        body = assert_problem(response, 422, "invalid_input")
        assert body["errors"][0]["field"] == "body.write.content.sex"

    async def test_nul_character_is_422(self, client: httpx.AsyncClient) -> None:
        """Text with a NUL character is refused (PostgreSQL cannot store it)."""
        body_in = create_body(place_of_birth="Rabat\x00")
        response = await client.post(f"{BASE}/create", json=body_in, headers=GATEWAY)
        assert_problem(response, 422, "invalid_input")

    async def test_legal_basis_required_without_default(self, client: httpx.AsyncClient) -> None:
        """A write without legal basis, when the API has no default, is 422."""
        body_in = create_body()
        del body_in["write"]["legal_basis"]
        response = await client.post(f"{BASE}/create", json=body_in, headers=GATEWAY)
        body = assert_problem(response, 422, "invalid_input")
        assert body["errors"][0]["field"] == "body.write.legal_basis"

    async def test_configured_legal_basis_applies(self, register: PopulationRegister) -> None:
        """With legal_basis configured, a write that names none records it."""
        app = create_register_api(register, legal_basis="Dahir 1-02-239")
        body_in = create_body()
        del body_in["write"]["legal_basis"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as http:
            response = await http.post(f"{BASE}/create", json=body_in, headers=GATEWAY)
        (event,) = await register.history(response.json()["content"]["nin"])
        assert event.legal_basis == "Dahir 1-02-239"


class TestRead:
    async def test_by_nin_and_audited(self, client: httpx.AsyncClient, database: Database) -> None:
        """read by nin answers the record and records the X-Road client, issue and user."""
        nin = (await enrol(client))["nin"]
        response = await client.post(f"{BASE}/read", json=query(nin=nin), headers=GATEWAY)
        assert response.status_code == 200
        assert response.json()["content"]["nin"] == nin
        assert await reads(database) == [
            (nin, CLIENT, "govstack read; issue=case-42; user=MA12345")
        ]

    async def test_by_fields(self, client: httpx.AsyncClient) -> None:
        """Names match after normalisation, the place case-insensitively, the date exactly."""
        nin = (await enrol(client))["nin"]
        await enrol(client, place_of_birth="Fès")
        content = {
            "family_name": {"latn": "el-amrani", "arab": "العمرانى"},
            "date_of_birth": "1990-05-17",
            "place_of_birth": " RABAT ",
        }
        response = await client.post(f"{BASE}/read", json=query(**content), headers=GATEWAY)
        assert response.status_code == 200, response.text
        assert response.json()["content"]["nin"] == nin

    async def test_unknown_is_404_no_record_found(self, client: httpx.AsyncClient) -> None:
        """No match: 404 whose detail is the spec's 'no record found'."""
        response = await client.post(f"{BASE}/read", json=query(nin="BK0000000"), headers=GATEWAY)
        assert assert_problem(response, 404, "unknown_person")["detail"] == "no record found"

    async def test_ambiguous_is_422(self, client: httpx.AsyncClient) -> None:
        """A query matching two records names neither: 422 ambiguous_query."""
        await enrol(client)
        await enrol(client, place_of_birth="Fès")
        response = await client.post(
            f"{BASE}/read", json=query(sex="M", nationality="MA"), headers=GATEWAY
        )
        assert_problem(response, 422, "ambiguous_query")

    async def test_empty_query_is_422(self, client: httpx.AsyncClient) -> None:
        """A query naming no field is refused rather than matching everyone."""
        response = await client.post(f"{BASE}/read", json=query(), headers=GATEWAY)
        body = assert_problem(response, 422, "invalid_input")
        assert body["errors"][0]["field"] == "body.query.content"

    async def test_unknown_query_field_is_422(self, client: httpx.AsyncClient) -> None:
        """An unknown query member is refused, naming it."""
        response = await client.post(f"{BASE}/read", json=query(firstName="x"), headers=GATEWAY)
        body = assert_problem(response, 422, "invalid_input")
        assert body["errors"][0]["field"] == "body.query.content.firstName"


class TestExists:
    async def test_true_and_audited(self, client: httpx.AsyncClient, database: Database) -> None:
        """exists answers the spec's answer.status and records the read of the match."""
        nin = (await enrol(client))["nin"]
        response = await client.post(f"{BASE}/exists", json=query(nin=nin), headers=GATEWAY)
        assert response.json()["answer"]["status"] is True
        assert (await reads(database))[0][:2] == (nin, CLIENT)

    async def test_false_still_audited(self, client: httpx.AsyncClient, database: Database) -> None:
        """No match answers false; the query is still recorded (empty nin)."""
        response = await client.post(f"{BASE}/exists", json=query(nin="BK0000000"), headers=GATEWAY)
        assert response.status_code == 200
        assert response.json()["answer"] == {
            "status": False,
            "message": "Object not found from database",
        }
        assert await reads(database) == [
            ("", CLIENT, "govstack exists; issue=case-42; user=MA12345")
        ]


class TestUpdate:
    async def test_address_change(
        self, client: httpx.AsyncClient, register: PopulationRegister
    ) -> None:
        """write.content with event address_change records that event for the match."""
        nin = (await enrol(client))["nin"]
        write = {
            "event": "address_change",
            "address": "12 rue Oqba, Agdal",
            "effective": "2026-01-02",
        }
        body_in = {**query(nin=nin), "write": {"content": write, "legal_basis": LEGAL}}
        response = await client.put(f"{BASE}/update", json=body_in, headers=GATEWAY)
        assert response.status_code == 200, response.text
        assert response.json()["content"]["address"] == "12 rue Oqba, Agdal"
        events = await register.history(nin)
        assert [e.kind for e in events] == ["birth_registration", "address_change"]
        assert events[1].recorded_by == CLIENT

    async def test_event_date_problem_names_the_field(self, client: httpx.AsyncClient) -> None:
        """A future effective date is 422 on body.write.content.effective."""
        nin = (await enrol(client))["nin"]
        future = (NOW + timedelta(days=2)).date().isoformat()
        write = {"event": "address_change", "address": "x", "effective": future}
        body_in = {**query(nin=nin), "write": {"content": write, "legal_basis": LEGAL}}
        response = await client.put(f"{BASE}/update", json=body_in, headers=GATEWAY)
        body = assert_problem(response, 422, "invalid_input")
        assert (body["errors"][0]["field"], body["errors"][0]["rule"]) == (
            "body.write.content.effective",
            "range",
        )

    async def test_after_death_is_409(self, client: httpx.AsyncClient) -> None:
        """Death is final: a later event is 409 invalid_event."""
        nin = (await enrol(client))["nin"]
        for content in (
            {"event": "death", "date": "2026-03-01", "place": "Rabat"},
            {"event": "address_change", "address": "x", "effective": "2026-03-02"},
        ):
            body_in = {**query(nin=nin), "write": {"content": content, "legal_basis": LEGAL}}
            response = await client.put(f"{BASE}/update", json=body_in, headers=GATEWAY)
        assert_problem(response, 409, "invalid_event")

    async def test_unknown_is_404(self, client: httpx.AsyncClient) -> None:
        """Updating a record that does not exist is 404."""
        write = {"event": "death", "date": "2026-03-01", "place": "Rabat"}
        body_in = {**query(nin="BK0000000"), "write": {"content": write, "legal_basis": LEGAL}}
        response = await client.put(f"{BASE}/update", json=body_in, headers=GATEWAY)
        assert_problem(response, 404, "unknown_person")

    async def test_unknown_event_kind_is_422(self, client: httpx.AsyncClient) -> None:
        """write.content.event must name a life event after birth."""
        nin = (await enrol(client))["nin"]
        write = {"event": "birth_registration"}
        body_in = {**query(nin=nin), "write": {"content": write, "legal_basis": LEGAL}}
        response = await client.put(f"{BASE}/update", json=body_in, headers=GATEWAY)
        assert_problem(response, 422, "invalid_input")


class TestList:
    async def test_pages(self, client: httpx.AsyncClient, database: Database) -> None:
        """pageSize splits the matches; next and previous link the pages; reads recorded."""
        places = ["Rabat", "Fès", "Tanger"]
        nins = sorted([(await enrol(client, place_of_birth=p))["nin"] for p in places])
        first = await client.get(BASE, params={"pageSize": 2}, headers=GATEWAY)
        assert first.status_code == 200, first.text
        page = first.json()
        assert page["count"] == 3
        assert [r["nin"] for r in page["results"]] == nins[:2]
        assert page["previous"] is None
        second = (await client.get(page["next"], headers=GATEWAY)).json()
        assert [r["nin"] for r in second["results"]] == nins[2:]
        assert second["next"] is None
        assert "page=1" in second["previous"]
        listed = [row for row in await reads(database) if row[2].startswith("govstack list")]
        assert sorted(row[0] for row in listed) == nins

    async def test_filters_and_ordering(self, client: httpx.AsyncClient) -> None:
        """query.<field> filters exactly; filter/search is the same; ordering descending."""
        rabat = (await enrol(client))["nin"]
        fes = (await enrol(client, place_of_birth="Fès", sex="F"))["nin"]
        by_query = await client.get(BASE, params={"query.sex": "F"}, headers=GATEWAY)
        assert [r["nin"] for r in by_query.json()["results"]] == [fes]
        by_search = await client.get(
            BASE, params={"filter": "place_of_birth", "search": "rabat"}, headers=GATEWAY
        )
        assert [r["nin"] for r in by_search.json()["results"]] == [rabat]
        ordered = await client.get(BASE, params={"ordering": "descending"}, headers=GATEWAY)
        assert [r["nin"] for r in ordered.json()["results"]] == sorted([rabat, fes])[::-1]

    async def test_unknown_query_field_is_422(self, client: httpx.AsyncClient) -> None:
        """A misspelt query.<field> is refused instead of listing everyone."""
        response = await client.get(BASE, params={"query.firstName": "x"}, headers=GATEWAY)
        body = assert_problem(response, 422, "invalid_input")
        assert body["errors"][0]["field"] == "query.firstName"

    async def test_search_without_filter_is_422(self, client: httpx.AsyncClient) -> None:
        """search needs filter, the field it searches."""
        response = await client.get(BASE, params={"search": "x"}, headers=GATEWAY)
        assert_problem(response, 422, "invalid_input")

    async def test_bad_search_value_is_422(self, client: httpx.AsyncClient) -> None:
        """A search value the field cannot hold names the field."""
        params = {"filter": "sex", "search": "X"}
        response = await client.get(BASE, params=params, headers=GATEWAY)
        body = assert_problem(response, 422, "invalid_input")
        assert body["errors"][0]["field"] == "query.sex"


class TestRequester:
    async def test_missing_requester_is_401(self, client: httpx.AsyncClient) -> None:
        """Without X-Road-Client and without local tokens configured, every call is refused."""
        for response in (
            await client.get(BASE),
            await client.post(f"{BASE}/read", json=query(nin="BK0000000")),
            await client.post(f"{BASE}/create", json=create_body()),
        ):
            assert_problem(response, 401, "unauthenticated")

    async def test_malformed_client_is_422(self, client: httpx.AsyncClient) -> None:
        """X-Road-Client must be an X-Road client id."""
        response = await client.get(BASE, headers={"X-Road-Client": "nobody"})
        body = assert_problem(response, 422, "invalid_input")
        assert body["errors"][0]["field"] == "header.x-road-client"

    async def test_mediator_header_must_agree(self, client: httpx.AsyncClient) -> None:
        """The spec's Information-Mediator-Client, unverified, may not differ from X-Road-Client."""
        headers = {**GATEWAY, "Information-Mediator-Client": "MA/GOV/OTHER/SYS"}
        response = await client.get(BASE, headers=headers)
        assert_problem(response, 403, "requester_mismatch")
        same = {**GATEWAY, "Information-Mediator-Client": CLIENT}
        assert (await client.get(BASE, headers=same)).status_code == 200

    async def test_unknown_registry_is_404(self, client: httpx.AsyncClient) -> None:
        """The API serves one registry name and version."""
        response = await client.get("/data/vehicles/1.0", headers=GATEWAY)
        assert_problem(response, 404, "unknown_registry")
        response = await client.get("/data/population/2.0", headers=GATEWAY)
        assert_problem(response, 404, "unknown_registry")


@pytest.fixture
async def token_client(
    register: PopulationRegister, database: Database
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """An API admitting local tokens; ``reader`` and ``writer`` tokens."""
    async with database.engine.begin() as connection:
        await connection.run_sync(_TokenBase.metadata.create_all)
    async with database.transaction() as session:
        secrets = {
            "reader": await TOKENS.create(session, "reader", [RegisterScope.READ], None),
            "writer": await TOKENS.create(session, "writer", [RegisterScope.WRITE], None),
        }
    app = create_register_api(register, local_auth=token_auth(TOKENS, database))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://register") as http:
        yield http, secrets


class TestLocalToken:
    async def test_scoped_token_reads_and_is_audited(
        self,
        token_client: tuple[httpx.AsyncClient, dict[str, str]],
        database: Database,
    ) -> None:
        """A writer token enrols, a reader token reads; the audit names the token."""
        client, secrets = token_client
        writer = {"Authorization": f"Bearer {secrets['writer']}"}
        reader = {"Authorization": f"Bearer {secrets['reader']}"}
        created = await client.post(f"{BASE}/create", json=create_body(), headers=writer)
        assert created.status_code == 200, created.text
        nin = created.json()["content"]["nin"]
        response = await client.post(f"{BASE}/read", json=query(nin=nin), headers=reader)
        assert response.status_code == 200
        assert await reads(database) == [(nin, "token:reader", "govstack read")]

    async def test_wrong_scope_is_403(
        self, token_client: tuple[httpx.AsyncClient, dict[str, str]]
    ) -> None:
        """A read token cannot create."""
        client, secrets = token_client
        reader = {"Authorization": f"Bearer {secrets['reader']}"}
        response = await client.post(f"{BASE}/create", json=create_body(), headers=reader)
        assert_problem(response, 403, "insufficient_scope")

    async def test_no_or_bad_token_is_401(
        self, token_client: tuple[httpx.AsyncClient, dict[str, str]]
    ) -> None:
        """Without X-Road-Client, a missing or unknown token is 401."""
        client, _ = token_client
        assert_problem(await client.get(BASE), 401, "unauthenticated")
        bad = {"Authorization": "Bearer jisr_nope"}
        assert_problem(await client.get(BASE, headers=bad), 401, "unauthenticated")


class TestOpenApi:
    def test_documents_operations_and_problems(self, app: FastAPI) -> None:
        """OpenAPI 3.1 lists the spec's operations, typed answers and problem responses."""
        document = app.openapi()
        assert document["openapi"].startswith("3.1")
        operations = {
            op["operationId"]: op for path in document["paths"].values() for op in path.values()
        }
        assert set(operations) == {"list", "read", "exists", "create", "update"}
        for operation in operations.values():
            responses = operation["responses"]
            assert "$ref" in str(responses["200"]["content"]["application/json"]["schema"])
            for status in ("401", "404", "422"):
                assert PROBLEM_MEDIA_TYPE in responses[status]["content"]
        assert "409" in operations["create"]["responses"]


@pytest.fixture
def loopback(database_url: str, register_key: PrivateKey) -> Iterator[tuple[str, Database]]:
    """The API under uvicorn on a free loopback port, its database opened in the server's
    loop and closed there on shutdown."""
    migrate(database_url)
    served = Database(database_url)
    register = PopulationRegister(served, profile=MoroccoNin("BK"), key=register_key)
    app = create_register_api(register, legal_basis=LEGAL)
    app.router.on_shutdown.append(served.close)
    with serve_in_thread(app) as url:
        yield url, served


def test_over_loopback_http(loopback: tuple[str, Database]) -> None:
    """create, read, exists, update and list over real HTTP; the read audit names the client."""
    url, served = loopback
    with httpx.Client(base_url=url, headers=GATEWAY, timeout=10) as http:
        created = http.post(f"{BASE}/create", json=create_body())
        assert created.status_code == 200, created.text
        nin = created.json()["content"]["nin"]
        assert http.post(f"{BASE}/read", json=query(nin=nin)).json()["content"]["nin"] == nin
        assert http.post(f"{BASE}/exists", json=query(nin=nin)).json()["answer"]["status"]
        write = {"event": "address_change", "address": "Agdal", "effective": "2020-01-01"}
        updated = http.put(f"{BASE}/update", json={**query(nin=nin), "write": {"content": write}})
        assert updated.json()["content"]["address"] == "Agdal"
        assert http.get(BASE).json()["count"] == 1
        problem = http.post(f"{BASE}/read", json=query(nin="BK0000000"))
        assert problem.headers["content-type"] == PROBLEM_MEDIA_TYPE

    async def audit() -> list[tuple[str, str, str]]:
        database = Database(served.url)
        try:
            return await reads(database)
        finally:
            await database.close()

    rows = asyncio.run(audit())
    assert [(row[0], row[1]) for row in rows] == [(nin, CLIENT)] * 4 + [("", CLIENT)]
