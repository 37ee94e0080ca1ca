"""The Users API for server API keys (API.md §6): a support desk acting on one user.

Every action writes one audit record (key name, action, target user, result). Resets of a user's MFA
(MFA off, authenticator removed, recovery codes regenerated) email the user, as their own changes do.

The MFA, notice, passkey, JWT and session services are imported by the actions that use them: each
Users API function is one action, and most need none of them (cold start).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from authcore.clock import now_ms
from authcore.errors import ApiError
from authcore.ids import resolve_id
from authcore.models.caller import Caller
from authcore.models.responses import (
    Account,
    IdentityList,
    Jwt,
    LogList,
    MfaFactors,
    MfaRecoveryCodes,
    Passkey,
    PasskeyList,
    Session,
    SessionList,
    UserList,
)
from authcore.observability import identify, logger
from authcore.services import activity, paging
from authcore.services.accounts import account_model, new_user, set_status
from authcore.services.apikeys import ServerKey
from authcore.services.factors import needs_more_factors
from authcore.store import mfa as mfa_store
from authcore.store import oauth as oauth_store
from authcore.store import sessions as sessions_store
from authcore.store import users as users_store
from authcore.store.errors import ConflictError, StaleError
from authcore.store.mfa import AUTHENTICATOR, RECOVERY_SEALED
from authcore.store.users import guest_flag, verified_at

if TYPE_CHECKING:  # annotations only: a function that takes no body never imports the request models
    from authcore.models.requests import CreateUser, UpdatePasskey

Params = ParamSpec("Params")
Result = TypeVar("Result")
Action = Callable[Concatenate[ServerKey, str, Params], Result]  # (key, userId, …) -> answer


def audit(key: ServerKey, action: str, target_user_id: str, result: str) -> None:
    """The structured audit record of one admin action."""
    record = {"keyName": key.name, "action": action, "targetUserId": target_user_id, "result": result}
    logger.info("audit", extra=record)


def audited(action: str) -> Callable[[Action], Action]:
    """One structured `audit` log record per call of an admin action on (key, userId, …): its result is
    "success" or the error type it answered with."""

    def wrap(action_service: Action) -> Action:
        @wraps(action_service)
        def run(key: ServerKey, user_id: str, *args: Params.args, **kwargs: Params.kwargs) -> Result:
            identify(user_id)
            result = "general_server_error"
            try:
                answer = action_service(key, user_id, *args, **kwargs)
                result = "success"
                return answer
            except ApiError as error:
                result = error.type
                raise
            finally:
                audit(key, action, user_id, result)

        return run

    return wrap


def _user(user_id: str) -> dict[str, Any]:
    user = users_store.get_user(user_id)
    if user is None:
        raise ApiError("user_not_found")
    return user


@audited("users.get")
def get_user(key: ServerKey, user_id: str) -> Account:
    return account_model(_user(user_id))


@audited("users.updateMfa")
def update_mfa(key: ServerKey, user_id: str, enabled: bool, locale: str) -> Account:
    """Turn the user's MFA on or off; no challenge (the operator acts for a user who lost every factor)."""
    from authcore.services import notices

    user = _user(user_id)
    now = now_ms()
    try:
        changed = bool(user.get("mfa")) != enabled
        log = activity.entry(user, activity.MFA_UPDATED, None, activity.ADMIN) if changed else None
        mfa_store.set_mfa(user_id, enabled, now, log=log)
    except StaleError:
        raise ApiError("user_not_found") from None
    if bool(user.get("mfa")) != enabled:
        notices.notify(user, notices.MFA_ENABLED if enabled else notices.MFA_DISABLED, locale)
    return account_model({**user, "mfa": enabled, "updatedAt": now})


@audited("users.listMfaFactors")
def list_factors(key: ServerKey, user_id: str) -> MfaFactors:
    from authcore.services import mfa

    return mfa.factors_of(_user(user_id))


