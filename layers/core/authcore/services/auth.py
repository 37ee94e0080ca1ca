"""Resolving a presented session credential to the user and session it belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authcore.clock import now_ms
from authcore.errors import ApiError
from authcore.security.tokens import digest
from authcore.store import users as users_store


@dataclass
class Principal:
    """The signed-in caller. Items stay out of repr: the profile holds the password hash."""

    user: dict[str, Any] = field(repr=False)
    session: dict[str, Any] = field(repr=False)
    sessions: list[dict[str, Any]] = field(default_factory=list, repr=False)  # filled only when asked for


def find_session(credential: tuple[str, str], with_all_sessions: bool = False) -> Principal | None:
    """The live session the credential names, or None (unknown, expired or ended)."""
    user_id, secret = credential
    secret_digest = digest(secret)
    now = now_ms()
    if with_all_sessions:
        user, all_sessions = users_store.get_user_with_sessions(user_id)
        live = [s for s in all_sessions if s["expire"] > now]
        session = next((s for s in live if s["digest"] == secret_digest), None)
    else:
        user, session = users_store.get_user_and_session(user_id, secret_digest)
        live = []
        if session and session["expire"] <= now:
            session = None
    if user is None or session is None:
        return None
    return Principal(user=user, session=session, sessions=live)


def authenticate(credential: tuple[str, str] | None, with_all_sessions: bool = False) -> Principal:
    """The caller's principal; 401 without a live session, 401 user_blocked for a blocked account."""
    principal = find_session(credential, with_all_sessions) if credential else None
    if principal is None:
        raise ApiError("general_unauthorized_scope")
    if not principal.user.get("status", True):
        raise ApiError("user_blocked")
    return principal
