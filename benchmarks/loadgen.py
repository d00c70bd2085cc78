"""A small, cheap HTTP/1.1 load generator for the benchmarks (keep-alive, no pipelining).

Closed loop (``concurrency`` connections, each sending its next request when the previous
answer is complete) for throughput, or open loop at a fixed ``rate`` for latency at a given
load. It parses only what it needs (status line, Content-Length or chunked), so its own
cost stays small next to the servers it measures; the same generator drives the direct
baseline and the exchange, so the ratio is fair.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["Result", "closed_loop", "open_loop"]


@dataclass
class Result:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")


def _request(url: str, method: str, body: bytes, headers: dict[str, str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    return parts.hostname or "127.0.0.1", parts.port or 80, raw


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    index = lower.find(b"content-length:")
    if index >= 0:
        end = lower.find(b"\r\n", index)
        await reader.readexactly(int(lower[index + 15 : end]))
        return status
    if b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return status
    return status


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        try:
            return await _read_response(self.reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _one(
    connection: _Connection, raw: bytes, result: Result, timeout: float, since: float | None = None
) -> None:
    started = time.perf_counter() if since is None else since
    try:
        status = await asyncio.wait_for(connection.send(raw), timeout)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        connection.close()
        result.errors += 1
        return
    result.latencies.append(time.perf_counter() - started)
    result.statuses[status] = result.statuses.get(status, 0) + 1
    if status >= 400:
        result.errors += 1
    else:
        result.requests += 1


async def closed_loop(
    url: str,
    *,
    concurrency: int,
    seconds: float,
    body: bytes = b"",
    method: str = "POST",
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Result:
    """``concurrency`` keep-alive connections sending back to back for ``seconds``."""
    host, port, raw = _request(url, method, body, headers or {})
    result = Result()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        connection = _Connection(host, port)
        while time.perf_counter() < deadline:
            await _one(connection, raw, result, timeout)
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def open_loop(
    url: str,
    *,
    rate: float,
    seconds: float,
    body: bytes = b"",
    method: str = "POST",
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    connections: int = 64,
) -> Result:
    """Requests started at a fixed ``rate`` (per second) for ``seconds``; latency from the
    scheduled start, so queueing delay counts (no coordinated omission)."""
    host, port, raw = _request(url, method, body, headers or {})
    result = Result()
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(_Connection(host, port))
    tasks: list[asyncio.Task[None]] = []

    async def fire(scheduled: float) -> None:
        connection = await idle.get()
        try:
            await _one(connection, raw, result, timeout, since=scheduled)
        finally:
            idle.put_nowait(connection)

    started = time.perf_counter()
    count = int(rate * seconds)
    for index in range(count):
        scheduled = started + index / rate
        pause = scheduled - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        tasks.append(asyncio.create_task(fire(scheduled)))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - started
    while not idle.empty():
        idle.get_nowait().close()
    return result
