"""Passkeys (WebAuthn Level 3, through py_webauthn): registration, login at ``acr`` ``high``.

Both ceremonies are two calls. ``begin_*`` returns the options as JSON for the browser
(``PublicKeyCredentialCreationOptionsJSON`` / ``PublicKeyCredentialRequestOptionsJSON``,
what ``navigator.credentials.create``/``get`` take) and stores the random 32-byte challenge
server-side as its SHA-256, with a short expiry (``challenge_lifetime``). ``finish_*``
takes the browser's credential JSON, finds the challenge it signs, claims it (the row is
deleted: a challenge works once, even when the ceremony then fails), and verifies:

* registration (an ``active``, unlocked account): user verification required, resident
  key preferred, attestation ``none``, the account's existing credentials excluded. The
  WebAuthn user id is a random 32-byte handle per account (``authn_passkey_users``), never
  the NIN; ``user.name`` shown by the authenticator defaults to the NIN (the login name).
  Stored: credential id, COSE public key, signature counter, transports, AAGUID, backup
  flags, creation and last use.
* authentication: without a NIN the options allow any discoverable credential
  (``allowCredentials`` empty); with one, the account's credentials (and the response must
  then come from one of them). User verification is required; the ``userHandle``, when
  given, must be the credential owner's. A signature counter that did not grow (when either
  counter is non-zero) means a cloned authenticator (WebAuthn §6.1.1): the credential is
  flagged, refused from then on and listed as flagged. Success is ``acr`` ``high`` with
  ``amr`` ``hwk user mfa`` (RFC 8176 §2: proof of possession of a hardware-secured key,
  a user presence test, and, since user verification is required, a second factor: the
  authenticator's PIN or biometric).

Failures count through :mod:`.throttle` like wrong passwords (scope ``account`` of the
credential's owner when known, and always the client address) and raise
:class:`InvalidCredentials` without detail; :class:`PasskeyFlagged` (a subclass) tells the
person that this passkey was disabled. ``binding`` (optional, e.g. the pre-login session
id) ties a challenge to the browser that asked for it: ``finish_*`` must give the same.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from jisr.identity.authn._secrets import digest
from jisr.identity.authn.errors import (
    AccountLocked,
    AuthnError,
    InvalidCredentials,
    UnknownAccount,
)
from jisr.identity.authn.login import Acr, AuthResult
from jisr.identity.authn.models import AccountRow, PasskeyChallengeRow, PasskeyRow, PasskeyUserRow
from jisr.identity.authn.settings import AuthnSettings
from jisr.identity.authn.throttle import Throttle
from jisr.storage import Database, utcnow

__all__ = [
    "PASSKEY_AMR",
    "Passkey",
    "PasskeyFlagged",
    "PasskeyOptions",
    "PasskeyRefused",
    "PasskeySettings",
    "Passkeys",
    "UnknownPasskey",
]

# RFC 8176 §2: "hwk" proof of possession of a hardware-secured key, "user" user presence
# test, "mfa" because user verification (PIN or biometric) is required on top.
PASSKEY_AMR: tuple[str, ...] = ("hwk", "user", "mfa")
# EdDSA, ES256, RS256: what platform and roaming authenticators use (WebAuthn L3 §5.8.5).
_ALGORITHMS = [
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
_REGISTRATION = "registration"
_AUTHENTICATION = "authentication"
# Whatever a browser posts that is not a well-formed credential.
_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError)


class PasskeySettings(BaseModel):
    """The relying party: its id (a registrable domain), display name, accepted origins."""

    model_config = ConfigDict(frozen=True)

    rp_id: str = Field(min_length=1)
    rp_name: str = "Jisr"
    # Exact origins of the pages that run the ceremonies (scheme, host, port).
    origins: tuple[str, ...] = Field(min_length=1)
    challenge_lifetime: timedelta = Field(timedelta(minutes=5), gt=timedelta(0))

    @model_validator(mode="after")
    def _origins_within_rp_id(self) -> PasskeySettings:
        for origin in self.origins:
            parts = urlsplit(origin)
            host = parts.hostname or ""
            secure = parts.scheme == "https" or (parts.scheme == "http" and host == "localhost")
            if not secure or parts.path not in ("", "/"):
                raise ValueError(f"origin {origin!r} is not an https origin (or http://localhost)")
            if host != self.rp_id and not host.endswith("." + self.rp_id):
                raise ValueError(f"origin {origin!r} is not within the rp id {self.rp_id!r}")
        return self


class PasskeyRefused(AuthnError):
    """A registration was refused; ``reason`` says why (the person is already logged in)."""

    code = "passkey_refused"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the passkey was refused: {reason}")


class PasskeyFlagged(InvalidCredentials):
    """The passkey's signature counter went backwards: a cloned authenticator; disabled."""

    code = "passkey_flagged"

    def __init__(self) -> None:
        AuthnError.__init__(
            self, "this passkey has been disabled; log in with the password and remove it"
        )


