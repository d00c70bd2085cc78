"""The provider's signing-key ring: ES256 and RS256 keys rotated next → active → retired.

Rotation follows the central's configuration-signing rollover:

* :meth:`KeyRing.rotate` creates a ``next`` key. It is published in the JWKS at once but
  signs nothing until ``not_before`` (``settings.key_publish_lead`` later), so every
  relying party that refreshes its JWKS cache in that window knows the key before it
  meets a token carrying its ``kid`` (OIDC Core §10.1.1).
* :meth:`KeyRing.advance` (run periodically) promotes a due ``next`` key to ``active`` and
  moves the previous ``active`` key to ``retired`` with ``retire_after`` = now + the longest
  token lifetime + leeway; a retired key stays in the JWKS until then, so tokens it signed
  keep verifying until they expire, and is deleted afterwards.
* The first start has published nothing yet, so :meth:`KeyRing.initialise` creates an
  ``active`` key per algorithm directly.

Private keys are PKCS#8 PEM in the database, encrypted when a passphrase is configured.
The ``kid`` is the RFC 7638 thumbprint of the public key. Each process keeps the decrypted
keys in memory and reloads them in :meth:`KeyRing.refresh`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import delete, select

from jisr.crypto.keys import PrivateKey, PublicKey, load_private_key_pem, private_key_to_pem
from jisr.identity.oidc.errors import KeyRingError
from jisr.identity.oidc.models import SigningKeyRow
from jisr.identity.oidc.settings import OidcSettings
from jisr.storage import Database

__all__ = ["ALGORITHMS", "Algorithm", "KeyRing", "KeyState", "SigningKey", "public_jwk"]

Algorithm = Literal["ES256", "RS256"]
KeyState = Literal["next", "active", "retired"]
ALGORITHMS: tuple[Algorithm, ...] = ("ES256", "RS256")
_STATE_ORDER = {"active": 0, "next": 1, "retired": 2}
# NIST SP 800-57: 2048-bit RSA is acceptable through 2030; RS256 exists for old clients.
_RSA_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: Algorithm
    key: PrivateKey
    state: KeyState
    not_before: datetime
    retire_after: datetime | None

    @property
    def public_key(self) -> PublicKey:
        return self.key.public_key()

    def jwk(self) -> dict[str, Any]:
        return public_jwk(self.public_key, kid=self.kid, alg=self.alg)


def public_jwk(key: PublicKey, *, kid: str, alg: str) -> dict[str, Any]:
    """The public JWK (RFC 7517) of ``key`` with ``kid``, ``alg`` and ``use``."""
    jwk = _import(key).as_dict(private=False)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def _import(key: PrivateKey | PublicKey) -> ECKey | RSAKey:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return ECKey.import_key(key)
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return RSAKey.import_key(key)
    raise KeyRingError(f"unsupported key type {type(key).__name__}")


def _generate(alg: Algorithm) -> PrivateKey:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)


class KeyRing:
    """Signing keys stored in ``database``, cached in memory for signing and the JWKS."""

    def __init__(self, database: Database, settings: OidcSettings) -> None:
        self.database = database
        self.settings = settings
        self._keys: list[SigningKey] = []

    async def initialise(self, now: datetime) -> None:
        """Give every algorithm an active key if it has neither an active nor a next one."""
        async with self.database.transaction() as session:
            states = (await session.execute(select(SigningKeyRow.alg, SigningKeyRow.state))).all()
            present = {alg for alg, state in states if state in ("active", "next")}
            for alg in ALGORITHMS:
                if alg not in present:
                    session.add(self._new_row(alg, "active", now, now))
        await self.refresh()

    async def rotate(self, alg: Algorithm, now: datetime) -> SigningKey:
        """Publish a new ``next`` key for ``alg``; it may sign from now + publish lead."""
        async with self.database.transaction() as session:
            pending = select(SigningKeyRow.kid).where(
                SigningKeyRow.alg == alg, SigningKeyRow.state == "next"
            )
            if await session.scalar(pending) is not None:
                raise KeyRingError(f"a next {alg} key is already published")
            row = self._new_row(alg, "next", now, now + self.settings.key_publish_lead)
            session.add(row)
        await self.refresh()
        return next(key for key in self._keys if key.kid == row.kid)

    async def advance(self, now: datetime) -> None:
        """Promote due ``next`` keys, retire the keys they replace, drop expired retirees."""
        keep_until = now + self.settings.longest_token_lifetime + self.settings.clock_leeway
        async with self.database.transaction() as session:
            rows = list(await session.scalars(select(SigningKeyRow)))
            for row in rows:
                if row.state != "next" or row.not_before > now:
                    continue
                for other in rows:
                    if other.alg == row.alg and other.state == "active":
                        other.state, other.retire_after = "retired", keep_until
                row.state = "active"
            await session.execute(
                delete(SigningKeyRow).where(
                    SigningKeyRow.state == "retired", SigningKeyRow.retire_after <= now
                )
            )
        await self.refresh()

    async def refresh(self) -> None:
        """Reload the ring from the database (keys already decrypted are reused)."""
        known = {key.kid: key.key for key in self._keys}
        async with self.database.transaction() as session:
            rows = list(await session.scalars(select(SigningKeyRow)))
        keys = [self._from_row(row, known.get(row.kid)) for row in rows]
        self._keys = sorted(keys, key=lambda k: (_STATE_ORDER[k.state], k.not_before, k.kid))

    def signer(self, alg: Algorithm = "ES256") -> SigningKey:
        """The active key of ``alg``, which signs every new token of that algorithm."""
        for key in self._keys:
            if key.alg == alg and key.state == "active":
                return key
        raise KeyRingError(f"no active {alg} key; initialise the key ring")

    def signing_keys(self) -> list[SigningKey]:
        return list(self._keys)

    def jwks(self) -> dict[str, Any]:
        """The JWK Set (RFC 7517 §5) of every published key: active, next and retired."""
        return {"keys": [key.jwk() for key in self._keys]}

    def public_keys(self) -> dict[str, PublicKey]:
        return {key.kid: key.public_key for key in self._keys}

    def _new_row(
        self, alg: Algorithm, state: KeyState, now: datetime, not_before: datetime
    ) -> SigningKeyRow:
        key = _generate(alg)
        passphrase = self.settings.passphrase
        return SigningKeyRow(
            kid=_import(key.public_key()).thumbprint(),
            alg=alg,
            pem=private_key_to_pem(key, passphrase),
            encrypted=passphrase is not None,
            state=state,
            created_at=now,
            not_before=not_before,
            retire_after=None,
        )

    def _from_row(self, row: SigningKeyRow, cached: PrivateKey | None) -> SigningKey:
        key = cached or load_private_key_pem(
            row.pem, self.settings.passphrase if row.encrypted else None
        )
        if row.alg not in ALGORITHMS or row.state not in _STATE_ORDER:
            raise KeyRingError(f"key {row.kid} has unknown alg/state {row.alg}/{row.state}")
        alg: Algorithm = "ES256" if row.alg == "ES256" else "RS256"
        state: KeyState = (
            "active" if row.state == "active" else "next" if row.state == "next" else "retired"
        )
        return SigningKey(row.kid, alg, key, state, row.not_before, row.retire_after)
