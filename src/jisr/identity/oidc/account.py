"""The citizen's account pages: passkeys and remembered consents (docs/oidc.md, "Account
pages").

* ``/account/login?next=`` then ``/account/login/totp?next=``: the pages' own sign-in
  (password, then a TOTP or recovery code; or a passkey, usernameless, through
  ``/account/login/passkey/options`` and ``/account/login/passkey``), with the
  authorization flow's checks and sessions; ``next`` is one of the account pages and
  nothing else (no open redirect);
* ``/account/passkeys`` (a session at ``substantial`` or above): the account's passkeys;
  ``POST /account/passkeys/options`` gives WebAuthn creation options (JSON) for
  ``static/passkey.js``, ``POST /account/passkeys`` verifies and stores the new credential,
  ``POST /account/passkeys/remove`` deletes one;
* ``/account/consents`` (any session): the relying parties whose consent is remembered;
  ``POST /account/consents/revoke`` forgets one, so its next authorization asks again.

Every form carries the CSRF token bound to the session id (the sign-in form: to the
pre-session cookie, as ``/login`` does). A POST ends in a 303 to the page (Post/Redirect/Get).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from webauthn.helpers.structs import ResidentKeyRequirement

from jisr.identity.authn import (
    AccountLocked,
    Acr,
    AuthnError,
    AuthResult,
    CsrfInvalid,
    InvalidCredentials,
    Passkey,
    PasskeyFlagged,
    Passkeys,
    Session,
    Throttled,
    UnknownPasskey,
    check_csrf,
    csrf_token,
)
from jisr.identity.authn.models import AccountRow
from jisr.identity.oidc.clients import load_clients
from jisr.identity.oidc.models import ConsentRow
from jisr.identity.oidc.web import (
    _CONSENT_LABELS,
    _JSON_HEADERS,
    _PAGE_HEADERS,
    PRE_SESSION_COOKIE,
    LoginFlow,
    _address,
    _error_page,
    _locale,
    _missing_credentials,
    _see_other,
    _with_cookies,
)
from jisr.identity.pages import Locale, PageError, render

__all__ = ["AccountPages"]

PASSKEYS = "/account/passkeys"
CONSENTS = "/account/consents"
# The level each page needs: adding a passkey (a key to "high") needs at least
# password + TOTP in the same session.
_NEEDS = {PASSKEYS: Acr.SUBSTANTIAL, CONSENTS: Acr.LOW}
_NOTICES = {
    "added": "passkeys.added",
    "removed": "passkeys.removed",
    "revoked": "consents.revoked",
}


@dataclass(frozen=True)
class _SignedIn:
    session_id: str
    session: Session
    locale: Locale
    lang: str | None


class AccountPages:
    """The account pages over a :class:`LoginFlow`'s sessions, passkeys and consents."""

    def __init__(self, flow: LoginFlow) -> None:
        self.flow = flow

    # ----------------------------------------------------------------- sign-in

    def _login_form(self, request: Request) -> tuple[_Login, list[tuple[str, str, int]]]:
        """The sign-in form of ``?next=`` and the pre-session cookie to set, if new."""
        target, lang = _next(request), request.query_params.get("ui_locales")
        binding = request.cookies.get(PRE_SESSION_COOKIE)
        cookies = []
        if binding is None or len(binding) > 64:
            binding = secrets.token_urlsafe(32)
            cookies.append((PRE_SESSION_COOKIE, binding, 3600))
        passkey = {}
        if self.flow.passkeys is not None:
            passkey = {
                "passkey_options_url": _url("/account/login/passkey/options", lang),
                "passkey_action": _url("/account/login/passkey", lang, next=target),
            }
        action = _url("/account/login", lang, next=target)
        return _Login(self.flow, _locale(request, lang), binding, action, passkey), cookies

    async def login(self, request: Request) -> Response:
        """Password sign-in; then the second factor when ``next`` needs ``substantial``."""
        target, lang = _next(request), request.query_params.get("ui_locales")
        page, cookies = self._login_form(request)
        binding = page.binding
        if request.method == "GET":
            return _with_cookies(page.render(""), cookies)
        form = await self.flow._form(request)
        nin = form.get("nin", "").strip()
        try:
            check_csrf(self.flow.sessions.csrf_key, binding, form.get("csrf_token"))
        except CsrfInvalid:
            return _with_cookies(
                page.render(nin, [PageError("errors.session_expired")], 403), cookies
            )
        errors = _missing_credentials(nin, form)
        if errors:
            return page.render(nin, errors, 400)
        try:
            result = await self.flow.authenticator.authenticate_password(
                nin[:64], form["password"], _address(request)
            )
        except (InvalidCredentials, AccountLocked, Throttled) as error:
            return page.refused(nin, error)
        if result.acr.rank >= _NEEDS[target].rank:
            return await self._signed_in_as(request, result, _url(target, lang))
        if not result.totp_enrolled:
            return page.render(nin, [PageError("errors.second_factor_needed")], 403)
        totp = _url("/account/login/totp", lang, next=target)
        return await self._signed_in_as(request, result, totp)

    async def login_options(self, request: Request) -> Response:
        """``POST``: WebAuthn request options (JSON) for a usernameless passkey sign-in,
        the challenge bound to the pre-session cookie."""
        page, _ = self._login_form(request)
        form = await self.flow._form(request)
        try:
            check_csrf(self.flow.sessions.csrf_key, page.binding, form.get("csrf_token"))
            passkeys = self._passkeys()
        except (CsrfInvalid, _Stop):
            return JSONResponse({"error": "access_denied"}, status_code=403)
        options = await passkeys.begin_authentication(binding=_login_binding(page))
        return Response(options.options_json, media_type="application/json", headers=_JSON_HEADERS)

    async def login_passkey(self, request: Request) -> Response:
        """``POST`` (``credential``): a passkey sign-in, ``acr`` ``high`` (enough for every
        account page)."""
        target, lang = _next(request), request.query_params.get("ui_locales")
        page, cookies = self._login_form(request)
        form = await self.flow._form(request)
        try:
            check_csrf(self.flow.sessions.csrf_key, page.binding, form.get("csrf_token"))
            passkeys = self._passkeys()
        except (CsrfInvalid, _Stop):
            errors = [PageError("errors.session_expired")]
            return _with_cookies(page.render("", errors, 403), cookies)
        try:
            result = await passkeys.finish_authentication(
                form.get("credential", ""), _address(request), binding=_login_binding(page)
            )
        except (InvalidCredentials, AccountLocked, Throttled) as error:
            return _refusal(
                error, "errors.passkey_invalid", None, lambda e, s: page.render("", e, s)
            )
        return await self._signed_in_as(request, result, _url(target, lang))

    async def second_factor(self, request: Request) -> Response:
        """TOTP or recovery code (``&recovery=1``) on top of the session's password login."""
        target, lang = _next(request), request.query_params.get("ui_locales")
        session_id = request.cookies.get(self.flow.cookie)
        session = await self.flow.sessions.load(session_id) if session_id else None
        if session is None or session_id is None or "pwd" not in session.amr:
            return _see_other(_url("/account/login", lang, next=target))
        recovery = request.query_params.get("recovery") == "1"
        base = _url("/account/login/totp", lang, next=target)
        page = _SecondFactor(self.flow, _locale(request, lang), session_id, base, recovery)
        if not await self._has_totp(session.nin):
            return page.render([PageError("errors.second_factor_needed")], 403)
        if request.method == "GET":
            return page.render()
        form = await self.flow._form(request)
        try:
            self.flow.sessions.check_csrf(session_id, form.get("csrf_token"))
        except CsrfInvalid:
            return page.render([PageError("errors.session_expired")], 403)
        field = "recovery_code" if recovery else "code"
        code = form.get(field, "").strip()
        if not code:
            return page.render([PageError(f"errors.{field}_required", field)], 400)
        previous = AuthResult(session.nin, session.acr, session.amr, session.auth_time, True)
        authenticator = self.flow.authenticator
        complete = authenticator.complete_recovery_code if recovery else authenticator.complete_totp
        try:
            result = await complete(previous, code[:64], _address(request))
        except (InvalidCredentials, AccountLocked, Throttled) as error:
            return page.refused(field, error)
        return await self._signed_in_as(request, result, _url(target, lang))

    async def _has_totp(self, nin: str) -> bool:
        async with self.flow.database.transaction() as db:
            account = await db.get(AccountRow, nin)
        return account is not None and account.totp_secret is not None

    async def _signed_in_as(self, request: Request, result: AuthResult, target: str) -> Response:
        # A new session id at every sign-in (no session fixation); the old one ends.
        new = await self.flow.sessions.create(
            result, replaces=request.cookies.get(self.flow.cookie)
        )
        cookie = (new.cookie.name, new.cookie.value, new.cookie.max_age)
        return _with_cookies(_see_other(target), [cookie])

    async def _session(self, request: Request, page: str) -> _SignedIn | Response:
        """The session a page needs, or a 303 to the sign-in (or its second factor)."""
        lang = request.query_params.get("ui_locales")
        session_id = request.cookies.get(self.flow.cookie)
        session = await self.flow.sessions.load(session_id) if session_id else None
        if session is None or session_id is None:
            return _see_other(_url("/account/login", lang, next=page))
        if session.acr.rank < _NEEDS[page].rank:
            return _see_other(_url("/account/login/totp", lang, next=page))
        return _SignedIn(session_id, session, _locale(request, lang), lang)

    async def _checked(self, request: Request, page: str) -> tuple[_SignedIn, dict[str, str]]:
        """A POST's session and form; raises :class:`_Stop` with the answer otherwise."""
        signed = await self._session(request, page)
        if isinstance(signed, Response):
            raise _Stop(signed)
        form = await self.flow._form(request)
        try:
            self.flow.sessions.check_csrf(signed.session_id, form.get("csrf_token"))
        except CsrfInvalid as error:
            answer = await self._page(page, signed, [PageError("errors.session_expired")], 403)
            raise _Stop(answer) from error
        return signed, form

    async def _page(
        self, page: str, signed: _SignedIn, errors: list[PageError], status: int
    ) -> Response:
        if page == PASSKEYS:
            return await self._passkeys_page(signed, errors, status)
        return await self._consents_page(signed, errors, status)

    # ----------------------------------------------------------------- passkeys

    def _passkeys(self) -> Passkeys:
        if self.flow.passkeys is None:  # an issuer on an IP address: no WebAuthn RP ID
            raise _Stop(_error_page(Locale.EN, "not_found", 404))
        return self.flow.passkeys

    async def passkeys(self, request: Request) -> Response:
        """``GET`` lists the passkeys; ``POST`` (``credential``, ``label``) adds one."""
        try:
            passkeys = self._passkeys()
            if request.method == "GET":
                signed = await self._session(request, PASSKEYS)
                if isinstance(signed, Response):
                    return signed
                return await self._passkeys_page(signed, notice=_notice(request))
            signed, form = await self._checked(request, PASSKEYS)
        except _Stop as stop:
            return stop.response
        label = form.get("label", "").strip()[:64]
        try:
            await passkeys.finish_registration(
                signed.session.nin,
                form.get("credential", ""),
                label=label or None,
                binding=_binding(signed),
            )
        except AuthnError:
            errors = [PageError("errors.passkey_not_added", "label")]
            return await self._passkeys_page(signed, errors, 400, label=label)
        return _see_other(_url(PASSKEYS, signed.lang, done="added"))

    async def registration_options(self, request: Request) -> Response:
        """``POST``: WebAuthn creation options (JSON) for a discoverable passkey."""
        session_id = request.cookies.get(self.flow.cookie)
        session = await self.flow.sessions.load(session_id) if session_id else None
        if session is None or session_id is None or session.acr.rank < _NEEDS[PASSKEYS].rank:
            return JSONResponse({"error": "login_required"}, status_code=401)
        form = await self.flow._form(request)
        try:
            self.flow.sessions.check_csrf(session_id, form.get("csrf_token"))
            passkeys = self._passkeys()
            # Sign-in is usernameless, so the credential must be discoverable (WebAuthn
            # L2 §5.4.6 residentKey "required"; the browser refuses an authenticator
            # that cannot store one).
            options = await passkeys.begin_registration(
                session.nin,
                binding=_binding(_SignedIn(session_id, session, Locale.EN, None)),
                resident_key=ResidentKeyRequirement.REQUIRED,
            )
        except (AuthnError, _Stop):
            return JSONResponse({"error": "access_denied"}, status_code=403)
        return Response(options.options_json, media_type="application/json", headers=_JSON_HEADERS)

    async def remove_passkey(self, request: Request) -> Response:
        """``POST`` (``credential_id``): delete one of the account's passkeys."""
        try:
            passkeys = self._passkeys()
            signed, form = await self._checked(request, PASSKEYS)
        except _Stop as stop:
            return stop.response
        try:
            await passkeys.remove(signed.session.nin, form.get("credential_id", "")[:1400])
        except UnknownPasskey:
            errors = [PageError("errors.passkey_not_found")]
            return await self._passkeys_page(signed, errors, 404)
        return _see_other(_url(PASSKEYS, signed.lang, done="removed"))

    async def _passkeys_page(
        self,
        signed: _SignedIn,
        errors: list[PageError] | None = None,
        status: int = 200,
        *,
        label: str = "",
        notice: str | None = None,
    ) -> Response:
        passkeys = self._passkeys()
        listed = [_listed(p) for p in await passkeys.for_account(signed.session.nin)]
        html = render(
            "passkeys",
            signed.locale,
            csrf_token=self.flow.sessions.csrf_token(signed.session_id),
            page_url=PASSKEYS,
            register_options_url=_url(f"{PASSKEYS}/options", signed.lang),
            register_action=_url(PASSKEYS, signed.lang),
            remove_action=_url(f"{PASSKEYS}/remove", signed.lang),
            passkeys=listed,
            label=label,
            notice=notice,
            errors=errors or [],
        )
        return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)

    # ----------------------------------------------------------------- consents

    async def consents(self, request: Request) -> Response:
        """``GET``: the relying parties with a remembered consent."""
        signed = await self._session(request, CONSENTS)
        if isinstance(signed, Response):
            return signed
        return await self._consents_page(signed, notice=_notice(request))

    async def revoke_consent(self, request: Request) -> Response:
        """``POST`` (``client_id``): forget the consent; the next authorization asks again."""
        try:
            signed, form = await self._checked(request, CONSENTS)
        except _Stop as stop:
            return stop.response
        await self.flow.revoke_consent(form.get("client_id", "")[:64], signed.session.nin)
        return _see_other(_url(CONSENTS, signed.lang, done="revoked"))

    async def _consents_page(
        self,
        signed: _SignedIn,
        errors: list[PageError] | None = None,
        status: int = 200,
        *,
        notice: str | None = None,
    ) -> Response:
        async with self.flow.database.transaction() as db:
            rows = list(
                await db.scalars(
                    select(ConsentRow)
                    .where(ConsentRow.nin == signed.session.nin)
                    .order_by(ConsentRow.granted_at.desc())
                )
            )
            clients = await load_clients(db, [row.client_id for row in rows])
        consents = [
            {
                "client_id": row.client_id,
                "client_name": clients[row.client_id].name,
                "claims": list(dict.fromkeys(_CONSENT_LABELS.get(c, c) for c in row.claims)),
                "granted": row.granted_at.date().isoformat(),
            }
            for row in rows
            if row.client_id in clients
        ]
        html = render(
            "consents",
            signed.locale,
            csrf_token=self.flow.sessions.csrf_token(signed.session_id),
            page_url=CONSENTS,
            revoke_action=_url(f"{CONSENTS}/revoke", signed.lang),
            consents=consents,
            notice=notice,
            errors=errors or [],
        )
        return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)


