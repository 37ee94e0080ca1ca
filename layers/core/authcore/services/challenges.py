"""MFA challenges: proving one more factor for the current session (API.md §4.5, §4.6)."""

from __future__ import annotations

import hmac
import secrets
from functools import partial
from typing import TYPE_CHECKING, Any

from authcore import observability
from authcore.clock import iso, now_ms
from authcore.config import settings
from authcore.delivery import email, sms
from authcore.delivery.messages import name_for, render_email, render_sms
from authcore.errors import ApiError
from authcore.ids import unique_id
from authcore.models import json_limits
from authcore.models.caller import Caller
from authcore.models.responses import MfaChallenge, MfaPasskeyChallenge, Session
from authcore.observability import logger
from authcore.security import passkeys
from authcore.security.codes import is_code, keyed_hash, new_code_and_hash, normalised_recovery_code
from authcore.services import activity, codes, limits, notices
from authcore.services.auth import Principal, authenticate, reload
from authcore.services.factors import predates_session, usable_passkeys, verified_authenticator
from authcore.services.mfa import (
    WRITE_ATTEMPTS,
    totp_proof,
    unused_recovery_hashes,
    with_factor,
)
from authcore.services.passkeys import verified_use
from authcore.services.sessions import completion, session_model
from authcore.store import challenges as challenges_store
from authcore.store import mfa as mfa_store
from authcore.store.errors import LimitError, SpentError, StaleError
from authcore.store.mfa import RECOVERY_CODES, FactorProof

if TYPE_CHECKING:  # annotations only: a function that takes no body never imports the request models
    from authcore.models.requests import CreateMfaChallenge, UpdateMfaChallenge

MAX_WRONG_CODES = 5  # per challenge; the user's MFA failure count spans challenges
LIFETIME_MS = codes.CODE_LIFETIME_MS
# Factors whose challenge sends a code, and how.
SENT = {"email": codes.EMAIL_CHALLENGE, "phone": codes.PHONE_CHALLENGE}
KIND = {"totp": "totpChallenge", "recoveryCode": "recoveryCodeChallenge", "passkey": "passkeyChallenge"}


def challenge_model(challenge: dict[str, Any]) -> MfaChallenge:
    return MfaChallenge(
        id=challenge["tokenId"],
        createdAt=iso(challenge["createdAt"]),
        userId=challenge["userId"],
        expire=iso(challenge["expire"]),
    )


def _check_available(principal: Principal, factor: str) -> None:
    """§4.6: the factor must be set up, and must not be the one that started this session."""
    user = principal.user
    if factor in SENT:
        if not user.get(factor):
            raise ApiError(f"user_{factor}_not_found")
        if not user.get(f"{factor}Verification"):
            raise ApiError(f"user_{factor}_not_verified")
    elif factor == "totp" and not verified_authenticator(user):
        raise ApiError("user_authenticator_not_found")
    elif factor == "recoveryCode" and not unused_recovery_hashes(user):
        raise ApiError("user_recovery_codes_not_found")
    elif factor == "passkey" and not usable_passkeys(user):
        raise ApiError("user_passkey_not_found")
    _not_the_starting_factor(principal.session, factor)


def _not_the_starting_factor(session: dict[str, Any], factor: str) -> None:
    """An email-code session proving the same inbox again proves nothing new (§4.6)."""
    if factor == (session.get("factors") or [""])[0]:
        raise ApiError(
            "general_argument_invalid",
            f"Invalid `factor` param: {factor} started this session, so it cannot be its second factor.",
        )


def _send_code(factor: str, user: dict[str, Any], locale: str, code: str, challenge: dict[str, Any]) -> None:
    variables = {"project": settings().project_name, "name": name_for(user), "code": code, "minutes": "10"}
    if factor == "email":
        email.send(user["email"], render_email("email-mfa-code", locale, variables))
    else:
        sms.send(user["phone"], render_sms("sms-mfa-code", locale, variables))


