"""Accounts: sign-up, profile changes, preferences (API.md §4.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authcore.clock import iso, now_ms
from authcore.errors import ApiError
from authcore.ids import resolve_id
from authcore.models import json_limits
from authcore.models.caller import Caller
from authcore.models.responses import Account, Preferences
from authcore.observability import logger
from authcore.security.passwords import hash_password, verify_password
from authcore.services import activity, limits
from authcore.services.auth import Principal
from authcore.store import sessions as sessions_store
from authcore.store import users as users_store
from authcore.store.errors import ConflictError, StaleError
from authcore.store.users import guest_flag

if TYPE_CHECKING:  # annotations only: a function that takes no body never imports the request models
    from authcore.models.requests import (
        CreateAccount,
        UpdateEmail,
        UpdateName,
        UpdatePassword,
        UpdatePhone,
        UpdatePrefs,
    )


def account_model(user: dict[str, Any]) -> Account:
    return Account(
        id=user["userId"],
        createdAt=iso(user["createdAt"]),
        updatedAt=iso(user["updatedAt"]),
        name=user.get("name", ""),
        registration=iso(user["createdAt"]),
        status=user.get("status", True),
        labels=user.get("labels", []),
        passwordUpdate=iso(user.get("passwordUpdate")),
        email=user.get("email", ""),
        phone=user.get("phone", ""),
        emailVerification=user.get("emailVerification", False),
        phoneVerification=user.get("phoneVerification", False),
        mfa=user.get("mfa", False),
        prefs=stored_prefs(user),
        targets=[],
        accessedAt=iso(user.get("accessedAt")),
    )


def stored_prefs(user: dict[str, Any]) -> dict[str, Any]:
    """The user's prefs as stored. Prefs beyond the input limits (API.md §7), which an older version
    stored, are answered as {} (and left in the table until the user sets new ones): a lone surrogate
    or deep nesting would otherwise make every answer carrying the account fail."""
    try:
        prefs = json_limits.loads(user.get("prefs") or "{}")
    except ValueError:
        prefs = None
    if not isinstance(prefs, dict):
        logger.warning("stored prefs beyond the input limits answered as {}")
        return {}
    return prefs


def new_user(
    user_id: str, *, by_guest: bool, email: str = "", phone: str = "", name: str = "", password: str = ""
) -> dict[str, Any]:
    """A profile as sign-up creates it; one-time-code sign-in creates users without a password.
    `by_guest`: an unauthenticated caller is creating it (not the Users API), see store.users.guest_flag."""
    now = now_ms()
    addresses = {"email": email, "phone": phone}
    provenance = {guest_flag(kind): by_guest for kind, address in addresses.items() if address}
    return {
        "userId": user_id,
        "createdAt": now,
        "updatedAt": now,
        "accessedAt": now,
        "name": name,
        "email": email,
        "phone": phone,
        "passwordHash": hash_password(password) if password else "",
        "passwordUpdate": now if password else 0,
        "status": True,
        "labels": [],
        "emailVerification": False,
        "phoneVerification": False,
        "mfa": False,
        "prefs": "{}",
        "sessions": {},
        **provenance,
    }


def create_account(body: CreateAccount, caller: Caller) -> Account:
    limits.enforce("create-account", caller.ip)
    user = new_user(resolve_id(body.userId), by_guest=True, email=body.email, name=body.name, password=body.password)
    try:
        users_store.create_user(user)
    except ConflictError:
        raise ApiError("user_already_exists") from None
    return account_model(user)


def get_account(principal: Principal) -> Account:
    return account_model(principal.user)


def _confirm_identity(principal: Principal, password: str) -> None:
    """Changes of email, phone or password need more than the session: the current password when the
    account has one, and with MFA on a recent challenge (API.md §7) -- else a stolen session (and a
    stolen password) could swap a second factor, or set a password that ends the owner's sessions."""
    from authcore.services.mfa import require_recent_challenge_if_mfa  # only here: keeps KMS off the cold path

    user = principal.user
    require_recent_challenge_if_mfa(principal)  # first: no answer tells a thief whether a password was right
    limits.enforce("confirm-identity", user["userId"])  # 10 an hour: a stolen session is no password oracle
    if user.get("passwordHash") and not verify_password(user["passwordHash"], password):
        raise ApiError("user_invalid_credentials")


