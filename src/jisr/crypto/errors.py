"""Errors raised by :mod:`jisr.crypto`.

The whole tree, drawn once::

    CryptoError                    anything the crypto layer refuses
    ├── KeyLoadError (reason)      a private key could not be read
    ├── CsrError (field, rule)     a certification request is not acceptable
    ├── ChainError (reason)        a certificate does not chain to a trusted root
    ├── TimestampError (reason)    an RFC 3161 response or token does not verify
    └── JoseError (reason)         a JWS is refused (defined in jisr.crypto.jose)

``reason`` and ``rule`` are stable short codes (``"wrong_passphrase"``,
``"subject_mismatch"``, ``"expired"``, ``"imprint_mismatch"``...) that callers
may branch on, log and map to protocol faults; the message is for humans.
"""

from __future__ import annotations

__all__ = ["ChainError", "CryptoError", "CsrError", "KeyLoadError", "TimestampError"]


class CryptoError(Exception):
    """Base class: a key, certificate, request or token was refused."""


class _ReasonError(CryptoError):
    """A refusal that carries a stable ``reason`` code next to its message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason}: {self.args[0]}"


class KeyLoadError(_ReasonError):
    """A private key could not be loaded.

    Reasons: ``passphrase_required``, ``wrong_passphrase``, ``not_encrypted``
    (a passphrase was given for a clear-text key), ``malformed``,
    ``unsupported_key_type``.
    """


class CsrError(CryptoError):
    """A certificate signing request was refused.

    ``field`` names the part at fault (``csr``, ``subject``, ``public_key``,
    ``signature``); ``rule`` is the code of the rule it broke (``malformed``,
    ``too_large``, ``bad_signature``, ``unsupported_key_type``, ``weak_key``,
    ``subject_mismatch``).
    """

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule

    def __str__(self) -> str:
        return f"{self.field}/{self.rule}: {self.args[0]}"


class ChainError(_ReasonError):
    """A certificate path could not be built or validated.

    Reasons: ``expired``, ``not_yet_valid``, ``unknown_issuer``,
    ``bad_signature``, ``not_a_ca``, ``path_too_long``, ``bad_root``,
    ``wrong_usage``.
    """


class TimestampError(_ReasonError):
    """An RFC 3161 time-stamp response or token failed verification.

    Reasons: ``malformed``, ``rejected``, ``imprint_mismatch``,
    ``nonce_mismatch``, ``content_mismatch``, ``unknown_signer``,
    ``bad_signature``, ``unsupported_algorithm``, ``not_a_tsa``,
    ``tsa_not_valid``, ``untrusted_tsa``.
    """
