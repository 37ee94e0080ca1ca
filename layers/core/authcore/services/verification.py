"""Email verification by link or code, phone verification by code (API.md §4.3, §8)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authcore import observability
from authcore.clock import iso
from authcore.config import settings
from authcore.delivery import email, sms
from authcore.delivery.messages import name_for, render_email, render_sms
from authcore.errors import ApiError
from authcore.models.caller import Caller
from authcore.models.responses import Token
from authcore.security.codes import is_code, keyed_hash, new_code_and_hash, new_phrase
from authcore.security.tokens import digest, new_secret_and_digest
from authcore.services import codes, limits
from authcore.services.auth import Principal
from authcore.store.ratelimit import Charge

if TYPE_CHECKING:  # annotations only: a function that takes no body never imports the request models
    from authcore.models.requests import CreateEmailVerification, CreateEmailVerificationCode, UpdateVerification


def link(url: str, **params: str) -> str:
    """`url` with `params` added to its query (existing parameters and the fragment are kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


def _unverified(principal: Principal, kind: str) -> None:
    user = principal.user
    if not user.get(kind):
        raise ApiError(f"user_{kind}_not_found")
    if user.get(f"{kind}Verification"):
        raise ApiError(f"user_{kind}_already_verified")


def create_email_verification(principal: Principal, body: CreateEmailVerification, caller: Caller) -> Token:
    """Email the user a single-use link to `url` carrying userId, secret and expire (valid 1 hour)."""
    if not email.enabled():
        raise ApiError("general_smtp_disabled")
    _unverified(principal, "email")
    user = principal.user
    address = user["email"]

    def send(secret: str, token: dict) -> None:
        url = link(body.url, userId=user["userId"], secret=secret, expire=iso(token["expire"]))
        variables = {"project": settings().project_name, "name": name_for(user), "url": url, "minutes": "60"}
        email.send(address, render_email("email-verification", caller.locale, variables))

    token = codes.issue_and_send(
        user_id=user["userId"],
        kind=codes.EMAIL_VERIFICATION,
        address=address,
        lifetime_ms=codes.LINK_LIFETIME_MS,
        charges=[limits.hourly("verify-email", user["userId"])],
        make_secret=new_secret_and_digest,
        send=send,
    )
    return codes.token_model(token)


def update_email_verification(body: UpdateVerification, caller: Caller) -> Token:
    """Follow the link: the secret is spent and the email it was sent to becomes verified."""
    observability.identify(body.userId)
    limits.enforce_all(*limits.per_source("confirm-email", body.userId, caller.ip))
    _, token = codes.verify(body.userId, digest(body.secret), codes.EMAIL_VERIFICATION, counts_failures=False)
    return codes.token_model(token)


def _create_code(
    principal: Principal,
    kind: str,
    charges: list[Charge],
    send: Callable[[str, str], None],
    phrase: str = "",
) -> Token:
    """Send a six-digit code (valid 10 minutes) verifying the user's address of `kind`: `send(address, code)`."""
    field = codes.ADDRESS_FIELD[kind]
    _unverified(principal, field)
    user = principal.user
    address = user[field]

    def deliver(code: str, token: dict[str, Any]) -> None:
        send(address, code)

    token = codes.issue_and_send(
        user_id=user["userId"],
        kind=kind,
        address=address,
        lifetime_ms=codes.CODE_LIFETIME_MS,
        charges=charges,
        make_secret=partial(new_code_and_hash, user["userId"]),
        send=deliver,
        phrase=phrase,
    )
    return codes.token_model(token)


def _confirm_code(body: UpdateVerification, caller: Caller, kind: str, bucket: str) -> Token:
    """Spend a verification code: the address it was sent to becomes verified. Wrong codes count (PRE_AUTH)."""
    observability.identify(body.userId)
    limits.enforce_all(*limits.per_source(bucket, body.userId, caller.ip))
    if not is_code(body.secret):
        raise ApiError("user_invalid_token")
    _, token = codes.verify(body.userId, keyed_hash(body.userId, body.secret), kind, counts_failures=True)
    return codes.token_model(token)


def create_email_verification_code(principal: Principal, body: CreateEmailVerificationCode, caller: Caller) -> Token:
    """Email the user a six-digit code that verifies the email, for apps that host no verification page. It shares
    the link's hourly limit: one budget of verification emails per user, whichever kind is asked for."""
    if not email.enabled():
        raise ApiError("general_smtp_disabled")
    phrase = new_phrase() if body.phrase else ""
    user = principal.user

    def send(address: str, code: str) -> None:
        variables = {
            "project": settings().project_name,
            "name": name_for(user),
            "code": code,
            "minutes": "10",
            "phrase": phrase,
        }
        email.send(address, render_email("email-verification-code", caller.locale, variables))

    charges = [limits.hourly("verify-email", user["userId"])]
    return _create_code(principal, codes.EMAIL_VERIFICATION_CODE, charges, send, phrase)


def update_email_verification_code(body: UpdateVerification, caller: Caller) -> Token:
    """Type the emailed code: it is spent and the email it was sent to becomes verified."""
    return _confirm_code(body, caller, codes.EMAIL_VERIFICATION_CODE, "confirm-email")


def create_phone_verification(principal: Principal, caller: Caller) -> Token:
    """Text the user a six-digit code (valid 10 minutes)."""
    if not sms.enabled():
        raise ApiError("general_phone_disabled")

    def send(phone: str, code: str) -> None:
        variables = {"project": settings().project_name, "code": code, "minutes": "10"}
        sms.send(phone, render_sms("sms-verification-code", caller.locale, variables))

    user_id = principal.user["userId"]
    charges = [limits.hourly("verify-phone", user_id), limits.hourly("verify-phone-ip", caller.ip)]
    return _create_code(principal, codes.PHONE_VERIFICATION, charges, send)


def update_phone_verification(body: UpdateVerification, caller: Caller) -> Token:
    """Type the code: it is spent and the phone it was sent to becomes verified. Wrong codes count."""
    return _confirm_code(body, caller, codes.PHONE_VERIFICATION, "confirm-phone")
