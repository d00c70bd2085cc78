"""Errors raised by :mod:`jisr.exchange.messagelog`.

The whole tree, drawn once::

    MessageLogError                  anything the message log refuses or cannot do
    ├── LogNotRunning                append() before start(), after stop(), or after a crash
    ├── LoggingFailed                the batch holding these records was not committed
    ├── TimestamperFailed            timestamping has failed longer than the allowed period
    ├── EvidenceError (reason)       no evidence bundle can be built for this X-Road-Id
    └── ArchiveError (reason)        the archive directory or chain refuses the operation

``LoggingFailed`` and ``TimestamperFailed`` are the two X-Road faults a gateway answers
when its log cannot take a message (X-Road ``ErrorCodes.X_LOGGING_FAILED_X`` and
``X_MLOG_TIMESTAMPER_FAILED``); :meth:`MessageLogError.xroad_code` renders the full code
for the face of the gateway that logged: ``Server.ClientProxy.*`` on the consumer face,
``Server.ServerProxy.*`` on the provider face. ``reason`` is a stable short code
(``"not_found"``, ``"not_timestamped"``, ``"chain_broken"``...) to branch on.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ArchiveError",
    "EvidenceError",
    "LogNotRunning",
    "LoggingFailed",
    "MessageLogError",
    "TimestamperFailed",
]

_FACE_PREFIX = {"consumer": "Server.ClientProxy", "provider": "Server.ServerProxy"}


class MessageLogError(Exception):
    """Base class; ``code`` is the X-Road fault code the gateway answers with."""

    code = "LoggingFailed"

    def xroad_code(self, direction: Literal["consumer", "provider"]) -> str:
        """The X-Road fault code for the gateway face that logged (``direction``)."""
        return f"{_FACE_PREFIX[direction]}.{self.code}"


class LogNotRunning(MessageLogError):
    """The log is not accepting records: not started, stopping, or its writer died."""


class LoggingFailed(MessageLogError):
    """The transaction holding these records failed; none of them was acknowledged.

    The database error is chained as ``__cause__``.
    """


class TimestamperFailed(MessageLogError):
    """Timestamping has failed for longer than ``timestamp_failure_limit``.

    X-Road refuses traffic in this state (DM-ML §1.6, step 1), and so does the gateway.
    """

    code = "TimestamperFailed"


class _ReasonError(MessageLogError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason}: {self.args[0]}"


class EvidenceError(_ReasonError):
    """No bundle: ``not_found``, ``ambiguous`` (several logs), ``not_timestamped``,
    ``incomplete`` (a leaf hash is missing)."""


class ArchiveError(_ReasonError):
    """Archiving refused: ``chain_broken`` (the last file is missing or altered),
    ``conflict`` (another archiver wrote the same range first)."""
