"""Registry operations on SQLite and PostgreSQL: rules, transactions, cascades, audit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from jisr.config import CentralSettings
from jisr.crypto.keys import generate_private_key
from jisr.crypto.x509 import (
    CertificateProfile,
    create_csr,
    csr_to_pem,
    load_certificate,
    verify_chain,
)
from jisr.exchange.central.keystore import KeyStore
from jisr.exchange.central.lifecycle import open_registry
from jisr.exchange.central.models import AuditEntry, Certificate, GroupMember, Member, Subsystem
from jisr.exchange.central.registry import Registry
from jisr.problems import Problem
from jisr.storage import Database


class Env:
    def __init__(self, settings: CentralSettings) -> None:
        self.settings = settings
        self.database = Database(settings.effective_database_url())
        self.keystore = KeyStore(settings.data_dir / "keys", settings.passphrase())

    def registry(self, session) -> Registry:  # type: ignore[no-untyped-def]
        return open_registry(session, "test:operator", self.settings, self.keystore)

    async def seed(self) -> None:
        async with self.database.transaction() as session:
            reg = self.registry(session)
            await reg.add_member_class("GOV", "Government")
            await reg.add_member(
                "GOV", "CIVIL-REGISTRY", "الحالة المدنية", "État civil", "Civil registry"
            )
            await reg.add_subsystem("GOV", "CIVIL-REGISTRY", "REGISTRY")
            await reg.add_gateway("GOV", "CIVIL-REGISTRY", "GW1", "127.0.0.1:8443")

    async def count(self, model: type) -> int:
        async with self.database.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def env(central_settings: CentralSettings) -> AsyncIterator[Env]:
    environment = Env(central_settings)
    await environment.seed()
    yield environment
    await environment.database.close()


async def refused(env: Env, operation) -> Problem:  # type: ignore[no-untyped-def]
    with pytest.raises(Problem) as caught:
        async with env.database.transaction() as session:
            await operation(env.registry(session))
    return caught.value


class TestMembers:
    async def test_duplicate_member_is_a_conflict(self, env: Env) -> None:
        """Adding a member twice answers 409 already_exists and keeps one row."""
        problem = await refused(env, lambda r: r.add_member("GOV", "CIVIL-REGISTRY", "x"))
        assert (problem.status, problem.code) == (409, "already_exists")
        assert await env.count(Member) == 1

    async def test_unknown_member_class_names_the_field(self, env: Env) -> None:
        """A member of an unknown class is refused naming member_class / unknown_reference."""
        problem = await refused(env, lambda r: r.add_member("XYZ", "A", "اسم"))
        assert problem.status == 422
        assert [(e.field, e.rule) for e in problem.errors] == [
            ("member_class", "unknown_reference")
        ]

    async def test_bad_identifier_names_part_and_character(self, env: Env) -> None:
        """A code with a character outside X-Road §4.8 is refused naming the character."""
        problem = await refused(env, lambda r: r.add_member("GOV", "BAD CODE", "اسم"))
        assert problem.errors[0].rule == "invalid_identifier"
        assert "member code" in problem.detail and "' '" in problem.detail

    async def test_arabic_name_is_required(self, env: Env) -> None:
        """The Arabic name is mandatory."""
        problem = await refused(env, lambda r: r.add_member("GOV", "NEW", "   "))
        assert problem.errors[0].field == "name.ar"

    async def test_failed_operation_changes_nothing(self, env: Env) -> None:
        """A transaction that fails half-way leaves no trace (no member, no audit entry)."""
        members, audits = await env.count(Member), await env.count(AuditEntry)

        async def two_steps(reg: Registry) -> None:
            await reg.add_member("GOV", "INTERIOR", "الداخلية")
            await reg.add_member("GOV", "INTERIOR", "again")

        await refused(env, two_steps)
        assert (await env.count(Member), await env.count(AuditEntry)) == (members, audits)

    async def test_member_class_in_use_cannot_be_deleted(self, env: Env) -> None:
        """Deleting a member class that still has members is refused with in_use."""
        problem = await refused(env, lambda r: r.delete_member_class("GOV"))
        assert (problem.status, problem.code) == (409, "in_use")

    async def test_every_change_is_audited(self, env: Env) -> None:
        """Seeding wrote one audit entry per change, with the actor's name."""
        async with env.database.sessions() as session:
            entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [e.action for e in entries][-4:] == [
            "member_class.add",
            "member.add",
            "subsystem.add",
            "gateway.add",
        ]
        assert {e.actor for e in entries[-4:]} == {"test:operator"}


