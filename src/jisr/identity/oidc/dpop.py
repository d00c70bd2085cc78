"""DPoP (RFC 9449): proofs of possession, their replay store, and tokens bound to a key.

A proof is a JWS the client signs with a key it holds, sent in the ``DPoP`` header.
:func:`verify_proof` checks it in the order of RFC 9449 §4.3: one compact JWS, ``typ``
``dpop+jwt``, an asymmetric ``alg`` from the allow-list matching the ``jwk`` header's key
type, that key public, the signature, ``htm``, ``htu`` (normalised, without query and
fragment), ``iat`` within the window, and ``ath`` when an access token is presented.

Freshness rests on the ``iat`` window and on :class:`ProofReplayStore`, which records every
accepted proof by its ``jti`` and ``htu`` in ``oidc_dpop_proofs`` (a primary key, so two
workers or processes racing with the same proof cannot both win) until the proof is too old
to be accepted anyway. With ``dpop_nonce_secret`` set, proofs must also carry a server nonce
(§8, §9): :class:`DpopNonces` makes them stateless — an HMAC of the current time window —
so every process sharing the secret accepts every other's.

A token bound to a key carries ``cnf.jkt``, the key's RFC 7638 thumbprint (§6.1); a resource
(:func:`protected_resource_token`) then wants ``Authorization: DPoP`` and a proof of that key
with ``ath`` (§7.1), and refuses the token presented as a Bearer token.

Errors::

    OAuth2Error (Authlib)
     ├── InvalidDpopProofError   invalid_dpop_proof: JSON 400 at /token and /par;
     │                           401 with a ``WWW-Authenticate: DPoP`` challenge at resources
     └── UseDpopNonceError       use_dpop_nonce, likewise, with the nonce to use in the
                                 ``DPoP-Nonce`` header (§8.1, §9)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from authlib.oauth2.rfc6749 import OAuth2Error  # type: ignore[import-untyped]
from joserfc import jws
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey
from joserfc.jws import JWSRegistry
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jisr.identity.oidc.models import DpopProofRow, TokenRow
from jisr.identity.oidc.settings import OidcSettings
from jisr.identity.oidc.tokens import hash_token
from jisr.storage import Database

__all__ = [
    "DPOP_TYPE",
    "DpopNonces",
    "DpopProof",
    "InvalidDpopProofError",
    "ProofReplayStore",
    "UseDpopNonceError",
    "access_token_hash",
    "checked_proof",
    "dpop_challenge",
    "dpop_nonces",
    "is_thumbprint",
    "normalise_htu",
    "protected_resource_token",
    "verify_proof",
]

DPOP_TYPE = "dpop+jwt"
# The key type (and curve) each allowed algorithm needs: ES256 on P-256 only, and so on.
_KEY_TYPES: Mapping[str, tuple[type[Any], str | None]] = {
    "ES256": (ECKey, "P-256"),
    "EdDSA": (OKPKey, "Ed25519"),
    "RS256": (RSAKey, None),
}
_MIN_RSA_BITS = 2048
# JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_JKT = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_PROOF_CHARS = 8192


class _ProofRegistry(JWSRegistry):
    """joserfc's registry with room for an RSA ``jwk`` in the header (its default allows
    512 bytes), and without the per-use warning on ``EdDSA`` (RFC 9449 lists the name)."""

    max_header_length = 4096
    max_payload_length = 4096

    def get_alg(self, name: str) -> JWSAlgModel:
        if not self.allowed or name not in self.allowed or name not in self.algorithms:
            raise UnsupportedAlgorithmError(f"algorithm {name!r} is not allowed")
        return self.algorithms[name]


class InvalidDpopProofError(OAuth2Error):  # type: ignore[misc]
    """RFC 9449 §5, §7.1: the DPoP proof is missing where required, malformed or wrong."""

    error = "invalid_dpop_proof"
    status_code = 400


class UseDpopNonceError(OAuth2Error):  # type: ignore[misc]
    """RFC 9449 §8.1: the proof lacks the server's current nonce; retry with ``nonce``."""

    error = "use_dpop_nonce"
    status_code = 400

    def __init__(self, nonce: str, description: str) -> None:
        super().__init__(description=description)
        self.nonce = nonce

    def get_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = super().get_headers()
        return [*headers, ("DPoP-Nonce", self.nonce)]