class UnknownPasskey(AuthnError):
    code = "unknown_passkey"

    def __init__(self, credential_id: str) -> None:
        self.credential_id = credential_id
        super().__init__(f"no passkey {credential_id!r} for this account")


@dataclass(frozen=True)
class PasskeyOptions:
    """Options for the browser (JSON text, as ``options_to_json`` makes it) and their expiry."""

    options_json: str
    expires_at: datetime


@dataclass(frozen=True)
class Passkey:
    """A registered passkey as listed to its owner; ``credential_id`` is base64url."""

    credential_id: str
    label: str | None
    transports: tuple[str, ...]
    aaguid: str
    backed_up: bool
    created_at: datetime
    last_used_at: datetime | None
    flagged_at: datetime | None


def _passkey(row: PasskeyRow) -> Passkey:
    return Passkey(
        credential_id=row.credential_id,
        label=row.label,
        transports=tuple(row.transports),
        aaguid=row.aaguid,
        backed_up=row.backed_up,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        flagged_at=row.flagged_at,
    )


def _descriptor(row: PasskeyRow) -> PublicKeyCredentialDescriptor:
    known = {transport.value for transport in AuthenticatorTransport}
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(row.credential_id),
        transports=[AuthenticatorTransport(t) for t in row.transports if t in known] or None,
    )


def _challenge_hash(challenge: bytes) -> str:
    return digest(bytes_to_base64url(challenge))


def _binding_hash(binding: str | None) -> str | None:
    return None if binding is None else digest(binding)


@dataclass(frozen=True)
class _Claimed:
    nin: str | None