class TestGateways:
    @pytest.mark.parametrize(
        "address", ["", "host:0", "host:99999", "bad host", "[::1", "-x.example", "a..b"]
    )
    async def test_bad_addresses_are_refused(self, env: Env, address: str) -> None:
        """Gateway addresses must be host[:port] with a DNS name or an IP literal."""
        problem = await refused(
            env, lambda r: r.add_gateway("GOV", "CIVIL-REGISTRY", "GW9", address)
        )
        assert problem.errors[0].rule == "invalid_address"

    @pytest.mark.parametrize(
        "address", ["gw.gov.ma", "gw.gov.ma:8443", "10.1.2.3:443", "[::1]:8443"]
    )
    async def test_good_addresses_are_kept(self, env: Env, address: str) -> None:
        """DNS names and IPv4/IPv6 literals, with or without a port, are accepted."""
        async with env.database.transaction() as session:
            row = await env.registry(session).add_gateway("GOV", "CIVIL-REGISTRY", "GW2", address)
        assert row.address == address

    async def test_hosting_needs_a_subsystem_of_this_instance(self, env: Env) -> None:
        """A gateway hosts subsystems; a member id or another instance's id is refused."""

        async def host(client: str):  # type: ignore[no-untyped-def]
            async def go(reg: Registry) -> None:
                gateway = await reg.get_gateway("GOV", "CIVIL-REGISTRY", "GW1")
                await reg.add_gateway_client(gateway, client)

            return await refused(env, go)

        assert (await host("MA/GOV/CIVIL-REGISTRY")).errors[0].rule == "subsystem_required"
        assert (await host("QA/GOV/MOI/X")).errors[0].rule == "foreign_instance"
        assert (await host("MA/GOV/CIVIL-REGISTRY/NOPE")).errors[0].rule == "unknown_reference"


def _csr(subject: str) -> str:
    return csr_to_pem(create_csr(generate_private_key("p256"), subject)).decode()


class TestCertificates:
    async def test_csr_to_certificate_chains_to_the_instance_ca(self, env: Env) -> None:
        """An approved auth CSR gives a TLS certificate for the gateway, chaining to the CA."""
        async with env.database.transaction() as session:
            reg = env.registry(session)
            csr = await reg.submit_csr(
                "auth", "MA/GOV/CIVIL-REGISTRY/GW1", _csr("MA/GOV/CIVIL-REGISTRY/GW1")
            )
            stored = await reg.approve_csr(csr.id)
        certificate = load_certificate(stored.der)
        path = verify_chain(
            certificate, roots=[env.keystore.ca_certificate()], profile=CertificateProfile.AUTH
        )
        assert len(path) == 2
        san = certificate.extensions.get_extension_for_class(
            __import__("cryptography").x509.SubjectAlternativeName
        )
        assert "127.0.0.1" in str(san.value)

    async def test_signing_csr_for_a_member(self, env: Env) -> None:
        """A sign CSR whose subject is the member id yields a signing certificate."""
        async with env.database.transaction() as session:
            reg = env.registry(session)
            csr = await reg.submit_csr(
                "sign", "MA/GOV/CIVIL-REGISTRY", _csr("MA/GOV/CIVIL-REGISTRY")
            )
            stored = await reg.approve_csr(csr.id)
        verify_chain(
            load_certificate(stored.der),
            roots=[env.keystore.ca_certificate()],
            profile=CertificateProfile.SIGN,
        )

    async def test_mismatched_subject_is_refused(self, env: Env) -> None:
        """A CSR whose CN differs from the subject identifier is refused: csr.subject rule."""
        problem = await refused(
            env, lambda r: r.submit_csr("sign", "MA/GOV/CIVIL-REGISTRY", _csr("MA/GOV/OTHER"))
        )
        assert problem.code == "csr_invalid"
        assert problem.errors[0].field == "csr.subject"
        assert problem.errors[0].rule == "subject_mismatch"

    async def test_garbage_csr_is_refused(self, env: Env) -> None:
        """A body that is not a CSR is refused as csr.csr malformed."""
        problem = await refused(
            env, lambda r: r.submit_csr("sign", "MA/GOV/CIVIL-REGISTRY", "hello")
        )
        assert (problem.code, problem.errors[0].rule) == ("csr_invalid", "malformed")

    async def test_approving_twice_is_refused(self, env: Env) -> None:
        """A decided CSR cannot be approved again (csr_not_pending), nothing is issued."""
        async with env.database.transaction() as session:
            reg = env.registry(session)
            csr = await reg.submit_csr(
                "sign", "MA/GOV/CIVIL-REGISTRY", _csr("MA/GOV/CIVIL-REGISTRY")
            )
            await reg.approve_csr(csr.id)
        problem = await refused(env, lambda r: r.approve_csr(csr.id))
        assert problem.code == "csr_not_pending"
        assert await env.count(Certificate) == 1


class TestCascade:
    async def test_deleting_a_member_removes_everything_it_owned(self, env: Env) -> None:
        """Subsystems, gateways, certificates and group memberships go with the member."""
        async with env.database.transaction() as session:
            reg = env.registry(session)
            csr = await reg.submit_csr(
                "sign", "MA/GOV/CIVIL-REGISTRY", _csr("MA/GOV/CIVIL-REGISTRY")
            )
            await reg.approve_csr(csr.id)
            await reg.add_group("OWNERS", "")
            await reg.add_group_member("OWNERS", "MA/GOV/CIVIL-REGISTRY/REGISTRY")
        async with env.database.transaction() as session:
            await env.registry(session).delete_member("GOV", "CIVIL-REGISTRY")
        for model in (Member, Subsystem, Certificate, GroupMember):
            assert await env.count(model) == 0, model.__name__
