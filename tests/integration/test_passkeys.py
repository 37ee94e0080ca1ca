"""Passkeys (API.md §9) through the handlers, with a software authenticator: registration, management,
discoverable sign-in, the MFA extension (`factor: "passkey"`), the Users API, and every refusal."""

from __future__ import annotations

import json

import pytest

from authcore.services.passkeys import CHALLENGE_LIFETIME_MS
from authcore.store.mfa import PASSKEYS
from tests.integration.admin_fixtures import key_headers
from tests.integration.conftest import moved_clock, profile, racing
from tests.integration.mfa_fixtures import (
    EMAIL,
    assert_error,
    challenge,
    complete,
    failures,
    sign_up_and_in,
    stored_session,
    verify_email,
)
from tests.integration.passkey_fixtures import (
    answer_sign_in,
    finish_registration,
    passkey_session,
    passkey_token,
    register,
    sign_in_challenge,
    start_registration,
)
from tests.soft_authenticator import SoftAuthenticator, b64url


@pytest.fixture
def ada(api):
    return sign_up_and_in(api)


@pytest.fixture
def phone():
    return SoftAuthenticator()


@pytest.fixture
def passkey_clock(monkeypatch):
    """Moves the clock of the passkey service and store conditions forward by `advance(ms)`."""
    from authcore.services import passkeys

    return moved_clock(monkeypatch, passkeys)


# --- registration ---------------------------------------------------------------------------------


def test_registration_gives_creation_options_then_a_verified_passkey(api, ada, phone, sent):
    verify_email(api, sent, ada.credential)
    started = start_registration(api, ada.credential, "Laptop")
    options = started["publicKey"]
    assert options["rp"] == {"id": "localhost", "name": "My App"}
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["attestation"] == "none"
    assert started["expire"] > started["$createdAt"] and len(started["passkeyId"]) == 20

    answer = finish_registration(api, ada.credential, started["passkeyId"], phone.create(options))
    assert answer.status == 200, answer.body
    assert set(answer.body) == {"$id", "$createdAt", "$updatedAt", "name", "accessedAt"}
    assert answer.body["name"] == "Laptop" and answer.body["accessedAt"] == ""
    assert "passkey was added" in sent.last(EMAIL)["text"].lower()
    listed = api("list_passkeys", session=ada.credential).body
    assert listed == {"total": 1, "passkeys": [answer.body]}
    assert api("list_mfa_factors", session=ada.credential).body["passkey"] is True


def test_a_registration_is_verified_once_and_only_by_its_session(api, ada, phone):
    started = start_registration(api, ada.credential)
    other_session = api.session_for()
    attestation = phone.create(started["publicKey"])
    assert_error(finish_registration(api, other_session, started["passkeyId"], attestation), 401, "user_invalid_token")
    assert finish_registration(api, ada.credential, started["passkeyId"], attestation).status == 200
    replay = finish_registration(api, ada.credential, started["passkeyId"], attestation)
    assert_error(replay, 401, "user_invalid_token")


@pytest.mark.parametrize(
    "misbehaviour",
    [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}, {"verified": False}],
    ids=["wrong-origin", "wrong-rp-id", "no-user-verification"],
)
def test_a_refused_attestation_ends_the_registration(api, ada, phone, misbehaviour):
    started = start_registration(api, ada.credential)
    refused = finish_registration(
        api, ada.credential, started["passkeyId"], phone.create(started["publicKey"], **misbehaviour)
    )
    assert_error(refused, 401, "user_invalid_token")
    retry = finish_registration(api, ada.credential, started["passkeyId"], phone.create(started["publicKey"]))
    assert_error(retry, 401, "user_invalid_token")  # a failed attempt ends it: start again
    assert not profile(ada.user_id).get(PASSKEYS)


def test_an_expired_registration_is_refused(api, ada, phone, passkey_clock):
    started = start_registration(api, ada.credential)
    passkey_clock.advance(CHALLENGE_LIFETIME_MS)
    refused = finish_registration(api, ada.credential, started["passkeyId"], phone.create(started["publicKey"]))
    assert_error(refused, 401, "user_invalid_token")


def test_registration_needs_a_recent_sign_in(api, ada, passkey_clock):
    passkey_clock.advance(10 * 60 * 1000 + 1)
    answer = api("create_passkey", {"passkeyId": "unique()"}, session=ada.credential)
    assert_error(answer, 401, "user_challenge_required")


def test_a_session_one_factor_short_cannot_add_a_passkey(api, ada, phone, sent):
    """A password alone (MFA on) must not make itself a way in that passes the gate (API.md §7)."""
    verify_email(api, sent, ada.credential)
    started = start_registration(api, ada.credential)  # started while complete, verified while one factor short
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    half = api.session_for()
    assert_error(api("create_passkey", {}, session=half), 401, "user_more_factors_required")
    attestation = phone.create(started["publicKey"])
    assert_error(finish_registration(api, half, started["passkeyId"], attestation), 401, "user_more_factors_required")


