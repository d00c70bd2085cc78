"""``POST /language/services/search`` and ``GET /services/catalogue[/{id}]``."""

from __future__ import annotations

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jisr.language.finder import ServiceFinder
from jisr.language.finder.routes import get_finder, router
from jisr.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers


@pytest.fixture
def client(finder: ServiceFinder) -> TestClient:
    """An app with the finder routes, problem handlers and the module's finder."""
    app = FastAPI()
    install_problem_handlers(app, structlog.get_logger())
    app.include_router(router)
    app.dependency_overrides[get_finder] = lambda: finder
    return TestClient(app)


def test_search_returns_ranked_services_with_titles(client: TestClient) -> None:
    """The best services come first, each with its score, titles and administration."""
    response = client.post("/language/services/search", json={"text": "بغيت نخرج الباسبور"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "بغيت نخرج الباسبور"
    assert len(body["results"]) == 5
    best = body["results"][0]
    assert best["service"] == "ma.passport.application"
    assert 0 <= best["score"] <= 1
    assert set(best["title"]) == {"ar", "ary", "zgh", "fr", "en"}
    assert best["administration"] == "ma.interior"


def test_search_limit(client: TestClient) -> None:
    """``limit`` caps the results; out of range is a 422 naming body.limit."""
    response = client.post("/language/services/search", json={"text": "visa", "limit": 1})
    assert len(response.json()["results"]) == 1
    response = client.post("/language/services/search", json={"text": "visa", "limit": 0})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.limit"


@pytest.mark.parametrize(
    ("text", "rule"), [("   ", "empty"), ("a\x00b", "binary"), ("x" * 100_001, "too_large")]
)
def test_unacceptable_text_is_an_invalid_input_problem(
    client: TestClient, text: str, rule: str
) -> None:
    """Empty, binary or oversized text is refused as a problem naming body.text and the rule."""
    response = client.post("/language/services/search", json={"text": text})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["errors"][0] == {"field": "body.text", "rule": rule, "message": body["detail"][11:]}


def test_missing_text_is_an_invalid_input_problem(client: TestClient) -> None:
    """A body without ``text`` is refused by validation."""
    response = client.post("/language/services/search", json={})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_catalogue_lists_every_service(client: TestClient) -> None:
    """The catalogue route lists the 21 services in id order."""
    services = client.get("/services/catalogue").json()["services"]
    ids = [service["id"] for service in services]
    assert len(ids) == 21 and ids == sorted(ids)


def test_one_service_by_id(client: TestClient) -> None:
    """A known id returns the service with its texts in every language."""
    response = client.get("/services/catalogue/qa.health.card")
    assert response.status_code == 200
    service = response.json()
    assert service["country"] == "QA"
    assert service["administration"]["id"] == "qa.hmc"
    assert service["texts"]["en"]["title"] == "Qatar health card"


def test_unknown_id_is_a_not_found_problem(client: TestClient) -> None:
    """An unknown id gives a 404 service_not_found problem document."""
    response = client.get("/services/catalogue/ma.unknown.service")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == "service_not_found"
