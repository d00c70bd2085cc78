"""What a gateway signs (RFC 9421 profile of docs/gateway.md) and how it checks it.

Requests cover the method, the full target URI, the body (Content-Digest) and every X-Road
header the provider relies on; responses cover the status, the body and the X-Road headers
including ``X-Road-Request-Hash``, which binds the response to the exact request.
The ``keyid`` is the SHA-256 of the signer's member signing certificate, as listed in the
global configuration, so a verifier needs nothing but the configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from jisr.crypto.httpsig import Message, Verified, sign_message, verify_message
from jisr.crypto.keys import PrivateKey, PublicKey

__all__ = [
    "REQUEST_COMPONENTS",
    "RESPONSE_COMPONENTS",
    "sign_request",
    "sign_response",
    "verify_request",
    "verify_response",
]

REQUEST_COMPONENTS = (
    "@method",
    "@target-uri",
    "content-digest",
    "x-road-client",
    "x-road-service",
    "x-road-id",
    "x-road-request-id",
)
OPTIONAL_REQUEST_COMPONENTS = (
    "x-road-userid",
    "x-road-issue",
    "x-road-represented-party",
    "content-type",
)
RESPONSE_COMPONENTS = (
    "@status",
    "content-digest",
    "x-road-client",
    "x-road-service",
    "x-road-id",
    "x-road-request-id",
    "x-road-request-hash",
)
OPTIONAL_RESPONSE_COMPONENTS = ("x-road-error", "content-type")


def _covered(
    required: tuple[str, ...], optional: tuple[str, ...], headers: Mapping[str, str]
) -> list[str]:
    return [*required, *(name for name in optional if name in headers)]


def sign_request(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    *,
    key: PrivateKey,
    keyid: str,
    now: int,
) -> tuple[str, str]:
    message = Message(method=method, target_uri=target_uri, headers=headers)
    components = _covered(REQUEST_COMPONENTS, OPTIONAL_REQUEST_COMPONENTS, headers)
    return sign_message(message, components=components, key=key, keyid=keyid, created=now)


def verify_request(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    *,
    resolve_key: Callable[[str], PublicKey | None],
    now: int,
    window: int,
) -> Verified:
    message = Message(method=method, target_uri=target_uri, headers=headers)
    return verify_message(
        message,
        signature_input=headers.get("signature-input", ""),
        signature=headers.get("signature", ""),
        resolve_key=resolve_key,
        required=REQUEST_COMPONENTS,
        now=now,
        max_age=window,
    )


def sign_response(
    status: int, headers: Mapping[str, str], *, key: PrivateKey, keyid: str, now: int
) -> tuple[str, str]:
    message = Message(status=status, headers=headers)
    components = _covered(RESPONSE_COMPONENTS, OPTIONAL_RESPONSE_COMPONENTS, headers)
    return sign_message(message, components=components, key=key, keyid=keyid, created=now)


def verify_response(
    status: int,
    headers: Mapping[str, str],
    *,
    resolve_key: Callable[[str], PublicKey | None],
    now: int,
    window: int,
) -> Verified:
    message = Message(status=status, headers=headers)
    return verify_message(
        message,
        signature_input=headers.get("signature-input", ""),
        signature=headers.get("signature", ""),
        resolve_key=resolve_key,
        required=RESPONSE_COMPONENTS,
        now=now,
        max_age=window,
    )