def test_bad_registration_input_is_a_clear_400(api, ada, phone):
    register(api, ada.credential, phone)
    [passkey_id] = profile(ada.user_id)[PASSKEYS]
    taken = api("create_passkey", {"passkeyId": passkey_id}, session=ada.credential)
    assert_error(taken, 400, "general_argument_invalid")
    assert_error(api("create_passkey", {"passkeyId": "-bad"}, session=ada.credential), 400, "general_argument_invalid")
    assert_error(api("create_passkey", {"name": "x" * 129}, session=ada.credential), 400, "general_argument_invalid")
    started = start_registration(api, ada.credential)
    not_a_credential = finish_registration(api, ada.credential, started["passkeyId"], {"id": 5})
    assert_error(not_a_credential, 401, "user_invalid_token")


# --- management -----------------------------------------------------------------------------------


def test_get_rename_and_delete_a_passkey(api, ada, phone, sent):
    verify_email(api, sent, ada.credential)
    passkey = register(api, ada.credential, phone)
    path = {"passkeyId": passkey["$id"]}
    assert api("get_passkey", session=ada.credential, path=path).body == passkey
    renamed = api("update_passkey", {"name": "Phone"}, session=ada.credential, path=path)
    assert renamed.status == 200 and renamed.body["name"] == "Phone"
    assert api("delete_passkey", {}, session=ada.credential, path=path).status == 204
    assert "passkey was removed" in sent.last(EMAIL)["text"].lower()
    for name, body in (("get_passkey", None), ("update_passkey", {"name": "x"}), ("delete_passkey", {})):
        assert_error(api(name, body, session=ada.credential, path=path), 404, "user_passkey_not_found")


def test_a_deleted_passkey_signs_in_no_more(api, ada, phone):
    passkey = register(api, ada.credential, phone)
    assert api("delete_passkey", {}, session=ada.credential, path={"passkeyId": passkey["$id"]}).status == 204
    assert_error(passkey_token(api, phone), 401, "user_invalid_token")


def test_deleting_needs_a_recent_sign_in(api, ada, phone, passkey_clock):
    passkey = register(api, ada.credential, phone)
    passkey_clock.advance(10 * 60 * 1000 + 1)
    answer = api("delete_passkey", {}, session=ada.credential, path={"passkeyId": passkey["$id"]})
    assert_error(answer, 401, "user_challenge_required")


def test_list_takes_limit_and_offset_queries_only(api, ada, phone):
    first = register(api, ada.credential, phone, "one")
    second = register(api, ada.credential, phone, "two")
    page = api("list_passkeys", session=ada.credential, query={"queries[]": '{"method":"limit","values":[1]}'}).body
    assert page == {"total": 2, "passkeys": [first]}
    offset = api("list_passkeys", session=ada.credential, query={"queries[0]": '{"method":"offset","values":[1]}'})
    assert offset.body["passkeys"] == [second]
    odd = api("list_passkeys", session=ada.credential, query={"queries[0]": '{"method":"equal","values":["x"]}'})
    assert_error(odd, 400, "general_argument_invalid")


# --- sign-in with a discoverable credential -----------------------------------------------------


def test_passkey_sign_in_gives_a_one_minute_token_then_a_session_past_the_gate(api, ada, phone, sent):
    verify_email(api, sent, ada.credential)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    register(api, ada.credential, phone)

    started = sign_in_challenge(api)
    assert started["passkeyId"] == ""
    assert started["publicKey"]["userVerification"] == "required" and started["publicKey"]["allowCredentials"] == []
    token = answer_sign_in(api, started["$id"], phone.get(started["publicKey"]))
    assert token.status == 201, token.body
    assert token.body["userId"] == ada.user_id and len(token.body["secret"]) == 64
    session = api("create_session", {"userId": ada.user_id, "secret": token.body["secret"]})
    assert session.status == 201, session.body
    assert session.body["factors"] == ["passkey"] and session.body["provider"] == "passkey"
    assert api("get_account", session=session.credential).status == 200  # MFA is on: the passkey passed the gate
    accessed = api("list_passkeys", session=session.credential).body["passkeys"][0]["accessedAt"]
    assert accessed != ""
    again = api("create_session", {"userId": ada.user_id, "secret": token.body["secret"]})
    assert_error(again, 401, "user_invalid_token")  # the token is single use


def test_a_sign_in_challenge_is_single_use(api, ada, phone):
    register(api, ada.credential, phone)
    started = sign_in_challenge(api)
    assertion = phone.get(started["publicKey"])
    assert answer_sign_in(api, started["$id"], assertion).status == 201
    assert_error(answer_sign_in(api, started["$id"], assertion), 401, "user_invalid_token")


