"""Password recovery by link and by code (API.md §8, §7), through the handlers with SES and DynamoDB emulated."""

import time

import pytest

from authcore.clock import iso
from authcore.services import codes, recovery
from authcore.store import users as users_store
from tests.rfc6238 import totp

from .conftest import PASSWORD, lift_cooldowns, profile, racing, table_items, token_items
from .mfa_fixtures import assert_error, enrol_totp, session_items, verify_email, wrong
from .test_verification import MINUTE_MS, TOKEN_FIELDS, epoch_ms, query

pytestmark = pytest.mark.usefixtures("steady_rate_window")

EMAIL = "ada@example.com"
UNKNOWN = "nobody@example.com"
URL = "http://localhost:3000/reset?from=mail#top"
NEW_PASSWORD = "a brand new password"


def ask_link(api, address=EMAIL, url=URL, ip=None):
    return api("create_recovery", {"email": address, "url": url}, ip=ip)


def ask_code(api, address=EMAIL, ip=None, **extra):
    return api("create_recovery_otp", {"email": address, **extra}, ip=ip)


def reset(api, user_id, secret, password=NEW_PASSWORD, ip=None):
    return api("update_recovery", {"userId": user_id, "secret": secret, "password": password}, ip=ip)


def reset_by_code(api, user_id, code, password=NEW_PASSWORD, ip=None):
    return api("update_recovery_otp", {"userId": user_id, "secret": code, "password": password}, ip=ip)


def link_params(sent, address=EMAIL) -> dict[str, str]:
    found = [word for word in sent.last(address)["text"].split() if word.startswith("http://localhost:3000/reset")]
    assert len(found) == 1, sent.last(address)["text"]
    return query(found[0])


@pytest.fixture
def ada(api, user_id_of):
    """A signed-up user with two password sessions: (credentials, userId)."""
    api.sign_up(EMAIL)
    credentials = [api.session_for(EMAIL), api.session_for(EMAIL)]
    return credentials, user_id_of(credentials[0])


def assert_signed_out(api, credentials):
    for credential in credentials:
        assert_error(api("get_account", session=credential), 401, "general_unauthorized_scope")


# --- by link --------------------------------------------------------------------------------------


def test_the_link_sets_a_new_password_and_ends_every_session(api, sent, ada):
    credentials, user_id = ada
    answer = ask_link(api)
    assert answer.status == 201, answer.body
    assert set(answer.body) == TOKEN_FIELDS and answer.body["secret"] == "" and answer.body["userId"] == user_id
    assert answer.body["expire"] == iso_after(answer.body["$createdAt"], 60)
    params = link_params(sent)
    assert params["userId"] == user_id and params["from"] == "mail" and params["expire"] == answer.body["expire"]
    assert "#top" in sent.last(EMAIL)["text"]  # the app's fragment is kept

    done = reset(api, user_id, params["secret"])
    assert done.status == 200, done.body
    assert set(done.body) == TOKEN_FIELDS and done.body["$id"] == answer.body["$id"] and done.body["secret"] == ""
    assert_signed_out(api, credentials)
    assert session_items(user_id) == [] and profile(user_id)["sessions"] == {}
    assert api.sign_in(EMAIL, PASSWORD).status == 401
    signed_in = api.sign_in(EMAIL, NEW_PASSWORD)
    assert signed_in.status == 201
    assert profile(user_id)["emailVerification"] is False  # not a proof of the address (docs/security.md)
    events = [log["event"] for log in api("list_logs", session=signed_in.credential).body["logs"]]
    # Newest first: the sign-in, the old password refused, the reset.
    assert events[:3] == ["session.create", "session.create.failed", "recovery.update"]


def iso_after(created: str, minutes: int) -> str:
    return iso(epoch_ms(created) + minutes * MINUTE_MS)


def test_the_link_must_point_at_an_allowed_origin(api, sent, ada):
    for url in ("https://evil.example/reset", "javascript:alert(1)", "/reset"):
        assert_error(ask_link(api, url=url), 400, "general_argument_invalid")
    assert sent.to(EMAIL) == [] and token_items() == []


