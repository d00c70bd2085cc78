"""`jisr demo`: two federated countries and their identity providers on loopback, started as
a user would, driven with the exact commands and URLs it prints, and stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from jisr.exchange.globalconf import Anchor, GlobalConfClient
from tests.identity.oidc.flow import Browser, allow, log_in

pytestmark = pytest.mark.slow
STARTUP_SECONDS = 120
PERSONS = 200  # per identity provider; `jisr demo` enrols 10,000 by default


def start_demo(data_dir: Path) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "jisr.cli", "demo"),
            *("--data-dir", str(data_dir), "--persons", str(PERSONS)),
        ],
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


def stop_demo(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the demo did not stop on Ctrl-C")
    assert process.returncode == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The lines `jisr demo` printed, while it runs; Ctrl-C must stop it cleanly."""
    process, lines = start_demo(tmp_path_factory.mktemp("demo") / "demo")
    try:
        assert lines and "Ctrl-C stops" in lines[-1], "\n".join(lines)
        yield lines
    finally:
        stop_demo(process)


def run(command: str) -> str:
    """Run a printed command exactly as a user pastes it into a shell."""
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass(frozen=True)
class Printed:
    """What the demo printed for one identity provider."""

    issuer: str
    name: str
    nin: str
    password: str
    redirect_uri: str
    authorization_url: str
    again_url: str

    @classmethod
    def of(cls, lines: list[str], country: str) -> Printed:
        block = "\n".join(lines).split(f"\n{country} identity provider (issuer): ", 1)[1]
        block = block.split("\n\n", 1)[0]

        def field(pattern: str) -> str:
            found = re.search(pattern, block, re.MULTILINE)
            assert found, block
            return found[1]

        return cls(
            issuer=block.split("\n", 1)[0],
            name=field(r"test citizen:\s+(.+?) \("),
            nin=field(r"national ID:\s+(\S+)$"),
            password=field(r"password:\s+(\S+)$"),
            redirect_uri=field(r"redirect URI:\s+(\S+)$"),
            authorization_url=field(r"^\s+(http://\S+/authorize\?\S+)$"),
            again_url=field(r"sign in again:\s+(\S+)$"),
        )


class TestDemo:
    def test_federation_and_printed_commands(self, demo: list[str], tmp_path: Path) -> None:
        """The demo prints working commands: a same-country call, a cross-border call and a
        refused call; MA's configuration client resolves QA."""
        urls = dict(re.findall(r"\b(MA|QA)\s*│\s*(http://127\.0\.0\.1:\d+)", "\n".join(demo)))
        assert set(urls) == {"MA", "QA"}
        curls = [line.strip() for line in demo if line.strip().startswith("curl -s -H 'X-Road")]
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

    @pytest.mark.parametrize("country", ["MA", "QA"])
    def test_printed_authorization_url_signs_the_citizen_in(
        self, demo: list[str], country: str
    ) -> None:
        """Following the printed authorization URL with the printed credentials (login form,
        consent) lands on the demo RP, which redeems the code: a verified ID token at acr low
        and the citizen's userinfo; the RP's "sign in again" link reuses the IdP session."""
        printed = Printed.of(demo, country)
        assert f"{PERSONS} persons generated and enrolled" in "\n".join(demo)
        discovery = httpx.get(f"{printed.issuer}/.well-known/openid-configuration", timeout=10)
        assert discovery.json()["issuer"] == printed.issuer
        first, again = asyncio.run(_sign_in_twice(printed))
        claims, userinfo = first["id_token"], first["userinfo"]
        assert claims["iss"] == printed.issuer and claims["acr"] == "low"
        assert claims["sub"] == userinfo["sub"]
        assert userinfo["national_id"] == printed.nin
        assert userinfo["name"] == printed.name and userinfo["name#ar"]
        assert printed.name in again and "ID token claims (verified)" in again


async def _sign_in_twice(printed: Printed) -> tuple[dict[str, Any], str]:
    """The printed URL (log in, consent) with the RP's JSON answer; then the RP's own
    login link (session kept, consent again) with its HTML page."""
    async with httpx.AsyncClient(base_url=printed.issuer, timeout=10) as http:
        browser = Browser(http, base=printed.issuer)
        response = await browser.get(printed.authorization_url)
        response = await log_in(browser, response, printed.nin, printed.password)
        response = await allow(browser, response)
        first = await _land(browser, response, printed, {"Accept": "application/json"})
        response = await browser.get(printed.again_url)
        assert response.status_code == 303
        response = await allow(browser, await browser.get(response.headers["location"]))
        again = await _land(browser, response, printed, {})
    return first.json(), again.text


async def _land(
    browser: Browser, response: httpx.Response, printed: Printed, headers: dict[str, str]
) -> httpx.Response:
    """Follow the IdP's redirect to the RP's redirect URI."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(printed.redirect_uri + "?code="), location
    landed = await browser.get(location, headers=headers)
    assert landed.status_code == 200, landed.text
    return landed
