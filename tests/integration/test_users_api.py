"""The Users API with server API keys (issue 9, API.md §6): scopes, shapes, audit records, MFA resets."""

from __future__ import annotations

import json

import pytest

from authcore.services.apikeys import create_key

from .admin_fixtures import key_headers, locked_out_user
from .conftest import PASSWORD, racing, table_items
from .mfa_fixtures import session_items, sign_up_and_in
from .test_observability import stdout  # noqa: F401 (a fixture)

READ_ONLY = ("users.read",)


@pytest.fixture
def locked(api, sent):
    return locked_out_user(api, sent)


def test_get_user_answers_appwrites_user_shape(api, locked):
    answer = api("users_get", path={"userId": locked["userId"]}, headers=key_headers(*READ_ONLY))
    assert answer.status == 200
    assert answer.body["$id"] == locked["userId"] and answer.body["email"] == locked["email"]
    assert answer.body["mfa"] is True and answer.body["emailVerification"] is True
    assert "passwordHash" not in answer.body and "password" not in answer.body


@pytest.mark.parametrize(
    ("function", "body", "extra"),
    [
        ("users_update_mfa", {"mfa": False}, {}),
        ("users_delete_mfa_authenticator", None, {"type": "totp"}),
        ("users_update_mfa_recovery_codes", {}, {}),
        ("users_create_mfa_recovery_codes", {}, {}),
        ("users_delete_sessions", None, {}),
        ("users_delete_session", None, {"sessionId": "x"}),
    ],
)
def test_a_read_only_key_cannot_write(api, locked, function, body, extra):
    answer = api(function, body, path={"userId": locked["userId"], **extra}, headers=key_headers(*READ_ONLY))
    assert answer.status == 401
    assert answer.body["type"] == "general_unauthorized_scope"
    assert answer.body["message"] == "The key lacks the scope users.write."


def test_without_a_key_or_with_a_session_the_users_api_refuses(api, locked):
    for headers in ({}, {"X-Appwrite-Session": locked["session"]}):
        answer = api("users_get", path={"userId": locked["userId"]}, headers=headers)
        assert answer.status == 401 and answer.body["type"] == "general_unauthorized_scope"


def test_a_sessions_write_key_cannot_read_users(api, locked):
    answer = api("users_get", path={"userId": locked["userId"]}, headers=key_headers("sessions.write"))
    assert answer.status == 401 and answer.body["message"] == "The key lacks the scope users.read."


def test_an_unknown_user_is_404(api):
    headers = key_headers()
    for function in ("users_get", "users_list_mfa_factors", "users_list_sessions", "users_get_mfa_recovery_codes"):
        answer = api(function, path={"userId": "nobody"}, headers=headers)
        assert (answer.status, answer.body["type"]) == (404, "user_not_found"), function


def test_the_support_reset_lets_the_user_sign_in_with_a_password_alone(api, sent, locked):
    """Locked out of every factor: MFA off and authenticator removed by the desk; then password only."""
    headers, target = key_headers(), {"userId": locked["userId"]}
    before = api.sign_in(locked["email"])
    assert api("get_account", session=before.credential).body["type"] == "user_more_factors_required"
    factors = api("users_list_mfa_factors", path=target, headers=headers).body
    assert factors == {
        "totp": True,
        "email": True,
        "phone": False,
        "recoveryCode": True,
        "custom": False,
        "passkey": False,
    }

    assert api("users_update_mfa", {"mfa": False}, path=target, headers=headers).body["mfa"] is False
    assert api("users_delete_mfa_authenticator", path={**target, "type": "totp"}, headers=headers).status == 204
    assert api("users_list_mfa_factors", path=target, headers=headers).body["totp"] is False
    after = api.sign_in(locked["email"])
    assert api("get_account", session=after.credential).status == 200
    subjects = [message["subject"] for message in sent.to(locked["email"])]
    assert subjects[-2:] == [  # the user is told of both resets
        "Multi-factor authentication turned off for My App",
        "Authenticator app removed from your My App account",
    ]
    assert api("users_delete_mfa_authenticator", path={**target, "type": "totp"}, headers=headers).status == 404