def test_a_wrong_expired_or_replayed_link_is_refused_and_the_password_stays(api, sent, ada, clock):
    _, user_id = ada
    ask_link(api)
    secret = link_params(sent)["secret"]
    assert_error(reset(api, user_id, "0" * 64), 401, "user_invalid_token")
    assert_error(reset(api, "someone-else", secret), 401, "user_invalid_token")
    assert profile(user_id).get(users_store.PRE_AUTH.count, 0) == 0  # a 256-bit secret is no guess
    assert reset(api, user_id, secret).status == 200
    assert_error(reset(api, user_id, secret, password="yet another password"), 401, "user_invalid_token")
    assert api.sign_in(EMAIL, NEW_PASSWORD).status == 201

    lift_cooldowns()
    ask_link(api)
    late = link_params(sent)["secret"]
    clock.advance(61 * MINUTE_MS)
    assert_error(reset(api, user_id, late, password="too late password"), 401, "user_invalid_token")
    assert api.sign_in(EMAIL, NEW_PASSWORD).status == 201


def test_a_refused_password_leaves_the_link_usable(api, sent, ada):
    """As Appwrite's SDK 27 documents: a rejected password changes nothing and the secret still works."""
    _, user_id = ada
    ask_link(api)
    secret = link_params(sent)["secret"]
    assert_error(reset(api, user_id, secret, password="short"), 400, "general_argument_invalid")
    assert reset(api, user_id, secret).status == 200


def test_two_resets_with_one_link_at_once_one_wins(api, sent, ada):
    _, user_id = ada
    ask_link(api)
    secret = link_params(sent)["secret"]
    other = "the other password"
    with racing(lambda: reset(api, user_id, secret, password=other), "Update", "TOKEN#") as concurrent:
        answer = reset(api, user_id, secret)
    assert concurrent[0].status == 200
    assert_error(answer, 401, "user_invalid_token")
    assert api.sign_in(EMAIL, other).status == 201 and api.sign_in(EMAIL, NEW_PASSWORD).status == 401


def test_a_session_created_during_the_reset_ends_too(api, sent, ada):
    """The reset decides on the session map as read; a session created meanwhile makes it read again."""
    _, user_id = ada
    ask_link(api)
    secret = link_params(sent)["secret"]
    with racing(lambda: api.session_for(EMAIL), "Update", "TOKEN#") as concurrent:
        assert reset(api, user_id, secret).status == 200
    assert_signed_out(api, [concurrent[0]])
    assert profile(user_id)["sessions"] == {}


def test_a_blocked_user_cannot_reset_and_the_link_stays_usable(api, sent, ada):
    _, user_id = ada
    ask_link(api)
    secret = link_params(sent)["secret"]
    users_store.update_user(user_id, {"status": False})
    assert_error(reset(api, user_id, secret), 401, "user_blocked")
    users_store.update_user(user_id, {"status": True})
    assert reset(api, user_id, secret).status == 200


# --- unknown emails ---------------------------------------------------------------------------------