class _Stop(Exception):
    """Carries the answer when a page cannot go on (no session, bad CSRF token)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass(frozen=True)
class _Login:
    """The account sign-in form."""

    flow: LoginFlow
    locale: Locale
    binding: str
    action: str
    passkey: dict[str, str]

    def render(
        self, nin: str, errors: list[PageError] | None = None, status: int = 200
    ) -> Response:
        html = render(
            "login",
            self.locale,
            action=self.action,
            page_url=self.action,
            csrf_token=csrf_token(self.flow.sessions.csrf_key, self.binding),
            nin=nin,
            errors=errors or [],
            **self.passkey,
        )
        return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)

    def refused(self, nin: str, error: AuthnError) -> Response:
        return _refusal(
            error, "errors.invalid_credentials", None, lambda e, s: self.render(nin, e, s)
        )


@dataclass(frozen=True)
class _SecondFactor:
    """The account's second-factor form (TOTP, or a recovery code)."""

    flow: LoginFlow
    locale: Locale
    session_id: str
    base: str
    recovery: bool

    def render(self, errors: list[PageError] | None = None, status: int = 200) -> Response:
        html = render(
            "second_factor",
            self.locale,
            action=self.base + ("&recovery=1" if self.recovery else ""),
            page_url=self.base,
            csrf_token=self.flow.sessions.csrf_token(self.session_id),
            recovery=self.recovery,
            recovery_url=self.base + "&recovery=1",
            totp_url=self.base,
            errors=errors or [],
        )
        return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)

    def refused(self, field: str, error: AuthnError) -> Response:
        return _refusal(error, "errors.code_invalid", field, self.render)


