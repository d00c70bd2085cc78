"""Errors raised by :mod:`jisr.identity.authn`.

The whole tree, drawn once::

    AuthnError                          anything authentication refuses or cannot do
    ├── InvalidCredentials              wrong NIN, password or code (never says which)
    ├── AccountLocked                   too many failures on this account; an administrator unlocks
    ├── Throttled (retry_after)         wait ``retry_after`` seconds before the next attempt
    ├── ActivationInvalid               activation code wrong, used, expired, or account not pending
    ├── AccountActive                   an activation code was asked for an account already active
    ├── WeakPassword (reasons)          the new password breaks the policy; every reason listed
    ├── MfaRequired (required)          the level reached is below the level requested
    ├── TotpNotEnrolled                 a TOTP operation on an account without (pending) TOTP
    ├── UnknownAccount (nin)            an administrative operation names no account
    └── CsrfInvalid                     the form's CSRF token does not belong to the session

``code`` on each class is the stable short code an API or a page renders. Login errors
deliberately carry no detail that would tell an attacker whether the account exists.
"""

from __future__ import annotations

__all__ = [
    "AccountActive",
    "AccountLocked",
    "ActivationInvalid",
    "AuthnError",
    "CsrfInvalid",
    "InvalidCredentials",
    "MfaRequired",
    "Throttled",
    "TotpNotEnrolled",
    "UnknownAccount",
    "WeakPassword",
]


class AuthnError(Exception):
    """Base class of every authentication error."""

    code = "authn_error"

    def as_problem(self) -> dict[str, object]:
        """The error as a small JSON object for an API or a page: code and message."""
        return {"error": self.code, "message": str(self)}


class InvalidCredentials(AuthnError):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("the identification number or the credential is wrong")


class AccountLocked(AuthnError):
    code = "locked"

    def __init__(self) -> None:
        super().__init__("the account is locked after too many failures; contact an administrator")


class Throttled(AuthnError):
    """Too many recent failures; the caller waits ``retry_after`` seconds (never the library)."""

    code = "throttled"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed attempts; retry after {retry_after:.0f} s")

    def as_problem(self) -> dict[str, object]:
        return {**super().as_problem(), "retry_after": self.retry_after}


class ActivationInvalid(AuthnError):
    code = "activation_invalid"

    def __init__(self) -> None:
        super().__init__("the activation code is wrong, already used or expired")


class AccountActive(AuthnError):
    code = "account_active"

    def __init__(self, nin: str) -> None:
        self.nin = nin
        super().__init__(f"the account of {nin!r} is already active")


class WeakPassword(AuthnError):
    """The password breaks the policy; ``reasons`` lists every broken rule."""

    code = "weak_password"

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(reasons))

    def as_problem(self) -> dict[str, object]:
        return {**super().as_problem(), "reasons": self.reasons}


class MfaRequired(AuthnError):
    """The authentication reached a lower level of assurance than ``required``."""

    code = "mfa_required"

    def __init__(self, required: str, reached: str) -> None:
        self.required = required
        self.reached = reached
        super().__init__(f"level {required!r} requested, {reached!r} reached")


class TotpNotEnrolled(AuthnError):
    code = "totp_not_enrolled"

    def __init__(self) -> None:
        super().__init__("no TOTP authenticator is enrolled (or pending) for this account")


class UnknownAccount(AuthnError):
    code = "unknown_account"

    def __init__(self, nin: str) -> None:
        self.nin = nin
        super().__init__(f"no account for {nin!r}")


class CsrfInvalid(AuthnError):
    code = "csrf_invalid"

    def __init__(self) -> None:
        super().__init__("the form's CSRF token is missing or does not match the session")
