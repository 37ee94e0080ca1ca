"""Password recovery by an emailed link or six-digit code (API.md §8, §7).

Asking tells nothing about the address: an address no account holds gets the same 201 (with a stand-in
user id, generated as a real one is and kept, so that it stays the same for that address), after the same
calls, limits and budgets and about the time a send takes, and nothing is sent. The reset spends the
secret, sets the password and ends every session in one transaction; it leaves MFA as it was and does
not verify the email (docs/security.md §19 says why).
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from authcore import observability
from authcore.clock import iso, now_ms
from authcore.config import settings
from authcore.delivery import email
from authcore.delivery.messages import render_email
from authcore.errors import ApiError
from authcore.ids import unique_id
from authcore.models.caller import Caller
from authcore.models.responses import Token
from authcore.security.codes import is_code, keyed_hash, new_code_and_hash, new_phrase
from authcore.security.passwords import hash_password
from authcore.security.tokens import digest, new_secret_and_digest
from authcore.services import activity, codes, limits, notices
from authcore.services.verification import link
from authcore.store import sessions as sessions_store
from authcore.store import users as users_store
from authcore.store.errors import LimitError, StaleError
from authcore.store.ratelimit import Charge
from authcore.store.tokens import TokenUse

if TYPE_CHECKING:  # annotations only: a function that takes no body never imports the request models
    from authcore.models.requests import CreateRecovery, CreateRecoveryOtp, UpdateRecovery

# Until this container has sent an email, what handing one to SES takes (seconds, in-region, typical).
FIRST_SEND_GUESS = 0.06
SEND_SAMPLES = 16
# How long the stand-in id of an email no account holds is kept after its last ask.
STAND_IN_DAYS = 400


class SendPace:
    """How long handing a recovery email over took in this container lately (the median of the last
    few sends), so that the answer for an address no account holds takes as long as one that sends."""

    def __init__(self) -> None:
        self.samples: deque[float] = deque([FIRST_SEND_GUESS], maxlen=SEND_SAMPLES)

    def timed(self, send: Callable[[], None]) -> None:
        started = time.perf_counter()
        send()
        self.samples.append(time.perf_counter() - started)

    def wait(self) -> None:
        time.sleep(statistics.median(self.samples))


pace = SendPace()

# What a secret of each kind is made of, for the user it goes to.
MakeSecret = Callable[[str], tuple[str, str]]
SendSecret = Callable[[str, dict[str, Any]], None]


def _issue(
    address: str,
    caller: Caller,
    kind: str,
    lifetime_ms: int,
    make_secret: MakeSecret,
    send: SendSecret,
    phrase: str = "",
) -> Token:
    """Send a recovery secret of `kind` to the account holding `address`; the same answer without one."""
    if not email.enabled():
        raise ApiError("general_smtp_disabled")
    charges = [*limits.per_source(f"{kind}-email", address, caller.ip), limits.hourly(f"{kind}-ip", caller.ip)]
    for _ in range(codes.ISSUE_ATTEMPTS):
        user_id, stand_in = users_store.find_user_id_or_stand_in(address)
        if user_id is None:
            try:
                return _stand_in(address, stand_in or unique_id(), caller, lifetime_ms, make_secret, charges, phrase)
            except StaleError:
                continue  # another request kept a stand-in for this address meanwhile: answer with that one
        token = codes.issue_and_send(
            user_id=user_id,
            kind=kind,
            address=address,
            lifetime_ms=lifetime_ms,
            charges=charges,
            make_secret=partial(make_secret, user_id),
            send=lambda secret, token: pace.timed(partial(send, secret, token)),
            phrase=phrase,
            anonymous_from=caller.ip,  # anyone may ask: a stranger cannot use up the budget of MFA codes
        )
        return codes.token_model(token)
    raise limits.contended("Too many requests for this address at once. Please try again.")


def _stand_in(
    address: str,
    user_id: str,
    caller: Caller,
    lifetime_ms: int,
    make_secret: MakeSecret,
    charges: list[Charge],
    phrase: str,
) -> Token:
    """The answer for an address no account holds, as `user_id`: the id answered for it before (kept for
    STAND_IN_DAYS after the last ask, so asking again tells nothing), or a new one generated as a real
    account's is. The same work as a real answer: a secret and its hash, the same limits, cooldown and
    budgets in one write (keeping the id), about a send's time. No token is stored and nothing is sent."""
    make_secret(user_id)
    now = int(time.time())
    charges = [*charges, *codes.message_charges("email", address, user_id, caller.ip)]
    try:
        users_store.keep_stand_in(address, user_id, charges, now, now + STAND_IN_DAYS * limits.DAY)
    except LimitError as limited:
        raise limits.limit_reached(limited, now) from None
    pace.wait()
    created = now_ms()
    token = {"tokenId": unique_id(), "createdAt": created, "userId": user_id, "expire": created + lifetime_ms}
    return codes.token_model({**token, "phrase": phrase})


