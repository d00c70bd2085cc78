"""Running uvicorn listeners inside one event loop: start them, stop on a signal."""

from __future__ import annotations

import asyncio
import signal
from contextlib import suppress

import uvicorn

__all__ = ["start_listener", "until_signalled"]


def start_listener(server: uvicorn.Server) -> asyncio.Task[None]:
    """Run one uvicorn listener as a task of the running loop.

    uvicorn ends a listener that cannot bind its port with ``sys.exit(1)``. A SystemExit
    escaping a task stops the whole event loop (asyncio re-raises it from ``run_forever``),
    so here it becomes an OSError of this task: the caller sees a failed start.
    """

    async def serve() -> None:
        try:
            await server.serve()
        except SystemExit as exit_:
            where = f"{server.config.host}:{server.config.port}"
            raise OSError(f"the listener on {where} could not start (see the log)") from exit_

    return asyncio.create_task(serve())


async def until_signalled(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for SIGINT/SIGTERM (or for a server task to end).

    Each uvicorn server chains its own signal handler when it starts; with several servers
    in one loop only the last would see Ctrl-C. The handler installed here, after they all
    started, takes the signal for the whole process.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # signal.signal works on every platform; it refuses (ValueError) off the main
        # thread, where the embedding program owns the signals (tests, other servers).
        with suppress(ValueError):
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
