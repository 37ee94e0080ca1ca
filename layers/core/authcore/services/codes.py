"""One-time codes and link secrets: issuing them with their message, spending them once, and the
per-user counts of wrong codes (API.md §4.3, §4.4, §4.6, §7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authcore import observability
from authcore.clock import iso, now_ms
from authcore.config import settings
from authcore.delivery.errors import DeliveryError
from authcore.errors import ApiError
from authcore.ids import unique_id
from authcore.models.responses import Token
from authcore.observability import logger
from authcore.services import limits
from authcore.services.limits import DAY, HOUR, rate_limited
from authcore.store import tokens as tokens_store
from authcore.store import users as users_store
from authcore.store.errors import ConflictError, LimitError, SpentError, StaleError
from authcore.store.ratelimit import Charge
from authcore.store.tokens import TokenUse
from authcore.store.users import guest_flag

CODE_LIFETIME_MS = 10 * 60 * 1000
LINK_LIFETIME_MS = 60 * 60 * 1000
RECOVERY_CODE_LIFETIME_MS = 15 * 60 * 1000  # as Appwrite's createRecoveryOTP documents
SEND_COOLDOWN_SECONDS = 60
ISSUE_ATTEMPTS = 3
WRITE_ATTEMPTS = 5

# Wrong MFA answers: the first FREE_FAILURES cost nothing; from then on each one locks MFA code checks for
# a doubling time (capped), and at MAX_FAILURES they stay locked until a success is recorded by an operator.
# Wrong codes without a session never lock: every BURN_AFTER-th burns the user's live codes instead.
FREE_FAILURES = 10
MAX_FAILURES = 100
FIRST_LOCK_SECONDS = 30
LONGEST_LOCK_SECONDS = 24 * HOUR

# Token kinds and what they prove.
EMAIL_VERIFICATION = "emailVerification"
PHONE_VERIFICATION = "phoneVerification"
EMAIL_SIGN_IN = "emailOtp"
PHONE_SIGN_IN = "phoneOtp"
EMAIL_CHALLENGE = "emailChallenge"
PHONE_CHALLENGE = "phoneChallenge"
EMAIL_VERIFICATION_CODE = "emailVerificationOtp"
MAGIC_URL_SIGN_IN = "magicUrl"
RECOVERY = "recovery"  # a password reset link
RECOVERY_CODE = "recoveryOtp"  # a password reset code
# The guessable codes (six digits) checked without a session: counted on PRE_AUTH, and retired by its burns.
# Not links (email verification, magic URL, recovery): 256-bit secrets a stranger must not be able to retire.
GUESSABLE = (EMAIL_SIGN_IN, PHONE_SIGN_IN, PHONE_VERIFICATION, EMAIL_VERIFICATION_CODE, RECOVERY_CODE)
ADDRESS_FIELD = {
    EMAIL_VERIFICATION: "email",
    EMAIL_VERIFICATION_CODE: "email",
    RECOVERY: "email",
    RECOVERY_CODE: "email",
    EMAIL_SIGN_IN: "email",
    MAGIC_URL_SIGN_IN: "email",
    EMAIL_CHALLENGE: "email",
    PHONE_VERIFICATION: "phone",
    PHONE_SIGN_IN: "phone",
    PHONE_CHALLENGE: "phone",
}


def token_model(token: dict[str, Any]) -> Token:
    """What the client sees: never the secret (end-user callers get "")."""
    return Token(
        id=token["tokenId"],
        createdAt=iso(token["createdAt"]),
        userId=token["userId"],
        secret="",  # a token's secret never goes to an end-user caller  # nosec B106
        expire=iso(token["expire"]),
        phrase=token.get("phrase", ""),
    )


UNAVAILABLE = {"email": "general_smtp_disabled", "sms": "general_phone_disabled"}


def send_cooldown(channel: str, address: str) -> Charge:
    """At most one email or SMS per destination per minute, whatever it carries."""
    return Charge(f"send-{channel}", address, 1, SEND_COOLDOWN_SECONDS, cooldown=True)


# Sign-in codes one source address may have sent to one destination a day: no single address can use up
# the destination's anonymous half (API.md §7, docs/security.md §2).
ANONYMOUS_PER_SOURCE_PER_DAY = 3


def message_charges(channel: str, address: str, user_id: str, anonymous_from: str = "") -> list[Charge]:
    """Everything one message to `address` spends: the send cooldown and the budgets (send_budgets)."""
    return [send_cooldown(channel, address), *send_budgets(channel, address, user_id, anonymous_from)]


def send_budgets(channel: str, address: str, user_id: str, anonymous_from: str = "") -> list[Charge]:
    """What one message spends besides the cooldown: the destination's and the user's daily budgets,
    and the deployment's hourly one (settings().budgets).

    An anonymous message (a sign-in code anyone may ask for; `anonymous_from` is the asking source
    address) may also use at most half of the destination's and the user's daily budgets, and one
    source address at most ANONYMOUS_PER_SOURCE_PER_DAY of them: a stranger cannot use up the rest,
    which carries the messages of signed-in sessions (MFA codes, verification), and needs several
    addresses to use up the anonymous half (API.md §7, docs/security.md §2).
    """
    budgets = settings().budgets
    per_destination, per_hour = (
        (budgets.email_per_destination_per_day, budgets.email_per_hour)
        if channel == "email"
        else (budgets.sms_per_destination_per_day, budgets.sms_per_hour)
    )
    charges = [
        Charge(f"send-{channel}-day", address, per_destination, DAY),
        Charge("send-user-day", user_id, budgets.messages_per_user_per_day, DAY),
        Charge(f"send-{channel}-all", "deployment", per_hour, HOUR),
    ]
    if anonymous_from:
        charges += [
            Charge(f"send-{channel}-day-anonymous", address, max(per_destination // 2, 1), DAY),
            Charge("send-user-day-anonymous", user_id, max(budgets.messages_per_user_per_day // 2, 1), DAY),
            Charge(f"send-{channel}-day-source", f"{address} {anonymous_from}", ANONYMOUS_PER_SOURCE_PER_DAY, DAY),
        ]
    return charges


def ensure_sms_allowed(phone: str) -> None:
    """400 for a number outside SmsAllowedCountries (when that list is set): no SMS is ever sent there."""
    allowed = settings().sms_countries
    if not allowed:
        return
    import phonenumbers  # on first use: most requests never text

    if phonenumbers.region_code_for_number(phonenumbers.parse(phone, None)) not in allowed:
        raise ApiError("general_argument_invalid", "Invalid `phone` param: SMS to this country is not enabled.")


# --- the failure counters ------------------------------------------------------------------------

# The two per-user counts of consecutive wrong codes (API.md §7): codes presented without a session,
# which burn the user's live codes (users_store.Failures), and wrong answers of signed-in sessions,
# which lock MFA code checks. A success resets only its own count.
PRE_AUTH = users_store.PRE_AUTH
MFA = users_store.MFA
BURN_AFTER = users_store.BURN_AFTER


class WrongCodeError(Exception):
    """A code that proves nothing. A `guess` (well-formed, never valid) counts against the user; a
    malformed or already-used code does not, but still uses up one of a challenge's attempts."""

    def __init__(self, guess: bool = True) -> None:
        super().__init__("wrong code")
        self.guess = guess


