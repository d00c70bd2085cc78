"""Signed tree heads time-stamped by a real RFC 3161 TSA over loopback HTTP, and health."""

from __future__ import annotations

import httpx
import pytest
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from sqlalchemy import select

from jisr.crypto.errors import TimestampError
from jisr.crypto.tsp import TimeStampAuthority, extract_token, make_request, verify_token
from jisr.crypto.x509 import certificate_to_der, load_certificate
from jisr.exchange.messagelog import (
    HttpTimestamper,
    TimestamperFailed,
    TreeHead,
)
from jisr.exchange.messagelog import log as log_module
from jisr.exchange.messagelog.merkle import root_hash
from jisr.exchange.messagelog.models import Leaf, SignerCertificate
from jisr.exchange.messagelog.models import TreeHead as TreeHeadRow
from jisr.exchange.messagelog.timestamper import REPLY_MEDIA_TYPE
from jisr.exchange.messagelog.treehead import (
    token_certificates,
    verify_tree_head,
    verify_tree_head_timestamp,
)
from jisr.storage import Database
from tests.exchange.messagelog.conftest import (
    Clock,
    LogFactory,
    Pki,
    TsaServer,
    exchange,
    make_record,
    wait_for,
)
from tests.servers import free_port


async def tree_heads(database: Database) -> list[tuple[TreeHead, object]]:
    async with database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(TreeHeadRow, SignerCertificate.der)
                .join(SignerCertificate)
                .order_by(TreeHeadRow.id)
            )
        ).all()
    return [
        (
            TreeHead("MA/GOV/CIVIL-REGISTRY/GW1", r.tree_size, r.root_hash, r.timestamp_ms,
                     r.signer_sha256),
            r,
        )
        for r in rows
    ]  # fmt: skip


class TestSignedTreeHeads:
    async def test_tree_heads_are_signed_and_timestamped_by_the_tsa(
        self,
        database: Database,
        make_log: LogFactory,
        http_timestamper: HttpTimestamper,
        tsa: TsaServer,
        pki: Pki,
    ) -> None:
        """Every second (here: 50 ms) the log signs an STH and the TSA stamps its bytes;
        both verify, and the root is the tree of the stored leaves."""
        log = make_log(http_timestamper)
        async with log:
            for i in range(5):
                await log.append(*exchange(f"t-{i}"))
            await wait_for(lambda: log.status().timestamped_size == 10)
        assert tsa.requests >= 1
        async with database.engine.connect() as connection:
            leaves = list(
                (await connection.scalars(select(Leaf.leaf_hash).order_by(Leaf.leaf_index))).all()
            )
        heads = await tree_heads(database)
        assert heads
        for head, row in heads:
            certificate = load_certificate(row.der)  # type: ignore[attr-defined]
            verify_tree_head(head, row.signature, certificate, ca_certificates=[pki.ca])  # type: ignore[attr-defined]
            assert head.root_hash == root_hash(leaves[: head.tree_size])
        head, row = heads[-1]
        info = verify_tree_head_timestamp(head, row.tsa_token, ca_certificates=[pki.ca])  # type: ignore[attr-defined]
        assert info.policy == tsa.authority._policy
        assert row.timestamped_at == info.gen_time  # type: ignore[attr-defined]

    async def test_tree_head_after_max_records(self, make_log: LogFactory) -> None:
        """sth_max_records uncovered leaves bring the next STH forward."""
        log = make_log(sth_interval=60, sth_max_records=10)
        async with log:
            await log.append(*[make_record(f"n-{i}") for i in range(25)])
            await wait_for(lambda: log.status().tree_head_size == 25, within=5)

    async def test_tampered_signature_does_not_verify(
        self, database: Database, make_log: LogFactory, pki: Pki
    ) -> None:
        """The signature covers the STH bytes: another size or root does not verify."""
        log = make_log()
        async with log:
            await log.append(make_record())
        head, row = (await tree_heads(database))[-1]
        forged = TreeHead(head.log_id, head.tree_size + 1, head.root_hash, head.timestamp,
                          head.signer_sha256)  # fmt: skip
        with pytest.raises(ValueError, match="signature"):
            verify_tree_head(forged, row.signature, pki.gateway, ca_certificates=[pki.ca])  # type: ignore[attr-defined]
        with pytest.raises(ValueError, match="time-stamp"):
            verify_tree_head_timestamp(forged, row.tsa_token, ca_certificates=[pki.ca])  # type: ignore[attr-defined]


