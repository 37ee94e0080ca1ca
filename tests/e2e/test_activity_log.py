"""Issue 17 over HTTP with the Appwrite Python SDK 27: self-block (`Account.update_status`) and the activity log.

SDK 27 has no `list_logs` in `Account` or `Users` (Appwrite moved its logs out of those services); the routes keep
Appwrite's paths and LogList model, so an app calls them through the SDK's own transport, `Client.call`, with
`Query.limit` / `Query.offset` strings as the SDK sends every `queries` parameter.

Runs against a server of its own, started with a users key (`--api-key`). Budget (one IP, per hour):
2 x `POST /account`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.id import ID
from appwrite.models import User as AccountModel
from appwrite.query import Query
from appwrite.services.account import Account
from appwrite.services.users import Users

from tests.e2e.helpers import PASSWORD, PROJECT, LocalStack, sdk_client, sdk_raises, sign_in, unique_email


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, str]]:
    """(endpoint, a users.read/users.write key) of a local stack of its own."""
    server = LocalStack(["--port", "0", "--api-key", "desk:users.read,users.write"])
    try:
        base = server.wait_ready()
        key = next(line.partition(": ")[2] for line in server.lines if line.startswith("API key desk"))
        yield base, key
    finally:
        server.stop()


def logs_of(client: Client, path: str, *queries: str) -> dict[str, Any]:
    """GET a LogList through the SDK's transport, as its other list methods send `queries`."""
    params = {"queries": list(queries)} if queries else {}
    return client.call("get", path, {"content-type": "application/json"}, params)


def test_the_sdk_blocks_its_own_account_and_the_log_shows_it(stack):
    base, key = stack
    email = unique_email()
    user_id = Account(sdk_client(base)).create(user_id=ID.unique(), email=email, password=PASSWORD, name="Bo").id
    sdk_raises(
        lambda: Account(sdk_client(base)).create_email_password_session(email=email, password="not it"),
        401,
        "user_invalid_credentials",
    )
    first, second = sign_in(base, email), sign_in(base, email)
    me = sdk_client(base, first)

    listed = logs_of(me, "/account/logs")
    assert listed["total"] == 3
    assert [log["event"] for log in listed["logs"]] == ["session.create", "session.create", "session.create.failed"]
    failed = listed["logs"][2]
    assert (failed["userId"], failed["userEmail"], failed["userName"], failed["mode"]) == (user_id, email, "Bo", "user")
    assert failed["ip"] == "127.0.0.1" and failed["clientName"] == ""  # the SDK's User-Agent names no browser
    page = logs_of(me, "/account/logs", Query.limit(1), Query.offset(2))
    assert page["total"] == 3 and [log["event"] for log in page["logs"]] == ["session.create.failed"]

    blocked = Account(me).update_status()
    assert isinstance(blocked, AccountModel) and blocked.status is False and blocked.id == user_id
    for credential in (first, second):  # every session ended; its credential says why
        sdk_raises(Account(sdk_client(base, credential)).get, 401, "user_blocked")
    sdk_raises(
        lambda: Account(sdk_client(base)).create_email_password_session(email=email, password=PASSWORD),
        401,
        "user_blocked",
    )

    desk_client = Client().set_endpoint(base).set_project(PROJECT).set_key(key)
    trail = logs_of(desk_client, f"/users/{user_id}/logs", Query.limit(2))
    newest = trail["logs"][0]
    assert trail["total"] == 4 and (newest["event"], newest["mode"]) == ("user.update.status", "user")

    desk = Users(desk_client)
    assert desk.update_status(user_id=user_id, status=True).status is True
    sdk_raises(Account(sdk_client(base, first)).get, 401, "general_unauthorized_scope")  # no revival
    assert Account(sdk_client(base, sign_in(base, email))).get().status is True
    trail = logs_of(desk_client, f"/users/{user_id}/logs")
    assert [(log["event"], log["mode"]) for log in trail["logs"][:2]] == [
        ("session.create", "user"),
        ("user.update.status", "admin"),
    ]
    sdk_raises(lambda: logs_of(desk_client, "/users/nobody/logs"), 404, "user_not_found")
