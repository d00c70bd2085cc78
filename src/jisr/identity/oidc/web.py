"""The browser side of the authorization-code flow: ``/authorize``, login, second factor,
consent, ``/userinfo`` and RP-initiated logout (docs/oidc.md §Authorization-code flow).

``/authorize`` checks ``client_id`` and ``redirect_uri`` (exactly, against the registration)
before anything else: until both are verified every refusal is an error *page*, never a
redirect (RFC 6749 §4.1.2.1). Then Authlib's :class:`AuthorizationCodeGrant` validates the
request (response type, scope, PKCE format, nonce) and :mod:`.server` adds Jisr's rules
(``openid`` scope, S256 only, PKCE and nonce for public clients); those refusals go back to
the client by redirect, with ``state`` and ``iss`` (RFC 9207).

A request that needs the person (login, a second factor, consent) is stored server-side in
``oidc_authorization_requests`` under a random id carried as ``?tx=`` through the pages;
every page re-validates it through Authlib, so a client deleted meanwhile gets nothing.
Sessions, CSRF tokens, password, TOTP and passkey checks are :mod:`jisr.identity.authn`'s;
the pages are :mod:`jisr.identity.pages`'.

Passkey sign-in (``acr`` ``high``) is usernameless: ``/login/passkey/options?tx=`` gives
WebAuthn request options with an empty ``allowCredentials`` (any discoverable credential of
this relying party), their challenge bound to the transaction and the pre-session cookie;
``/login/passkey?tx=`` verifies the assertion and goes on like any other login.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.common.urls import add_params_to_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AccessDeniedError,
    InvalidRequestError,
    OAuth2Error,
)
from joserfc.errors import JoseError as JoserfcError
from pydantic import ValidationError
from sqlalchemy import delete, insert, select
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from jisr.crypto.jose import JoseError, verify_compact
from jisr.identity.authn import (
    AccountLocked,
    Acr,
    Authenticator,
    AuthnError,
    AuthResult,
    CsrfInvalid,
    InvalidCredentials,
    NewSession,
    PasskeyFlagged,
    Passkeys,
    PasskeySettings,
    Session,
    SessionStore,
    Throttled,
    check_csrf,
    csrf_token,
    requested_acr,
)
from jisr.identity.oidc.adapter import _bounded_body, grant_row, load_grant
from jisr.identity.oidc.claims import (
    granted_claims,
    parse_claims_request,
    person_claims,
    subject_for,
)
from jisr.identity.oidc.clients import Client, ClientCache, get_client
from jisr.identity.oidc.models import AuthRequestRow, ConsentRow, GrantRow, TokenRow
from jisr.identity.oidc.par import (
    REQUEST_URI_PREFIX,
    RequestUriRefused,
    requires_pushed_requests,
    take_pushed_request,
)
from jisr.identity.oidc.server import EndUser, Loaded, OidcRequest, OidcServer
from jisr.identity.oidc.settings import OidcSettings
from jisr.identity.oidc.tokens import hash_token, sign_jwt
from jisr.identity.pages import Locale, PageError, negotiate, render
from jisr.identity.register import PopulationRegister, RegisterError
from jisr.storage import Database

__all__ = ["PRE_SESSION_COOKIE", "LoginFlow"]

PRE_SESSION_COOKIE = "__Host-jisr-pre"
_FORM = "application/x-www-form-urlencoded"
_SUPPORTED_ACR = ("low", "substantial")
# "high" only where passkeys work: WebAuthn needs the issuer on a domain name (an RP ID).
_PASSKEY_ACR = (*_SUPPORTED_ACR, "high")
_PROMPTS = frozenset({"none", "login", "consent", "select_account"})
# Claim labels of the consent page (pages' catalogue keys claims.<name>).
_CONSENT_LABELS = {
    "name": "name",
    "given_name": "name",
    "family_name": "name",
    "name#ar": "name",
    "given_name#ar": "name",
    "family_name#ar": "name",
    "birthdate": "birthdate",
    "gender": "gender",
    "address": "address",
    "national_id": "nin",
}
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


_JSON_HEADERS = {"Cache-Control": "no-store"}


class _PageRefusal(Exception):
    """A refusal shown as the error page (the client cannot be redirected to)."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code, self.status = code, status


@dataclass(frozen=True)
class _Step:
    """A page after the login: its pending request and the signed-in session."""

    tx: str
    client: Client
    params: dict[str, str]
    fresh_after: datetime | None
    locale: Locale
    session_id: str
    session: Session


@dataclass(frozen=True)
class _Pending:
    """A login page's pending request and the browser's pre-session binding (``cookies``
    sets it when it is new)."""

    tx: str
    client: Client
    params: dict[str, str]
    fresh_after: datetime | None
    locale: Locale
    ask: _Ask
    binding: str
    cookies: list[tuple[str, str, int]]


@dataclass(frozen=True)
class _Ask:
    """What the OIDC parameters ask of the login, beyond Authlib's validation."""

    prompts: frozenset[str]
    max_age: int | None
    acr: Acr
    claims: dict[str, list[str]]
    ui_locales: str | None
    login_hint: str


