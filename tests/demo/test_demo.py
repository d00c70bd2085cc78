"""`jisr demo`: two federated centrals on loopback, started as a user would, stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from jisr.exchange.globalconf import Anchor, GlobalConfClient

pytestmark = pytest.mark.slow
STARTUP_SECONDS = 90


def start_demo(data_dir: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "jisr.cli", "demo", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
    )
    urls: dict[str, str] = {}
    deadline = time.monotonic() + STARTUP_SECONDS
    assert process.stdout is not None
    while time.monotonic() < deadline and "Ctrl-C" not in "".join(urls.values()):
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"\b(MA|QA)\s*│\s*(http://127\.0\.0\.1:\d+)", line)
        if match:
            urls[match.group(1)] = match.group(2)
        if "Ctrl-C stops" in line:
            break
    return process, urls


class TestDemo:
    def test_two_federated_centrals_until_ctrl_c(self, tmp_path: Path) -> None:
        """The demo prints MA and QA URLs; both serve; MA's client resolves QA; SIGINT stops it."""
        process, urls = start_demo(tmp_path / "demo")
        try:
            assert set(urls) == {"MA", "QA"}, urls
            anchor = Anchor.from_json(httpx.get(f"{urls['MA']}/anchor", timeout=10).content)

            async def resolve() -> None:
                async with GlobalConfClient(anchor, tmp_path / "cache") as conf:
                    await conf.refresh()
                    assert conf.find_member("QA/GOV/MOI") is not None
                    assert conf.find_member("MA/GOV/CIVIL-REGISTRY") is not None

            asyncio.run(resolve())
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                pytest.fail("the demo did not stop on Ctrl-C")
