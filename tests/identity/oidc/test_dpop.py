"""DPoP (RFC 9449): proof checks (§4.3), bound tokens at /token (§5), /userinfo (§7),
introspection (§6.2), dpop_jkt (§10), and the attacks each check is there for."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from sqlalchemy import func, select

from jisr.identity.oidc import (
    OidcProvider,
    OidcSettings,
    Registered,
    create_app,
    register_client,
)
from jisr.identity.oidc.dpop import (
    DpopNonces,
    InvalidDpopProofError,
    UseDpopNonceError,
    access_token_hash,
    normalise_htu,
    verify_proof,
)
from jisr.identity.oidc.models import DpopProofRow
from tests.identity.oidc.conftest import (
    ISSUER,
    RP,
    START,
    FlowEnv,
    Person,
    Register,
    basic,
    code_client,
    flow_settings,
    prepare_flow_database,
)
from tests.identity.oidc.flow import Browser, code_flow, s256
from tests.identity.oidc.proofs import Prover, b64

TOKEN = f"{ISSUER}/token"
USERINFO = f"{ISSUER}/userinfo"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
SETTINGS = OidcSettings(issuer=ISSUER)


def _verify(proof: str, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"method": "POST", "uri": TOKEN, "now": START, "settings": SETTINGS}
    return verify_proof(proof, **(options | kwargs))


def _refusal(proof: str, **kwargs: Any) -> str:
    with pytest.raises(InvalidDpopProofError) as refused:
        _verify(proof, **kwargs)
    assert refused.value.error == "invalid_dpop_proof"
    description: str = refused.value.description
    return description


# ----------------------------------------------------------------- §4.3 proof checks


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_valid_proof_gives_the_rfc7638_thumbprint(alg: str) -> None:
    """A well-formed proof of each allowed algorithm is accepted; its jkt is the key's
    RFC 7638 SHA-256 thumbprint, and it expires dpop_proof_lifetime after iat."""
    prover = Prover.for_alg(alg)
    proof = _verify(prover.proof("POST", TOKEN, START))
    assert proof.jkt == prover.key.thumbprint()
    assert proof.expires_at == START + SETTINGS.dpop_proof_lifetime


def test_alg_none_and_hs256_are_refused() -> None:
    """§4.3 step 5: no unsigned proof, no MAC (the verifier would need the signing key)."""
    prover = Prover()
    claims = prover.claims("POST", TOKEN, START)
    header = {"typ": "dpop+jwt", "jwk": prover.public_jwk()}
    unsigned = f"{b64(header | {'alg': 'none'})}.{b64(claims)}."
    assert "alg" in _refusal(unsigned)
    secret = OctKey.generate_key(256)
    hmac_proof = jwt.encode(header | {"alg": "HS256"}, claims, secret, algorithms=["HS256"])
    assert "alg" in _refusal(hmac_proof)


def test_wrong_typ_refused() -> None:
    """§4.3 step 4: typ must be dpop+jwt (a plain JWT is not a proof)."""
    assert "typ" in _refusal(Prover().proof("POST", TOKEN, START, header={"typ": "JWT"}))


def test_private_key_in_jwk_refused() -> None:
    """§4.3 step 7: a jwk header carrying the private key is refused."""
    prover = Prover()
    private = dict(prover.key.as_dict(private=True))
    proof = prover.proof("POST", TOKEN, START, header={"jwk": private})
    assert "private" in _refusal(proof)


def test_signature_by_another_key_than_the_jwk_refused() -> None:
    """§4.3 step 6: the proof must verify with the key in its own header."""
    signer, named = Prover(), Prover()
    proof = signer.proof("POST", TOKEN, START, header={"jwk": named.public_jwk()})
    assert "signature" in _refusal(proof)


def test_jwk_type_must_fit_alg() -> None:
    """An RS256 header with an EC key (algorithm confusion) is refused."""
    ec = Prover()
    rsa = Prover.for_alg("RS256")
    proof = rsa.proof("POST", TOKEN, START, header={"jwk": ec.public_jwk()})
    assert "public key for RS256" in _refusal(proof)


def test_wrong_htm_refused() -> None:
    """§4.3 step 8: a proof made for GET does not authorise a POST."""
    assert "htm" in _refusal(Prover().proof("GET", TOKEN, START))


def test_wrong_htu_refused() -> None:
    """§4.3 step 9: a proof made for another URI (endpoint or host) is refused."""
    prover = Prover()
    assert "htu" in _refusal(prover.proof("POST", f"{ISSUER}/introspect", START))
    assert "htu" in _refusal(prover.proof("POST", "https://evil.example.test/token", START))


def test_htu_compared_without_query_and_fragment_after_normalisation() -> None:
    """§4.3 step 9: query and fragment are ignored; case, default port, percent-encoding
    and dot segments are normalised (RFC 3986 §6.2.2, §6.2.3)."""
    prover = Prover()
    for htu in (
        "HTTPS://ID.Example.Test:443/token?x=1#frag",
        "https://id.example.test/%74oken",
        "https://id.example.test/a/../token",
    ):
        assert _verify(prover.proof("POST", htu, START)).jkt == prover.jkt
    assert normalise_htu("https://id.example.test") == "https://id.example.test/"
    assert (
        normalise_htu("https://id.example.test:8443/a%2fb") == "https://id.example.test:8443/a%2Fb"
    )
    assert normalise_htu("ftp://id.example.test/token") is None
    assert normalise_htu("https://user@id.example.test/token") is None


def test_stale_and_future_iat_refused() -> None:
    """§4.3 step 11: iat older than dpop_proof_lifetime, or ahead by more than the leeway."""
    prover = Prover()
    stale = START - SETTINGS.dpop_proof_lifetime - timedelta(seconds=1)
    future = START + SETTINGS.clock_leeway + timedelta(seconds=1)
    assert "too old" in _refusal(prover.proof("POST", TOKEN, stale))
    assert "future" in _refusal(prover.proof("POST", TOKEN, future))
    edge = START - SETTINGS.dpop_proof_lifetime
    assert _verify(prover.proof("POST", TOKEN, edge)).jkt == prover.jkt


def test_missing_claims_refused() -> None:
    """§4.3 step 3: jti, htm, htu and iat are all required."""
    prover = Prover()
    for name in ("jti", "htm", "htu", "iat"):
        assert name in _refusal(prover.proof("POST", TOKEN, START, claims={name: None}))


def test_ath_required_and_checked_with_an_access_token() -> None:
    """§4.3 step 12: with an access token, ath must be its SHA-256 (base64url)."""
    prover = Prover()
    token = "an-access-token"
    digest = hashlib.sha256(token.encode()).digest()
    assert access_token_hash(token) == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    missing = prover.proof("GET", USERINFO, START)
    assert "ath" in _refusal(missing, method="GET", uri=USERINFO, access_token=token)
    wrong = prover.proof("GET", USERINFO, START, access_token="another-token")
    assert "ath" in _refusal(wrong, method="GET", uri=USERINFO, access_token=token)
    non_ascii = prover.proof("GET", USERINFO, START, claims={"ath": "é" * 43})
    assert "ath" in _refusal(non_ascii, method="GET", uri=USERINFO, access_token=token)
    right = prover.proof("GET", USERINFO, START, access_token=token)
    assert _verify(right, method="GET", uri=USERINFO, access_token=token).jkt == prover.jkt


def test_malformed_proofs_refused() -> None:
    """Not a JWS, a payload that is not an object, a jwk that is not a key."""
    prover = Prover()
    assert "compact JWS" in _refusal("not.a.jws")
    claims = prover.claims("POST", TOKEN, START)
    for jwk in ("x", {"kty": "EC", "crv": "P-256"}):
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
        assert "jwk" in _refusal(f"{b64(header)}.{b64(claims)}.AAAA")
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": prover.public_jwk(), "crit": ["exp"]}
    assert "crit" in _refusal(f"{b64(header)}.{b64(claims)}.AAAA")


# ----------------------------------------------------------------- §5 token endpoint


async def _machine(register: Register, **metadata: Any) -> tuple[Registered, dict[str, str]]:
    client = await register(**metadata)
    assert client.client_secret is not None
    return client, basic(client.client.client_id, client.client_secret)


async def _token(
    http: httpx.AsyncClient, auth: dict[str, str], proof: str | None
) -> httpx.Response:
    headers = dict(auth)
    if proof is not None:
        headers["DPoP"] = proof
    return await http.post("/token", data={"grant_type": "client_credentials"}, headers=headers)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return claims


async def test_client_credentials_token_bound_to_the_proof_key(
    http: httpx.AsyncClient, register: Register, clock: Any
) -> None:
    """A proof at /token gives token_type DPoP and a JWT with cnf.jkt (§5, §6.1);
    introspection reports the binding (§6.2); without a proof the token stays Bearer."""
    _, auth = await _machine(register)
    prover = Prover()
    response = await _token(http, auth, prover.proof("POST", TOKEN, clock.now))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "DPoP"
    assert _claims(body["access_token"])["cnf"] == {"jkt": prover.jkt}
    info = (
        await http.post("/introspect", data={"token": body["access_token"]}, headers=auth)
    ).json()
    assert info["active"] is True
    assert info["token_type"] == "DPoP" and info["cnf"] == {"jkt": prover.jkt}
    plain = (await _token(http, auth, None)).json()
    assert plain["token_type"] == "Bearer" and "cnf" not in _claims(plain["access_token"])


async def test_replayed_proof_refused(
    http: httpx.AsyncClient, register: Register, clock: Any
) -> None:
    """§11.1: the same proof (same jti and htu) is accepted once, on any worker: the
    replay store is a database table."""
    _, auth = await _machine(register)
    proof = Prover().proof("POST", TOKEN, clock.now)
    assert (await _token(http, auth, proof)).status_code == 200
    replay = await _token(http, auth, proof)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_dpop_proof"


async def test_bad_proof_at_token_endpoint_is_invalid_dpop_proof(
    http: httpx.AsyncClient, register: Register, clock: Any
) -> None:
    """§5: a proof that fails any check is a 400 invalid_dpop_proof, nothing issued; two
    DPoP headers are refused too (§4.3 step 1)."""
    _, auth = await _machine(register)
    prover = Prover()
    wrong_htu = prover.proof("POST", f"{ISSUER}/par", clock.now)
    refused = await _token(http, auth, wrong_htu)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_dpop_proof"
    twice = await http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers=[
            *auth.items(),
            ("DPoP", prover.proof("POST", TOKEN, clock.now)),
            ("DPoP", prover.proof("POST", TOKEN, clock.now)),
        ],
    )
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_dpop_proof"


async def test_dpop_bound_access_tokens_client_needs_a_proof(
    http: httpx.AsyncClient, register: Register, clock: Any
) -> None:
    """§5.2: a client registered with dpop_bound_access_tokens gets no token without a
    proof; with one it gets a DPoP token."""
    _, auth = await _machine(register, dpop_bound_access_tokens=True)
    refused = await _token(http, auth, None)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_dpop_proof"
    accepted = await _token(http, auth, Prover().proof("POST", TOKEN, clock.now))
    assert accepted.json()["token_type"] == "DPoP"


async def test_discovery_lists_dpop_algorithms(http: httpx.AsyncClient) -> None:
    """§5.1: dpop_signing_alg_values_supported lists the asymmetric algorithms accepted."""
    document = (await http.get("/.well-known/openid-configuration")).json()
    assert document["dpop_signing_alg_values_supported"] == ["ES256", "RS256", "EdDSA"]


async def test_housekeeping_forgets_expired_proofs(
    http: httpx.AsyncClient, provider: OidcProvider, register: Register, clock: Any
) -> None:
    """The replay store keeps a jti only while its proof could still be accepted."""
    _, auth = await _machine(register)
    assert (await _token(http, auth, Prover().proof("POST", TOKEN, clock.now))).status_code == 200
    clock.advance(provider.settings.dpop_proof_lifetime + timedelta(seconds=1))
    await provider.housekeeping()
    async with provider.database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(DpopProofRow)) == 0


# ----------------------------------------------------------------- §7 /userinfo, §10


async def _pkce_code(env: FlowEnv, client_id: str, **params: str) -> str:
    """The code of an authorization (PKCE S256 with VERIFIER) by ``env``'s person."""
    result = await code_flow(
        Browser(env.http),
        client_id,
        RP,
        env.person.nin,
        env.person.password,
        code_challenge=s256(VERIFIER),
        code_challenge_method="S256",
        **params,
    )
    code: str = result["code"]
    return code