def _ask(data: Mapping[str, str], levels: Collection[str] = _SUPPORTED_ACR) -> _Ask:
    """Parse prompt, max_age, acr_values, claims (OIDC Core §3.1.2.1, §5.5); OAuth2Error.

    ``acr_values`` outside ``levels`` are ignored (acr_values is a voluntary request)."""
    for name, error in (
        ("request", "request_not_supported"),
        ("request_uri", "request_uri_not_supported"),
        ("registration", "registration_not_supported"),
    ):
        if name in data:
            raise _error(error, f"the {name} parameter is not supported")
    if data.get("response_mode", "query") != "query":
        raise InvalidRequestError(description="response_mode must be query")
    prompts = frozenset(data.get("prompt", "").split())
    if not prompts <= _PROMPTS or ("none" in prompts and len(prompts) > 1):
        raise InvalidRequestError(description="invalid prompt")
    max_age = None
    if "max_age" in data:
        if not data["max_age"].isdigit() or len(data["max_age"]) > 9:
            raise InvalidRequestError(description="max_age must be a non-negative integer")
        max_age = int(data["max_age"])
    try:
        claims, acr_from_claims = parse_claims_request(data.get("claims"))
    except ValueError as exc:
        raise InvalidRequestError(description=f"invalid claims parameter: {exc}") from exc
    acr_values = [v for v in data.get("acr_values", "").split() if v in levels]
    acr_values += [v for v in acr_from_claims if v in levels]
    acr = max((requested_acr(v) for v in acr_values), key=lambda a: a.rank, default=Acr.LOW)
    return _Ask(
        prompts=prompts,
        max_age=max_age,
        acr=acr,
        claims=claims,
        ui_locales=data.get("ui_locales"),
        login_hint=data.get("login_hint", "")[:64],
    )


def _error(code: str, description: str) -> OAuth2Error:
    return OAuth2Error(description=description, error=code)


@dataclass(frozen=True)
class _Login:
    """A session a login just started, not stored yet, and the session it replaces."""

    new: NewSession
    replaces: str | None


