"""A lean pooled HTTP/1.1 client for the gateway's hot path (peer gateways and backends).

Why not httpx (used everywhere else in Jisr): profiling the exchange showed httpx/httpcore
taking a third of a gateway's CPU per request — anyio stream layers, per-request pool
bookkeeping (``has_expired`` probes the socket), and a failing ``import`` retried on every
request by its async-library detection. This client does only what the gateway needs:
keep-alive connections per origin (TLS with the gateway's context), a request written from
a replayable body, the response parsed by ``httptools`` (llhttp, the parser uvicorn uses)
and streamed back, the peer certificate's SHA-256 per connection, and timeouts.

Errors::

    ClientError
    ├── ConnectFailed     no connection could be made (refused, TLS handshake failed)
    ├── RequestTimeout    no (complete) answer within the timeout
    └── ProtocolFailure   the peer broke HTTP/1.1 or closed mid-message
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httptools

__all__ = [
    "ClientError",
    "ConnectFailed",
    "Pool",
    "ProtocolFailure",
    "RequestTimeout",
    "Response",
]

READ_SIZE = 256 * 1024
BodyFactory = Callable[[], AsyncIterator[bytes]]


class ClientError(Exception):
    """A request failed before a complete response arrived."""


class ConnectFailed(ClientError):
    pass


class RequestTimeout(ClientError):
    pass


class ProtocolFailure(ClientError):
    pass


@dataclass
class _Parsed:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    headers_done: bool = False
    chunks: list[bytes] = field(default_factory=list)
    complete: bool = False
    keep_alive: bool = False
    interim: bool = False
    framed: bool = True
    parser: httptools.HttpResponseParser | None = None

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        assert self.parser is not None
        if 100 <= self.parser.get_status_code() < 200:
            # RFC 9110 §15.2: an interim (1xx) response precedes the final one; skip it.
            self.interim = True
            self.headers.clear()
            return
        self.headers_done = True
        # Only meaningful while the message is being parsed: llhttp resets it afterwards.
        self.keep_alive = self.parser.should_keep_alive()
        self.framed = any(
            name in (b"content-length", b"transfer-encoding") for name, _ in self.headers
        )

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        self.complete = True


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self.peer_sha256 = hashlib.sha256(der).hexdigest() if der else None
        self.reused = False
        self.idle_since = 0.0
        self.send_error: Exception | None = None

    def close(self) -> None:
        self.writer.close()


class Response:
    """Status and headers are available at once; the body streams from the connection.

    Read the body to the end (or call :meth:`close`): only then is the connection returned
    to the pool (or closed).
    """

    def __init__(
        self,
        pool: Pool,
        key: tuple[str, int],
        connection: _Connection,
        parser: httptools.HttpResponseParser,
        parsed: _Parsed,
        timeout: float,
        sender: asyncio.Task[None] | None = None,
    ) -> None:
        self.status = parser.get_status_code()
        self.headers = parsed.headers
        # Field values by name, repeated fields joined (RFC 9110 §5.3).
        self.fields: dict[str, str] = {}
        for raw_name, raw_value in parsed.headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            self.fields[name] = f"{self.fields[name]}, {value}" if name in self.fields else value
        self.peer_sha256 = connection.peer_sha256
        self._pool, self._key, self._connection = pool, key, connection
        self._parser, self._parsed, self._timeout = parser, parsed, timeout
        self._sender = sender
        self._done = False

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    async def chunks(self) -> AsyncIterator[bytes]:
        parsed = self._parsed
        try:
            while True:
                while parsed.chunks:
                    yield parsed.chunks.pop(0)
                if parsed.complete:
                    break
                data = await _read(self._connection, self._timeout)
                if not data:
                    if parsed.framed:
                        raise ProtocolFailure("the peer closed the connection mid-response")
                    # RFC 9112 §6.3 rule 8: no length, not chunked: the close ends the body.
                    parsed.complete, parsed.keep_alive = True, False
                    continue
                _feed(self._parser, data)
        except BaseException:
            self._finish(reuse=False)
            raise
        self._finish(reuse=self._parsed.keep_alive)

    def close(self) -> None:
        self._finish(reuse=False)

    def _finish(self, *, reuse: bool) -> None:
        if self._done:
            return
        self._done = True
        if self._sender is not None and not self._sender.done():
            # Answered before reading our whole body: the connection is not reusable.
            self._sender.cancel()
            reuse = False
        if reuse and self._parsed.complete:
            self._pool.release(self._key, self._connection)
        else:
            self._connection.close()


async def _read(connection: _Connection, seconds: float) -> bytes:
    try:
        async with asyncio.timeout(seconds):
            data = await connection.reader.read(READ_SIZE)
    except TimeoutError:
        raise RequestTimeout(f"no answer within {seconds} s") from None
    except (OSError, ssl.SSLError) as error:
        raise ProtocolFailure(f"connection failed while reading: {error}") from None
    return data  # b"" at end of stream


def _feed(parser: httptools.HttpResponseParser, data: bytes) -> None:
    try:
        parser.feed_data(data)
    except httptools.HttpParserError as error:
        raise ProtocolFailure(f"malformed HTTP response: {error}") from None


class Pool:
    """Keep-alive connections per (host, port); one request per connection at a time."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 5.0,
        max_idle: int = 100,
        max_idle_seconds: float = 4.0,
    ) -> None:
        self.ssl_context = ssl_context
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle
        # Below the usual server keep-alive timeouts (uvicorn: 5 s), so a pooled connection
        # is rarely closed under us.
        self.max_idle_seconds = max_idle_seconds
        self._idle: dict[tuple[str, int], list[_Connection]] = {}

    async def request(
        self,
        method: str,
        host: str,
        port: int,
        target: str,
        headers: list[tuple[bytes, bytes]],
        *,
        body: bytes | BodyFactory | None = None,
        seconds: float,
        server_hostname: str | None = None,
    ) -> Response:
        """Send a request. If a pooled connection turns out closed before a single byte of
        answer (the keep-alive race: the peer closed it while idle), the request is sent
        once more on a fresh connection, whatever its method. RFC 9112 §9.3.1.1 lets a
        client retry a non-idempotent request when it knows the semantics: gateways refuse
        a replayed X-Road-Request-Id, and idle connections are dropped after
        ``max_idle_seconds``, before servers usually close them, so the race is rare."""
        key = (host, port)
        head = _head(method, target, host, port, headers)
        attempts = 2
        for attempt in range(attempts):
            connection = await self._connection(key, server_hostname)
            try:
                return await self._exchange(key, connection, head, body, seconds, method)
            except _Stale:
                connection.close()
                if attempt == attempts - 1:
                    raise ProtocolFailure("the connection closed before answering") from None
        raise AssertionError("unreachable")

    async def _exchange(
        self,
        key: tuple[str, int],
        connection: _Connection,
        head: bytes,
        body: bytes | BodyFactory | None,
        seconds: float,
        method: str,
    ) -> Response:
        """Write the request and read the response head. A streamed body is written by a
        task while the response is read (full duplex): a service that answers as it reads,
        or answers early, cannot deadlock against us."""
        parsed = _Parsed()
        parser = httptools.HttpResponseParser(parsed)
        parsed.parser = parser
        stale_possible = connection.reused
        sender: asyncio.Task[None] | None = None
        try:
            connection.writer.write(head + body if isinstance(body, bytes) else head)
            if callable(body):
                sender = asyncio.create_task(_send_body(connection, body))
            while not parsed.headers_done:
                async with asyncio.timeout(seconds):
                    data = await connection.reader.read(READ_SIZE)
                if not data:
                    raise ConnectionResetError("closed before the response head")
                stale_possible = False
                _feed(parser, data)
            if method == "HEAD":  # RFC 9110 §9.3.2: no body, whatever the length says
                parsed.complete = True
                parsed.chunks.clear()
        except BaseException as error:
            connection.close()
            if sender is not None:
                sender.cancel()
            if connection.send_error is not None:
                raise ProtocolFailure(
                    f"sending the request body failed: {connection.send_error!r}"
                ) from None
            if isinstance(error, TimeoutError):
                raise RequestTimeout(f"no answer within {seconds} s") from None
            if isinstance(error, OSError | ssl.SSLError):
                if stale_possible:  # the peer closed an idle keep-alive connection: retry
                    raise _Stale from None
                raise ProtocolFailure(f"connection failed: {error}") from None
            raise
        return Response(self, key, connection, parser, parsed, seconds, sender)

    async def _connection(self, key: tuple[str, int], server_hostname: str | None) -> _Connection:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            fresh = now - connection.idle_since < self.max_idle_seconds
            if fresh and not connection.reader.at_eof() and not connection.writer.is_closing():
                connection.reused = True
                return connection
            connection.close()
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    key[0],
                    key[1],
                    ssl=self.ssl_context,
                    server_hostname=server_hostname if self.ssl_context else None,
                    limit=READ_SIZE,
                )
        except TimeoutError:
            raise ConnectFailed(f"connecting to {key[0]}:{key[1]} timed out") from None
        except (OSError, ssl.SSLError) as error:
            raise ConnectFailed(f"cannot connect to {key[0]}:{key[1]}: {error}") from None
        return _Connection(reader, writer)

    def release(self, key: tuple[str, int], connection: _Connection) -> None:
        idle = self._idle.setdefault(key, [])
        if len(idle) >= self.max_idle or connection.writer.is_closing():
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()


class _Stale(Exception):
    """A pooled connection the peer had closed: retry on a new one."""


async def _send_body(connection: _Connection, body: BodyFactory) -> None:
    try:
        async for chunk in body():
            connection.writer.write(chunk)
            await connection.writer.drain()
    except asyncio.CancelledError:
        raise
    except Exception as error:  # the body source or the socket failed
        connection.send_error = error
        connection.close()  # the reader sees the closed connection and reports it


def _head(
    method: str, target: str, host: str, port: int, headers: list[tuple[bytes, bytes]]
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\nhost: {host}:{port}\r\n".encode("latin-1")]
    for name, value in headers:
        if name in (b"host", b"connection", b"transfer-encoding"):
            continue
        lines.append(name + b": " + value + b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)