@audited("users.deleteMfaAuthenticator")
def delete_authenticator(key: ServerKey, user_id: str, type_: str, locale: str) -> None:
    from authcore.services import mfa, notices

    mfa.authenticator_type(type_)
    user = _user(user_id)
    authenticator = user.get(AUTHENTICATOR)
    if not authenticator:
        raise ApiError("user_authenticator_not_found")
    try:
        log = activity.entry(user, activity.AUTHENTICATOR_REMOVED, None, activity.ADMIN)
        mfa_store.remove_authenticator(user_id, authenticator["createdAt"], now_ms(), log)
    except StaleError:
        raise ApiError("user_authenticator_not_found") from None
    if authenticator.get("verified"):
        notices.notify(user, notices.AUTHENTICATOR_REMOVED, locale)


@audited("users.getMfaRecoveryCodes")
def get_recovery_codes(key: ServerKey, user_id: str) -> MfaRecoveryCodes:
    from authcore.services import mfa

    return mfa.unused_recovery_codes(_user(user_id))


@audited("users.createMfaRecoveryCodes")
def create_recovery_codes(key: ServerKey, user_id: str) -> MfaRecoveryCodes:
    """Ten codes for a user who has no unused ones (409 otherwise)."""
    from authcore.services import mfa

    user = _user(user_id)
    if mfa.unused_recovery_hashes(user):
        raise ApiError("user_recovery_codes_already_exists")
    try:
        log = activity.entry(user, activity.RECOVERY_CODES_CREATED, None, activity.ADMIN)
        return MfaRecoveryCodes(recoveryCodes=mfa.store_new_codes(user, log))
    except StaleError:
        raise ApiError("user_recovery_codes_already_exists") from None


@audited("users.updateMfaRecoveryCodes")
def regenerate_recovery_codes(key: ServerKey, user_id: str, locale: str) -> MfaRecoveryCodes:
    """A fresh set replacing the user's (whose codes stop working); the user is told."""
    from authcore.services import mfa, notices

    user = _user(user_id)
    if RECOVERY_SEALED not in user:
        raise ApiError("user_recovery_codes_not_found")
    try:
        log = activity.entry(user, activity.RECOVERY_CODES_REGENERATED, None, activity.ADMIN)
        recovery_codes = mfa.store_new_codes(user, log)
    except StaleError:
        raise ApiError("user_recovery_codes_already_exists", "Recovery codes were just regenerated.") from None
    notices.notify(user, notices.RECOVERY_CODES_REGENERATED, locale)
    return MfaRecoveryCodes(recoveryCodes=recovery_codes)


