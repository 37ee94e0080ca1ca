"""Server API keys (issue 9, API.md §6): checking them, and SSR sign-ins that reveal the session secret."""

from __future__ import annotations

import json
import os

import pytest

from authcore.clock import now_ms
from authcore.errors import ApiError
from authcore.services import apikeys
from authcore.store import apikeys as apikeys_store

from .conftest import PASSWORD, table_items
from .test_observability import stdout  # noqa: F401 (a fixture)

INVALID = {"type": "general_unauthorized_scope", "message": apikeys.INVALID_KEY}


@pytest.fixture
def key_for(api):
    """A stored key with these scopes (and expiry, epoch ms); returns the key string."""

    def make(*scopes: str, expire_ms: int = 0) -> str:
        return apikeys.create_key("ssr-app", list(scopes), expire_ms)[1]

    return make


def _error(answer) -> dict[str, str]:
    return {"type": answer.body["type"], "message": answer.body["message"]}


def test_a_key_is_stored_only_as_a_hash(key_for):
    key = key_for("sessions.write")
    key_id, secret = key.split(".")
    assert len(key_id) == 20 and len(secret) == 64  # 256 random bits
    (item,) = table_items("APIKEY#")
    assert item["pk"] == f"APIKEY#{key_id}" and item["sk"] == "KEY"
    assert item["name"] == "ssr-app" and item["scopes"] == ["sessions.write"] and item["expire"] == 0
    assert "ttl" not in item  # a key that never expires stays until revoked
    assert secret not in json.dumps(item, default=str) and item["hash"] != secret


def test_new_key_refuses_unknown_scopes_and_empty_names():
    with pytest.raises(ValueError, match="scopes"):
        apikeys.new_key("x", ["users.read", "teams.write"])
    with pytest.raises(ValueError, match="scopes"):
        apikeys.new_key("x", [])
    with pytest.raises(ValueError, match="name"):
        apikeys.new_key(" ", ["users.read"])


def test_ssr_password_sign_in_returns_the_credential_as_the_secret(api, key_for):
    api.sign_up()
    plain = api.sign_in()
    assert plain.status == 201 and plain.body["secret"] == ""
    key = key_for("sessions.write")
    ssr = api("create_email_password_session", {"email": "ada@example.com", "password": PASSWORD},
              headers={"X-Appwrite-Key": key})  # fmt: skip
    assert ssr.status == 201
    assert ssr.body["secret"] == ssr.credential  # what client.set_session() takes
    assert api("get_account", session=ssr.body["secret"]).status == 200


def test_ssr_code_sign_in_returns_the_credential_as_the_secret(api, sent, key_for):
    key = key_for("sessions.write")
    user_id = api("create_email_token", {"userId": "unique()", "email": "ada@example.com"}).body["userId"]
    body = {"userId": user_id, "secret": sent.code("ada@example.com")}
    answer = api("create_session", body, headers={"X-Nuvix-Key": key})
    assert answer.status == 201 and answer.body["secret"] == answer.credential
    assert api("get_account", session=answer.body["secret"]).status == 200


@pytest.mark.parametrize(
    "presented",
    ["not-a-key", "0" * 20 + "." + "0" * 64, "forged"],
    ids=["malformed", "unknown", "wrong secret"],
)
def test_a_wrong_key_is_refused_with_one_generic_message(api, key_for, presented):
    api.sign_up()
    if presented == "forged":  # a real key id with another secret
        presented = key_for("sessions.write").split(".")[0] + "." + "f" * 64
    answer = api("create_email_password_session", {"email": "ada@example.com", "password": PASSWORD},
                 headers={"X-Appwrite-Key": presented})  # fmt: skip
    assert answer.status == 401 and _error(answer) == INVALID


def test_expired_and_revoked_keys_are_refused(api, key_for):
    api.sign_up()
    body = {"email": "ada@example.com", "password": PASSWORD}
    expired = key_for("sessions.write", expire_ms=now_ms() - 1)
    assert _error(api("create_email_password_session", body, headers={"X-Appwrite-Key": expired})) == INVALID
    live = key_for("sessions.write", expire_ms=now_ms() + 3_600_000)
    assert api("create_email_password_session", body, headers={"X-Appwrite-Key": live}).status == 201
    assert apikeys_store.delete_key(live.split(".")[0])
    assert _error(api("create_email_password_session", body, headers={"X-Appwrite-Key": live})) == INVALID
    assert not apikeys_store.delete_key(live.split(".")[0])


