# ruff: noqa: RUF001 - Tifinagh and IRCAM Latin letters are meant, not look-alikes
"""The assembled language API over real HTTP on loopback: every route, problems, health."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jisr.language.api import create_language_app
from jisr.language.names import NameIndex
from tests.servers import serve_in_thread

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    index_file = tmp_path_factory.mktemp("names") / "index.bin"
    NameIndex.build(["محمد بن علي", "Youssef El Idrissi", "فاطمة الزهراء"]).save(index_file)
    with serve_in_thread(create_language_app(names_index=index_file)) as url:
        yield url


def test_identify_transliterate_names_and_services_answer(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        identified = client.post("/language/identify", json={"text": "ⵜⴰⵎⴰⵣⵉⵖⵜ ⵏ ⵍⵎⵖⵔⵉⴱ"})
        latin = client.post(
            "/language/transliterate",
            json={"text": "ⵜⴰⵎⴰⵣⵉⵖⵜ", "source": "zgh_Tfng", "target": "ber_Latn"},
        )
        names = client.post("/language/names/match", json={"a": "يوسف", "b": "Youssef"})
        found = client.post("/language/names/search", json={"name": "Mohamed Benali", "limit": 2})
        services = client.post("/language/services/search", json={"text": "bghit passport"})
        catalogue = client.get("/services/catalogue/ma.passport.application")
    assert identified.json()["label"] == "zgh_Tfng"
    assert latin.json()["result"] == "tamaziɣt"
    assert names.json()["match"] is True
    assert found.json()["results"][0]["name"] == "محمد بن علي"
    assert services.json()["results"][0]["service"] == "ma.passport.application"
    assert catalogue.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "rule"),
    [
        ("/language/identify", {"text": ""}, "empty"),
        ("/language/identify", {"text": "x" * 100_001}, "too_large"),
        ("/language/services/search", {"text": "a\x00b"}, "binary"),
        ("/language/names/match", {"a": "  ", "b": "Youssef"}, "empty"),
    ],
)
def test_bad_text_is_a_problem_document_naming_the_rule(
    base_url: str, path: str, body: dict[str, str], rule: str
) -> None:
    response = httpx.post(base_url + path, json=body, timeout=30)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["rule"] == rule


def test_unknown_service_is_404_and_health_ready_metrics_answer(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        missing = client.get("/services/catalogue/ma.nothing")
        ready = client.get("/ready")
        metrics = client.get("/metrics")
        spec = client.get("/openapi.json")
    assert missing.status_code == 404
    assert ready.json()["status"] == "ready"
    assert "jisr_http_requests_total" in metrics.text
    assert {"/language/identify", "/language/services/search"} <= set(spec.json()["paths"])


def test_without_an_index_name_search_is_409(tmp_path: Path) -> None:
    with serve_in_thread(create_language_app()) as url:
        response = httpx.post(url + "/language/names/search", json={"name": "Youssef"}, timeout=30)
    assert response.status_code == 409
    assert response.json()["code"] == "names_index_unavailable"
