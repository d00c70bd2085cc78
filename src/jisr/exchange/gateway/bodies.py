"""Message bodies that stream: hashed as they arrive, spooled to disk past a threshold.

A body must be digested before its message can be signed (RFC 9530 Content-Digest is a
signed header), so it cannot be forwarded chunk by chunk as it arrives. Instead it is
written to a spooled temporary file while SHA-256 (Content-Digest) and SHA-512 (X-Road
request hash, PR-REST §4.3) are computed, then replayed in chunks: a 200 MB body costs
disk, never 200 MB of memory.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from typing import Any

from starlette.types import Receive

__all__ = ["BodyTooLarge", "SpooledBody", "read_asgi_body"]

CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    """The body exceeded the configured limit."""


class SpooledBody:
    def __init__(self, *, limit: int, memory: int) -> None:
        self.limit = limit
        self.size = 0
        self._memory = memory
        self._chunks: list[bytes] = []
        self._file: Any = None
        self._sha256 = hashlib.sha256()
        self._sha512 = hashlib.sha512()

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.size > self.limit:
            raise BodyTooLarge(f"body larger than {self.limit} bytes")
        self._sha256.update(chunk)
        self._sha512.update(chunk)
        if self._file is None and self.size <= self._memory:
            self._chunks.append(chunk)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the body
            for held in self._chunks:
                self._file.write(held)
            self._chunks = []
        self._file.write(chunk)

    @property
    def sha256(self) -> bytes:
        return self._sha256.digest()

    @property
    def sha512(self) -> bytes:
        return self._sha512.digest()

    def in_memory(self) -> bytes | None:
        """The whole body when it was small enough to stay in memory."""
        return b"".join(self._chunks) if self._file is None else None

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._file is None:
            for chunk in self._chunks:
                yield chunk
            return
        self._file.seek(0)
        while chunk := self._file.read(CHUNK):
            yield chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._chunks = []


async def read_asgi_body(receive: Receive, *, limit: int, memory: int) -> SpooledBody:
    """Drain an ASGI request body into a :class:`SpooledBody`."""
    body = SpooledBody(limit=limit, memory=memory)
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body.write(message.get("body", b""))
        more = message.get("more_body", False)
    return body
