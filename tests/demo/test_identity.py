"""The demo's identity providers (cache of generated registers) and its relying party's
refusals, in process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from jisr.demo.identity import CACHE, prepare_identity
from jisr.demo.relying_party import Provider, RelyingParty
from jisr.demo.topology import free_port


class TestPrepareIdentity:
    def test_second_run_reuses_the_cached_register_with_new_secrets(self, tmp_path: Path) -> None:
        """A first run enrols and caches; the next copies the cache (same persons, same test
        citizen) but gets a new password and a new client."""
        ports = [free_port()]
        first = prepare_identity(tmp_path, ports, free_port(), persons=40, countries=("QA",))
        second = prepare_identity(tmp_path, ports, free_port(), persons=40, countries=("QA",))
        before, after = first.idps[0], second.idps[0]
        assert not before.population.reused and after.population.reused
        assert before.population.enrolled == after.population.enrolled == 40
        assert before.citizen.nin == after.citizen.nin
        assert before.citizen.password != after.citizen.password
        assert before.client.client.client_id != after.client.client.client_id
        assert [p.name for p in (tmp_path / CACHE).iterdir()] == ["idp-QA-40-seed1"]

    def test_the_test_citizen_is_an_adult(self, tmp_path: Path) -> None:
        """The test citizen is of working age, living, and the client has the RP's URI."""
        rp_port = free_port()
        identity = prepare_identity(tmp_path, [free_port()], rp_port, persons=5, countries=("MA",))
        idp = identity.idps[0]
        assert 1965 <= idp.citizen.person.date_of_birth.year <= 2000
        assert idp.citizen.person.status == "living"
        assert idp.client.client.redirect_uris == (f"http://127.0.0.1:{rp_port}/ma/callback",)


def _rp() -> RelyingParty:
    provider = Provider(
        "MA",
        "http://127.0.0.1:1",
        "c_demo",
        "secret",
        "http://127.0.0.1:2/ma/callback",
        {"authorization_endpoint": "http://127.0.0.1:1/authorize"},
    )
    return RelyingParty([provider])


async def _callback(rp: RelyingParty, query: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=rp.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:2") as http:
        return await http.get("/ma/callback", params=query, headers={"Accept": "application/json"})


class TestRelyingParty:
    async def test_unknown_state_is_refused(self) -> None:
        """A redirect whose state the RP did not issue is refused before any token request."""
        response = await _callback(_rp(), {"code": "x", "state": "forged"})
        assert response.status_code == 400
        assert "unknown or already used state" in response.json()["error"]

    @pytest.mark.parametrize(
        ("extra", "says"),
        [
            ({"error": "access_denied"}, "access_denied"),
            ({"code": "x", "iss": "http://127.0.0.1:9"}, "not http://127.0.0.1:1"),
        ],
    )
    async def test_error_or_foreign_issuer_is_shown_and_the_state_spent(
        self, extra: dict[str, str], says: str
    ) -> None:
        """The provider's error, or a response naming another issuer (RFC 9207), is shown;
        the state cannot be used a second time."""
        rp = _rp()
        url = rp.authorization_url("MA")
        state = httpx.URL(url).params["state"]
        assert httpx.URL(url).params["code_challenge_method"] == "S256"
        refused = await _callback(rp, {"state": state, **extra})
        assert refused.status_code == 400 and says in refused.json()["error"]
        replayed = await _callback(rp, {"state": state, "code": "x"})
        assert "already used" in replayed.json()["error"]