def test_two_racing_answers_to_one_challenge_earn_one_token(api, ada, phone):
    """Both read nothing before the conditional delete that consumes the challenge: one of them gets it."""
    register(api, ada.credential, phone)
    started = sign_in_challenge(api)
    assertion = phone.get(started["publicKey"])
    with racing(
        lambda: answer_sign_in(api, started["$id"], assertion), "Delete", "PASSKEYSIGNIN", "DeleteItem"
    ) as other:
        first = answer_sign_in(api, started["$id"], assertion)
    assert sorted([first.status, other[0].status]) == [201, 401]


def test_a_failed_attempt_uses_the_challenge_up(api, ada, phone):
    register(api, ada.credential, phone)
    started = sign_in_challenge(api)
    refused = answer_sign_in(api, started["$id"], phone.get(started["publicKey"], verified=False))
    assert_error(refused, 401, "user_invalid_token")
    assert_error(answer_sign_in(api, started["$id"], phone.get(started["publicKey"])), 401, "user_invalid_token")


@pytest.mark.parametrize(
    "misbehaviour",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://127.0.0.1:3000"},  # an allowed CORS origin, but an IP cannot be under the rp id
        {"rp_id": "evil.example"},
        {"verified": False},
        {"challenge": "AAAA"},
    ],
    ids=["wrong-origin", "ip-origin", "wrong-rp-id", "no-user-verification", "other-challenge"],
)
def test_refused_assertions(api, ada, phone, misbehaviour):
    register(api, ada.credential, phone)
    assert_error(passkey_token(api, phone, **misbehaviour), 401, "user_invalid_token")
    assert passkey_token(api, phone).status == 201  # the passkey still works


def test_a_foreign_credential_is_refused(api, ada, phone):
    """A credential of another authenticator that claims Ada's user handle."""
    register(api, ada.credential, phone)
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": b64url(ada.user_id.encode())}, "challenge": "x"})
    started = sign_in_challenge(api)
    assert_error(answer_sign_in(api, started["$id"], stranger.get(started["publicKey"])), 401, "user_invalid_token")


def test_a_counter_that_goes_back_marks_the_passkey_suspect(api, ada, phone):
    passkey = register(api, ada.credential, phone)
    assert passkey_token(api, phone, counter=5).status == 201
    assert_error(passkey_token(api, phone, counter=5), 401, "user_invalid_token")  # a clone's replayed count
    assert profile(ada.user_id)[PASSKEYS][passkey["$id"]]["suspect"]
    assert_error(passkey_token(api, phone, counter=9), 401, "user_invalid_token")  # suspect: refused for good
    assert api("list_mfa_factors", session=ada.credential).body["passkey"] is False


def test_an_authenticator_without_a_counter_keeps_working(api, ada):
    synced = SoftAuthenticator(counting=False)
    register(api, ada.credential, synced)
    assert passkey_token(api, synced).status == 201
    assert passkey_token(api, synced).status == 201


def test_an_expired_sign_in_challenge_is_refused(api, ada, phone, passkey_clock):
    register(api, ada.credential, phone)
    started = sign_in_challenge(api)
    passkey_clock.advance(CHALLENGE_LIFETIME_MS)
    assert_error(answer_sign_in(api, started["$id"], phone.get(started["publicKey"])), 401, "user_invalid_token")


def test_sign_in_challenges_are_limited_per_address(api):
    for _ in range(30):
        assert api("create_passkey_token", {}, ip="198.51.100.7").status == 201
    assert_error(api("create_passkey_token", {}, ip="198.51.100.7"), 429, "general_rate_limit_exceeded")
    assert api("create_passkey_token", {}, ip="198.51.100.8").status == 201


def test_a_blocked_user_cannot_sign_in_with_a_passkey(api, ada, phone):
    register(api, ada.credential, phone)
    blocked = api(
        "users_update_status", {"status": False}, headers=key_headers("users.write"), path={"userId": ada.user_id}
    )
    assert blocked.status == 200, blocked.body
    assert_error(passkey_token(api, phone), 401, "user_blocked")


def test_a_first_proof_of_the_address_removes_passkeys_set_up_before_it(api, phone, sent):
    """Pre-hijack: a squatter signs up with Ada's address and adds a passkey; Ada's first code sign-in
    drops it, as it drops the squatter's password and MFA (API.md §7)."""
    squatter = sign_up_and_in(api)
    register(api, squatter.credential, phone)
    assert api("create_email_token", {"userId": "unique()", "email": EMAIL}).status == 201
    assert api("create_session", {"userId": squatter.user_id, "secret": sent.code(EMAIL)}).status == 201
    assert not profile(squatter.user_id).get(PASSKEYS)
    assert_error(passkey_token(api, phone), 401, "user_invalid_token")


