"""Email verification by link and phone verification by code (API.md §4.3), with the shared count of
wrong codes (§4.6), through the handlers with SES, SNS and DynamoDB emulated."""

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from authcore.services import codes
from authcore.store import users as users_store

from .conftest import PASSWORD, call_at, lift_cooldowns, profile, racing, table_items, token_items

pytestmark = pytest.mark.usefixtures("steady_rate_window")

EMAIL = "ada@example.com"
PHONE = "+14155552671"
OTHER_PHONE = "+14155552672"
URL = "http://localhost:3000/verify"
TOKEN_FIELDS = {"$id", "$createdAt", "userId", "secret", "expire", "phrase"}
MINUTE_MS = 60 * 1000


def epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def query(link: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}


@pytest.fixture
def ada(api, user_id_of):
    """A signed-up user with a password session: (credential, userId)."""
    api.sign_up(EMAIL)
    credential = api.session_for(EMAIL)
    return credential, user_id_of(credential)


@pytest.fixture
def ada_with_phone(api, ada):
    credential, user_id = ada
    answer = api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=credential)
    assert answer.status == 200, answer.body
    return credential, user_id


def send_link(api, sent, credential, url=URL, address=EMAIL) -> dict[str, str]:
    answer = api("create_email_verification", {"url": url}, session=credential)
    assert answer.status == 201, answer.body
    return query(sent.link(address))


def confirm_email(api, user_id, secret):
    return api("update_email_verification", {"userId": user_id, "secret": secret})


def send_code(api, sent, credential, phone=PHONE) -> str:
    answer = api("create_phone_verification", {}, session=credential)
    assert answer.status == 201, answer.body
    return sent.code(phone)


def confirm_phone(api, user_id, code):
    return api("update_phone_verification", {"userId": user_id, "secret": code})


def assert_invalid_token(answer):
    assert answer.status == 401, answer.body
    assert answer.body["type"] == "user_invalid_token"
    assert set(answer.body) == {"message", "code", "type", "version"} and answer.body["code"] == 401


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# --- email: sending the link ---------------------------------------------------------------------


def test_email_verification_returns_a_token_and_emails_a_link(api, sent, ada):
    credential, user_id = ada
    answer = api("create_email_verification", {"url": URL}, session=credential)
    assert answer.status == 201, answer.body
    token = answer.body
    assert set(token) == TOKEN_FIELDS
    assert token["userId"] == user_id and token["secret"] == "" and token["phrase"] == ""
    lifetime = epoch_ms(token["expire"]) - epoch_ms(token["$createdAt"])
    assert lifetime == codes.LINK_LIFETIME_MS == 60 * MINUTE_MS

    message = sent.last(EMAIL)
    assert message["channel"] == "email" and message["subject"] == "Verify your email for My App"
    link = sent.link(EMAIL)
    assert link.startswith(URL + "?")
    params = query(link)
    assert set(params) == {"userId", "secret", "expire"}
    assert params["userId"] == user_id and params["expire"] == token["expire"]
    assert len(params["secret"]) >= 32

    # Stored: one token, keyed by a hash of the secret, never the secret itself.
    [stored] = token_items(user_id)
    assert stored["kind"] == codes.EMAIL_VERIFICATION and stored["address"] == EMAIL
    assert stored["tokenId"] == token["$id"] and stored["expire"] == epoch_ms(token["expire"])
    assert params["secret"] not in str(table_items())


def test_the_alias_path_sends_a_link_too(api, sent, ada):
    credential, user_id = ada
    answer = call_at(api, "create_email_verification", "/account/verifications/email", {"url": URL}, session=credential)
    assert answer.status == 201, answer.body
    assert query(sent.link(EMAIL))["userId"] == user_id
    secret = query(sent.link(EMAIL))["secret"]
    confirmed = call_at(
        api, "update_email_verification", "/account/verifications/email", {"userId": user_id, "secret": secret}
    )
    assert confirmed.status == 200, confirmed.body
    assert profile(user_id)["emailVerification"] is True


