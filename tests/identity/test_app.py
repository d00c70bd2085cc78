"""The identity provider as one application: in process (lifespan under uvicorn in a thread)
and as ``jisr idp serve`` in a subprocess, stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from jisr.cli import app
from jisr.config import IdpSettings, load_settings
from jisr.identity.app import NotInitialised, create_idp_app, oidc_settings
from tests.servers import free_port, serve_in_thread

runner = CliRunner()
_ENV = (
    "JISR_CONFIG",
    "JISR_KEY_PASSPHRASE",
    "JISR_KEY_PASSPHRASE_FILE",
    "JISR_SUBJECT_SECRET",
    "JISR_CSRF_SECRET",
    "JISR_COUNTRY",
    "JISR_DUPLICATES",
    "JISR_ISSUER",
    "JISR_HOST",
    "JISR_PORT",
    "JISR_DATABASE_URL",
    "JISR_DATA_DIR",
)


def run(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def _client(output: str) -> tuple[str, str]:
    client_id = re.search(r"client_id: (\S+)", output)
    secret = re.search(r"client_secret: (\S+)", output)
    assert client_id and secret, output
    return client_id.group(1), secret.group(1)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "idp"


class TestInProcess:
    def test_not_initialised_is_refused(self, data_dir: Path) -> None:
        with pytest.raises(NotInitialised, match="jisr idp init"):
            create_idp_app(load_settings(IdpSettings, data_dir=data_dir))

    def test_every_part_is_served(self, data_dir: Path) -> None:
        """Discovery with the login flow, JWKS, pages' assets, client credentials, the
        register under /registry (token scoped), the admin API, /health, /ready, /metrics."""
        port = free_port()
        idp = ["idp", "--data-dir", str(data_dir)]
        assert run(*idp, "init").exit_code == 0
        assert run(*idp, "register", "generate", "-n", "3", "--enrol").exit_code == 0
        client_id, secret = _client(run(*idp, "client", "add", "--name", "Machine").output)
        reader = run(*idp, "token", "create", "reader", "-s", "register:read").output.strip()
        admin = run(*idp, "token", "create", "ops", "-s", "admin").output.strip()
        settings = load_settings(IdpSettings, data_dir=data_dir, port=port)
        application, resources = create_idp_app(settings)
        assert resources.settings is settings
        with serve_in_thread(application, port=port) as base, httpx.Client(base_url=base) as http:
            discovery = http.get("/.well-known/openid-configuration").json()
            assert discovery["issuer"] == base
            assert discovery["authorization_endpoint"] == f"{base}/authorize"
            assert len(http.get("/jwks").json()["keys"]) == 2
            token = http.post(
                "/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
            )
            assert token.status_code == 200, token.text
            assert token.json()["token_type"] == "Bearer"

            records = "/registry/data/population/1.0"
            assert http.get(records).status_code == 401
            listed = http.get(records, headers={"Authorization": f"Bearer {reader}"})
            assert listed.status_code == 200, listed.text
            assert listed.json()["count"] == 3
            clients = http.get("/api/v1/clients", headers={"Authorization": f"Bearer {admin}"})
            assert [c["client_id"] for c in clients.json()] == [client_id]
            refused = http.get("/api/v1/clients", headers={"Authorization": f"Bearer {reader}"})
            assert refused.status_code == 403

            assert http.get("/health").json() == {"status": "alive"}
            ready = http.get("/ready").json()
            assert ready == {"status": "ready", "checks": {"database": True, "signing_keys": True}}
            metrics = http.get("/metrics").text
            assert 'route="/token",status="200"' in metrics

    def test_static_assets_of_the_pages(self, data_dir: Path) -> None:
        from jisr.identity.pages import STATIC_DIR

        asset = next(path for path in sorted(STATIC_DIR.rglob("*")) if path.is_file())
        assert run("idp", "--data-dir", str(data_dir), "init").exit_code == 0
        application, _ = create_idp_app(load_settings(IdpSettings, data_dir=data_dir))
        with serve_in_thread(application) as base:
            relative = asset.relative_to(STATIC_DIR).as_posix()
            response = httpx.get(f"{base}/identity/static/{relative}")
        assert response.status_code == 200
        assert response.content == asset.read_bytes()


# ------------------------------------------------------------------ subprocess
def _jisr(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jisr.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def server_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _ENV}
    env.update(JISR_DATA_DIR=str(data_dir), JISR_PORT=str(free_port()))
    return env


@pytest.fixture
def served(server_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "jisr.cli", "idp", "serve"],
        env=server_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{server_env['JISR_PORT']}"
    try:
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _wait_healthy(process: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"jisr idp serve exited {process.returncode}: {output}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("jisr idp serve did not answer /health within 30 s")


class TestServe:
    def test_init_serve_token_and_sigterm(self, server_env: dict[str, str], data_dir: Path) -> None:
        """``init`` then ``serve``: discovery answers, a client added with the CLI gets a
        client-credentials token over HTTP, and SIGTERM stops the process with status 0."""
        initialised = _jisr("idp", "init", env=server_env)
        assert initialised.returncode == 0, initialised.stderr
        added = _jisr("idp", "client", "add", "--name", "Batch job", env=server_env)
        assert added.returncode == 0, added.stderr
        client_id, secret = _client(added.stdout)

        process = subprocess.Popen(
            [sys.executable, "-m", "jisr.cli", "idp", "serve"],
            env=server_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base = f"http://127.0.0.1:{server_env['JISR_PORT']}"
        try:
            _wait_healthy(process, base)
            discovery = httpx.get(f"{base}/.well-known/openid-configuration", timeout=5).json()
            assert discovery["issuer"] == base
            assert discovery["token_endpoint"] == f"{base}/token"
            token = httpx.post(
                discovery["token_endpoint"],
                data={"grant_type": "client_credentials"},
                auth=(client_id, secret),
                timeout=5,
            )
            assert token.status_code == 200, token.text
            assert token.json()["token_type"] == "Bearer"
            wrong = httpx.post(
                f"{base}/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, "not-the-secret"),
                timeout=5,
            )
            assert wrong.status_code == 401
            assert wrong.json()["error"] == "invalid_client"

            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        assert process.returncode == 0, output
        assert "Application shutdown complete" in output
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/health", timeout=1)

    def test_serve_before_init_exits_1(
        self, served: tuple[subprocess.Popen[str], str], data_dir: Path
    ) -> None:
        process, _ = served
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 1
        assert "jisr idp init" in output


def test_pushed_requests_and_dpop_nonces_are_configurable(data_dir: Path) -> None:
    """The IdP's settings carry RFC 9126 §5 and RFC 9449 §8 through to the provider."""
    secret = "s" * 32
    settings = load_settings(
        IdpSettings,
        data_dir=data_dir,
        subject_secret=secret,
        csrf_secret=secret,
        require_pushed_authorization_requests=True,
        dpop_nonce_secret=secret,
    )
    provider = oidc_settings(settings)
    assert provider.require_pushed_authorization_requests is True
    assert provider.dpop_nonce_secret is not None
    assert provider.dpop_nonce_secret.get_secret_value() == secret
    assert (
        oidc_settings(
            load_settings(IdpSettings, data_dir=data_dir, subject_secret=secret, csrf_secret=secret)
        ).dpop_nonce_secret
        is None
    )
