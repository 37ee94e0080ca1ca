"""Passkeys (API.md §9): registering and managing them, and signing in with one.

Every refusal of a credential (unknown or expired challenge, foreign credential, wrong origin or rp id,
no user verification, bad signature, a counter that went back) is the same 401 user_invalid_token; the
reason goes to the log line only. Each challenge is consumed by its one attempt.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from authcore import observability
from authcore.clock import iso, now_ms
from authcore.errors import ApiError, invalid_param
from authcore.ids import CUSTOM_ID, resolve_id, unique_id
from authcore.models.caller import Caller
from authcore.models.responses import Passkey, PasskeyChallenge, PasskeyList, Token
from authcore.observability import logger
from authcore.security import passkeys as webauthn
from authcore.security.codes import new_link_secret_and_hash
from authcore.security.passkeys import PasskeyRefusedError
from authcore.services import limits, notices, paging
from authcore.services.auth import Principal, authenticate, reload
from authcore.services.factors import needs_more_factors, require_recent_sign_in
from authcore.store import passkeys as passkeys_store
from authcore.store import users as users_store
from authcore.store.errors import LimitError, SpentError, StaleError
from authcore.store.mfa import PASSKEYS

if TYPE_CHECKING:  # annotations only: a function that takes no body never imports the request models
    from authcore.models.requests import CreatePasskey, UpdatePasskey, UpdatePasskeyToken, UpdatePasskeyVerification

CHALLENGE_LIFETIME_MS = webauthn.TIMEOUT_MS  # 5 minutes
TOKEN_LIFETIME_MS = 60 * 1000
SIGN_INS_PER_IP_PER_HOUR = 30
WRITE_ATTEMPTS = 5
REFUSED = "user_invalid_token"


def passkey_model(passkey_id: str, passkey: dict[str, Any]) -> Passkey:
    return Passkey(
        id=passkey_id,
        createdAt=iso(passkey["createdAt"]),
        updatedAt=iso(passkey.get("updatedAt", passkey["createdAt"])),
        name=passkey.get("name", ""),
        accessedAt=iso(passkey.get("accessedAt")),
    )


def _challenge_model(challenge: dict[str, Any], passkey_id: str, options: dict[str, Any]) -> PasskeyChallenge:
    return PasskeyChallenge(
        id=challenge["tokenId"],
        createdAt=iso(challenge["createdAt"]),
        passkeyId=passkey_id,
        expire=iso(challenge["expire"]),
        publicKey=options,
    )


def _refused(reason: str) -> ApiError:
    logger.info("passkey refused", extra={"reason": reason})
    observability.count("PasskeyRefusedError")
    return ApiError(REFUSED)


def found(user: dict[str, Any], passkey_id: str) -> dict[str, Any]:
    passkey = (user.get(PASSKEYS) or {}).get(passkey_id)
    if passkey is None:
        raise ApiError("user_passkey_not_found")
    return passkey


# --- listing and managing ------------------------------------------------------------------------


def passkey_list(user: dict[str, Any], queries: list[str]) -> PasskeyList:
    """The user's passkeys, oldest first."""
    limit, offset = paging.limit_offset(queries, passkeys_store.MAX_PASSKEYS)
    ordered = sorted((user.get(PASSKEYS) or {}).items(), key=lambda item: (item[1]["createdAt"], item[0]))
    models = [passkey_model(pid, p) for pid, p in ordered]
    return PasskeyList(total=len(models), passkeys=models[offset : offset + limit])


def list_passkeys(principal: Principal, queries: list[str]) -> PasskeyList:
    return passkey_list(principal.user, queries)


def get_passkey(principal: Principal, passkey_id: str) -> Passkey:
    return passkey_model(passkey_id, found(principal.user, passkey_id))


def rename_passkey(user: dict[str, Any], passkey_id: str, body: UpdatePasskey) -> Passkey:
    passkey = found(user, passkey_id)
    now = now_ms()
    try:
        passkeys_store.rename(user["userId"], passkey_id, body.name, now)
    except StaleError:
        raise ApiError("user_passkey_not_found") from None
    return passkey_model(passkey_id, {**passkey, "name": body.name, "updatedAt": now})


def update_passkey(principal: Principal, passkey_id: str, body: UpdatePasskey) -> Passkey:
    return rename_passkey(principal.user, passkey_id, body)


