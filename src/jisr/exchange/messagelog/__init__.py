"""The gateway message log: an append-only Merkle tree of every request and response.

Both faces of a gateway append each message they send or receive (:class:`MessageLog`);
appends are group-committed and acknowledged only once durable. The log is an RFC 9162
Merkle tree (:mod:`.merkle`) whose signed tree heads carry RFC 3161 time-stamps from the
instance TSA (:mod:`.treehead`, :mod:`.timestamper`). Offline tools verify a whole log
(:func:`verify_log`), export and check the evidence for one message
(:func:`export_evidence` / :func:`verify_evidence`), and archive and prune old records
behind a digest chain of files (:func:`archive` / :func:`cleanup`). ``docs/messagelog.md``
describes the formats; :mod:`.errors` draws the exception tree.
"""

from jisr.exchange.messagelog.archive import archive, cleanup
from jisr.exchange.messagelog.errors import (
    ArchiveError,
    EvidenceError,
    LoggingFailed,
    LogNotRunning,
    MessageLogError,
    TimestamperFailed,
)
from jisr.exchange.messagelog.evidence import EvidenceReport, export_evidence, verify_evidence
from jisr.exchange.messagelog.log import (
    LogSettings,
    LogStatus,
    MessageLog,
    migrate,
    recent_requests,
)
from jisr.exchange.messagelog.records import LogRecord, StoredRecord
from jisr.exchange.messagelog.timestamper import HttpTimestamper, Timestamper
from jisr.exchange.messagelog.treehead import TreeHead
from jisr.exchange.messagelog.verify import VerifyReport, verify_log

__all__ = [
    "ArchiveError",
    "EvidenceError",
    "EvidenceReport",
    "HttpTimestamper",
    "LogNotRunning",
    "LogRecord",
    "LogSettings",
    "LogStatus",
    "LoggingFailed",
    "MessageLog",
    "MessageLogError",
    "StoredRecord",
    "Timestamper",
    "TimestamperFailed",
    "TreeHead",
    "VerifyReport",
    "archive",
    "cleanup",
    "export_evidence",
    "migrate",
    "recent_requests",
    "verify_evidence",
    "verify_log",
]
