"""Access rights: who may call which service, at service or endpoint level.

A right grants ``subject`` the service, optionally only ``method`` on a path ``pattern``:

* subject: a client id (member or subsystem, exact match), a global group
  (``INSTANCE/GROUP``, membership from the global configuration) or a local group of the
  provider (membership kept on this gateway);
* method: an HTTP method or ``*``;
* pattern: ``/``-separated segments where ``*`` matches exactly one segment and a final
  ``**`` matches any number of segments (also none). Matching is done on the decoded
  segments of a path that :mod:`.protocol` has already cleared of ``.``/``..`` segments and
  encoded slashes, so a wildcard can never reach outside the granted prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["PatternError", "Right", "is_allowed", "path_matches", "validate_pattern"]

METHODS = frozenset({"*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class PatternError(ValueError):
    """An endpoint pattern that cannot be granted."""


@dataclass(frozen=True, slots=True)
class Right:
    subject_kind: str  # "client" | "global_group" | "local_group"
    subject: str
    method: str = "*"
    path: str = "**"


def validate_pattern(method: str, pattern: str) -> tuple[str, str]:
    """Normalise and check an endpoint (method, pattern) before it is stored."""
    method = method.upper()
    if method not in METHODS:
        raise PatternError(f"unknown method {method!r}")
    if pattern == "**":
        return method, pattern
    if not pattern.startswith("/"):
        raise PatternError("a path pattern starts with '/' (or is '**' for every path)")
    segments = pattern.split("/")[1:]
    for index, segment in enumerate(segments):
        if segment in (".", "..") or "\\" in segment or "%2f" in segment.lower():
            raise PatternError(f"segment {segment!r} is not allowed in a pattern")
        if "**" in segment and (segment != "**" or index != len(segments) - 1):
            raise PatternError("'**' is only allowed as the whole last segment")
        if "*" in segment and segment not in ("*", "**"):
            raise PatternError("'*' must be a whole segment")
    return method, pattern


def path_matches(pattern: str, path: str) -> bool:
    """Does the request ``path`` (percent-encoded, leading ``/``) match ``pattern``?"""
    if pattern == "**":
        return True
    wanted = pattern.split("/")[1:]
    given = [unquote(segment) for segment in path.split("/")[1:]] if path else []
    for index, segment in enumerate(wanted):
        if segment == "**":
            return True
        if index >= len(given) or (segment != "*" and segment != given[index]):
            return False
    return len(given) == len(wanted)


def is_allowed(
    rights: Iterable[Right],
    *,
    client: str,
    method: str,
    path: str,
    in_global_group: Callable[[str, str], bool],
    local_groups: Mapping[str, Collection[str]],
) -> bool:
    """True when any right covers this client, method and path."""
    for right in rights:
        if right.method not in ("*", method) or not path_matches(right.path, path):
            continue
        if right.subject_kind == "client" and right.subject == client:
            return True
        if right.subject_kind == "global_group" and in_global_group(right.subject, client):
            return True
        if right.subject_kind == "local_group" and client in local_groups.get(right.subject, ()):
            return True
    return False
