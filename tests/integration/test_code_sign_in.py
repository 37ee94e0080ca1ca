"""Sign-in by a one-time code sent by email or SMS (API.md §4.4), its limits (§5) and the shared
count of wrong codes (§4.6), through the handlers with SES, SNS and DynamoDB emulated."""

import json
import time
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from authcore.services import codes
from authcore.store import users as users_store

from .conftest import (
    PASSWORD,
    cooldowns,
    lift_cooldowns,
    profile,
    racing,
    rate_counts,
    table_items,
    token_items,
)

pytestmark = pytest.mark.usefixtures("steady_rate_window")

EMAIL = "ada@example.com"
PHONE = "+14155552671"
TOKEN_FIELDS = {"$id", "$createdAt", "userId", "secret", "expire", "phrase"}


def epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def email_token(api, email=EMAIL, user_id="unique()", ip=None, **extra):
    return api("create_email_token", {"userId": user_id, "email": email, **extra}, ip=ip)


def phone_token(api, phone=PHONE, user_id="unique()", ip=None):
    return api("create_phone_token", {"userId": user_id, "phone": phone}, ip=ip)


def sign_in(api, user_id, secret, ip=None, session=None):
    return api("create_session", {"userId": user_id, "secret": secret}, ip=ip, session=session)


def assert_error(answer, status, type_):
    assert answer.status == status, answer.body
    assert answer.body["type"] == type_, answer.body
    assert set(answer.body) == {"message", "code", "type", "version"} and answer.body["code"] == status


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def sessions_of(user_id: str) -> list[dict]:
    return [item for item in table_items(f"USER#{user_id}") if item["sk"].startswith("SESSION#")]


# --- email codes ---------------------------------------------------------------------------------


def test_an_email_code_for_a_new_email_creates_the_user_and_signs_in(api, sent):
    answer = email_token(api, "Ada@Example.com")
    assert answer.status == 201, answer.body
    token = answer.body
    assert set(token) == TOKEN_FIELDS and token["secret"] == "" and token["phrase"] == ""
    assert epoch_ms(token["expire"]) - epoch_ms(token["$createdAt"]) == codes.CODE_LIFETIME_MS
    user_id = token["userId"]
    created = profile(user_id)
    assert created["email"] == EMAIL and created["phone"] == ""
    assert created["emailVerification"] is False and created["passwordHash"] == "" and created["status"] is True
    assert {item["pk"] for item in table_items("EMAIL#")} == {f"EMAIL#{EMAIL}"}
    [stored] = token_items(user_id)
    assert stored["kind"] == codes.EMAIL_SIGN_IN and stored["address"] == EMAIL and stored["tokenId"] == token["$id"]

    message = sent.last(EMAIL)
    assert message["channel"] == "email" and message["subject"] == "Your My App sign-in code"
    code = sent.code(EMAIL)
    assert code not in json.dumps(table_items())  # only a keyed hash is stored

    session = sign_in(api, user_id, code)
    assert session.status == 201, session.body
    body = session.body
    assert body["provider"] == "token" and body["factors"] == ["email"] and body["providerUid"] == EMAIL
    assert body["userId"] == user_id and body["current"] is True and body["secret"] == ""
    cookies = session.headers["set-cookie"]
    assert len(cookies) == 2 and cookies[0].startswith("a_session_default=") and "HttpOnly" in cookies[0]
    assert cookies[1].startswith("a_session_default_legacy=")
    credential = session.credential
    assert cookies[0].startswith(f"a_session_default={credential};")
    account = api("get_account", session=credential)
    assert account.status == 200 and account.body["emailVerification"] is True
    assert account.body["phoneVerification"] is False and account.body["passwordUpdate"] == ""
    assert token_items(user_id) == []  # spent
    assert [s["provider"] for s in sessions_of(user_id)] == ["token"]


def test_an_existing_users_code_goes_to_that_user_whatever_user_id_is_sent(api, sent):
    api.sign_up(EMAIL, userId="ada")
    for requested in ("someone-else", "unique()"):
        lift_cooldowns()
        answer = email_token(api, EMAIL, user_id=requested)
        assert answer.status == 201, answer.body
        assert answer.body["userId"] == "ada"
    assert profile("someone-else") is None
    assert len([item for item in table_items("USER#") if item["sk"] == "PROFILE"]) == 1
    session = sign_in(api, "ada", sent.code(EMAIL))
    assert session.status == 201 and session.body["factors"] == ["email"]
    stored = profile("ada")
    assert stored["emailVerification"] is True
    assert stored["passwordHash"] == ""  # set before the email was proven: see the pre-hijacking tests
    assert len(token_items("ada")) == 1  # the other code was not spent by this sign-in


