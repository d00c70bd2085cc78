"""jisr.serving: a listener that cannot bind fails its task instead of stopping the loop."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn
from starlette.applications import Starlette

from jisr.serving import start_listener


def _held_port() -> tuple[socket.socket, int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    return holder, holder.getsockname()[1]


def test_a_listener_on_a_held_port_fails_its_task_and_the_loop_goes_on() -> None:
    holder, port = _held_port()

    async def scenario() -> None:
        config = uvicorn.Config(Starlette(), host="127.0.0.1", port=port, log_config=None)
        task = start_listener(uvicorn.Server(config))
        with pytest.raises(OSError, match=f"127.0.0.1:{port} could not start"):
            await asyncio.wait_for(task, timeout=20)
        await asyncio.sleep(0)  # the loop still runs after the failed listener

    with holder:
        asyncio.run(scenario())


def test_a_listener_on_a_free_port_serves_until_told_to_exit() -> None:
    async def scenario() -> None:
        holder, port = _held_port()
        holder.close()
        config = uvicorn.Config(Starlette(), host="127.0.0.1", port=port, log_config=None)
        server = uvicorn.Server(config)
        task = start_listener(server)
        while not server.started:
            assert not task.done(), task
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await reader.read()).startswith(b"HTTP/1.1 404")
        writer.close()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)

    asyncio.run(scenario())
