"""Passwords: Argon2id hashing (RFC 9106) and the password policy.

Passwords are NFKC-normalised before hashing and checking (NIST SP 800-63B §5.1.1.2), so
the same password typed on different keyboards verifies.
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from jisr.identity.authn.errors import WeakPassword
from jisr.identity.authn.settings import Argon2Settings, AuthnSettings

__all__ = [
    "COMMON_PASSWORDS",
    "check_password",
    "hash_password",
    "hasher",
    "needs_rehash",
    "password_problems",
    "verify_password",
]

# Frequent passwords of twelve characters or more (from published breach top lists), plus
# the obvious local ones. Compared case-insensitively; the length rule catches the rest.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "111111111111",
        "000000000000",
        "123123123123",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "qwertyuiop12",
        "qwertyuiopasdf",
        "qwertyuiopasdfgh",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "azertyuiop12",
        "azertyuiopqsd",
        "iloveyou1234",
        "abcdefghijkl",
        "abc123456789",
        "aaaaaaaaaaaa",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "administrator",
        "motdepasse123",
        "motdepasse1234",
        "bismillah123",
        "bismillah1234",
        "alhamdulillah",
        "morocco12345",
        "maroc1234567",
        "qatar1234567",
        "jisrpassword",
    }
)


def hasher(settings: Argon2Settings) -> PasswordHasher:
    """An Argon2id hasher with ``settings``' cost."""
    return PasswordHasher(
        time_cost=settings.time_cost,
        memory_cost=settings.memory_cost_kib,
        parallelism=settings.parallelism,
        hash_len=settings.hash_len,
        salt_len=settings.salt_len,
        type=Type.ID,
    )


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str, settings: Argon2Settings) -> str:
    """The PHC string (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``) of ``password``."""
    return hasher(settings).hash(_normalise(password))


# Verification reads the cost from the PHC string; one stateless hasher serves every call
# (building one per call cost ~1.6% of a login in benchmarks/idp.py's profile).
_VERIFIER = PasswordHasher()


def verify_password(encoded: str, password: str) -> bool:
    """Whether ``password`` matches ``encoded``; the cost is read from ``encoded`` itself."""
    try:
        return _VERIFIER.verify(encoded, _normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str, settings: Argon2Settings) -> bool:
    """Whether ``encoded`` was made with other parameters than ``settings`` (rehash on login)."""
    return hasher(settings).check_needs_rehash(encoded)


def password_problems(password: str, *, nin: str, settings: AuthnSettings) -> list[str]:
    """Every policy rule ``password`` breaks, as sentences for the person; empty when fine."""
    password = _normalise(password)
    folded = password.casefold()
    problems = []
    if len(password) < settings.password_min_length:
        problems.append(f"use at least {settings.password_min_length} characters")
    if len(password) > settings.password_max_length:
        problems.append(f"use at most {settings.password_max_length} characters")
    if folded in COMMON_PASSWORDS:
        problems.append("this password is among the most common ones")
    compact_nin = "".join(nin.split()).casefold()
    if compact_nin and compact_nin in "".join(folded.split()):
        problems.append("do not include your national identification number")
    return problems


def check_password(password: str, *, nin: str, settings: AuthnSettings) -> None:
    """Raise :class:`WeakPassword` with every reason if ``password`` breaks the policy."""
    problems = password_problems(password, nin=nin, settings=settings)
    if problems:
        raise WeakPassword(problems)