_Form = Callable[[list[PageError], int], Response]


def _refusal(error: AuthnError, invalid: str, field: str | None, page: _Form) -> Response:
    """A sign-in form again after authn refused: throttled (429 and ``Retry-After``),
    locked (403) or wrong (401)."""
    if isinstance(error, Throttled):
        seconds = max(1, round(error.retry_after))
        response = page([PageError("errors.too_many_attempts", params={"seconds": seconds})], 429)
        response.headers["Retry-After"] = str(seconds)
        return response
    if isinstance(error, AccountLocked):
        return page([PageError("errors.account_locked")], 403)
    if isinstance(error, PasskeyFlagged):
        return page([PageError("errors.passkey_flagged")], 401)
    return page([PageError(invalid, field)], 401)


def _next(request: Request) -> str:
    """``?next=``: an account page, else the passkeys page (never an arbitrary URL)."""
    target = request.query_params.get("next", PASSKEYS)
    return target if target in _NEEDS else PASSKEYS


def _url(path: str, lang: str | None, **query: str) -> str:
    """``path`` with ``query``, keeping the language the person picked (``ui_locales``)."""
    if lang:
        query["ui_locales"] = lang[:35]
    return f"{path}?{urlencode(query)}" if query else path


def _notice(request: Request) -> str | None:
    """The message after a Post/Redirect/Get (``?done=``), as a catalogue key."""
    return _NOTICES.get(request.query_params.get("done", ""))


def _login_binding(page: _Login) -> str:
    """What an account sign-in challenge is bound to: the browser's pre-session."""
    return f"account-login\x00{page.binding}"


def _binding(signed: _SignedIn) -> str:
    """What a registration challenge is bound to: this session."""
    return f"account\x00{signed.session_id}"


def _listed(passkey: Passkey) -> dict[str, Any]:
    return {
        "credential_id": passkey.credential_id,
        "label": passkey.label,
        "created": passkey.created_at.date().isoformat(),
        "last_used": None
        if passkey.last_used_at is None
        else passkey.last_used_at.date().isoformat(),
        "flagged": passkey.flagged_at is not None,
    }
