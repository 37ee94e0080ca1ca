"""API.md §7 input limits in every handler, and stored prefs an older version let through (issue 15, finding 6)."""

from __future__ import annotations

import base64
import json
import re

import pytest

from authcore.store import users as users_store
from tests.conftest import FUNCTIONS

from .admin_fixtures import key_headers

DEEP = "[" * 1000 + "]" * 1000
JUNK_BODIES = {
    "deep": '{"name":' + DEEP + "}",
    "33-levels": '{"prefs":' + '{"a":' * 32 + "1" + "}" * 32 + "}",
    "huge-number": '{"duration":' + "9" * 4400 + "}",
    "21-digits": '{"duration":' + "9" * 21 + "}",
    "infinite": '{"duration":1e999}',
    "nan": '{"duration":NaN}',
    "lone-surrogate": '{"name":"\\ud800"}',
    "nul": '{"name":"a\\u0000"}',
    "over-256-kb": '{"name":"' + "x" * 256 * 1024 + '"}',
}
JUNK_CREDENTIALS = {
    "deep-credential": {"X-Appwrite-Session": base64.b64encode(DEEP.encode()).decode()},
    "deep-in-credential": {
        "X-Appwrite-Session": base64.b64encode(('{"id":"u","secret":' + DEEP + "}").encode()).decode()
    },
    "deep-fallback": {"X-Fallback-Cookies": '{"a_session_default":' + DEEP + "}"},
    "huge-number-fallback": {"X-Fallback-Cookies": '{"a_session_default":' + "9" * 4400 + "}"},
}
# Functions a request reaches without any body or credential check first.
WITH_BODY_CHECK = sorted(set(FUNCTIONS) - {"cors_preflight"})


def _path(name: str) -> dict[str, str] | None:
    names = re.findall(r"\{(\w+)\+?\}", FUNCTIONS[name].routes[0][1])
    return {n: "x" for n in names} or None


@pytest.mark.parametrize("name", WITH_BODY_CHECK)
def test_every_handler_keeps_to_the_limits(api, name):
    """A body beyond the limits is a 400; junk in a credential or X-Fallback-Cookies is no credential (never a
    5xx; the sample's own body goes along, so anonymous functions may succeed); junk in a path parameter is a 400."""
    for kind, body in JUNK_BODIES.items():
        answer = api(name, body, headers={"Content-Type": "application/json"}, path=_path(name))
        assert (answer.status, answer.body["type"]) == (400, "general_argument_invalid"), (kind, answer.body)
        assert answer.body["message"].startswith("Invalid request body: "), (kind, answer.body)
    for kind, headers in JUNK_CREDENTIALS.items():
        answer = api(name, headers=headers, path=_path(name))
        assert answer.status < 500, (kind, answer.body)
        if name == "get_account":
            assert (answer.status, answer.body["type"]) == (401, "general_unauthorized_scope"), kind
    for junk in ("a\x00b", "\ud800") if _path(name) else ():
        answer = api(name, path={n: junk for n in _path(name)}, headers=key_headers())
        assert (answer.status, answer.body["type"]) == (400, "general_argument_invalid"), (junk, answer.body)


def test_junk_in_a_query_parameter_is_a_400(api):
    headers = key_headers()
    for query in ({"search": "\x00"}, {"queries[]": "\udc80"}, {"\x00": "1"}):
        answer = api("users_list", headers=headers, query=query)
        assert (answer.status, answer.body["type"]) == (400, "general_argument_invalid"), (query, answer.body)
    deep = api("users_list", headers=headers, query={"queries[]": DEEP})
    assert (deep.status, deep.body["type"]) == (400, "general_argument_invalid"), deep.body


POISONED_PREFS = {
    "lone-surrogate": '{"k":"\\ud800"}',
    "deep": '{"a":' * 900 + "1" + "}" * 900,
    "nul": '{"k":"\\u0000"}',
    "not-an-object": "[1]",
    "not-json": "{",
}


@pytest.mark.parametrize("stored", POISONED_PREFS.values(), ids=POISONED_PREFS.keys())
def test_prefs_an_older_version_stored_are_answered_as_empty_everywhere(api, stored):
    """As written by a version without the limits: every answer carrying the account stays a 200, with prefs {}
    (the stored text stays until the user sets new prefs)."""
    user_id = api.sign_up()["$id"]
    session = api.session_for()
    users_store.update_user(user_id, {"prefs": stored})
    key = key_headers("users.read", "users.write")

    answers = {
        "get_account": api("get_account", session=session),
        "update_name": api("update_name", {"name": "Ada"}, session=session),
        "users_get": api("users_get", path={"userId": user_id}, headers=key),
        "users_list": api("users_list", headers=key),
        "users_update_status": api("users_update_status", {"status": True}, path={"userId": user_id}, headers=key),
    }
    for name, answer in answers.items():
        assert answer.status == 200, (name, answer.body)
        accounts = answer.body["users"] if name == "users_list" else [answer.body]
        assert [account["prefs"] for account in accounts] == [{}], name
    prefs = api("get_prefs", session=session)
    assert (prefs.status, prefs.body) == (200, {})
    assert users_store.get_user(user_id)["prefs"] == stored

    assert api("update_prefs", {"prefs": {"theme": "dark"}}, session=session).body["prefs"] == {"theme": "dark"}
    assert json.loads(users_store.get_user(user_id)["prefs"]) == {"theme": "dark"}
