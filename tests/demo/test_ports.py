"""free_port: a handed-out port is refused to other pickers but open to servers."""

from __future__ import annotations

import asyncio
import socket

import pytest

from jisr.demo.topology import free_port


def test_a_handed_out_port_is_refused_to_a_plain_bind() -> None:
    port = free_port()
    with socket.socket() as other, pytest.raises(OSError, match="in use"):
        other.bind(("127.0.0.1", port))


def test_a_handed_out_port_can_be_served_on() -> None:
    port = free_port()

    async def serve() -> None:
        server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", port)
        server.close()
        await server.wait_closed()

    asyncio.run(serve())


def test_ports_are_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(20000 <= port < 32768 for port in ports)
