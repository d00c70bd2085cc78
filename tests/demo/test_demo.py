"""`jisr demo`: two federated countries on loopback, started as a user would, driven with
the exact commands it prints, and stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import json
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
STARTUP_SECONDS = 120


def start_demo(data_dir: Path) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "jisr.cli", "demo", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
        cwd=data_dir.parent,
    )
    lines: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "Ctrl-C stops" in line:
            break
    return process, lines


def run(command: str) -> str:
    """Run a printed command exactly as a user pastes it into a shell."""
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


class TestDemo:
    def test_federation_and_printed_commands(self, tmp_path: Path) -> None:
        """The demo prints working commands: a same-country call, a cross-border call and a
        refused call; MA's configuration client resolves QA; Ctrl-C stops everything."""
        process, lines = start_demo(tmp_path / "demo")
        try:
            assert lines and "Ctrl-C stops" in lines[-1], "\n".join(lines)
            urls = dict(re.findall(r"\b(MA|QA)\s*│\s*(http://127\.0\.0\.1:\d+)", "\n".join(lines)))
            assert set(urls) == {"MA", "QA"}
            curls = [
                line.strip() for line in lines if line.strip().startswith("curl -s -H 'X-Road")
            ]
            same, cross, refused = (run(command) for command in curls)
            assert json.loads(same)["national_id"] == "MA1234567"
            assert json.loads(cross)["name"]["ar"] == "أمينة الإدريسي"
            assert json.loads(refused)["type"] == "Server.ServerProxy.AccessDenied"
            anchor = Anchor.from_json(httpx.get(f"{urls['MA']}/anchor", timeout=10).content)

            async def resolve() -> None:
                async with GlobalConfClient(anchor, tmp_path / "cache") as conf:
                    await conf.refresh()
                    assert conf.find_member("QA/GOV/MOI") is not None
                    assert conf.find_gateway("QA/GOV/MOEHE/GW1") is not None

            asyncio.run(resolve())
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                pytest.fail("the demo did not stop on Ctrl-C")
