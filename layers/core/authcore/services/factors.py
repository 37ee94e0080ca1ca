"""Which factors a user has verified, and how many a session needs (API.md §4.1)."""

from __future__ import annotations

from typing import Any

from authcore.store.mfa import AUTHENTICATOR


def verified_authenticator(user: dict[str, Any]) -> dict[str, Any] | None:
    authenticator = user.get(AUTHENTICATOR)
    return authenticator if authenticator and authenticator.get("verified") else None


def verified_second_factors(user: dict[str, Any]) -> list[str]:
    factors = []
    if user.get("email") and user.get("emailVerification"):
        factors.append("email")
    if user.get("phone") and user.get("phoneVerification"):
        factors.append("phone")
    if verified_authenticator(user):
        factors.append("totp")
    return factors


def minimum_factors(user: dict[str, Any]) -> int:
    return 2 if user.get("mfa") and verified_second_factors(user) else 1


def needs_more_factors(user: dict[str, Any], session: dict[str, Any]) -> bool:
    return len(set(session.get("factors", []))) < minimum_factors(user)
