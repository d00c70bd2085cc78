"""The signed global configuration as a gateway sees it: trust, freshness, revocation,
key rotation and federation — against live centrals on loopback, on both backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from jisr.crypto.keys import generate_private_key
from jisr.crypto.x509 import create_csr, csr_to_pem
from jisr.exchange.central.app import create_app
from jisr.exchange.central.lifecycle import initialise
from jisr.exchange.central.tokens import Scope
from jisr.exchange.globalconf import (
    Anchor,
    GlobalConf,
    GlobalConfClient,
    GlobalConfError,
    parse_and_verify,
)
from jisr.storage.types import utcnow
from tests.exchange.central.conftest import Running, issue_token, make_settings
from tests.exchange.central.test_api import client, seed
from tests.servers import serve_in_thread


def anchor_of(running: Running) -> Anchor:
    with client(running) as http:
        return Anchor.from_json(http.get("/anchor").content)


def fetch(running: Running) -> str:
    with client(running) as http:
        return http.get("/globalconf").text


def verify(token: str, anchor: Anchor, last: GlobalConf | None = None, **kw: object) -> GlobalConf:
    now = kw.pop("now", utcnow())
    extra = last.signing_certificates if last else ()
    return parse_and_verify(token, anchor=anchor, trusted_extra=extra, last=last, now=now)  # type: ignore[arg-type]


def register_gateway(running: Running) -> str:
    """Seed a member with a gateway and an approved auth certificate; return its fingerprint."""
    with client(running, running.admin) as http:
        seed(http)
        csr = csr_to_pem(create_csr(generate_private_key(), "MA/GOV/CIVIL-REGISTRY/GW1")).decode()
        submitted = http.post(
            "/api/v1/csrs",
            json={"kind": "auth", "subject": "MA/GOV/CIVIL-REGISTRY/GW1", "csr": csr},
        )
        approved = http.post(f"/api/v1/csrs/{submitted.json()['id']}/approve")
        assert approved.status_code == 200, approved.text
        return str(approved.json()["fingerprint"])


class TestSignature:
    def test_document_verifies_against_the_anchor(self, running_central: Running) -> None:
        """The published JWS verifies with the exported anchor and lists the gateway."""
        fingerprint = register_gateway(running_central)
        doc = verify(fetch(running_central), anchor_of(running_central))
        assert doc.instance == "MA"
        gateway = doc.gateways[0]
        assert (str(gateway.id), gateway.address) == ("MA/GOV/CIVIL-REGISTRY/GW1", "127.0.0.1:8443")
        assert gateway.auth_certificates[0].sha256 == fingerprint
        assert doc.ca_certificates and doc.tsa and doc.signing_certificates

    def test_any_changed_byte_breaks_the_signature(self, running_central: Running) -> None:
        """Changing one character anywhere in the token (header, payload, signature) fails."""
        token = fetch(running_central)
        anchor = anchor_of(running_central)
        step = max(1, len(token) // 150)
        for position in range(0, len(token), step):
            if token[position] == ".":
                continue
            replacement = "A" if token[position] != "A" else "B"
            tampered = token[:position] + replacement + token[position + 1 :]
            if tampered == token:
                continue
            with pytest.raises(GlobalConfError):
                verify(tampered, anchor)

    def test_another_instances_anchor_does_not_verify(
        self, running_central: Running, tmp_path: Path, second_database_url: str
    ) -> None:
        """A document verifies only against its own instance's anchor."""
        other = make_settings(tmp_path / "QA", "QA", second_database_url)
        initialise(other)
        with serve_in_thread(create_app(other), port=other.port) as url:
            qa_anchor = Anchor.from_json(httpx.get(f"{url}/anchor").content)
        with pytest.raises(GlobalConfError) as caught:
            verify(fetch(running_central), qa_anchor)
        assert caught.value.reason in ("unknown_kid", "wrong_instance")


class TestFreshness:
    def test_versions_increase_and_rollback_is_refused(self, running_central: Running) -> None:
        """Every change publishes a higher version; an older one is refused after a newer."""
        anchor = anchor_of(running_central)
        old = verify(fetch(running_central), anchor)
        register_gateway(running_central)
        new = verify(fetch(running_central), anchor, last=old)
        assert new.version > old.version
        with pytest.raises(GlobalConfError) as caught:
            verify(fetch_version_token(running_central, old), anchor, last=new)
        assert caught.value.reason == "rollback"

    def test_expired_document_is_refused(self, running_central: Running) -> None:
        """A document is refused once expires_at has passed (default 600 s validity)."""
        token, anchor = fetch(running_central), anchor_of(running_central)
        doc = verify(token, anchor)
        assert doc.expires_at - doc.generated_at == timedelta(seconds=600)
        with pytest.raises(GlobalConfError) as caught:
            verify(token, anchor, now=doc.expires_at + timedelta(seconds=1))
        assert caught.value.reason == "expired"