def _tsa_leaving_out_its_certificate(
    authority: TimeStampAuthority, embedded: list[x509.Certificate]
) -> httpx.AsyncClient:
    """An HTTP client whose TSA embeds ``embedded`` in its tokens instead of its own
    certificate (none: as if certReq were false). The certificates are not signed: the
    token still verifies against the configured TSA certificate."""

    def answer(request: httpx.Request) -> httpx.Response:
        reply = tsp.TimeStampResp.load(authority.respond(request.content))
        signed_data = reply["time_stamp_token"]["content"]
        if embedded:
            signed_data["certificates"] = [
                asn1_x509.Certificate.load(certificate_to_der(c)) for c in embedded
            ]
        else:
            del signed_data["certificates"]
        return httpx.Response(200, content=reply.dump(), headers={"content-type": REPLY_MEDIA_TYPE})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


class TestStandAloneTokens:
    async def test_token_from_the_http_timestamper_is_not_verified_twice(
        self,
        database: Database,
        make_log: LogFactory,
        http_timestamper: HttpTimestamper,
        pki: Pki,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """HttpTimestamper verified the token over the STH digest against the configured
        TSA certificate and CA: the log stores it without verifying it again, and it still
        stands alone (its own certificate, the CA)."""

        def again(*_: object, **__: object) -> None:
            raise AssertionError("the token was verified a second time")

        monkeypatch.setattr(log_module, "verify_token", again)
        log = make_log(http_timestamper)
        async with log:
            await log.append(*exchange("once"))
            await wait_for(lambda: log.status().timestamped_size == 2)
        assert log.status().last_timestamp_error is None
        head, row = (await tree_heads(database))[-1]
        info = verify_tree_head_timestamp(head, row.tsa_token, ca_certificates=[pki.ca])  # type: ignore[attr-defined]
        assert row.timestamped_at == info.gen_time  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("embedded", "error"),
        [
            ("none", "unreadable time-stamp token"),
            ("the CA only", "does not carry its TSA certificate"),
        ],
    )
    async def test_http_token_without_its_certificate_is_refused(
        self,
        make_log: LogFactory,
        authority: TimeStampAuthority,
        pki: Pki,
        embedded: str,
        error: str,
    ) -> None:
        """A TSA that leaves its certificate out: the token verifies against the
        configuration, but would not stand alone, so the log does not keep it."""
        http = _tsa_leaving_out_its_certificate(authority, [] if embedded == "none" else [pki.ca])
        timestamper = HttpTimestamper(
            "http://tsa.invalid/tsa",
            tsa_certificates=[pki.tsa],
            ca_certificates=[pki.ca],
            http=http,
        )
        assert await timestamper.timestamp(bytes(32))  # verified against the configuration
        log = make_log(timestamper)
        try:
            async with log:
                await log.append(make_record("no-cert"))
                await wait_for(lambda: log.status().last_timestamp_error is not None)
                status = log.status()
        finally:
            await http.aclose()
        assert error in (status.last_timestamp_error or "")
        assert status.timestamped_size == 0

    async def test_other_timestamper_token_without_its_certificate_is_refused(
        self, make_log: LogFactory, authority: TimeStampAuthority
    ) -> None:
        """Any other timestamper's token is verified by the log in full, its own
        certificates as the candidates: without them, it is refused."""

        class NoCertificates:
            async def timestamp(self, digest: bytes) -> bytes:
                return extract_token(authority.respond(make_request(digest, cert_req=False)))

        log = make_log(NoCertificates())
        async with log:
            await log.append(make_record("no-cert"))
            await wait_for(lambda: log.status().last_timestamp_error is not None)
            status = log.status()
        assert "unreadable time-stamp token" in (status.last_timestamp_error or "")
        assert status.timestamped_size == 0

    def test_the_token_must_cover_the_digest(self, authority: TimeStampAuthority) -> None:
        """The log's check of a verified token also holds it to the digest it asked for."""
        digest = bytes(32)
        token = extract_token(authority.respond(make_request(digest, cert_req=True)))
        info = verify_token(token, digest=digest, tsa_certificates=token_certificates(token))
        log_module._check_carries_signer(info, digest)
        with pytest.raises(TimestampError) as caught:
            log_module._check_carries_signer(info, b"\x01" * 32)
        assert caught.value.reason == "imprint_mismatch"


