"""MFA challenges (API.md §4.5, §4.6): creating one for each factor and its rules, completing it,
the guess limits (burning, the per-user lockout), replays, and single use under the worst
interleaving of concurrent requests, through the handlers with DynamoDB, KMS, SES and SNS emulated.
TOTP codes come from tests/rfc6238.py."""

from dataclasses import dataclass
from datetime import datetime

import pytest

from authcore.clock import now_ms
from authcore.services import codes as code_rules
from authcore.services.challenges import MAX_WRONG_CODES
from authcore.store import users as users_store

from .conftest import PASSWORD, call_at, lift_cooldowns, profile, table_items
from .mfa_fixtures import (
    EMAIL,
    PHONE,
    RECENT_MS,
    AllReadFirst,
    add_phone,
    assert_error,
    challenge,
    challenge_items,
    complete,
    create_authenticator,
    create_challenge,
    create_recovery_codes,
    email_otp_session,
    enrol_totp,
    failures,
    lift_challenge_limit,
    phone_otp_session,
    session_items,
    sign_up_and_in,
    stored_session,
    verify_email,
    verify_phone,
    wrong,
)

pytestmark = pytest.mark.usefixtures("steady_rate_window")

OTHER_EMAIL = "ada@new.example"
OTHER_PHONE = "+14155552672"
CHALLENGE_FIELDS = {"$id", "$createdAt", "userId", "expire"}


def epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


@dataclass
class Enrolled:
    user_id: str
    credential: str  # the session that set everything up (it has every factor)
    secret: str
    codes: list[str]


@pytest.fixture
def enrolled(api, sent, ada, totp_clock) -> Enrolled:
    """Ada with a verified email, a verified phone, a verified authenticator, recovery codes and MFA on."""
    verify_email(api, sent, ada.credential)
    verify_phone(api, sent, ada.credential, ada.user_id)
    secret = enrol_totp(api, ada.credential, totp_clock)
    recovery_codes = create_recovery_codes(api, ada.credential)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    lift_cooldowns()  # the verification messages went to the same addresses a moment ago
    return Enrolled(ada.user_id, ada.credential, secret, recovery_codes)


def half_signed_in(api) -> str:
    """A new password session of a user with MFA on: one factor short."""
    credential = api.session_for(EMAIL)
    assert_error(api("get_account", session=credential), 401, "user_more_factors_required")
    return credential


def assert_nothing_issued(user_id: str, sent_before: int, sent) -> None:
    """A refused challenge stores nothing, spends no limit and sends nothing."""
    assert challenge_items(user_id) == []
    assert table_items("RATE#mfa-challenge") == []
    assert sent.count() == sent_before


# --- creating a challenge: which factors are available -------------------------------------------


def test_an_email_challenge_needs_an_email(api, sent):
    credential = phone_otp_session(api, sent)  # a user with a phone and no email
    user_id = stored_session(credential)["userId"]
    before = sent.count()
    assert_error(create_challenge(api, credential, "email"), 400, "user_email_not_found")
    assert_nothing_issued(user_id, before, sent)


def test_a_phone_challenge_needs_a_phone(api, sent, ada):
    assert_error(create_challenge(api, ada.credential, "phone"), 400, "user_phone_not_found")
    assert_nothing_issued(ada.user_id, 0, sent)


def test_an_email_challenge_needs_a_verified_email(api, sent, ada):
    assert_error(create_challenge(api, ada.credential, "email"), 400, "user_email_not_verified")
    assert_nothing_issued(ada.user_id, 0, sent)


def test_a_phone_challenge_needs_a_verified_phone(api, sent, ada):
    add_phone(api, ada.credential)
    assert_error(create_challenge(api, ada.credential, "phone"), 400, "user_phone_not_verified")
    assert_nothing_issued(ada.user_id, 0, sent)


def test_a_totp_challenge_needs_a_verified_authenticator(api, sent, ada):
    assert_error(create_challenge(api, ada.credential, "totp"), 404, "user_authenticator_not_found")
    create_authenticator(api, ada.credential)
    assert_error(create_challenge(api, ada.credential, "totp"), 404, "user_authenticator_not_found")
    assert_nothing_issued(ada.user_id, 0, sent)


def test_a_recovery_code_challenge_needs_recovery_codes(api, sent, ada):
    assert_error(create_challenge(api, ada.credential, "recoverycode"), 404, "user_recovery_codes_not_found")
    assert_nothing_issued(ada.user_id, 0, sent)


def test_an_email_otp_session_cannot_be_challenged_by_email(api, sent, ada):
    verify_email(api, sent, ada.credential)
    create_recovery_codes(api, ada.credential)
    credential = email_otp_session(api, sent)
    lift_cooldowns()
    before = sent.count()
    answer = create_challenge(api, credential, "email")
    assert_error(answer, 400, "general_argument_invalid")
    assert "email started this session" in answer.body["message"]
    assert_nothing_issued(ada.user_id, before, sent)
    assert create_challenge(api, credential, "recoverycode").status == 201  # another factor is fine
    assert create_challenge(api, ada.credential, "email").status == 201  # and so is email, elsewhere


