"""The lean HTTP/1.1 client (``http11.py``) against real servers on 127.0.0.1.

Well-behaved peers run under uvicorn (``tests.servers.serve_in_thread``); misbehaving ones
are ``asyncio.start_server`` handlers written here, sending exactly the bytes a case needs
and counting the connections they accept, so connection reuse is observed from the server
side. Every test runs inside ``asyncio.timeout(BOUND)``; none asserts on speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jisr.crypto.keys import generate_private_key, private_key_to_pem
from jisr.crypto.x509 import (
    CertificateProfile,
    certificate_to_pem,
    create_root_ca,
    fingerprint_sha256,
    issue_certificate,
)
from jisr.exchange.gateway.http11 import (
    ConnectFailed,
    Pool,
    ProtocolFailure,
    RequestTimeout,
    Response,
)
from tests.servers import free_port, serve_in_thread

BOUND = 30.0  # seconds any one test may run, however the client misbehaves
SECONDS = 5.0  # the request timeout where a test is not about timeouts
SHORT = 0.5  # the request timeout where a test expects one
CHUNK = 64 * 1024
BIG = 20 * 1024 * 1024
HOST = "127.0.0.1"

BodyFactory = Callable[[], AsyncIterator[bytes]]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


# --- raw-socket servers ----------------------------------------------------------------


@dataclass
class Peer:
    """A raw server as the test sees it: its port and what it accepted."""

    port: int = 0
    connections: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def raw_server(
    handler: Handler, *, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Peer]:
    """Serve ``handler(reader, writer, connection_index)`` on a free loopback port.

    On exit every connection is aborted and every handler awaited (bounded), so no task
    outlives the test. A handler that should hold its connection open awaits ``peer.stop``.
    """
    peer = Peer()
    writers: list[asyncio.StreamWriter] = []
    tasks: set[asyncio.Task[Any]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = peer.connections
        peer.connections += 1
        writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        # The client going away is how most exchanges end; it is not the server's failure.
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ssl.SSLError):
            await handler(reader, writer, index)
        writer.close()

    server = await asyncio.start_server(accept, HOST, 0, ssl=ssl_context)
    peer.port = server.sockets[0].getsockname()[1]
    try:
        yield peer
    finally:
        server.close()
        peer.stop.set()
        for writer in writers:
            writer.transport.abort()
        if tasks:
            await asyncio.wait(tasks, timeout=5)


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request's head and its Content-Length body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = content_length(head)
    body = await reader.readexactly(length) if length else b""
    return head, body


def content_length(head: bytes) -> int:
    match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return int(match.group(1)) if match else 0


def ok(body: bytes, *fields: bytes, status: bytes = b"200 OK") -> bytes:
    """A complete HTTP/1.1 response with a Content-Length body."""
    extra = b"".join(f + b"\r\n" for f in fields)
    return b"HTTP/1.1 %s\r\ncontent-length: %d\r\n%s\r\n%s" % (status, len(body), extra, body)


def receipt(index: int, body: bytes) -> bytes:
    """What a server answers to show which connection carried which body."""
    return f"{index} {len(body)} {hashlib.sha256(body).hexdigest()}".encode()


async def answer(writer: asyncio.StreamWriter, response: bytes) -> None:
    writer.write(response)
    await writer.drain()


def keep_alive(response: bytes | None = None) -> Handler:
    """Answer every request on every connection, never closing first; by default with a
    receipt naming the connection and the body it carried."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, i: int) -> None:
        while True:
            _, body = await read_request(reader)
            await answer(writer, response if response is not None else ok(receipt(i, body)))

    return handle


# --- client side -----------------------------------------------------------------------


@pytest.fixture
async def pool() -> AsyncIterator[Pool]:
    """A plain (no TLS) pool, closed after the test."""
    client = Pool(connect_timeout=SECONDS)
    yield client
    await client.aclose()


async def fetch(
    pool: Pool,
    port: int,
    target: str = "/",
    *,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes | BodyFactory | None = None,
    seconds: float = SECONDS,
    server_hostname: str | None = None,
) -> tuple[Response, bytes]:
    """One request, its body read to the end (which returns the connection to the pool)."""
    response = await pool.request(
        method,
        HOST,
        port,
        target,
        headers or [],
        body=body,
        seconds=seconds,
        server_hostname=server_hostname,
    )
    return response, b"".join([chunk async for chunk in response.chunks()])