class LoginFlow:
    """The authorization endpoint, its pages, userinfo and logout."""

    def __init__(
        self,
        *,
        server: OidcServer,
        database: Database,
        settings: OidcSettings,
        clock: Callable[[], datetime],
        authenticator: Authenticator,
        sessions: SessionStore,
        register: PopulationRegister,
        subject_secret: bytes,
        clients: ClientCache,
    ) -> None:
        self.server, self.database, self.settings, self.clock = server, database, settings, clock
        # The token endpoint's cache: a change made through the admin API or CLI is seen
        # at once in this process, within client_cache_ttl in others (docs/oidc.md).
        self.clients = clients
        self.authenticator, self.sessions, self.register = authenticator, sessions, register
        self.subject_secret = subject_secret
        self.cookie = sessions.settings.session_cookie
        rp = _relying_party(settings.issuer)
        self.passkeys = (
            None if rp is None else Passkeys(database, rp, authenticator.settings, clock)
        )
        self.acr_values_supported = _SUPPORTED_ACR if rp is None else _PASSKEY_ACR

    def _asked(self, params: Mapping[str, str]) -> _Ask:
        return _ask(params, self.acr_values_supported)

    # ----------------------------------------------------------------- /authorize

    async def authorize(self, request: Request) -> Response:
        locale = _locale(request, request.query_params.get("ui_locales"))
        try:
            params = await self._parameters(request)
            # Other request_uri values (request objects by reference) stay unsupported.
            pushed = params.get("request_uri", "").startswith(REQUEST_URI_PREFIX)
            if pushed:
                params = await self._pushed(params)
            client = await self._verified_client(params)
        except _PageRefusal as refusal:
            return _error_page(locale, refusal.code, refusal.status)
        locale = _locale(request, params.get("ui_locales"))
        now = self.clock()
        try:
            if not pushed and requires_pushed_requests(self.settings, client):
                # RFC 9126 §5, §6: this client's (or every) request must come through /par.
                raise self._client_error(params, "invalid_request", "use /par for this client")
            _, _, ask = self._validate(client, params, now)
            self._hinted_subject(client, params)
        except OAuth2Error as error:
            return self._redirect_error(error)
        fresh_after = _fresh_after(ask, now)
        return await self._proceed(request, client, params, ask, fresh_after, None, locale)

    def _hinted_subject(self, client: Client, params: Mapping[str, str]) -> str | None:
        """The ``sub`` of a valid ``id_token_hint`` (OIDC Core §3.1.2.1): an ID token this
        provider issued to this client (it may have expired). ``None`` without a hint; an
        invalid hint is an ``invalid_request`` for the client."""
        hint = params.get("id_token_hint")
        if hint is None:
            return None
        claims = self._verify_hint(hint)
        aud = None if claims is None else claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        sub = None if claims is None else claims.get("sub")
        if client.client_id not in audiences or not isinstance(sub, str):
            raise self._client_error(params, "invalid_request", "invalid id_token_hint")
        return sub

    async def _pushed(self, params: Mapping[str, str]) -> dict[str, str]:
        """RFC 9126 §4: the parameters pushed under ``request_uri``, which replace every
        other one; ``client_id`` must be the pushing client's. Used once, then gone."""
        client_id = params.get("client_id")
        if not client_id:
            raise _PageRefusal("invalid_request")
        try:
            return await take_pushed_request(
                self.database, params["request_uri"], client_id, self.clock()
            )
        except RequestUriRefused as refused:
            raise _PageRefusal("invalid_request_uri") from refused

    async def _parameters(self, request: Request) -> dict[str, str]:
        if request.method == "POST":
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != _FORM:
                raise _PageRefusal("invalid_request")
            try:
                body = await _bounded_body(request, self.settings.max_body_bytes)
                raw = body.decode()
            except (OAuth2Error, UnicodeDecodeError) as exc:
                raise _PageRefusal("invalid_request") from exc
        else:
            raw = request.url.query
            if len(raw) > self.settings.max_body_bytes:
                raise _PageRefusal("invalid_request", 414)
        try:
            pairs = parse_qsl(raw, keep_blank_values=True)
        except ValueError as exc:
            raise _PageRefusal("invalid_request") from exc
        if len(pairs) > self.settings.max_authorization_parameters:
            raise _PageRefusal("invalid_request")
        params: dict[str, str] = {}
        for name, value in pairs:
            # RFC 6749 §3.1: parameters MUST NOT be included more than once.
            if name in params or len(name) > 64:
                raise _PageRefusal("invalid_request")
            if len(value) > self.settings.max_parameter_chars:
                raise _PageRefusal("invalid_request")
            params[name] = value
        return params

    async def _verified_client(self, params: Mapping[str, str]) -> Client:
        """RFC 6749 §4.1.2.1: the client and its redirect URI, verified before anything."""
        client_id = params.get("client_id")
        if not client_id:
            raise _PageRefusal("invalid_request")
        client = await self.clients.client(self.database, client_id)
        if client is None:
            raise _PageRefusal("invalid_client")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri or redirect_uri not in client.redirect_uris:
            raise _PageRefusal("invalid_request")
        return client

    def _validate(
        self, client: Client, params: dict[str, str], now: datetime
    ) -> tuple[OidcRequest, Any, _Ask]:
        oauth_request = OidcRequest(
            self.settings.issuer + "/authorize",
            {},
            params,
            Loaded(clients={client.client_id: client}),
            now,
            method="GET",
        )
        grant = self.server.authorization_grant(oauth_request)
        try:
            ask = self._asked(params)
        except OAuth2Error as error:
            error.redirect_uri = grant.redirect_uri
            error.state = params.get("state")
            raise
        oauth_request.claims_request = ask.claims
        return oauth_request, grant, ask

    async def _proceed(
        self,
        request: Request,
        client: Client,
        params: dict[str, str],
        ask: _Ask,
        fresh_after: datetime | None,
        tx: str | None,
        locale: Locale,
        *,
        consented: bool = False,
        cookies: list[tuple[str, str, int]] | None = None,
        login: _Login | None = None,
    ) -> Response:
        """Log in, step up, ask consent or issue the code: whatever the request needs next.

        ``login`` is the session a login just started, not stored yet (its cookie is in
        ``cookies``): it is stored in the same transaction as the code when one is issued,
        else on its own before the response goes out.
        """
        session = None if login is None else login.new.session
        if session is None:
            session_id = request.cookies.get(self.cookie)
            session = await self.sessions.load(session_id) if session_id else None
        step = await self._next_step(
            client, params, ask, fresh_after, tx, session, consented, login
        )
        if step is None:
            assert session is not None
            response = await self._issue_code(client, params, session, tx, login)
        else:
            if login is not None:
                async with self.database.writing() as db:
                    await self.sessions.save(db, login.new, replaces=login.replaces)
            response = step
        return _with_cookies(response, cookies)

    async def _next_step(
        self,
        client: Client,
        params: dict[str, str],
        ask: _Ask,
        fresh_after: datetime | None,
        tx: str | None,
        session: Session | None,
        consented: bool,
        login: _Login | None,
    ) -> Response | None:
        """The response that takes the request a step further, or None: issue the code."""
        # OIDC Core §3.1.2.1: a positive response only for the person the id_token_hint
        # names; someone else's session means a login, and if the login was just made by
        # someone else, an error (never a code for the wrong person).
        try:
            hinted = self._hinted_subject(client, params)
        except OAuth2Error as error:  # its key retired while the person was logging in
            return self._redirect_error(error)
        other_person = (
            session is not None
            and hinted is not None
            and hinted != self.subject(client, session.nin)
        )
        if other_person and login is not None:
            if tx is not None:
                await self._forget(tx)
            wrong = self._client_error(params, "login_required", "not the hinted person")
            return self._redirect_error(wrong)
        needs_login = (
            session is None
            or other_person
            or "login" in ask.prompts
            or (fresh_after is not None and session.auth_time < fresh_after)
        )
        needs_step_up = session is not None and session.acr.rank < ask.acr.rank
        if "none" in ask.prompts and (needs_login or needs_step_up):
            return self._redirect_error(
                self._client_error(params, "login_required", "the person must log in")
            )
        if needs_login or needs_step_up:
            tx = tx or await self._store(client, params, fresh_after)
            # A second factor steps "low" up to "substantial"; only a passkey reaches "high".
            step_up_totp = not needs_login and ask.acr is not Acr.HIGH
            target = "/login/totp" if step_up_totp else "/login"
            return _see_other(f"{target}?tx={tx}")
        assert session is not None
        scopes = (params.get("scope") or "").split()
        wanted = granted_claims(scopes, [*ask.claims["userinfo"], *ask.claims["id_token"]])
        if not consented and (
            "consent" in ask.prompts
            or not await self._has_consent(client.client_id, session.nin, scopes, wanted)
        ):
            if "none" in ask.prompts:
                return self._redirect_error(
                    self._client_error(params, "consent_required", "consent is needed")
                )
            tx = tx or await self._store(client, params, fresh_after)
            return _see_other(f"/consent?tx={tx}")
        return None

    async def _issue_code(
        self,
        client: Client,
        params: dict[str, str],
        session: Session,
        tx: str | None,
        login: _Login | None,
    ) -> Response:
        """Store the code's grant, forget the pending request ``tx`` and store the session
        a login just started: one transaction (one commit for the whole login)."""
        oauth_request, grant, _ = self._validate(client, params, self.clock())
        user = EndUser(
            nin=session.nin,
            subject=self.subject(client, session.nin),
            acr=session.acr.value,
            amr=session.amr,
            auth_time=session.auth_time,
        )
        status, _, headers = grant.create_authorization_response(grant.redirect_uri, user)
        pending = oauth_request.pending.grant
        assert status == 302
        assert pending is not None
        async with self.database.writing() as db:
            if login is not None:
                await self.sessions.save(db, login.new, replaces=login.replaces)
            await db.execute(insert(GrantRow), grant_row(pending))
            if tx is not None:
                forget = delete(AuthRequestRow).where(AuthRequestRow.id_hash == _digest(tx))
                await db.execute(forget)
        return _see_other(dict(headers)["Location"])

    def subject(self, client: Client, nin: str) -> str:
        return subject_for(
            self.subject_secret, nin, subject_type=client.subject_type, sector=client.sector
        )

    def _client_error(self, params: Mapping[str, str], code: str, description: str) -> OAuth2Error:
        error = _error(code, description)
        error.redirect_uri = params["redirect_uri"]
        error.state = params.get("state")
        return error

    def _redirect_error(self, error: OAuth2Error) -> Response:
        if error.redirect_uri is None:  # not verified: never redirect
            return _error_page(Locale.EN, error.error or "invalid_request", 400)
        params: list[tuple[str, str]] = list(error.get_body())
        params.append(("iss", self.settings.issuer))
        return _see_other(add_params_to_uri(error.redirect_uri, params))

    async def _store(
        self, client: Client, params: dict[str, str], fresh_after: datetime | None
    ) -> str:
        tx = secrets.token_urlsafe(24)
        now = self.clock()
        row = {
            "id_hash": _digest(tx),
            "client_id": client.client_id,
            "params": params,
            "fresh_after": fresh_after,
            "created_at": now,
            "expires_at": now + self.settings.authorization_request_lifetime,
        }
        async with self.database.writing() as db:
            await db.execute(insert(AuthRequestRow), row)
        return tx

    async def _load(self, tx: str | None) -> tuple[Client, dict[str, str], datetime | None]:
        if not tx or len(tx) > 64:
            raise _PageRefusal("invalid_request")
        # A Core read (no ORM session, no transaction): every page of the flow does it.
        columns = (AuthRequestRow.client_id, AuthRequestRow.params, AuthRequestRow.fresh_after)
        statement = select(*columns, AuthRequestRow.expires_at).where(
            AuthRequestRow.id_hash == _digest(tx)
        )
        async with self.database.reading() as connection:
            row = (await connection.execute(statement)).first()
        if row is None or row.expires_at <= self.clock():
            raise _PageRefusal("session_expired")
        params, fresh_after = dict(row.params), row.fresh_after
        client = await self.clients.client(self.database, row.client_id)
        if client is None:
            raise _PageRefusal("invalid_client")
        return client, params, fresh_after

    async def _logged_in_once(self, tx: str, params: dict[str, str]) -> dict[str, str]:
        prompts = [p for p in params.get("prompt", "").split() if p != "login"]
        updated = {k: v for k, v in params.items() if k != "prompt"}
        if prompts:
            updated["prompt"] = " ".join(prompts)
        async with self.database.transaction() as db:
            row = await db.get(AuthRequestRow, _digest(tx))
            if row is not None:
                row.params = updated
        return updated

    async def _forget(self, tx: str) -> None:
        async with self.database.transaction() as db:
            await db.execute(delete(AuthRequestRow).where(AuthRequestRow.id_hash == _digest(tx)))

    async def _has_consent(
        self, client_id: str, nin: str, scopes: list[str], claims: list[str]
    ) -> bool:
        statement = select(ConsentRow.scopes, ConsentRow.claims).where(
            ConsentRow.client_id == client_id, ConsentRow.nin == nin
        )
        async with self.database.reading() as connection:
            row = (await connection.execute(statement)).first()
        return row is not None and set(scopes) <= set(row.scopes) and set(claims) <= set(row.claims)

    async def revoke_consent(self, client_id: str, nin: str) -> bool:
        """Forget a remembered consent; the next authorization asks again."""
        async with self.database.transaction() as db:
            result = await db.execute(
                delete(ConsentRow).where(ConsentRow.client_id == client_id, ConsentRow.nin == nin)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # ----------------------------------------------------------------- /login

    async def _pending(self, request: Request) -> _Pending | Response:
        """The pending request ``?tx=`` of a login page and the browser's pre-session
        binding (a new one if the cookie is missing); the error page for a bad ``tx``."""
        tx = request.query_params.get("tx")
        try:
            client, params, fresh_after = await self._load(tx)
        except _PageRefusal as refusal:
            return _error_page(_locale(request, None), refusal.code, refusal.status)
        assert tx is not None
        locale = _page_locale(request, params)
        binding = request.cookies.get(PRE_SESSION_COOKIE)
        cookies: list[tuple[str, str, int]] = []
        if binding is None or len(binding) > 64:
            binding = secrets.token_urlsafe(32)
            cookies.append((PRE_SESSION_COOKIE, binding, 3600))
        ask = self._asked(params)
        return _Pending(tx, client, params, fresh_after, locale, ask, binding, cookies)

    async def login(self, request: Request) -> Response:
        pending = await self._pending(request)
        if isinstance(pending, Response):
            return pending
        if request.method == "GET":
            return self._login_page(pending, pending.ask.login_hint)
        form = await self._form(request)
        nin = form.get("nin", "").strip()
        try:
            check_csrf(self.sessions.csrf_key, pending.binding, form.get("csrf_token"))
        except CsrfInvalid:
            return self._login_page(pending, nin, [PageError("errors.session_expired")], 403)
        if pending.ask.acr is Acr.HIGH:
            # A password never reaches "high", not even with TOTP: only a passkey does.
            return self._login_page(pending, nin, [PageError("errors.passkey_required")], 403)
        errors = _missing_credentials(nin, form)
        if errors:
            return self._login_page(pending, nin, errors, 400)
        try:
            result = await self.authenticator.authenticate_password(
                nin[:64], form["password"], _address(request)
            )
        except (InvalidCredentials, AccountLocked, Throttled) as error:
            return self._refused(pending, nin, error, "errors.invalid_credentials")
        return await self._continue(request, pending, result)

    async def passkey_options(self, request: Request) -> Response:
        """``POST /login/passkey/options?tx=``: WebAuthn request options (JSON) whose
        challenge is bound to this transaction and browser (single use, short-lived)."""
        pending = await self._pending(request)
        if isinstance(pending, Response):
            return pending
        if self.passkeys is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        form = await self._form(request)
        try:
            check_csrf(self.sessions.csrf_key, pending.binding, form.get("csrf_token"))
        except CsrfInvalid:
            return JSONResponse({"error": "session_expired"}, status_code=403)
        # Usernameless (discoverable credentials, WebAuthn L2 §5.4.6): no NIN, so the
        # options (allowCredentials) do not reveal whether an account has passkeys.
        options = await self.passkeys.begin_authentication(binding=_passkey_binding(pending))
        return Response(options.options_json, media_type="application/json", headers=_JSON_HEADERS)

    async def passkey_login(self, request: Request) -> Response:
        """``POST /login/passkey?tx=``: verify the assertion (WebAuthn L2 §7.2) and log in
        at ``high``; a failure shows the login page again."""
        pending = await self._pending(request)
        if isinstance(pending, Response):
            return pending
        if self.passkeys is None:
            return _error_page(pending.locale, "invalid_request", 404)
        form = await self._form(request)
        try:
            check_csrf(self.sessions.csrf_key, pending.binding, form.get("csrf_token"))
        except CsrfInvalid:
            return self._login_page(pending, "", [PageError("errors.session_expired")], 403)
        try:
            # Origin (the issuer's), rp id, challenge (claimed once, then gone), user
            # verification, owner and signature counter: authn.passkeys checks them all.
            result = await self.passkeys.finish_authentication(
                form.get("credential", ""), _address(request), binding=_passkey_binding(pending)
            )
        except (InvalidCredentials, AccountLocked, Throttled) as error:
            return self._refused(pending, "", error, "errors.passkey_invalid")
        return await self._continue(request, pending, result)

    async def _continue(self, request: Request, pending: _Pending, result: AuthResult) -> Response:
        return await self._logged_in(
            request,
            pending.tx,
            pending.client,
            pending.params,
            pending.fresh_after,
            pending.ask,
            result,
            pending.locale,
        )

    def _refused(self, pending: _Pending, nin: str, error: AuthnError, invalid: str) -> Response:
        """The login page again after a refused password or passkey; ``invalid`` is the
        message for wrong credentials."""
        if isinstance(error, Throttled):
            seconds = max(1, round(error.retry_after))
            errors = [PageError("errors.too_many_attempts", params={"seconds": seconds})]
            page = self._login_page(pending, nin, errors, 429)
            page.headers["Retry-After"] = str(seconds)
            return page
        if isinstance(error, AccountLocked):
            return self._login_page(pending, nin, [PageError("errors.account_locked")], 403)
        key = "errors.passkey_flagged" if isinstance(error, PasskeyFlagged) else invalid
        return self._login_page(pending, nin, [PageError(key)], 401)

    async def _logged_in(
        self,
        request: Request,
        tx: str,
        client: Client,
        params: dict[str, str],
        fresh_after: datetime | None,
        ask: _Ask,
        result: AuthResult,
        locale: Locale,
    ) -> Response:
        # A new session id at every login (no session fixation); the old one ends.
        login = _Login(self.sessions.start(result), replaces=request.cookies.get(self.cookie))
        new = login.new
        cookies = [(new.cookie.name, new.cookie.value, new.cookie.max_age)]
        if "login" in ask.prompts:
            # prompt=login is satisfied by this login: the rest of the request goes on.
            params = await self._logged_in_once(tx, params)
            ask = self._asked(params)
        if result.acr.rank < ask.acr.rank and not result.totp_enrolled:
            async with self.database.writing() as db:
                await self.sessions.save(db, new, replaces=login.replaces)
            await self._forget(tx)
            denied = self._client_error(
                params, "access_denied", f"level {ask.acr.value} needs a second factor"
            )
            return _with_cookies(self._redirect_error(denied), cookies)
        return await self._proceed(
            request,
            client,
            params,
            ask,
            fresh_after,
            tx,
            locale,
            cookies=cookies,
            login=login,
        )

    def _login_page(
        self,
        pending: _Pending,
        nin: str,
        errors: list[PageError] | None = None,
        status: int = 200,
    ) -> Response:
        tx = pending.tx
        action = f"/login?tx={tx}"
        passkey: dict[str, Any] = {}
        if self.passkeys is not None:
            passkey = {
                "passkey_options_url": f"/login/passkey/options?tx={tx}",
                "passkey_action": f"/login/passkey?tx={tx}",
                "passkey_required": pending.ask.acr is Acr.HIGH,
            }
        html = render(
            "login",
            pending.locale,
            action=action,
            page_url=action,
            csrf_token=csrf_token(self.sessions.csrf_key, pending.binding),
            nin=nin,
            errors=errors or [],
            **passkey,
        )
        page = HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)
        return _with_cookies(page, pending.cookies)

    # ----------------------------------------------------------------- /login/totp

    async def _signed_in_step(self, request: Request) -> _Step | Response:
        """The pending request ``?tx=`` and the signed-in session of a page after the login;
        the error page for a bad ``tx``, or back to the login without a session."""
        tx = request.query_params.get("tx")
        try:
            client, params, fresh_after = await self._load(tx)
        except _PageRefusal as refusal:
            return _error_page(_locale(request, None), refusal.code, refusal.status)
        assert tx is not None
        locale = _page_locale(request, params)
        session_id = request.cookies.get(self.cookie)
        session = await self.sessions.load(session_id) if session_id else None
        if session is None or session_id is None:
            return _see_other(f"/login?tx={tx}")
        return _Step(tx, client, params, fresh_after, locale, session_id, session)

    async def second_factor(self, request: Request) -> Response:
        step = await self._signed_in_step(request)
        if isinstance(step, Response):
            return step
        tx, client, params, fresh_after = step.tx, step.client, step.params, step.fresh_after
        locale, session_id, session = step.locale, step.session_id, step.session
        recovery = request.query_params.get("recovery") == "1"
        if request.method == "GET":
            return self._second_factor_page(tx, locale, session_id, recovery)
        form = await self._form(request)
        try:
            self.sessions.check_csrf(session_id, form.get("csrf_token"))
        except CsrfInvalid:
            errors = [PageError("errors.session_expired")]
            return self._second_factor_page(tx, locale, session_id, recovery, errors, 403)
        field = "recovery_code" if recovery else "code"
        code = form.get(field, "").strip()
        if not code:
            errors = [PageError(f"errors.{field}_required", field)]
            return self._second_factor_page(tx, locale, session_id, recovery, errors, 400)
        previous = AuthResult(session.nin, session.acr, session.amr, session.auth_time, True)
        try:
            if recovery:
                result = await self.authenticator.complete_recovery_code(
                    previous, code[:64], _address(request)
                )
            else:
                result = await self.authenticator.complete_totp(
                    previous, code[:16], _address(request)
                )
        except InvalidCredentials:
            errors = [PageError("errors.code_invalid", field)]
            return self._second_factor_page(tx, locale, session_id, recovery, errors, 401)
        except AccountLocked:
            errors = [PageError("errors.account_locked")]
            return self._second_factor_page(tx, locale, session_id, recovery, errors, 403)
        except Throttled as throttled:
            seconds = max(1, round(throttled.retry_after))
            errors = [PageError("errors.too_many_attempts", params={"seconds": seconds})]
            page = self._second_factor_page(tx, locale, session_id, recovery, errors, 429)
            page.headers["Retry-After"] = str(seconds)
            return page
        return await self._logged_in(
            request, tx, client, params, fresh_after, self._asked(params), result, locale
        )

    def _second_factor_page(
        self,
        tx: str,
        locale: Locale,
        session_id: str,
        recovery: bool,
        errors: list[PageError] | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        base = f"/login/totp?tx={tx}"
        html = render(
            "second_factor",
            locale,
            action=base + ("&recovery=1" if recovery else ""),
            page_url=base,
            csrf_token=self.sessions.csrf_token(session_id),
            recovery=recovery,
            recovery_url=base + "&recovery=1",
            totp_url=base,
            errors=errors or [],
        )
        return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)

    # ----------------------------------------------------------------- /consent

    async def consent(self, request: Request) -> Response:
        step = await self._signed_in_step(request)
        if isinstance(step, Response):
            return step
        tx, client, params, fresh_after = step.tx, step.client, step.params, step.fresh_after
        locale, session_id, session = step.locale, step.session_id, step.session
        ask = self._asked(params)
        scopes = (params.get("scope") or "").split()
        wanted = granted_claims(scopes, [*ask.claims["userinfo"], *ask.claims["id_token"]])
        if request.method == "GET":
            labels = list(dict.fromkeys(_CONSENT_LABELS.get(c, c) for c in wanted))
            html = render(
                "consent",
                locale,
                action=f"/consent?tx={tx}",
                page_url=f"/consent?tx={tx}",
                csrf_token=self.sessions.csrf_token(session_id),
                client_name=client.name,
                claims=labels,
            )
            return HTMLResponse(html, headers=_PAGE_HEADERS)
        form = await self._form(request)
        try:
            self.sessions.check_csrf(session_id, form.get("csrf_token"))
        except CsrfInvalid:
            return _error_page(locale, "session_expired", 403)
        if form.get("decision") != "allow":
            await self._forget(tx)
            denied = AccessDeniedError(
                redirect_uri=params["redirect_uri"], state=params.get("state")
            )
            return self._redirect_error(denied)
        if form.get("remember") == "1":
            async with self.database.transaction() as db:
                row = await db.get(ConsentRow, (client.client_id, session.nin))
                if row is None:
                    row = ConsentRow(client_id=client.client_id, nin=session.nin)
                    db.add(row)
                row.scopes = sorted(set(scopes))
                row.claims = sorted(set(wanted))
                row.granted_at = self.clock()
        return await self._proceed(
            request, client, params, ask, fresh_after, tx, locale, consented=True
        )

    async def _form(self, request: Request) -> dict[str, str]:
        try:
            body = await _bounded_body(request, self.settings.max_body_bytes)
            pairs = parse_qsl(body.decode(), keep_blank_values=True)
        except (OAuth2Error, UnicodeDecodeError, ValueError):
            return {}
        return dict(pairs[:16])

    # ----------------------------------------------------------------- /userinfo

    async def userinfo(self, request: Request) -> Response:
        """OIDC Core §5.3: the claims of the token's grant, JSON or a signed JWT."""
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token or len(token) > 8192:
            return _bearer_error(None)
        now = self.clock()
        columns = (TokenRow.kind, TokenRow.client_id, TokenRow.grant_id, TokenRow.scope)
        statement = select(*columns, TokenRow.revoked_at, TokenRow.expires_at).where(
            TokenRow.token_hash == hash_token(token.strip())
        )
        grant = client = None
        async with self.database.reading() as connection:  # Core reads, no transaction
            row = (await connection.execute(statement)).first()
            if row is not None and row.grant_id is not None:
                grant = await load_grant(connection, GrantRow.id == row.grant_id)
        if row is not None:
            client = await self.clients.client(self.database, row.client_id)
        if (
            row is None
            or row.kind != "access_token"
            or row.revoked_at is not None
            or row.expires_at <= now
            or grant is None
            or grant.revoked_at is not None
            or client is None
        ):
            return _bearer_error("invalid_token")
        scopes = row.scope.split()
        if "openid" not in scopes:
            return _bearer_error("insufficient_scope", 403)
        try:
            person = await self.register.read(
                grant.nin, requester=f"oidc:{client.client_id}", purpose="openid userinfo"
            )
        except RegisterError:
            return _bearer_error("invalid_token")
        claims: dict[str, Any] = {"sub": grant.subject}
        claims.update(person_claims(person, granted_claims(scopes, grant.claims["userinfo"])))
        headers = {"Cache-Control": "no-store"}
        alg = client.userinfo_signed_response_alg
        if alg is None:
            return JSONResponse(claims, headers=headers)
        # OIDC Core §5.3.2: a signed response carries iss and aud.
        claims.update(iss=self.settings.issuer, aud=client.client_id)
        signed = sign_jwt(
            self.server.keyring.signer("RS256" if alg == "RS256" else "ES256"), claims
        )
        return Response(signed, media_type="application/jwt", headers=headers)

    # ----------------------------------------------------------------- /logout

    async def logout(self, request: Request) -> Response:
        """OpenID Connect RP-Initiated Logout 1.0 §2, §3."""
        if request.method == "POST":
            params = await self._form(request)
        else:
            params = dict(request.query_params.items())
        locale = _locale(request, params.get("ui_locales"))
        hint = params.get("id_token_hint")
        if not hint:
            # Without proof of which client and person, logging out on a GET would let any
            # page end the session (logout CSRF): refuse.
            return _error_page(locale, "invalid_request")
        claims = self._verify_hint(hint)
        if claims is None:
            return _error_page(locale, "invalid_request")
        aud = claims.get("aud")
        client_id = aud[0] if isinstance(aud, list) and len(aud) == 1 else aud
        if not isinstance(client_id, str) or params.get("client_id", client_id) != client_id:
            return _error_page(locale, "invalid_request")
        async with self.database.transaction() as db:
            # Not the cache: a post-logout URI a client just gave up is refused at once.
            client = await get_client(db, client_id)
        if client is None:
            return _error_page(locale, "invalid_client")
        target = params.get("post_logout_redirect_uri")
        if target is not None and target not in client.post_logout_redirect_uris:
            # Exactly registered, or no redirect at all (no open redirect).
            return _error_page(locale, "invalid_request")
        session_id = request.cookies.get(self.cookie)
        session = await self.sessions.load(session_id) if session_id else None
        if session_id and session and self.subject(client, session.nin) == claims.get("sub"):
            await self.sessions.end(session_id)
        if target is None:
            # RP-Initiated Logout 1.0 §3: no redirection without a registered URI; say so.
            response: Response = HTMLResponse(render("signed_out", locale), headers=_PAGE_HEADERS)
        else:
            state = params.get("state")
            location = add_params_to_uri(target, [("state", state)]) if state else target
            response = _see_other(location)
        expired = self.sessions.expired_cookie()
        response.delete_cookie(expired.name, path="/", secure=True, httponly=True, samesite="lax")
        return response

    def _verify_hint(self, hint: str) -> dict[str, Any] | None:
        try:
            _, payload = verify_compact(
                hint, self.server.keyring.public_keys(), typ="JWT", algorithms=["ES256", "RS256"]
            )
            claims = json.loads(payload)
        except (JoseError, JoserfcError, ValueError):
            return None
        # The hint may have expired (the person logs out later); it must be ours.
        if not isinstance(claims, dict) or claims.get("iss") != self.settings.issuer:
            return None
        return claims