def _set_by_guest(principal: Principal) -> bool:
    """An anonymous session (services.anonymous) proves nobody: an address it sets while the account has no
    proven one counts as a guest's, so that address's first proof still wipes what was set up before it (a
    squatter's password and sessions: API.md §7). Any other signed-in session sets an owner's address."""
    user = principal.user
    proven = user.get("emailVerification") or user.get("phoneVerification")
    return principal.session.get("provider") == "anonymous" and not proven


ADDRESS_UPDATED = {"email": activity.EMAIL_UPDATED, "phone": activity.PHONE_UPDATED}


def _change_address(principal: Principal, kind: str, new: str, password: str, caller: Caller) -> Account:
    """Move the account to a new email or phone, set by a signed-in session: its first proof never wipes
    anything (API.md §7), unless that session is an anonymous one (_set_by_guest). A verified address changed
    away from is told."""
    user = principal.user
    _confirm_identity(principal, password)
    if user.get(kind) == new:
        return account_model(user)
    changes = {
        kind: new,
        f"{kind}Verification": False,
        guest_flag(kind): _set_by_guest(principal),
        "updatedAt": now_ms(),
    }
    try:
        log = activity.entry(user, ADDRESS_UPDATED[kind], caller)
        users_store.change_address(user["userId"], kind, user.get(kind, ""), new, changes, log)
    except (ConflictError, StaleError):
        raise ApiError(f"user_{kind}_already_exists") from None
    if user.get(kind) and user.get(f"{kind}Verification"):
        from authcore.services import notices  # only here: keeps delivery off the other account routes' cold path

        notices.address_changed(user, kind, caller.locale)
    return account_model({**user, **changes})


def update_email(principal: Principal, body: UpdateEmail, caller: Caller) -> Account:
    return _change_address(principal, "email", body.email, body.password, caller)


def update_phone(principal: Principal, body: UpdatePhone, caller: Caller) -> Account:
    return _change_address(principal, "phone", body.phone, body.password, caller)


def update_password(principal: Principal, body: UpdatePassword, caller: Caller) -> Account:
    """Set a new password and end every other session of the user (a thief's included)."""
    user = principal.user
    _confirm_identity(principal, body.oldPassword)
    now = now_ms()
    changes = {"passwordHash": hash_password(body.password), "passwordUpdate": now, "updatedAt": now}
    others = [d for d in user.get("sessions", {}) if d != principal.session["digest"]]
    log = activity.entry(user, activity.PASSWORD_UPDATED, caller)
    sessions_store.end_sessions(user["userId"], others, profile_changes=changes, log=log)
    return account_model({**user, **changes})


def update_name(principal: Principal, body: UpdateName) -> Account:
    return account_model(users_store.update_user(principal.user["userId"], {"name": body.name, "updatedAt": now_ms()}))


def get_prefs(principal: Principal) -> Preferences:
    return Preferences.model_validate(stored_prefs(principal.user))


def update_prefs(principal: Principal, body: UpdatePrefs) -> Account:
    prefs = json_limits.dumps(body.prefs)
    return account_model(users_store.update_user(principal.user["userId"], {"prefs": prefs, "updatedAt": now_ms()}))


def set_status(user: dict[str, Any], sessions: list[str], status: bool, caller: Caller | None, mode: str) -> Account:
    """Block (false) or unblock a user, with its activity log item, in one write (the Users API and the
    user's own block share it). Blocking also ends the `sessions` (digests): left in place, they would
    work again the moment an operator unblocks, a thief's among them."""
    changes = {"status": status, "updatedAt": now_ms()}
    log = activity.entry(user, activity.STATUS_UPDATED, caller, mode)
    sessions_store.end_sessions(user["userId"], [] if status else sessions, profile_changes=changes, log=log)
    return account_model({**user, **changes})


def block_self(principal: Principal, caller: Caller) -> Account:
    """The user blocks their own account (Appwrite's updateStatus): every session ends, sign-ins answer
    401 user_blocked until an operator unblocks. With MFA on, only right after a challenge (API.md §7):
    a stolen session alone cannot lock the owner out (docs/security.md)."""
    from authcore.services.mfa import require_recent_challenge_if_mfa  # only here: keeps KMS off the cold path

    require_recent_challenge_if_mfa(principal)
    digests = {s["digest"] for s in principal.sessions} | set(principal.user.get("sessions", {}))
    return set_status(principal.user, sorted(digests), False, caller, activity.USER)
