"""The §7 rules against takeover with a stolen session, through the handlers (AWS emulated): who put an address on
the account (and so whether its first proof wipes), which challenges are step-ups, which changes need one, and the
notice to an address changed away from."""

from __future__ import annotations

import time

import pytest

from authcore.delivery import sms
from authcore.delivery.errors import DeliveryError
from authcore.services import notices
from authcore.services.limits import DAY
from authcore.store import ratelimit
from authcore.store import users as users_store
from authcore.store.ratelimit import Charge

from .admin_fixtures import key_headers
from .conftest import PASSWORD, lift_cooldowns, profile
from .mfa_fixtures import (
    EMAIL,
    PHONE,
    assert_error,
    challenge,
    complete,
    create_recovery_codes,
    email_otp_session,
    enrol_totp,
    sign_up_and_in,
    stored_session,
    verify_email,
    verify_phone,
)

NEW_EMAIL = "moved@example.com"
NEW_PHONE = "+442071838750"
CHALLENGE_REQUIRED = (401, "user_challenge_required")


def marked_as_guests(user_id: str, kind: str):
    return profile(user_id).get(users_store.guest_flag(kind))


def code_sign_in(api, sent, user_id: str, email: str):
    lift_cooldowns()  # a verification email may have gone to the address a moment ago
    assert api("create_email_token", {"userId": "unique()", "email": email}).body["userId"] == user_id
    return api("create_session", {"userId": user_id, "secret": sent.code(email)})


# --- provenance: who put the address there --------------------------------------------------------------------------


def test_sign_up_and_token_creation_put_addresses_as_a_guest(api):
    ada = api.sign_up(EMAIL)
    assert marked_as_guests(ada["$id"], "email") is True
    token = api("create_phone_token", {"userId": "unique()", "phone": PHONE}).body
    assert marked_as_guests(token["userId"], "phone") is True
    assert users_store.guest_flag("email") not in profile(token["userId"])  # no email, no flag


def test_a_signed_in_session_and_the_users_api_put_addresses_as_the_account(api, sent):
    ada = sign_up_and_in(api)
    assert api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=ada.credential).status == 200
    assert api("update_email", {"email": NEW_EMAIL, "password": PASSWORD}, session=ada.credential).status == 200
    assert marked_as_guests(ada.user_id, "email") is False and marked_as_guests(ada.user_id, "phone") is False
    body = {"userId": "unique()", "email": "bo@example.com", "phone": NEW_PHONE, "password": PASSWORD}
    made = api("users_create", body, headers=key_headers())
    assert made.status == 201, made.body
    assert marked_as_guests(made.body["$id"], "email") is False and marked_as_guests(made.body["$id"], "phone") is False


def test_a_proof_ends_the_guest_mark_and_dates_the_verification(api, sent):
    ada = sign_up_and_in(api)
    verify_email(api, sent, ada.credential)
    stored = profile(ada.user_id)
    assert stored[users_store.guest_flag("email")] is False
    assert stored["createdAt"] < stored[users_store.verified_at("email")] <= stored["updatedAt"]
    first = stored[users_store.verified_at("email")]
    assert code_sign_in(api, sent, ada.user_id, EMAIL).status == 201  # proven again: still verified since `first`
    assert profile(ada.user_id)[users_store.verified_at("email")] == first


def test_the_operator_vouching_for_an_address_is_a_proof(api):
    ada = api.sign_up(EMAIL)
    path = {"userId": ada["$id"]}
    assert (
        api("users_update_email_verification", {"emailVerification": True}, path=path, headers=key_headers()).status
        == 200
    )
    stored = profile(ada["$id"])
    assert stored["emailVerification"] is True and stored[users_store.guest_flag("email")] is False
    assert users_store.verified_at("email") in stored


# --- the first-proof wipe fires only for a guest's address ----------------------------------------------------------


def test_the_first_proof_of_an_address_a_session_set_wipes_nothing(api, sent, totp_clock):
    """Issue 15 finding 1's last step: the code sign-in to the address the thief's session put on the account used
    to end the owner's sessions and drop the password and MFA. An address a signed-in session set is the account's."""
    ada = sign_up_and_in(api)
    verify_email(api, sent, ada.credential)
    enrol_totp(api, ada.credential, totp_clock)
    create_recovery_codes(api, ada.credential)
    assert api("update_email", {"email": NEW_EMAIL, "password": PASSWORD}, session=ada.credential).status == 200
    before = profile(ada.user_id)
    signed_in = code_sign_in(api, sent, ada.user_id, NEW_EMAIL)
    assert signed_in.status == 201, signed_in.body
    after = profile(ada.user_id)
    assert after["emailVerification"] is True and after["passwordHash"] == before["passwordHash"]
    assert after["authenticator"] == before["authenticator"] and after["recoveryCodes"] == before["recoveryCodes"]
    assert api("get_account", session=ada.credential).status == 200  # the session that changed it lives on


