"""Authentication: accounts, passwords, TOTP, brute-force protection, sessions, CSRF.

See docs/identity.md, "Authentication". Typical use::

    migrate(url)
    accounts = Accounts(database, settings)
    issued = await accounts.issue_activation(nin)          # delivered out of band
    await accounts.activate(nin, issued.code, password, address=client_ip)
    result = await Authenticator(database, settings).authenticate_password(nin, password, ip)
    require_acr(result.acr, requested_acr(acr_values))     # MfaRequired -> ask for TOTP
"""

from jisr.identity.authn.accounts import (
    MIGRATIONS,
    VERSION_TABLE,
    Account,
    Accounts,
    AccountStatus,
    ActivationCode,
    migrate,
)
from jisr.identity.authn.errors import (
    AccountActive,
    AccountLocked,
    ActivationInvalid,
    AuthnError,
    CsrfInvalid,
    InvalidCredentials,
    MfaRequired,
    Throttled,
    TotpNotEnrolled,
    UnknownAccount,
    WeakPassword,
)
from jisr.identity.authn.login import Acr, Authenticator, AuthResult, requested_acr, require_acr
from jisr.identity.authn.passkeys import (
    Passkey,
    PasskeyFlagged,
    PasskeyOptions,
    PasskeyRefused,
    Passkeys,
    PasskeySettings,
    UnknownPasskey,
)
from jisr.identity.authn.passwords import (
    check_password,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from jisr.identity.authn.sessions import (
    Cookie,
    NewSession,
    Session,
    SessionStore,
    check_csrf,
    csrf_token,
)
from jisr.identity.authn.settings import Argon2Settings, AuthnSettings
from jisr.identity.authn.throttle import Throttle, address_key
from jisr.identity.authn.totp import Enrolment, Totp, provisioning_uri

__all__ = [
    "MIGRATIONS",
    "VERSION_TABLE",
    "Account",
    "AccountActive",
    "AccountLocked",
    "AccountStatus",
    "Accounts",
    "Acr",
    "ActivationCode",
    "ActivationInvalid",
    "Argon2Settings",
    "AuthResult",
    "Authenticator",
    "AuthnError",
    "AuthnSettings",
    "Cookie",
    "CsrfInvalid",
    "Enrolment",
    "InvalidCredentials",
    "MfaRequired",
    "NewSession",
    "Passkey",
    "PasskeyFlagged",
    "PasskeyOptions",
    "PasskeyRefused",
    "PasskeySettings",
    "Passkeys",
    "Session",
    "SessionStore",
    "Throttle",
    "Throttled",
    "Totp",
    "TotpNotEnrolled",
    "UnknownAccount",
    "UnknownPasskey",
    "WeakPassword",
    "address_key",
    "check_csrf",
    "check_password",
    "csrf_token",
    "hash_password",
    "migrate",
    "needs_rehash",
    "password_problems",
    "provisioning_uri",
    "requested_acr",
    "require_acr",
    "verify_password",
]
