"""Complete OpenID Connect logins and token grants per second per core of a live ``jisr idp``.

Starts ``jisr idp init`` and ``jisr idp serve`` in a temporary data directory (real HTTP on
a loopback port; SQLite by default, ``--backend postgresql`` for a scratch PostgreSQL
database), enrols ``--citizens`` sample persons, activates their accounts (Argon2id at the
provider's default cost, Keycloak's: 5 iterations, 7 MiB, parallelism 1), registers one
confidential client and lets every citizen consent to it once ("remember"). Then:

* **flows**: ``--concurrency`` browserless user agents run complete authorization-code +
  PKCE flows, each as a browser would: ``GET /authorize`` → ``GET /login`` (the form, its
  CSRF token) → ``POST /login`` with NIN and password (a fresh agent, so a real password
  login every time) → the redirect to the client with ``code`` (consent remembered) →
  ``POST /token`` with the PKCE verifier → ``GET /userinfo``. Each result is verified:
  ``state``, the ID token's ES256 signature against ``/jwks``, ``iss``, ``aud``, ``nonce``,
  and userinfo's ``sub`` equal to the ID token's.
* **grants**: client-credentials token requests (``client_secret_basic``).

"Per core" is per CPU-second of the IdP process (user + system, all its threads, read from
``/proc/<pid>/stat``), so the figure holds whatever else runs on the machine, the load
generator included; wall-clock throughput and latency p50/p99 are printed beside it. The
Argon2id verification cost alone, measured in this process at the same parameters, is the
floor: no flow can cost less CPU than one password verification. Ratios compare with
Keycloak's sizing guide (15 password logins/s and 120 client-credentials grants/s per
vCPU) and MOSIP eSignet (~13 complete OIDC flows/s per vCPU).

Bounded: each phase stops after ``--flows``/``--grants`` requests or ``--seconds``.
Printed: a table and one JSON line.

    .venv/bin/python benchmarks/idp.py [--backend sqlite|postgresql] [--citizens 32]
        [--concurrency 1,8] [--flows 400] [--grants 4000] [--seconds 30]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc.jwk import KeySet

sys.path.insert(0, str(Path(__file__).parent))  # the benchmarks' shared helpers
from scratchdb import scratch_postgres

from jisr.config import IdpSettings
from jisr.crypto.jose import verify_compact
from jisr.crypto.keys import PublicKey, load_private_key
from jisr.identity.app import profile_of
from jisr.identity.authn import Accounts
from jisr.identity.authn.passwords import hash_password, verify_password
from jisr.identity.authn.settings import Argon2Settings
from jisr.identity.oidc.clients import ClientMetadata, register_client
from jisr.identity.register import PopulationRegister
from jisr.identity.register.importer import birth_from_sample
from jisr.identity.register.samples import generate
from jisr.storage import Database, utcnow

RP = "https://rp.example.test/callback"
PASSWORD = "benchmark password 2024"  # noqa: S105 (the sample citizens' own password)
RECORDED = {"recorded_by": "bench-loader", "legal_basis": "benchmark"}
KEYCLOAK = {"logins_per_vcpu": 15.0, "grants_per_vcpu": 120.0}
ESIGNET_FLOWS_PER_VCPU = 13.0
GOALS = {"flows_per_core": 30.0, "grants_per_core": 1000.0}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid``, all threads (``/proc/<pid>/stat`` 14, 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def jisr(env: dict[str, str], *args: str) -> None:
    command = [sys.executable, "-m", "jisr.cli", "idp", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"jisr idp {' '.join(args)} failed: {done.stderr or done.stdout}")


@contextmanager
def served(env: dict[str, str], base: str) -> Iterator[subprocess.Popen[bytes]]:
    """``jisr idp serve`` until the block ends (SIGTERM, then kill after 20 s)."""
    command = [sys.executable, "-m", "jisr.cli", "idp", "serve"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_healthy(process, base)
        print(f"jisr idp serve: pid {process.pid} at {base}", file=sys.stderr, flush=True)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"jisr idp serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("jisr idp serve did not answer /health within 60 s")


# --- setup: citizens, accounts, the client --------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    nins: list[str]
    client_id: str
    secret: str


async def prepare(settings: IdpSettings, citizens: int) -> Fixture:
    """Enrol and activate ``citizens`` persons; register the confidential client."""
    database = Database(settings.effective_database_url())
    try:
        key = load_private_key(settings.register_key_path(), settings.passphrase())
        register = PopulationRegister(
            database, profile=profile_of(settings), key=key, duplicates="flag"
        )
        births = (birth_from_sample(p) for p in generate("MA", citizens, seed=7))
        nins = await register.bulk_enrol(births, **RECORDED)
        accounts = Accounts(database)
        for nin in nins:
            issued = await accounts.issue_activation(nin)
            await accounts.activate(nin, issued.code, PASSWORD, address="192.0.2.1")
        metadata = ClientMetadata(
            client_name="Benchmark relying party",
            redirect_uris=[RP],
            grant_types=["authorization_code", "client_credentials"],
            response_types=["code"],
            scope="openid profile",
        )
        async with database.transaction() as session:
            registered = await register_client(session, metadata, utcnow())
    finally:
        await database.close()
    assert registered.client_secret is not None
    return Fixture(nins, registered.client.client_id, registered.client_secret)


# --- one browserless flow -------------------------------------------------------------------


class FlowFailed(Exception):
    """A step answered something a browser would not have expected."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise FlowFailed(what)