async def _bound_tokens(
    env: FlowEnv, prover: Prover | None, client: Registered, **params: str
) -> dict[str, Any]:
    """Authorize (PKCE) and redeem the code with a proof of ``prover``'s key."""
    code = await _pkce_code(env, client.client.client_id, **params)
    response = await _redeem(env, client, code, prover)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _redeem(
    env: FlowEnv, client: Registered, code: str, prover: Prover | None
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": RP,
        "code_verifier": VERIFIER,
        "client_id": client.client.client_id,
    }
    headers = {} if prover is None else {"DPoP": prover.proof("POST", TOKEN, env.clock.now)}
    return await env.http.post("/token", data=data, headers=headers)


async def _userinfo(
    env: FlowEnv, token: str, scheme: str = "DPoP", proof: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return await env.http.get("/userinfo", headers=headers)


def _challenge(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("DPoP ") and 'algs="ES256 RS256 EdDSA"' in challenge
    return challenge


async def test_userinfo_with_a_dpop_bound_token(flow_env: FlowEnv) -> None:
    """§7: Authorization: DPoP with a proof of the bound key and ath is served; the same
    token as Bearer, without proof, with a replayed proof, with a proof of another key or a
    wrong ath is refused with a DPoP challenge (§7.1)."""
    env = flow_env
    client = await env.register(token_endpoint_auth_method="none")
    prover = Prover()
    tokens = await _bound_tokens(env, prover, client)
    assert tokens["token_type"] == "DPoP"
    token = tokens["access_token"]
    proof = prover.proof("GET", USERINFO, env.clock.now, access_token=token)
    served = await _userinfo(env, token, proof=proof)
    assert served.status_code == 200, served.text
    assert served.json()["sub"]
    assert 'error="invalid_dpop_proof"' in _challenge(await _userinfo(env, token, proof=proof))
    assert 'error="invalid_token"' in _challenge(await _userinfo(env, token, "Bearer"))
    assert 'error="invalid_dpop_proof"' in _challenge(await _userinfo(env, token))
    other = Prover().proof("GET", USERINFO, env.clock.now, access_token=token)
    assert 'error="invalid_dpop_proof"' in _challenge(await _userinfo(env, token, proof=other))
    no_ath = prover.proof("GET", USERINFO, env.clock.now)
    assert 'error="invalid_dpop_proof"' in _challenge(await _userinfo(env, token, proof=no_ath))
    wrong_htm = prover.proof("POST", USERINFO, env.clock.now, access_token=token)
    assert 'error="invalid_dpop_proof"' in _challenge(await _userinfo(env, token, proof=wrong_htm))


async def test_bearer_token_sent_as_dpop_refused(flow_env: FlowEnv) -> None:
    """§7.1: an unbound token presented with the DPoP scheme is not accepted; as Bearer it
    still works."""
    env = flow_env
    client = await env.register(token_endpoint_auth_method="none")
    token = (await _bound_tokens(env, None, client))["access_token"]
    prover = Prover()
    proof = prover.proof("GET", USERINFO, env.clock.now, access_token=token)
    assert 'error="invalid_token"' in _challenge(await _userinfo(env, token, proof=proof))
    assert (await _userinfo(env, token, "Bearer")).status_code == 200


async def test_dpop_jkt_binds_the_code(flow_env: FlowEnv) -> None:
    """§10: a code asked for with dpop_jkt is redeemed only with a proof of that key."""
    env = flow_env
    client = await env.register(token_endpoint_auth_method="none")
    prover = Prover()
    code = await _pkce_code(env, client.client.client_id, dpop_jkt=prover.jkt)
    without = await _redeem(env, client, code, None)
    assert without.json()["error"] == "invalid_dpop_proof"
    other = await _redeem(env, client, code, Prover())
    assert other.json()["error"] == "invalid_dpop_proof"
    bound = await _redeem(env, client, code, prover)
    assert bound.status_code == 200, bound.text
    assert _claims(bound.json()["access_token"])["cnf"] == {"jkt": prover.jkt}


async def test_malformed_dpop_jkt_is_an_invalid_request(flow_env: FlowEnv) -> None:
    """§10: dpop_jkt must be a base64url SHA-256 thumbprint."""
    env = flow_env
    client = await env.register(token_endpoint_auth_method="none")
    response = await Browser(env.http).get(
        "/authorize?"
        + str(
            httpx.QueryParams(
                response_type="code",
                client_id=client.client.client_id,
                redirect_uri=RP,
                scope="openid",
                nonce="n",
                code_challenge=s256(VERIFIER),
                code_challenge_method="S256",
                dpop_jkt="not-a-thumbprint",
            )
        )
    )
    assert response.status_code == 303
    assert "error=invalid_request" in response.headers["location"]


async def test_public_client_refresh_token_bound_to_the_key(flow_env: FlowEnv) -> None:
    """§5: a public client's refresh token is bound to its DPoP key: refreshing needs a
    proof of that key; a confidential client's refresh token is not bound."""
    env = flow_env
    client = await env.register(token_endpoint_auth_method="none")
    prover = Prover()
    tokens = await _bound_tokens(env, prover, client)

    async def refresh(refresh_token: str, with_prover: Prover | None) -> httpx.Response:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client.client.client_id,
        }
        headers = {}
        if with_prover is not None:
            headers["DPoP"] = with_prover.proof("POST", TOKEN, env.clock.now)
        return await env.http.post("/token", data=data, headers=headers)

    assert (await refresh(tokens["refresh_token"], None)).json()["error"] == "invalid_dpop_proof"
    other = await refresh(tokens["refresh_token"], Prover())
    assert other.json()["error"] == "invalid_dpop_proof"
    rotated = await refresh(tokens["refresh_token"], prover)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["token_type"] == "DPoP"

    confidential = await env.register()
    assert confidential.client_secret is not None
    auth = basic(confidential.client.client_id, confidential.client_secret)
    code = await _pkce_code(env, confidential.client.client_id)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": RP,
        "code_verifier": VERIFIER,
    }
    first = await env.http.post(
        "/token", data=data, headers=auth | {"DPoP": prover.proof("POST", TOKEN, env.clock.now)}
    )
    assert first.json()["token_type"] == "DPoP"
    again = await env.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        headers=auth,
    )
    assert again.status_code == 200 and again.json()["token_type"] == "Bearer"


