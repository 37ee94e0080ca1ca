"""Accounts through their handlers: sign-up, profile changes, preferences, data integrity."""

import re

import pytest

from authcore.store import users as users_store
from authcore.store.table import client, table_name

from .conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("steady_rate_window")

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
ACCOUNT_FIELDS = {
    "$id", "$createdAt", "$updatedAt", "name", "registration", "status", "labels", "passwordUpdate", "email",
    "phone", "emailVerification", "phoneVerification", "mfa", "prefs", "targets", "accessedAt",
}  # fmt: skip


def all_items():
    return client().scan(TableName=table_name())["Items"]


def test_sign_up_returns_the_account_model_and_no_session(api):
    answer = api("create_account")  # the events/ sample as API Gateway would send it
    assert answer.status == 201
    account = answer.body
    assert set(account) == ACCOUNT_FIELDS
    assert re.fullmatch(r"[0-9a-f]{20}", account["$id"])
    assert account["email"] == "ada@example.com" and account["name"] == "Ada"
    assert account["prefs"] == {} and account["labels"] == [] and account["phone"] == ""
    assert account["status"] is True and account["mfa"] is False and account["emailVerification"] is False
    assert all(DATE.match(account[k]) for k in ("$createdAt", "$updatedAt", "registration", "passwordUpdate"))
    assert answer.header("Set-Cookie") is None and answer.header("X-Fallback-Cookies") is None
    assert answer.header("Cache-Control") == "no-store"
    assert answer.header("Access-Control-Allow-Origin") == "http://localhost:3000"
    # The profile and the email index item, nothing else; no password in clear.
    items = all_items()
    keys = sorted(i["pk"]["S"] for i in items if not i["pk"]["S"].startswith("RATE#"))
    assert keys == sorted([f"USER#{account['$id']}", "EMAIL#ada@example.com"])
    assert PASSWORD not in str(items)


def test_custom_user_id_and_lower_cased_email(api):
    account = api.sign_up("Ada.Lovelace@Example.COM", userId="ada-1")
    assert account["$id"] == "ada-1" and account["email"] == "ada.lovelace@example.com"


def test_taken_id_or_email_is_409_and_writes_nothing(api):
    api.sign_up(userId="ada")
    before = all_items()
    for body in ({"userId": "ada", "email": "other@example.com"}, {"userId": "unique()", "email": "ADA@example.com"}):
        answer = api("create_account", {**body, "password": PASSWORD})
        assert answer.status == 409 and answer.body["type"] == "user_already_exists"
    rate_counters = [i for i in all_items() if i["pk"]["S"].startswith("RATE#")]
    assert len(all_items()) - len(rate_counters) == len([i for i in before if not i["pk"]["S"].startswith("RATE#")])


def test_get_account_needs_a_session(api):
    assert api("get_account").body["type"] == "general_unauthorized_scope"
    api.sign_up()
    assert api("get_account", session=api.session_for()).body["email"] == "ada@example.com"


def test_update_name_and_prefs(api):
    api.sign_up()
    session = api.session_for()
    assert api("update_name", {"name": "Ada L."}, session=session).body["name"] == "Ada L."
    assert api("get_prefs", session=session).body == {}
    updated = api("update_prefs", {"prefs": {"theme": "dark", "n": 3}}, session=session)
    assert updated.status == 200 and updated.body["prefs"] == {"theme": "dark", "n": 3}
    assert api("get_prefs", session=session).body == {"theme": "dark", "n": 3}
    assert api("get_account", session=session).body["name"] == "Ada L."


def test_update_email_moves_the_index_atomically(api):
    api.sign_up()
    session = api.session_for()
    wrong = api("update_email", {"email": "new@example.com", "password": "wrong password"}, session=session)
    assert wrong.status == 401 and wrong.body["type"] == "user_invalid_credentials"
    answer = api("update_email", {"email": "New@Example.com", "password": PASSWORD}, session=session)
    assert answer.status == 200 and answer.body["email"] == "new@example.com"
    assert answer.body["emailVerification"] is False
    keys = {i["pk"]["S"] for i in all_items()}
    assert "EMAIL#new@example.com" in keys and "EMAIL#ada@example.com" not in keys
    assert api.sign_in("new@example.com").status == 201
    assert api.sign_in("ada@example.com").body["type"] == "user_invalid_credentials"


def test_update_email_to_a_taken_one_is_409_and_changes_nothing(api, user_id_of):
    api.sign_up()
    api.sign_up("grace@example.com")
    session = api.session_for()
    answer = api("update_email", {"email": "grace@example.com", "password": PASSWORD}, session=session)
    assert answer.status == 409 and answer.body["type"] == "user_email_already_exists"
    assert users_store.get_user(user_id_of(session))["email"] == "ada@example.com"
    assert {i["pk"]["S"] for i in all_items()} >= {"EMAIL#ada@example.com", "EMAIL#grace@example.com"}


