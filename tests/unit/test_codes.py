"""One-time codes: the MFA wrong-code lock, the pre-auth burn, spending a token once, issuing with its
message; the code primitives."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

import authcore.security.codes as code_primitives
from authcore.delivery.errors import DeliveryError
from authcore.errors import ApiError
from authcore.security.codes import keyed_hash, new_code, new_phrase
from authcore.services import codes
from authcore.store import users as real_users_store
from authcore.store.errors import ConflictError, LimitError, SpentError, StaleError
from authcore.store.ratelimit import Charge

from .fakes import FakeCodeFailures, FakeTokens

NOW = 1_700_000_000_123  # epoch ms, deliberately not a whole second
FAILURES = real_users_store.MFA.count
FAILED_AT = real_users_store.MFA.at
PRE_AUTH_FAILURES = real_users_store.PRE_AUTH.count
PRE_AUTH_FAILED_AT = real_users_store.PRE_AUTH.at
BURNED_AT = real_users_store.PRE_AUTH.burned


@pytest.fixture
def clock(monkeypatch):
    """A settable now_ms for services.codes."""
    state = {"now": NOW}
    monkeypatch.setattr(codes, "now_ms", lambda: state["now"])
    return state


@pytest.fixture
def failures(monkeypatch):
    fake = FakeCodeFailures()
    monkeypatch.setattr(codes, "users_store", fake)
    return fake


@pytest.fixture
def tokens(monkeypatch):
    fake = FakeTokens()
    monkeypatch.setattr(codes, "tokens_store", fake)
    return fake


@pytest.fixture
def code_key(monkeypatch):
    monkeypatch.setattr(code_primitives, "_key", b"k" * 32)


def error_of(call) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def assert_locked(error: ApiError, limit: int, reset: int) -> None:
    assert error.type == "general_rate_limit_exceeded" and error.status == 429
    assert error.headers == {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset),
    }


def test_fake_carries_the_store_attribute_names():
    assert (codes.MFA.count, codes.MFA.at) == FakeCodeFailures.MFA_FAILURES
    assert (codes.PRE_AUTH.count, codes.PRE_AUTH.at) == FakeCodeFailures.PRE_AUTH_FAILURES


def test_the_two_counts_are_apart():
    """API.md §7: the pre-auth and MFA counts are different attributes, so one never locks the other."""
    assert {codes.MFA.count, codes.MFA.at}.isdisjoint({codes.PRE_AUTH.count, codes.PRE_AUTH.at})
    codes.ensure_unlocked({"userId": "u", FAILURES: codes.MAX_FAILURES, FAILED_AT: NOW}, codes.PRE_AUTH)


@pytest.mark.parametrize("count", [codes.FREE_FAILURES, codes.MAX_FAILURES, 10_000])
def test_the_pre_auth_count_never_locks(clock, count):
    """A stranger can reach the pre-auth count, so no count of it locks (it burns instead)."""
    codes.ensure_unlocked({"userId": "u", PRE_AUTH_FAILURES: count, PRE_AUTH_FAILED_AT: NOW}, codes.PRE_AUTH)


def test_only_the_pre_auth_count_burns():
    assert codes.BURN_AFTER == 5 and codes.PRE_AUTH.burned and not codes.MFA.burned
    assert [codes.PRE_AUTH.burns(n) for n in range(7)] == [False] * 4 + [True] * 3
    assert not any(codes.MFA.burns(n) for n in range(200))


def test_a_wrong_code_is_counted_on_the_count_it_names(clock, failures):
    codes.wrong_code({"userId": "u", FAILURES: 7}, codes.PRE_AUTH)
    assert failures.calls == [("u", 0, NOW)] and failures.counters == [FakeCodeFailures.PRE_AUTH_FAILURES]


# --- lock_seconds --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [-5, 0, 1, 9])
def test_no_lock_below_the_free_failures(count):
    assert codes.FREE_FAILURES == 10
    assert codes.lock_seconds(count) == 0


@pytest.mark.parametrize(("count", "seconds"), [(10, 30), (11, 60), (12, 120), (13, 240), (20, 30 * 1024)])
def test_the_lock_starts_at_30_seconds_and_doubles(count, seconds):
    assert codes.lock_seconds(count) == seconds


def test_the_lock_is_capped_at_a_day():
    # 30 * 2**11 = 61440 < 86400 <= 30 * 2**12
    assert codes.lock_seconds(21) == 61_440
    assert codes.lock_seconds(22) == 24 * 3600
    assert codes.lock_seconds(codes.MAX_FAILURES) == 24 * 3600


@pytest.mark.parametrize("count", [43, 1_000, 10**9, 2**63, 10**30])
def test_huge_counts_stay_at_the_cap(count):
    seconds = codes.lock_seconds(count)
    assert seconds == 24 * 3600 and isinstance(seconds, int)


def test_the_lock_never_shrinks_as_failures_grow():
    locks = [codes.lock_seconds(n) for n in range(0, 200)]
    assert locks == sorted(locks)
    assert all(0 <= s <= 24 * 3600 for s in locks)


# --- ensure_unlocked -----------------------------------------------------------------------------


def test_open_below_ten_failures_even_right_after_one(clock):
    codes.ensure_unlocked({"userId": "u"}, codes.MFA)
    codes.ensure_unlocked({"userId": "u", FAILURES: 9, FAILED_AT: NOW}, codes.MFA)


def test_locked_right_after_the_tenth_failure(clock):
    error = error_of(lambda: codes.ensure_unlocked({"userId": "u", FAILURES: 10, FAILED_AT: NOW}, codes.MFA))
    # ceil((NOW + 30 000) / 1000): the failure time is not a whole second, so this rounds up.
    assert_locked(error, 10, 1_700_000_031)


def test_lock_reset_is_the_ceiling_of_failure_time_plus_lock(clock):
    failed_at = NOW - 5_000
    clock["now"] = NOW
    error = error_of(lambda: codes.ensure_unlocked({"userId": "u", FAILURES: 12, FAILED_AT: failed_at}, codes.MFA))
    assert_locked(error, 10, -(-(failed_at + 120_000) // 1000))
    assert error.headers["X-RateLimit-Reset"] == "1700000116"


def test_lock_reset_on_a_whole_second_is_not_rounded_up(clock):
    failed_at = 1_700_000_000_000
    clock["now"] = failed_at + 1
    error = error_of(lambda: codes.ensure_unlocked({"userId": "u", FAILURES: 10, FAILED_AT: failed_at}, codes.MFA))
    assert error.headers["X-RateLimit-Reset"] == "1700000030"


def test_open_again_once_the_lock_has_passed(clock):
    user = {"userId": "u", FAILURES: 11, FAILED_AT: NOW}
    clock["now"] = NOW + 60_000 - 1
    error_of(lambda: codes.ensure_unlocked(user, codes.MFA))
    clock["now"] = NOW + 60_000
    codes.ensure_unlocked(user, codes.MFA)


@pytest.mark.parametrize("count", [100, 101, 10_000])
def test_at_max_failures_always_locked(clock, count):
    clock["now"] = NOW + 365 * 24 * 3600 * 1000  # a year later: still locked
    error = error_of(lambda: codes.ensure_unlocked({"userId": "u", FAILURES: count, FAILED_AT: NOW}, codes.MFA))
    assert_locked(error, 100, clock["now"] // 1000 + 24 * 3600)


# --- wrong_code ----------------------------------------------------------------------------------


def test_a_wrong_code_is_counted_once_and_answers_401(clock, failures):
    error = codes.wrong_code({"userId": "u", FAILURES: 3}, codes.MFA)
    assert isinstance(error, ApiError) and error.type == "user_invalid_token" and error.status == 401
    assert failures.calls == [("u", 3, NOW)]


def test_a_first_wrong_code_counts_from_zero(clock, failures):
    codes.wrong_code({"userId": "u"}, codes.MFA)
    assert failures.calls == [("u", 0, NOW)]


def test_a_concurrent_failure_is_retried_with_the_new_count(clock, failures):
    failures.answers = [{"userId": "u", FAILURES: 5, FAILED_AT: NOW - 1}, None]
    error = codes.wrong_code({"userId": "u", FAILURES: 4}, codes.MFA)
    assert error.type == "user_invalid_token"
    assert failures.calls == [("u", 4, NOW), ("u", 5, NOW)]


def test_concurrent_failures_that_lock_answer_429(clock, failures):
    failures.answers = [{"userId": "u", FAILURES: 10, FAILED_AT: NOW - 1_000}]
    error = error_of(lambda: codes.wrong_code({"userId": "u", FAILURES: 9}, codes.MFA))
    assert_locked(error, 10, -(-(NOW - 1_000 + 30_000) // 1000))
    assert len(failures.calls) == 1  # not counted again once locked


@pytest.mark.parametrize(
    ("counter", "previous", "signalled"),
    [
        (codes.PRE_AUTH, 3, False),
        (codes.PRE_AUTH, 4, True),
        (codes.PRE_AUTH, 12, True),
        (codes.MFA, 4, False),
        (codes.MFA, 8, False),
        (codes.MFA, 9, True),
        (codes.MFA, 50, True),
    ],
)
def test_the_attack_signal_is_a_burn_or_a_lock(monkeypatch, counter, previous, signalled):
    counted = []
    monkeypatch.setattr(codes.observability, "count", lambda name, **_: counted.append(name))
    codes.count_failure(counter, previous)
    assert counted == (["CodeLockout"] if signalled else [])


def test_a_user_gone_meanwhile_answers_401(clock, failures):
    failures.answers = [{}]
    error = codes.wrong_code({"userId": "u", FAILURES: 2}, codes.MFA)
    assert error.type == "user_invalid_token" and error.status == 401
    assert len(failures.calls) == 1


def test_endless_races_end_in_a_429(clock, failures):
    failures.answers = [{"userId": "u", FAILURES: 1}] * 10
    error = error_of(lambda: codes.wrong_code({"userId": "u", FAILURES: 0}, codes.MFA))
    assert_locked(error, 10, NOW // 1000 + 30)
    assert len(failures.calls) == codes.WRITE_ATTEMPTS


# --- usable --------------------------------------------------------------------------------------


def _token(**overrides):
    token = {
        "tokenId": "t1",
        "userId": "u",
        "hash": "h",
        "kind": codes.EMAIL_VERIFICATION,
        "address": "ada@example.com",
        "createdAt": NOW - 1_000,
        "expire": NOW + 1,
    }
    return {**token, **overrides}


USER = {"userId": "u", "email": "ada@example.com", "phone": "+14155550100"}


def test_a_right_token_is_usable(clock):
    assert codes.usable(_token(), (codes.EMAIL_VERIFICATION,), USER) is True
    phone = _token(kind=codes.PHONE_SIGN_IN, address="+14155550100")
    assert codes.usable(phone, (codes.EMAIL_SIGN_IN, codes.PHONE_SIGN_IN), USER) is True


@pytest.mark.parametrize(
    ("token", "kinds", "user"),
    [
        (None, (codes.EMAIL_VERIFICATION,), USER),
        (_token(), (codes.PHONE_VERIFICATION,), USER),
        (_token(kind=codes.EMAIL_SIGN_IN), (codes.EMAIL_VERIFICATION,), USER),
        (_token(expire=NOW), (codes.EMAIL_VERIFICATION,), USER),
        (_token(expire=NOW - 1), (codes.EMAIL_VERIFICATION,), USER),
        (_token(), (codes.EMAIL_VERIFICATION,), {**USER, "email": "new@example.com"}),
        (_token(), (codes.EMAIL_VERIFICATION,), {"userId": "u"}),
        (_token(kind=codes.PHONE_VERIFICATION), (codes.PHONE_VERIFICATION,), USER),  # sent to an email
    ],
    ids=["missing", "wrong-kind", "other-kind", "expires-now", "expired", "address-changed", "no-address", "phone"],
)
def test_unusable_tokens(clock, token, kinds, user):
    assert codes.usable(token, kinds, user) is False


# --- verify --------------------------------------------------------------------------------------


def _store_token(tokens, user=None, **token):
    user = dict(user or USER)
    stored = _token(**token)
    tokens.users[user["userId"]] = user
    tokens.tokens[(user["userId"], stored["hash"])] = stored
    return stored


def test_verify_spends_the_token_and_returns_the_user_and_it(clock, tokens, failures):
    stored = _store_token(tokens, {**USER, PRE_AUTH_FAILURES: 4})
    assert codes.verify("u", "h", codes.EMAIL_VERIFICATION, counts_failures=True)[1] == stored
    (user_id, use), *_ = tokens.spent
    assert user_id == "u" and len(tokens.spent) == 1
    assert (use.token_hash, use.kinds, use.now) == ("h", (codes.EMAIL_VERIFICATION,), NOW)
    assert (use.address_field, use.address, use.failures) == ("email", "ada@example.com", 4)
    assert failures.calls == []


def test_verify_of_an_unknown_user_answers_401(clock, tokens, failures):
    error = error_of(lambda: codes.verify("nobody", "h", codes.PHONE_VERIFICATION, counts_failures=True))
    assert error.type == "user_invalid_token" and failures.calls == []


def test_a_wrong_code_counts_when_failures_count(clock, tokens, failures):
    _store_token(tokens, {**USER, PRE_AUTH_FAILURES: 2})
    error = error_of(lambda: codes.verify("u", "other-hash", codes.EMAIL_VERIFICATION, counts_failures=True))
    assert error.type == "user_invalid_token"
    assert failures.calls == [("u", 2, NOW)] and tokens.spent == []


def test_a_wrong_secret_does_not_count_when_failures_do_not(clock, tokens, failures):
    _store_token(tokens, {**USER, PRE_AUTH_FAILURES: 2})
    error = error_of(lambda: codes.verify("u", "other-hash", codes.EMAIL_VERIFICATION, counts_failures=False))
    assert error.type == "user_invalid_token"
    assert failures.calls == [] and tokens.spent == []


def test_a_pre_auth_count_past_the_old_lock_refuses_nothing(clock, tokens, failures):
    """Ten or more wrong codes used to lock code checks (429); the pre-auth count no longer locks."""
    stored = _store_token(tokens, {**USER, PRE_AUTH_FAILURES: 10, PRE_AUTH_FAILED_AT: NOW})
    assert codes.verify("u", "h", codes.EMAIL_VERIFICATION, counts_failures=True)[1] == stored
    assert failures.calls == []


def _phone_code(tokens, user, created_at):
    return _store_token(tokens, user, kind=codes.PHONE_VERIFICATION, address=USER["phone"], createdAt=created_at)


@pytest.mark.parametrize("created_at", [NOW - 1_000, NOW - 500], ids=["before", "at"])
def test_a_burned_code_answers_401_and_is_not_counted(clock, tokens, failures, created_at):
    _phone_code(tokens, {**USER, BURNED_AT: NOW - 500}, created_at)
    error = error_of(lambda: codes.verify("u", "h", codes.PHONE_VERIFICATION, counts_failures=True))
    assert error.type == "user_invalid_token" and error.status == 401
    assert failures.calls == [] and tokens.spent == []


def test_a_code_issued_after_the_burn_is_spent(clock, tokens, failures):
    stored = _phone_code(tokens, {**USER, BURNED_AT: NOW - 1_001}, NOW - 1_000)
    assert codes.verify("u", "h", codes.PHONE_VERIFICATION, counts_failures=True)[1] == stored
    ((_, use),) = tokens.spent
    assert (use.guessable, use.created_at) == (True, NOW - 1_000)  # the write checks no burn came meanwhile


def test_an_email_verification_link_is_never_burned(clock, tokens, failures):
    """A 256-bit link is no guessable code: a stranger's burns must not retire it."""
    stored = _store_token(tokens, {**USER, BURNED_AT: NOW})
    assert codes.burned({**USER, BURNED_AT: NOW}, stored) is False
    assert codes.verify("u", "h", codes.EMAIL_VERIFICATION, counts_failures=False)[1] == stored
    ((_, use),) = tokens.spent
    assert use.guessable is False


