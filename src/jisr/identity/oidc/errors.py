"""Errors of the OpenID Connect provider.

Protocol refusals on the OAuth endpoints are Authlib's ``OAuth2Error`` subclasses
(``invalid_client``, ``invalid_request``, ...), rendered as RFC 6749 §5.2 JSON by
:mod:`jisr.identity.oidc.adapter`. Everything else is drawn here::

    OidcError
     ├── RegistrationError(field, rule)   client metadata refused → 422 problem
     ├── AssertionRefused(reason)         private_key_jwt refused → invalid_client 401
     └── KeyRingError                     no usable signing key, or a rotation refused
"""

from __future__ import annotations

from jisr.problems import Problem

__all__ = ["AssertionRefused", "KeyRingError", "OidcError", "RegistrationError"]


class OidcError(Exception):
    """Any refusal of the provider outside the OAuth wire protocol."""


class RegistrationError(OidcError):
    """Client metadata broke a rule; renders as an RFC 9457 ``invalid_input`` problem."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.rule, self.message = field, rule, message

    def problem(self) -> Problem:
        return Problem.invalid(f"body.{self.field}", self.rule, self.message)


class AssertionRefused(OidcError):
    """A client assertion (RFC 7523) was refused; ``reason`` is safe to show the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyRingError(OidcError):
    """The key ring has no active key for an algorithm, or a rotation is not allowed."""