async def read_into(response: Response, received: list[bytes]) -> None:
    """Read the body into ``received`` (so what came before an error stays visible)."""
    async for chunk in response.chunks():
        received.append(chunk)


def length_header(size: int) -> list[tuple[bytes, bytes]]:
    return [(b"content-length", str(size).encode())]


def block(index: int) -> bytes:
    """A distinct, reproducible 64 KiB block."""
    return hashlib.shake_256(index.to_bytes(4, "big")).digest(CHUNK)


def big_body(size: int = BIG) -> tuple[BodyFactory, str]:
    """A body factory yielding ``size`` bytes in 64 KiB chunks, and their SHA-256."""
    count = size // CHUNK
    digest = hashlib.sha256()
    for index in range(count):
        digest.update(block(index))

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(count):
            yield block(index)

    return chunks, digest.hexdigest()


@dataclass
class Replayable:
    """A request body the pool may send twice, and how often it was produced."""

    data: bytes
    kind: str
    produced: int = 0

    def argument(self) -> bytes | BodyFactory:
        if self.kind == "bytes":
            return self.data

        async def chunks() -> AsyncIterator[bytes]:
            self.produced += 1
            for offset in range(0, len(self.data), CHUNK):
                yield self.data[offset : offset + CHUNK]

        return chunks


@pytest.fixture(params=["bytes", "factory"])
def replayable(request: pytest.FixtureRequest) -> Replayable:
    """A 256 KiB request body, as bytes or as a body factory."""
    return Replayable(b"".join(block(i) for i in range(4)), request.param)


# --- uvicorn ---------------------------------------------------------------------------


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/echo`` streams the request body back as it arrives (response started first);
    any other path answers with the client port, naming the connection it came on."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/echo":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            await send({"type": "http.response.body", "body": message["body"], "more_body": True})
            more = message.get("more_body", False)
        await send({"type": "http.response.body", "body": b""})
        return
    body = str(scope["client"][1]).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def uvicorn_port() -> Iterator[int]:
    """``asgi_app`` under uvicorn (httptools, keep-alive on) in a thread."""
    with serve_in_thread(asgi_app) as url:
        yield int(url.rsplit(":", 1)[1])


# --- TLS -------------------------------------------------------------------------------