@dataclass
class Agent:
    """A fresh user agent: its own cookies (kept here: ``__Host-`` cookies are Secure and
    the loopback server speaks plain HTTP), sharing the connection pool of ``http``."""

    http: httpx.AsyncClient
    cookies: dict[str, str] = field(default_factory=dict)

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = await self.http.request(method, url, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response


@dataclass(frozen=True)
class Flow:
    """What a relying party runs: its credentials, the provider's keys and issuer."""

    fixture: Fixture
    keys: dict[str, PublicKey]
    issuer: str

    def basic(self) -> dict[str, str]:
        pair = f"{self.fixture.client_id}:{self.fixture.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    async def run(self, http: httpx.AsyncClient, nin: str) -> None:
        agent = Agent(http)
        state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        verifier = secrets.token_urlsafe(48)
        code = await self._authorize(agent, nin, state, nonce, s256(verifier))
        tokens = await self._token(http, code, verifier)
        subject = self._verified_subject(tokens["id_token"], nonce)
        userinfo = await http.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        expect(userinfo.status_code == 200, f"userinfo {userinfo.status_code}")
        expect(userinfo.json()["sub"] == subject, "userinfo sub differs from the ID token's")

    async def _authorize(self, agent: Agent, nin: str, state: str, nonce: str, pkce: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.fixture.client_id,
            "redirect_uri": RP,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce,
            "code_challenge_method": "S256",
        }
        started = await agent.send("GET", "/authorize?" + urlencode(query))
        login = started.headers.get("location", "")
        expect(started.status_code == 303 and login.startswith("/login?tx="), "no login")
        form = await agent.send("GET", login)
        token = form.text.split('name="csrf_token" value="', 1)[-1].split('"', 1)[0]
        expect(form.status_code == 200 and len(token) < 200, "no login form")
        data = {"csrf_token": token, "nin": nin, "password": PASSWORD}
        posted = await agent.send("POST", login, data=data)
        location = posted.headers.get("location", "")
        expect(posted.status_code == 303 and location.startswith(RP), f"login {posted.status_code}")
        answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        expect(answer.get("state") == state and "code" in answer, "bad redirect to the client")
        return answer["code"]

    async def _token(self, http: httpx.AsyncClient, code: str, verifier: str) -> dict[str, str]:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": RP,
            "code_verifier": verifier,
        }
        response = await http.post("/token", data=data, headers=self.basic())
        expect(response.status_code == 200, f"token {response.status_code} {response.text}")
        tokens: dict[str, str] = response.json()
        return tokens

    def _verified_subject(self, id_token: str, nonce: str) -> str:
        _, payload = verify_compact(id_token, self.keys, typ="JWT", algorithms=["ES256"])
        claims = json.loads(payload)
        expect(claims["iss"] == self.issuer, "ID token iss")
        expect(claims["aud"] in (self.fixture.client_id, [self.fixture.client_id]), "aud")
        expect(claims["nonce"] == nonce, "ID token nonce")
        subject: str = claims["sub"]
        return subject


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def remember_consent(http: httpx.AsyncClient, flow: Flow, nin: str) -> None:
    """One login with the consent page, "remember" ticked, so later flows skip it."""
    agent = Agent(http)
    query = {
        "response_type": "code",
        "client_id": flow.fixture.client_id,
        "redirect_uri": RP,
        "scope": "openid profile",
        "state": "consent",
        "nonce": "consent",
        "code_challenge": s256("v" * 43),
        "code_challenge_method": "S256",
    }
    login = (await agent.send("GET", "/authorize?" + urlencode(query))).headers["location"]
    page = await agent.send("GET", login)
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    data = {"csrf_token": token, "nin": nin, "password": PASSWORD}
    consent = (await agent.send("POST", login, data=data)).headers["location"]
    expect(consent.startswith("/consent?tx="), f"no consent page: {consent}")
    page = await agent.send("GET", consent)
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    data = {"csrf_token": token, "decision": "allow", "remember": "1"}
    final = await agent.send("POST", consent, data=data)
    expect(final.headers.get("location", "").startswith(RP), "consent did not redirect")


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Phase:
    """Run ``task`` until ``count`` are done or ``seconds`` pass, ``concurrency`` at once."""

    pid: int
    concurrency: int
    count: int
    seconds: float

    async def run(self, task: Callable[[int], Awaitable[None]]) -> dict[str, Any]:
        latencies: list[float] = []
        failures: list[str] = []
        issued = iter(range(self.count))
        deadline = time.perf_counter() + self.seconds

        async def worker() -> None:
            for index in issued:
                if time.perf_counter() > deadline:
                    return
                started = time.perf_counter()
                try:
                    await task(index)
                except (FlowFailed, httpx.HTTPError, KeyError, ValueError) as error:
                    failures.append(repr(error))
                    continue
                latencies.append(time.perf_counter() - started)

        cpu0, wall0 = cpu_seconds(self.pid), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        cpu, wall = cpu_seconds(self.pid) - cpu0, time.perf_counter() - wall0
        return summary(latencies, failures, cpu, wall, self.concurrency)