# --- the MFA extension: a passkey as the second factor --------------------------------------------


def test_a_password_session_completes_mfa_with_a_passkey(api, ada, phone, sent):
    verify_email(api, sent, ada.credential)
    register(api, ada.credential, phone)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    half = api.session_for()
    assert_error(api("get_account", session=half), 401, "user_more_factors_required")
    created = api("create_mfa_challenge", {"factor": "passkey"}, session=half)
    assert created.status == 201, created.body
    options = created.body["publicKey"]
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(phone.credentials[0].credential_id)]
    assertion = json.dumps(phone.get(options))
    done = complete(api, half, created.body["$id"], assertion)
    assert done.status == 200, done.body
    assert done.body["factors"] == ["password", "passkey"]
    assert api("get_account", session=half).status == 200
    assert_error(complete(api, half, created.body["$id"], assertion), 401, "user_invalid_token")  # single use
    assert stored_session(half).get("stepUpAt")  # a passkey older than the session: a step-up


def test_a_wrong_passkey_answer_counts_as_a_failed_challenge(api, ada, phone, sent):
    verify_email(api, sent, ada.credential)
    register(api, ada.credential, phone)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    half = api.session_for()
    challenge_id = challenge(api, half, "passkey")
    options = api("create_mfa_challenge", {"factor": "passkey"}, session=half).body["publicKey"]
    stale = json.dumps(phone.get(options))  # signed over another challenge
    assert_error(complete(api, half, challenge_id, stale), 401, "user_invalid_token")
    assert failures(ada.user_id) == 1
    for malformed in ("not json", "[1]", "[" * 5000 + "]" * 5000):  # deep nesting: no RecursionError, no 500
        assert_error(complete(api, half, challenge_id, malformed), 401, "user_invalid_token")
    assert failures(ada.user_id) == 1  # malformed: no guess


def test_a_passkey_registered_in_this_session_is_no_step_up(api, ada, phone):
    register(api, ada.credential, phone)
    created = api("create_mfa_challenge", {"factor": "passkey"}, session=ada.credential)
    done = complete(api, ada.credential, created.body["$id"], json.dumps(phone.get(created.body["publicKey"])))
    assert done.status == 200, done.body
    assert not stored_session(ada.credential).get("stepUpAt")


def test_a_passkey_session_cannot_challenge_its_own_factor(api, ada, phone):
    register(api, ada.credential, phone)
    session = passkey_session(api, phone)
    answer = api("create_mfa_challenge", {"factor": "passkey"}, session=session.credential)
    assert_error(answer, 400, "general_argument_invalid")


def test_a_passkey_challenge_needs_a_passkey(api, ada):
    assert_error(
        api("create_mfa_challenge", {"factor": "passkey"}, session=ada.credential), 404, "user_passkey_not_found"
    )
    assert api("list_mfa_factors", session=ada.credential).body["passkey"] is False


def test_mfa_can_be_turned_on_with_a_passkey_as_the_only_second_factor(api, ada, phone):
    register(api, ada.credential, phone)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    half = api.session_for()
    assert_error(api("get_account", session=half), 401, "user_more_factors_required")
    assert passkey_session(api, phone).status == 201


# --- the Users API: the support desk removes a lost passkey ---------------------------------------


def test_users_api_lists_gets_renames_and_deletes_a_users_passkey(api, ada, phone, sent):
    verify_email(api, sent, ada.credential)
    passkey = register(api, ada.credential, phone)
    read, write = key_headers("users.read"), key_headers("users.write")
    user, both = {"userId": ada.user_id}, {"userId": ada.user_id, "passkeyId": passkey["$id"]}
    assert api("users_list_passkeys", headers=read, path=user).body == {"total": 1, "passkeys": [passkey]}
    assert api("users_get_passkey", headers=read, path=both).body == passkey
    renamed = api("users_update_passkey", {"name": "Lost phone"}, headers=write, path=both)
    assert renamed.status == 200 and renamed.body["name"] == "Lost phone"
    assert_error(api("users_delete_passkey", {}, headers=read, path=both), 401, "general_unauthorized_scope")
    assert api("users_delete_passkey", {}, headers=write, path=both).status == 204
    assert "passkey was removed" in sent.last(EMAIL)["text"].lower()
    assert_error(api("users_get_passkey", headers=read, path=both), 404, "user_passkey_not_found")
    assert_error(passkey_token(api, phone), 401, "user_invalid_token")
    nobody = {"userId": "nobody", "passkeyId": passkey["$id"]}
    assert_error(api("users_get_passkey", headers=read, path=nobody), 404, "user_not_found")