def test_the_link_keeps_the_urls_own_query_and_fragment(api, sent, ada):
    credential, user_id = ada
    params = send_link(api, sent, credential, url=URL + "?next=%2Fhome&lang=de#top")
    link = sent.link(EMAIL)
    assert urlsplit(link).path == "/verify" and urlsplit(link).fragment == "top"
    assert params["next"] == "/home" and params["lang"] == "de" and params["userId"] == user_id


def test_a_url_the_app_does_not_own_is_refused(api, sent, ada):
    credential, _ = ada
    for url in (
        "https://evil.example/verify",
        "http://localhost:3001/verify",
        "http://localhost:3000.evil.example/verify",
        "http://user@localhost:3000/verify",
        "javascript:alert(1)",
        "/verify",
        "http://localhost:3000/verify?next=a b",
        "http://localhost:3000/verify\r\nBcc: x@evil.example",
    ):
        answer = api("create_email_verification", {"url": url}, session=credential)
        assert answer.status == 400 and answer.body["type"] == "general_argument_invalid", url
        assert "`url`" in answer.body["message"]
    missing = api("create_email_verification", {}, session=credential)
    assert missing.status == 400 and missing.body["message"] == 'Param "url" is not optional.'
    assert sent.count() == 0 and token_items() == []


def test_sending_needs_a_session(api, sent):
    api.sign_up(EMAIL)
    for name, body in (("create_email_verification", {"url": URL}), ("create_phone_verification", {})):
        answer = api(name, body)
        assert answer.status == 401 and answer.body["type"] == "general_unauthorized_scope", name
    assert sent.count() == 0 and token_items() == []


def test_sending_is_behind_the_mfa_gate(api, sent, ada_with_phone):
    credential, user_id = ada_with_phone
    users_store.update_user(user_id, {"mfa": True, "phoneVerification": True})
    answer = api("create_email_verification", {"url": URL}, session=credential)
    assert answer.status == 401 and answer.body["type"] == "user_more_factors_required"
    assert sent.count() == 0


def test_a_user_without_an_email_cannot_verify_one(api, sent):
    token = api("create_phone_token", {"userId": "unique()", "phone": PHONE})
    assert token.status == 201, token.body
    session = api("create_session", {"userId": token.body["userId"], "secret": sent.code(PHONE)})
    assert session.status == 201, session.body
    answer = api("create_email_verification", {"url": URL}, session=session.credential)
    assert answer.status == 400 and answer.body["type"] == "user_email_not_found"
    assert len(sent.to(PHONE)) == 1 and token_items() == []


# --- email: following the link -------------------------------------------------------------------


def test_following_the_link_verifies_the_email(api, sent, ada):
    credential, user_id = ada
    token = api("create_email_verification", {"url": URL}, session=credential).body
    params = query(sent.link(EMAIL))
    answer = confirm_email(api, params["userId"], params["secret"])
    assert answer.status == 200, answer.body
    assert set(answer.body) == TOKEN_FIELDS
    assert answer.body["$id"] == token["$id"] and answer.body["userId"] == user_id and answer.body["secret"] == ""
    account = api("get_account", session=credential).body
    assert account["emailVerification"] is True and account["phoneVerification"] is False
    assert epoch_ms(account["$updatedAt"]) > epoch_ms(account["$createdAt"])
    assert token_items(user_id) == []  # spent

    again = api("create_email_verification", {"url": URL}, session=credential)
    assert again.status == 409 and again.body["type"] == "user_email_already_verified"


def test_a_used_link_is_refused(api, sent, ada):
    credential, user_id = ada
    params = send_link(api, sent, credential)
    assert confirm_email(api, user_id, params["secret"]).status == 200
    assert_invalid_token(confirm_email(api, user_id, params["secret"]))


