"""Anonymous sessions (API.md §8): a session of a new user without email, phone or password.

The account becomes a normal one when the session sets an email (PATCH /account/email, with `password: ""`
as it has none) and a password (PATCH /account/password, without `oldPassword`), as on Appwrite. An anonymous
session proves nobody, so an address it sets counts as a guest's until one is proven (accounts._set_by_guest):
its first proof by code or link still ends what a squatter set up (API.md §7). Until an address is set, the
profile carries a DynamoDB
TTL: the expiry of its longest-lived session (store.sessions.EXPIRES), so an abandoned anonymous account
(no live session left: it expired, or was deleted and never renewed) disappears when its last session
would have ended, with nothing left that could sign in to it.
"""

from __future__ import annotations

from authcore.clock import now_ms
from authcore.config import settings
from authcore.errors import ApiError
from authcore.ids import unique_id
from authcore.models.caller import Caller
from authcore.services import limits
from authcore.services.accounts import new_user
from authcore.services.auth import find_session
from authcore.services.sessions import NewSession, sign_in, start_session
from authcore.store import users as users_store
from authcore.store.sessions import EXPIRES

# New anonymous accounts per source address and hour: as many as sign-ups (API.md §5, POST /account).
PER_IP_HOURLY = 10


@sign_in("anonymous")
def create_anonymous_session(caller: Caller) -> NewSession:
    """Create an anonymous user and its session (limited per source address)."""
    if caller.credential and find_session(caller.credential):
        raise ApiError("user_session_already_exists")
    limits.enforce("anonymous-session", caller.ip, PER_IP_HOURLY)
    user = new_user(unique_id(), by_guest=True)
    # The session's expiry, near enough: its own write makes it exact (and a profile whose session was
    # never written expires all the same).
    user[EXPIRES] = now_ms() // 1000 + settings().session_lifetime_seconds
    users_store.create_user(user)
    # Appwrite's factor name for this session: it passes the gate of an account with no second factor.
    return start_session(user, caller, "anonymous", ["anonymous"])
