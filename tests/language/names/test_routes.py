"""``POST /language/names/match`` and ``/search`` on a FastAPI app with problem handlers."""

from __future__ import annotations

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jisr.language.names import NameIndex
from jisr.language.names.routes import make_router
from jisr.problems import install_problem_handlers


def client_for(index: NameIndex | None) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app, structlog.get_logger())
    app.include_router(make_router(index))
    return TestClient(app)


@pytest.fixture
def client() -> TestClient:
    """A client of an app with a small name index."""
    return client_for(NameIndex.build(["محمد العلوي", "محمود العلوي", "Karima Bennani"]))


def test_match(client: TestClient) -> None:
    """A pair answers 200 with both names, the score and the verdict."""
    response = client.post("/language/names/match", json={"a": "محمد", "b": "Mohamed"})
    assert response.status_code == 200
    body = response.json()
    assert body["a"] == "محمد" and body["b"] == "Mohamed" and body["match"] is True


def test_search_best_first(client: TestClient) -> None:
    """Search answers the query and results best first, at most ``limit``."""
    response = client.post("/language/names/search", json={"name": "Mohamed Alaoui", "limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "Mohamed Alaoui"
    assert [r["name"] for r in body["results"]] == ["محمد العلوي", "محمود العلوي"]


def test_search_without_index_is_a_409_problem() -> None:
    """Without a configured index, search is ``names_index_unavailable``."""
    response = client_for(None).post("/language/names/search", json={"name": "Mohamed"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "names_index_unavailable"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/language/names/match", {"a": " ", "b": "x"}, "body.a"),
        ("/language/names/match", {"a": "x", "b": "a\x00b"}, "body.b"),
        ("/language/names/search", {"name": ""}, "body.name"),
    ],
)
def test_unacceptable_text_is_invalid_input(
    client: TestClient, path: str, body: dict[str, str], field: str
) -> None:
    """Empty or binary text is a 422 ``invalid_input`` naming the field."""
    response = client.post(path, json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert problem["errors"][0]["field"] == field


def test_limit_out_of_range_and_missing_field_are_422(client: TestClient) -> None:
    """``limit`` must be 1-100; ``b`` is required."""
    search = client.post("/language/names/search", json={"name": "x", "limit": 0})
    match = client.post("/language/names/match", json={"a": "x"})
    assert search.status_code == match.status_code == 422
    assert match.json()["errors"][0]["field"] == "body.b"