def test_the_first_proof_of_an_address_the_users_api_set_wipes_nothing(api, sent):
    body = {"userId": "unique()", "email": EMAIL, "password": PASSWORD}
    user_id = api("users_create", body, headers=key_headers()).body["$id"]
    earlier = api.session_for(EMAIL)
    assert code_sign_in(api, sent, user_id, EMAIL).status == 201
    assert profile(user_id)["passwordHash"] and api("get_account", session=earlier).status == 200


def test_the_first_proof_of_a_guests_address_still_wipes(api, sent):
    """The pre-hijack defence stands: a squatter's sign-up with the owner's email loses its password and sessions."""
    squatter = sign_up_and_in(api)
    assert code_sign_in(api, sent, squatter.user_id, EMAIL).status == 201
    assert profile(squatter.user_id)["passwordHash"] == ""
    assert_error(api("get_account", session=squatter.credential), 401, "general_unauthorized_scope")


# --- which challenges are step-ups -----------------------------------------------------------------------------------


def test_an_address_verified_after_the_session_began_is_no_step_up_in_it(api, sent):
    ada = sign_up_and_in(api)
    verify_phone(api, sent, ada.credential, ada.user_id)  # proven by this session, after it began
    lift_cooldowns()
    answer = complete(api, ada.credential, challenge(api, ada.credential, "phone"), sent.code(PHONE))
    assert answer.status == 200 and answer.body["mfaUpdatedAt"]  # the challenge counts for the gate...
    assert "stepUpAt" not in stored_session(ada.credential)  # ...but is no step-up
    assert_error(api("get_mfa_recovery_codes", session=ada.credential), *CHALLENGE_REQUIRED)
    later = api.session_for(EMAIL)
    lift_cooldowns()
    assert complete(api, later, challenge(api, later, "phone"), sent.code(PHONE)).status == 200
    assert stored_session(later)["stepUpAt"] == stored_session(later)["mfaUpdatedAt"]


def test_codes_the_operator_made_after_the_session_began_are_no_step_up_in_it(api):
    ada = sign_up_and_in(api)
    made = api("users_create_mfa_recovery_codes", {}, path={"userId": ada.user_id}, headers=key_headers())
    assert made.status == 201, made.body
    code = made.body["recoveryCodes"][0]
    assert complete(api, ada.credential, challenge(api, ada.credential, "recoverycode"), code).status == 200
    assert "stepUpAt" not in stored_session(ada.credential)


# --- what needs a step-up while MFA is on ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "path"),
    [
        ("update_email", {"email": NEW_EMAIL, "password": PASSWORD}, None),
        ("update_phone", {"phone": NEW_PHONE, "password": PASSWORD}, None),
        ("update_password", {"password": "a new password 123", "oldPassword": PASSWORD}, None),
        ("create_mfa_recovery_codes", {}, None),
        ("create_mfa_authenticator", {}, {"type": "totp"}),
    ],
)
def test_with_mfa_on_these_need_a_step_up(api, sent, name, body, path):
    """MFA on with email and phone as factors (no authenticator yet): a session through the gate, with the password,
    still needs a challenge with a factor older than itself."""
    ada = sign_up_and_in(api)
    verify_email(api, sent, ada.credential)
    verify_phone(api, sent, ada.credential, ada.user_id)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    before = profile(ada.user_id)
    assert_error(api(name, body, session=ada.credential, path=path), *CHALLENGE_REQUIRED)
    assert profile(ada.user_id) == before
    later = api.session_for(EMAIL)
    lift_cooldowns()
    assert complete(api, later, challenge(api, later, "email"), sent.code(EMAIL)).status == 200
    answer = api(name, body, session=later, path=path)
    assert answer.status < 300, answer.body


def test_mfa_on_without_a_factor_to_challenge_asks_only_the_password(api):
    """The flag alone (no verified email, phone or authenticator) puts no second step in sign-in, nor here."""
    ada = sign_up_and_in(api)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    answer = api("update_email", {"email": NEW_EMAIL, "password": PASSWORD}, session=ada.credential)
    assert answer.status == 200, answer.body


def test_the_step_up_is_asked_before_the_password_is_checked(api, sent, totp_clock):
    """No answer tells a stolen session whether a password was right."""
    ada = sign_up_and_in(api)
    enrol_totp(api, ada.credential, totp_clock)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    for password in (PASSWORD, "wrong password"):
        answer = api("update_email", {"email": NEW_EMAIL, "password": password}, session=ada.credential)
        assert_error(answer, *CHALLENGE_REQUIRED)


def test_password_checks_of_a_session_are_limited(api):
    ada = sign_up_and_in(api)
    for _ in range(10):
        wrong = api("update_phone", {"phone": PHONE, "password": "wrong password"}, session=ada.credential)
        assert_error(wrong, 401, "user_invalid_credentials")
    limited = api("update_email", {"email": NEW_EMAIL, "password": PASSWORD}, session=ada.credential)
    assert_error(limited, 429, "general_rate_limit_exceeded")
    assert profile(ada.user_id)["email"] == EMAIL


