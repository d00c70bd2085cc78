"""Subject identifiers (OIDC Core §8) and claims from the population register (§5).

* **pairwise** subjects (the default): ``base64url(HMAC-SHA256(secret, "pairwise" ‖ sector ‖
  NIN))``; two relying parties in different sectors cannot correlate a person;
* **public** subjects: ``base64url(HMAC-SHA256(secret, "public" ‖ NIN))``, the same for every
  client that registered ``subject_type=public``. Never the NIN itself: the NIN is disclosed
  only as the ``national_id`` claim, when that scope is granted.

Claims by scope: ``profile`` → names in Latin script (``name``, ``given_name``,
``family_name``) and Arabic (the same with the ``#ar`` language tag, §5.2), ``birthdate``,
``gender``; ``address`` → ``address.formatted``; ``national_id`` → ``national_id``. The
register holds no e-mail address or phone number, so ``email`` and ``phone`` yield nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

from jisr.identity.register import Person

__all__ = [
    "SCOPE_CLAIMS",
    "SUPPORTED_CLAIMS",
    "SUPPORTED_SCOPES",
    "ClaimsRequest",
    "granted_claims",
    "parse_claims_request",
    "person_claims",
    "subject_for",
]

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "given_name",
        "family_name",
        "name#ar",
        "given_name#ar",
        "family_name#ar",
        "birthdate",
        "gender",
    ),
    "address": ("address",),
    "national_id": ("national_id",),
}
SUPPORTED_SCOPES = ("openid", "profile", "address", "national_id")
SUPPORTED_CLAIMS = ("sub", *(claim for claims in SCOPE_CLAIMS.values() for claim in claims))
_MAX_CLAIMS_REQUEST_NAMES = 64

ClaimsRequest = dict[str, list[str]]


def subject_for(secret: bytes, nin: str, *, subject_type: str, sector: str) -> str:
    """The ``sub`` of the person ``nin`` for a client of ``subject_type`` in ``sector``."""
    if subject_type == "public":
        message = b"public\x00" + nin.encode()
    else:
        message = b"pairwise\x00" + sector.encode() + b"\x00" + nin.encode()
    mac = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def parse_claims_request(value: str | None) -> tuple[ClaimsRequest, list[str]]:
    """The ``claims`` parameter (OIDC Core §5.5): supported claim names per member, and the
    ``acr`` values asked for the ID token. Raises ``ValueError`` when malformed."""
    if not value:
        return {"userinfo": [], "id_token": []}, []
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError("claims must be a JSON object")
    request: ClaimsRequest = {}
    acr: list[str] = []
    for member in ("userinfo", "id_token"):
        entries = parsed.get(member) or {}
        if not isinstance(entries, dict) or len(entries) > _MAX_CLAIMS_REQUEST_NAMES:
            raise ValueError(f"claims.{member} must be a JSON object")
        for name, spec in entries.items():
            if spec is not None and not isinstance(spec, dict):
                raise ValueError(f"claims.{member}.{name} must be null or an object")
        request[member] = sorted(name for name in entries if name in SUPPORTED_CLAIMS)
        if member == "id_token" and isinstance(entries.get("acr"), dict):
            values = entries["acr"].get("values") or [entries["acr"].get("value")]
            acr = [v for v in values if isinstance(v, str)]
    return request, acr


def granted_claims(scopes: Iterable[str], asked: Iterable[str] = ()) -> list[str]:
    """Claim names released for ``scopes`` plus those asked for by name."""
    names: list[str] = []
    for scope in scopes:
        names.extend(SCOPE_CLAIMS.get(scope, ()))
    names.extend(name for name in asked if name in SUPPORTED_CLAIMS and name != "sub")
    return list(dict.fromkeys(names))


def person_claims(person: Person, names: Iterable[str]) -> dict[str, Any]:
    """The values of the claims ``names`` for ``person`` (absent values are omitted)."""
    given, family = person.given_name, person.family_name
    values: dict[str, Any] = {
        "name": f"{given.latn} {family.latn}",
        "given_name": given.latn,
        "family_name": family.latn,
        "name#ar": f"{given.arab} {family.arab}",
        "given_name#ar": given.arab,
        "family_name#ar": family.arab,
        "birthdate": person.date_of_birth.isoformat(),
        "gender": "female" if person.sex == "F" else "male",
        "national_id": person.nin,
    }
    if person.address:
        values["address"] = {"formatted": person.address}
    return {name: values[name] for name in names if name in values}