def test_recovery_codes_get_regenerate_and_create(api, sent, locked):
    headers, target = key_headers(), {"userId": locked["userId"]}
    shown = api("users_get_mfa_recovery_codes", path=target, headers=headers).body["recoveryCodes"]
    assert len(shown) == 10
    assert api("users_create_mfa_recovery_codes", {}, path=target, headers=headers).status == 409
    sent_before = len(sent.to(locked["email"]))
    regenerated = api("users_update_mfa_recovery_codes", {}, path=target, headers=headers)
    assert regenerated.status == 200 and set(regenerated.body["recoveryCodes"]).isdisjoint(shown)
    assert len(sent.to(locked["email"])) == sent_before + 1  # the user is told
    again = api("users_get_mfa_recovery_codes", path=target, headers=headers).body["recoveryCodes"]
    assert again == regenerated.body["recoveryCodes"]


def test_sessions_list_and_delete(api, locked):
    headers, target = key_headers(), {"userId": locked["userId"]}
    other = api.session_for(locked["email"])
    listed = api("users_list_sessions", path=target, headers=headers).body
    assert listed["total"] == 2 and listed["sessions"] == listed["data"]
    assert {s["current"] for s in listed["sessions"]} == {False} and {s["secret"] for s in listed["sessions"]} == {""}
    first = listed["sessions"][0]["$id"]
    assert api("users_delete_session", path={**target, "sessionId": first}, headers=headers).status == 204
    assert api("users_delete_session", path={**target, "sessionId": first}, headers=headers).status == 404
    assert api("get_account", session=locked["session"]).status == 401
    assert api("users_delete_sessions", path=target, headers=headers).status == 204
    assert api("get_account", session=other).status == 401
    assert session_items(locked["userId"]) == []
    assert api("users_list_sessions", path=target, headers=headers).body["total"] == 0


def test_every_admin_action_writes_one_audit_record(api, locked, stdout):  # noqa: F811
    headers = {"X-Appwrite-Key": create_key("helpdesk-7", ["users.read", "users.write"])[1]}
    target = {"userId": locked["userId"]}
    stdout.readouterr()
    api("users_get", path=target, headers=headers)
    api("users_delete_mfa_authenticator", path={**target, "type": "totp"}, headers=headers)
    api("users_delete_mfa_authenticator", path={**target, "type": "totp"}, headers=headers)
    written = stdout.readouterr().out
    audits = [json.loads(line) for line in written.splitlines() if '"message":"audit"' in line]
    assert [(a["keyName"], a["action"], a["targetUserId"], a["result"]) for a in audits] == [
        ("helpdesk-7", "users.get", locked["userId"], "success"),
        ("helpdesk-7", "users.deleteMfaAuthenticator", locked["userId"], "success"),
        ("helpdesk-7", "users.deleteMfaAuthenticator", locked["userId"], "user_authenticator_not_found"),
    ]
    assert headers["X-Appwrite-Key"].split(".")[1] not in written
    assert PASSWORD not in written


def test_create_user_then_sign_in(api):
    headers = key_headers()
    body = {"userId": "grace-1", "email": "grace@example.com", "password": PASSWORD, "name": "Grace"}
    created = api("users_create", body, headers=headers)
    assert created.status == 201 and created.body["$id"] == "grace-1" and created.body["email"] == "grace@example.com"
    assert api("users_create", {**body, "userId": "unique()"}, headers=headers).status == 409  # the email is taken
    assert api.sign_in("grace@example.com").status == 201
    phone_only = api("users_create", {"userId": "unique()", "phone": "+14155552671"}, headers=headers)
    assert phone_only.status == 201 and phone_only.body["phone"] == "+14155552671" and phone_only.body["email"] == ""


