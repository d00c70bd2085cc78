"""The provider as one object: database, settings, key ring, Authlib server, adapter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete

from jisr.identity.oidc.adapter import OAuthAdapter
from jisr.identity.oidc.keys import KeyRing
from jisr.identity.oidc.models import TokenRow, UsedAssertionRow
from jisr.identity.oidc.server import OidcServer
from jisr.identity.oidc.settings import OidcSettings
from jisr.storage import Database, upgrade, utcnow

__all__ = ["MIGRATIONS", "VERSION_TABLE", "OidcProvider", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_oidc"


def migrate(url: str) -> None:
    """Create or upgrade the provider's tables (blocking; never call from a running loop)."""
    upgrade(MIGRATIONS, url, VERSION_TABLE)


class OidcProvider:
    def __init__(
        self,
        database: Database,
        settings: OidcSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.keyring = KeyRing(database, settings)
        self.server = OidcServer(settings, self.keyring)
        self.adapter = OAuthAdapter(self.server, database, settings, clock)

    async def start(self) -> None:
        """Create the first keys if none exist and load the ring."""
        await self.keyring.initialise(self.clock())
        await self.keyring.advance(self.clock())

    async def housekeeping(self) -> None:
        """Advance key rotation, forget expired assertion jtis and expired tokens."""
        now = self.clock()
        await self.keyring.advance(now)
        async with self.database.transaction() as session:
            await session.execute(delete(UsedAssertionRow).where(UsedAssertionRow.expires_at < now))
            await session.execute(delete(TokenRow).where(TokenRow.expires_at < now))