def fetch_version_token(running: Running, doc: GlobalConf) -> str:
    """The stored token of an earlier version (as an attacker replaying it would have it)."""
    from sqlalchemy import select

    from jisr.exchange.central.models import ConfDocument
    from jisr.storage import Database

    async def go() -> str:
        database = Database(running.settings.effective_database_url())
        try:
            async with database.sessions() as session:
                token = await session.scalar(
                    select(ConfDocument.token).where(ConfDocument.version == doc.version)
                )
                assert token is not None
                return token
        finally:
            await database.close()

    return asyncio.run(go())


class TestRevocation:
    def test_removed_gateway_disappears_from_the_next_document(
        self, running_central: Running
    ) -> None:
        """DELETE of a gateway: the next configuration no longer lists it or its certificate."""
        fingerprint = register_gateway(running_central)
        anchor = anchor_of(running_central)
        before = verify(fetch(running_central), anchor)
        assert any(c.sha256 == fingerprint for g in before.gateways for c in g.auth_certificates)
        with client(running_central, running_central.admin) as http:
            assert http.delete("/api/v1/members/GOV/CIVIL-REGISTRY/gateways/GW1").status_code == 204
        after = verify(fetch(running_central), anchor, last=before)
        assert after.gateways == ()

    def test_revoked_certificate_disappears(self, running_central: Running) -> None:
        """DELETE of a certificate removes it from the next configuration; the gateway stays."""
        fingerprint = register_gateway(running_central)
        with client(running_central, running_central.admin) as http:
            assert http.delete(f"/api/v1/certificates/{fingerprint}").status_code == 204
        doc = verify(fetch(running_central), anchor_of(running_central))
        assert doc.gateways[0].auth_certificates == ()


class TestKeyRotation:
    def test_rollover_announce_activate_retire(self, running_central: Running) -> None:
        """A new key is announced as next, then signs; a client that saw it follows along,
        the anchor carries both keys during rollover, and retiring drops the old one."""
        old_anchor = anchor_of(running_central)
        first = verify(fetch(running_central), old_anchor)
        (old_key,) = first.signing_certificates
        with client(running_central, running_central.admin) as http:
            created = http.post("/api/v1/signing-keys")
            assert created.status_code == 201 and created.json()["status"] == "next"
            new_kid = created.json()["kid"]
            announced = verify(fetch(running_central), old_anchor, last=first)
            assert {(k.kid, k.status) for k in announced.signing_certificates} == {
                (old_key.kid, "active"),
                (new_kid, "next"),
            }
            assert len(anchor_of(running_central).signing_certificates) == 2
            assert http.post(f"/api/v1/signing-keys/{new_kid}/activate").status_code == 200
            token = fetch(running_central)
            assert verify(token, old_anchor, last=announced).version > announced.version
            with pytest.raises(GlobalConfError) as caught:
                verify(token, old_anchor)  # a client that never saw the announcement
            assert caught.value.reason == "unknown_kid"
            retired = http.post(f"/api/v1/signing-keys/{old_key.kid}/retire")
            assert retired.status_code == 200
            refused = http.post(f"/api/v1/signing-keys/{new_kid}/retire")
            assert refused.status_code == 409
        assert [k.kid for k in anchor_of(running_central).signing_certificates] == [new_kid]


class TestFederation:
    def test_ma_client_resolves_a_qa_member(
        self, running_central: Running, tmp_path: Path, second_database_url: str
    ) -> None:
        """MA and QA exchange anchors; a client holding only MA's anchor resolves QA's
        members and trusts QA's gateway certificate; an unlisted instance is not fetched."""
        ma = running_central
        qa_settings = make_settings(tmp_path / "QA", "QA", second_database_url)
        initialise(qa_settings)
        qa_token = issue_token(qa_settings, "qa-admin", Scope.ADMIN)
        with serve_in_thread(create_app(qa_settings), port=qa_settings.port) as qa_url:
            qa = Running(qa_settings, qa_url, qa_token)
            with client(qa, qa.admin) as http:
                http.post("/api/v1/member-classes", json={"code": "GOV"})
                moi = {"member_class": "GOV", "code": "MOI", "name": {"ar": "وزارة الداخلية"}}
                assert http.post("/api/v1/members", json=moi).status_code == 201
                assert (
                    http.post(
                        "/api/v1/federation", json=anchor_of(ma).model_dump(mode="json")
                    ).status_code
                    == 201
                )
            with client(ma, ma.admin) as http:
                response = http.post(
                    "/api/v1/federation", json=anchor_of(qa).model_dump(mode="json")
                )
                assert response.status_code == 201, response.text
                duplicate = http.post(
                    "/api/v1/federation", json=anchor_of(qa).model_dump(mode="json")
                )
                assert duplicate.status_code == 409

            async def resolve() -> None:
                async with GlobalConfClient(anchor_of(ma), tmp_path / "cache") as conf:
                    await conf.refresh()
                    assert sorted(conf.instances()) == ["MA", "QA"]
                    member = conf.find_member("QA/GOV/MOI")
                    assert member is not None and member.name["ar"] == "وزارة الداخلية"
                    assert conf.is_current("QA")

            asyncio.run(resolve())
