"""Email verification by a six-digit code (API.md §8, POST/PUT /account/verifications/email/otp): the phone
code's machinery for the email, beside the link."""

import json

import pytest

from authcore.services import codes
from authcore.store import users as users_store

from .conftest import PASSWORD, lift_cooldowns, profile, racing, table_items, token_items
from .test_verification import EMAIL, PHONE, TOKEN_FIELDS, URL, assert_invalid_token, epoch_ms, wrong

pytestmark = pytest.mark.usefixtures("steady_rate_window")


@pytest.fixture
def ada(api, user_id_of):
    """A signed-up user with a password session: (credential, userId)."""
    api.sign_up(EMAIL)
    credential = api.session_for(EMAIL)
    return credential, user_id_of(credential)


def send(api, credential, **body):
    return api("create_email_verification_otp", body, session=credential)


def confirm(api, user_id, code, ip=None):
    return api("update_email_verification_otp", {"userId": user_id, "secret": code}, ip=ip)


def test_a_code_is_emailed_and_verifies_the_email(api, sent, ada):
    credential, user_id = ada
    answer = send(api, credential)
    assert answer.status == 201, answer.body
    token = answer.body
    assert set(token) == TOKEN_FIELDS and token["userId"] == user_id and token["secret"] == ""
    assert epoch_ms(token["expire"]) - epoch_ms(token["$createdAt"]) == codes.CODE_LIFETIME_MS
    assert sent.last(EMAIL)["subject"] == "Your My App verification code"
    code = sent.code(EMAIL)
    assert code not in json.dumps(table_items())  # a keyed hash only
    [stored] = token_items(user_id)
    assert stored["kind"] == codes.EMAIL_VERIFICATION_CODE and stored["address"] == EMAIL

    confirmed = confirm(api, user_id, code)
    assert confirmed.status == 200, confirmed.body
    assert confirmed.body["$id"] == token["$id"]
    assert api("get_account", session=credential).body["emailVerification"] is True
    assert token_items(user_id) == []


def test_a_phrase_is_shown_and_emailed(api, sent, ada):
    credential, _ = ada
    answer = send(api, credential, phrase=True)
    assert answer.body["phrase"] and answer.body["phrase"] in sent.last(EMAIL)["text"]


def test_a_wrong_code_is_refused_and_counted_on_the_pre_auth_count(api, sent, ada):
    credential, user_id = ada
    send(api, credential)
    code = sent.code(EMAIL)
    assert_invalid_token(confirm(api, user_id, wrong(code)))
    assert profile(user_id)[users_store.PRE_AUTH.count] == 1
    assert_invalid_token(confirm(api, user_id, "12345"))  # malformed: no guess
    assert profile(user_id)[users_store.PRE_AUTH.count] == 1
    assert confirm(api, user_id, code).status == 200
    assert profile(user_id).get(users_store.PRE_AUTH.count, 0) == 0  # reset


def test_a_used_code_is_refused_without_counting(api, sent, ada):
    credential, user_id = ada
    send(api, credential)
    code = sent.code(EMAIL)
    assert confirm(api, user_id, code).status == 200
    assert_invalid_token(confirm(api, user_id, code))
    assert profile(user_id).get(users_store.PRE_AUTH.count, 0) == 0


def test_an_expired_code_is_refused(api, sent, ada, clock):
    credential, user_id = ada
    send(api, credential)
    clock.advance(codes.CODE_LIFETIME_MS)
    assert_invalid_token(confirm(api, user_id, sent.code(EMAIL)))
    assert profile(user_id)["emailVerification"] is False


def test_the_fifth_wrong_code_burns_the_live_one(api, sent, ada):
    credential, user_id = ada
    send(api, credential)
    code = sent.code(EMAIL)
    for _ in range(users_store.BURN_AFTER):
        assert_invalid_token(confirm(api, user_id, wrong(code)))
    assert_invalid_token(confirm(api, user_id, code))
    assert profile(user_id)["emailVerification"] is False


def test_the_link_secret_and_the_code_do_not_stand_in_for_each_other(api, sent, ada):
    credential, user_id = ada
    send(api, credential)
    code = sent.code(EMAIL)
    assert_invalid_token(api("update_email_verification", {"userId": user_id, "secret": code}))
    assert_invalid_token(api("create_session", {"userId": user_id, "secret": code}))  # not a sign-in code
    assert confirm(api, user_id, code).status == 200


def test_two_confirmations_of_one_code_spend_it_once(api, sent, ada):
    credential, user_id = ada
    send(api, credential)
    code = sent.code(EMAIL)
    with racing(lambda: confirm(api, user_id, code, ip="198.51.100.9"), "Update", "TOKEN#") as concurrent:
        answer = confirm(api, user_id, code)
    assert concurrent[0].status == 200
    assert_invalid_token(answer)
    assert profile(user_id).get(users_store.PRE_AUTH.count, 0) == 0


def test_a_code_sent_to_a_previous_email_does_not_verify_the_new_one(api, sent, ada):
    credential, user_id = ada
    send(api, credential)
    code = sent.code(EMAIL)
    assert api("update_email", {"email": "new@example.com", "password": PASSWORD}, session=credential).status == 200
    assert_invalid_token(confirm(api, user_id, code))
    assert profile(user_id)["emailVerification"] is False


def test_refusals_before_sending(api, sent, ada):
    credential, user_id = ada
    assert api("create_email_verification_otp", {}).status == 401  # no session
    users_store.update_user(user_id, {"emailVerification": True})
    answer = send(api, credential)
    assert answer.status == 409 and answer.body["type"] == "user_email_already_verified"
    assert sent.count() == 0


def test_a_user_without_an_email_cannot_verify_one(api, sent):
    token = api("create_phone_token", {"userId": "unique()", "phone": PHONE})
    session = api("create_session", {"userId": token.body["userId"], "secret": sent.code(PHONE)})
    answer = send(api, session.credential)
    assert answer.status == 400 and answer.body["type"] == "user_email_not_found"


def test_codes_and_links_share_the_users_hourly_limit(api, sent, ada):
    credential, _ = ada
    for n in range(10):
        lift_cooldowns()
        answer = send(api, credential) if n % 2 else api("create_email_verification", {"url": URL}, session=credential)
        assert answer.status == 201, (n, answer.body)
    lift_cooldowns()
    assert send(api, credential).status == 429
    assert api("create_email_verification", {"url": URL}, session=credential).status == 429


def test_confirming_is_limited_per_user_and_source(api, sent, ada):
    _, user_id = ada
    for _ in range(10):
        assert_invalid_token(confirm(api, user_id, "000000", ip="198.51.100.3"))
    answer = confirm(api, user_id, "000000", ip="198.51.100.3")
    assert answer.status == 429 and answer.body["type"] == "general_rate_limit_exceeded"