def test_an_unknown_email_gets_the_same_answer_and_nothing_is_sent(api, sent, ada):
    known, unknown = ask_link(api), ask_link(api, UNKNOWN)
    assert unknown.status == known.status == 201
    assert set(unknown.body) == set(known.body) and unknown.body["secret"] == ""
    assert len(unknown.body["userId"]) == len(known.body["userId"]) == 20
    assert int(unknown.body["userId"], 16) and unknown.body["userId"] != known.body["userId"]
    assert unknown.body["expire"] == iso_after(unknown.body["$createdAt"], 60)
    assert sent.to(UNKNOWN) == [] and users_store.find_user_id("email", UNKNOWN) is None
    assert [t["userId"] for t in token_items()] == [known.body["userId"]]
    # Generated as a real account's id is (its time part now), and kept by the address's digest only.
    assert abs(int(unknown.body["userId"][:8], 16) - epoch_ms(unknown.body["$createdAt"]) // 1000) <= 1
    [kept] = table_items("STANDIN#")
    assert kept["userId"] == unknown.body["userId"] and UNKNOWN not in str(kept)

    # Asking again a minute later: the same user id (as for a real account), and the code route agrees.
    lift_cooldowns()
    again = ask_code(api, UNKNOWN)
    assert again.status == 201 and again.body["userId"] == unknown.body["userId"]
    assert sent.to(UNKNOWN) == []
    # Its stand-in id leads nowhere: the same refusal as a wrong secret.
    assert_error(reset_by_code(api, again.body["userId"], "123456"), 401, "user_invalid_token")


def test_two_first_asks_for_an_unknown_email_at_once_get_one_id(api, sent, ada):
    """Another ask keeps its stand-in id between this one's read and write: this one reads again and answers
    that id (its charges were not spent by the cancelled write)."""
    kept = "6b14eba085ae8b6829ec"

    def other_ask():
        now = int(time.time())
        users_store.keep_stand_in(UNKNOWN, kept, [], now, now + 3600)

    with racing(other_ask, "Update", "STANDIN"):
        answer = ask_link(api, UNKNOWN)
    assert answer.status == 201 and answer.body["userId"] == kept


def test_an_unknown_email_meets_the_same_limits(api, sent, ada):
    """The cooldown, the budgets and the limits are spent for an unknown email too, so a 429 tells nothing."""
    for address in (EMAIL, UNKNOWN):
        assert ask_link(api, address).status == 201
        assert_error(ask_link(api, address), 429, "general_rate_limit_exceeded")  # one message a minute
        for _ in range(codes.ANONYMOUS_PER_SOURCE_PER_DAY - 1):
            lift_cooldowns()
            assert ask_code(api, address).status == 201
        lift_cooldowns()
        assert_error(ask_code(api, address), 429, "general_rate_limit_exceeded")  # this source's share today
        assert ask_code(api, address, ip="198.51.100.7").status == 201  # another source still may
    assert sent.to(UNKNOWN) == []


def test_an_unknown_email_takes_as_long_as_a_send(api, sent, ada, monkeypatch):
    """No wall clock: the wait for an unknown email is the median of what this container's sends took."""
    waits = []
    monkeypatch.setattr(recovery.time, "sleep", waits.append)
    monkeypatch.setattr(recovery, "pace", recovery.SendPace())
    assert ask_link(api).status == 201
    assert waits == [] and len(recovery.pace.samples) == 2  # a real send is timed, never padded
    assert ask_link(api, UNKNOWN).status == 201
    assert waits == [sorted(recovery.pace.samples)[0] / 2 + sorted(recovery.pace.samples)[1] / 2]


def test_recovery_needs_an_email_sender(api, sent, ada, environment):
    environment("SENDER_EMAIL", "")
    for address in (EMAIL, UNKNOWN):
        assert_error(ask_link(api, address), 503, "general_smtp_disabled")


# --- by code ----------------------------------------------------------------------------------------


def test_the_code_sets_a_new_password_with_a_phrase(api, sent, ada):
    credentials, user_id = ada
    answer = ask_code(api, phrase=True)
    assert answer.status == 201 and answer.body["userId"] == user_id and answer.body["secret"] == ""
    assert answer.body["expire"] == iso_after(answer.body["$createdAt"], 15)
    phrase = answer.body["phrase"]
    assert phrase and phrase in sent.last(EMAIL)["text"]
    assert reset_by_code(api, user_id, sent.code(EMAIL)).status == 200
    assert_signed_out(api, credentials)
    assert api.sign_in(EMAIL, NEW_PASSWORD).status == 201


def test_codes_and_links_do_not_stand_in_for_each_other(api, sent, ada):
    _, user_id = ada
    ask_link(api)
    secret = link_params(sent)["secret"]
    assert_error(reset_by_code(api, user_id, secret), 401, "user_invalid_token")
    lift_cooldowns()
    ask_code(api)
    assert_error(reset(api, user_id, sent.code(EMAIL)), 401, "user_invalid_token")
    # A sign-in code is not a recovery code either.
    lift_cooldowns()
    assert api("create_email_token", {"userId": user_id, "email": EMAIL}).status == 201
    assert_error(reset_by_code(api, user_id, sent.code(EMAIL)), 401, "user_invalid_token")


def test_wrong_codes_count_and_burn_without_locking(api, sent, ada, clock):
    """API.md §7: wrong recovery codes count on the pre-auth counter; the fifth burns the live codes
    (the right one is then refused, uncounted); asking for a new code works at once (no lock)."""
    _, user_id = ada
    ask_code(api)
    code = sent.code(EMAIL)
    for count in range(1, users_store.BURN_AFTER):
        assert_error(reset_by_code(api, user_id, wrong(code)), 401, "user_invalid_token")
        assert profile(user_id)[users_store.PRE_AUTH.count] == count
    assert_error(reset_by_code(api, user_id, wrong(code)), 401, "user_invalid_token")  # the burn
    assert_error(reset_by_code(api, user_id, code), 401, "user_invalid_token")
    assert profile(user_id)[users_store.PRE_AUTH.count] == 0
    assert_error(reset_by_code(api, user_id, "12ab56"), 401, "user_invalid_token")  # malformed: not counted
    assert profile(user_id)[users_store.PRE_AUTH.count] == 0

    clock.advance(MINUTE_MS)
    lift_cooldowns()
    ask_code(api)
    assert reset_by_code(api, user_id, sent.code(EMAIL)).status == 200
    assert users_store.PRE_AUTH.count not in profile(user_id)  # a success resets the count


def test_an_expired_code_is_refused(api, sent, ada, clock):
    _, user_id = ada
    ask_code(api)
    clock.advance(16 * MINUTE_MS)
    assert_error(reset_by_code(api, user_id, sent.code(EMAIL)), 401, "user_invalid_token")


def test_resets_are_limited_per_user_and_source(api, sent, ada):
    """10 an hour per (userId, source address), 10 per source address: one source cannot use up a user's."""
    _, user_id = ada
    ask_code(api)
    code = sent.code(EMAIL)
    for _ in range(10):
        assert reset(api, user_id, "f" * 64).status == 401
    assert_error(reset(api, user_id, "f" * 64), 429, "general_rate_limit_exceeded")
    assert_error(reset_by_code(api, user_id, code), 429, "general_rate_limit_exceeded")
    assert reset_by_code(api, user_id, code, ip="198.51.100.7").status == 200


# --- MFA stays ------------------------------------------------------------------------------------


def test_a_reset_keeps_mfa_and_the_next_sign_in_meets_the_gate(api, sent, ada, totp_clock):
    credentials, user_id = ada
    secret = enrol_totp(api, credentials[0], totp_clock)
    assert api("update_mfa", {"mfa": True}, session=credentials[0]).status == 200
    ask_link(api)
    assert reset(api, user_id, link_params(sent)["secret"]).status == 200
    stored = profile(user_id)
    assert stored["mfa"] is True and stored.get("authenticator")

    session = api.sign_in(EMAIL, NEW_PASSWORD).credential
    assert_error(api("get_account", session=session), 401, "user_more_factors_required")
    challenge = api("create_mfa_challenge", {"factor": "totp"}, session=session).body["$id"]
    body = {"challengeId": challenge, "otp": totp(secret, offset_steps=1)}
    assert api("update_mfa_challenge", body, session=session).status == 200
    assert api("get_account", session=session).status == 200


def test_a_verified_address_is_told_of_the_reset(api, sent, ada):
    credentials, user_id = ada
    verify_email(api, sent, credentials[0])
    lift_cooldowns()
    ask_link(api)
    assert reset(api, user_id, link_params(sent)["secret"]).status == 200
    assert "password was reset" in sent.last(EMAIL)["subject"]
    assert profile(user_id)["emailVerification"] is True  # as it was