def test_a_spent_token_answers_401(clock, tokens, failures):
    _store_token(tokens)
    tokens.spend_errors = [SpentError()]
    error = error_of(lambda: codes.verify("u", "h", codes.EMAIL_VERIFICATION, counts_failures=True))
    assert error.type == "user_invalid_token" and error.status == 401
    assert len(tokens.spent) == 1 and failures.calls == []


def test_a_stale_profile_is_read_again_then_spent(clock, tokens, failures):
    stored = _store_token(tokens, {**USER, PRE_AUTH_FAILURES: 1})
    tokens.spend_errors = [StaleError()]

    def failure_counted_meanwhile(store):
        if store.reads == 2:
            store.users["u"][PRE_AUTH_FAILURES] = 2

    tokens.before_read = failure_counted_meanwhile
    assert codes.verify("u", "h", codes.EMAIL_VERIFICATION, counts_failures=True)[1] == stored
    assert tokens.reads == 2
    assert [use.failures for _, use in tokens.spent] == [1, 2]  # the retry carries the re-read count


def test_a_stale_profile_that_is_now_burned_answers_401_uncounted(clock, tokens, failures):
    _phone_code(tokens, {**USER, PRE_AUTH_FAILURES: 4}, NOW - 1_000)
    tokens.spend_errors = [StaleError()]

    def burned_meanwhile(store):
        if store.reads == 2:
            store.users["u"].update({PRE_AUTH_FAILURES: 0, PRE_AUTH_FAILED_AT: NOW, BURNED_AT: NOW})

    tokens.before_read = burned_meanwhile
    error = error_of(lambda: codes.verify("u", "h", codes.PHONE_VERIFICATION, counts_failures=True))
    assert error.type == "user_invalid_token" and len(tokens.spent) == 1 and failures.calls == []