class TestHealth:
    async def test_tsa_down_makes_the_log_unhealthy_after_the_limit_then_it_recovers(
        self, make_log: LogFactory, http_timestamper: HttpTimestamper, tsa: TsaServer
    ) -> None:
        """TSA failing longer than timestamp_failure_limit with unstamped records: the log
        refuses traffic with TimestamperFailed; once the TSA answers again, it is healthy."""
        clock = Clock()
        tsa.up = False
        log = make_log(http_timestamper, clock=clock, timestamp_failure_limit=30)
        async with log:
            await log.append(*exchange("while-down"))
            await wait_for(lambda: log.status().timestamp_failing_since is not None)
            assert log.healthy()  # failing, but not for long yet
            clock.advance(31)
            assert not log.healthy()
            with pytest.raises(TimestamperFailed) as refused:
                await log.append(make_record("refused"))
            assert refused.value.xroad_code("provider") == "Server.ServerProxy.TimestamperFailed"
            assert refused.value.xroad_code("consumer") == "Server.ClientProxy.TimestamperFailed"
            assert "503" in (log.status().last_timestamp_error or "")
            tsa.up = True
            await wait_for(log.healthy)
            status = log.status()
            assert status.timestamped_size == status.size == 2
            assert status.timestamp_failing_since is None
            assert await log.append(make_record("after")) == [2]

    async def test_no_unstamped_records_means_healthy(self, make_log: LogFactory, pki: Pki) -> None:
        """An unreachable TSA does not matter while everything logged is stamped."""
        clock = Clock()
        unreachable = HttpTimestamper(
            f"http://127.0.0.1:{free_port()}/tsa",
            tsa_certificates=[pki.tsa],
            ca_certificates=[pki.ca],
            timeout=0.5,
        )
        log = make_log(unreachable, clock=clock, timestamp_failure_limit=1)
        try:
            async with log:
                clock.advance(3600)
                assert log.healthy()
                await log.append(make_record())
                await wait_for(lambda: log.status().last_timestamp_error is not None)
                assert "ConnectError" in (log.status().last_timestamp_error or "")
                clock.advance(2)
                assert not log.healthy()
        finally:
            await unreachable.aclose()


class TestHttpTimestamper:
    async def test_reply_from_another_tsa_is_refused(self, tsa: TsaServer, pki: Pki) -> None:
        """A token not signed by one of the given TSA certificates is refused."""
        timestamper = HttpTimestamper(
            tsa.url, tsa_certificates=[pki.gateway], ca_certificates=[pki.ca]
        )
        try:
            with pytest.raises(TimestampError, match="unknown_signer"):
                await timestamper.timestamp(b"\x01" * 32)
        finally:
            await timestamper.aclose()

    async def test_reply_is_verified_and_returned(
        self, http_timestamper: HttpTimestamper, pki: Pki
    ) -> None:
        """A good reply gives the DER token, carrying the TSA certificate (certReq)."""
        from jisr.exchange.messagelog.treehead import token_certificates

        token = await http_timestamper.timestamp(b"\x02" * 32)
        assert pki.tsa in token_certificates(token)