def _with_sessions(user_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The profile and the user's live sessions, oldest first (one Query)."""
    user, sessions = users_store.get_user_with_sessions(user_id)
    if user is None:
        raise ApiError("user_not_found")
    now = now_ms()
    return user, sorted((s for s in sessions if s["expire"] > now), key=lambda s: s["createdAt"])


@audited("users.listSessions")
def list_sessions(key: ServerKey, user_id: str) -> SessionList:
    from authcore.services.sessions import session_model

    models = [session_model(s, current=False) for s in _with_sessions(user_id)[1]]
    return SessionList(total=len(models), sessions=models, data=models)


@audited("users.deleteSession")
def delete_session(key: ServerKey, user_id: str, session_id: str) -> None:
    user, sessions = _with_sessions(user_id)
    found = next((s for s in sessions if s["sessionId"] == session_id), None)
    if found is None:
        raise ApiError("user_session_not_found")
    log = activity.entry(user, activity.SESSION_DELETED, None, activity.ADMIN)
    sessions_store.end_sessions(user_id, [found["digest"]], log=log)


@audited("users.deleteSessions")
def delete_sessions(key: ServerKey, user_id: str) -> None:
    """End every session of the user (also expired ones still listed on the profile)."""
    user, sessions = _with_sessions(user_id)
    digests = {s["digest"] for s in sessions} | set(user.get("sessions", {}))
    log = activity.entry(user, activity.SESSION_DELETED, None, activity.ADMIN)
    sessions_store.end_sessions(user_id, sorted(digests), log=log)


RECENT = ("recent()", "recent")  # Appwrite's name for the most recent session (older servers: "recent")


@audited("users.createJWT")
def create_jwt(key: ServerKey, user_id: str, session_id: str, duration: float, issuer: str) -> Jwt:
    """A JWT for one of the user's live sessions that passed the MFA gate: the one named, or the most
    recent such session. Stricter than Appwrite, which signs a session-less JWT for a user without one:
    ours always names a session, so ending it (or blocking the user) refuses the token here."""
    from authcore.services import jwts

    user, sessions = _with_sessions(user_id)
    if not user.get("status", True):
        raise ApiError("user_blocked")
    if session_id in RECENT:
        complete = [s for s in sessions if not needs_more_factors(user, s)]
        session = complete[-1] if complete else None
    else:
        session = next((s for s in sessions if s["sessionId"] == session_id), None)
        if session is not None and needs_more_factors(user, session):
            raise ApiError("user_more_factors_required")
    if session is None:
        raise ApiError("user_session_not_found")
    return jwts.mint(user, session, duration, issuer)


# --- passkeys: a lost one is removed by the support desk --------------------------------------------


@audited("users.listPasskeys")
def list_passkeys(key: ServerKey, user_id: str, queries: list[str]) -> PasskeyList:
    from authcore.services import passkeys

    return passkeys.passkey_list(_user(user_id), queries)


@audited("users.getPasskey")
def get_passkey(key: ServerKey, user_id: str, passkey_id: str) -> Passkey:
    from authcore.services import passkeys

    return passkeys.passkey_model(passkey_id, passkeys.found(_user(user_id), passkey_id))


@audited("users.updatePasskey")
def update_passkey(key: ServerKey, user_id: str, passkey_id: str, body: UpdatePasskey) -> Passkey:
    from authcore.services import passkeys

    return passkeys.rename_passkey(_user(user_id), passkey_id, body)


@audited("users.deletePasskey")
def delete_passkey(key: ServerKey, user_id: str, passkey_id: str, locale: str) -> None:
    """No challenge (the operator acts for a user who lost the passkey); the user is told, as always."""
    from authcore.services import passkeys

    passkeys.remove_passkey(_user(user_id), passkey_id, locale)


# --- users ---------------------------------------------------------------------------------------

WRITE_ATTEMPTS = 5


def create_user(key: ServerKey, body: CreateUser) -> Account:
    """A user as sign-up makes one, with any of email, phone and password (Appwrite's users.create)."""
    return _create_user(key, resolve_id(body.userId), body)


@audited("users.create")
def _create_user(key: ServerKey, user_id: str, body: CreateUser) -> Account:
    user = new_user(
        user_id,
        by_guest=False,  # the operator vouches for the addresses: their first proof wipes nothing
        email=body.email or "",
        phone=body.phone or "",
        name=body.name,
        password=body.password or "",
    )
    try:
        users_store.create_user(user)
    except ConflictError:
        raise ApiError("user_already_exists") from None
    return account_model(user)


def _matches(user: dict[str, Any], search: str) -> bool:
    needle = search.strip().lower()
    return not needle or any(needle in str(user.get(f, "")).lower() for f in ("userId", "name", "email", "phone"))


def list_users(key: ServerKey, queries: list[str], search: str) -> UserList:
    """Users oldest first, filtered by `search` (in id, name, email or phone), with limit and offset.
    Reads every profile (a Scan): see users_store.scan_profiles for its cost."""
    limit, offset = paging.limit_offset(queries, paging.MAX_LIMIT)
    found = sorted((u for u in users_store.scan_profiles() if _matches(u, search)), key=lambda u: u["createdAt"])
    audit(key, "users.list", "", "success")
    return UserList(total=len(found), users=[account_model(u) for u in found[offset : offset + limit]])


def list_identities(key: ServerKey, queries: list[str], search: str) -> IdentityList:
    """Every user's identities, oldest first, filtered by `search` (provider, its user id or email, or
    userId), with limit and offset. Reads the whole table (a Scan), as list_users does."""
    from authcore.services.oauth import identity_list

    limit, offset = paging.limit_offset(queries, paging.MAX_LIMIT)
    needle = search.strip().lower()
    fields = ("userId", "provider", "providerUid", "providerEmail")
    found = [i for i in oauth_store.all_identities() if not needle or any(needle in str(i[f]).lower() for f in fields)]
    listed = identity_list(found)
    audit(key, "identities.list", "", "success")
    return IdentityList(total=listed.total, identities=listed.identities[offset : offset + limit])


def delete_identity(key: ServerKey, identity_id: str) -> None:
    """Unlink an identity from its user, whoever that is (found by a Scan)."""
    identity = next((i for i in oauth_store.all_identities() if i["identityId"] == identity_id), None)
    deleted = identity is not None and oauth_store.delete_identity(identity)
    audit(
        key,
        "identities.delete",
        identity["userId"] if identity else "",
        "success" if deleted else "user_identity_not_found",
    )
    if not deleted:
        raise ApiError("user_identity_not_found")


@audited("users.delete")
def delete_user(key: ServerKey, user_id: str) -> None:
    """The profile and its email/phone index items at once, then the user's sessions, tokens and challenges."""
    for _ in range(WRITE_ATTEMPTS):
        user = _user(user_id)
        try:
            users_store.delete_user(user)
            return
        except StaleError:
            continue  # the email or phone changed meanwhile: read the user again
    raise ApiError("general_rate_limit_exceeded", "Too many simultaneous changes. Please try again.")


def _set(user_id: str, changes: dict[str, Any]) -> Account:
    user = users_store.update_existing_user(user_id, {**changes, "updatedAt": now_ms()})
    if user is None:
        raise ApiError("user_not_found")
    return account_model(user)


@audited("users.updateStatus")
def update_status(key: ServerKey, user_id: str, status: bool, caller: Caller) -> Account:
    """Block (false) or unblock a user: blocking ends every session, later sign-ins answer 401 user_blocked."""
    user, sessions = _with_sessions(user_id)
    digests = {s["digest"] for s in sessions} | set(user.get("sessions", {}))
    return set_status(user, sorted(digests), status, caller, activity.ADMIN)


@audited("users.updateEmailVerification")
def update_email_verification(key: ServerKey, user_id: str, verified: bool) -> Account:
    return _set(user_id, _verification("email", verified))


@audited("users.updatePhoneVerification")
def update_phone_verification(key: ServerKey, user_id: str, verified: bool) -> Account:
    return _set(user_id, _verification("phone", verified))


def _verification(kind: str, verified: bool) -> dict[str, Any]:
    """The operator vouching for an address is a proof of it (from now: no earlier session may step up with it)."""
    if not verified:
        return {f"{kind}Verification": False}
    return {f"{kind}Verification": True, guest_flag(kind): False, verified_at(kind): now_ms()}


@audited("users.createSession")
def create_session(key: ServerKey, user_id: str, caller: Caller) -> Session:
    """A session made by the server (provider "server"), answered with its credential as `secret`.
    Its one factor is "server": for a user with MFA on, the MFA gate still asks for a second one."""
    from authcore.services.sessions import start_session

    user = _user(user_id)
    if not user.get("status", True):
        raise ApiError("user_blocked")
    new = start_session(user, caller, "server", ["server"])
    return new.session.model_copy(update={"secret": new.credential, "current": False})  # not the caller's own


@audited("users.listLogs")
def list_logs(key: ServerKey, user_id: str, queries: list[str]) -> LogList:
    """The user's activity log, as the user sees it (404 for an unknown user)."""
    _user(user_id)
    return activity.list_logs(user_id, queries)