def test_endless_stale_profiles_end_in_401(clock, tokens, failures):
    _store_token(tokens)
    tokens.spend_errors = [StaleError() for _ in range(10)]
    error = error_of(lambda: codes.verify("u", "h", codes.EMAIL_VERIFICATION, counts_failures=False))
    assert error.type == "user_invalid_token"
    assert tokens.reads == codes.WRITE_ATTEMPTS == len(tokens.spent)


# --- new_code, new_phrase, keyed_hash ------------------------------------------------------------


def test_new_code_is_six_digits():
    drawn = {new_code() for _ in range(300)}
    assert all(re.fullmatch(r"[0-9]{6}", c) for c in drawn)
    assert len(drawn) > 250  # random, not constant


@pytest.mark.parametrize(("drawn", "code"), [(0, "000000"), (7, "000007"), (42_195, "042195"), (999_999, "999999")])
def test_new_code_keeps_leading_zeros_and_draws_uniformly_below_a_million(monkeypatch, drawn, code):
    calls = []
    monkeypatch.setattr(code_primitives.secrets, "randbelow", lambda n: calls.append(n) or drawn)
    assert new_code() == code
    assert calls == [10**6]


def test_new_phrase_is_two_capitalised_words():
    phrases = {new_phrase() for _ in range(200)}
    for phrase in phrases:
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", phrase), phrase
        adjective, noun = phrase.split(" ")
        assert adjective in code_primitives._ADJECTIVES and noun in code_primitives._NOUNS
    assert len(phrases) > 50