def test_a_phone_otp_session_cannot_be_challenged_by_phone(api, sent):
    credential = phone_otp_session(api, sent)
    user_id = stored_session(credential)["userId"]
    create_recovery_codes(api, credential)
    lift_cooldowns()
    before = sent.count()
    answer = create_challenge(api, credential, "phone")
    assert_error(answer, 400, "general_argument_invalid")
    assert "phone started this session" in answer.body["message"]
    assert_nothing_issued(user_id, before, sent)
    assert create_challenge(api, credential, "recoverycode").status == 201


@pytest.mark.parametrize("factor", ["sms", "password", "", "recovery_code", "recovery-code", "emails", "otp", "totp "])
def test_an_unknown_factor_is_refused(api, sent, ada, factor):
    create_recovery_codes(api, ada.credential)
    assert_error(create_challenge(api, ada.credential, factor), 400, "general_argument_invalid")
    assert_nothing_issued(ada.user_id, 0, sent)


def test_a_challenge_without_a_factor_is_refused(api, ada):
    answer = api("create_mfa_challenge", {}, session=ada.credential)
    assert_error(answer, 400, "general_argument_invalid")
    assert answer.body["message"] == 'Param "factor" is not optional.'


@pytest.mark.parametrize(
    ("factor", "stored"),
    [
        ("recoverycode", "recoveryCode"),
        ("recoveryCode", "recoveryCode"),
        ("RecoveryCode", "recoveryCode"),
        ("RECOVERYCODE", "recoveryCode"),
        ("TOTP", "totp"),
        ("Totp", "totp"),
    ],
)
def test_the_factor_is_case_insensitive(api, ada, totp_clock, factor, stored):
    create_recovery_codes(api, ada.credential)
    enrol_totp(api, ada.credential, totp_clock)
    answer = create_challenge(api, ada.credential, factor)
    assert answer.status == 201, answer.body
    [item] = challenge_items(ada.user_id)
    assert item["factor"] == stored and item["kind"] == f"{stored}Challenge"


def test_a_challenge_needs_a_session(api):
    assert_error(api("create_mfa_challenge", {"factor": "totp"}), 401, "general_unauthorized_scope")


# --- creating a challenge: what it is ------------------------------------------------------------


def test_a_challenge_expires_ten_minutes_after_it_is_created(api, ada):
    create_recovery_codes(api, ada.credential)
    started = now_ms()
    answer = create_challenge(api, ada.credential, "recoverycode")
    assert answer.status == 201, answer.body
    body = answer.body
    assert set(body) == CHALLENGE_FIELDS and body["userId"] == ada.user_id
    assert started - 1000 <= epoch_ms(body["$createdAt"]) <= now_ms() + 1000
    assert epoch_ms(body["expire"]) - epoch_ms(body["$createdAt"]) == 10 * 60 * 1000
    assert body["expire"].endswith("+00:00") and len(body["expire"]) == len("2026-11-29T18:30:00.000+00:00")
    [item] = challenge_items(ada.user_id)
    assert item["sk"] == f"CHALLENGE#{body['$id']}" and item["tokenId"] == body["$id"]
    assert item["attempts"] == 0 and item["expire"] == epoch_ms(body["expire"])


@pytest.mark.parametrize("factor", ["email", "phone"])
def test_an_email_or_phone_challenge_sends_a_code_and_stores_only_its_hash(api, sent, enrolled, factor):
    credential = half_signed_in(api)
    address = EMAIL if factor == "email" else PHONE
    before = len(sent.to(address))
    answer = create_challenge(api, credential, factor)
    assert answer.status == 201, answer.body
    assert len(sent.to(address)) == before + 1
    message = sent.last(address)
    if factor == "email":
        assert message["channel"] == "email" and message["subject"] == "Your My App verification code"
    else:
        assert message["channel"] == "sms" and "My App code to finish signing in" in message["text"]
    code = sent.code(address)
    assert code not in repr(table_items())
    [item] = challenge_items(enrolled.user_id)
    assert item["kind"] == f"{factor}Challenge" and item["address"] == address and len(item["hash"]) == 64


def test_totp_and_recovery_code_challenges_are_limited_per_session(api, ada, totp_clock):
    """API.md §7: ten per session per hour, so a half-signed-in session (a password alone) cannot spend the
    challenges of the owner's next sign-in (issue 15, finding 4)."""
    create_recovery_codes(api, ada.credential)
    enrol_totp(api, ada.credential, totp_clock)
    for n in range(10):
        assert create_challenge(api, ada.credential, ("totp", "recoverycode")[n % 2]).status == 201, n
    answer = create_challenge(api, ada.credential, "totp")
    assert_error(answer, 429, "general_rate_limit_exceeded")
    assert answer.header("X-RateLimit-Limit") == "10" and answer.header("X-RateLimit-Remaining") == "0"
    assert int(answer.header("X-RateLimit-Reset")) % 3600 == 0
    other = api.session_for(EMAIL)  # a new sign-in of the same user: a budget of its own
    assert create_challenge(api, other, "totp").status == 201
    assert create_challenge(api, other, "recoverycode").status == 201
    assert len(challenge_items(ada.user_id)) == 12


def test_email_and_phone_challenges_are_limited_per_user(api, sent, ada):
    """Factors that send a message keep the per-user limit of API.md §5: it bounds the messages."""
    verify_email(api, sent, ada.credential)
    for n in range(10):
        lift_cooldowns()
        assert create_challenge(api, ada.credential, "email").status == 201, n
    lift_cooldowns()
    answer = create_challenge(api, api.session_for(EMAIL), "email")  # per user, not per session
    assert_error(answer, 429, "general_rate_limit_exceeded")
    assert answer.header("X-RateLimit-Limit") == "10"
    assert len(challenge_items(ada.user_id)) == 10


