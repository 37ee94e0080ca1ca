"""Sessions: password sign-in, listing, extending and ending them (API.md §4.4, §7).

A session that still needs factors (the MFA gate stops it) is *incomplete* (`pending` on its item and
its entry in the profile's sessions map) until a challenge completes it: it lives at most 15 minutes,
never ends a complete session through the cap, and may end only itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec

from authcore import observability
from authcore.clock import iso, now_ms
from authcore.config import settings
from authcore.errors import ApiError
from authcore.ids import unique_id
from authcore.models.caller import Caller
from authcore.models.responses import Session, SessionList
from authcore.security.passwords import hash_password, needs_rehash, verify_password
from authcore.security.tokens import digest, encode_credential, new_secret
from authcore.services import activity, limits
from authcore.services.auth import Principal, find_session
from authcore.services.factors import needs_more_factors
from authcore.store import sessions as sessions_store
from authcore.store import users as users_store
from authcore.store.errors import SpentError, StaleError
from authcore.store.sessions import SessionCompletion
from authcore.store.tokens import TokenUse

if TYPE_CHECKING:  # annotations only: a function that takes no body never imports the request models
    from authcore.models.requests import EmailPasswordSession

MAX_SESSIONS = 10
MAX_INCOMPLETE = 10  # incomplete sessions the cap may leave beyond MAX_SESSIONS, the oldest ending first
INCOMPLETE_LIFETIME_MS = 15 * 60 * 1000
WRITE_ATTEMPTS = 5


@dataclass(frozen=True)
class NewSession:
    """A created session: its model, the credential for cookies, and when they expire (epoch ms): the end of
    the session's full lifetime, which an incomplete session reaches only once completed."""

    session: Session
    credential: str
    expire: int


Params = ParamSpec("Params")


def sign_in(method: str) -> Callable[[Callable[Params, NewSession]], Callable[Params, NewSession]]:
    """Count each attempt of a sign-in service as SignInSucceeded or SignInFailed (any refusal)."""

    def counted(sign_in_service: Callable[Params, NewSession]) -> Callable[Params, NewSession]:
        @wraps(sign_in_service)
        def attempt(*args: Params.args, **kwargs: Params.kwargs) -> NewSession:
            try:
                new = sign_in_service(*args, **kwargs)
            except ApiError:
                observability.count("SignInFailed", method=method)
                raise
            observability.count("SignInSucceeded", method=method)
            return new

        return attempt

    return counted


# Session fields describing the client: "" (unknown) until User-Agent parsing exists. The session
# keeps the raw User-Agent, so they can be filled in later without losing anything.
CLIENT_FIELDS = (
    "osCode", "osName", "osVersion", "clientType", "clientCode", "clientName", "clientVersion",
    "clientEngine", "clientEngineVersion", "deviceName", "deviceBrand", "deviceModel",
)  # fmt: skip


def session_model(item: dict[str, Any], current: bool) -> Session:
    return Session(
        id=item["sessionId"],
        createdAt=iso(item["createdAt"]),
        updatedAt=iso(item["updatedAt"]),
        userId=item["userId"],
        expire=iso(item["expire"]),
        provider=item["provider"],
        providerUid=item.get("providerUid", ""),
        providerAccessToken="",
        providerAccessTokenExpiry="",
        providerRefreshToken="",
        ip=item.get("ip", ""),
        countryCode="",
        countryName="",
        current=current,
        factors=item.get("factors", []),
        secret="",  # the Session model's secret is always "" on the wire  # nosec B106
        mfaUpdatedAt=iso(item.get("mfaUpdatedAt")),
        **dict.fromkeys(CLIENT_FIELDS, ""),
    )


def _evictions(user: dict[str, Any], now: int, pending: bool = False, completing: str = "") -> list[str]:
    """The sessions a new one ends: the expired ones, then the oldest live ones over the cap (API.md §7).

    A complete session (or the incomplete one `completing` now) keeps the user at MAX_SESSIONS, ending the
    oldest incomplete sessions first. An incomplete one never ends a complete one: it ends only the oldest
    incomplete ones beyond MAX_INCOMPLETE, so the map stays bounded (MAX_SESSIONS + MAX_INCOMPLETE).
    """
    entries = {d: e for d, e in user.get("sessions", {}).items() if d != completing}  # never itself
    expired = [d for d, e in entries.items() if e["expire"] <= now]
    live = sorted((e["createdAt"], d) for d, e in entries.items() if e["expire"] > now)
    incomplete = [d for _, d in live if entries[d].get("pending")]
    if pending:
        return expired + incomplete[: max(len(incomplete) - (MAX_INCOMPLETE - 1), 0)]
    complete = [d for _, d in live if not entries[d].get("pending")]
    return expired + (incomplete + complete)[: max(len(live) - (MAX_SESSIONS - 1), 0)]