def test_a_first_proof_of_the_email_ends_what_was_set_up_before_it(api, sent):
    """Account pre-hijacking: someone signs up with another person's email and a password of
    their own, and stays signed in. When the email's owner signs in by code, both end."""
    api.sign_up(EMAIL, userId="ada")
    squatter = api.session_for(EMAIL)
    assert email_token(api).status == 201
    owner = sign_in(api, "ada", sent.code(EMAIL))
    assert owner.status == 201, owner.body
    assert_error(api("get_account", session=squatter), 401, "general_unauthorized_scope")
    assert_error(api.sign_in(EMAIL), 401, "user_invalid_credentials")
    account = api("get_account", session=owner.credential).body
    assert account["emailVerification"] is True and account["passwordUpdate"] == ""
    assert list(profile("ada")["sessions"]) and len(profile("ada")["sessions"]) == 1


def test_a_code_to_a_verified_email_keeps_the_password_and_other_sessions(api, sent):
    api.sign_up(EMAIL, userId="ada")
    assert email_token(api).status == 201
    first = sign_in(api, "ada", sent.code(EMAIL))  # proves the email: nothing else existed yet
    assert first.status == 201
    assert api("update_password", {"password": "a new password 1"}, session=first.credential).status == 200
    lift_cooldowns()
    assert email_token(api).status == 201
    second = sign_in(api, "ada", sent.code(EMAIL))
    assert second.status == 201, second.body
    assert api("get_account", session=first.credential).status == 200
    assert api.sign_in(EMAIL, "a new password 1").status == 201


def test_a_new_email_with_a_taken_custom_id_is_409_and_writes_nothing(api, sent):
    api.sign_up(EMAIL, userId="ada")
    before = table_items()
    answer = email_token(api, "grace@example.com", user_id="ada")
    assert_error(answer, 409, "user_already_exists")
    assert table_items() == before  # no token, no user, no spent limit, no cooldown
    assert sent.count() == 0


def test_a_phrase_is_shown_and_emailed(api, sent):
    answer = email_token(api, phrase=True)
    assert answer.status == 201, answer.body
    phrase = answer.body["phrase"]
    words = phrase.split(" ")
    assert len(words) == 2 and all(w.isalpha() and w[0].isupper() for w in words)
    assert f"Security phrase: {phrase}" in sent.last(EMAIL)["text"]
    assert token_items(answer.body["userId"])[0]["phrase"] == phrase
    lift_cooldowns()
    plain = email_token(api)
    assert plain.body["phrase"] == "" and "Security phrase" not in sent.last(EMAIL)["text"]


def test_a_code_sent_to_a_previous_email_does_not_sign_in(api, sent, dynamo_calls):
    api.sign_up(EMAIL)
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    credential = api.session_for(EMAIL)
    assert api("update_email", {"email": "ada@new.example", "password": PASSWORD}, session=credential).status == 200
    assert_error(sign_in(api, user_id, code), 401, "user_invalid_token")
    # refused on the read; a counted guess, and its failed sign-in's log item (issue 17)
    assert dynamo_calls.operations == ["TransactWriteItems", "BatchGetItem", "UpdateItem", "PutItem"]
    assert profile(user_id)["emailVerification"] is False


# --- phone codes ---------------------------------------------------------------------------------


def test_a_phone_code_for_a_new_phone_creates_the_user_and_signs_in(api, sent):
    answer = phone_token(api)
    assert answer.status == 201, answer.body
    user_id = answer.body["userId"]
    created = profile(user_id)
    assert created["phone"] == PHONE and created["email"] == "" and created["phoneVerification"] is False
    assert {item["pk"] for item in table_items("PHONE#")} == {f"PHONE#{PHONE}"}
    assert table_items("EMAIL#") == []
    message = sent.last(PHONE)
    assert message["channel"] == "sms" and "sign-in code" in message["text"]
    session = sign_in(api, user_id, sent.code(PHONE))
    assert session.status == 201, session.body
    assert session.body["provider"] == "phone" and session.body["factors"] == ["phone"]
    assert session.body["providerUid"] == PHONE
    assert json.loads(session.header("X-Fallback-Cookies")) == {"a_session_default": session.credential}
    account = api("get_account", session=session.credential).body
    assert account["phoneVerification"] is True and account["emailVerification"] is False and account["email"] == ""


