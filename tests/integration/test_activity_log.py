"""Issue 17: the activity log (GET /account/logs, GET /users/{userId}/logs) and self-block (PATCH /account/status).

Every security event of a user becomes one LOG# item in the user's partition (Appwrite's Log model on the
wire), newest first, kept 90 days by TTL; the User-Agent is stored raw and parsed only when the log is read.
"""

from __future__ import annotations

import json
import time
from typing import Any

from authcore.services import activity
from authcore.store import logs as logs_store

from .admin_fixtures import key_headers
from .conftest import PASSWORD, Api, table_items
from .mfa_fixtures import (
    assert_error,
    challenge,
    complete,
    complete_totp_challenge,
    create_recovery_codes,
    enrol_totp,
    sign_up_and_in,
    verify_email,
)

CHROME_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
LOG_FIELDS = {
    "event", "userId", "userEmail", "userName", "mode", "ip", "time", "osCode", "osName", "osVersion",
    "clientType", "clientCode", "clientName", "clientVersion", "clientEngine", "clientEngineVersion",
    "deviceName", "deviceBrand", "deviceModel", "countryCode", "countryName",
}  # fmt: skip


def events(api: Api, credential: str, **query: str) -> list[str]:
    answer = api("list_logs", session=credential, query=query or None)
    assert answer.status == 200, answer.body
    return [log["event"] for log in answer.body["logs"]]


def log_items(user_id: str) -> list[dict[str, Any]]:
    return [item for item in table_items(f"USER#{user_id}") if item["sk"].startswith(logs_store.LOG_PREFIX)]


def limit(n: int) -> str:
    return json.dumps({"method": "limit", "values": [n]})


def offset(n: int) -> str:
    return json.dumps({"method": "offset", "values": [n]})


def test_a_sign_in_is_logged_with_what_is_known_of_the_client(api):
    api.sign_up(name="Ada")
    answer = api("create_email_password_session", {"email": "ada@example.com", "password": PASSWORD},
                 headers={"User-Agent": CHROME_ON_MAC}, ip="198.51.100.7")  # fmt: skip
    listed = api("list_logs", session=answer.credential)
    assert listed.status == 200
    assert listed.body["total"] == 1 and listed.body["logs"] == listed.body["data"]
    (log,) = listed.body["logs"]
    assert set(log) == LOG_FIELDS
    assert log["event"] == "session.create" and log["mode"] == "user"
    assert (log["userId"], log["userEmail"], log["userName"], log["ip"]) == (
        answer.body["userId"], "ada@example.com", "Ada", "198.51.100.7",
    )  # fmt: skip
    assert log["time"].endswith("+00:00") and len(log["time"]) == 29
    assert (log["osCode"], log["osName"], log["osVersion"]) == ("MAC", "Mac OS X", "10.15.7")
    assert (log["clientType"], log["clientCode"], log["clientName"]) == ("browser", "CH", "Chrome")
    assert (log["clientVersion"], log["clientEngine"]) == ("131.0.0", "Blink")
    assert (log["deviceBrand"], log["deviceModel"]) == ("Apple", "Mac")
    assert (log["countryCode"], log["countryName"]) == ("", "")  # no geolocation database


def test_the_item_keeps_the_raw_user_agent_and_expires_in_90_days(api, user_id_of):
    """Sign-in never parses the User-Agent (the parser stays off its cold path): only reading the log does."""
    api.sign_up()
    credential = api("create_email_password_session", {"email": "ada@example.com", "password": PASSWORD},
                     headers={"User-Agent": CHROME_ON_MAC}).credential  # fmt: skip
    (item,) = log_items(user_id_of(credential))
    assert item["userAgent"] == CHROME_ON_MAC and "osName" not in item
    assert abs(item["ttl"] - (time.time() + 90 * 24 * 3600)) < 60


