"""MFA settings of the signed-in user: the flag, the TOTP authenticator and recovery codes
(API.md §4.5, §4.6). Challenges are in services/challenges.py."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from authcore.clock import now_ms
from authcore.config import settings
from authcore.errors import ApiError, invalid_param
from authcore.models.caller import Caller
from authcore.models.responses import Account, MfaFactors, MfaRecoveryCodes, MfaType
from authcore.security import kms, totp
from authcore.security.codes import keyed_hash, new_recovery_codes
from authcore.services import activity, codes, limits, notices
from authcore.services.accounts import account_model
from authcore.services.auth import Principal, reload
from authcore.services.factors import (
    RECENT_CHALLENGE_MS,
    factor_count,
    minimum_factors,
    verified_authenticator,
    verified_second_factors,
)
from authcore.store import mfa as mfa_store
from authcore.store.errors import ConflictError, StaleError
from authcore.store.mfa import (
    AUTHENTICATOR,
    RECOVERY_CODES,
    RECOVERY_REV,
    RECOVERY_SEALED,
    STEP_UP_AT,
    TOTP_STEP,
    FactorProof,
)

if TYPE_CHECKING:  # annotations only: a function that takes no body never imports the request models
    from authcore.models.requests import UpdateMfa, VerifyAuthenticator

WRITE_ATTEMPTS = 5
AUTHENTICATOR_TYPES = ("totp",)


# --- reading the MFA state -----------------------------------------------------------------------


def unused_recovery_hashes(user: dict[str, Any]) -> list[str]:
    return [code_hash for code_hash, used in user.get(RECOVERY_CODES, {}).items() if not used]


def with_factor(session: dict[str, Any], *factors: str) -> list[str]:
    """The session's factors with `factors` added, in the order they were proven, without repeats."""
    return list(dict.fromkeys([*session.get("factors", []), *factors]))


def require_recent_challenge(principal: Principal) -> None:
    """401 user_challenge_required unless this session completed, in the last 10 minutes, a challenge
    with a factor that existed before the session began (its stepUpAt, API.md §7)."""
    if principal.session.get(STEP_UP_AT, 0) <= now_ms() - RECENT_CHALLENGE_MS:
        raise ApiError("user_challenge_required")


def require_recent_challenge_if_mfa(principal: Principal) -> None:
    """While MFA is in force (on, with a verified second factor), a change that could keep or lock the owner out
    needs a recent challenge too. With the flag on but no factor to challenge, sign-in asks for one factor, and
    so does this (else nothing could be changed, not even the flag)."""
    if minimum_factors(principal.user) > 1:
        require_recent_challenge(principal)


def authenticator_type(type_: str) -> None:
    if type_ not in AUTHENTICATOR_TYPES:
        raise invalid_param("type", "Value must be one of (totp)")


def list_factors(principal: Principal) -> MfaFactors:
    return factors_of(principal.user)


def factors_of(user: dict[str, Any]) -> MfaFactors:
    verified = verified_second_factors(user)
    return MfaFactors(
        totp="totp" in verified,
        email="email" in verified,
        phone="phone" in verified,
        recoveryCode=bool(unused_recovery_hashes(user)),
        passkey="passkey" in verified,
    )


# --- the MFA flag --------------------------------------------------------------------------------


