"""Resolving a presented session credential to the user and session it belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authcore.clock import now_ms
from authcore.errors import ApiError
from authcore.models.caller import JwtCredential
from authcore.security.tokens import digest
from authcore.store import users as users_store


@dataclass
class Principal:
    """The signed-in caller. Items stay out of repr: the profile holds the password hash."""

    user: dict[str, Any] = field(repr=False)
    session: dict[str, Any] = field(repr=False)
    sessions: list[dict[str, Any]] = field(default_factory=list, repr=False)  # filled only when asked for
    items: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)  # other items asked for, by sort key


def _load(
    user_id: str, secret_digest: str, with_all_sessions: bool = False, also: tuple[str, ...] = ()
) -> tuple[dict[str, Any] | None, Principal | None]:
    """The user the credential names (None if unknown) and the live session's principal (None if none)."""
    now = now_ms()
    items: dict[str, dict[str, Any]] = {}
    if with_all_sessions:
        user, all_sessions = users_store.get_user_with_sessions(user_id)
        live = [s for s in all_sessions if s["expire"] > now]
        session = next((s for s in live if s["digest"] == secret_digest), None)
    else:
        if also:
            user, session, items = users_store.get_user_session_and(user_id, secret_digest, *also)
        else:
            user, session = users_store.get_user_and_session(user_id, secret_digest)
        live = []
        if session and session["expire"] <= now:
            session = None
    if user is None or session is None:
        return user, None
    return user, Principal(user=user, session=session, sessions=live, items=items)


def _load_credential(
    credential: tuple[str, str] | JwtCredential, with_all_sessions: bool, also: tuple[str, ...]
) -> tuple[dict[str, Any] | None, Principal | None]:
    """_load for a session credential or a JWT. A JWT costs one round trip more: its session is found by id
    through the profile (services/jwts.py); one that names nothing gives (None, None)."""
    if isinstance(credential, JwtCredential):
        from authcore.services import jwts

        found = jwts.session_of(credential)
        return _load(*found, with_all_sessions, also) if found else (None, None)
    user_id, secret = credential
    return _load(user_id, digest(secret), with_all_sessions, also)


def find_session(
    credential: tuple[str, str] | JwtCredential, with_all_sessions: bool = False, also: tuple[str, ...] = ()
) -> Principal | None:
    """The live session the credential names, or None (unknown, expired or ended).

    `also` names more items of the user's partition (by sort key) to read in the same round trip.
    """
    return _load_credential(credential, with_all_sessions, also)[1]


def _checked(user: dict[str, Any] | None, principal: Principal | None) -> Principal:
    """A blocked user's credential answers user_blocked even when blocking ended its session (it always
    does): the app learns why, as with Appwrite, whose blocks keep sessions."""
    if user is not None and not user.get("status", True):
        raise ApiError("user_blocked")
    if principal is None:
        raise ApiError("general_unauthorized_scope")
    return principal


def authenticate(
    credential: tuple[str, str] | JwtCredential | None, with_all_sessions: bool = False, also: tuple[str, ...] = ()
) -> Principal:
    """The caller's principal; 401 without a live session, 401 user_blocked for a blocked account."""
    if not credential:
        raise ApiError("general_unauthorized_scope")
    return _checked(*_load_credential(credential, with_all_sessions, also))


def reload(principal: Principal, also: tuple[str, ...] = ()) -> Principal:
    """The same session read again (after a concurrent write changed it), with the same checks."""
    return _checked(*_load(principal.user["userId"], principal.session["digest"], also=also))
