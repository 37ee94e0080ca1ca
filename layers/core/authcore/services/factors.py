"""Which factors a user has verified, and how many a session needs (API.md §4.1)."""

from __future__ import annotations

from typing import Any

from authcore.errors import ApiError
from authcore.store.mfa import AUTHENTICATOR, PASSKEYS, RECOVERY_CREATED_AT, STEP_UP_AT
from authcore.store.users import verified_at

RECENT_CHALLENGE_MS = 10 * 60 * 1000  # what "recent" means for a sign-in or a step-up challenge (API.md §7)


def require_recent_sign_in(session: dict[str, Any], now: int) -> None:
    """401 user_challenge_required unless this session signed in, or completed a step-up challenge (API.md
    §7), in the last 10 minutes: a session stolen later cannot add a way to sign in (a passkey, a provider
    account) or remove one."""
    recent = now - RECENT_CHALLENGE_MS
    if session["createdAt"] <= recent and session.get(STEP_UP_AT, 0) <= recent:
        raise ApiError("user_challenge_required")


def verified_authenticator(user: dict[str, Any]) -> dict[str, Any] | None:
    authenticator = user.get(AUTHENTICATOR)
    return authenticator if authenticator and authenticator.get("verified") else None


def usable_passkeys(user: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The user's passkeys that may sign in: all but those whose counter went back (suspect)."""
    return {pid: p for pid, p in (user.get(PASSKEYS) or {}).items() if not p.get("suspect")}


def verified_second_factors(user: dict[str, Any]) -> list[str]:
    factors = []
    if user.get("email") and user.get("emailVerification"):
        factors.append("email")
    if user.get("phone") and user.get("phoneVerification"):
        factors.append("phone")
    if verified_authenticator(user):
        factors.append("totp")
    if usable_passkeys(user):
        factors.append("passkey")
    return factors


def minimum_factors(user: dict[str, Any]) -> int:
    return 2 if user.get("mfa") and verified_second_factors(user) else 1


def factor_count(factors: list[str]) -> int:
    """Distinct factors proven; a passkey counts twice: the authenticator is something the user has, and
    its required user verification (PIN or biometric) something they know or are (API.md §9)."""
    return len(set(factors)) + ("passkey" in factors)


def needs_more_factors(user: dict[str, Any], session: dict[str, Any]) -> bool:
    return factor_count(session.get("factors", [])) < minimum_factors(user)


def predates_session(user: dict[str, Any], session: dict[str, Any], factor: str, passkey_id: str = "") -> bool:
    """The factor existed before the session began (API.md §7): an address verified, an authenticator
    verified, recovery codes created before it, the passkey (`passkey_id`) that answered registered before
    it. Only a challenge with such a factor is a step-up: a
    factor the session made itself proves nothing more than the session. Items written before these
    times were stored count as older than any session."""
    if factor in ("email", "phone"):
        since = user.get(verified_at(factor), 0)
    elif factor == "totp":
        authenticator = verified_authenticator(user) or {}
        since = authenticator.get("verifiedAt", authenticator.get("createdAt", 0))
    elif factor == "passkey":
        since = usable_passkeys(user).get(passkey_id, {}).get("createdAt", session["createdAt"])
    else:
        since = user.get(RECOVERY_CREATED_AT, 0)
    return since < session["createdAt"]