def test_a_wrong_secret_is_refused(api, sent, ada):
    credential, user_id = ada
    params = send_link(api, sent, credential)
    for secret in (params["secret"][:-1] + ("0" if params["secret"][-1] != "0" else "1"), "x", params["secret"] + "0"):
        assert_invalid_token(confirm_email(api, user_id, secret))
    assert profile(user_id)["emailVerification"] is False
    assert len(token_items(user_id)) == 1  # the right link still works
    assert confirm_email(api, user_id, params["secret"]).status == 200


def test_an_unknown_user_is_refused_alike(api, sent, ada):
    credential, _ = ada
    params = send_link(api, sent, credential)
    assert_invalid_token(confirm_email(api, "nobody", params["secret"]))


def test_another_users_link_does_not_verify_this_user(api, sent, ada):
    credential, ada_id = ada
    ada_secret = send_link(api, sent, credential)["secret"]
    api.sign_up("grace@example.com")
    grace = api.session_for("grace@example.com")
    grace_id = send_link(api, sent, grace, address="grace@example.com")["userId"]
    assert_invalid_token(confirm_email(api, grace_id, ada_secret))
    assert profile(grace_id)["emailVerification"] is False and profile(ada_id)["emailVerification"] is False
    assert len(token_items(ada_id)) == 1 and len(token_items(grace_id)) == 1


def test_an_expired_link_is_refused_though_still_stored(api, sent, ada, clock, dynamo_calls):
    credential, user_id = ada
    params = send_link(api, sent, credential)
    clock.advance(codes.LINK_LIFETIME_MS + 1000)
    assert_invalid_token(confirm_email(api, user_id, params["secret"]))
    assert dynamo_calls.operations == ["TransactWriteItems", "BatchGetItem"]  # refused on read: no spend attempted
    assert len(token_items(user_id)) == 1  # not removed yet (TTL will), but refused on read
    assert profile(user_id)["emailVerification"] is False


def test_a_link_works_until_it_expires(api, sent, ada, clock):
    credential, user_id = ada
    params = send_link(api, sent, credential)
    clock.advance(codes.LINK_LIFETIME_MS - 1000)
    assert confirm_email(api, user_id, params["secret"]).status == 200


def test_a_link_sent_to_a_previous_email_does_not_verify_the_new_one(api, sent, ada, dynamo_calls):
    credential, user_id = ada
    params = send_link(api, sent, credential)
    changed = api("update_email", {"email": "ada@new.example", "password": PASSWORD}, session=credential)
    assert changed.status == 200, changed.body
    assert_invalid_token(confirm_email(api, user_id, params["secret"]))
    assert dynamo_calls.operations == ["TransactWriteItems", "BatchGetItem"]  # refused on read
    stored = profile(user_id)
    assert stored["email"] == "ada@new.example" and stored["emailVerification"] is False


def test_confirming_is_limited_per_user(api, sent, ada):
    credential, user_id = ada
    params = send_link(api, sent, credential)
    for _ in range(10):
        assert_invalid_token(confirm_email(api, user_id, "wrong"))
    answer = confirm_email(api, user_id, params["secret"])
    assert answer.status == 429 and answer.body["type"] == "general_rate_limit_exceeded"
    assert answer.header("X-RateLimit-Limit") == "10"
    assert profile(user_id)["emailVerification"] is False
    # A link secret is not guessable: wrong ones do not feed the code-failure count.
    assert users_store.PRE_AUTH.count not in profile(user_id)


# --- phone ---------------------------------------------------------------------------------------


def test_phone_verification_needs_a_phone(api, sent, ada):
    credential, _ = ada
    answer = api("create_phone_verification", {}, session=credential)
    assert answer.status == 400 and answer.body["type"] == "user_phone_not_found"
    assert sent.count() == 0 and token_items() == []


