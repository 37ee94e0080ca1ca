"""Sign-in by a one-time code sent by email or SMS, or by an emailed link (API.md §4.4, §8): the token, then
the session."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from authcore import observability
from authcore.clock import iso, now_ms
from authcore.config import settings
from authcore.delivery import email, sms
from authcore.delivery.messages import render_email, render_sms
from authcore.errors import ApiError
from authcore.ids import resolve_id
from authcore.models.caller import Caller
from authcore.models.responses import Token
from authcore.security.codes import (
    is_code,
    is_link_secret,
    keyed_hash,
    new_code_and_hash,
    new_link_secret_and_hash,
    new_phrase,
)
from authcore.services import activity, codes, limits
from authcore.services.accounts import new_user
from authcore.services.auth import find_session
from authcore.services.sessions import NewSession, sign_in, start_session
from authcore.services.verification import link
from authcore.store import tokens as tokens_store
from authcore.store import users as users_store
from authcore.store.errors import ConflictError
from authcore.store.passkeys import SIGN_IN_KIND
from authcore.store.ratelimit import Charge
from authcore.store.tokens import TokenUse

if TYPE_CHECKING:  # annotations only: a function that takes no body never imports the request models
    from authcore.models.requests import EmailToken, MagicUrlToken, PhoneToken, TokenSession

SendCode = Callable[[str, dict[str, Any]], None]
# What a sign-in code or link proves: the factor the session starts with, and the session's provider.
SIGN_IN = {
    codes.EMAIL_SIGN_IN: ("email", "token"),
    codes.PHONE_SIGN_IN: ("phone", "phone"),
    codes.MAGIC_URL_SIGN_IN: ("email", "magic-url"),
}


def _create_token(
    kind: str,
    address: str,
    requested_id: str,
    caller: Caller,
    charges: list[Charge],
    send_code: SendCode,
    phrase: str = "",
    lifetime_ms: int = codes.CODE_LIFETIME_MS,
    make_secret: Callable[[str], tuple[str, str]] = new_code_and_hash,
) -> Token:
    """Issue a sign-in code (or link: `make_secret(userId)`) for the user holding `address`, creating that
    user if there is none."""
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
                lifetime_ms=lifetime_ms,
                charges=charges,
                make_secret=partial(make_secret, user_id),
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

    return _create_token(
        codes.EMAIL_SIGN_IN, body.email, body.userId, caller, _email_charges(body, caller), send_code, phrase
    )


def _email_charges(body: EmailToken, caller: Caller) -> list[Charge]:
    """The limits of asking for a sign-in email, code and link alike: one budget, whichever is asked for."""
    return [*limits.per_source("email-token", body.email, caller.ip), limits.hourly("email-token-ip", caller.ip)]


def create_magic_url_token(body: MagicUrlToken, caller: Caller) -> Token:
    """Email a sign-in link to `url` (an allowed app origin) carrying userId, secret and expire (valid 1 hour);
    an email no account holds gets a new account (unverified). The secret goes to POST /account/sessions/token."""
    if not email.enabled():
        raise ApiError("general_smtp_disabled")
    phrase = new_phrase() if body.phrase else ""

    def send_link(secret: str, token: dict[str, Any]) -> None:
        url = link(body.url, userId=token["userId"], secret=secret, expire=iso(token["expire"]))
        variables = {"project": settings().project_name, "name": "", "url": url, "minutes": "60", "phrase": phrase}
        email.send(body.email, render_email("email-sign-in-link", caller.locale, variables))

    return _create_token(
        codes.MAGIC_URL_SIGN_IN,
        body.email,
        body.userId,
        caller,
        _email_charges(body, caller),
        send_link,
        phrase,
        lifetime_ms=codes.LINK_LIFETIME_MS,
        make_secret=new_link_secret_and_hash,
    )


def create_phone_token(body: PhoneToken, caller: Caller) -> Token:
    """Text a six-digit sign-in code; a phone no account holds gets a new account (unverified)."""
    if not sms.enabled():
        raise ApiError("general_phone_disabled")

    def send_code(code: str, token: dict[str, Any]) -> None:
        variables = {"project": settings().project_name, "code": code, "minutes": "10"}
        sms.send(body.phone, render_sms("sms-sign-in-code", caller.locale, variables))

    charges = [*limits.per_source("phone-token", body.phone, caller.ip), limits.hourly("phone-token-ip", caller.ip)]
    return _create_token(codes.PHONE_SIGN_IN, body.phone, body.userId, caller, charges, send_code)


def _passkey_session(user: dict[str, Any], token: dict[str, Any], caller: Caller) -> NewSession:
    """Exchange the token a passkey sign-in earned (API.md §9): the session starts with `passkey`, which
    passes the MFA gate on its own (the passkey verified its user)."""
    if token["expire"] <= now_ms() or codes.spent(token):
        raise ApiError("user_invalid_token")
    if not user.get("status", True):
        raise ApiError("user_blocked")

    def token_use_for(fresh: dict[str, Any]) -> TokenUse:
        return TokenUse(
            token_hash=token["hash"],
            kinds=(SIGN_IN_KIND,),
            now=now_ms(),
            address_field="",
            address="",
            failures=codes.failure_count(fresh, codes.PRE_AUTH),
        )

    passkey_id = token["passkeyId"]
    return start_session(user, caller, "passkey", ["passkey"], provider_uid=passkey_id, token_use_for=token_use_for)


@sign_in("code")
def create_session(body: TokenSession, caller: Caller) -> NewSession:
    """Exchange a sign-in code or link secret for a session; it also verifies the address it was sent to.
    Also served as the deprecated PUT /account/sessions/magic-url and PUT /account/sessions/phone."""
    observability.identify(body.userId)  # the claimed user: lock-outs can be traced per user
    if caller.credential and find_session(caller.credential):
        raise ApiError("user_session_already_exists")
    limits.enforce_all(
        *limits.per_source("token-session", body.userId, caller.ip),
        limits.hourly("token-session-ip", caller.ip),
    )
    if not (is_code(body.secret) or is_link_secret(body.secret)):
        raise ApiError("user_invalid_token")
    # Codes, sign-in links and the tokens a passkey or an OAuth2 flow earned are all keyed hashes: one lookup,
    # then the kind decides.
    user, token = tokens_store.get_user_and_token(body.userId, keyed_hash(body.userId, body.secret))
    if user is None:
        raise ApiError("user_invalid_token")
    if token is not None and token.get("kind") == SIGN_IN_KIND:
        return _passkey_session(user, token, caller)
    if token is not None and token.get("kind") == "oauth2":  # the OAuth2 token flow's secret
        from authcore.services import oauth  # only for this kind of token: keeps the code path light

        return oauth.session_from_token(user, token, caller)
    kinds = tuple(SIGN_IN)
    if codes.spent(token) or codes.burned(user, token):
        raise ApiError("user_invalid_token")  # a double submit, or a code retired by a burn: no guess (API.md §7)
    if not codes.usable(token, kinds, user):
        refusal = codes.wrong_code(user, codes.PRE_AUTH)
        activity.record(user, activity.SIGN_IN_FAILED, caller)
        raise refusal
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