def test_update_phone_validates_and_keeps_numbers_unique(api):
    api.sign_up()
    api.sign_up("grace@example.com")
    ada, grace = api.session_for(), api.session_for("grace@example.com")
    bad = api("update_phone", {"phone": "+10000000000", "password": PASSWORD}, session=ada)
    assert bad.status == 400 and bad.body["message"].startswith("Invalid `phone` param:")
    ok = api("update_phone", {"phone": "+14155552671", "password": PASSWORD}, session=ada)
    assert ok.status == 200 and ok.body["phone"] == "+14155552671" and ok.body["phoneVerification"] is False
    taken = api("update_phone", {"phone": "+14155552671", "password": PASSWORD}, session=grace)
    assert taken.status == 409 and taken.body["type"] == "user_phone_already_exists"
    moved = api("update_phone", {"phone": "+447911123456", "password": PASSWORD}, session=ada)
    assert moved.status == 200
    keys = {i["pk"]["S"] for i in all_items()}
    assert "PHONE#+447911123456" in keys and "PHONE#+14155552671" not in keys


def test_update_password_ends_every_other_session(api):
    api.sign_up()
    current, other = api.session_for(), api.session_for()
    wrong = api("update_password", {"password": "new password 123", "oldPassword": "nope nope"}, session=current)
    assert wrong.status == 401 and wrong.body["type"] == "user_invalid_credentials"
    missing_old = api("update_password", {"password": "new password 123"}, session=current)
    assert missing_old.status == 401
    answer = api("update_password", {"password": "new password 123", "oldPassword": PASSWORD}, session=current)
    assert answer.status == 200
    assert api("get_account", session=current).status == 200
    assert api("get_account", session=other).status == 401
    assert api.sign_in(password=PASSWORD).status == 401
    assert api.sign_in(password="new password 123").status == 201
    listed = api("list_sessions", session=current).body
    assert listed["total"] == 2


def test_password_changes_are_rate_limited_per_user(api):
    api.sign_up()
    session = api.session_for()
    statuses = [
        api("update_password", {"password": "new password 123", "oldPassword": "wrong"}, session=session).status
        for _ in range(11)
    ]
    assert statuses == [401] * 10 + [429]


def test_sign_ups_are_rate_limited_per_ip(api):
    statuses = [
        api("create_account", {"userId": "unique()", "email": f"u{i}@example.com", "password": PASSWORD}).status
        for i in range(11)
    ]
    assert statuses == [201] * 10 + [429]
    # Another address is not affected.
    assert api("create_account", {"userId": "unique()", "email": "x@example.com", "password": PASSWORD},
               ip="198.51.100.7").status == 201  # fmt: skip


def test_blocked_user_is_refused(api, user_id_of):
    api.sign_up()
    session = api.session_for()
    users_store.update_user(user_id_of(session), {"status": False})
    assert api("get_account", session=session).body["type"] == "user_blocked"
    assert api.sign_in().body["type"] == "user_blocked"


def test_validation_errors_use_appwrite_wording(api):
    missing = api("create_account", {"userId": "unique()", "password": PASSWORD})
    assert missing.status == 400 and missing.body["message"] == 'Param "email" is not optional.'
    assert set(missing.body) == {"message", "code", "type", "version"} and missing.body["code"] == 400
    short = api("create_account", {"userId": "unique()", "email": "a@b.co", "password": "short"})
    assert short.body["message"].startswith("Invalid `password` param:")
    assert api("create_account", "{not json").body["type"] == "general_argument_invalid"
    assert api("create_account", "[]").status == 400
    assert api("create_account", "").status == 400


def test_another_project_is_404(api):
    answer = api("create_account", headers={"X-Appwrite-Project": "other"})
    assert answer.status == 404 and answer.body["type"] == "project_not_found"
    assert answer.header("Access-Control-Allow-Origin") == "http://localhost:3000"
    assert all_items() == []


def test_bodies_that_are_not_json_get_a_clear_400(api):
    for content_type, body in [
        ("text/plain", '{"userId":"unique()"}'),
        ("application/x-www-form-urlencoded", "userId=unique()&email=a%40b.co&password=12345678"),
    ]:
        answer = api("create_account", body, headers={"Content-Type": content_type})
        assert answer.status == 400 and answer.body["type"] == "general_argument_invalid", content_type
    bad_json = api("create_account", '{"userId": "unique()",')
    assert bad_json.body["message"] == "Invalid request body: it must be a JSON object."
    wrong_type = api("create_account", {"userId": 7, "email": "a@b.co", "password": PASSWORD})
    assert wrong_type.body["message"].startswith("Invalid `userId` param:")


def test_unknown_paths_get_404_with_cors_only_for_allowed_origins(api):
    answer = api("route_not_found")
    assert answer.status == 404 and answer.body["type"] == "general_route_not_found"
    assert answer.header("Access-Control-Allow-Origin") == "http://localhost:3000"
    foreign = api("route_not_found", headers={"Origin": "https://evil.example"})
    assert foreign.status == 404 and foreign.header("Access-Control-Allow-Origin") is None