def _relying_party(issuer: str) -> PasskeySettings | None:
    """The WebAuthn relying party of ``issuer``: its host as the RP ID and its origin as
    the only one accepted (WebAuthn L2 §7.2 step 13). ``None`` when the issuer is on an IP
    address: an RP ID is a valid domain string (WebAuthn L2 §4, "RP ID")."""
    parts = urlsplit(issuer)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    origin = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    try:
        return PasskeySettings(rp_id=host, origins=(origin,))
    except ValidationError:
        return None


def _passkey_binding(pending: _Pending) -> str:
    """What a login challenge is bound to: the transaction and the browser's pre-session."""
    return f"login\x00{pending.tx}\x00{pending.binding}"


def _missing_credentials(nin: str, form: Mapping[str, str]) -> list[PageError]:
    errors = []
    if not nin:
        errors.append(PageError("errors.nin_required", "nin"))
    if not form.get("password"):
        errors.append(PageError("errors.password_required", "password"))
    return errors


def _fresh_after(ask: _Ask, now: datetime) -> datetime | None:
    """The earliest acceptable auth_time under max_age (OIDC Core §3.1.2.1)."""
    return None if ask.max_age is None else now - timedelta(seconds=ask.max_age)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _address(request: Request) -> str:
    return request.client.host if request.client else "0.0.0.0"  # noqa: S104


def _locale(request: Request, ui_locales: str | None) -> Locale:
    return negotiate(ui_locales, None, request.headers.get("accept-language"))


def _page_locale(request: Request, params: Mapping[str, str]) -> Locale:
    """A page's language: its language link (``?ui_locales=``), else the request's."""
    return _locale(request, request.query_params.get("ui_locales") or params.get("ui_locales"))


def _see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


def _with_cookies(response: Response, cookies: list[tuple[str, str, int]] | None) -> Response:
    for name, value, max_age in cookies or []:
        response.set_cookie(
            name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax"
        )
    return response


def _error_page(locale: Locale, code: str, status: int = 400) -> HTMLResponse:
    return HTMLResponse(
        render("error", locale, code=code), status_code=status, headers=_PAGE_HEADERS
    )


def _bearer_error(error: str | None, status: int = 401) -> Response:
    """RFC 6750 §3: the challenge, with the error code when a token was presented."""
    challenge = 'Bearer realm="userinfo"'
    if error is not None:
        challenge += f', error="{error}"'
    body = {"error": error or "invalid_request"}
    return JSONResponse(body, status_code=status, headers={"WWW-Authenticate": challenge})