def test_keyed_hash_is_an_hmac_of_user_and_code(code_key):
    digest = keyed_hash("u1", "123456")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == keyed_hash("u1", "123456")
    assert digest == hmac.new(b"k" * 32, b"u1\x00123456", hashlib.sha256).hexdigest()
    assert digest != hashlib.sha256(b"u1\x00123456").hexdigest()


def test_keyed_hash_depends_on_user_and_code(code_key):
    digest = keyed_hash("u1", "123456")
    assert keyed_hash("u2", "123456") != digest
    assert keyed_hash("u1", "123457") != digest
    assert keyed_hash("u11", "23456") != digest  # the separator keeps user and code apart


def test_keyed_hash_depends_on_the_key(monkeypatch):
    monkeypatch.setattr(code_primitives, "_key", b"k" * 32)
    first = keyed_hash("u1", "123456")
    monkeypatch.setattr(code_primitives, "_key", b"j" * 32)
    assert keyed_hash("u1", "123456") != first


# --- issue_and_send ------------------------------------------------------------------------------

HOURLY = Charge("verify-email", "u", 10, 3600)
COOLDOWN = Charge("send-email", "ada@example.com", 1, 60, cooldown=True)
# The send budgets at their template defaults (config.py): per address per day, per user per day, per hour.
EMAIL_BUDGETS = [
    Charge("send-email-day", "ada@example.com", 20, 86_400),
    Charge("send-user-day", "u", 30, 86_400),
    Charge("send-email-all", "deployment", 2000, 3600),
]
# What issuing spends: the caller's charges, the address's send cooldown and the send budgets.
SPENT = [HOURLY, COOLDOWN, *EMAIL_BUDGETS]