class Passkeys:
    """Passkey registration, authentication and management over ``database``."""

    def __init__(
        self,
        database: Database,
        passkey_settings: PasskeySettings,
        settings: AuthnSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.passkey_settings = passkey_settings
        self.settings = settings or AuthnSettings()
        self.clock = clock
        self.throttle = Throttle(self.settings, clock)

    # Registration.

    async def begin_registration(
        self,
        nin: str,
        *,
        user_name: str | None = None,
        display_name: str | None = None,
        binding: str | None = None,
        resident_key: ResidentKeyRequirement = ResidentKeyRequirement.PREFERRED,
    ) -> PasskeyOptions:
        """Creation options for a new passkey of ``nin``'s active account.

        ``resident_key`` ``required`` asks for a discoverable credential (WebAuthn L2
        §5.4.6): what a usernameless login (``begin_authentication`` without a NIN) needs.
        Raises :class:`UnknownAccount`, :class:`AccountLocked`
        or :class:`PasskeyRefused` (account not active).
        """
        rp = self.passkey_settings
        now = self.clock()
        challenge = secrets.token_bytes(32)
        async with self.database.transaction() as session:
            await self._active_account(session, nin)
            handle = await self._user_handle(session, nin)
            existing = await session.scalars(select(PasskeyRow).where(PasskeyRow.nin == nin))
            exclude = [_descriptor(row) for row in existing]
            expires_at = await self._store_challenge(
                session, challenge, _REGISTRATION, nin, binding, now
            )
        options = generate_registration_options(
            rp_id=rp.rp_id,
            rp_name=rp.rp_name,
            user_name=user_name or nin,
            user_id=handle,
            user_display_name=display_name or user_name or nin,
            challenge=challenge,
            timeout=int(rp.challenge_lifetime.total_seconds() * 1000),
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=resident_key,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=exclude,
            supported_pub_key_algs=_ALGORITHMS,
        )
        return PasskeyOptions(options_to_json(options), expires_at)

    async def finish_registration(
        self,
        nin: str,
        credential: str,
        *,
        label: str | None = None,
        binding: str | None = None,
    ) -> Passkey:
        """Verify the browser's ``credential`` (JSON) and store the new passkey of ``nin``.

        Raises :class:`PasskeyRefused` with the reason (malformed, unknown or expired
        challenge, wrong origin or rp id, no user verification, already registered…).
        """
        rp = self.passkey_settings
        try:
            parsed = parse_registration_credential_json(credential)
            challenge = parse_client_data_json(parsed.response.client_data_json).challenge
        except _MALFORMED as error:
            raise PasskeyRefused("the credential is malformed") from error
        claimed = await self._claim(challenge, _REGISTRATION, binding)
        if claimed is None or claimed.nin != nin:
            raise PasskeyRefused("the challenge is unknown, used or expired")
        try:
            verified = verify_registration_response(
                credential=parsed,
                expected_challenge=challenge,
                expected_rp_id=rp.rp_id,
                expected_origin=list(rp.origins),
                require_user_verification=True,
                supported_pub_key_algs=_ALGORITHMS,
            )
        except _MALFORMED as error:
            raise PasskeyRefused(str(error)) from error
        now = self.clock()
        credential_id = bytes_to_base64url(verified.credential_id)
        async with self.database.transaction() as session:
            await self._active_account(session, nin)
            taken = await session.scalar(
                select(PasskeyRow.id).where(PasskeyRow.credential_id == credential_id)
            )
            if taken is not None:
                raise PasskeyRefused("this passkey is already registered")
            row = PasskeyRow(
                nin=nin,
                credential_id=credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=[t.value for t in parsed.response.transports or []],
                aaguid=verified.aaguid,
                backup_eligible=(
                    verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
                ),
                backed_up=verified.credential_backed_up,
                label=label[:64] if label else None,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            return _passkey(row)

    # Authentication.

    async def begin_authentication(
        self, nin: str | None = None, *, binding: str | None = None
    ) -> PasskeyOptions:
        """Request options: any discoverable passkey, or (given ``nin``) that account's.

        With a NIN, ``allowCredentials`` is empty for an unknown or inactive account or one
        without passkeys, which tells a caller whether the NIN has usable passkeys: pages
        that must not reveal it call this without a NIN (the login page does).
        """
        rp = self.passkey_settings
        now = self.clock()
        challenge = secrets.token_bytes(32)
        allow: list[PublicKeyCredentialDescriptor] = []
        async with self.database.transaction() as session:
            if nin is not None:
                rows = await session.scalars(
                    select(PasskeyRow)
                    .join(AccountRow, AccountRow.nin == PasskeyRow.nin)
                    .where(
                        PasskeyRow.nin == nin,
                        PasskeyRow.flagged_at.is_(None),
                        AccountRow.status == "active",
                    )
                    .order_by(PasskeyRow.id)
                )
                allow = [_descriptor(row) for row in rows]
            expires_at = await self._store_challenge(
                session, challenge, _AUTHENTICATION, nin, binding, now
            )
        options = generate_authentication_options(
            rp_id=rp.rp_id,
            challenge=challenge,
            timeout=int(rp.challenge_lifetime.total_seconds() * 1000),
            allow_credentials=allow,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return PasskeyOptions(options_to_json(options), expires_at)

    async def finish_authentication(
        self, credential: str, address: str, *, binding: str | None = None
    ) -> AuthResult:
        """Verify the browser's assertion ``credential`` (JSON); ``acr`` ``high``.

        Raises :class:`InvalidCredentials` (:class:`PasskeyFlagged` for a cloned
        authenticator), :class:`Throttled` or :class:`AccountLocked`. Failures are committed
        before the error is raised.
        """
        rp = self.passkey_settings
        async with self.database.transaction() as session:
            await self.throttle.check(session, nin=None, address=address)
        try:
            parsed = parse_authentication_credential_json(credential)
            challenge = parse_client_data_json(parsed.response.client_data_json).challenge
            credential_id = bytes_to_base64url(parsed.raw_id)
        except _MALFORMED:
            await self._fail(None, address)
        claimed = await self._claim(challenge, _AUTHENTICATION, binding)
        if claimed is None:
            await self._fail(None, address)
        async with self.database.transaction() as session:
            row = await session.scalar(
                select(PasskeyRow).where(PasskeyRow.credential_id == credential_id)
            )
        if row is None or (claimed.nin is not None and claimed.nin != row.nin):
            await self._fail(claimed.nin, address)
        nin = row.nin
        async with self.database.transaction() as session:
            await self.throttle.check(session, nin=nin, address=address)
            account = await session.get(AccountRow, nin)
            handle = await session.scalar(
                select(PasskeyUserRow.user_handle).where(PasskeyUserRow.nin == nin)
            )
        user_handle = parsed.response.user_handle
        if (
            account is None
            or account.status != "active"
            or (user_handle is not None and user_handle != handle)
        ):
            await self._fail(nin, address)
        if row.flagged_at is not None:
            await self._fail(nin, address, PasskeyFlagged())
        try:
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=challenge,
                expected_rp_id=rp.rp_id,
                expected_origin=list(rp.origins),
                credential_public_key=row.public_key,
                # The counter is checked below, after the signature, so that only the
                # authenticator's key can get a credential flagged.
                credential_current_sign_count=0,
                require_user_verification=True,
            )
        except _MALFORMED:
            await self._fail(nin, address)
        now = self.clock()
        new_count = verified.new_sign_count
        if (new_count > 0 or row.sign_count > 0) and new_count <= row.sign_count:
            async with self.database.transaction() as session:
                await session.execute(
                    update(PasskeyRow).where(PasskeyRow.id == row.id).values(flagged_at=now)
                )
            await self._fail(nin, address, PasskeyFlagged())
        async with self.database.transaction() as session:
            # Conditional on the counter read above: of two concurrent assertions with the
            # same counter only one is accepted.
            updated = await session.execute(
                update(PasskeyRow)
                .where(
                    PasskeyRow.id == row.id,
                    PasskeyRow.sign_count == row.sign_count,
                    PasskeyRow.flagged_at.is_(None),
                )
                .values(
                    sign_count=new_count,
                    last_used_at=now,
                    backed_up=verified.credential_backed_up,
                )
            )
            accepted = updated.rowcount == 1  # type: ignore[attr-defined]
            if accepted:
                await self.throttle.record_success(session, nin=nin)
        if not accepted:
            await self._fail(nin, address)
        return AuthResult(
            nin=nin,
            acr=Acr.HIGH,
            amr=PASSKEY_AMR,
            auth_time=now,
            totp_enrolled=account.totp_secret is not None,
        )

    # Management.

    async def for_account(self, nin: str) -> list[Passkey]:
        """``nin``'s passkeys, oldest first, flagged ones included (``flagged_at`` set)."""
        async with self.database.transaction() as session:
            rows = await session.scalars(
                select(PasskeyRow).where(PasskeyRow.nin == nin).order_by(PasskeyRow.id)
            )
            return [_passkey(row) for row in rows]

    async def remove(self, nin: str, credential_id: str) -> None:
        """Delete ``nin``'s passkey ``credential_id``; raises :class:`UnknownPasskey`."""
        async with self.database.transaction() as session:
            result = await session.execute(
                delete(PasskeyRow).where(
                    PasskeyRow.nin == nin, PasskeyRow.credential_id == credential_id
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise UnknownPasskey(credential_id)

    # Helpers.

    async def _active_account(self, session: AsyncSession, nin: str) -> AccountRow:
        account = await session.get(AccountRow, nin)
        if account is None:
            raise UnknownAccount(nin)
        if await self.throttle.is_locked(session, nin):
            raise AccountLocked
        if account.status != "active":
            raise PasskeyRefused("the account is not active")
        return account

    async def _user_handle(self, session: AsyncSession, nin: str) -> bytes:
        handle = await session.scalar(
            select(PasskeyUserRow.user_handle).where(PasskeyUserRow.nin == nin)
        )
        if handle is None:
            handle = secrets.token_bytes(32)
            session.add(PasskeyUserRow(nin=nin, user_handle=handle))
            await session.flush()
        return handle

    async def _store_challenge(
        self,
        session: AsyncSession,
        challenge: bytes,
        ceremony: str,
        nin: str | None,
        binding: str | None,
        now: datetime,
    ) -> datetime:
        await session.execute(
            delete(PasskeyChallengeRow).where(PasskeyChallengeRow.expires_at <= now)
        )
        expires_at = now + self.passkey_settings.challenge_lifetime
        session.add(
            PasskeyChallengeRow(
                challenge_hash=_challenge_hash(challenge),
                ceremony=ceremony,
                nin=nin,
                binding_hash=_binding_hash(binding),
                created_at=now,
                expires_at=expires_at,
            )
        )
        return expires_at

    async def _claim(self, challenge: bytes, ceremony: str, binding: str | None) -> _Claimed | None:
        """Delete the challenge's row; its NIN if it was live, of ``ceremony`` and ``binding``."""
        now = self.clock()
        async with self.database.transaction() as session:
            row = await session.scalar(
                select(PasskeyChallengeRow).where(
                    PasskeyChallengeRow.challenge_hash == _challenge_hash(challenge)
                )
            )
            if row is None:
                return None
            deleted = await session.execute(
                delete(PasskeyChallengeRow).where(PasskeyChallengeRow.id == row.id)
            )
        if (
            deleted.rowcount != 1  # type: ignore[attr-defined]
            or row.ceremony != ceremony
            or row.expires_at <= now
            or row.binding_hash != _binding_hash(binding)
        ):
            return None
        return _Claimed(nin=row.nin)

    async def _fail(
        self, nin: str | None, address: str, error: InvalidCredentials | None = None
    ) -> NoReturn:
        async with self.database.transaction() as session:
            await self.throttle.record_failure(session, nin=nin, address=address)
        raise error or InvalidCredentials