def test_session_events_newest_first_with_limit_and_offset(api, user_id_of):
    api.sign_up()
    first = api.session_for()
    second = api.session_for()
    second_id = api("get_session", session=second, path={"sessionId": "current"}).body["$id"]
    assert api("delete_session", session=first, path={"sessionId": second_id}).status == 204
    assert api.sign_in(password="not the password").status == 401
    assert events(api, first) == ["session.create.failed", "session.delete", "session.create", "session.create"]
    page = api("list_logs", session=first, query={"queries[0]": limit(2), "queries[1]": offset(1)}).body
    assert page["total"] == 4 and [log["event"] for log in page["logs"]] == ["session.delete", "session.create"]
    assert api.sign_in("nobody@example.com").status == 401  # an unknown email has no log to write to
    assert len(log_items(user_id_of(first))) == 4


def test_queries_other_than_limit_and_offset_are_a_400(api):
    api.sign_up()
    credential = api.session_for()
    bad = json.dumps({"method": "equal", "attribute": "event", "values": ["session.create"]})
    assert_error(api("list_logs", session=credential, query={"queries[0]": bad}), 400, "general_argument_invalid")
    assert_error(api("list_logs", session=credential, query={"queries[0]": "{"}), 400, "general_argument_invalid")


def test_the_log_needs_a_session_that_passed_the_gate(api):
    assert_error(api("list_logs"), 401, "general_unauthorized_scope")


def test_password_email_and_phone_changes_are_logged(api):
    api.sign_up()
    credential = api.session_for()
    assert api("update_email", {"email": "ada2@example.com", "password": PASSWORD}, session=credential).status == 200
    assert api("update_phone", {"phone": "+14155552671", "password": PASSWORD}, session=credential).status == 200
    changed = api("update_password", {"password": "a new password 1", "oldPassword": PASSWORD}, session=credential)
    assert changed.status == 200
    assert events(api, credential)[:3] == ["user.update.password", "user.update.phone", "user.update.email"]


def test_mfa_events_are_logged(api, sent, totp_clock):
    """MFA on/off, factors added and removed, recovery codes created, regenerated and used, challenges
    completed and failed: each one log item, written in the change's own write."""
    ada = sign_up_and_in(api)
    verify_email(api, sent, ada.credential)
    codes = create_recovery_codes(api, ada.credential)
    secret = enrol_totp(api, ada.credential, totp_clock)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    other = api.session_for()  # stopped by the gate until a challenge completes it
    assert complete(api, other, challenge(api, other, "totp"), totp_clock.wrong_code(secret)).status == 401
    assert complete(api, other, challenge(api, other, "recoveryCode"), codes[0]).status == 200
    complete_totp_challenge(api, other, secret, totp_clock)
    assert api("update_mfa_recovery_codes", {}, session=other).status == 200
    assert api("delete_mfa_authenticator", session=other, path={"type": "totp"}).status == 204
    assert api("update_mfa", {"mfa": False}, session=other).status == 200
    assert events(api, other) == [
        "user.update.mfa",
        "authenticator.delete",
        "recoverycodes.update",
        "challenge.update",
        "recoverycodes.use",
        "challenge.update.failed",
        "session.create",
        "user.update.mfa",
        "authenticator.create",
        "recoverycodes.create",
        "session.create",
    ]


def test_a_failed_log_write_never_changes_the_answer(api, monkeypatch, user_id_of):
    """An event written on its own comes after the change: its failure is logged (with the event) and
    counted, and the answer stays the one the request earned."""
    api.sign_up()
    credential = api.session_for()

    def unavailable(_item: dict[str, Any]) -> None:
        raise RuntimeError("table unavailable")

    monkeypatch.setattr(logs_store, "write", unavailable)
    assert_error(api.sign_in(password="not the password"), 401, "user_invalid_credentials")
    assert [item["event"] for item in log_items(user_id_of(credential))] == ["session.create"]


def test_an_event_in_a_transaction_is_written_only_with_its_change(api, user_id_of):
    """A refused change (a wrong old password) writes no log item: the item rides in the change's write."""
    api.sign_up()
    credential = api.session_for()
    wrong = {"password": "a new password 1", "oldPassword": "not the password"}
    assert_error(api("update_password", wrong, session=credential), 401, "user_invalid_credentials")
    assert events(api, credential) == ["session.create"]