def test_thumbprint_matches_rfc7638_example() -> None:
    """RFC 7638 §3.1: the example RSA key's thumbprint."""
    key = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6t"
            "Soc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
            "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qN"
            "Lyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awap"
            "JzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert RSAKey.import_key(key).thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


# ----------------------------------------------------------------- §8, §9 server nonces

NONCE_SECRET = "n" * 32


def test_nonces_are_stateless_and_expire() -> None:
    """§8: a nonce of the current or previous window is accepted by any DpopNonces with the
    same secret; an older one, a forged one or none asks for the current nonce."""
    nonces = DpopNonces(NONCE_SECRET.encode(), timedelta(minutes=5))
    other_process = DpopNonces(NONCE_SECRET.encode(), timedelta(minutes=5))
    nonce = nonces.current(START)
    other_process.check(nonce, START + timedelta(minutes=5))
    for stale in (nonce, None, "1.forged", "é"):
        with pytest.raises(UseDpopNonceError) as asked:
            other_process.check(stale, START + timedelta(minutes=11))
        assert asked.value.error == "use_dpop_nonce"
        assert asked.value.nonce == other_process.current(START + timedelta(minutes=11))


class TestServerNonces:
    """With dpop_nonce_secret set, proofs need the server's nonce (§8 at /token)."""

    @pytest.fixture
    def settings(self) -> OidcSettings:
        return OidcSettings(issuer=ISSUER, dpop_nonce_secret=NONCE_SECRET)

    async def test_token_endpoint_asks_for_a_nonce_then_accepts_it(
        self, http: httpx.AsyncClient, register: Register, clock: Any
    ) -> None:
        """§8.1: a proof without nonce is a 400 use_dpop_nonce with DPoP-Nonce; the retry
        with that nonce gets a DPoP token and a fresh DPoP-Nonce (§8.2)."""
        _, auth = await _machine(register)
        prover = Prover()
        asked = await _token(http, auth, prover.proof("POST", TOKEN, clock.now))
        assert asked.status_code == 400 and asked.json()["error"] == "use_dpop_nonce"
        nonce = asked.headers["dpop-nonce"]
        proof = prover.proof("POST", TOKEN, clock.now, claims={"nonce": nonce})
        accepted = await _token(http, auth, proof)
        assert accepted.status_code == 200 and accepted.json()["token_type"] == "DPoP"
        assert accepted.headers["dpop-nonce"]
        clock.advance(timedelta(minutes=11))
        late = prover.proof("POST", TOKEN, clock.now, claims={"nonce": nonce})
        assert (await _token(http, auth, late)).json()["error"] == "use_dpop_nonce"