def remove_passkey(user: dict[str, Any], passkey_id: str, locale: str) -> None:
    """Remove a passkey and tell the owner (it may have been the way someone else got in)."""
    found(user, passkey_id)
    try:
        passkeys_store.remove(user["userId"], passkey_id, now_ms())
    except StaleError:
        raise ApiError("user_passkey_not_found") from None
    observability.count("PasskeyRemoved")
    notices.notify(user, notices.PASSKEY_REMOVED, locale)


def delete_passkey(principal: Principal, passkey_id: str, caller: Caller) -> None:
    require_recent_sign_in(principal.session, now_ms())
    remove_passkey(principal.user, passkey_id, caller.locale)


# --- registration --------------------------------------------------------------------------------


def create_registration(principal: Principal, body: CreatePasskey, caller: Caller) -> PasskeyChallenge:
    """Creation options for navigator.credentials.create(); the registration waits 5 minutes for its
    one verification, from this session only."""
    require_recent_sign_in(principal.session, now_ms())
    user = principal.user
    passkey_id = resolve_id(body.passkeyId, "passkeyId")
    existing = user.get(PASSKEYS) or {}
    if passkey_id in existing:
        raise invalid_param("passkeyId", "A passkey with this ID already exists.")
    if len(existing) >= passkeys_store.MAX_PASSKEYS:
        raise invalid_param("passkeyId", f"At most {passkeys_store.MAX_PASSKEYS} passkeys per user; delete one first.")
    label = user.get("email") or user.get("phone") or user["userId"]
    challenge = secrets.token_bytes(webauthn.CHALLENGE_BYTES)
    options = webauthn.registration_options(
        user["userId"], label, user.get("name") or label, challenge, [p["credentialId"] for p in existing.values()]
    )
    now = now_ms()
    registration = {
        "tokenId": unique_id(),
        "passkeyId": passkey_id,
        "userId": user["userId"],
        "name": body.name,
        "challenge": challenge,
        "session": principal.session["digest"],
        "createdAt": now,
        "expire": now + CHALLENGE_LIFETIME_MS,
        "ttl": (now + CHALLENGE_LIFETIME_MS) // 1000 + limits.HOUR,
    }
    charge = limits.hourly("passkey-registration", user["userId"])
    try:
        passkeys_store.start_registration(registration, [charge], now // 1000)
    except LimitError as limited:
        raise limits.limit_reached(limited, now // 1000) from None
    return _challenge_model(registration, passkey_id, options)


def _gated(principal: Principal) -> Principal:
    if needs_more_factors(principal.user, principal.session):
        raise ApiError("user_more_factors_required")
    observability.identify(principal.user["userId"])
    return principal


def verify_registration(passkey_id: str, body: UpdatePasskeyVerification, caller: Caller) -> Passkey:
    """The attestation of navigator.credentials.create() makes the pending passkey a verified one. A
    failed attempt ends the registration (it must be started again)."""
    registration_sk = passkeys_store.registration_sort_key(passkey_id)
    principal = _gated(authenticate(caller.credential, also=(registration_sk,)))
    registration = principal.items.get(registration_sk)
    now = now_ms()
    if registration is None or registration["expire"] <= now or registration["session"] != principal.session["digest"]:
        raise _refused("no live registration of this session")
    try:
        new = webauthn.verify_registration(body.credential, registration["challenge"])
    except PasskeyRefusedError as refused:
        passkeys_store.drop_registration(principal.user["userId"], passkey_id)
        raise _refused(str(refused)) from None
    passkey = {
        "credentialId": new.credential_id,
        "publicKey": new.public_key,
        "signCount": new.sign_count,
        "name": registration["name"],
        "createdAt": now,
        "updatedAt": now,
    }
    for _ in range(WRITE_ATTEMPTS):
        user = principal.user
        if any(p["credentialId"] == new.credential_id for p in (user.get(PASSKEYS) or {}).values()):
            passkeys_store.drop_registration(user["userId"], passkey_id)
            raise _refused("credential registered already")
        try:
            passkeys_store.add_passkey(user, registration, passkey, now)
            break
        except SpentError:
            raise _refused("registration used or expired meanwhile") from None
        except StaleError:
            principal = reload(principal)  # another passkey came or went meanwhile: decide again
            if len(principal.user.get(PASSKEYS) or {}) >= passkeys_store.MAX_PASSKEYS:
                raise invalid_param("passkeyId", f"At most {passkeys_store.MAX_PASSKEYS} passkeys per user.") from None
    else:
        raise limits.contended("Too many simultaneous changes. Please try again.")
    observability.count("PasskeyAdded")
    notices.notify(principal.user, notices.PASSKEY_ADDED, caller.locale)
    return passkey_model(passkey_id, passkey)


# --- sign-in with a discoverable credential ------------------------------------------------------


def create_sign_in(caller: Caller) -> PasskeyChallenge:
    """Request options for navigator.credentials.get() without naming a user: the browser offers the
    passkeys it holds for this relying party."""
    now = now_ms()
    challenge = secrets.token_bytes(webauthn.CHALLENGE_BYTES)
    item = {
        "tokenId": unique_id(),
        "challenge": challenge,
        "createdAt": now,
        "expire": now + CHALLENGE_LIFETIME_MS,
        "ttl": (now + CHALLENGE_LIFETIME_MS) // 1000 + limits.HOUR,
    }
    charge = limits.hourly("passkey-sign-in-ip", caller.ip, SIGN_INS_PER_IP_PER_HOUR)
    try:
        passkeys_store.start_sign_in(item, [charge], now // 1000)
    except LimitError as limited:
        raise limits.limit_reached(limited, now // 1000) from None
    return _challenge_model(item, "", webauthn.authentication_options(challenge, []))


def find_by_credential(user: dict[str, Any], credential_id: str) -> tuple[str, dict[str, Any]]:
    """The passkey of `user` with this credential id (suspect ones included: they are refused by name)."""
    for passkey_id, passkey in (user.get(PASSKEYS) or {}).items():
        if secrets.compare_digest(passkey["credentialId"], credential_id):
            return passkey_id, passkey
    raise PasskeyRefusedError("credential not registered to this user")


def verified_use(user: dict[str, Any], credential: dict[str, Any], challenge: bytes) -> tuple[str, int, int]:
    """(passkeyId, stored counter, new counter) of an assertion of one of the user's passkeys, else
    PasskeyRefusedError; a counter that went back marks the passkey suspect before refusing."""
    passkey_id, passkey = find_by_credential(user, webauthn.credential_id(credential))
    if passkey.get("suspect"):
        raise PasskeyRefusedError("suspect passkey")
    count = webauthn.verify_authentication(credential, challenge, passkey["publicKey"])
    if webauthn.counter_regressed(passkey["signCount"], count):
        passkeys_store.mark_suspect(user["userId"], passkey_id, now_ms())
        observability.count("PasskeySuspect")
        raise PasskeyRefusedError("sign counter went back: marked suspect")
    return passkey_id, passkey["signCount"], count


def complete_sign_in(body: UpdatePasskeyToken, caller: Caller) -> Token:
    """The assertion of navigator.credentials.get() earns a token (with its secret, valid 1 minute) for
    POST /account/sessions/token. The challenge is consumed first, so it serves one attempt only."""
    challenge = passkeys_store.consume_sign_in(body.challengeId, now_ms())
    if challenge is None:
        raise _refused("no live challenge")
    user_id = webauthn.user_handle(body.credential)
    user = users_store.get_user(user_id) if CUSTOM_ID.fullmatch(user_id) else None
    if user is None:
        raise _refused("unknown user handle")
    observability.identify(user_id)
    for _ in range(WRITE_ATTEMPTS):
        try:
            passkey_id, stored, count = verified_use(user, body.credential, challenge["challenge"])
        except PasskeyRefusedError as refused:
            raise _refused(str(refused)) from None
        if not user.get("status", True):
            raise ApiError("user_blocked")
        secret, hashed = new_link_secret_and_hash(user_id)  # a keyed hash, as every sign-in secret (API.md §8)
        now = now_ms()
        token = {
            "hash": hashed,
            "tokenId": unique_id(),
            "userId": user_id,
            "kind": passkeys_store.SIGN_IN_KIND,
            "passkeyId": passkey_id,
            "createdAt": now,
            "expire": now + TOKEN_LIFETIME_MS,
            "ttl": (now + TOKEN_LIFETIME_MS) // 1000 + limits.HOUR,
        }
        try:
            passkeys_store.sign_in(user, passkey_id, stored, count, token)
            break
        except StaleError:
            user = users_store.get_user(user_id) or {}  # the passkey was used, renamed or removed meanwhile
    else:
        raise _refused("passkey kept changing")
    return Token(
        id=token["tokenId"],
        createdAt=iso(now),
        userId=user_id,
        secret=secret,  # the one answer that carries it: it is exchanged within the minute
        expire=iso(token["expire"]),
        phrase="",
    )