# --- self-block --------------------------------------------------------------------------------


def test_self_block_ends_every_session_and_later_sign_ins_are_blocked(api, user_id_of):
    api.sign_up()
    credential, other = api.session_for(), api.session_for()
    answer = api("update_status", {}, session=credential)
    assert answer.status == 200 and answer.body["status"] is False
    assert answer.header("X-Fallback-Cookies") == "{}"
    assert any("a_session_default=;" in cookie for cookie in answer.headers["set-cookie"])
    for session in (credential, other):  # ended, and answered as a blocked user's (the app learns why)
        assert_error(api("get_account", session=session), 401, "user_blocked")
    assert not [i for i in table_items(f"USER#{user_id_of(credential)}") if i["sk"].startswith("SESSION#")]
    assert_error(api.sign_in(), 401, "user_blocked")
    logs = api("users_list_logs", path={"userId": user_id_of(credential)}, headers=key_headers()).body["logs"]
    assert [(log["event"], log["mode"]) for log in logs[:1]] == [("user.update.status", "user")]


def test_an_unblock_by_an_operator_revives_no_old_session(api, user_id_of):
    """Blocking ends sessions through either path: an operator's unblock gives a thief's session no second life."""
    api.sign_up()
    thief = api.session_for()
    user_id = user_id_of(thief)
    target = {"userId": user_id}
    assert api("users_update_status", {"status": False}, path=target, headers=key_headers()).status == 200
    assert api("users_update_status", {"status": True}, path=target, headers=key_headers()).status == 200
    assert_error(api("get_account", session=thief), 401, "general_unauthorized_scope")  # ended by the block
    assert api.sign_in().status == 201
    logs = api("users_list_logs", path=target, headers=key_headers()).body["logs"]
    assert [(log["event"], log["mode"]) for log in logs] == [
        ("session.create", "user"),
        ("user.update.status", "admin"),
        ("user.update.status", "admin"),
        ("session.create", "user"),
    ]


def test_with_mfa_on_self_block_needs_a_recent_challenge(api, sent, totp_clock, mfa_clock):
    """A stolen session that completed no challenge (or one long ago) cannot lock the owner out."""
    ada = sign_up_and_in(api)
    verify_email(api, sent, ada.credential)
    secret = enrol_totp(api, ada.credential, totp_clock)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    assert_error(api("update_status", {}, session=ada.credential), 401, "user_challenge_required")
    other = api.session_for()
    complete_totp_challenge(api, other, secret, totp_clock)
    mfa_clock.advance(11 * 60 * 1000)
    assert_error(api("update_status", {}, session=other), 401, "user_challenge_required")
    complete_totp_challenge(api, other, secret, totp_clock)
    assert api("update_status", {}, session=other).body["status"] is False


def test_a_blocked_user_cannot_read_the_log_but_an_operator_can(api, user_id_of):
    api.sign_up()
    credential = api.session_for()
    assert api("update_status", {}, session=credential).status == 200
    assert_error(api("list_logs", session=credential), 401, "user_blocked")
    listed = api("users_list_logs", path={"userId": user_id_of(credential)}, headers=key_headers("users.read"))
    assert listed.status == 200 and listed.body["total"] == 2


def test_the_users_log_route_needs_users_read_and_a_known_user(api):
    assert_error(api("users_list_logs", path={"userId": "nobody"}, headers=key_headers()), 404, "user_not_found")
    denied = api("users_list_logs", path={"userId": "nobody"}, headers=key_headers("users.write"))
    assert_error(denied, 401, "general_unauthorized_scope")


def test_every_event_name_is_documented():
    from pathlib import Path

    documented = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    names = [value for name, value in vars(activity).items() if name.isupper() and isinstance(value, str)]
    assert {n for n in names if "." in n} <= {n for n in names if f"`{n}`" in documented}