def test_a_phone_code_for_an_existing_user(api, sent, user_id_of):
    api.sign_up(EMAIL)
    credential = api.session_for(EMAIL)
    user_id = user_id_of(credential)
    assert api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=credential).status == 200
    answer = phone_token(api, user_id="someone-else")
    assert answer.status == 201 and answer.body["userId"] == user_id
    session = sign_in(api, user_id, sent.code(PHONE))
    assert session.status == 201 and session.body["factors"] == ["phone"]
    stored = profile(user_id)
    # A signed-in session put the phone there: its first proof wipes nothing (API.md §7).
    assert stored["phoneVerification"] is True and stored["email"] == EMAIL and stored["passwordHash"]
    assert stored["phoneByGuest"] is False and len(sessions_of(user_id)) == 2
    assert table_items(f"EMAIL#{EMAIL}") != []


def test_a_phone_verification_code_cannot_sign_in(api, sent, user_id_of):
    api.sign_up(EMAIL)
    credential = api.session_for(EMAIL)
    user_id = user_id_of(credential)
    assert api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=credential).status == 200
    assert api("create_phone_verification", {}, session=credential).status == 201
    assert_error(sign_in(api, user_id, sent.code(PHONE)), 401, "user_invalid_token")
    assert len(sessions_of(user_id)) == 1  # only the password session
    assert len(token_items(user_id)) == 1 and profile(user_id)["phoneVerification"] is False
    # ... and it still verifies the phone, as it was meant to.
    confirmed = api("update_phone_verification", {"userId": user_id, "secret": sent.code(PHONE)})
    assert confirmed.status == 200


# --- wrong, used, expired, foreign ---------------------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_a_wrong_code_is_refused_and_counted(api, sent, channel):
    address = EMAIL if channel == "email" else PHONE
    token = (email_token(api) if channel == "email" else phone_token(api)).body
    code = sent.code(address)
    for attempt in (wrong(code), "000000" if code != "000000" else "000001"):
        assert_error(sign_in(api, token["userId"], attempt), 401, "user_invalid_token")
    assert profile(token["userId"])[users_store.PRE_AUTH.count] == 2
    assert sessions_of(token["userId"]) == [] and len(token_items(token["userId"])) == 1
    assert sign_in(api, token["userId"], code).status == 201
    assert users_store.PRE_AUTH.count not in profile(token["userId"])  # a success resets the count


def test_a_malformed_code_is_refused_without_a_lookup(api, sent, dynamo_calls):
    user_id = email_token(api).body["userId"]
    for secret in ("12345", "1234567", "abcdef", " 123456"):
        assert_error(sign_in(api, user_id, secret), 401, "user_invalid_token")
        assert dynamo_calls.operations == ["TransactWriteItems"]  # the limits only


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_a_used_code_is_refused(api, sent, channel):
    address = EMAIL if channel == "email" else PHONE
    user_id = (email_token(api) if channel == "email" else phone_token(api)).body["userId"]
    code = sent.code(address)
    first = sign_in(api, user_id, code)
    assert first.status == 201
    assert_error(sign_in(api, user_id, code), 401, "user_invalid_token")
    assert len(sessions_of(user_id)) == 1


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_an_expired_code_is_refused_though_still_stored(api, sent, clock, dynamo_calls, channel):
    address = EMAIL if channel == "email" else PHONE
    user_id = (email_token(api) if channel == "email" else phone_token(api)).body["userId"]
    code = sent.code(address)
    clock.advance(codes.CODE_LIFETIME_MS + 1000)
    assert_error(sign_in(api, user_id, code), 401, "user_invalid_token")
    # refused on the read; a counted guess, and its failed sign-in's log item (issue 17)
    assert dynamo_calls.operations == ["TransactWriteItems", "BatchGetItem", "UpdateItem", "PutItem"]
    assert len(token_items(user_id)) == 1 and sessions_of(user_id) == []
    assert profile(user_id)[f"{'email' if channel == 'email' else 'phone'}Verification"] is False


