"""The admin API over real HTTP on loopback: auth, problem documents, limits, globalconf."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from jisr.crypto.keys import generate_private_key
from jisr.crypto.x509 import create_csr, csr_to_pem
from jisr.exchange.central.models import ApiToken
from jisr.exchange.central.tokens import Scope, hash_token
from jisr.storage import Database
from jisr.storage.types import utcnow
from tests.exchange.central.conftest import Running, issue_token

PROBLEM = "application/problem+json"


def client(running: Running, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=running.url, headers=headers, timeout=10)


def seed(http: httpx.Client) -> None:
    assert http.post("/api/v1/member-classes", json={"code": "GOV"}).status_code == 201
    member = {"member_class": "GOV", "code": "CIVIL-REGISTRY", "name": {"ar": "الحالة المدنية"}}
    assert http.post("/api/v1/members", json=member).status_code == 201
    subsystem = http.post(
        "/api/v1/members/GOV/CIVIL-REGISTRY/subsystems", json={"code": "REGISTRY"}
    )
    assert subsystem.status_code == 201
    gateway = {"code": "GW1", "address": "127.0.0.1:8443"}
    assert http.post("/api/v1/members/GOV/CIVIL-REGISTRY/gateways", json=gateway).status_code == 201


class TestAuthentication:
    def test_no_token_no_read_no_write(self, running_central: Running) -> None:
        """Without a token every admin endpoint answers 401 problem+json with a challenge."""
        with client(running_central) as http:
            for method, path in [("GET", "/api/v1/members"), ("POST", "/api/v1/member-classes")]:
                response = http.request(method, path, json={"code": "GOV"})
                assert response.status_code == 401
                assert response.headers["content-type"] == PROBLEM
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert response.json()["code"] == "unauthenticated"

    def test_unknown_token_is_refused(self, running_central: Running) -> None:
        """A made-up token is 401."""
        with client(running_central, "jisr_forged") as http:
            assert http.get("/api/v1/members").status_code == 401

    def test_scope_is_enforced(self, running_central: Running) -> None:
        """A read-only token reads but cannot write (403 insufficient_scope, nothing stored)."""
        reader = issue_token(running_central.settings, "reader", Scope.REGISTRY_READ)
        with client(running_central, reader) as http:
            assert http.get("/api/v1/member-classes").json() == []
            response = http.post("/api/v1/member-classes", json={"code": "GOV"})
            assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")
            assert http.get("/api/v1/member-classes").json() == []

    def test_expired_and_revoked_tokens_are_refused(self, running_central: Running) -> None:
        """Tokens past their expiry or revoked are 401 with a reason in the detail."""
        expired = issue_token(running_central.settings, "old", Scope.ADMIN)
        revoked = issue_token(running_central.settings, "gone", Scope.ADMIN)

        async def age() -> None:
            database = Database(running_central.settings.effective_database_url())
            try:
                async with database.transaction() as session:
                    for secret, field in ((expired, "expires_at"), (revoked, "revoked_at")):
                        row = await session.scalar(
                            __import__("sqlalchemy")
                            .select(ApiToken)
                            .where(ApiToken.token_hash == hash_token(secret))
                        )
                        setattr(row, field, utcnow() - timedelta(seconds=1))
            finally:
                await database.close()

        asyncio.run(age())
        with client(running_central, expired) as http:
            assert "expired" in http.get("/api/v1/members").json()["detail"]
        with client(running_central, revoked) as http:
            assert "revoked" in http.get("/api/v1/members").json()["detail"]


class TestBadInput:
    def test_invalid_identifier_names_field_and_rule(self, running_central: Running) -> None:
        """A malformed code is 422 naming body.code and the invalid_identifier rule."""
        with client(running_central, running_central.admin) as http:
            response = http.post("/api/v1/member-classes", json={"code": "G O V"})
        body = response.json()
        assert response.status_code == 422 and body["code"] == "invalid_input"
        assert body["errors"][0]["field"] == "body.code"
        assert body["errors"][0]["rule"] == "invalid_identifier"

    def test_duplicate_is_409_and_changes_nothing(self, running_central: Running) -> None:
        """Posting the same member class twice gives 409 already_exists."""
        with client(running_central, running_central.admin) as http:
            http.post("/api/v1/member-classes", json={"code": "GOV"})
            response = http.post("/api/v1/member-classes", json={"code": "GOV"})
            assert (response.status_code, response.json()["code"]) == (409, "already_exists")
            assert len(http.get("/api/v1/member-classes").json()) == 1

    def test_wrong_content_type_is_415(self, running_central: Running) -> None:
        """A body that is not application/json is refused before any handler runs."""
        with client(running_central, running_central.admin) as http:
            response = http.post(
                "/api/v1/member-classes",
                content=b"code=GOV",
                headers={"Content-Type": "text/plain"},
            )
        assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")

    def test_oversized_body_is_413(self, running_central: Running) -> None:
        """A body over max_body_bytes is refused (declared length and chunked)."""
        big = b'{"code": "' + b"A" * (2 << 20) + b'"}'
        with client(running_central, running_central.admin) as http:
            declared = http.post(
                "/api/v1/member-classes", content=big, headers={"Content-Type": "application/json"}
            )
            chunked = http.post(
                "/api/v1/member-classes",
                content=iter([big[i : i + 65536] for i in range(0, len(big), 65536)]),
                headers={"Content-Type": "application/json"},
            )
        assert declared.status_code == 413 and declared.json()["code"] == "body_too_large"
        assert chunked.status_code == 413

    def test_unknown_route_is_a_problem_document(self, running_central: Running) -> None:
        """Unknown paths are 404 problem+json too."""
        with client(running_central) as http:
            response = http.get("/nope")
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM

    def test_control_characters_in_names_are_refused(self, running_central: Running) -> None:
        """NUL and other control characters never reach the database."""
        with client(running_central, running_central.admin) as http:
            http.post("/api/v1/member-classes", json={"code": "GOV"})
            member = {"member_class": "GOV", "code": "X", "name": {"ar": "a\x00b"}}
            response = http.post("/api/v1/members", json=member)
        assert response.status_code == 422
        assert response.json()["errors"][0]["rule"] == "control_character"


class TestRegistryOverHttp:
    def test_gateway_registration_flow(self, running_central: Running) -> None:
        """Register a gateway, submit its CSR, approve: the certificate is in the gateway."""
        with client(running_central, running_central.admin) as http:
            seed(http)
            csr = csr_to_pem(
                create_csr(generate_private_key(), "MA/GOV/CIVIL-REGISTRY/GW1")
            ).decode()
            submitted = http.post(
                "/api/v1/csrs",
                json={"kind": "auth", "subject": "MA/GOV/CIVIL-REGISTRY/GW1", "csr": csr},
            )
            assert submitted.status_code == 201, submitted.text
            assert submitted.json()["status"] == "pending"
            approved = http.post(f"/api/v1/csrs/{submitted.json()['id']}/approve")
            assert approved.status_code == 200, approved.text
            gateway = http.get("/api/v1/members/GOV/CIVIL-REGISTRY/gateways/GW1").json()
            assert gateway["auth_certificates"][0]["fingerprint"] == approved.json()["fingerprint"]
            audit = http.get("/api/v1/audit").json()
            assert {"csr.submit", "csr.approve"} <= {entry["action"] for entry in audit}
            assert {entry["actor"] for entry in audit} >= {"token:test-admin"}

    def test_member_delete_cascades(self, running_central: Running) -> None:
        """DELETE of a member removes it and its gateways (204, then 404)."""
        with client(running_central, running_central.admin) as http:
            seed(http)
            assert http.delete("/api/v1/members/GOV/CIVIL-REGISTRY").status_code == 204
            assert http.get("/api/v1/members/GOV/CIVIL-REGISTRY").status_code == 404
            assert http.get("/api/v1/gateways").json() == []


class TestPublicEndpoints:
    def test_globalconf_etag_and_304(self, running_central: Running) -> None:
        """GET /globalconf is a JWS with an ETag; If-None-Match with it gives 304."""
        with client(running_central) as http:
            first = http.get("/globalconf")
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("application/jose")
            assert first.text.count(".") == 2
            again = http.get("/globalconf", headers={"If-None-Match": first.headers["etag"]})
            assert again.status_code == 304

    def test_health_ready_metrics(self, running_central: Running) -> None:
        """Liveness, readiness (database, keys, configuration) and Prometheus metrics."""
        with client(running_central) as http:
            assert http.get("/health").json() == {"status": "alive"}
            ready = http.get("/ready").json()
            assert ready["status"] == "ready" and all(ready["checks"].values())
            http.get("/api/v1/members")
            metrics = http.get("/metrics").text
        assert (
            'jisr_http_requests_total{component="central",method="GET",route="/api/v1/members",status="401"}'
            in metrics
        )

    @pytest.mark.parametrize("content_type", ["application/json", ""])
    def test_tsa_wants_its_media_type(self, running_central: Running, content_type: str) -> None:
        """POST /tsa with another media type is 415."""
        headers = {"Content-Type": content_type} if content_type else {}
        with client(running_central) as http:
            response = http.post("/tsa", content=b"\x30\x00", headers=headers)
        assert response.status_code == 415


class TestReadiness:
    def test_unreachable_database_is_not_ready(self, central_settings) -> None:  # type: ignore[no-untyped-def]
        """/ready answers 503 naming the database when it cannot be reached; /health stays 200."""
        from jisr.exchange.central.app import create_app
        from tests.servers import serve_in_thread

        broken = central_settings.model_copy(
            update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"}
        )
        with serve_in_thread(create_app(broken)) as url:
            ready = httpx.get(f"{url}/ready", timeout=20)
            health = httpx.get(f"{url}/health", timeout=5)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] is False
        assert ready.json()["checks"]["keys"] is True
        assert health.status_code == 200


class TestRegeneration:
    def test_configuration_is_republished_without_changes(self, central_settings) -> None:  # type: ignore[no-untyped-def]
        """The central publishes a new version every globalconf_refresh seconds by itself."""
        import time

        from jisr.exchange.central.app import create_app
        from tests.servers import serve_in_thread

        quick = central_settings.model_copy(update={"globalconf_refresh": 1})
        with serve_in_thread(create_app(quick)) as url:
            first = int(httpx.get(f"{url}/globalconf").headers["x-jisr-conf-version"])
            deadline = time.monotonic() + 15
            latest = first
            while latest <= first + 1 and time.monotonic() < deadline:
                time.sleep(0.3)
                latest = int(httpx.get(f"{url}/globalconf").headers["x-jisr-conf-version"])
        assert latest >= first + 2