class DpopNonces:
    """Server nonces (§8) without state: ``<window>.<HMAC(secret, window)>``, the window
    being the current ``lifetime``-long slice of time; the current and the previous window
    are accepted, so a nonce lives between one and two lifetimes."""

    def __init__(self, secret: bytes, lifetime: timedelta) -> None:
        self.secret, self.seconds = secret, max(1, int(lifetime.total_seconds()))

    def current(self, now: datetime) -> str:
        return self._nonce(int(now.timestamp()) // self.seconds)

    def check(self, nonce: object, now: datetime) -> None:
        """Raise :class:`UseDpopNonceError` unless ``nonce`` is current or just previous."""
        window = int(now.timestamp()) // self.seconds
        valid = (self._nonce(window), self._nonce(window - 1))
        if not isinstance(nonce, str) or not any(_same(nonce, v) for v in valid):
            described = "a nonce is required" if nonce is None else "the nonce is not current"
            raise UseDpopNonceError(self.current(now), described)

    def _nonce(self, window: int) -> str:
        mac = hmac.new(self.secret, f"dpop-nonce {window}".encode(), hashlib.sha256).digest()
        return f"{window}.{base64.urlsafe_b64encode(mac[:18]).decode()}"


def dpop_nonces(settings: OidcSettings) -> DpopNonces | None:
    """The nonce source when ``dpop_nonce_secret`` is set, else ``None`` (no nonces)."""
    if settings.dpop_nonce_secret is None:
        return None
    secret = settings.dpop_nonce_secret.get_secret_value().encode()
    return DpopNonces(secret, settings.dpop_nonce_lifetime)


@dataclass(frozen=True)
class DpopProof:
    """An accepted proof: the thumbprint of its key and what makes it unique."""

    jkt: str
    jti: str
    htu: str
    iat: datetime
    expires_at: datetime

    @property
    def replay_key(self) -> str:
        # The replay store's key: jti within one target URI (RFC 9449 §11.1).
        return hashlib.sha256(f"{self.htu}\n{self.jti}".encode()).hexdigest()


def is_thumbprint(value: str) -> bool:
    """Whether ``value`` has the shape of a base64url SHA-256 JWK thumbprint (RFC 7638)."""
    return _JKT.fullmatch(value) is not None


def access_token_hash(access_token: str) -> str:
    """RFC 9449 §4.2 ``ath``: base64url of the SHA-256 of the token's ASCII octets."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify_proof(
    proof: str,
    *,
    method: str,
    uri: str,
    now: datetime,
    settings: OidcSettings,
    access_token: str | None = None,
    nonces: DpopNonces | None = None,
) -> DpopProof:
    """Check ``proof`` for a ``method`` request to ``uri`` (RFC 9449 §4.3, steps 2-12)."""
    key, claims = _signed_proof(proof, settings.dpop_signing_algorithms)
    jti = _string_claim(claims, "jti", 256)
    if claims.get("htm") != method:
        raise _refused(f"htm must be {method}")  # step 8
    htu = _string_claim(claims, "htu", 2048)
    if normalise_htu(htu) != normalise_htu(uri):
        raise _refused("htu does not match the request URI")  # step 9
    if nonces is not None:
        nonces.check(claims.get("nonce"), now)  # step 10
    iat = _issued_at(claims, now, settings.dpop_proof_lifetime, settings.clock_leeway)
    if access_token is not None:
        # Step 12: the proof names the very token it accompanies.
        ath = claims.get("ath")
        expected = access_token_hash(access_token)
        if not isinstance(ath, str) or not _same(ath, expected):
            raise _refused("ath does not match the access token")
    return DpopProof(
        jkt=key.thumbprint(),
        jti=jti,
        htu=normalise_htu(htu) or htu,
        iat=iat,
        expires_at=iat + settings.dpop_proof_lifetime,
    )


def _signed_proof(proof: str, algorithms: Collection[str]) -> tuple[Any, dict[str, Any]]:
    """Steps 2-7: the proof's public key, algorithm and claims, its signature verified."""
    if len(proof) > _MAX_PROOF_CHARS:
        raise _refused("the proof is too long")
    try:
        header = jws.extract_compact(proof.encode(), registry=_ProofRegistry()).headers()
    except (JoseError, ValueError, UnicodeError) as exc:
        raise _refused("the proof is not a compact JWS") from exc
    if "crit" in header or "b64" in header:
        raise _refused("crit and b64 are not allowed in a proof")  # no extension is defined
    if str(header.get("typ", "")).lower() != DPOP_TYPE:
        raise _refused(f"typ must be {DPOP_TYPE}")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms or alg not in _KEY_TYPES:
        # Step 5: never "none", never a MAC (the verifier would hold the signing key).
        raise _refused(f"alg must be one of {' '.join(algorithms)}")
    key = _public_key(header.get("jwk"), alg)
    try:
        registry = _ProofRegistry(algorithms=[alg])
        verified = jws.deserialize_compact(proof.encode(), key, registry=registry)
        claims = json.loads(verified.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise _refused("the proof's signature does not verify") from exc
    if not isinstance(claims, dict):
        raise _refused("the proof's payload is not a JSON object")
    return key, claims


def _public_key(jwk: object, alg: str) -> Any:
    """Step 7: the ``jwk`` header as a public key of the type ``alg`` needs."""
    if not isinstance(jwk, dict):
        raise _refused("the jwk header must be a JSON Web Key")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise _refused("the jwk header must not contain a private key")
    key_type, curve = _KEY_TYPES[alg]
    try:
        key = JWKRegistry.import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _refused("the jwk header is not a valid key") from exc
    if not isinstance(key, key_type) or key.is_private:
        raise _refused(f"the jwk header is not a public key for {alg}")
    if curve is not None and getattr(key, "curve_name", None) != curve:
        raise _refused(f"{alg} needs a {curve} key")
    if isinstance(key, RSAKey) and key.raw_value.key_size < _MIN_RSA_BITS:
        raise _refused("RSA keys need at least 2048 bits")
    return key


def _string_claim(claims: Mapping[str, Any], name: str, limit: int) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise _refused(f"{name} is required (a string of at most {limit} characters)")
    return value


def _issued_at(
    claims: Mapping[str, Any], now: datetime, lifetime: timedelta, leeway: timedelta
) -> datetime:
    """Step 11: ``iat`` no older than ``lifetime`` and no further ahead than ``leeway``."""
    value = claims.get("iat")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _refused("iat is required")
    try:
        iat = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _refused("iat is out of range") from exc
    if iat > now + leeway:
        raise _refused("iat is in the future")
    if iat + lifetime < now:
        raise _refused("the proof is too old")
    return iat


def normalise_htu(uri: str) -> str | None:
    """The URI without query and fragment, normalised by RFC 3986 §6.2.2 (case, percent-
    encoding, dot segments) and §6.2.3 (default port, empty path); ``None`` if it is not
    an absolute http(s) URI. RFC 9449 §4.3 step 9 compares these."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if ":" in host:
        host = f"[{host}]"
    authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _remove_dot_segments(_PERCENT.sub(_normalise_escape, parts.path) or "/")
    return f"{scheme}://{authority}{path}"


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 for an absolute path: ``.`` and ``..`` segments resolved."""
    output: list[str] = []
    segments = path.split("/")[1:]
    for segment in segments:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = segments[-1] in (".", "..") and bool(output)
    return "/" + "/".join(output) + ("/" if trailing else "")


def _normalise_escape(match: re.Match[str]) -> str:
    # RFC 3986 §6.2.2.1-2: decode escaped unreserved characters, upper-case the others.
    char = unquote(match.group(0))
    return char if char in _UNRESERVED else match.group(0).upper()


def _same(given: str, expected: str) -> bool:
    # Bytes: compare_digest raises TypeError on non-ASCII str, which a client controls.
    return hmac.compare_digest(given.encode(), expected.encode())


def _refused(description: str) -> InvalidDpopProofError:
    return InvalidDpopProofError(description=description)


class ProofReplayStore:
    """Accepted proofs by ``jti`` and ``htu`` until they expire (RFC 9449 §11.1)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def use(self, proof: DpopProof) -> None:
        """Record ``proof``; refuse it if it was recorded before (by any process)."""
        try:
            async with self.database.transaction() as session:
                await session.execute(
                    insert(DpopProofRow).values(
                        proof_hash=proof.replay_key, expires_at=proof.expires_at
                    )
                )
        except IntegrityError as exc:
            raise _refused("the proof was already used (jti)") from exc


async def checked_proof(
    request: Request,
    *,
    uri: str,
    now: datetime,
    settings: OidcSettings,
    store: ProofReplayStore,
    access_token: str | None = None,
    nonces: DpopNonces | None = None,
) -> DpopProof | None:
    """The request's ``DPoP`` proof, verified and recorded; ``None`` if it has none."""
    values = request.headers.getlist("dpop")
    if not values:
        return None
    if len(values) > 1:
        raise _refused("exactly one DPoP header is allowed")  # RFC 9449 §4.3 step 1
    proof = verify_proof(
        values[0],
        method=request.method,
        uri=uri,
        now=now,
        settings=settings,
        access_token=access_token,
        nonces=nonces,
    )
    await store.use(proof)
    return proof


async def protected_resource_token(
    request: Request,
    *,
    uri: str,
    now: datetime,
    settings: OidcSettings,
    store: ProofReplayStore,
    nonces: DpopNonces | None = None,
) -> Request | Response:
    """RFC 9449 §7: the request to a protected resource with its access token checked for
    DPoP, handed on as a plain Bearer request; or the 401 answer. A token bound to a key
    needs ``Authorization: DPoP`` and a proof of that key; an unbound one stays Bearer."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() not in ("bearer", "dpop") or not token or len(token) > _MAX_PROOF_CHARS:
        return request
    async with store.database.sessions() as session:
        row = await session.get(TokenRow, hash_token(token))
    bound = None if row is None else row.cnf_jkt
    algorithms = settings.dpop_signing_algorithms
    if scheme.lower() == "bearer":
        if bound is None:
            return request
        # §7.1: a DPoP-bound token is no bearer token; no DPoP proof, no access.
        return dpop_challenge("invalid_token", "the token is DPoP-bound", algorithms)
    if bound is None:
        return dpop_challenge("invalid_token", "the token is not DPoP-bound", algorithms)
    try:
        proof = await checked_proof(
            request,
            uri=uri,
            now=now,
            settings=settings,
            store=store,
            access_token=token,
            nonces=nonces,
        )
    except InvalidDpopProofError as error:
        return dpop_challenge("invalid_dpop_proof", error.description, algorithms)
    except UseDpopNonceError as error:
        # §9: a resource asks for its nonce with a 401 challenge and the DPoP-Nonce header.
        challenge = dpop_challenge("use_dpop_nonce", error.description, algorithms)
        challenge.headers["DPoP-Nonce"] = error.nonce
        return challenge
    if proof is None:
        return dpop_challenge("invalid_dpop_proof", "a DPoP proof is required", algorithms)
    if not hmac.compare_digest(proof.jkt, bound):
        # §4.3 step 12: the proof's key must be the key the token is bound to.
        return dpop_challenge("invalid_dpop_proof", "not the token's key", algorithms)
    return _as_bearer(request, token)


def dpop_challenge(error: str, description: str, algorithms: Collection[str]) -> Response:
    """RFC 9449 §7.1: 401 with ``WWW-Authenticate: DPoP`` naming the error and the algs."""
    challenge = (
        f'DPoP error="{error}", error_description="{description}", algs="{" ".join(algorithms)}"'
    )
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})


def _as_bearer(request: Request, token: str) -> Request:
    """The same request with the verified token as ``Authorization: Bearer`` and no proof."""
    scope = dict(request.scope)
    headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"authorization", b"dpop")]
    scope["headers"] = [*headers, (b"authorization", f"Bearer {token}".encode())]
    return Request(scope, request.receive)