def duration_ms(session: dict[str, Any]) -> int:
    """The lifetime a session was created with (sessions stored before it was recorded: the span they were
    given), within the configured lifetime as it is now."""
    full = settings().session_lifetime_seconds * 1000
    return int(min(full, session.get("duration") or session["expire"] - session["createdAt"]))


def lifetime_ms(session: dict[str, Any]) -> int:
    """How long a session lives from its creation or extension: its duration, at most 15 minutes if incomplete."""
    return min(duration_ms(session), INCOMPLETE_LIFETIME_MS) if session.get("pending") else duration_ms(session)


def completion(user: dict[str, Any], session: dict[str, Any], factors: list[str], now: int) -> SessionCompletion | None:
    """What an incomplete session that now has `factors` becomes, if they pass the gate: its full lifetime
    counted from its creation (as if it had been complete from the start; never shorter than it has now),
    and the sessions the cap ends for it (as for a new complete session). None otherwise."""
    if not session.get("pending") or needs_more_factors(user, {"factors": factors}):
        return None
    evict = _evictions(user, now, completing=session["digest"])
    expire = max(session["expire"], session["createdAt"] + duration_ms(session))
    return SessionCompletion(user["userId"], session["digest"], expire, evict, user.get(sessions_store.SESSIONS_REV, 0))


def start_session(
    user: dict[str, Any],
    caller: Caller,
    provider: str,
    factors: list[str],
    provider_uid: str = "",
    sign_in_counter: tuple[str, int, str] | None = None,
    token_use_for: Callable[[dict[str, Any]], TokenUse] | None = None,
    end_all_sessions: bool = False,
    lifetime_seconds: float | None = None,
) -> NewSession:
    """Create a session for `user`, ending the oldest beyond the cap. Shared by every sign-in method.

    `token_use_for(user)` gives the one-time code spent in the same write; it is asked again with the
    fresh profile when a concurrent write makes this one retry (and may refuse by raising).
    `end_all_sessions` ends every other session of the user in the same write. `lifetime_seconds`
    shortens the session (never beyond the configured lifetime). A session the MFA gate stops is
    incomplete, and its sign-in does not reset the password counter: a password alone cannot repeat
    sign-ins forever.
    """
    secret = new_secret()
    now = now_ms()
    full = settings().session_lifetime_seconds
    duration = int(min(lifetime_seconds or full, full) * 1000)
    pending = not end_all_sessions and needs_more_factors(user, {"factors": factors})
    item = {
        "digest": digest(secret),
        "sessionId": unique_id(),
        "userId": user["userId"],
        "createdAt": now,
        "updatedAt": now,
        "duration": duration,
        **({"pending": True} if pending else {}),
        "provider": provider,
        "providerUid": provider_uid,
        "ip": caller.ip,
        "userAgent": caller.user_agent[:512],
        "factors": factors,
        "mfaUpdatedAt": 0,
    }
    item["expire"] = now + lifetime_ms(item)
    item["ttl"] = item["expire"] // 1000
    if pending:
        sign_in_counter = None
    mode = activity.ADMIN if provider == "server" else activity.USER
    log = activity.entry(user, activity.SESSION_CREATED, caller, mode)
    for _ in range(WRITE_ATTEMPTS):
        try:
            token_use = token_use_for(user) if token_use_for else None
            evict = sorted(user.get("sessions", {})) if end_all_sessions else _evictions(user, now, pending)
            sessions_store.create_session(user, item, evict, sign_in_counter, token_use, log)
            break
        except SpentError:
            raise ApiError("user_invalid_token") from None
        except StaleError:
            # Another sign-in of this user won the race: read its result and try again.
            fresh = users_store.get_user(user["userId"])
            if fresh is None:
                raise ApiError("user_invalid_credentials") from None
            user = fresh
    else:
        raise limits.contended("Too many simultaneous sign-ins. Please try again.")
    credential = encode_credential(user["userId"], secret)
    return NewSession(session_model(item, current=True), credential, now + duration)