def test_an_email_challenge_waits_for_the_send_cooldown_of_its_address(api, sent, ada):
    verify_email(api, sent, ada.credential)  # a verification email went to the address just now
    before = sent.count()
    answer = create_challenge(api, ada.credential, "email")
    assert_error(answer, 429, "general_rate_limit_exceeded")
    assert answer.header("X-RateLimit-Limit") == "1"
    assert challenge_items(ada.user_id) == [] and sent.count() == before
    lift_cooldowns()
    assert create_challenge(api, ada.credential, "email").status == 201


@pytest.mark.parametrize("create_route", ["/account/mfa/challenge", "/account/mfa/challenges"])
@pytest.mark.parametrize("complete_route", ["/account/mfa/challenge", "/account/mfa/challenges"])
def test_both_challenge_paths_create_and_complete(api, ada, create_route, complete_route):
    recovery_codes = create_recovery_codes(api, ada.credential)
    created = call_at(api, "create_mfa_challenge", create_route, {"factor": "recoverycode"}, session=ada.credential)
    assert created.status == 201, created.body
    body = {"challengeId": created.body["$id"], "otp": recovery_codes[0]}
    done = call_at(api, "update_mfa_challenge", complete_route, body, session=ada.credential)
    assert done.status == 200, done.body
    assert done.body["factors"] == ["password", "recoveryCode"]


# --- completing a challenge ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "stored"), [("email", "email"), ("phone", "phone"), ("totp", "totp"), ("recoverycode", "recoveryCode")]
)
def test_completing_a_challenge_adds_its_factor_and_mfa_updated_at(api, sent, enrolled, totp_clock, factor, stored):
    credential = half_signed_in(api)
    other = half_signed_in(api)
    challenge_id = challenge(api, credential, factor)
    otp = {
        "email": lambda: sent.code(EMAIL),
        "phone": lambda: sent.code(PHONE),
        "totp": lambda: totp_clock.code(enrolled.secret, 1),
        "recoverycode": lambda: enrolled.codes[0],
    }[factor]()
    started = now_ms()
    done = complete(api, credential, challenge_id, otp)
    assert done.status == 200, done.body
    session = done.body
    assert session["factors"] == ["password", stored] and session["current"] is True
    assert session["userId"] == enrolled.user_id and session["secret"] == ""
    assert started - 1000 <= epoch_ms(session["mfaUpdatedAt"]) <= now_ms() + 1000
    assert session["$id"] == api("get_session", session=credential, path={"sessionId": "current"}).body["$id"]
    assert stored_session(credential)["factors"] == ["password", stored]
    assert stored_session(credential)["mfaUpdatedAt"] == epoch_ms(session["mfaUpdatedAt"])
    assert challenge_items(enrolled.user_id) == []  # spent
    assert api("get_account", session=credential).status == 200  # past the gate now
    assert_error(api("get_account", session=other), 401, "user_more_factors_required")  # only this session
    assert_error(complete(api, credential, challenge_id, otp), 401, "user_invalid_token")  # and only once


@pytest.mark.parametrize("typed", ["upper", "dashes", "spaces"])
def test_a_recovery_code_may_be_typed_in_upper_case_with_dashes_or_spaces(api, ada, typed):
    code = create_recovery_codes(api, ada.credential)[0]
    groups = [code[i : i + 4] for i in range(0, 16, 4)]
    otp = {"upper": code.upper(), "dashes": "-".join(groups), "spaces": " ".join(groups).upper()}[typed]
    done = complete(api, ada.credential, challenge(api, ada.credential, "recoverycode"), otp)
    assert done.status == 200, done.body
    assert sum(profile(ada.user_id)["recoveryCodes"].values()) == 1


@pytest.mark.parametrize("factor", ["email", "phone", "totp", "recoverycode"])
def test_a_wrong_code_counts_on_the_challenge_and_on_the_user(api, sent, enrolled, totp_clock, factor):
    credential = half_signed_in(api)
    challenge_id = challenge(api, credential, factor)
    otp = {
        "email": lambda: wrong(sent.code(EMAIL)),
        "phone": lambda: wrong(sent.code(PHONE)),
        "totp": lambda: totp_clock.wrong_code(enrolled.secret),
        "recoverycode": lambda: "0123456789abcdef" if "0123456789abcdef" not in enrolled.codes else "fedcba9876543210",
    }[factor]()
    assert_error(complete(api, credential, challenge_id, otp), 401, "user_invalid_token")
    assert failures(enrolled.user_id) == 1
    [item] = challenge_items(enrolled.user_id)
    assert item["attempts"] == 1
    assert stored_session(credential)["factors"] == ["password"]


