"""The issued-token ledger with group commit (docs/oidc.md, Performance).

A token is handed out only once its ``oidc_tokens`` row is committed: revocation (RFC 7009)
and introspection (RFC 7662) answer from that row, so a token returned before it is durable
could be introspected as inactive, or survive a crash unrevocable. Durable means the WAL
fsynced (SQLite ``synchronous=FULL``; PostgreSQL ``synchronous_commit`` on).

The rows are written with **group commit** (:mod:`jisr.storage.groupcommit`, as the
register's read audit trail): the rows of grants that arrive while a commit is
in flight wait for the next one and share it, one transaction, one INSERT and one fsync
for the whole group. A lone grant waits for exactly one commit, as before; under load each
waits for at most the commit in flight plus its own.

A group's commit that fails fails every grant in it: none of their tokens is returned. An
``IntegrityError`` (a client deleted by another process while this one had it cached) is
the one exception: it would otherwise fail the grants of other clients, so the group's
grants are then committed one transaction each, and only the offending ones fail.

The group is per event loop (asyncio futures belong to one loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table

from jisr.identity.oidc.models import TokenRow
from jisr.identity.oidc.tokens import IssuedToken
from jisr.storage import Database
from jisr.storage.groupcommit import GroupCommit
from jisr.storage.rows import record_row

__all__ = ["GROUP_LIMIT", "TokenLedger", "token_row"]

# At most this many grants per INSERT and commit (SQLite binds 11 parameters per row).
GROUP_LIMIT = 256


class TokenLedger(GroupCommit):
    """Inserts token rows; :meth:`record` returns once they are committed."""

    def __init__(self, database: Database, *, group_limit: int = GROUP_LIMIT) -> None:
        super().__init__(
            database,
            cast(Table, TokenRow.__table__),
            group_limit=group_limit,
            isolate_integrity_errors=True,
        )

    async def record(self, tokens: Sequence[IssuedToken]) -> None:
        """Insert one grant's tokens; return when durable, raise what their commit raised."""
        await self.insert([token_row(token) for token in tokens])


def token_row(token: IssuedToken) -> dict[str, Any]:
    """The ``oidc_tokens`` row of ``token`` (never the token itself: only its hash)."""
    return record_row(token)
