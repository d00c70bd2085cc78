"""``POST /language/identify`` in a FastAPI app with the problem handlers."""

from __future__ import annotations

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jisr.language.identify.routes import router
from jisr.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    install_problem_handlers(app, structlog.get_logger())
    return TestClient(app)


def test_identifies_with_scores_and_spans(client: TestClient) -> None:
    text = "salam, je voudrais l'acte de naissance dyal weldi"
    response = client.post("/language/identify", json={"text": text})
    assert response.status_code == 200
    body = response.json()
    assert body["label"] in body["scores"]
    assert abs(sum(body["scores"].values()) - 1.0) < 1e-6
    assert [span["label"] for span in body["spans"]] == ["ary_Latn", "fra_Latn", "ary_Latn"]


def test_emoji_only_is_und(client: TestClient) -> None:
    response = client.post("/language/identify", json={"text": "🙂🙂"})
    assert response.json() == {"label": "und", "scores": {"und": 1.0}, "spans": []}


@pytest.mark.parametrize(("text", "rule"), [("   ", "empty"), ("a\x00b", "binary")])
def test_unacceptable_text_is_a_422_problem(client: TestClient, text: str, rule: str) -> None:
    response = client.post("/language/identify", json={"text": text})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert problem["errors"][0]["field"] == "body.text"
    assert problem["errors"][0]["rule"] == rule


def test_missing_text_is_a_422_problem(client: TestClient) -> None:
    response = client.post("/language/identify", json={})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.text"


def test_the_error_response_is_documented() -> None:
    app = FastAPI()
    app.include_router(router)
    responses = app.openapi()["paths"]["/language/identify"]["post"]["responses"]
    assert PROBLEM_MEDIA_TYPE in responses["422"]["content"]