def test_a_code_works_until_it_expires(api, sent, clock):
    user_id = email_token(api).body["userId"]
    clock.advance(codes.CODE_LIFETIME_MS - 1000)
    assert sign_in(api, user_id, sent.code(EMAIL)).status == 201


def test_another_users_code_is_refused(api, sent):
    ada = email_token(api, EMAIL).body["userId"]
    ada_code = sent.code(EMAIL)
    grace = email_token(api, "grace@example.com").body["userId"]
    grace_code = sent.code("grace@example.com")
    if ada_code == grace_code:
        pytest.skip("one in a million: both drew the same code, which is then Grace's too")
    assert_error(sign_in(api, grace, ada_code), 401, "user_invalid_token")
    assert_error(sign_in(api, ada, grace_code), 401, "user_invalid_token")
    assert_error(sign_in(api, "nobody", ada_code), 401, "user_invalid_token")
    assert sessions_of(ada) == [] and sessions_of(grace) == []
    assert profile(ada)[users_store.PRE_AUTH.count] == 1 and profile(grace)[users_store.PRE_AUTH.count] == 1
    assert sign_in(api, ada, ada_code).status == 201


def test_a_blocked_user_cannot_sign_in_with_the_right_code(api, sent):
    user_id = email_token(api).body["userId"]
    users_store.update_user(user_id, {"status": False})
    assert_error(sign_in(api, user_id, sent.code(EMAIL)), 401, "user_blocked")
    assert sessions_of(user_id) == [] and profile(user_id)["emailVerification"] is False


def test_a_signed_in_caller_cannot_sign_in_again(api, sent):
    user_id = email_token(api).body["userId"]
    first = sign_in(api, user_id, sent.code(EMAIL))
    assert first.status == 201
    lift_cooldowns()
    email_token(api)
    code = sent.code(EMAIL)
    assert_error(sign_in(api, user_id, code, session=first.credential), 401, "user_session_already_exists")
    assert len(token_items(user_id)) == 1 and len(sessions_of(user_id)) == 1
    # An ended session is no obstacle.
    assert api("delete_session", session=first.credential, path={"sessionId": "current"}).status == 204
    assert sign_in(api, user_id, code, session=first.credential).status == 201


def test_a_sign_in_that_loses_a_race_retries_with_the_fresh_profile(api, sent):
    """Another write to the profile between the read and the session write: the code still signs in, once."""
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    # Between the read and the session write, the profile changes as another sign-in would change it.
    with racing(lambda: users_store.update_user(user_id, {"sessionsRev": 7}), "Put") as others:
        answer = sign_in(api, user_id, code)
    assert answer.status == 201, answer.body
    assert len(others) == 1
    assert len(sessions_of(user_id)) == 1 and token_items(user_id) == []
    assert profile(user_id)["sessionsRev"] == 8 and profile(user_id)["emailVerification"] is True


# --- the shared count of wrong codes, which burns ----------------------------------------------