def test_a_key_without_the_scope_is_refused_and_named(api, key_for):
    api.sign_up()
    key = key_for("users.read")
    answer = api("create_email_password_session", {"email": "ada@example.com", "password": PASSWORD},
                 headers={"X-Appwrite-Key": key})  # fmt: skip
    assert answer.status == 401
    assert _error(answer) == {
        "type": "general_unauthorized_scope",
        "message": "The key lacks the scope sessions.write.",
    }


def test_key_requests_are_rate_limited_per_key(api, key_for, monkeypatch, steady_rate_window):
    monkeypatch.setattr(apikeys, "RATE_LIMIT", 3)
    minute = apikeys.current_minute()
    monkeypatch.setattr(apikeys, "current_minute", lambda: minute)  # no turn of the minute mid-test
    api.sign_up()
    key, other = key_for("sessions.write"), key_for("sessions.write")
    body = {"email": "ada@example.com", "password": PASSWORD}
    for _ in range(3):
        assert api("create_email_password_session", body, headers={"X-Appwrite-Key": key}).status == 201
    limited = api("create_email_password_session", body, headers={"X-Appwrite-Key": key})
    assert limited.status == 429 and limited.header("X-RateLimit-Limit") == "3"
    assert limited.header("X-RateLimit-Reset") == str((minute + 1) * 60)
    assert api("create_email_password_session", body, headers={"X-Appwrite-Key": other}).status == 201


def test_the_request_log_names_the_key_never_shows_it(api, key_for, stdout):  # noqa: F811
    api.sign_up()
    key = key_for("sessions.write")
    stdout.readouterr()
    body = {"email": "ada@example.com", "password": PASSWORD}
    assert api("create_email_password_session", body, headers={"X-Appwrite-Key": key}).status == 201
    written = stdout.readouterr().out
    request = next(json.loads(line) for line in written.splitlines() if '"message":"request"' in line)
    assert request["keyName"] == "ssr-app"
    assert key.split(".")[1] not in written and key not in written


def test_the_deployer_cli_creates_lists_and_revokes_keys(aws_emulation, capsys):
    from admin import keys

    table = ["--table", os.environ["TABLE_NAME"]]
    create = ["create", *table, "--name", "ssr", "--scopes", "sessions.write", "--expires", "2999-01-01T00:00:00Z"]
    assert keys.main(create) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    key_id, secret = key.split(".")
    assert apikeys.authorize(key, "sessions.write").name == "ssr"
    assert keys.main(["list", *table]) == 0
    listed = capsys.readouterr().out
    assert key_id in listed and "sessions.write" in listed and "2999-01-01T00:00:00.000+00:00" in listed
    assert secret not in listed
    assert keys.main(["revoke", *table, key_id]) == 0
    assert keys.main(["revoke", *table, key_id]) == 1
    capsys.readouterr()
    assert keys.main(["list", *table]) == 0 and key_id not in capsys.readouterr().out
    with pytest.raises(ApiError):
        apikeys.authorize(key, "sessions.write")
    assert keys.main(["create", *table, "--name", "x", "--scopes", "teams.write"]) == 2


def test_an_expiring_key_is_removed_by_ttl_a_month_after_it_expires(key_for):
    expire = now_ms() + 3_600_000
    key_for("users.read", expire_ms=expire)
    (item,) = table_items("APIKEY#")
    assert item["expire"] == expire and item["ttl"] == expire // 1000 + 30 * 24 * 3600


def test_the_per_minute_count_restarts_after_an_idle_gap_and_the_key_item_never_grows(
    api, key_for, monkeypatch, dynamo_calls
):
    """Two count slots by the minute's parity: a slot left from two minutes ago is started afresh."""
    monkeypatch.setattr(apikeys, "RATE_LIMIT", 2)
    minute = {"now": 29_000_000}
    monkeypatch.setattr(apikeys, "current_minute", lambda: minute["now"])
    key = key_for("users.read")
    api.sign_up()

    def read() -> int:
        return api("users_list", query={}, headers={"X-Appwrite-Key": key}).status

    for now, expected in [(0, [200, 200, 429]), (1, [200, 200, 429]), (3, [200, 200, 429]), (5, [200])]:
        minute["now"] = 29_000_000 + now
        assert [read() for _ in expected] == expected, now
    # After the gap (minute 3 -> 5, same slot): one more call restarts the slot; otherwise one call.
    assert dynamo_calls.operations == ["UpdateItem", "UpdateItem", "Scan"]
    (item,) = table_items("APIKEY#")
    assert {name for name in item if name.startswith(("uses", "window"))} == {"uses1", "window1"}
    assert (item["window1"], item["uses1"]) == (29_000_005, 1)