def test_phone_verification_texts_a_code_that_verifies_the_phone(api, sent, ada_with_phone):
    credential, user_id = ada_with_phone
    answer = api("create_phone_verification", {}, session=credential)
    assert answer.status == 201, answer.body
    token = answer.body
    assert set(token) == TOKEN_FIELDS and token["userId"] == user_id and token["secret"] == ""
    assert epoch_ms(token["expire"]) - epoch_ms(token["$createdAt"]) == codes.CODE_LIFETIME_MS == 10 * MINUTE_MS
    message = sent.last(PHONE)
    assert message["channel"] == "sms"
    code = sent.code(PHONE)
    assert message["text"].startswith(code)
    [stored] = token_items(user_id)
    assert stored["kind"] == codes.PHONE_VERIFICATION and stored["address"] == PHONE
    assert code not in stored["sk"] and stored["hash"] != code

    confirmed = confirm_phone(api, user_id, code)
    assert confirmed.status == 200, confirmed.body
    assert confirmed.body["$id"] == token["$id"] and confirmed.body["secret"] == ""
    account = api("get_account", session=credential).body
    assert account["phoneVerification"] is True and account["emailVerification"] is False
    assert token_items(user_id) == []

    again = api("create_phone_verification", {}, session=credential)
    assert again.status == 409 and again.body["type"] == "user_phone_already_verified"


def test_the_phone_alias_paths(api, sent, ada_with_phone):
    credential, user_id = ada_with_phone
    answer = call_at(api, "create_phone_verification", "/account/verifications/phone", {}, session=credential)
    assert answer.status == 201, answer.body
    body = {"userId": user_id, "secret": sent.code(PHONE)}
    confirmed = call_at(api, "update_phone_verification", "/account/verifications/phone", body)
    assert confirmed.status == 200, confirmed.body
    assert profile(user_id)["phoneVerification"] is True


def test_a_wrong_code_is_refused_and_counted(api, sent, ada_with_phone):
    credential, user_id = ada_with_phone
    code = send_code(api, sent, credential)
    for attempt in (wrong(code), wrong(wrong(code))):
        assert_invalid_token(confirm_phone(api, user_id, attempt))
    for malformed in ("12345", "abcdef"):  # not shaped like a code: refused without a lookup or a count
        assert_invalid_token(confirm_phone(api, user_id, malformed))
    assert profile(user_id)[users_store.PRE_AUTH.count] == 2
    assert profile(user_id)["phoneVerification"] is False
    assert confirm_phone(api, user_id, code).status == 200
    stored = profile(user_id)
    assert stored["phoneVerification"] is True
    assert users_store.PRE_AUTH.count not in stored and users_store.PRE_AUTH.at not in stored  # a success resets it


def test_a_used_code_is_refused(api, sent, ada_with_phone):
    credential, user_id = ada_with_phone
    code = send_code(api, sent, credential)
    assert confirm_phone(api, user_id, code).status == 200
    assert_invalid_token(confirm_phone(api, user_id, code))


def test_an_expired_code_is_refused_though_still_stored(api, sent, ada_with_phone, clock, dynamo_calls):
    credential, user_id = ada_with_phone
    code = send_code(api, sent, credential)
    clock.advance(codes.CODE_LIFETIME_MS + 1000)
    assert_invalid_token(confirm_phone(api, user_id, code))
    assert dynamo_calls.operations == ["TransactWriteItems", "BatchGetItem", "UpdateItem"]  # refused on read, counted
    assert profile(user_id)[users_store.PRE_AUTH.count] == 1
    assert len(token_items(user_id)) == 1
    assert profile(user_id)["phoneVerification"] is False


def test_a_code_works_until_it_expires(api, sent, ada_with_phone, clock):
    credential, user_id = ada_with_phone
    code = send_code(api, sent, credential)
    clock.advance(codes.CODE_LIFETIME_MS - 1000)
    assert confirm_phone(api, user_id, code).status == 200