def test_wrong_sign_in_and_verification_codes_share_one_count(api, sent, user_id_of):
    """Three wrong sign-in codes and two wrong phone verification codes are five on the pre-auth count:
    both live codes burn (it used to take ten to lock both checks with a 429)."""
    api.sign_up(EMAIL)
    credential = api.session_for(EMAIL)
    user_id = user_id_of(credential)
    assert api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=credential).status == 200
    assert api("create_phone_verification", {}, session=credential).status == 201
    verification_code = sent.code(PHONE)
    assert email_token(api).status == 201
    sign_in_code = sent.code(EMAIL)

    for _ in range(3):
        assert_error(sign_in(api, user_id, wrong(sign_in_code)), 401, "user_invalid_token")
    for _ in range(2):
        answer = api("update_phone_verification", {"userId": user_id, "secret": wrong(verification_code)})
        assert_error(answer, 401, "user_invalid_token")
    stored = profile(user_id)
    assert stored[users_store.PRE_AUTH.count] == 0 and stored[users_store.PRE_AUTH.burned] > 0

    assert_error(sign_in(api, user_id, sign_in_code), 401, "user_invalid_token")
    burned = api("update_phone_verification", {"userId": user_id, "secret": verification_code})
    assert_error(burned, 401, "user_invalid_token")
    assert profile(user_id)[users_store.PRE_AUTH.count] == 0  # dead codes are no guesses
    assert len(sessions_of(user_id)) == 1 and len(token_items(user_id)) == 2

    # Fresh codes work: nothing is locked.
    lift_cooldowns()
    assert email_token(api).status == 201
    assert sign_in(api, user_id, sent.code(EMAIL)).status == 201
    assert users_store.PRE_AUTH.count not in profile(user_id)


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_the_fifth_wrong_code_burns_the_live_code_and_resets_the_count(api, sent, clock, channel):
    address = EMAIL if channel == "email" else PHONE
    user_id = (email_token(api) if channel == "email" else phone_token(api)).body["userId"]
    code = sent.code(address)
    for attempt in range(1, users_store.BURN_AFTER):
        assert_error(sign_in(api, user_id, wrong(code)), 401, "user_invalid_token")
        assert profile(user_id)[users_store.PRE_AUTH.count] == attempt
    assert users_store.PRE_AUTH.burned not in profile(user_id)
    clock.advance(1000)
    assert_error(sign_in(api, user_id, wrong(code)), 401, "user_invalid_token")
    stored = profile(user_id)
    assert stored[users_store.PRE_AUTH.count] == 0
    assert stored[users_store.PRE_AUTH.burned] == stored[users_store.PRE_AUTH.at]

    # The right code, burned: refused, and not counted (it is dead, so it is no guess).
    assert_error(sign_in(api, user_id, code), 401, "user_invalid_token")
    assert profile(user_id) == stored and sessions_of(user_id) == [] and len(token_items(user_id)) == 1

    # The count starts again: it takes five more to burn again.
    for attempt in range(1, users_store.BURN_AFTER):
        assert_error(sign_in(api, user_id, wrong(code)), 401, "user_invalid_token")
        assert profile(user_id)[users_store.PRE_AUTH.count] == attempt
    assert profile(user_id)[users_store.PRE_AUTH.burned] == stored[users_store.PRE_AUTH.burned]

    # A code issued after the burn works (from the owner's own address: this one spent its 10 an hour).
    lift_cooldowns()
    assert (email_token(api) if channel == "email" else phone_token(api)).status == 201
    assert sign_in(api, user_id, sent.code(address), ip="198.51.100.7").status == 201
    assert users_store.PRE_AUTH.count not in profile(user_id)
    assert profile(user_id)[users_store.PRE_AUTH.burned] == stored[users_store.PRE_AUTH.burned]  # stays


def test_no_number_of_wrong_codes_locks_code_sign_in(api, sent):
    """Past the old lock (10, doubling to a day, 100 for good): the owner's fresh code still signs in."""
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    users_store.update_user(user_id, {users_store.PRE_AUTH.count: 150, users_store.PRE_AUTH.at: 0})
    assert_error(sign_in(api, user_id, wrong(code)), 401, "user_invalid_token")  # burns (5 or more as read)
    assert profile(user_id)[users_store.PRE_AUTH.count] == 0
    lift_cooldowns()
    assert email_token(api).status == 201
    assert sign_in(api, user_id, sent.code(EMAIL)).status == 201


@pytest.mark.parametrize(("before", "after"), [(3, 0), (4, 1)])
def test_racing_wrong_codes_count_once_each_and_burn_once(api, sent, monkeypatch, before, after):
    """Two wrong codes read the same count; the conditional write makes the loser read again and count
    on top: both count, and exactly one of them is the fifth and burns."""
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    users_store.update_user(user_id, {users_store.PRE_AUTH.count: before})
    signals = []
    monkeypatch.setattr(codes.observability, "count", lambda name, **_: signals.append(name))

    with racing(lambda: sign_in(api, user_id, wrong(code)), "Key", "PROFILE", "UpdateItem") as others:
        answer = sign_in(api, user_id, wrong(wrong(code)))
    assert_error(answer, 401, "user_invalid_token")
    assert_error(others[0], 401, "user_invalid_token")
    stored = profile(user_id)
    assert stored[users_store.PRE_AUTH.count] == after and users_store.PRE_AUTH.burned in stored
    assert signals.count("CodeLockout") == 1
    assert_error(sign_in(api, user_id, code), 401, "user_invalid_token")  # burned


