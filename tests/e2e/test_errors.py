"""Error answers of API.md §2 over plain HTTP, plus the date and id formats of §1.
Sign-up attempts #6-#8 of the budget (bad email, short password, duplicate email)."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from tests.e2e.helpers import (
    COOKIE,
    DATETIME,
    GENERATED_ID,
    PASSWORD,
    TIMEOUT,
    User,
    assert_error,
    auth,
    decode_credential,
    get_account,
    request,
    sign_in_response,
    unique_email,
)


def test_missing_parameter(base_url: str) -> None:
    response = request("POST", base_url, "/account/sessions/email", {"password": PASSWORD})
    body = assert_error(response, 400, "general_argument_invalid")
    assert body["message"] == 'Param "email" is not optional.'


def test_sign_up_with_a_bad_email(base_url: str) -> None:
    response = request(
        "POST", base_url, "/account", {"userId": "unique()", "email": "not-an-email", "password": PASSWORD}
    )
    body = assert_error(response, 400, "general_argument_invalid")
    assert body["message"].startswith("Invalid `email` param: "), body


def test_sign_up_with_a_short_password(base_url: str) -> None:
    response = request(
        "POST", base_url, "/account", {"userId": "unique()", "email": unique_email(), "password": "1234567"}
    )
    body = assert_error(response, 400, "general_argument_invalid")
    assert body["message"].startswith("Invalid `password` param: "), body
    assert "1234567" not in body["message"]  # never echo a secret


def test_sign_up_with_a_taken_email(base_url: str, shared_user: User) -> None:
    response = request(
        "POST", base_url, "/account", {"userId": "unique()", "email": shared_user.email, "password": PASSWORD}
    )
    assert_error(response, 409, "user_already_exists")


def test_wrong_password_and_unknown_email_answer_alike(base_url: str, shared_user: User) -> None:
    wrong = sign_in_response(base_url, shared_user.email, "not the password")
    unknown = sign_in_response(base_url, unique_email(), "not the password")
    assert_error(wrong, 401, "user_invalid_credentials")
    assert_error(unknown, 401, "user_invalid_credentials")
    assert wrong.content == unknown.content
    assert "Set-Cookie" not in wrong.headers and "Set-Cookie" not in unknown.headers
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Fallback-Cookies"):
        assert wrong.headers.get(name) == unknown.headers.get(name), name


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Cookie": f"{COOKIE}=garbage"},
        {"X-Appwrite-Session": "eyJpZCI6Im5vYm9keSIsInNlY3JldCI6Im5vdGhpbmcifQ=="},
        {"X-Fallback-Cookies": "not json"},
    ],
    ids=["nothing", "garbage cookie", "unknown credential", "bad fallback header"],
)
def test_no_session(base_url: str, headers: dict[str, str]) -> None:
    assert_error(get_account(base_url, headers), 401, "general_unauthorized_scope")


def test_fallback_cookie_of_another_project_is_ignored(base_url: str, shared_user: User) -> None:
    header = json.dumps({"a_session_other": shared_user.credential})
    assert_error(get_account(base_url, {"X-Fallback-Cookies": header}), 401, "general_unauthorized_scope")


def test_forged_credential_of_a_real_user(base_url: str, shared_user: User) -> None:
    """A credential naming a real user with a made-up secret is no session."""
    forged = base64.b64encode(json.dumps({"id": shared_user.id, "secret": "0" * 64}).encode()).decode()
    assert_error(get_account(base_url, {"X-Appwrite-Session": forged}), 401, "general_unauthorized_scope")


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("POST", "/nope/deeper"), ("PUT", "/account")])
def test_unknown_route(base_url: str, method: str, path: str) -> None:
    assert_error(request(method, base_url, path, {} if method != "GET" else None), 404, "general_route_not_found")


def test_malformed_json(base_url: str) -> None:
    response = requests.post(
        f"{base_url}/account/sessions/email",
        data=b'{"email": "a@example.com", "password": ',
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert_error(response, 400, "general_argument_invalid")


@pytest.mark.parametrize("body", [[], "a string", 42])
def test_body_must_be_an_object(base_url: str, body: object) -> None:
    assert_error(request("POST", base_url, "/account/sessions/email", body), 400, "general_argument_invalid")


@pytest.mark.parametrize("header", ["X-Appwrite-Project", "X-Nuvix-Project"])
def test_another_projects_header(base_url: str, shared_user: User, header: str) -> None:
    response = get_account(base_url, {**auth(shared_user.credential), header: "other"})
    assert_error(response, 404, "project_not_found")
    ours = get_account(base_url, {**auth(shared_user.credential), header: "default"})
    assert ours.status_code == 200, ours.text


def test_another_project_in_the_query(base_url: str, shared_user: User) -> None:
    response = request("GET", base_url, "/account?project=other", headers=auth(shared_user.credential))
    assert_error(response, 404, "project_not_found")
    ours = request("GET", base_url, "/account?project=default", headers=auth(shared_user.credential))
    assert ours.status_code == 200, ours.text


def test_another_project_on_sign_in(base_url: str, shared_user: User) -> None:
    response = sign_in_response(base_url, shared_user.email, PASSWORD, {"X-Appwrite-Project": "other"})
    assert_error(response, 404, "project_not_found")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("how", ["cookie", "X-Appwrite-Session", "X-Fallback-Cookies"])
def test_session_presented_while_signing_in(base_url: str, shared_user: User, how: str) -> None:
    credential = shared_user.credential
    headers = {
        "cookie": auth(credential),
        "X-Appwrite-Session": {"X-Appwrite-Session": credential},
        "X-Fallback-Cookies": {"X-Fallback-Cookies": json.dumps({COOKIE: credential})},
    }[how]
    response = sign_in_response(base_url, shared_user.email, PASSWORD, headers)
    assert_error(response, 401, "user_session_already_exists")
    assert "Set-Cookie" not in response.headers
    assert get_account(base_url, auth(credential)).status_code == 200


def test_dates_and_generated_ids(base_url: str, shared_user: User) -> None:
    account = shared_user.account
    assert GENERATED_ID.match(account["$id"]), account["$id"]  # signed up with userId "unique()"
    for key in ("$createdAt", "$updatedAt", "registration", "passwordUpdate", "accessedAt"):
        assert DATETIME.match(account[key]), (key, account[key])
    session = request("GET", base_url, "/account/sessions/current", headers=auth(shared_user.credential)).json()
    assert GENERATED_ID.match(session["$id"]), session["$id"]
    for key in ("$createdAt", "$updatedAt", "expire"):
        assert DATETIME.match(session[key]), (key, session[key])
    assert session["mfaUpdatedAt"] == ""  # an unset datetime
    credential = decode_credential(shared_user.credential)
    assert set(credential) == {"id", "secret"}
    assert credential["id"] == shared_user.id and credential["secret"]
