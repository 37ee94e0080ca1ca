"""Argon2id password hashing at the OWASP minimum (19 MiB, t=2, p=1)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher  # on first use: most functions never hash, and their cold start skips it

    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)


@cache
def _dummy_hash() -> str:
    """A real hash of nothing anyone knows: unknown emails pay the same verify cost."""
    return _hasher().hash("unknown-account-placeholder")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; an absent hash still costs one full verification."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