def test_another_users_code_does_not_verify_this_user(api, sent, ada_with_phone, user_id_of):
    credential, ada_id = ada_with_phone
    ada_code = send_code(api, sent, credential)
    api.sign_up("grace@example.com")
    grace = api.session_for("grace@example.com")
    grace_id = user_id_of(grace)
    assert api("update_phone", {"phone": OTHER_PHONE, "password": PASSWORD}, session=grace).status == 200
    grace_code = send_code(api, sent, grace, phone=OTHER_PHONE)
    if ada_code == grace_code:  # one in a million: draw Grace another code
        lift_cooldowns()
        grace_code = send_code(api, sent, grace, phone=OTHER_PHONE)
    assert_invalid_token(confirm_phone(api, grace_id, ada_code))
    assert_invalid_token(confirm_phone(api, ada_id, grace_code))
    assert profile(grace_id)["phoneVerification"] is False and profile(ada_id)["phoneVerification"] is False
    assert profile(grace_id)[users_store.PRE_AUTH.count] == 1 and profile(ada_id)[users_store.PRE_AUTH.count] == 1
    assert len(token_items(ada_id)) == 1 and len(token_items(grace_id)) >= 1
    assert confirm_phone(api, ada_id, ada_code).status == 200


def test_a_code_sent_to_a_previous_phone_does_not_verify_the_new_one(api, sent, ada_with_phone, dynamo_calls):
    credential, user_id = ada_with_phone
    code = send_code(api, sent, credential)
    assert api("update_phone", {"phone": OTHER_PHONE, "password": PASSWORD}, session=credential).status == 200
    assert_invalid_token(confirm_phone(api, user_id, code))
    assert dynamo_calls.operations == ["TransactWriteItems", "BatchGetItem", "UpdateItem"]  # refused on read, counted
    assert profile(user_id)["phoneVerification"] is False


def test_a_sign_in_code_does_not_verify_a_phone(api, sent, ada_with_phone):
    _, user_id = ada_with_phone
    token = api("create_phone_token", {"userId": "unique()", "phone": PHONE})
    assert token.status == 201 and token.body["userId"] == user_id
    assert_invalid_token(confirm_phone(api, user_id, sent.code(PHONE)))
    assert profile(user_id)["phoneVerification"] is False


def test_five_wrong_codes_burn_the_phone_code_even_the_right_one(api, sent, ada_with_phone):
    """It used to take ten to lock phone verification with a 429; now the fifth burns the live code."""
    credential, user_id = ada_with_phone
    code = send_code(api, sent, credential)
    for _ in range(users_store.BURN_AFTER):
        assert_invalid_token(confirm_phone(api, user_id, wrong(code)))
    stored = profile(user_id)
    assert stored[users_store.PRE_AUTH.count] == 0 and stored[users_store.PRE_AUTH.burned] > 0
    assert_invalid_token(confirm_phone(api, user_id, code))  # burned: refused, and no guess
    assert profile(user_id) == stored and len(token_items(user_id)) == 1

    lift_cooldowns()
    assert confirm_phone(api, user_id, send_code(api, sent, credential)).status == 200
    stored = profile(user_id)
    assert stored["phoneVerification"] is True and users_store.PRE_AUTH.count not in stored


@pytest.mark.parametrize("as_read", [codes.FREE_FAILURES - 1, codes.MAX_FAILURES - 1, codes.MAX_FAILURES + 5])
def test_no_count_of_wrong_codes_locks_phone_verification(api, sent, ada_with_phone, as_read):
    """Counts that used to lock (30 s doubling to a day, for good at 100) refuse nothing now."""
    credential, user_id = ada_with_phone
    code = send_code(api, sent, credential)
    users_store.update_user(user_id, {users_store.PRE_AUTH.count: as_read, users_store.PRE_AUTH.at: 0})
    assert_invalid_token(confirm_phone(api, user_id, wrong(code)))  # past BURN_AFTER as read: burns
    assert profile(user_id)[users_store.PRE_AUTH.count] == 0
    lift_cooldowns()
    assert confirm_phone(api, user_id, send_code(api, sent, credential)).status == 200


