"""DynamoDB round trips per request (ARCHITECTURE.md §3 budget) and least-privilege IAM policies."""

import pytest

from tests.conftest import FUNCTIONS

from .conftest import PASSWORD

# Exact counts on the success path. Where ARCHITECTURE.md §3 sets a budget, the count is that budget.
EXPECTED = {
    "get_account": ["BatchGetItem"],  # budget 1 (gated read)
    "get_prefs": ["BatchGetItem"],  # budget 1 (gated read)
    "list_sessions": ["Query"],  # profile + every session in one query
    "get_session": ["Query"],
    "create_email_password_session": ["UpdateItem", "GetItem", "TransactWriteItems"],  # budget 3
    "create_account": ["UpdateItem", "TransactWriteItems"],  # ip limit, then profile + email index
    "update_name": ["BatchGetItem", "UpdateItem"],
    "update_prefs": ["BatchGetItem", "UpdateItem"],
    "update_email": ["BatchGetItem", "TransactWriteItems"],
    "update_phone": ["BatchGetItem", "TransactWriteItems"],
    "update_password": ["BatchGetItem", "UpdateItem", "TransactWriteItems"],  # user limit, then the change
    "update_session": ["Query", "TransactWriteItems"],
    "delete_session": ["Query", "TransactWriteItems"],
    "delete_sessions": ["Query", "TransactWriteItems"],
}


def test_round_trips_per_endpoint(api, dynamo_calls):
    api.sign_up()
    session = api.session_for()
    other = api.session_for()
    other_id = api("get_session", session=other, path={"sessionId": "current"}).body["$id"]
    requests = {
        "get_account": {},
        "get_prefs": {},
        "list_sessions": {},
        "get_session": {"path": {"sessionId": "current"}},
        "update_name": {"body": {"name": "Ada"}},
        "update_prefs": {"body": {"prefs": {"a": 1}}},
        "update_email": {"body": {"email": "new@example.com", "password": PASSWORD}},
        "update_phone": {"body": {"phone": "+14155552671", "password": PASSWORD}},
        "update_session": {"path": {"sessionId": "current"}},
        "delete_session": {"path": {"sessionId": other_id}},
        "update_password": {"body": {"password": "new password 123", "oldPassword": PASSWORD}},
    }
    for name, request in requests.items():
        answer = api(name, request.get("body"), session=session, path=request.get("path"))
        assert answer.status < 300, (name, answer.body)
        assert dynamo_calls.operations == EXPECTED[name], name

    assert api.sign_in("new@example.com", "new password 123").status == 201
    assert dynamo_calls.operations == EXPECTED["create_email_password_session"]
    assert api("delete_sessions", session=session).status == 204
    assert dynamo_calls.operations == EXPECTED["delete_sessions"]
    assert api.sign_up("grace@example.com")
    assert dynamo_calls.operations == EXPECTED["create_account"]


def test_unauthenticated_and_failed_requests_stay_cheap(api, dynamo_calls):
    assert api("get_account").status == 401
    assert dynamo_calls.operations == []  # no credential: no DynamoDB call at all
    api.sign_up()
    assert api.sign_in(password="wrong password").status == 401
    assert dynamo_calls.operations == ["UpdateItem", "GetItem"]


def _allowed_actions(function_name: str) -> set[str]:
    actions: set[str] = set()
    for policy in FUNCTIONS[function_name].policies:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions |= {a.removeprefix("dynamodb:") for a in listed if a.startswith("dynamodb:")}
    return actions


def test_policies_grant_exactly_what_the_handlers_use(api):
    """Run every handler through its paths, then compare the DynamoDB actions used with the template's policies."""
    api.sign_up()
    session, other = api.session_for(), api.session_for()
    api("create_email_password_session", session=session)  # the session-already-exists check
    other_id = api("get_session", session=other, path={"sessionId": "current"}).body["$id"]
    for name, body, path in [
        ("get_account", None, None),
        ("get_prefs", None, None),
        ("update_name", {"name": "A"}, None),
        ("update_prefs", {"prefs": {}}, None),
        ("update_email", {"email": "n@example.com", "password": PASSWORD}, None),
        ("update_phone", {"phone": "+14155552671", "password": PASSWORD}, None),
        ("list_sessions", None, None),
        ("get_session", None, {"sessionId": "current"}),
        ("update_session", None, {"sessionId": "current"}),
        ("delete_session", None, {"sessionId": other_id}),
        ("update_password", {"password": "new password 123", "oldPassword": PASSWORD}, None),
        ("delete_sessions", None, None),
    ]:
        assert api(name, body, session=session, path=path).status < 300, name
    for _ in range(10):  # fill the session cap so that sign-in evicts
        api.sign_in("n@example.com", "new password 123")
    for name, used in api.actions_by_function.items():
        assert used <= _allowed_actions(name), f"{name} uses {used - _allowed_actions(name)} beyond its policy"
    assert set(api.actions_by_function) == {name for name in FUNCTIONS if _allowed_actions(name)}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_function_gets_wildcard_dynamodb_rights(name):
    assert not any(a in ("*", "dynamodb:*") for a in _allowed_actions(name))
