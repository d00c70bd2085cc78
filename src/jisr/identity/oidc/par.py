"""Pushed authorization requests (RFC 9126): storage of pushed requests and their one use.

A client posts its authorization parameters to ``/par``, authenticated as at the token
endpoint; the provider validates them as ``/authorize`` would (:meth:`OidcServer.push`) and
answers a ``request_uri`` (``urn:ietf:params:oauth:request_uri:`` + 256 random bits). The
browser then goes to ``/authorize?client_id=..&request_uri=..``, where
:func:`take_pushed_request` swaps the URI for the pushed parameters: once only, before it
expires, and only for the client that pushed it (§4). Rows are stored by the SHA-256 of the
URI, so a database dump holds no usable ``request_uri``; housekeeping purges expired rows.

Errors::

    OidcError
     └── RequestUriRefused(reason)   unknown, used, expired or another client's request_uri
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from jisr.identity.oidc.clients import Client
from jisr.identity.oidc.errors import OidcError
from jisr.identity.oidc.models import PushedRequestRow
from jisr.identity.oidc.settings import OidcSettings
from jisr.storage import Database

__all__ = [
    "REQUEST_URI_PREFIX",
    "PushedRequest",
    "RequestUriRefused",
    "new_pushed_request",
    "requires_pushed_requests",
    "save_pushed_request",
    "take_pushed_request",
]

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


class RequestUriRefused(OidcError):
    """The ``request_uri`` cannot be used; ``reason`` is for logs, not for the browser."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PushedRequest:
    """A validated pushed request, as stored (``oidc_pushed_requests``)."""

    uri_hash: str
    client_id: str
    params: dict[str, str]
    expires_at: datetime


def _hash(request_uri: str) -> str:
    return hashlib.sha256(request_uri.encode()).hexdigest()


def new_pushed_request(
    client_id: str, params: dict[str, str], now: datetime, lifetime: timedelta
) -> tuple[str, PushedRequest]:
    """A fresh ``request_uri`` (RFC 9126 §2.2) and the record that stores ``params``."""
    request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(32)
    return request_uri, PushedRequest(_hash(request_uri), client_id, params, now + lifetime)


async def save_pushed_request(
    session: AsyncSession | AsyncConnection, pushed: PushedRequest
) -> None:
    await session.execute(
        insert(PushedRequestRow).values(
            uri_hash=pushed.uri_hash,
            client_id=pushed.client_id,
            params=pushed.params,
            expires_at=pushed.expires_at,
        )
    )


async def take_pushed_request(
    database: Database, request_uri: str, client_id: str, now: datetime
) -> dict[str, str]:
    """The parameters pushed under ``request_uri`` by ``client_id``, which it consumes.

    RFC 9126 §4: the URI must be unexpired and the client the one that pushed it; §7.3: one
    use only (the DELETE decides between two racing requests)."""
    if not request_uri.startswith(REQUEST_URI_PREFIX) or len(request_uri) > 256:
        raise RequestUriRefused("not a request_uri of this provider")
    uri_hash = _hash(request_uri)
    async with database.transaction() as session:
        row = await session.get(PushedRequestRow, uri_hash)
        if row is None:
            raise RequestUriRefused("unknown or already used")
        if row.client_id != client_id:
            # Left in place: whoever shows another client's URI must not be able to burn it.
            raise RequestUriRefused("pushed by another client")
        if row.expires_at <= now:
            raise RequestUriRefused("expired")
        params = dict(row.params)
        taken = await session.execute(
            delete(PushedRequestRow).where(PushedRequestRow.uri_hash == uri_hash)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise RequestUriRefused("already used")
    return params


def requires_pushed_requests(settings: OidcSettings, client: Client) -> bool:
    """RFC 9126 §5, §6: whether ``/authorize`` accepts this client's requests only pushed."""
    return settings.require_pushed_authorization_requests or (
        client.require_pushed_authorization_requests
    )