@pytest.mark.parametrize(
    ("factor", "otp"),
    [
        ("totp", "12345"),
        ("totp", "1234567"),
        ("totp", "abcdef"),
        ("recoverycode", "0123456789abcde"),
        ("recoverycode", "0123456789abcdefa"),
        ("recoverycode", "0123456789abcdeg"),
        ("email", "12345"),
        ("email", "12345a"),
    ],
)
def test_a_malformed_code_uses_an_attempt_but_is_not_counted_against_the_user(api, enrolled, factor, otp):
    """No guess, so the user's failure count stays; but it is a wrong answer to this challenge, so it
    uses one of the challenge's five attempts (which bounds attempts per challenge, API.md §5)."""
    credential = half_signed_in(api)
    challenge_id = challenge(api, credential, factor)
    assert_error(complete(api, credential, challenge_id, otp), 401, "user_invalid_token")
    assert failures(enrolled.user_id) == 0
    [item] = challenge_items(enrolled.user_id)
    assert item["attempts"] == 1


# --- guessing --------------------------------------------------------------------------------------


def test_five_wrong_codes_burn_a_challenge(api, sent, enrolled):
    credential = half_signed_in(api)
    challenge_id = challenge(api, credential, "email")
    code = sent.code(EMAIL)
    guesses = [f"{n:06d}" for n in range(6) if f"{n:06d}" != code][:5]
    for n, guess in enumerate(guesses, start=1):
        assert_error(complete(api, credential, challenge_id, guess), 401, "user_invalid_token")
        assert failures(enrolled.user_id) == n
        assert [item["attempts"] for item in challenge_items(enrolled.user_id)] == ([n] if n < 5 else [])
    answer = complete(api, credential, challenge_id, code)  # the right code, on the 6th try
    assert_error(answer, 401, "user_invalid_token")
    assert failures(enrolled.user_id) == 5  # a burnt challenge is not a guess
    assert stored_session(credential)["factors"] == ["password"]
    assert_error(api("get_account", session=credential), 401, "user_more_factors_required")