# --- the old address is told --------------------------------------------------------------------------------------


def test_an_email_change_tells_the_old_verified_email_only(api, sent):
    ada = sign_up_and_in(api)
    assert (
        api("update_email", {"email": "first@example.com", "password": PASSWORD}, session=ada.credential).status == 200
    )
    assert sent.to(EMAIL) == []  # never verified: not told (it may be someone else's)
    verify_email(api, sent, ada.credential, "first@example.com")
    mark = sent.count()
    assert api("update_email", {"email": NEW_EMAIL, "password": PASSWORD}, session=ada.credential).status == 200
    [notice] = sent.outbox.entries()[mark:]
    assert notice["to"] == "first@example.com" and notice["subject"] == "Email address of your My App account changed"
    assert NEW_EMAIL not in notice["text"]


def test_a_phone_change_texts_the_old_verified_phone_in_one_more_round_trip(api, sent, dynamo_calls):
    ada = sign_up_and_in(api)
    verify_phone(api, sent, ada.credential, ada.user_id)
    mark = sent.count()
    answer = api("update_phone", {"phone": NEW_PHONE, "password": PASSWORD}, session=ada.credential)
    assert answer.status == 200, answer.body
    # the session, the password-check limit, the change, the notice's budgets
    assert dynamo_calls.operations == ["BatchGetItem", "UpdateItem", "TransactWriteItems", "TransactWriteItems"]
    [notice] = sent.outbox.entries()[mark:]
    assert notice["to"] == PHONE and notice["channel"] == "sms" and "phone number was changed" in notice["text"]


def test_a_notice_that_cannot_go_out_never_blocks_the_change(api, sent, monkeypatch):
    """The notice has its own small budget per old phone (3 a day, not the codes' budget, which a thief could spend
    first) and the deployment's hourly SMS budget; over budget, or undeliverable, the change still stands."""
    ada = sign_up_and_in(api)
    verify_phone(api, sent, ada.credential, ada.user_id)
    now = int(time.time())
    for _ in range(notices.SMS_NOTICES_PER_DESTINATION_PER_DAY):  # three notices to this phone today already
        ratelimit.spend([Charge("notice-sms-day", PHONE, notices.SMS_NOTICES_PER_DESTINATION_PER_DAY, DAY)], now)
    mark = sent.count()
    answer = api("update_phone", {"phone": NEW_PHONE, "password": PASSWORD}, session=ada.credential)
    assert answer.status == 200, answer.body
    assert sent.outbox.entries()[mark:] == []  # over its budget: skipped

    verify_phone(api, sent, ada.credential, ada.user_id, NEW_PHONE)

    def store_fault(charges, now):
        raise ConnectionError("the table is unreachable")

    monkeypatch.setattr(ratelimit, "spend", store_fault)
    answer = api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=ada.credential)
    assert answer.status == 200 and profile(ada.user_id)["phone"] == PHONE
    monkeypatch.undo()

    def undeliverable(phone, text):
        raise DeliveryError("Throttling")

    lift_cooldowns()
    verify_phone(api, sent, ada.credential, ada.user_id, PHONE)
    monkeypatch.setattr(sms, "send", undeliverable)
    answer = api("update_phone", {"phone": NEW_PHONE, "password": PASSWORD}, session=ada.credential)
    assert answer.status == 200 and profile(ada.user_id)["phone"] == NEW_PHONE


def test_a_passwordless_account_with_mfa_off_changes_its_email_but_the_old_one_is_told(api, sent):
    """What a stolen session alone can do to an account with no password and no MFA (docs/security.md): it is the
    account; the owner hears of it at the verified address."""
    credential = email_otp_session(api, sent)
    answer = api("update_email", {"email": NEW_EMAIL, "password": ""}, session=credential)
    assert answer.status == 200, answer.body
    assert sent.last(EMAIL)["subject"] == "Email address of your My App account changed"


def test_a_thief_who_turns_mfa_on_with_their_own_authenticator_is_undone_by_the_owners_email(api, sent, totp_clock):
    """MFA off, session only: the thief enrols an authenticator and turns MFA on. The owner's sessions stop at the
    gate; an email challenge (the email is older than the owner's new sign-in) lets the owner through and, being a
    step-up, remove the thief's authenticator."""
    ada = sign_up_and_in(api)
    verify_email(api, sent, ada.credential)
    owners = api.session_for(EMAIL)
    thief = api.session_for(EMAIL)
    enrol_totp(api, thief, totp_clock)
    assert api("update_mfa", {"mfa": True}, session=thief).status == 200
    assert_error(api("get_account", session=owners), 401, "user_more_factors_required")
    again = api.session_for(EMAIL)
    lift_cooldowns()
    assert complete(api, again, challenge(api, again, "email"), sent.code(EMAIL)).status == 200
    assert api("delete_mfa_authenticator", {}, session=again, path={"type": "totp"}).status == 204
    assert api("update_mfa", {"mfa": False}, session=again).status == 200