def create_recovery(body: CreateRecovery, caller: Caller) -> Token:
    """Email a single-use link to `url` carrying userId, secret and expire (valid 1 hour)."""

    def send(secret: str, token: dict[str, Any]) -> None:
        url = link(body.url, userId=token["userId"], secret=secret, expire=iso(token["expire"]))
        variables = {"project": settings().project_name, "url": url, "minutes": "60"}
        email.send(body.email, render_email("email-recovery", caller.locale, variables))

    return _issue(body.email, caller, codes.RECOVERY, codes.LINK_LIFETIME_MS, lambda _: new_secret_and_digest(), send)


def create_recovery_otp(body: CreateRecoveryOtp, caller: Caller) -> Token:
    """Email a six-digit code (valid 15 minutes), with a security phrase if asked."""
    phrase = new_phrase() if body.phrase else ""

    def send(code: str, token: dict[str, Any]) -> None:
        variables = {"project": settings().project_name, "code": code, "minutes": "15", "phrase": phrase}
        email.send(body.email, render_email("email-recovery-code", caller.locale, variables))

    return _issue(
        body.email, caller, codes.RECOVERY_CODE, codes.RECOVERY_CODE_LIFETIME_MS, new_code_and_hash, send, phrase
    )


def update_recovery(body: UpdateRecovery, caller: Caller) -> Token:
    """Follow the link: a new password, every session ended. A wrong link secret is not counted (256 bits)."""
    _limit(body, caller)
    return _reset(body, caller, codes.RECOVERY, digest(body.secret))


def update_recovery_otp(body: UpdateRecovery, caller: Caller) -> Token:
    """Type the code: as update_recovery; a wrong code counts on the pre-auth counter (API.md §7)."""
    _limit(body, caller)
    if not is_code(body.secret):
        raise ApiError("user_invalid_token")
    return _reset(body, caller, codes.RECOVERY_CODE, keyed_hash(body.userId, body.secret))


def _limit(body: UpdateRecovery, caller: Caller) -> None:
    observability.identify(body.userId)  # the claimed user: attempts can be traced per user
    limits.enforce_all(
        *limits.per_source("recovery-reset", body.userId, caller.ip), limits.hourly("recovery-reset-ip", caller.ip)
    )


def _reset(body: UpdateRecovery, caller: Caller, kind: str, hashed: str) -> Token:
    """Spend the secret: set the password and end every session of the user, MFA untouched; then the notice."""
    password_hash = ""  # nosec B105 - set once below, by hash_password

    def reset(user: dict[str, Any], use: TokenUse) -> None:
        nonlocal password_hash
        if not user.get("status", True):
            raise ApiError("user_blocked")  # the secret stays usable, like a refused password (SDK 27)
        password_hash = password_hash or hash_password(body.password)  # once, however many retries
        now = use.now
        changes = {"passwordHash": password_hash, "passwordUpdate": now, "updatedAt": now}
        # Not a proof of the address: see the module docstring. The activity log's entry rides in the same write.
        log = activity.entry(user, activity.PASSWORD_RECOVERED, caller)
        sessions_store.reset_password(user, replace(use, proves_address=False), changes, log)

    user, token = codes.verify(body.userId, hashed, kind, counts_failures=kind in codes.GUESSABLE, spend=reset)
    observability.count("PasswordReset", method="link" if kind == codes.RECOVERY else "code")
    notices.notify(user, notices.PASSWORD_RESET, caller.locale)
    return codes.token_model(token)