def test_a_burn_never_retires_an_email_verification_link(api, sent, ada_with_phone):
    """A link is a 256-bit secret, not a guessable code: a stranger's burn must not retire it."""
    credential, user_id = ada_with_phone
    link = send_link(api, sent, credential)
    code = send_code(api, sent, credential)
    for _ in range(users_store.BURN_AFTER):
        assert_invalid_token(confirm_phone(api, user_id, wrong(code)))
    assert profile(user_id)[users_store.PRE_AUTH.burned] > 0
    assert confirm_email(api, link["userId"], link["secret"]).status == 200
    assert profile(user_id)["emailVerification"] is True


def test_a_new_code_does_not_reset_the_count(api, sent, ada_with_phone):
    credential, user_id = ada_with_phone
    code = send_code(api, sent, credential)
    for _ in range(3):
        assert_invalid_token(confirm_phone(api, user_id, wrong(code)))
    lift_cooldowns()
    send_code(api, sent, credential)
    assert profile(user_id)[users_store.PRE_AUTH.count] == 3


def test_a_code_spent_by_a_concurrent_request_is_refused(api, sent, ada_with_phone):
    """Two confirmations of one code at once: exactly one succeeds."""
    _, user_id = ada_with_phone
    code = send_code(api, sent, ada_with_phone[0])
    with racing(lambda: confirm_phone(api, user_id, code), "Update", "TOKEN#") as concurrent:
        answer = confirm_phone(api, user_id, code)
    assert concurrent[0].status == 200
    assert_invalid_token(answer)
    assert profile(user_id)["phoneVerification"] is True and token_items(user_id) == []


def test_sending_is_limited_per_user(api, sent, ada):
    credential, user_id = ada
    for _ in range(10):
        lift_cooldowns()
        assert api("create_email_verification", {"url": URL}, session=credential).status == 201
    lift_cooldowns()
    answer = api("create_email_verification", {"url": URL}, session=credential)
    assert answer.status == 429 and answer.body["type"] == "general_rate_limit_exceeded"
    assert answer.header("X-RateLimit-Limit") == "10" and int(answer.header("X-RateLimit-Reset")) % 3600 == 0
    assert len(sent.to(EMAIL)) == 10 and len(token_items(user_id)) == 10


def test_texting_codes_is_limited_per_ip(api, sent, ada_with_phone, user_id_of):
    ada, _ = ada_with_phone
    api.sign_up("grace@example.com")
    grace = api.session_for("grace@example.com")
    assert api("update_phone", {"phone": OTHER_PHONE, "password": PASSWORD}, session=grace).status == 200
    for credential, times in ((ada, 6), (grace, 4)):
        for _ in range(times):
            lift_cooldowns()
            assert api("create_phone_verification", {}, session=credential, ip="198.51.100.1").status == 201
    lift_cooldowns()
    answer = api("create_phone_verification", {}, session=grace, ip="198.51.100.1")
    assert answer.status == 429 and answer.header("X-RateLimit-Limit") == "10"
    assert len(token_items(user_id_of(grace))) == 4
    assert api("create_phone_verification", {}, session=grace, ip="198.51.100.2").status == 201


def test_a_cross_site_form_post_with_the_session_cookie_sends_nothing(api, sent):
    """CSRF: a page on another site can make the browser post a form with the SameSite=None cookie,
    but cannot add headers; cookies do not count on such a request, so it has no session."""
    api.sign_up()
    credential = api.session_for()
    assert api("update_phone", {"phone": "+14155552671", "password": PASSWORD}, session=credential).status == 200
    form_post = {"Cookie": f"a_session_default={credential}", "Content-Type": "text/plain"}
    answer = api("create_phone_verification", "x=1", headers={**form_post, "Origin": "https://evil.example"})
    assert answer.status == 401 and answer.body["type"] == "general_unauthorized_scope"
    assert sent.count() == 0
    allowed = api("create_phone_verification", "{}", headers={**form_post, "Origin": "http://localhost:3000"})
    assert allowed.status == 201, allowed.body  # the app's own origin keeps using the cookie