@sign_in("password")
def create_email_password_session(body: EmailPasswordSession, caller: Caller) -> NewSession:
    """Password sign-in. Unknown email, wrong password and limits answer alike for known and unknown emails.

    Attempts are limited per (email, source address) and per email with a far higher ceiling (API.md
    §7), so one address cannot lock the owner out; a success gives its own attempt back and clears
    its source's count, never anything else (no code count: those guard other paths).
    """
    if caller.credential and find_session(caller.credential):
        raise ApiError("user_session_already_exists")
    hour = int(time.time()) // limits.HOUR
    source = users_store.sign_in_source(caller.ip)
    status, index, limit = users_store.count_sign_in_attempt(
        body.email, source, hour, limits.SOURCE_LIMIT, limits.KEY_LIMIT
    )
    if status == "unknown":
        limits.enforce_all(*limits.per_source("sign-in-unknown", body.email, caller.ip))
        verify_password(None, body.password)
        raise ApiError("user_invalid_credentials")
    if status == "limited":
        raise limits.rate_limited(limit, (hour + 1) * limits.HOUR)
    user = users_store.get_user(index["userId"])
    if user is None:
        raise ApiError("user_invalid_credentials")
    if not verify_password(user.get("passwordHash"), body.password):
        activity.record(user, activity.SIGN_IN_FAILED, caller)
        raise ApiError("user_invalid_credentials")
    if not user.get("status", True):
        raise ApiError("user_blocked")
    if needs_rehash(user["passwordHash"]):
        user = users_store.update_user(user["userId"], {"passwordHash": hash_password(body.password)})
    return start_session(
        user,
        caller,
        "email",
        ["password"],
        provider_uid=body.email,
        sign_in_counter=(body.email, hour, source),
        lifetime_seconds=body.duration,
    )


def list_sessions(principal: Principal) -> SessionList:
    current = principal.session["digest"]
    models = [
        session_model(s, s["digest"] == current) for s in sorted(principal.sessions, key=lambda s: s["createdAt"])
    ]
    return SessionList(total=len(models), sessions=models, data=models)


def _find(principal: Principal, session_id: str) -> dict[str, Any]:
    if session_id == "current":
        return principal.session
    found = next((s for s in principal.sessions if s["sessionId"] == session_id), None)
    if found is None:
        raise ApiError("user_session_not_found")
    return found


def get_session(principal: Principal, session_id: str) -> Session:
    item = _find(principal, session_id)
    return session_model(item, item["digest"] == principal.session["digest"])


def update_session(principal: Principal, session_id: str) -> Session:
    """Renew a session's lifetime from now: the duration it was created with, never more (API.md §7)."""
    item = _find(principal, session_id)
    now = now_ms()
    expire = now + lifetime_ms(item)
    try:
        sessions_store.extend_session(principal.user, item["digest"], expire, now)
    except StaleError:
        raise ApiError("user_session_not_found") from None
    return session_model({**item, "expire": expire, "updatedAt": now}, item["digest"] == principal.session["digest"])


def delete_session(principal: Principal, session_id: str, caller: Caller) -> bool:
    """End one session; True when it was the caller's own (its cookies must go too).

    A session the MFA gate stops may end only itself: any other id, existing or not, gets the gate's
    answer before it is looked up, so the answer says nothing about the id.
    """
    if session_id not in ("current", principal.session["sessionId"]) and needs_more_factors(
        principal.user, principal.session
    ):
        raise ApiError("user_more_factors_required")
    item = _find(principal, session_id)
    log = activity.entry(principal.user, activity.SESSION_DELETED, caller)
    sessions_store.end_sessions(item["userId"], [item["digest"]], log=log)
    return item["digest"] == principal.session["digest"]


def delete_sessions(principal: Principal, caller: Caller, current: bool = True) -> None:
    """End every session of the user; with `current` false, every one but the caller's."""
    digests = {s["digest"] for s in principal.sessions} | set(principal.user.get("sessions", {}))
    if not current:
        digests.discard(principal.session["digest"])
    log = activity.entry(principal.user, activity.SESSION_DELETED, caller)
    sessions_store.end_sessions(principal.user["userId"], sorted(digests), log=log)
