# ruff: noqa: RUF001 - Tifinagh and IRCAM Latin letters are the data under test
"""``POST /language/transliterate`` on a FastAPI app with Jisr's problem handlers."""

from __future__ import annotations

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jisr.language.transliterate.routes import router
from jisr.problems import install_problem_handlers


@pytest.fixture
def client() -> TestClient:
    """A client of an app serving only the transliteration route."""
    app = FastAPI()
    install_problem_handlers(app, structlog.get_logger())
    app.include_router(router)
    return TestClient(app)


def test_transliterates_text(client: TestClient) -> None:
    """A supported pair answers 200 with the text and its result."""
    body = {"text": "ⵜⴰⵎⴰⵣⵉⵖⵜ", "source": "zgh_Tfng", "target": "ber_Latn"}
    response = client.post("/language/transliterate", json=body)
    assert response.status_code == 200
    assert response.json() == {"text": "ⵜⴰⵎⴰⵣⵉⵖⵜ", "result": "tamaziɣt"}


def test_ascii_input_flag(client: TestClient) -> None:
    """ascii_input reads keyboard spellings for ber_Latn→zgh_Tfng."""
    body = {"text": "3afak", "source": "ber_Latn", "target": "zgh_Tfng", "ascii_input": True}
    assert client.post("/language/transliterate", json=body).json()["result"] == "ⵄⴰⴼⴰⴽ"


def test_arabizi_pair(client: TestClient) -> None:
    """ary_Latn→ary_Arab uses the shipped Arabizi model."""
    body = {"text": "bghit", "source": "ary_Latn", "target": "ary_Arab"}
    assert client.post("/language/transliterate", json=body).json()["result"] == "بغيت"


def test_unsupported_pair_is_a_422_problem(client: TestClient) -> None:
    """An unknown pair is an ``unsupported_pair`` problem document."""
    body = {"text": "x", "source": "eng_Latn", "target": "zgh_Tfng"}
    response = client.post("/language/transliterate", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "unsupported_pair"
    assert problem["type"] == "urn:jisr:problem:unsupported_pair"


@pytest.mark.parametrize(("text", "rule"), [("   ", "empty"), ("a\x00b", "binary")])
def test_unacceptable_text_is_an_invalid_input_problem(
    client: TestClient, text: str, rule: str
) -> None:
    """Text failing the shared checks is ``invalid_input`` naming body.text and the rule."""
    body = {"text": text, "source": "zgh_Tfng", "target": "ber_Latn"}
    response = client.post("/language/transliterate", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert problem["errors"][0]["field"] == "body.text"
    assert problem["errors"][0]["rule"] == rule


def test_missing_field_is_an_invalid_input_problem(client: TestClient) -> None:
    """A body without ``target`` is refused, naming the field."""
    response = client.post("/language/transliterate", json={"text": "x", "source": "zgh_Tfng"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.target"