@dataclass
class Tls:
    server: ssl.SSLContext
    ca_pem: bytes
    server_sha256: str


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A test CA and a server context holding an auth certificate for 127.0.0.1."""
    ca_key, server_key = generate_private_key(), generate_private_key()
    ca_cert = create_root_ca(ca_key, "Jisr Test Root", organization="Jisr")
    certificate = issue_certificate(
        public_key=server_key.public_key(),
        subject_common_name="gateway",
        subject_organization="Jisr",
        profile=CertificateProfile.AUTH,
        ca_key=ca_key,
        ca_cert=ca_cert,
        san_host=HOST,
        validity_days=1,
    )
    directory: Path = tmp_path_factory.mktemp("tls")
    (directory / "cert.pem").write_bytes(certificate_to_pem(certificate))
    (directory / "key.pem").write_bytes(private_key_to_pem(server_key, None))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return Tls(server, certificate_to_pem(ca_cert), fingerprint_sha256(certificate))


# --- tests -----------------------------------------------------------------------------


class TestKeepAlive:
    async def test_uvicorn_serves_three_sequential_requests_on_one_connection(
        self, pool: Pool, uvicorn_port: int
    ) -> None:
        """Three requests in a row to uvicorn arrive from the same client port: the
        connection went back to the pool after each body was read and was reused."""
        async with asyncio.timeout(BOUND):
            ports = [(await fetch(pool, uvicorn_port, "/who"))[1] for _ in range(3)]
        assert len(set(ports)) == 1, ports

    async def test_raw_server_accepts_one_connection_for_three_requests(self, pool: Pool) -> None:
        """Three sequential requests (GET, POST with bytes, POST with a factory) to a
        keep-alive server open exactly one connection."""
        data = b"x" * 1000

        async def factory() -> AsyncIterator[bytes]:
            yield data

        async with asyncio.timeout(BOUND), raw_server(keep_alive()) as peer:
            _, first = await fetch(pool, peer.port)
            _, second = await fetch(
                pool, peer.port, method="POST", body=data, headers=length_header(len(data))
            )
            _, third = await fetch(
                pool, peer.port, method="POST", body=factory, headers=length_header(len(data))
            )
        assert peer.connections == 1
        assert (first, second, third) == (receipt(0, b""), receipt(0, data), receipt(0, data))

    @pytest.mark.parametrize(
        "response",
        [
            pytest.param(ok(b"bye", b"connection: close"), id="connection-close"),
            pytest.param(b"HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nold", id="http-1.0"),
        ],
    )
    async def test_connection_not_reused_when_the_response_says_so(
        self, pool: Pool, response: bytes
    ) -> None:
        """A ``Connection: close`` response, or an HTTP/1.0 one without keep-alive, is not
        pooled: the next request opens a new connection, even though this server keeps the
        old one open and would have answered on it."""
        async with asyncio.timeout(BOUND), raw_server(keep_alive(response)) as peer:
            await fetch(pool, peer.port)
            second, _ = await fetch(pool, peer.port)
        assert peer.connections == 2
        assert second.status == 200

    async def test_http10_keep_alive_response_is_reused(self, pool: Pool) -> None:
        """An HTTP/1.0 response that asks for keep-alive (and has a length) is pooled."""
        response = b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok"
        async with asyncio.timeout(BOUND), raw_server(keep_alive(response)) as peer:
            for _ in range(3):
                await fetch(pool, peer.port)
        assert peer.connections == 1


class TestStaleConnections:
    async def test_connection_closed_while_idle_is_replaced(
        self, pool: Pool, replayable: Replayable
    ) -> None:
        """The server closes a keep-alive connection after answering; the next request
        (bytes or factory body) succeeds on a new connection with its whole body."""
        closed = asyncio.Event()

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, i: int
        ) -> None:
            _, body = await read_request(reader)
            await answer(writer, ok(receipt(i, body)))
            writer.close()
            await writer.wait_closed()
            closed.set()

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            await fetch(pool, peer.port)
            await closed.wait()
            response, data = await fetch(
                pool,
                peer.port,
                method="POST",
                body=replayable.argument(),
                headers=length_header(len(replayable.data)),
            )
        assert response.status == 200
        assert data == receipt(1, replayable.data)
        assert peer.connections == 2

    async def test_close_crossing_the_request_is_retried_once(
        self, pool: Pool, replayable: Replayable
    ) -> None:
        """The keep-alive race: the server closes the pooled connection as the next request
        arrives, without answering. The request is replayed on a fresh connection (a body
        factory is called again) and the server gets the whole body there."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, i: int
        ) -> None:
            if i == 0:
                await read_request(reader)
                await answer(writer, ok(b"first"))
                await read_request(reader)
                return  # closes without answering
            await keep_alive()(reader, writer, i)

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            await fetch(pool, peer.port)
            response, data = await fetch(
                pool,
                peer.port,
                method="POST",
                body=replayable.argument(),
                headers=length_header(len(replayable.data)),
            )
        assert response.status == 200
        assert data == receipt(1, replayable.data)
        assert peer.connections == 2
        assert replayable.produced == (2 if replayable.kind == "factory" else 0)

    async def test_retry_happens_only_once(self, pool: Pool) -> None:
        """If the fresh connection of the retry also closes without answering, the request
        fails with ProtocolFailure; no third connection is tried."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, i: int
        ) -> None:
            if i == 0:
                await read_request(reader)
                await answer(writer, ok(b"first"))
            await read_request(reader)  # then close without answering

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            await fetch(pool, peer.port)
            with pytest.raises(ProtocolFailure):
                await fetch(pool, peer.port, method="POST", body=b"data", headers=length_header(4))
        assert peer.connections == 2


class TestFullDuplex:
    @pytest.mark.parametrize("server", ["raw", "uvicorn"])
    async def test_20mb_echo_answered_while_sending(
        self, pool: Pool, server: str, request: pytest.FixtureRequest
    ) -> None:
        """A server that streams the body back chunk by chunk while still reading it (raw:
        Content-Length answer, drained per chunk; uvicorn: chunked answer) gets a 20 MB body
        from a factory of 64 KiB chunks: no deadlock, and the echo hashes like the request."""
        factory, expected = big_body()

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
            remaining = content_length(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % remaining)
            while remaining:
                data = await reader.read(min(CHUNK, remaining))
                if not data:
                    return
                remaining -= len(data)
                await answer(writer, data)
            await peer.stop.wait()

        async def send(port: int) -> tuple[int, str]:
            response = await pool.request(
                "POST", HOST, port, "/echo", length_header(BIG), body=factory, seconds=SECONDS
            )
            digest = hashlib.sha256()
            async for chunk in response.chunks():
                digest.update(chunk)
            return response.status, digest.hexdigest()

        async with asyncio.timeout(BOUND):
            if server == "uvicorn":
                status, actual = await send(request.getfixturevalue("uvicorn_port"))
            else:
                async with raw_server(echo) as peer:
                    status, actual = await send(peer.port)
        assert status == 200
        assert actual == expected

    async def test_early_answer_while_sending_is_delivered_and_not_pooled(self, pool: Pool) -> None:
        """A server answers 413 right after the request head and stops reading while the
        client is still sending a 20 MB body: the client gets the 413, and that connection
        (mid-request, though the 413 did not say close) is not pooled — the next request
        opens a new one."""
        factory, _ = big_body()

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, i: int
        ) -> None:
            if i > 0:
                await keep_alive()(reader, writer, i)
                return
            await reader.readuntil(b"\r\n\r\n")
            await answer(writer, ok(b"too large", status=b"413 Content Too Large"))
            await peer.stop.wait()  # holds the connection open, reading nothing more

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            early, data = await fetch(
                pool, peer.port, method="POST", body=factory, headers=length_header(BIG)
            )
            after, receipt_data = await fetch(pool, peer.port)
        assert (early.status, data) == (413, b"too large")
        assert after.status == 200
        assert receipt_data == receipt(1, b"")
        assert peer.connections == 2

    async def test_failing_body_factory_fails_the_request_promptly(self, pool: Pool) -> None:
        """A body factory that raises part-way fails the request at once with a
        ProtocolFailure naming that error, rather than leaving the server waiting for the
        rest and reporting a timeout."""

        async def broken() -> AsyncIterator[bytes]:
            yield b"x" * 10
            raise ValueError("the spool file went away")

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
        ) -> None:
            await read_request(reader)  # waits for 100 bytes that never come
            await answer(writer, ok(b"late"))

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            with pytest.raises(ProtocolFailure, match="spool file"):
                await fetch(
                    pool,
                    peer.port,
                    method="POST",
                    body=broken,
                    headers=length_header(100),
                    seconds=SHORT,
                )


class TestResponseFraming:
    async def test_chunked_response_is_decoded_and_connection_reused(self, pool: Pool) -> None:
        """A chunked response (chunk extension, trailer, written in pieces) is decoded to its
        payload, and the connection serves the next request."""
        pieces = [
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            b"5;ext=1\r\nhello\r\n",
            b"1",
            b"0\r\n" + b"a" * 16,
            b"\r\n0\r\nx-trailer: t\r\n\r\n",
        ]

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, i: int
        ) -> None:
            while True:
                await read_request(reader)
                for piece in pieces:
                    await answer(writer, piece)
                    await asyncio.sleep(0.01)

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            first, body = await fetch(pool, peer.port)
            _, again = await fetch(pool, peer.port)
        assert first.header(b"transfer-encoding") == b"chunked"
        assert body == again == b"hello" + b"a" * 16
        assert peer.connections == 1

    @pytest.mark.parametrize(
        "response",
        [
            pytest.param(b"HTTP/1.1 204 No Content\r\n\r\n", id="204"),
            pytest.param(b"HTTP/1.1 304 Not Modified\r\ncontent-length: 1234\r\n\r\n", id="304"),
            pytest.param(ok(b""), id="200-empty"),
        ],
    )
    async def test_empty_bodies_complete_at_once_and_keep_the_connection(
        self, pool: Pool, response: bytes
    ) -> None:
        """204, a 304 announcing a length it never sends (RFC 9110 §15.4.5) and a
        ``Content-Length: 0`` answer have empty bodies; the connection stays in sync for
        the next response."""
        async with asyncio.timeout(BOUND), raw_server(keep_alive(response)) as peer:
            first, body = await fetch(pool, peer.port, seconds=SHORT)
            second, again = await fetch(pool, peer.port, seconds=SHORT)
        assert body == again == b""
        assert first.status == second.status
        assert peer.connections == 1

    async def test_head_response_has_no_body(self, pool: Pool) -> None:
        """The answer to HEAD carries the Content-Length a GET would have but no body
        (RFC 9112 §6.3 rule 1): the client returns an empty body and reuses the
        connection."""
        response = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
        async with asyncio.timeout(BOUND), raw_server(keep_alive(response)) as peer:
            head, body = await fetch(pool, peer.port, method="HEAD", seconds=SHORT)
        assert (head.status, head.header(b"content-length"), body) == (200, b"5", b"")

    @pytest.mark.parametrize(
        "status_line", [b"HTTP/1.0 200 OK", b"HTTP/1.1 200 OK\r\nconnection: close"]
    )
    async def test_close_delimited_body_is_read_to_the_end(
        self, pool: Pool, status_line: bytes
    ) -> None:
        """A response without Content-Length or chunking whose body ends when the server
        closes the connection is complete at that close."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
        ) -> None:
            await read_request(reader)
            await answer(writer, status_line + b"\r\n\r\nuntil the end")

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            response, body = await fetch(pool, peer.port)
        assert (response.status, body) == (200, b"until the end")

    async def test_interim_1xx_response_is_skipped(self, pool: Pool) -> None:
        """RFC 9110 §15.2: a client must parse 1xx responses it did not ask for; the
        final response (200) is the one returned, and the next request gets its own."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
        ) -> None:
            await read_request(reader)
            await answer(writer, b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n")
            await asyncio.sleep(0.05)
            await answer(writer, ok(b"final"))
            await read_request(reader)
            await answer(writer, ok(b"second"))

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            response, body = await fetch(pool, peer.port, "/first", seconds=SHORT)
            _, next_body = await fetch(pool, peer.port, "/second", seconds=SHORT)
        assert (response.status, body, next_body) == (200, b"final", b"second")

    async def test_large_headers_split_across_reads(self, pool: Pool) -> None:
        """A 300 KiB header value (larger than one read), 200 further fields and a repeated
        field, written 1 KiB at a time, arrive intact; repeated fields join with ", "."""
        large = b"v" * (300 * 1024)
        many = [b"x-field-%d: value-%d" % (n, n) for n in range(200)]
        raw = ok(b"body", b"x-large: " + large, *many, b"x-repeat: a", b"x-repeat: b")

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
        ) -> None:
            await read_request(reader)
            for offset in range(0, len(raw), 1024):
                await answer(writer, raw[offset : offset + 1024])

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            response, body = await fetch(pool, peer.port)
        assert body == b"body"
        assert response.header(b"x-large") == large
        assert response.fields["x-field-199"] == "value-199"
        assert response.fields["x-repeat"] == "a, b"
        assert response.header(b"x-repeat") == b"a"


class TestErrors:
    async def test_connection_refused_is_connect_failed(self, pool: Pool) -> None:
        """Nothing listening on the port: ConnectFailed."""
        async with asyncio.timeout(BOUND):
            with pytest.raises(ConnectFailed):
                await fetch(pool, free_port())

    async def test_server_that_never_answers_times_out(self, pool: Pool) -> None:
        """A server that reads the request and says nothing: RequestTimeout after the given
        ``seconds`` (0.5 s), well before the test's own bound."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
        ) -> None:
            await read_request(reader)
            await peer.stop.wait()

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            with pytest.raises(RequestTimeout):
                await fetch(pool, peer.port, seconds=SHORT)

    async def test_fresh_connection_closed_before_answering_is_not_retried(
        self, pool: Pool
    ) -> None:
        """A new (never pooled) connection closed without an answer is a ProtocolFailure at
        once: only a reused connection may have gone stale."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
        ) -> None:
            await read_request(reader)

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            with pytest.raises(ProtocolFailure):
                await fetch(pool, peer.port)
        assert peer.connections == 1

    @pytest.mark.parametrize(
        "partial",
        [
            pytest.param(ok(b"0123456789" * 10)[:-90], id="content-length"),
            pytest.param(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n64\r\n0123", id="chunked"
            ),
        ],
    )
    async def test_close_mid_body_is_protocol_failure(self, pool: Pool, partial: bytes) -> None:
        """The server sends the head and part of the body, then closes: reading the body
        raises ProtocolFailure, and the next request is answered on a new connection."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, i: int
        ) -> None:
            if i > 0:
                await keep_alive()(reader, writer, i)
                return
            await read_request(reader)
            await answer(writer, partial)

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            response = await pool.request("GET", HOST, peer.port, "/", [], seconds=SECONDS)
            assert response.status == 200
            with pytest.raises(ProtocolFailure):
                await read_into(response, [])
            _, after = await fetch(pool, peer.port)
        assert after == receipt(1, b"")

    @pytest.mark.parametrize(
        "garbage",
        [
            pytest.param(b"SSH-2.0-OpenSSH_9.6\r\n", id="not-http"),
            pytest.param(b"HTTP/1.1 999999 Nope\r\n\r\n", id="bad-status"),
            pytest.param(b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", id="bad-length"),
        ],
    )
    async def test_garbage_instead_of_http_is_protocol_failure(
        self, pool: Pool, garbage: bytes
    ) -> None:
        """Bytes that are not an HTTP/1.1 response head: ProtocolFailure."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
        ) -> None:
            await read_request(reader)
            await answer(writer, garbage)
            await peer.stop.wait()

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            with pytest.raises(ProtocolFailure):
                await fetch(pool, peer.port)

    async def test_garbage_in_chunked_body_is_protocol_failure(self, pool: Pool) -> None:
        """A chunk-size line that is not hex, after a valid head: ProtocolFailure while
        reading the body."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
        ) -> None:
            await read_request(reader)
            await answer(writer, b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            await asyncio.sleep(0.05)
            await answer(writer, b"zz\r\nnonsense\r\n")
            await peer.stop.wait()

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            response = await pool.request("GET", HOST, peer.port, "/", [], seconds=SECONDS)
            with pytest.raises(ProtocolFailure):
                await read_into(response, [])

    async def test_headers_then_stall_times_out_reading_the_body(self, pool: Pool) -> None:
        """The head arrives, then nothing: the response is returned, and reading its body
        raises RequestTimeout after ``seconds``."""

        async def handle(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
        ) -> None:
            await read_request(reader)
            await answer(writer, b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nstart")
            await peer.stop.wait()

        async with asyncio.timeout(BOUND), raw_server(handle) as peer:
            response = await pool.request("GET", HOST, peer.port, "/", [], seconds=SHORT)
            assert response.status == 200
            received: list[bytes] = []
            with pytest.raises(RequestTimeout):
                await read_into(response, received)
        assert b"".join(received) == b"start"


class TestTls:
    async def test_peer_certificate_hash_and_reuse(self, tls: Tls) -> None:
        """Over TLS with a context trusting the test CA, each response carries the SHA-256
        of the server certificate, and the connection is reused."""
        client = Pool(ssl_context=ssl.create_default_context(cadata=tls.ca_pem.decode()))
        try:
            async with (
                asyncio.timeout(BOUND),
                raw_server(keep_alive(), ssl_context=tls.server) as peer,
            ):
                results = [await fetch(client, peer.port, server_hostname=HOST) for _ in range(2)]
        finally:
            await client.aclose()
        assert [response.peer_sha256 for response, _ in results] == [tls.server_sha256] * 2
        assert [body for _, body in results] == [receipt(0, b"")] * 2
        assert peer.connections == 1

    async def test_plain_connection_has_no_peer_hash(self, pool: Pool) -> None:
        """Without TLS there is no peer certificate: ``peer_sha256`` is None."""
        async with asyncio.timeout(BOUND), raw_server(keep_alive()) as peer:
            response, _ = await fetch(pool, peer.port)
        assert response.peer_sha256 is None

    @pytest.mark.parametrize(
        ("trust", "server_hostname"),
        [
            pytest.param("system", HOST, id="untrusted-ca"),
            pytest.param("test-ca", "gateway.example", id="wrong-host"),
        ],
    )
    async def test_unverifiable_server_is_connect_failed(
        self, tls: Tls, trust: str, server_hostname: str
    ) -> None:
        """A client that does not trust the server's CA, or expects another host name, gets
        ConnectFailed and no response."""
        context = (
            ssl.create_default_context(cadata=tls.ca_pem.decode())
            if trust == "test-ca"
            else ssl.create_default_context()
        )
        client = Pool(ssl_context=context, connect_timeout=SECONDS)
        try:
            async with (
                asyncio.timeout(BOUND),
                raw_server(keep_alive(), ssl_context=tls.server) as peer,
            ):
                with pytest.raises(ConnectFailed):
                    await fetch(client, peer.port, server_hostname=server_hostname)
        finally:
            await client.aclose()
