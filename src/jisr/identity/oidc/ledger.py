"""The issued-token ledger with group commit (docs/oidc.md, Performance).

A token is handed out only once its ``oidc_tokens`` row is committed: revocation (RFC 7009)
and introspection (RFC 7662) answer from that row, so a token returned before it is durable
could be introspected as inactive, or survive a crash unrevocable. Durable means the WAL
fsynced (SQLite ``synchronous=FULL``; PostgreSQL ``synchronous_commit`` on).

What this module adds is **group commit**, the pattern of the register's read audit trail
(:mod:`jisr.identity.register._audit`): the rows of grants that arrive while a commit is
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

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from jisr.identity.oidc.models import TokenRow
from jisr.identity.oidc.tokens import IssuedToken
from jisr.storage import Database

__all__ = ["GROUP_LIMIT", "TokenLedger", "token_row"]

# At most this many grants per INSERT and commit (SQLite binds 11 parameters per row).
GROUP_LIMIT = 256

_Waiting = tuple[list[dict[str, Any]], "asyncio.Future[None]"]


@dataclass
class _Lane:
    """The grants waiting for the next commit on one event loop, and the task writing them."""

    waiting: list[_Waiting] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None


class TokenLedger:
    """Inserts token rows; :meth:`record` returns once they are committed."""

    def __init__(self, database: Database, *, group_limit: int = GROUP_LIMIT) -> None:
        self.database = database
        self.group_limit = group_limit
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane] = (
            weakref.WeakKeyDictionary()
        )

    async def record(self, tokens: Sequence[IssuedToken]) -> None:
        """Insert one grant's tokens; return when durable, raise what their commit raised."""
        loop = asyncio.get_running_loop()
        lane = self._lanes.setdefault(loop, _Lane())
        committed: asyncio.Future[None] = loop.create_future()
        lane.waiting.append(([token_row(token) for token in tokens], committed))
        if lane.writer is None or lane.writer.done():
            lane.writer = loop.create_task(self._write_all(lane))
        await committed

    async def _write_all(self, lane: _Lane) -> None:
        """Commit the waiting grants, a group at a time, until none wait.

        One connection serves every group of a busy spell. A group whose commit fails
        fails its grants and the connection is replaced; if no connection can be had,
        every waiting grant fails.
        """
        try:
            while lane.waiting:
                try:
                    connection = await self._connect()
                except Exception as error:
                    _settle(_take(lane.waiting, len(lane.waiting)), error)
                    return
                try:
                    await self._commit_groups(connection, lane)
                finally:
                    await connection.close()
        except BaseException:  # cancelled with the loop: nobody is told it was written
            _settle(_take(lane.waiting, len(lane.waiting)), None, cancel=True)
            raise

    async def _connect(self) -> AsyncConnection:
        connection = await self.database.engine.connect()
        if self.database.backend != "sqlite":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection

    async def _commit_groups(self, connection: AsyncConnection, lane: _Lane) -> None:
        """Commit groups on ``connection`` until none wait or a commit fails."""
        while lane.waiting:
            group = _take(lane.waiting, self.group_limit)
            try:
                await self._commit(connection, [row for rows, _ in group for row in rows])
            except IntegrityError as error:
                if len(group) == 1:
                    _settle(group, error)
                    return
                await self._commit_each(connection, group)
                continue
            except Exception as error:
                _settle(group, error)
                return
            except BaseException:
                _settle(group, None, cancel=True)
                raise
            _settle(group, None)

    async def _commit_each(self, connection: AsyncConnection, group: list[_Waiting]) -> None:
        """One transaction per grant, so that one refused row fails only its own grant."""
        for waiting in group:
            try:
                await self._commit(connection, waiting[0])
            except Exception as error:
                _settle([waiting], error)
            except BaseException:
                _settle(group, None, cancel=True)
                raise
            else:
                _settle([waiting], None)

    async def _commit(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        """One INSERT of ``rows``, committed before this returns.

        PostgreSQL: in autocommit, asyncpg's ``executemany``, which pipelines the rows and
        is atomic (one implicit transaction, asyncpg ≥ 0.22), committed, WAL flushed,
        before it returns. This form keeps the statement in SQLAlchemy's compiled cache;
        ``insert().values(rows)`` would be compiled anew for every group, doubling the CPU
        of the insert. SQLite: BEGIN, the INSERT, COMMIT in-process (the driver's calls
        cost no round trip).
        """
        if self.database.backend == "sqlite":
            async with connection.begin():
                await connection.execute(insert(TokenRow), rows)
            return
        try:
            await connection.execute(insert(TokenRow), rows)
        except Exception:
            await connection.rollback()  # ready for the next statement on this connection
            raise


def token_row(token: IssuedToken) -> dict[str, Any]:
    """The ``oidc_tokens`` row of ``token`` (never the token itself: only its hash)."""
    return {
        "token_hash": token.token_hash,
        "kind": token.kind,
        "jti": token.jti,
        "client_id": token.client_id,
        "scope": token.scope,
        "subject": token.subject,
        "issued_at": token.issued_at,
        "expires_at": token.expires_at,
        "revoked_at": None,
        "grant_id": token.grant_id,
        "cnf_jkt": token.cnf_jkt,
    }


def _take(waiting: list[_Waiting], count: int) -> list[_Waiting]:
    group = waiting[:count]
    del waiting[:count]
    return group


def _settle(group: list[_Waiting], error: Exception | None, *, cancel: bool = False) -> None:
    for _, committed in group:
        if committed.done():  # its grant was cancelled meanwhile
            continue
        if cancel:
            committed.cancel()
        elif error is not None:
            committed.set_exception(error)
        else:
            committed.set_result(None)
