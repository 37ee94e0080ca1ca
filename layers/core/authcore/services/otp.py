"""Sign-in by a one-time code sent by email or SMS (API.md §4.4): the token, then the session."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from authcore import observability
from authcore.config import settings
from authcore.delivery import email, sms
from authcore.delivery.messages import render_email, render_sms
from authcore.errors import ApiError
from authcore.ids import resolve_id
from authcore.models.caller import Caller
from authcore.models.requests import EmailToken, PhoneToken, TokenSession
from authcore.models.responses import Token
from authcore.security.codes import is_code, keyed_hash, new_code_and_hash, new_phrase
from authcore.security.tokens import is_secret as oauth_token_secret
from authcore.services import codes, limits
from authcore.services.accounts import new_user
from authcore.services.auth import find_session
from authcore.services.sessions import NewSession, sign_in, start_session
from authcore.store import tokens as tokens_store
from authcore.store import users as users_store
from authcore.store.errors import ConflictError
from authcore.store.ratelimit import Charge
from authcore.store.tokens import TokenUse

SendCode = Callable[[str, dict[str, Any]], None]
# What a sign-in code proves: the factor the session starts with, and the session's provider.
SIGN_IN = {codes.EMAIL_SIGN_IN: ("email", "token"), codes.PHONE_SIGN_IN: ("phone", "phone")}


def _create_token(
    kind: str,
    address: str,
    requested_id: str,
    caller: Caller,
    charges: list[Charge],
    send_code: SendCode,
    phrase: str = "",
) -> Token:
    """Issue a sign-in code for the user holding `address`, creating that user if there is none."""
    field = codes.ADDRESS_FIELD[kind]
    new_id = resolve_id(requested_id)
    for _ in range(2):
        user_id = users_store.find_user_id(field, address)
        created = None if user_id else new_user(new_id, by_guest=True, **{field: address})
        user_id = user_id or new_id

        try:
            token = codes.issue_and_send(
                user_id=user_id,
                kind=kind,
                address=address,
                lifetime_ms=codes.CODE_LIFETIME_MS,
                charges=charges,
                make_secret=partial(new_code_and_hash, user_id),
                send=send_code,
                new_user=created,
                phrase=phrase,
                anonymous_from=caller.ip,
            )
        except ConflictError as conflict:
            if conflict.what == "user":
                raise ApiError("user_already_exists") from None
            continue  # the address was taken meanwhile: the code goes to that account instead
        return codes.token_model(token)
    raise ApiError("user_already_exists")


def create_email_token(body: EmailToken, caller: Caller) -> Token:
    """Email a six-digit sign-in code; an email no account holds gets a new account (unverified)."""
    if not email.enabled():
        raise ApiError("general_smtp_disabled")
    phrase = new_phrase() if body.phrase else ""

    def send_code(code: str, token: dict[str, Any]) -> None:
        variables = {"project": settings().project_name, "name": "", "code": code, "minutes": "10", "phrase": phrase}
        email.send(body.email, render_email("email-sign-in-code", caller.locale, variables))

    charges = [*limits.per_source("email-token", body.email, caller.ip), limits.hourly("email-token-ip", caller.ip)]
    return _create_token(codes.EMAIL_SIGN_IN, body.email, body.userId, caller, charges, send_code, phrase)


def create_phone_token(body: PhoneToken, caller: Caller) -> Token:
    """Text a six-digit sign-in code; a phone no account holds gets a new account (unverified)."""
    if not sms.enabled():
        raise ApiError("general_phone_disabled")

    def send_code(code: str, token: dict[str, Any]) -> None:
        variables = {"project": settings().project_name, "code": code, "minutes": "10"}
        sms.send(body.phone, render_sms("sms-sign-in-code", caller.locale, variables))

    charges = [*limits.per_source("phone-token", body.phone, caller.ip), limits.hourly("phone-token-ip", caller.ip)]
    return _create_token(codes.PHONE_SIGN_IN, body.phone, body.userId, caller, charges, send_code)


@sign_in("code")
def create_session(body: TokenSession, caller: Caller) -> NewSession:
    """Exchange a sign-in code for a session; the code also verifies the address it was sent to."""
    observability.identify(body.userId)  # the claimed user: lock-outs can be traced per user
    if caller.credential and find_session(caller.credential):
        raise ApiError("user_session_already_exists")
    limits.enforce_all(
        *limits.per_source("token-session", body.userId, caller.ip),
        limits.hourly("token-session-ip", caller.ip),
    )
    if oauth_token_secret(body.secret):  # the OAuth2 token flow's secret (256 bits, not a code)
        from authcore.services import oauth  # only for this kind of secret: keeps the code path light

        return oauth.session_from_token(body.userId, body.secret, caller)
    if not is_code(body.secret):
        raise ApiError("user_invalid_token")
    user, token = tokens_store.get_user_and_token(body.userId, keyed_hash(body.userId, body.secret))
    if user is None:
        raise ApiError("user_invalid_token")
    kinds = tuple(SIGN_IN)
    if codes.spent(token) or codes.burned(user, token):
        raise ApiError("user_invalid_token")  # a double submit, or a code retired by a burn: no guess (API.md §7)
    if not codes.usable(token, kinds, user):
        raise codes.wrong_code(user, codes.PRE_AUTH)
    if not user.get("status", True):
        raise ApiError("user_blocked")
    factor, provider = SIGN_IN[token["kind"]]

    def token_use_for(fresh: dict[str, Any]) -> TokenUse:
        if not codes.usable(token, kinds, fresh):
            raise ApiError("user_invalid_token")
        return codes.token_use(fresh, token, codes.is_first_proof(fresh, token))

    return start_session(
        user,
        caller,
        provider,
        [factor],
        provider_uid=token["address"],
        token_use_for=token_use_for,
        # Account pre-hijacking: whoever set the account up before this address was proven (a
        # sign-up with someone else's email, say) loses the sessions and password they made.
        end_all_sessions=codes.is_first_proof(user, token),
    )