def failure_count(user: dict[str, Any], counter: users_store.Failures) -> int:
    """Consecutive wrong codes of the user on `counter`, as read."""
    return user.get(counter.count, 0)


def lock_seconds(failures: int) -> int:
    """How long MFA code checks stay locked after the `failures`-th consecutive wrong answer."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_LOCK_SECONDS * 2 ** min(failures - FREE_FAILURES, 32), LONGEST_LOCK_SECONDS)


def ensure_unlocked(user: dict[str, Any], counter: users_store.Failures) -> None:
    """429 while the code checks that `counter` guards are locked by consecutive wrong codes. A count
    that burns (PRE_AUTH) never locks: a stranger could keep the owner out with it."""
    if counter.burned:
        return
    failures = failure_count(user, counter)
    now = now_ms()
    if failures >= MAX_FAILURES:
        raise rate_limited(MAX_FAILURES, now // 1000 + LONGEST_LOCK_SECONDS)
    reopens = user.get(counter.at, 0) + lock_seconds(failures) * 1000
    if failures >= FREE_FAILURES and now < reopens:
        raise rate_limited(FREE_FAILURES, -(-reopens // 1000))


def count_failure(counter: users_store.Failures, previous: int) -> None:
    """Metrics for one recorded wrong code after `previous` ones: the attack signal (CodeLockout) is a
    burn, or on a count that locks, each wrong code from the FREE_FAILURES-th on (each (re)locks)."""
    if counter.burns(previous) or (not counter.burned and previous + 1 >= FREE_FAILURES):
        observability.count("CodeLockout")


def wrong_code(user: dict[str, Any], counter: users_store.Failures) -> ApiError:
    """Count a wrong code on `counter` (exactly once, under any concurrency) and return the 401."""
    for _ in range(WRITE_ATTEMPTS):
        fresh = users_store.record_code_failure(user["userId"], counter, failure_count(user, counter), now_ms())
        if fresh is None:  # counted
            count_failure(counter, failure_count(user, counter))
            return ApiError("user_invalid_token")
        if not fresh.get("userId"):  # the user is gone
            return ApiError("user_invalid_token")
        user = fresh
        ensure_unlocked(user, counter)
    raise rate_limited(FREE_FAILURES, now_ms() // 1000 + FIRST_LOCK_SECONDS)


def burned(user: dict[str, Any], token: dict[str, Any] | None) -> bool:
    """A guessable code issued at or before the user's last burn: dead, so presenting it (even the right
    one) is no guess and is not counted."""
    if token is None or token.get("kind") not in GUESSABLE:
        return False
    return token["createdAt"] <= user.get(PRE_AUTH.burned, -1)


# --- issuing -------------------------------------------------------------------------------------


def issue_and_send(
    *,
    user_id: str,
    kind: str,
    address: str,
    lifetime_ms: int,
    charges: list[Charge],
    make_secret: Callable[[], tuple[str, str]],
    send: Callable[[str, dict[str, Any]], None],
    new_user: dict[str, Any] | None = None,
    phrase: str = "",
    fields: dict[str, Any] | None = None,
    key_of: Callable[[dict[str, Any]], dict[str, str]] = tokens_store.key_of,
    anonymous_from: str = "",
) -> dict[str, Any]:
    """Store a token (spending `charges` and the address's send cooldown, creating `new_user` with
    it), then send its secret to `address`.

    `make_secret` returns (secret, stored hash); `send(secret, token)` delivers it and raises
    DeliveryError on failure, in which case everything is undone and the client gets a 503.
    `fields` are stored on the token too; `key_of(token)` is where it is stored (an MFA challenge
    goes by its id, a code by its hash). `anonymous_from`: the source address, when no session asked
    for it (see send_budgets).
    Raises ConflictError when `new_user` collides with an existing user.
    """
    channel = "email" if ADDRESS_FIELD[kind] == "email" else "sms"
    if channel == "sms":
        ensure_sms_allowed(address)
    charges = [*charges, *message_charges(channel, address, user_id, anonymous_from)]
    now = now_ms()
    for _ in range(ISSUE_ATTEMPTS):
        secret, hashed = make_secret()
        token = {
            "hash": hashed,
            "tokenId": unique_id(),
            "userId": user_id,
            "kind": kind,
            "address": address,
            "createdAt": now,
            "expire": now + lifetime_ms,
            "ttl": (now + lifetime_ms) // 1000 + HOUR,
            "phrase": phrase,
            **(fields or {}),
        }
        try:
            tokens_store.issue(token, charges, now // 1000, new_user, key_of(token))
            break
        except LimitError as limited:
            raise limits.limit_reached(limited, now // 1000) from None
        except ConflictError as conflict:
            if conflict.what != "token":
                raise
            # A live token of this user has the same code: draw another one.
    else:
        raise ApiError("general_server_error")
    try:
        send(secret, token)
    except DeliveryError as error:
        logger.warning("message not sent; withdrawing its token", extra={"kind": kind, "reason": str(error)})
        try:
            tokens_store.withdraw(token, charges, now // 1000, new_user, key_of(token))
        except Exception:
            # The code never left us, so the token is useless to anyone; TTL removes it.
            logger.exception("token not withdrawn after a failed send", extra={"kind": kind})
        raise ApiError(UNAVAILABLE[channel], "The message could not be sent. Please try again later.") from None
    return token


# --- spending ------------------------------------------------------------------------------------


def spent(token: dict[str, Any] | None) -> bool:
    """The code or link was used already (a double submit, a retry): no guess, so never counted."""
    return token is not None and tokens_store.SPENT in token


def usable(token: dict[str, Any] | None, kinds: tuple[str, ...], user: dict[str, Any]) -> bool:
    """The token exists unspent and unburned, is of an accepted kind, is unexpired, and was sent to the user's
    current address."""
    if token is None or spent(token) or burned(user, token):
        return False
    if token.get("kind") not in kinds or token["expire"] <= now_ms():
        return False
    return user.get(ADDRESS_FIELD[token["kind"]], "") == token.get("address")


def token_use(user: dict[str, Any], token: dict[str, Any], first_proof: bool = False) -> TokenUse:
    """Spending `token` for `user` as read: the write fails if the user changed in between."""
    address_field = ADDRESS_FIELD[token["kind"]]
    return TokenUse(
        token_hash=token["hash"],
        kinds=(token["kind"],),
        now=now_ms(),
        address_field=address_field,
        address=token["address"],
        failures=failure_count(user, PRE_AUTH),
        first_proof=first_proof,
        other_address=user.get(users_store.OTHER_ADDRESS[address_field], "") if first_proof else "",
        newly_verified=not user.get(f"{address_field}Verification", False),
        guessable=token["kind"] in GUESSABLE,
        created_at=token["createdAt"],
    )


def is_first_proof(user: dict[str, Any], token: dict[str, Any]) -> bool:
    """A sign-in code to an address that an unauthenticated caller put on the account (sign-up, token
    creation) and nobody has proven since (API.md §7). Never one that a signed-in session or the Users
    API set: its code sign-in must not end the owner's sessions or drop their password and MFA."""
    field = ADDRESS_FIELD[token["kind"]]
    return not user.get(f"{field}Verification", False) and user.get(guest_flag(field), True)


def verify(
    user_id: str,
    hashed: str,
    kind: str,
    counts_failures: bool,
    spend: Callable[[dict[str, Any], TokenUse], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Spend a token for what it proves. Returns the user (as read before) and the token.

    By default the address it was sent to becomes verified; `spend(user, use)` does something else with
    it instead (and raises SpentError or StaleError as tokens_store.spend does).
    `counts_failures` for guessable codes: a wrong code counts on PRE_AUTH (a spent or burned one does not).
    """
    for _ in range(WRITE_ATTEMPTS):
        user, token = tokens_store.get_user_and_token(user_id, hashed)
        if user is None:
            raise ApiError("user_invalid_token")
        if not usable(token, (kind,), user):
            counted = counts_failures and not spent(token) and not burned(user, token)
            raise wrong_code(user, PRE_AUTH) if counted else ApiError("user_invalid_token")
        try:
            (spend or _verify_address)(user, token_use(user, token))
        except SpentError:
            raise ApiError("user_invalid_token") from None
        except StaleError:
            continue  # the profile changed (a failure was counted, the address changed): decide again
        return user, token
    raise ApiError("user_invalid_token")


def _verify_address(user: dict[str, Any], use: TokenUse) -> None:
    tokens_store.spend(user["userId"], use)
