"""Anonymous sessions (API.md §8, POST /account/sessions/anonymous): a new user without email, phone or
password, limited per source address, upgraded by setting an email and a password, expiring (DynamoDB TTL)
with its last session while it stays anonymous."""

import pytest

from authcore.config import settings
from authcore.store.sessions import EXPIRES

from .conftest import PASSWORD, profile, table_items
from .test_code_sign_in import assert_error, email_token, sign_in

pytestmark = pytest.mark.usefixtures("steady_rate_window")

EMAIL = "ada@example.com"


def anonymous(api, ip=None, session=None):
    return api("create_anonymous_session", {}, ip=ip, session=session)


def session_items(user_id: str) -> list[dict]:
    return [item for item in table_items(f"USER#{user_id}") if item["sk"].startswith("SESSION#")]


def test_a_new_user_without_email_phone_or_password_gets_a_session(api, user_id_of):
    answer = anonymous(api)
    assert answer.status == 201, answer.body
    body = answer.body
    assert body["provider"] == "anonymous" and body["factors"] == ["anonymous"] and body["providerUid"] == ""
    assert answer.header("set-cookie") and body["secret"] == ""
    account = api("get_account", session=answer.credential).body
    assert account["$id"] == body["userId"] == user_id_of(answer.credential)
    assert (account["email"], account["phone"], account["passwordUpdate"]) == ("", "", "")
    assert table_items("EMAIL#") == [] and table_items("PHONE#") == []


def test_the_profile_expires_with_its_session(api, user_id_of):
    credential = anonymous(api).credential
    user_id = user_id_of(credential)
    [session] = session_items(user_id)
    assert profile(user_id)[EXPIRES] == session["ttl"]
    assert session["ttl"] * 1000 - session["createdAt"] == pytest.approx(
        settings().session_lifetime_seconds * 1000, abs=1000
    )


def test_extending_the_session_extends_the_profile(api, user_id_of, monkeypatch):
    from authcore.services import sessions

    credential = anonymous(api).credential
    user_id = user_id_of(credential)
    before = profile(user_id)[EXPIRES]
    later = sessions.now_ms() + 3_600_000
    monkeypatch.setattr(sessions, "now_ms", lambda: later)
    assert api("update_session", path={"sessionId": "current"}, session=credential).status == 200
    [session] = session_items(user_id)
    assert profile(user_id)[EXPIRES] == session["ttl"] == before + 3600


def test_setting_an_email_and_a_password_makes_a_normal_account_that_never_expires(api, sent, user_id_of):
    credential = anonymous(api).credential
    user_id = user_id_of(credential)
    email = api("update_email", {"email": EMAIL, "password": ""}, session=credential)
    assert email.status == 200, email.body
    assert EXPIRES not in profile(user_id)
    password = api("update_password", {"password": PASSWORD}, session=credential)
    assert password.status == 200, password.body
    signed_in = api.sign_in(EMAIL, PASSWORD)
    assert signed_in.status == 201 and signed_in.body["userId"] == user_id
    # A password is then needed for the next change, as on any account.
    assert_error(
        api("update_email", {"email": "b@example.com", "password": ""}, session=credential),
        401,
        "user_invalid_credentials",
    )
    assert EXPIRES not in profile(user_id)


def test_an_email_set_by_an_anonymous_session_is_still_proven_by_its_owner_first(api, sent, user_id_of):
    """Takeover (API.md §7): an anonymous session proves nobody, so a stranger who puts someone's email and a
    password of their own on an anonymous account loses both (and their sessions) when the email's owner signs
    in by code, as with a sign-up squatter."""
    squatter = anonymous(api).credential
    user_id = user_id_of(squatter)
    assert api("update_email", {"email": EMAIL, "password": ""}, session=squatter).status == 200
    assert api("update_password", {"password": PASSWORD}, session=squatter).status == 200
    assert email_token(api).status == 201
    owner = sign_in(api, user_id, sent.code(EMAIL))
    assert owner.status == 201
    assert_error(api("get_account", session=squatter), 401, "general_unauthorized_scope")
    assert_error(api.sign_in(EMAIL, PASSWORD), 401, "user_invalid_credentials")


def test_an_email_set_after_one_was_proven_is_the_owners(api, sent, user_id_of):
    credential = anonymous(api).credential
    user_id = user_id_of(credential)
    assert api("update_email", {"email": EMAIL, "password": ""}, session=credential).status == 200
    assert api("create_email_verification_otp", {}, session=credential).status == 201
    code = sent.code(EMAIL)
    assert api("update_email_verification_otp", {"userId": user_id, "secret": code}).status == 200
    assert api("update_email", {"email": "b@example.com", "password": ""}, session=credential).status == 200
    assert profile(user_id)["emailByGuest"] is False


def test_ten_anonymous_users_per_ip_per_hour(api):
    for _ in range(10):
        assert anonymous(api, ip="198.51.100.4").status == 201
    answer = anonymous(api, ip="198.51.100.4")
    assert_error(answer, 429, "general_rate_limit_exceeded")
    assert answer.header("X-RateLimit-Limit") == "10"
    assert anonymous(api, ip="198.51.100.5").status == 201
    assert len([item for item in table_items("USER#") if item["sk"] == "PROFILE"]) == 11


def test_a_signed_in_caller_gets_no_second_account(api):
    credential = anonymous(api).credential
    assert_error(anonymous(api, session=credential), 401, "user_session_already_exists")
    assert len([item for item in table_items("USER#") if item["sk"] == "PROFILE"]) == 1