async def test_userinfo_asks_for_a_nonce(database_url: str, clock: Any) -> None:
    """§9: a resource asks for its nonce with 401, error use_dpop_nonce and DPoP-Nonce."""
    database, population, nin = await prepare_flow_database(database_url, clock)
    fields = flow_settings().model_dump() | {"dpop_nonce_secret": NONCE_SECRET}
    settings = OidcSettings.model_validate(fields)
    provider = OidcProvider(database, settings, clock=clock, register=population)
    await provider.start()
    async with database.transaction() as session:
        client = await register_client(
            session, code_client(token_endpoint_auth_method="none"), clock()
        )
    transport = httpx.ASGITransport(app=create_app(provider))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            env = FlowEnv(provider, http, Person(nin), _no_register, clock)
            prover = Prover()
            code = await _pkce_code(env, client.client.client_id)
            asked = await _redeem(env, client, code, prover)
            nonce = asked.headers["dpop-nonce"]
            data = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": RP,
                "code_verifier": VERIFIER,
                "client_id": client.client.client_id,
            }
            proof = prover.proof("POST", TOKEN, clock.now, claims={"nonce": nonce})
            token = (await http.post("/token", data=data, headers={"DPoP": proof})).json()
            access = token["access_token"]
            bare = prover.proof("GET", USERINFO, clock.now, access_token=access)
            refused = await _userinfo(env, access, proof=bare)
            assert 'error="use_dpop_nonce"' in _challenge(refused)
            nonce = refused.headers["dpop-nonce"]
            with_nonce = prover.proof(
                "GET", USERINFO, clock.now, access_token=access, claims={"nonce": nonce}
            )
            assert (await _userinfo(env, access, proof=with_nonce)).status_code == 200
    finally:
        await database.close()


async def _no_register(**_: Any) -> Registered:
    raise AssertionError("not used")