def create_challenge(principal: Principal, body: CreateMfaChallenge, caller: Caller) -> MfaChallenge:
    """A challenge for `factor`, valid 10 minutes; email and phone get a fresh six-digit code."""
    factor, user = body.factor, principal.user
    user_id = user["userId"]
    _check_available(principal, factor)
    if factor == "email" and not email.enabled():
        raise ApiError("general_smtp_disabled")
    if factor == "phone" and not sms.enabled():
        raise ApiError("general_phone_disabled")
    # Per user for the factors that send a message (it bounds the messages); per session for the others, so
    # a session of someone holding only the password cannot spend the owner's challenges (API.md §7).
    if factor in SENT:
        charges = [limits.hourly("mfa-challenge", user_id)]
    else:
        charges = [limits.hourly("mfa-challenge-session", principal.session["sessionId"])]
    fields = {"factor": factor, challenges_store.ATTEMPTS: 0}
    if factor in SENT:
        challenge = codes.issue_and_send(
            user_id=user_id,
            kind=SENT[factor],
            address=user[factor],
            lifetime_ms=LIFETIME_MS,
            charges=charges,
            make_secret=partial(new_code_and_hash, user_id),
            send=partial(_send_code, factor, user, caller.locale),
            fields=fields,
            key_of=challenges_store.key_of,
        )
        observability.count("ChallengeCreated", factor=factor)
        return challenge_model(challenge)
    now = now_ms()
    if factor == "passkey":  # the WebAuthn challenge the assertion must sign
        fields["challenge"] = secrets.token_bytes(passkeys.CHALLENGE_BYTES)
    challenge = {
        "tokenId": unique_id(),
        "userId": user_id,
        "kind": KIND[factor],
        "createdAt": now,
        "expire": now + LIFETIME_MS,
        "ttl": (now + LIFETIME_MS) // 1000 + limits.HOUR,
        **fields,
    }
    try:
        challenges_store.create(challenge, charges, now // 1000)
    except LimitError as limited:
        raise limits.limit_reached(limited, now // 1000) from None
    observability.count("ChallengeCreated", factor=factor)
    if factor == "passkey":
        allowed = [passkey["credentialId"] for passkey in usable_passkeys(user).values()]
        options = passkeys.authentication_options(fields["challenge"], allowed)
        return MfaPasskeyChallenge(**challenge_model(challenge).model_dump(), publicKey=options)
    return challenge_model(challenge)


def _proof(user: dict[str, Any], challenge: dict[str, Any], otp: str) -> FactorProof:
    """What `otp` proves for the challenge's factor, else WrongCodeError: a guess (counted against the
    user too) or not (malformed, already used, or the factor is gone)."""
    factor, user_id = challenge["factor"], user["userId"]
    if factor in SENT:
        # The code went to an address: it proves that address while it is still the user's, verified.
        if user.get(factor) != challenge["address"] or not user.get(f"{factor}Verification") or not is_code(otp):
            raise codes.WrongCodeError(guess=False)
        if not hmac.compare_digest(keyed_hash(user_id, otp), challenge["hash"]):
            raise codes.WrongCodeError()
        return FactorProof(codes.failure_count(user, codes.MFA))
    if factor == "totp":
        authenticator = verified_authenticator(user)
        if authenticator is None:
            raise codes.WrongCodeError(guess=False)
        return totp_proof(user, authenticator, otp)
    if factor == "passkey":
        return _passkey_proof(user, challenge, otp)
    code = normalised_recovery_code(otp)
    if code is None:
        raise codes.WrongCodeError(guess=False)
    code_hash = keyed_hash(user_id, code)
    used = user.get(RECOVERY_CODES, {}).get(code_hash)
    if used is None:
        raise codes.WrongCodeError()
    if used:
        raise codes.WrongCodeError(guess=False)  # spent already (a replay, or a race just lost)
    return FactorProof(codes.failure_count(user, codes.MFA), recovery_code_hash=code_hash)


def _passkey_proof(user: dict[str, Any], challenge: dict[str, Any], otp: str) -> FactorProof:
    """An assertion (its toJSON() as a string) of one of the user's passkeys over the challenge. Not JSON
    is no guess; an assertion that fails is one (it counts on the MFA count like a wrong code)."""
    try:
        credential = json_limits.loads(otp)  # the body's limits (API.md §7) for the JSON inside it too
    except ValueError:
        raise codes.WrongCodeError(guess=False) from None
    if not isinstance(credential, dict):
        raise codes.WrongCodeError(guess=False)
    try:
        passkey_id, stored, count = verified_use(user, credential, challenge["challenge"])
    except passkeys.PasskeyRefusedError as refused:
        logger.info("passkey refused", extra={"reason": str(refused)})
        raise codes.WrongCodeError() from None
    return FactorProof(
        codes.failure_count(user, codes.MFA),
        passkey_id=passkey_id,
        passkey_stored_count=stored,
        passkey_count=count,
        passkey_used_at=now_ms(),
    )


def complete_challenge(body: UpdateMfaChallenge, caller: Caller) -> Session:
    """Spend the challenge with its code: the session gains the factor and mfaUpdatedAt, at once, and
    stepUpAt when the factor is older than the session (API.md §7).

    Unknown, foreign, expired, burnt and used challenges all get the same 401. Every wrong code uses
    up one of the challenge's 5 attempts (the 5th burns it, which also bounds API.md §5's attempts
    per challenge); a guess also counts on the user's failure count, in the same write.
    """
    challenge_sk = challenges_store.sort_key(body.challengeId)
    principal = authenticate(caller.credential, also=(challenge_sk,))
    observability.identify(principal.user["userId"])
    for _ in range(WRITE_ATTEMPTS):
        user, session, challenge = principal.user, principal.session, principal.items.get(challenge_sk)
        codes.ensure_unlocked(user, codes.MFA)
        now = now_ms()
        if challenge is None or challenge.get("factor") is None or challenge["expire"] <= now:
            raise ApiError("user_invalid_token")
        factor = challenge["factor"]
        _not_the_starting_factor(session, factor)
        try:
            proof = _proof(user, challenge, body.otp)
            factors = with_factor(session, factor)
            completed = completion(user, session, factors, now)
            expire = completed.expire if completed else None
            step_up = predates_session(user, session, factor, proof.passkey_id or "")
            session_factors = mfa_store.factors_update(
                session, factors, now, challenged=True, expire=expire, step_up=step_up
            )
            event = activity.RECOVERY_CODE_USED if factor == "recoveryCode" else activity.CHALLENGE_COMPLETED
            log = activity.entry(user, event, caller)
            challenges_store.complete(challenge, proof, session_factors, now, completed, log)
        except codes.WrongCodeError as wrong:
            burn = challenge[challenges_store.ATTEMPTS] + 1 >= MAX_WRONG_CODES
            failures = codes.failure_count(user, codes.MFA) if wrong.guess else None
            log = activity.entry(user, activity.CHALLENGE_FAILED, caller) if wrong.guess else None
            try:
                challenges_store.record_wrong_code(challenge, failures, burn, now, log)
            except StaleError:
                principal = reload(principal, also=(challenge_sk,))
                continue  # counted meanwhile by a concurrent request: decide again on what is stored now
            observability.count("ChallengeFailed", factor=factor)
            if failures is not None:
                codes.count_failure(codes.MFA, failures)
            raise ApiError("user_invalid_token") from None
        except SpentError:
            raise ApiError("user_invalid_token") from None
        except StaleError:
            principal = reload(principal, also=(challenge_sk,))
            continue
        break
    else:
        raise ApiError("user_invalid_token")  # kept changing under us: not completed, never a 500
    observability.count("ChallengeCompleted", factor=factor)
    if factor == "recoveryCode":
        observability.count("RecoveryCodeUsed")
        remaining = len(unused_recovery_hashes(user)) - 1
        notices.notify(user, notices.RECOVERY_CODE_USED, caller.locale, remaining=str(remaining))
    changes = {"factors": factors, "mfaUpdatedAt": now, "updatedAt": now, **({"expire": expire} if expire else {})}
    return session_model({**session, **changes}, current=True)
