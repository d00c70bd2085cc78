"""RFC 8785 JSON Canonicalization Scheme (JCS): the one way Jisr turns JSON into bytes to sign.

Everything that is hashed or signed as JSON goes through :func:`canonical_json`, so a
producer and a consumer that parse and re-serialise a value agree on its bytes.

Exceptions::

    ValueError
     └── CanonicalizationError      (rfc8785) value outside I-JSON: NaN/Infinity, an integer
          ├── IntegerDomainError     beyond ±(2**53 - 1), a non-string key, a lone surrogate,
          └── FloatDomainError       or a type JSON does not have
"""

from typing import Any

import rfc8785
from rfc8785 import CanonicalizationError

__all__ = ["CanonicalizationError", "canonical_json"]


def canonical_json(value: Any) -> bytes:
    """Serialise ``value`` (dicts, lists/tuples, str, int, float, bool, None) per RFC 8785.

    RFC 8785 §3.2.3: object members sorted by the UTF-16 code units of their names;
    §3.2.2.3: numbers in ECMAScript form (``1e+30``, ``0.000001``, ``-0`` → ``0``);
    §3.2.2.2: strings with minimal escaping, emitted as UTF-8.
    """
    result: bytes = rfc8785.dumps(value)
    return result