def test_list_users_with_search_limit_and_offset(api):
    headers = key_headers()
    for name in ("ada", "grace", "hedy"):
        api.sign_up(f"{name}@example.com")

    def listing(**query: str):
        return api("users_list", query=query, headers=headers)

    everyone = listing().body
    assert everyone["total"] == 3
    assert [u["email"] for u in everyone["users"]] == ["ada@example.com", "grace@example.com", "hedy@example.com"]
    limit, offset = '{"method":"limit","values":[1]}', '{"method":"offset","values":[1]}'
    page = listing(**{"queries[0]": limit, "queries[1]": offset})
    assert page.body["total"] == 3 and [u["email"] for u in page.body["users"]] == ["grace@example.com"]
    assert [u["email"] for u in listing(search="HEDY").body["users"]] == ["hedy@example.com"]
    for bad in ("not json", '{"method":"equal","values":["x"]}', '{"method":"limit","values":[-1]}'):
        answer = listing(**{"queries[0]": bad})
        assert (answer.status, answer.body["type"]) == (400, "general_argument_invalid"), bad


def test_delete_user_leaves_nothing_behind(api, sent, locked):
    headers, target = key_headers(), {"userId": locked["userId"]}
    api("create_email_token", {"userId": "unique()", "email": locked["email"]})  # a token in the partition
    assert api("users_delete", path=target, headers=headers).status == 204
    assert table_items(f"USER#{locked['userId']}") == []
    assert table_items(f"EMAIL#{locked['email']}") == []
    assert api("get_account", session=locked["session"]).status == 401
    assert api("users_get", path=target, headers=headers).status == 404
    assert api("users_delete", path=target, headers=headers).status == 404
    api.sign_up(locked["email"])  # the address is free again


def test_status_blocks_and_unblocks(api, locked):
    headers, target = key_headers(), {"userId": locked["userId"]}
    blocked = api("users_update_status", {"status": False}, path=target, headers=headers)
    assert blocked.status == 200 and blocked.body["status"] is False
    assert api("get_account", session=locked["session"]).body["type"] == "user_blocked"
    assert api("users_create_session", {}, path=target, headers=headers).body["type"] == "user_blocked"
    assert api("users_update_status", {"status": True}, path=target, headers=headers).body["status"] is True
    assert api("users_update_status", {"status": True}, path={"userId": "nobody"}, headers=headers).status == 404


def test_verification_flags(api):
    api.sign_up()
    headers = key_headers()
    user_id = api("users_list", query={}, headers=headers).body["users"][0]["$id"]
    target = {"userId": user_id}
    email = api("users_update_email_verification", {"emailVerification": True}, path=target, headers=headers)
    assert email.status == 200 and email.body["emailVerification"] is True
    phone = api("users_update_phone_verification", {"phoneVerification": True}, path=target, headers=headers)
    assert phone.body["phoneVerification"] is True and phone.body["emailVerification"] is True
    not_bool = api("users_update_email_verification", {"emailVerification": "yes"}, path=target, headers=headers)
    assert not_bool.status == 400


def test_a_server_made_session_is_a_usable_credential_and_still_meets_the_mfa_gate(api, locked):
    headers = key_headers()
    plain = api.sign_up("plain@example.com")
    made = api("users_create_session", {}, path={"userId": plain["$id"]}, headers=headers)
    assert made.status == 201 and made.body["provider"] == "server" and made.body["factors"] == ["server"]
    assert made.body["current"] is False
    assert api("get_account", session=made.body["secret"]).body["email"] == "plain@example.com"
    gated = api("users_create_session", {}, path={"userId": locked["userId"]}, headers=headers).body["secret"]
    assert api("get_account", session=gated).body["type"] == "user_more_factors_required"


def test_delete_user_racing_an_email_change_orphans_no_index_item(api):
    ada = sign_up_and_in(api, "racer@example.com")
    headers, target = key_headers(), {"userId": ada.user_id}
    change = {"email": "moved@example.com", "password": PASSWORD}
    with racing(lambda: api("update_email", change, session=ada.credential), "Delete") as others:
        assert api("users_delete", path=target, headers=headers).status == 204
    assert others[0].status == 200  # the change landed between the delete's read and its write
    assert table_items("EMAIL#") == [] and table_items(f"USER#{ada.user_id}") == []