# --- limits (API.md §5) and the send cooldown ----------------------------------------------------


def test_one_message_per_destination_per_minute(api, sent, clock):
    assert email_token(api).status == 201
    again = email_token(api, ip="198.51.100.7")
    assert_error(again, 429, "general_rate_limit_exceeded")
    assert again.header("X-RateLimit-Limit") == "1" and again.header("X-RateLimit-Remaining") == "0"
    assert abs(int(again.header("X-RateLimit-Reset")) - (time.time() + 60)) <= 2
    assert len(sent.to(EMAIL)) == 1 and len(token_items()) == 1
    assert email_token(api, "grace@example.com").status == 201  # another destination is not held up
    clock.advance(61_000)
    assert email_token(api).status == 201
    assert len(sent.to(EMAIL)) == 2


def test_the_cooldown_is_shared_by_every_purpose(api, sent, user_id_of):
    api.sign_up(EMAIL)
    credential = api.session_for(EMAIL)
    assert api("create_email_verification", {"url": "http://localhost:3000/v"}, session=credential).status == 201
    assert_error(email_token(api), 429, "general_rate_limit_exceeded")
    assert api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=credential).status == 200
    assert phone_token(api).status == 201
    answer = api("create_phone_verification", {}, session=credential)
    assert_error(answer, 429, "general_rate_limit_exceeded")
    assert answer.header("X-RateLimit-Limit") == "1"
    assert len(sent.to(EMAIL)) == 1 and len(sent.to(PHONE)) == 1


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_codes_asked_for_without_a_session_use_at_most_half_of_a_destinations_day(api, sent, channel):
    """Sign-in codes anyone may ask for (from any number of addresses) get half of a destination's daily
    budget (20 emails, 10 SMS by default); the other half stays for what signed-in sessions send."""
    address = EMAIL if channel == "email" else PHONE
    request = email_token if channel == "email" else phone_token
    share = (20 if channel == "email" else 10) // 2
    for n in range(share):
        lift_cooldowns()
        assert request(api, address, ip=f"198.51.100.{n}").status == 201, n
    lift_cooldowns()
    answer = request(api, address, ip="198.51.100.99")
    assert_error(answer, 429, "general_rate_limit_exceeded")
    assert answer.header("X-RateLimit-Limit") == str(share)
    assert int(answer.header("X-RateLimit-Reset")) % 86400 == 0
    assert len(sent.to(address)) == share and len(token_items()) == share
    assert cooldowns() == []  # the refused request spent nothing
    assert request(api, "grace@example.com" if channel == "email" else "+14155552672", ip="198.51.100.99").status == 201


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_one_address_cannot_use_up_a_destinations_sign_in_codes(api, sent, channel):
    """One source address gets at most codes.ANONYMOUS_PER_SOURCE_PER_DAY sign-in codes to a destination a day, so
    a stranger needs several addresses to use up the anonymous half; the owner, from another address, still
    gets a code, and the stranger still gets codes to other destinations."""
    address, other = (EMAIL, "grace@example.com") if channel == "email" else (PHONE, "+14155552672")
    request = email_token if channel == "email" else phone_token
    for n in range(codes.ANONYMOUS_PER_SOURCE_PER_DAY):
        lift_cooldowns()
        assert request(api, address, ip="198.51.100.7").status == 201, n
    lift_cooldowns()
    refused = request(api, address, ip="198.51.100.7")
    assert_error(refused, 429, "general_rate_limit_exceeded")
    assert refused.header("X-RateLimit-Limit") == str(codes.ANONYMOUS_PER_SOURCE_PER_DAY)
    assert int(refused.header("X-RateLimit-Reset")) % 86400 == 0
    assert request(api, address, ip="203.0.113.5").status == 201  # the owner, elsewhere
    assert request(api, other, ip="198.51.100.7").status == 201
    assert len(sent.to(address)) == codes.ANONYMOUS_PER_SOURCE_PER_DAY + 1