class Secrets:
    """make_secret: a new (secret, hash) pair per call."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> tuple[str, str]:
        self.calls += 1
        return f"secret{self.calls}", f"hash{self.calls}"


class Sender:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.error = error

    def __call__(self, secret: str, token: dict) -> None:
        self.sent.append((secret, dict(token)))
        if self.error:
            raise self.error


def issue(make_secret, send, new_user=None, kind=codes.EMAIL_VERIFICATION, address="ada@example.com"):
    return codes.issue_and_send(
        user_id="u",
        kind=kind,
        address=address,
        lifetime_ms=codes.LINK_LIFETIME_MS,
        charges=[HOURLY],
        make_secret=make_secret,
        send=send,
        new_user=new_user,
        phrase="Sunny Garden",
    )


def test_the_send_cooldown_is_one_message_a_minute_per_address():
    assert codes.send_cooldown("email", "ada@example.com") == COOLDOWN
    assert COOLDOWN.reset(1_000) == 1_060


def test_issue_stores_the_token_then_sends_its_secret(clock, tokens):
    send = Sender()
    token = issue(Secrets(), send)
    assert token["hash"] == "hash1" and token["tokenId"]
    assert {k: token[k] for k in ("userId", "kind", "address", "createdAt", "expire", "phrase")} == {
        "userId": "u",
        "kind": codes.EMAIL_VERIFICATION,
        "address": "ada@example.com",
        "createdAt": NOW,
        "expire": NOW + 3_600_000,
        "phrase": "Sunny Garden",
    }
    assert token["ttl"] == (NOW + 3_600_000) // 1000 + 3600
    assert "secret1" not in token.values()
    assert tokens.issued == [(token, SPENT, NOW // 1000, None)]
    assert send.sent == [("secret1", token)]
    assert tokens.withdrawn == []


def test_an_sms_code_spends_the_sms_cooldown_of_the_phone(clock, tokens):
    issue(Secrets(), Sender(), kind=codes.PHONE_SIGN_IN, address="+14155550100")
    (_, charges, _, _), *_ = tokens.issued
    assert charges == [
        HOURLY,
        Charge("send-sms", "+14155550100", 1, 60, cooldown=True),
        Charge("send-sms-day", "+14155550100", 10, 86_400),
        Charge("send-user-day", "u", 30, 86_400),
        Charge("send-sms-all", "deployment", 200, 3600),
    ]


def test_a_colliding_token_draws_a_new_secret(clock, tokens):
    make_secret, send = Secrets(), Sender()
    tokens.issue_errors = [ConflictError("token")]
    token = issue(make_secret, send)
    assert make_secret.calls == 2
    assert [t["hash"] for t, *_ in tokens.issued] == ["hash1", "hash2"]
    assert token["hash"] == "hash2" and send.sent == [("secret2", token)]


def test_endless_collisions_end_in_a_500_without_sending(clock, tokens):
    make_secret, send = Secrets(), Sender()
    tokens.issue_errors = [ConflictError("token") for _ in range(10)]
    assert error_of(lambda: issue(make_secret, send)).type == "general_server_error"
    assert make_secret.calls == codes.ISSUE_ATTEMPTS and send.sent == []


def test_a_taken_address_is_not_retried(clock, tokens):
    make_secret, send = Secrets(), Sender()
    tokens.issue_errors = [ConflictError("email")]
    with pytest.raises(ConflictError) as caught:
        issue(make_secret, send, new_user={"userId": "u", "email": "ada@example.com"})
    assert caught.value.what == "email"
    assert make_secret.calls == 1 and send.sent == []


@pytest.mark.parametrize(
    "charge", SPENT, ids=["hourly", "cooldown", "per-address-day", "per-user-day", "deployment-hour"]
)
def test_an_exhausted_limit_answers_429_with_its_reset(clock, tokens, charge):
    send = Sender()
    tokens.issue_errors = [LimitError(charge)]
    error = error_of(lambda: issue(Secrets(), send))
    assert_locked(error, charge.limit, charge.reset(NOW // 1000))
    assert send.sent == [] and tokens.withdrawn == []


def test_an_unsent_email_withdraws_everything_and_answers_503(clock, tokens):
    new_user = {"userId": "u", "email": "ada@example.com"}
    send = Sender(DeliveryError("SES said no"))
    error = error_of(lambda: issue(Secrets(), send, new_user=new_user))
    assert error.type == "general_smtp_disabled" and error.status == 503
    assert error.message == "The message could not be sent. Please try again later."
    (issued, *_), *_ = tokens.issued
    assert tokens.withdrawn == [(issued, SPENT, NOW // 1000, new_user)]
    assert tokens.tokens == {}


@pytest.mark.parametrize("kind", [codes.PHONE_VERIFICATION, codes.PHONE_SIGN_IN])
def test_an_unsent_sms_answers_the_phone_503(clock, tokens, kind):
    error = error_of(lambda: issue(Secrets(), Sender(DeliveryError("SNS said no")), kind=kind, address="+14155550100"))
    assert error.type == "general_phone_disabled" and error.status == 503
    assert len(tokens.withdrawn) == 1 and tokens.withdrawn[0][3] is None


def test_a_failed_withdrawal_still_answers_503(clock, tokens, monkeypatch):
    def withdraw_fails(*_args):
        raise RuntimeError("table unavailable")

    monkeypatch.setattr(tokens, "withdraw", withdraw_fails)
    error = error_of(lambda: issue(Secrets(), Sender(DeliveryError("SES said no"))))
    assert error.type == "general_smtp_disabled" and error.status == 503


def test_other_send_errors_are_not_swallowed(clock, tokens):
    with pytest.raises(RuntimeError):
        issue(Secrets(), Sender(RuntimeError("bug")))
    assert tokens.withdrawn == []


# --- the stored failure count (store.users.record_code_failure, with a capturing client) -----------


class CapturingClient:
    def __init__(self) -> None:
        self.updates: list[dict] = []

    def update_item(self, **kwargs):
        self.updates.append(kwargs)
        return {}


def _holds(condition: str, names: dict, values: dict, item: dict) -> bool:
    """Evaluate the small condition language ProfileUpdate writes (AND of ORs of exists / equals)."""
    from authcore.store.table import unmarshal

    plain = unmarshal(values) or {}

    def atom(text: str) -> bool:
        text = text.strip()
        if text.startswith("attribute_exists("):
            return names.get(text[17:-1], text[17:-1]) in item
        if text.startswith("attribute_not_exists("):
            return names[text[21:-1]] not in item
        left, right = (s.strip() for s in text.split(" = "))
        return names[left] in item and item[names[left]] == plain[right]

    def unwrap(part: str) -> str:
        part = part.strip()
        return part[1:-1] if part.startswith("(") and part.endswith(")") else part

    return all(any(atom(a) for a in unwrap(part).split(" OR ")) for part in condition.split(" AND "))


def _recorded_condition(monkeypatch, failures_as_read: int) -> tuple[str, dict, dict]:
    fake = CapturingClient()
    monkeypatch.setattr(real_users_store, "client", lambda: fake)
    assert real_users_store.record_code_failure("u", codes.MFA, failures_as_read, NOW) is None
    (update,) = fake.updates
    assert update["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    return update["ConditionExpression"], update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]


def test_record_code_failure_sets_the_next_count_and_the_time(monkeypatch):
    fake = CapturingClient()
    monkeypatch.setattr(real_users_store, "client", lambda: fake)
    real_users_store.record_code_failure("u", codes.MFA, 4, NOW)
    (update,) = fake.updates
    names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
    assert update["Key"] == {"pk": {"S": "USER#u"}, "sk": {"S": "PROFILE"}}
    sets = dict(part.split(" = ") for part in update["UpdateExpression"].removeprefix("SET ").split(", "))
    assert {names[k]: values[v] for k, v in sets.items()} == {FAILURES: {"N": "5"}, FAILED_AT: {"N": str(NOW)}}


def _sets(update: dict) -> dict:
    names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
    sets = dict(part.split(" = ") for part in update["UpdateExpression"].removeprefix("SET ").split(", "))
    return {names[k]: values[v] for k, v in sets.items()}


@pytest.mark.parametrize("as_read", [4, 9, 37])
def test_the_fifth_pre_auth_failure_resets_the_count_and_burns_in_the_same_write(monkeypatch, as_read):
    """A count as read of 5 or more (left by the old lock rule) burns on its next failure too."""
    fake = CapturingClient()
    monkeypatch.setattr(real_users_store, "client", lambda: fake)
    assert real_users_store.record_code_failure("u", codes.PRE_AUTH, as_read, NOW) is None
    (update,) = fake.updates
    assert _sets(update) == {
        PRE_AUTH_FAILURES: {"N": "0"},
        PRE_AUTH_FAILED_AT: {"N": str(NOW)},
        BURNED_AT: {"N": str(NOW)},
    }
    names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
    assert _holds(update["ConditionExpression"], names, values, {"pk": "USER#u", PRE_AUTH_FAILURES: as_read})
    assert not _holds(update["ConditionExpression"], names, values, {"pk": "USER#u", PRE_AUTH_FAILURES: 0})


def test_a_pre_auth_failure_before_the_fifth_only_counts(monkeypatch):
    fake = CapturingClient()
    monkeypatch.setattr(real_users_store, "client", lambda: fake)
    real_users_store.record_code_failure("u", codes.PRE_AUTH, 3, NOW)
    (update,) = fake.updates
    assert _sets(update) == {PRE_AUTH_FAILURES: {"N": "4"}, PRE_AUTH_FAILED_AT: {"N": str(NOW)}}


def test_record_code_failure_counts_only_on_the_count_as_read(monkeypatch):
    condition, names, values = _recorded_condition(monkeypatch, 4)
    profile = {"pk": "USER#u", "userId": "u"}
    assert _holds(condition, names, values, {**profile, FAILURES: 4})
    assert not _holds(condition, names, values, {**profile, FAILURES: 5})
    assert not _holds(condition, names, values, {FAILURES: 4})  # the profile is gone


def test_a_first_failure_counts_on_a_profile_without_a_count(monkeypatch):
    condition, names, values = _recorded_condition(monkeypatch, 0)
    assert _holds(condition, names, values, {"pk": "USER#u", "userId": "u"})


def test_a_count_reset_meanwhile_is_not_overwritten_with_the_stale_count(monkeypatch):
    condition, names, values = _recorded_condition(monkeypatch, 9)
    profile_after_a_success = {"pk": "USER#u", "userId": "u"}  # reset_code_failures removed the count
    assert not _holds(condition, names, values, profile_after_a_success)
