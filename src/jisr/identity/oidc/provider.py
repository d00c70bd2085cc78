"""The provider as one object: database, settings, key ring, Authlib server, adapter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, exists, select

from jisr.identity.authn import Authenticator, AuthnSettings, SessionStore
from jisr.identity.oidc.adapter import OAuthAdapter
from jisr.identity.oidc.keys import KeyRing
from jisr.identity.oidc.models import (
    AuthRequestRow,
    DpopProofRow,
    GrantRow,
    PushedRequestRow,
    TokenRow,
    UsedAssertionRow,
)
from jisr.identity.oidc.server import OidcServer
from jisr.identity.oidc.settings import OidcSettings
from jisr.identity.oidc.web import LoginFlow
from jisr.identity.oidc.web import _ask as authorization_rules
from jisr.identity.register import PopulationRegister
from jisr.storage import Database, upgrade, utcnow

__all__ = ["MIGRATIONS", "VERSION_TABLE", "OidcProvider", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_oidc"


def migrate(url: str) -> None:
    """Create or upgrade the provider's tables (blocking; never call from a running loop)."""
    upgrade(MIGRATIONS, url, VERSION_TABLE)


class OidcProvider:
    """Everything wired. With a ``register`` (and ``subject_secret`` and ``csrf_secret`` in
    the settings) it also serves the authorization-code flow; ``database`` then holds the
    authentication tables too (:func:`jisr.identity.authn.migrate`)."""

    def __init__(
        self,
        database: Database,
        settings: OidcSettings,
        clock: Callable[[], datetime] = utcnow,
        *,
        register: PopulationRegister | None = None,
        authn: AuthnSettings | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.keyring = KeyRing(database, settings)
        self.server = OidcServer(settings, self.keyring)
        self.adapter = OAuthAdapter(self.server, database, settings, clock, register)
        self.flow: LoginFlow | None = None
        if register is not None:
            if settings.subject_secret is None or settings.csrf_secret is None:
                raise ValueError("the login flow needs subject_secret and csrf_secret")
            authn = authn or AuthnSettings()
            csrf_key = settings.csrf_secret.get_secret_value().encode()
            self.flow = LoginFlow(
                server=self.server,
                database=database,
                settings=settings,
                clock=clock,
                authenticator=Authenticator(database, authn, clock),
                sessions=SessionStore(database, csrf_key, authn, clock),
                register=register,
                subject_secret=settings.subject_secret.get_secret_value().encode(),
                clients=self.adapter.clients,
            )
            # RFC 9126 §2.1: /par validates the OIDC parameters exactly as /authorize does.
            self.server.authorization_rules = authorization_rules

    async def start(self) -> None:
        """Create the first keys if none exist and load the ring."""
        await self.keyring.initialise(self.clock())
        await self.keyring.advance(self.clock())

    async def housekeeping(self) -> None:
        """Advance key rotation; forget expired assertion jtis, tokens, pending and pushed
        requests, and DPoP proofs too old to be replayed."""
        now = self.clock()
        await self.keyring.advance(now)
        async with self.database.transaction() as session:
            await session.execute(delete(UsedAssertionRow).where(UsedAssertionRow.expires_at < now))
            await session.execute(delete(TokenRow).where(TokenRow.expires_at < now))
            await session.execute(delete(AuthRequestRow).where(AuthRequestRow.expires_at < now))
            await session.execute(delete(PushedRequestRow).where(PushedRequestRow.expires_at < now))
            await session.execute(delete(DpopProofRow).where(DpopProofRow.expires_at < now))
            # A grant goes once its code has expired and no token of it is left.
            tokens_left = exists(
                select(TokenRow.token_hash).where(TokenRow.grant_id == GrantRow.id)
            )
            await session.execute(
                delete(GrantRow).where(GrantRow.code_expires_at < now, ~tokens_left)
            )
