"""CPU cost of jisr.crypto.httpsig per gateway exchange, with the raw key operations apart.

A gateway request as the consumer gateway signs it (eight covered components, a 64-hex
``keyid``, ECDSA P-256) is signed and verified ``--n`` times per round, and the best of
``--rounds`` rounds is kept; a response (``@status`` and the X-Road headers) likewise, and
check_content_digest. Two views of what httpsig's own Python code costs:

* ``-raw``: the call minus ``keys.sign`` / ``keys.verify`` timed alone on the same base. It
  also counts what the Python work costs the cryptography that follows it (caches, branch
  predictors), as in a gateway, and it is the noisier of the two;
* ``own``: the call with ``keys.sign`` / ``keys.verify`` replaced by stubs that return the
  real signature (or True) at once: httpsig's code alone.

The ``fallback`` row verifies a request whose Signature-Input lists its parameters in
another order than sign_message does, so it goes through the general RFC 8941 parser.

Printed: a table of µs per call and one JSON line. ``PYTHONPATH=<other src>`` runs the same
script against another version of the module.

    .venv/bin/python benchmarks/httpsig.py [--n 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import time
from collections.abc import Callable
from unittest import mock

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from jisr.crypto import keys
from jisr.crypto.httpsig import (
    Message,
    check_content_digest,
    content_digest,
    parse_content_digest,
    sign_message,
    signature_base,
    verify_message,
)
from jisr.exchange.gateway import signing

NOW = 1_764_412_345
KEYID = hashlib.sha256(b"member signing certificate").hexdigest()
BODY = b'{"query": {"personCode": "38001085718", "purpose": "residence permit"}}' * 8
URI = "https://gw-b.example.gov:8443/r1/MA/GOV/CIVIL-REGISTRY/REGISTRY/getPerson/v1?id=42"
# What the gateway covers (jisr.exchange.gateway.signing), with Content-Type present.
REQUEST_COMPONENTS = (*signing.REQUEST_COMPONENTS, "content-type")
RESPONSE_COMPONENTS = (*signing.RESPONSE_COMPONENTS, "content-type")
HEADERS = {
    "content-digest": content_digest(BODY),
    "content-type": "application/json",
    "content-length": str(len(BODY)),
    "x-road-client": "MA/GOV/INTERIOR/RESIDENCE",
    "x-road-service": "MA/GOV/CIVIL-REGISTRY/REGISTRY/getPerson/v1",
    "x-road-id": "7c4f0a9e-3b1d-4f7e-9a52-0d6c1e8b2f43",
    "x-road-request-id": "b91e2d7a-55c3-4a8e-8f10-6e2a9c4d7b01",
    "x-road-request-hash": "sha-256=:" + "A" * 43 + "=:",
    "user-agent": "jisr-gateway/1.0",
}


def _best(call: Callable[[], object], n: int, rounds: int) -> float:
    """Best µs per call over ``rounds`` rounds of ``n`` calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(n):
            call()
        best = min(best, (time.perf_counter_ns() - start) / n / 1000)
    return best


def _fields(message: Message, components: tuple[str, ...], key: keys.PrivateKey) -> tuple[str, str]:
    return sign_message(message, components=components, key=key, keyid=KEYID, created=NOW)


def _reordered(
    message: Message, components: tuple[str, ...], key: keys.PrivateKey
) -> tuple[str, str]:
    """Signature-Input and Signature with keyid before created: valid, not sign_message's."""
    inner, _, params = _fields(message, components, key)[0].partition("=")[2].partition(";")
    created, keyid, rest = params.split(";", 2)
    member = f"{inner};{keyid};{created};{rest}"
    r, s = decode_dss_signature(keys.sign(key, signature_base(message, components, member)))
    value = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    return f"jisr={member}", f"jisr=:{value}:"


def _measure(
    message: Message, components: tuple[str, ...], n: int, rounds: int, *, fallback: bool = False
) -> dict[str, float]:
    key = keys.generate_private_key("p256")
    public = key.public_key()
    make = _reordered if fallback else _fields
    signature_input, signature = make(message, components, key)
    resolve = {KEYID: public}.get

    def sign() -> object:
        return _fields(message, components, key)

    def verify() -> object:
        return verify_message(
            message,
            signature_input=signature_input,
            signature=signature,
            resolve_key=resolve,
            required=components,
            now=NOW + 1,
            max_age=300,
        )

    verify()  # it verifies
    # The raw operations, on the very base verify_message rebuilds.
    base = signature_base(message, components, signature_input.partition("=")[2])
    raw = parse_content_digest(f"d={signature.partition('=')[2]}")["d"]
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    times = {
        "sign": _best(sign, n, rounds),
        "raw_sign": _best(lambda: keys.sign(key, base), n, rounds),
        "verify": _best(verify, n, rounds),
        "raw_verify": _best(lambda: keys.verify(public, der, base), n, rounds),
    }

    def stub_sign(key: keys.PrivateKey, data: bytes) -> bytes:
        return der

    def stub_verify(key: keys.PublicKey, signature: bytes, data: bytes) -> bool:
        return True

    # Plain functions, not Mocks: a Mock call costs more than what is measured here.
    with (
        mock.patch.object(keys, "sign", stub_sign),
        mock.patch.object(keys, "verify", stub_verify),
    ):
        times["sign_own"] = _best(sign, n, rounds)
        times["verify_own"] = _best(verify, n, rounds)
    times["sign_minus_raw"] = times["sign"] - times["raw_sign"]
    times["verify_minus_raw"] = times["verify"] - times["raw_verify"]
    times["pair_minus_raw"] = times["sign_minus_raw"] + times["verify_minus_raw"]
    times["pair_own"] = times["sign_own"] + times["verify_own"]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; the best is kept")
    args = parser.parse_args()

    request = Message(method="POST", target_uri=URI, headers=HEADERS)
    response = Message(status=200, headers=HEADERS)
    n, rounds = args.n, args.rounds
    results = {
        "request": _measure(request, REQUEST_COMPONENTS, n, rounds),
        "response": _measure(response, RESPONSE_COMPONENTS, n, rounds),
        "fallback": _measure(request, REQUEST_COMPONENTS, n, rounds, fallback=True),
    }
    computed = {"sha-256": hashlib.sha256(BODY).digest()}
    digest = HEADERS["content-digest"]
    check = _best(lambda: check_content_digest(digest, computed), n * 5, rounds)

    print(f"httpsig, µs per call (best of {rounds} x {n}), ECDSA P-256")
    print(
        f"{'':9} {'sign':>6} {'raw':>6} {'-raw':>6} {'own':>6} | {'verify':>6} {'raw':>6}"
        f" {'-raw':>6} {'own':>6} | pair: {'-raw':>6} {'own':>6}"
    )
    for name, t in results.items():
        print(
            f"{name:9} {t['sign']:6.1f} {t['raw_sign']:6.1f} {t['sign_minus_raw']:6.1f}"
            f" {t['sign_own']:6.1f} | {t['verify']:6.1f} {t['raw_verify']:6.1f}"
            f" {t['verify_minus_raw']:6.1f} {t['verify_own']:6.1f} |"
            f"       {t['pair_minus_raw']:6.1f} {t['pair_own']:6.1f}"
        )
    print(f"check_content_digest: {check:.2f}")
    summary = {
        "benchmark": "httpsig",
        "unit": "us_per_call",
        **{f"{m}_{k}": round(v, 2) for m, t in results.items() for k, v in t.items()},
        "check_content_digest": round(check, 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