def test_a_stranger_cannot_use_up_what_a_session_sends(api, sent, environment):
    """A stranger asking for sign-in codes spends only the anonymous half of the owner's daily email
    budget (here 4): the owner's session still gets its verification link (and would get its MFA codes)."""
    environment("EMAIL_PER_DESTINATION_PER_DAY", "4")
    api.sign_up(EMAIL)
    credential = api.session_for(EMAIL)
    for n in range(2):
        lift_cooldowns()
        assert email_token(api, EMAIL, ip="198.51.100.1").status == 201, n
    for n in range(2):
        lift_cooldowns()
        assert_error(email_token(api, EMAIL, ip=f"198.51.100.{2 + n}"), 429, "general_rate_limit_exceeded")
    lift_cooldowns()
    asked = api("create_email_verification", {"url": "http://localhost:3000/v"}, session=credential)
    assert asked.status == 201, asked.body
    assert len(sent.to(EMAIL)) == 3


@pytest.mark.parametrize("channel", ["email", "phone"])
def test_ten_codes_per_ip_per_hour(api, sent, channel):
    if channel == "email":
        addresses = [f"user{n}@example.com" for n in range(11)]
    else:
        addresses = [f"+1415555{n:04d}" for n in range(11)]
    request = email_token if channel == "email" else phone_token
    for address in addresses[:10]:
        assert request(api, address, ip="198.51.100.1").status == 201, address
    before = rate_counts()
    answer = request(api, addresses[10], ip="198.51.100.1")
    assert_error(answer, 429, "general_rate_limit_exceeded")
    assert answer.header("X-RateLimit-Limit") == "10"
    assert rate_counts() == before and sent.to(addresses[10]) == []
    assert len([item for item in table_items("USER#") if item["sk"] == "PROFILE"]) == 10  # no user for the 11th
    assert request(api, addresses[10], ip="198.51.100.2").status == 201


def test_ten_sign_in_attempts_per_user_and_source_per_hour(api, sent):
    """Finding 9 of issue 15: ten malformed codes from one address no longer lock the owner out; that
    address is refused, the owner's own address is not (API.md §7)."""
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    for _ in range(10):
        assert_error(sign_in(api, user_id, "bad", ip="198.51.100.1"), 401, "user_invalid_token")
    refused = sign_in(api, user_id, code, ip="198.51.100.1")
    assert_error(refused, 429, "general_rate_limit_exceeded")
    assert refused.header("X-RateLimit-Limit") == "10" and int(refused.header("X-RateLimit-Reset")) % 3600 == 0
    assert users_store.PRE_AUTH.count not in profile(user_id)  # malformed codes are no guesses
    assert sign_in(api, user_id, code, ip="198.51.100.2").status == 201


def test_a_hundred_sign_in_attempts_per_user_per_hour(api, sent):
    """From ten addresses, a hundred attempts reach the per-user ceiling: then every address is refused."""
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    for n in range(100):
        assert_error(sign_in(api, user_id, "bad", ip=f"198.51.100.{n // 10}"), 401, "user_invalid_token")
    answer = sign_in(api, user_id, code, ip="198.51.100.99")
    assert_error(answer, 429, "general_rate_limit_exceeded")
    assert answer.header("X-RateLimit-Limit") == "100" and int(answer.header("X-RateLimit-Reset")) % 3600 == 0
    assert sessions_of(user_id) == [] and len(token_items(user_id)) == 1


def test_a_code_spent_a_moment_ago_is_refused_without_counting(api, sent):
    """A double submit (a double click, an SDK retry): the copy gets 401 and is no guess; the spent code
    stays as a tombstone until it expires (API.md §7)."""
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    assert sign_in(api, user_id, code).status == 201
    for _ in range(3):
        assert_error(sign_in(api, user_id, code), 401, "user_invalid_token")
    assert users_store.PRE_AUTH.count not in profile(user_id)
    [tombstone] = token_items(user_id, spent=True)
    assert tombstone["spentAt"] <= tombstone["expire"] and token_items(user_id) == []


def test_a_spent_code_cannot_be_spent_again_after_a_lost_race(api, sent):
    """Two exchanges of one code that both read it unspent: one session, one 401, no failure counted."""
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    with racing(lambda: sign_in(api, user_id, code), "Update", "TOKEN#") as concurrent:
        answer = sign_in(api, user_id, code)
    assert concurrent[0].status == 201
    assert_error(answer, 401, "user_invalid_token")
    assert len(sessions_of(user_id)) == 1 and users_store.PRE_AUTH.count not in profile(user_id)