def update_mfa(principal: Principal, body: UpdateMfa, caller: Caller) -> Account:
    """Turn MFA on (the session gains every factor verified now, so it is not locked out) or off
    (only right after a challenge)."""
    if not body.mfa:
        require_recent_challenge(principal)
    for _ in range(WRITE_ATTEMPTS):
        user, session = principal.user, principal.session
        now = now_ms()
        session_factors = None
        if body.mfa:
            factors = with_factor(session, *verified_second_factors(user))
            if factor_count(factors) < minimum_factors({**user, "mfa": True}):
                # Only the factor this session started with is verified: MFA on would lock it out now and
                # every sign-in like it later, since a factor cannot be its own session's second one.
                raise ApiError(
                    "general_argument_invalid",
                    "Invalid `mfa` param: add a second factor first (an authenticator app, or another verified "
                    "email or phone than the one this session signed in with).",
                )
            session_factors = mfa_store.factors_update(session, factors, now, challenged=False)
        try:
            log = activity.entry(user, activity.MFA_UPDATED, caller) if bool(user.get("mfa")) != body.mfa else None
            mfa_store.set_mfa(user["userId"], body.mfa, now, session_factors, log)
            break
        except StaleError:
            principal = reload(principal)  # a concurrent change to the session's factors: decide again
    else:
        raise limits.contended("Too many simultaneous changes. Please try again.")
    if bool(user.get("mfa")) != body.mfa:
        notices.notify(user, notices.MFA_ENABLED if body.mfa else notices.MFA_DISABLED, caller.locale)
    return account_model({**user, "mfa": body.mfa, "updatedAt": now})


# --- the TOTP authenticator ----------------------------------------------------------------------


def _account_label(user: dict[str, Any]) -> str:
    """Who the authenticator app lists the code for: the email, else the phone, else the id."""
    return user.get("email") or user.get("phone") or user["userId"]


def create_authenticator(principal: Principal, type_: str) -> MfaType:
    """A new TOTP secret, sealed with KMS; this answer is the only place it is ever shown. While MFA is on,
    only right after a challenge (else a stolen session could make itself a factor)."""
    authenticator_type(type_)
    require_recent_challenge_if_mfa(principal)
    user = principal.user
    if verified_authenticator(user):
        raise ApiError("user_authenticator_already_verified")
    secret = totp.new_secret()
    try:
        mfa_store.put_authenticator(user["userId"], kms.seal(user["userId"], secret.encode()), now_ms())
    except ConflictError:
        raise ApiError("user_authenticator_already_verified") from None
    return MfaType(secret=secret, uri=totp.uri(secret, settings().project_name, _account_label(user)))


def totp_proof(user: dict[str, Any], authenticator: dict[str, Any], otp: str) -> FactorProof:
    """The proof a TOTP code gives; WrongCodeError for a wrong one (a guess) and for a malformed or
    reused one (no guess)."""
    if not totp.is_code(otp):
        raise codes.WrongCodeError(guess=False)
    secret = kms.unseal(user["userId"], authenticator["secret"]).decode()
    steps = totp.matching_steps(secret, otp)
    if not steps:
        raise codes.WrongCodeError()
    fresh = [step for step in steps if step > user.get(TOTP_STEP, 0)]
    if not fresh:
        raise codes.WrongCodeError(guess=False)  # a replay: known, so not a guess
    return FactorProof(codes.failure_count(user, codes.MFA), totp_step=fresh[0])


def verify_authenticator(principal: Principal, type_: str, body: VerifyAuthenticator, caller: Caller) -> Account:
    """The first code from the app verifies the authenticator and adds `totp` to this session."""
    authenticator_type(type_)
    for _ in range(WRITE_ATTEMPTS):
        user, session = principal.user, principal.session
        authenticator = user.get(AUTHENTICATOR)
        if not authenticator:
            raise ApiError("user_authenticator_not_found")
        if authenticator.get("verified"):
            raise ApiError("user_authenticator_already_verified")
        codes.ensure_unlocked(user, codes.MFA)
        try:
            proof = totp_proof(user, authenticator, body.otp)
        except codes.WrongCodeError as wrong:
            raise (codes.wrong_code(user, codes.MFA) if wrong.guess else ApiError("user_invalid_token")) from None
        now = now_ms()
        session_factors = mfa_store.factors_update(session, with_factor(session, "totp"), now, challenged=False)
        try:
            log = activity.entry(user, activity.AUTHENTICATOR_ADDED, caller)
            mfa_store.verify_authenticator(user["userId"], authenticator["createdAt"], proof, now, session_factors, log)
            break
        except StaleError:
            principal = reload(principal)
    else:
        raise ApiError("user_invalid_token")  # kept changing under us: not verified, never a 500
    notices.notify(user, notices.AUTHENTICATOR_ADDED, caller.locale)
    return account_model({**user, "updatedAt": now})