def summary(
    latencies: list[float], failures: list[str], cpu: float, wall: float, concurrency: int
) -> dict[str, Any]:
    done = len(latencies)
    ordered = sorted(latencies) or [0.0]
    return {
        "concurrency": concurrency,
        "done": done,
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
        "server_cpu_s": round(cpu, 3),
        "per_cpu_s": done / cpu if cpu else 0.0,
        "cpu_ms_each": cpu / done * 1e3 if done else 0.0,
        "per_s": done / wall,
        "p50_ms": statistics.median(ordered) * 1e3,
        "p99_ms": ordered[max(0, round(len(ordered) * 0.99) - 1)] * 1e3,
    }


def argon2_floor(rounds: int = 20) -> dict[str, float]:
    """CPU of one Argon2id verification at the provider's default parameters."""
    settings = Argon2Settings()
    encoded = hash_password(PASSWORD, settings)
    started = time.process_time()
    for _ in range(rounds):
        assert verify_password(encoded, PASSWORD)
    each = (time.process_time() - started) / rounds
    return {
        "time_cost": settings.time_cost,
        "memory_kib": settings.memory_cost_kib,
        "parallelism": settings.parallelism,
        "cpu_ms_per_verify": each * 1e3,
        "max_flows_per_core": 1 / each,
    }


async def jwks(http: httpx.AsyncClient) -> dict[str, PublicKey]:
    keys: dict[str, PublicKey] = {}
    for key in KeySet.import_key_set((await http.get("/jwks")).json()).keys:
        assert key.kid is not None
        keys[key.kid] = key.get_op_key("verify")
    return keys


@asynccontextmanager
async def loopback(base: str, concurrency: int) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        # Agents keep their own cookies; the shared client must keep none.
        http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        yield http