def test_ten_consecutive_failures_lock_code_checks_across_challenges(api, sent, enrolled, totp_clock, clock):
    credential = half_signed_in(api)
    email_challenge = challenge(api, credential, "email")
    email_code = sent.code(EMAIL)
    for _ in range(4):
        assert_error(complete(api, credential, email_challenge, wrong(email_code)), 401, "user_invalid_token")
    totp_challenge = challenge(api, credential, "totp")
    for _ in range(3):
        answer = complete(api, credential, totp_challenge, totp_clock.wrong_code(enrolled.secret))
        assert_error(answer, 401, "user_invalid_token")
    recovery_challenge = challenge(api, credential, "recoverycode")
    for guess in ("00000000000000aa", "00000000000000bb", "00000000000000cc"):
        assert_error(complete(api, credential, recovery_challenge, guess), 401, "user_invalid_token")
    assert failures(enrolled.user_id) == 10
    failed_at = profile(enrolled.user_id)[users_store.MFA.at]
    reset = str(-(-(failed_at + code_rules.FIRST_LOCK_SECONDS * 1000) // 1000))

    # Locked: a new challenge and the right code do not help, nor do the older challenges.
    fresh = challenge(api, credential, "totp")
    attempts = [
        (fresh, totp_clock.code(enrolled.secret, 1)),
        (email_challenge, email_code),
        (recovery_challenge, enrolled.codes[0]),
    ]
    for challenge_id, otp in attempts:
        locked = complete(api, credential, challenge_id, otp)
        assert_error(locked, 429, "general_rate_limit_exceeded")
        assert locked.header("X-RateLimit-Reset") == reset and locked.header("X-RateLimit-Remaining") == "0"
    assert failures(enrolled.user_id) == 10
    assert len(challenge_items(enrolled.user_id)) == 4  # nothing spent while locked
    assert stored_session(credential)["factors"] == ["password"]

    clock.advance(code_rules.FIRST_LOCK_SECONDS * 1000 + 1000)
    done = complete(api, credential, fresh, totp_clock.code(enrolled.secret, 1))
    assert done.status == 200, done.body
    assert users_store.MFA.count not in profile(enrolled.user_id)


def test_a_success_resets_the_failure_count(api, sent, enrolled, totp_clock):
    credential = half_signed_in(api)
    email_challenge = challenge(api, credential, "email")
    for _ in range(4):
        assert_error(complete(api, credential, email_challenge, wrong(sent.code(EMAIL))), 401, "user_invalid_token")
    burnt = challenge(api, credential, "totp")
    for _ in range(5):
        assert_error(
            complete(api, credential, burnt, totp_clock.wrong_code(enrolled.secret)), 401, "user_invalid_token"
        )
    assert failures(enrolled.user_id) == 9
    done = complete(api, credential, challenge(api, credential, "recoverycode"), enrolled.codes[0])
    assert done.status == 200, done.body
    assert users_store.MFA.count not in profile(enrolled.user_id)  # back to zero
    # So the next wrong code is the first again, and the lock is far away.
    totp_challenge = challenge(api, credential, "totp")
    assert_error(
        complete(api, credential, totp_challenge, totp_clock.wrong_code(enrolled.secret)), 401, "user_invalid_token"
    )
    assert failures(enrolled.user_id) == 1
    assert complete(api, credential, totp_challenge, totp_clock.code(enrolled.secret, 1)).status == 200


def test_a_totp_step_is_accepted_only_once(api, enrolled, totp_clock):
    first, second = half_signed_in(api), half_signed_in(api)
    code = totp_clock.code(enrolled.secret, 1)
    assert complete(api, first, challenge(api, first, "totp"), code).status == 200
    challenge_id = challenge(api, second, "totp")
    assert_error(complete(api, second, challenge_id, code), 401, "user_invalid_token")
    assert failures(enrolled.user_id) == 0  # a replay is no guess, though it uses one of the challenge's attempts
    [item] = challenge_items(enrolled.user_id)
    assert item["attempts"] == 1
    assert stored_session(second)["factors"] == ["password"]
    # An older step in the window is refused too: steps only move forward.
    assert_error(complete(api, second, challenge_id, totp_clock.code(enrolled.secret)), 401, "user_invalid_token")
    totp_clock.next_step()
    totp_clock.next_step()
    assert complete(api, second, challenge_id, totp_clock.code(enrolled.secret)).status == 200


def test_a_used_recovery_code_is_refused_without_counting(api, enrolled):
    first, second = half_signed_in(api), half_signed_in(api)
    code = enrolled.codes[0]
    assert complete(api, first, challenge(api, first, "recoverycode"), code).status == 200
    challenge_id = challenge(api, second, "recoverycode")
    assert_error(complete(api, second, challenge_id, code), 401, "user_invalid_token")
    assert failures(enrolled.user_id) == 0
    assert complete(api, second, challenge_id, enrolled.codes[1]).status == 200


def test_unknown_foreign_used_and_expired_challenges_get_one_answer(api, sent, ada, mfa_clock):
    codes = create_recovery_codes(api, ada.credential)
    grace = sign_up_and_in(api, "grace@example.com")
    grace_codes = create_recovery_codes(api, grace.credential)
    grace_challenge = challenge(api, grace.credential, "recoverycode")
    used = challenge(api, ada.credential, "recoverycode")
    assert complete(api, ada.credential, used, codes[0]).status == 200
    expired = challenge(api, ada.credential, "recoverycode")

    answers = {
        "unknown": complete(api, ada.credential, "00000000000000000000", codes[1]),
        "foreign": complete(api, ada.credential, grace_challenge, grace_codes[0]),
        "foreign with her own code": complete(api, ada.credential, grace_challenge, codes[1]),
        "used": complete(api, ada.credential, used, codes[0]),
        "used with a fresh code": complete(api, ada.credential, used, codes[1]),
    }
    # The foreign attempt neither spent nor burnt Grace's challenge.
    assert complete(api, grace.credential, grace_challenge, grace_codes[0]).status == 200
    mfa_clock.advance(RECENT_MS + 1000)
    answers["expired"] = complete(api, ada.credential, expired, codes[1])
    assert len(challenge_items(ada.user_id)) == 1  # refused, though still stored

    first = answers["unknown"]
    assert_error(first, 401, "user_invalid_token")
    for name, answer in answers.items():
        assert (answer.status, answer.body) == (first.status, first.body), name
    assert stored_session(ada.credential)["factors"] == ["password", "recoveryCode"]
    assert sum(profile(ada.user_id)["recoveryCodes"].values()) == 1  # only codes[0] was ever spent


def test_an_email_otp_session_cannot_use_an_email_challenge_as_its_second_factor(api, sent, ada):
    verify_email(api, sent, ada.credential)
    codes = create_recovery_codes(api, ada.credential)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    credential = email_otp_session(api, sent)
    assert_error(api("get_account", session=credential), 401, "user_more_factors_required")
    lift_cooldowns()
    assert_error(create_challenge(api, credential, "email"), 400, "general_argument_invalid")
    # Nor can it complete an email challenge another session of the user asked for.
    challenge_id = challenge(api, ada.credential, "email")
    refused = complete(api, credential, challenge_id, sent.code(EMAIL))
    assert_error(refused, 400, "general_argument_invalid")
    assert "email started this session" in refused.body["message"]
    assert stored_session(credential)["factors"] == ["email"]
    assert stored_session(credential)["mfaUpdatedAt"] == 0  # and it is no "recent challenge" either
    assert len(challenge_items(ada.user_id)) == 1  # the challenge stays for the session that asked for it
    assert_error(api("get_account", session=credential), 401, "user_more_factors_required")
    # A real second factor does it.
    done = complete(api, credential, challenge(api, credential, "recoverycode"), codes[0])
    assert done.status == 200 and done.body["factors"] == ["email", "recoveryCode"]
    assert api("get_account", session=credential).status == 200


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_a_code_sent_to_a_previous_address_does_not_complete_the_challenge(api, sent, ada, channel):
    verify_email(api, sent, ada.credential)
    if channel == "phone":
        verify_phone(api, sent, ada.credential, ada.user_id)
    lift_cooldowns()
    address = EMAIL if channel == "email" else PHONE
    challenge_id = challenge(api, ada.credential, channel)
    code = sent.code(address)
    change = (
        ("update_email", {"email": OTHER_EMAIL, "password": PASSWORD})
        if channel == "email"
        else ("update_phone", {"phone": OTHER_PHONE, "password": PASSWORD})
    )
    assert api(*change, session=ada.credential).status == 200
    assert_error(complete(api, ada.credential, challenge_id, code), 401, "user_invalid_token")
    assert stored_session(ada.credential)["factors"] == ["password"]
    assert stored_session(ada.credential).get("mfaUpdatedAt", 0) == 0


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_a_code_sent_to_an_address_no_longer_verified_does_not_complete_the_challenge(api, sent, ada, channel):
    """Changed away and back: the same address, but no longer proven."""
    verify_email(api, sent, ada.credential)
    if channel == "phone":
        verify_phone(api, sent, ada.credential, ada.user_id)
    lift_cooldowns()
    address = EMAIL if channel == "email" else PHONE
    challenge_id = challenge(api, ada.credential, channel)
    code = sent.code(address)
    field, other = ("email", OTHER_EMAIL) if channel == "email" else ("phone", OTHER_PHONE)
    for value in (other, address):
        answer = api(f"update_{field}", {field: value, "password": PASSWORD}, session=ada.credential)
        assert answer.status == 200, answer.body
    assert profile(ada.user_id)[field] == address and profile(ada.user_id)[f"{field}Verification"] is False
    assert_error(complete(api, ada.credential, challenge_id, code), 401, "user_invalid_token")
    assert stored_session(ada.credential)["factors"] == ["password"]


# --- single use under concurrency ----------------------------------------------------------------


def ten_sessions(api, ada) -> list[str]:
    """Ada's session and nine more (ten is the most a user keeps)."""
    return [ada.credential] + [api.session_for(EMAIL) for _ in range(9)]


def assert_one_winner(answers) -> None:
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [200] + [401] * 19, [(a.status, a.body) for a in answers]
    for answer in answers:
        if answer.status == 401:
            assert answer.body["type"] == "user_invalid_token", answer.body


def challenged_sessions(user_id: str) -> int:
    """How many sessions completed a challenge (mfaUpdatedAt is set only by that)."""
    return sum(bool(session.get("mfaUpdatedAt")) for session in session_items(user_id))


def test_one_challenge_is_completed_once_by_twenty_concurrent_requests(api, sent, ada, monkeypatch):
    """(a) 20 requests complete one email challenge with its right code, from 10 sessions.

    The worst interleaving, built deterministically (AllReadFirst): the 20 handler calls run in
    threads, but one lock lets only one run at a time, and each gives it up only at its first
    TransactWriteItems, where it waits at a Barrier(20). So all 20 read the challenge as unspent
    before any writes; then the conditional writes alone decide. Exactly one wins; the 19 others
    get the 401 and are not counted as wrong codes.
    """
    verify_email(api, sent, ada.credential)
    sessions = ten_sessions(api, ada)
    lift_cooldowns()
    challenge_id = challenge(api, ada.credential, "email")
    code = sent.code(EMAIL)
    requests = [lambda n=n: complete(api, sessions[n % 10], challenge_id, code) for n in range(20)]
    answers = AllReadFirst(20).run(monkeypatch, requests)
    assert_one_winner(answers)
    assert challenge_items(ada.user_id) == []
    assert failures(ada.user_id) == 0
    assert challenged_sessions(ada.user_id) == 1
    assert sum("email" in session["factors"] for session in session_items(ada.user_id)) == 1


def test_one_recovery_code_is_spent_once_by_twenty_concurrent_challenges(api, sent, ada, monkeypatch):
    """(b) 20 requests, from 10 sessions, each complete their own recovery-code challenge with the
    same recovery code. Built as in (a): all 20 read the code as unused before any writes, and the
    profile's condition (that code still unused) must stop all but one."""
    recovery_codes = create_recovery_codes(api, ada.credential)
    sessions = ten_sessions(api, ada)
    challenge_ids = []
    for n in range(20):
        if n == 10:
            lift_challenge_limit()  # 10 challenges per session per hour
        challenge_ids.append(challenge(api, sessions[n % 10], "recoverycode"))
    code = recovery_codes[0]
    requests = [lambda n=n: complete(api, sessions[n % 10], challenge_ids[n], code) for n in range(20)]
    answers = AllReadFirst(20).run(monkeypatch, requests)
    assert_one_winner(answers)
    assert sum(profile(ada.user_id)["recoveryCodes"].values()) == 1
    assert failures(ada.user_id) == 0
    remaining = challenge_items(ada.user_id)
    assert len(remaining) == 19 and {item["attempts"] for item in remaining} == {1}  # a lost race: no guess
    assert challenged_sessions(ada.user_id) == 1
    assert sum("recoveryCode" in session["factors"] for session in session_items(ada.user_id)) == 1


def test_one_totp_step_is_accepted_once_by_twenty_concurrent_challenges(api, ada, totp_clock, monkeypatch):
    """(c) 20 requests, from 10 sessions, each complete their own TOTP challenge with the same code
    (one time step). Built as in (a): all 20 read the step as unused before any writes, and the
    profile's condition (totpStep below this step) must stop all but one."""
    secret = enrol_totp(api, ada.credential, totp_clock)
    sessions = ten_sessions(api, ada)
    challenge_ids = []
    for n in range(20):
        if n == 10:
            lift_challenge_limit()
        challenge_ids.append(challenge(api, sessions[n % 10], "totp"))
    code = totp_clock.code(secret, 1)
    requests = [lambda n=n: complete(api, sessions[n % 10], challenge_ids[n], code) for n in range(20)]
    answers = AllReadFirst(20).run(monkeypatch, requests)
    assert_one_winner(answers)
    assert profile(ada.user_id)["totpStep"] == totp_clock.step + 1
    assert failures(ada.user_id) == 0
    remaining = challenge_items(ada.user_id)
    assert len(remaining) == 19 and {item["attempts"] for item in remaining} == {1}  # a lost race: no guess
    assert challenged_sessions(ada.user_id) == 1


# --- the lock, across challenges and other codes -------------------------------------------------


def test_the_lock_doubles_with_each_further_failure(api, enrolled, totp_clock, clock, mfa_clock):
    """`clock` moves the lock's clock (services/codes.py) and `mfa_clock` the challenges' clock, together."""

    def advance(ms):
        clock.advance(ms)
        mfa_clock.advance(ms)

    credential = half_signed_in(api)
    for _ in range(2):
        burnt = challenge(api, credential, "totp")
        for _ in range(5):
            answer = complete(api, credential, burnt, totp_clock.wrong_code(enrolled.secret))
            assert_error(answer, 401, "user_invalid_token")
    assert failures(enrolled.user_id) == 10
    advance(31_000)  # the first lock (30 s) is over
    guessed = challenge(api, credential, "totp")
    assert_error(complete(api, credential, guessed, totp_clock.wrong_code(enrolled.secret)), 401, "user_invalid_token")
    assert failures(enrolled.user_id) == 11
    failed_at = profile(enrolled.user_id)[users_store.MFA.at]
    locked = complete(api, credential, guessed, totp_clock.code(enrolled.secret, 1))
    assert_error(locked, 429, "general_rate_limit_exceeded")
    assert locked.header("X-RateLimit-Reset") == str(-(-(failed_at + 60_000) // 1000))  # twice as long
    advance(31_000)
    assert_error(
        complete(api, credential, guessed, totp_clock.code(enrolled.secret, 1)), 429, "general_rate_limit_exceeded"
    )
    advance(30_000)
    assert complete(api, credential, guessed, totp_clock.code(enrolled.secret, 1)).status == 200
    assert users_store.MFA.count not in profile(enrolled.user_id)


def test_wrong_codes_sent_without_a_session_never_lock_mfa(api, sent, ada):
    """API.md §7: wrong codes presented without a session (here phone verification, which anyone who
    knows the userId can call) count on the pre-auth count only, which burns live codes and locks
    nothing; the owner's MFA count is untouched and challenges still complete."""
    recovery_codes = create_recovery_codes(api, ada.credential)
    add_phone(api, ada.credential)
    assert api("create_phone_verification", {}, session=ada.credential).status == 201
    code = sent.code(PHONE)
    for _ in range(code_rules.FREE_FAILURES):
        answer = api("update_phone_verification", {"userId": ada.user_id, "secret": wrong(code)})
        assert_error(answer, 401, "user_invalid_token")
    assert profile(ada.user_id)[users_store.PRE_AUTH.count] == 0  # burned twice; it used to lock at 10
    # (From another address: this one spent its 10 an hour on the userId.)
    burned = api("update_phone_verification", {"userId": ada.user_id, "secret": code}, ip="198.51.100.9")
    assert_error(burned, 401, "user_invalid_token")  # the code is dead, but nothing answers 429...
    assert failures(ada.user_id) == 0
    challenge_id = challenge(api, ada.credential, "recoverycode")
    assert complete(api, ada.credential, challenge_id, recovery_codes[0]).status == 200  # ...and MFA is as it was


def test_wrong_challenge_answers_never_lock_code_sign_in(api, sent, enrolled):
    """The other way round: a session's wrong MFA answers lock MFA, not the pre-auth paths."""
    credential = half_signed_in(api)
    for _ in range(code_rules.FREE_FAILURES // MAX_WRONG_CODES):
        challenge_id = challenge(api, credential, "recoverycode")
        for _ in range(MAX_WRONG_CODES):
            assert_error(complete(api, credential, challenge_id, "0" * 16), 401, "user_invalid_token")
    assert failures(enrolled.user_id) == code_rules.FREE_FAILURES
    assert users_store.PRE_AUTH.count not in profile(enrolled.user_id)
    lift_cooldowns()
    token = api("create_email_token", {"userId": enrolled.user_id, "email": EMAIL})
    assert token.status == 201, token.body
    signed_in = api("create_session", {"userId": enrolled.user_id, "secret": sent.code(EMAIL)})
    assert signed_in.status == 201, signed_in.body


def test_a_code_sign_in_does_not_reset_the_mfa_count(api, sent, enrolled):
    """Whoever holds the inbox (the first factor) cannot buy more MFA guesses by signing in again:
    a success resets only its own count."""
    credential = half_signed_in(api)
    challenge_id = challenge(api, credential, "recoverycode")
    assert_error(complete(api, credential, challenge_id, "0" * 16), 401, "user_invalid_token")
    lift_cooldowns()
    assert api("create_email_token", {"userId": enrolled.user_id, "email": EMAIL}).status == 201
    signed_in = api("create_session", {"userId": enrolled.user_id, "secret": sent.code(EMAIL)})
    assert signed_in.status == 201, signed_in.body
    assert failures(enrolled.user_id) == 1


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_a_challenge_code_does_not_sign_in(api, sent, enrolled, channel):
    """A code sent for a challenge is no sign-in code for the same address (and stays a challenge code)."""
    credential = half_signed_in(api)
    address = EMAIL if channel == "email" else PHONE
    challenge_id = challenge(api, credential, channel)
    code = sent.code(address)
    sessions_before = len(session_items(enrolled.user_id))
    answer = api("create_session", {"userId": enrolled.user_id, "secret": code})
    assert_error(answer, 401, "user_invalid_token")
    assert len(session_items(enrolled.user_id)) == sessions_before
    assert complete(api, credential, challenge_id, code).status == 200


def test_attempts_per_challenge_are_capped_below_the_hourly_limit(api, ada):
    """API.md §5 allows 10 completion attempts per challengeId an hour. Every wrong answer, even one that
    is no guess (malformed, replayed), uses one of a challenge's 5 attempts, so a challenge never takes
    more than 5: the cap is stricter, costs no extra round trip, and its answer stays the §4.6 401."""
    recovery_codes = create_recovery_codes(api, ada.credential)
    challenge_id = challenge(api, ada.credential, "recoverycode")
    for _ in range(5):
        assert_error(complete(api, ada.credential, challenge_id, "not a code"), 401, "user_invalid_token")
    assert challenge_items(ada.user_id) == []
    assert failures(ada.user_id) == 0
    assert_error(complete(api, ada.credential, challenge_id, recovery_codes[0]), 401, "user_invalid_token")


def test_five_guesses_per_challenge_hold_under_concurrency(api, ada, totp_clock, monkeypatch):
    """(d) 20 concurrent wrong codes on one TOTP challenge, built as in (a): all 20 read the challenge
    with no wrong code yet before any writes. Only 5 guesses may count (the 5th burns it); the others
    find it burnt and are not counted."""
    secret = enrol_totp(api, ada.credential, totp_clock)
    challenge_id = challenge(api, ada.credential, "totp")
    guess = totp_clock.wrong_code(secret)
    requests = [lambda: complete(api, ada.credential, challenge_id, guess) for _ in range(20)]
    answers = AllReadFirst(20).run(monkeypatch, requests)
    assert [(a.status, a.body["type"]) for a in answers] == [(401, "user_invalid_token")] * 20
    assert failures(ada.user_id) == 5
    assert challenge_items(ada.user_id) == []


def test_the_lock_cannot_be_raced_past(api, ada, totp_clock, monkeypatch):
    """(e) At 9 consecutive failures, 20 concurrent wrong codes on 20 challenges, built as in (a):
    all 20 read the count as 9 before any writes. One is counted (the 10th); the others find the
    user locked."""
    secret = enrol_totp(api, ada.credential, totp_clock)
    burnt = challenge(api, ada.credential, "totp")
    for _ in range(5):
        assert complete(api, ada.credential, burnt, totp_clock.wrong_code(secret)).status == 401
    partly = challenge(api, ada.credential, "totp")
    for _ in range(4):
        assert complete(api, ada.credential, partly, totp_clock.wrong_code(secret)).status == 401
    assert failures(ada.user_id) == 9
    challenge_ids = []
    for n in range(20):
        if n % 8 == 0:
            lift_challenge_limit()
        challenge_ids.append(challenge(api, ada.credential, "totp"))
    guess = totp_clock.wrong_code(secret)
    requests = [lambda n=n: complete(api, ada.credential, challenge_ids[n], guess) for n in range(20)]
    answers = AllReadFirst(20).run(monkeypatch, requests)
    assert sorted(a.status for a in answers) == [401] + [429] * 19, [(a.status, a.body) for a in answers]
    assert failures(ada.user_id) == 10
    assert sorted(item["attempts"] for item in challenge_items(ada.user_id) if item["tokenId"] in challenge_ids) == [
        0
    ] * 19 + [1]


def test_at_a_hundred_consecutive_failures_code_checks_stay_locked(api, ada, clock, mfa_clock):
    recovery_codes = create_recovery_codes(api, ada.credential)
    # 99 wrong codes long ago (set on the profile: reaching them through the API takes days of locks).
    users_store.update_user(ada.user_id, {users_store.MFA.count: 99, users_store.MFA.at: now_ms() - 86_400_000})
    guessed = challenge(api, ada.credential, "recoverycode")
    assert_error(complete(api, ada.credential, guessed, "00000000000000aa"), 401, "user_invalid_token")
    assert failures(ada.user_id) == 100
    clock.advance(365 * 86_400_000)  # a year later
    mfa_clock.advance(365 * 86_400_000)
    fresh = challenge(api, ada.credential, "recoverycode")
    locked = complete(api, ada.credential, fresh, recovery_codes[0])
    assert_error(locked, 429, "general_rate_limit_exceeded")
    assert failures(ada.user_id) == 100
    assert sum(profile(ada.user_id)["recoveryCodes"].values()) == 0


def test_a_completion_that_keeps_losing_races_is_refused_not_a_server_error(api, enrolled, monkeypatch):
    """If every write finds the session or profile changed (endless contention), the answer is the
    ordinary 401 after a bounded number of re-reads: nothing is completed and nothing is a 500."""
    from authcore.store import challenges as challenges_store
    from authcore.store.errors import StaleError

    tries = []

    def always_stale(*args, **kwargs):
        tries.append(1)
        raise StaleError()

    monkeypatch.setattr(challenges_store, "complete", always_stale)
    credential = half_signed_in(api)
    challenge_id = challenge(api, credential, "recoverycode")
    assert_error(complete(api, credential, challenge_id, enrolled.codes[0]), 401, "user_invalid_token")
    assert len(tries) == 5
    assert stored_session(credential)["factors"] == ["password"]