def delete_authenticator(principal: Principal, type_: str, caller: Caller) -> None:
    """Remove the authenticator; only right after a challenge, so a stolen session cannot."""
    authenticator_type(type_)
    require_recent_challenge(principal)
    user = principal.user
    authenticator = user.get(AUTHENTICATOR)
    if not authenticator:
        raise ApiError("user_authenticator_not_found")
    try:
        log = activity.entry(user, activity.AUTHENTICATOR_REMOVED, caller)
        mfa_store.remove_authenticator(user["userId"], authenticator["createdAt"], now_ms(), log)
    except StaleError:
        raise ApiError("user_authenticator_not_found") from None
    if authenticator.get("verified"):
        notices.notify(user, notices.AUTHENTICATOR_REMOVED, caller.locale)


# --- recovery codes ------------------------------------------------------------------------------


def store_new_codes(user: dict[str, Any], log: dict[str, Any]) -> list[str]:
    """A new set of codes for `user`, replacing the set as read, with its activity `log` item; StaleError if
    another came first."""
    user_id = user["userId"]
    recovery_codes = new_recovery_codes()
    hashes = [keyed_hash(user_id, code) for code in recovery_codes]
    sealed = kms.seal(user_id, json.dumps(recovery_codes).encode())
    mfa_store.put_recovery_codes(user_id, hashes, sealed, user.get(RECOVERY_REV, 0), now_ms(), log)
    return recovery_codes


def create_recovery_codes(principal: Principal, caller: Caller) -> MfaRecoveryCodes:
    """Ten single-use codes, once: 409 while unused ones remain. While MFA is on, only right after a challenge.
    The owner is told: codes a session thief planted while MFA was off would outlive the owner turning it on."""
    require_recent_challenge_if_mfa(principal)
    user = principal.user
    if unused_recovery_hashes(user):
        raise ApiError("user_recovery_codes_already_exists")
    try:
        recovery_codes = store_new_codes(user, activity.entry(user, activity.RECOVERY_CODES_CREATED, caller))
    except StaleError:
        raise ApiError("user_recovery_codes_already_exists") from None
    notices.notify(user, notices.RECOVERY_CODES_CREATED, caller.locale)
    return MfaRecoveryCodes(recoveryCodes=recovery_codes)


def get_recovery_codes(principal: Principal) -> MfaRecoveryCodes:
    """The unused codes, from their sealed display copy; only right after a challenge."""
    require_recent_challenge(principal)
    return unused_recovery_codes(principal.user)


def unused_recovery_codes(user: dict[str, Any]) -> MfaRecoveryCodes:
    if RECOVERY_SEALED not in user:
        raise ApiError("user_recovery_codes_not_found")
    unused = set(unused_recovery_hashes(user))
    shown = json.loads(kms.unseal(user["userId"], user[RECOVERY_SEALED]))
    return MfaRecoveryCodes(recoveryCodes=[code for code in shown if keyed_hash(user["userId"], code) in unused])


def update_recovery_codes(principal: Principal, caller: Caller) -> MfaRecoveryCodes:
    """A fresh set replacing the old one (whose codes stop working); only right after a challenge."""
    require_recent_challenge(principal)
    if RECOVERY_SEALED not in principal.user:
        raise ApiError("user_recovery_codes_not_found")
    try:
        log = activity.entry(principal.user, activity.RECOVERY_CODES_REGENERATED, caller)
        recovery_codes = store_new_codes(principal.user, log)
    except StaleError:
        raise ApiError("user_recovery_codes_already_exists", "Recovery codes were just regenerated.") from None
    notices.notify(principal.user, notices.RECOVERY_CODES_REGENERATED, caller.locale)
    return MfaRecoveryCodes(recoveryCodes=recovery_codes)