def test_ten_sign_in_attempts_per_ip_per_hour(api, sent):
    for n in range(10):
        assert_error(sign_in(api, f"user-{n}", "123456", ip="198.51.100.1"), 401, "user_invalid_token")
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    answer = sign_in(api, user_id, code, ip="198.51.100.1")
    assert_error(answer, 429, "general_rate_limit_exceeded")
    assert answer.header("X-RateLimit-Limit") == "10"
    assert sign_in(api, user_id, code, ip="198.51.100.2").status == 201


def test_two_sign_ins_with_one_code_make_one_session(api, sent):
    """Both read the code as unspent; only one of their writes can spend it."""
    user_id = email_token(api).body["userId"]
    code = sent.code(EMAIL)
    with racing(lambda: sign_in(api, user_id, code, ip="198.51.100.9"), "Put") as concurrent:
        answer = sign_in(api, user_id, code)
    assert concurrent[0].status == 201
    assert_error(answer, 401, "user_invalid_token")
    assert len(sessions_of(user_id)) == 1 and token_items(user_id) == []


def test_the_cooldown_reset_header_says_when_sending_is_possible_again(api, sent, clock):
    assert email_token(api).status == 201
    [cooldown] = [item for item in table_items("RATE#") if item["sk"] == "cooldown"]
    clock.advance(50_000)
    refused = email_token(api)
    assert_error(refused, 429, "general_rate_limit_exceeded")
    assert int(refused.header("X-RateLimit-Reset")) == cooldown["until"]


SQUATTERS_PHONE = "+14155552672"
SQUATTERS_EMAIL = "squatter@example.com"


def test_a_first_proof_of_the_email_also_drops_a_phone_the_squatter_verified(api, sent):
    user_id = api.sign_up(EMAIL, userId="ada")["$id"]
    squatter = api.session_for(EMAIL)
    assert api("update_phone", {"phone": SQUATTERS_PHONE, "password": PASSWORD}, session=squatter).status == 200
    assert api("create_phone_verification", {}, session=squatter).status == 201
    assert api("update_phone_verification", {"userId": user_id, "secret": sent.code(SQUATTERS_PHONE)}).status == 200
    assert email_token(api).status == 201
    assert sign_in(api, user_id, sent.code(EMAIL)).status == 201  # the email's owner: its first proof
    lift_cooldowns()
    assert phone_token(api, SQUATTERS_PHONE).body["userId"] != user_id  # the phone no longer leads here
    assert sign_in(api, user_id, sent.code(SQUATTERS_PHONE)).status == 401


def test_a_first_proof_of_the_phone_also_drops_an_email_the_squatter_verified(api, sent):
    """The phone variant of the wipe, on a profile stored before address provenance existed (no
    `phoneByGuest`: read as put there by a guest, the rule it was made under)."""
    user_id = api.sign_up(SQUATTERS_EMAIL, userId="sam")["$id"]
    squatter = api.session_for(SQUATTERS_EMAIL)
    url = {"url": "http://localhost:3000/verify"}
    assert api("create_email_verification", url, session=squatter).status == 201
    query = parse_qs(urlsplit(sent.link(SQUATTERS_EMAIL)).query)
    assert api("update_email_verification", {"userId": user_id, "secret": query["secret"][0]}).status == 200
    assert api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=squatter).status == 200
    forget_provenance(user_id, "phone")
    assert phone_token(api).body["userId"] == user_id
    assert sign_in(api, user_id, sent.code(PHONE)).status == 201  # the phone's owner: its first proof
    lift_cooldowns()
    assert email_token(api, SQUATTERS_EMAIL).body["userId"] != user_id
    assert sign_in(api, user_id, sent.code(SQUATTERS_EMAIL)).status == 401


def forget_provenance(user_id: str, kind: str) -> None:
    """Make the profile look as one stored before address provenance existed."""
    from authcore.store.table import client, marshal, table_name, user_key

    client().update_item(
        TableName=table_name(),
        Key=marshal(user_key(user_id)),
        UpdateExpression="REMOVE #flag",
        ExpressionAttributeNames={"#flag": users_store.guest_flag(kind)},
    )