async def measure(
    pid: int, base: str, fixture: Fixture, args: argparse.Namespace
) -> dict[str, Any]:
    levels = [int(c) for c in args.concurrency.split(",")]
    async with loopback(base, max(levels)) as http:
        flow = Flow(fixture, await jwks(http), base)
        for nin in fixture.nins:
            await remember_consent(http, flow, nin)
        nins = fixture.nins
        await Phase(pid, 1, 5, args.seconds).run(lambda i: flow.run(http, nins[i % len(nins)]))
        flows, grants = [], []
        body, headers = {"grant_type": "client_credentials"}, flow.basic()

        async def grant(_: int) -> None:
            response = await http.post("/token", data=body, headers=headers)
            expect(response.status_code == 200, f"token {response.status_code}")

        for level in levels:
            phase = Phase(pid, level, args.flows, args.seconds)
            flows.append(await phase.run(lambda i: flow.run(http, nins[i % len(nins)])))
        for level in levels:
            grants.append(await Phase(pid, level, args.grants, args.seconds).run(grant))
    return {"flows": flows, "grants": grants}


# --- report ---------------------------------------------------------------------------------


def bench(args: argparse.Namespace, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="jisr-bench-idp-") as tmp:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("JISR_")}
        env.update(JISR_DATA_DIR=tmp, JISR_PORT=str(port), JISR_LOG_LEVEL="warning")
        if database_url:
            env["JISR_DATABASE_URL"] = database_url
        jisr(env, "init")
        settings = IdpSettings(data_dir=Path(tmp), port=port, database_url=database_url)
        fixture = asyncio.run(prepare(settings, args.citizens))
        base = f"http://127.0.0.1:{port}"
        with served(env, base) as process:
            return asyncio.run(measure(process.pid, base, fixture, args))


def print_report(backend: str, result: dict[str, Any], floor: dict[str, float]) -> None:
    print(f"jisr idp over loopback HTTP ({backend}); per core = per CPU-second of the IdP process")
    print(
        f"  {'what':<7} {'conc':>4} {'done':>6} {'fail':>4} {'/core':>8} {'CPU ms':>7}"
        f" {'wall /s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs base':>8}"
    )
    for what, base in (("flows", ESIGNET_FLOWS_PER_VCPU), ("grants", KEYCLOAK["grants_per_vcpu"])):
        for row in result[what]:
            print(
                f"  {what:<7} {row['concurrency']:>4} {row['done']:>6} {row['failures']:>4}"
                f" {row['per_cpu_s']:>8.1f} {row['cpu_ms_each']:>7.2f} {row['per_s']:>8.1f}"
                f" {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['per_cpu_s'] / base:>7.1f}x"
            )
    print(
        f"  Argon2id m={floor['memory_kib']} KiB t={floor['time_cost']} p={floor['parallelism']}:"
        f" {floor['cpu_ms_per_verify']:.1f} ms CPU per verification"
        f" = at most {floor['max_flows_per_core']:.0f} password logins per core"
    )
    print(
        "  vs base: flows vs eSignet 13/s/vCPU (Keycloak logins 15/s/vCPU),"
        " grants vs Keycloak 120/s/vCPU"
    )


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    best_flows = max(row["per_cpu_s"] for row in result["flows"])
    best_grants = max(row["per_cpu_s"] for row in result["grants"])
    return {
        "flows_per_core": best_flows,
        "grants_per_core": best_grants,
        "flows_vs_keycloak_logins": best_flows / KEYCLOAK["logins_per_vcpu"],
        "flows_vs_esignet": best_flows / ESIGNET_FLOWS_PER_VCPU,
        "grants_vs_keycloak": best_grants / KEYCLOAK["grants_per_vcpu"],
        "flows_goal_met": best_flows >= GOALS["flows_per_core"],
        "grants_goal_met": best_grants >= GOALS["grants_per_core"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--citizens", type=int, default=32)
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--flows", type=int, default=400, help="flows per concurrency level")
    parser.add_argument("--grants", type=int, default=4000, help="grants per level")
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per level")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    floor = argon2_floor()
    if args.backend == "postgresql":
        with scratch_postgres(args.postgres, "jisr_bench_idp") as url:
            result = bench(args, url)
    else:
        result = bench(args, None)
    print_report(args.backend, result, floor)
    report = {
        "benchmark": "idp",
        "backend": args.backend,
        "citizens": args.citizens,
        "argon2": floor,
        **result,
        "baselines": {**KEYCLOAK, "esignet_flows_per_vcpu": ESIGNET_FLOWS_PER_VCPU},
        "goals": GOALS,
        "verdict": verdict(result),
    }
    print(json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    main()
