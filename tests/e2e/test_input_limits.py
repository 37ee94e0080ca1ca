"""Input limits and message neutralisation of API.md §7 over HTTP: issue 15's findings 6, 7 and 8 as the
review reproduced them, the cross-site cookie write without Origin, and more malformed input.

Runs against a server of its own, started with a Users API key (`--api-key`). Budget (one IP, per hour):
4 x `POST /account`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.helpers import (
    COOKIE,
    PASSWORD,
    TIMEOUT,
    LocalStack,
    User,
    assert_error,
    last_link,
    last_message,
    make_user,
    request,
    sign_in,
    sign_up,
    unique_email,
)

DEEP = "[" * 1000 + "]" * 1000  # past Python's recursion limit
HUGE_NUMBER = "9" * 4400  # past Python's int max str digits (4300)
JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, dict[str, str]]]:
    """(endpoint, headers with a users.read key) of a local stack of this module's own."""
    server = LocalStack(["--port", "0", "--api-key", "desk:users.read"])
    try:
        base = server.wait_ready()
        key = next(line.partition(": ")[2] for line in server.lines if line.startswith("API key desk"))
        yield base, {"X-Appwrite-Key": key}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def base(stack: tuple[str, dict[str, str]]) -> str:
    return stack[0]


@pytest.fixture(scope="module")
def user(base: str) -> User:
    """Sign-up #1: an account with a live session, for the tests that do not change it for good."""
    made = make_user(base, name="Limits")
    made.credential = sign_in(base, made.email)
    return made


def raw(method: str, base: str, path: str, text: str, headers: dict[str, str] | None = None) -> requests.Response:
    """A request whose body is exactly `text` (JSON escapes such as \\ud800 kept as written)."""
    return requests.request(
        method, f"{base}{path}", data=text.encode(), headers={**JSON_TYPE, **(headers or {})}, timeout=TIMEOUT
    )


def credential_of_json(text: str) -> str:
    """A session credential (base64 of JSON) holding `text` as its JSON."""
    return base64.b64encode(text.encode()).decode()


# --- finding 6: stored prefs poison -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"prefs":{"k":"\\ud800"}}',  # a lone surrogate
        '{"prefs":' + '{"a":' * 900 + "1" + "}" * 900 + "}",  # ~900-deep nesting
        '{"prefs":{"k":"a\\u0000b"}}',  # NUL
    ],
    ids=["lone-surrogate", "deep-nesting", "nul"],
)
def test_finding_6_poisoned_prefs_are_refused_and_every_account_answer_stays_whole(
    stack: tuple[str, dict[str, str]], user: User, body: str
) -> None:
    base, key = stack
    session = {"X-Appwrite-Session": user.credential}
    assert_error(raw("PATCH", base, "/account/prefs", body, session), 400, "general_argument_invalid")
    account = request("GET", base, "/account", headers=session)
    assert account.status_code == 200, account.text
    assert account.json()["prefs"] == {}
    assert request("GET", base, "/account/prefs", headers=session).json() == {}
    listed = request("GET", base, "/users", headers=key)
    assert listed.status_code == 200, listed.text
    assert user.id in {listed_user["$id"] for listed_user in listed.json()["users"]}
    one = request("GET", base, f"/users/{user.id}", headers=key)
    assert one.status_code == 200, one.text
    assert one.json()["prefs"] == {}


def test_prefs_are_at_most_64_kb(base: str, user: User) -> None:
    session = {"X-Appwrite-Session": user.credential}
    fits = {"prefs": {"k": "x" * 65_000}}
    assert request("PATCH", base, "/account/prefs", fits, session).status_code == 200
    too_big = {"prefs": {"k": "x" * 65_536}}
    assert_error(request("PATCH", base, "/account/prefs", too_big, session), 400, "general_argument_invalid")
    assert request("PATCH", base, "/account/prefs", {"prefs": {}}, session).status_code == 200


# --- finding 7: anonymous 500s ----------------------------------------------------------------------------------


def _ordinary_401(base: str) -> dict:
    """What GET /account answers without any credential."""
    return assert_error(request("GET", base, "/account"), 401, "general_unauthorized_scope")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Fallback-Cookies": f'{{"{COOKIE}":{DEEP}}}'},
        {"X-Fallback-Cookies": DEEP},
        {"X-Appwrite-Session": credential_of_json('{"id":' + DEEP + ',"secret":"s"}')},
        {"X-Appwrite-Session": credential_of_json(DEEP)},
        {"X-Appwrite-Session": credential_of_json('{"id":' + HUGE_NUMBER + ',"secret":"s"}')},
        {"X-Appwrite-Session": credential_of_json('{"id":"\\ud800","secret":"\\u0000"}')},
        {"Cookie": f"{COOKIE}={credential_of_json(DEEP)}"},
    ],
    ids=["fallback-deep-value", "fallback-deep", "credential-deep-id", "credential-deep", "credential-huge-number",
         "credential-surrogate-nul", "cookie-deep"],
)  # fmt: skip
def test_finding_7_junk_in_a_credential_is_the_ordinary_401(base: str, headers: dict[str, str]) -> None:
    ordinary = _ordinary_401(base)
    assert assert_error(request("GET", base, "/account", headers=headers), 401, ordinary["type"]) == ordinary


@pytest.mark.parametrize(
    "body",
    [
        '{"email":' + DEEP + ',"password":"x"}',
        DEEP,
        '{"email":"a@example.com","password":' + HUGE_NUMBER + "}",
        '{"email":"a@example.com","password":"x","duration":1e999}',
        '{"email":"a@example.com","password":"x","duration":NaN}',
        '{"email":"a@example.com","password":"x","duration":' + "1" * 21 + "}",
        '{"email":"a\\u0000@example.com","password":"x"}',
        '{"email":"a@example.com","password":"\\udc00"}',
        '{"\\ud800":1}',
    ],
    ids=["nested", "nested-top", "huge-number", "infinite", "nan", "21-digits", "nul", "lone-surrogate",
         "surrogate-key"],
)  # fmt: skip
def test_finding_7_junk_in_a_body_is_a_400(base: str, body: str) -> None:
    assert_error(raw("POST", base, "/account/sessions/email", body), 400, "general_argument_invalid")


def test_a_body_larger_than_any_route_takes_is_a_400(base: str, user: User) -> None:
    session = {"X-Appwrite-Session": user.credential}
    pretty = json.dumps({"prefs": {str(i): "x" * 50 for i in range(1000)}}, indent=8)  # 64 KB compact, more pretty
    assert 65_535 < len(pretty) < 256 * 1024
    assert raw("PATCH", base, "/account/prefs", pretty, session).status_code == 200
    huge = '{"prefs":{"a":"' + "x" * 256 * 1024 + '"}}'
    assert_error(raw("PATCH", base, "/account/prefs", huge, session), 400, "general_argument_invalid")
    assert_error(raw("POST", base, "/account/sessions/email", "[]" * 3_000_000), 400, "general_argument_invalid")
    assert request("PATCH", base, "/account/prefs", {"prefs": {}}, session).status_code == 200


def test_limits_leave_ordinary_json_alone(base: str, user: User) -> None:
    """32 levels, 20 digits and paired surrogates (an emoji written as escapes) are fine."""
    session = {"X-Appwrite-Session": user.credential}
    nested = '{"a":' * 30 + "1" + "}" * 30  # levels 3 to 32: the body is level 1, prefs level 2
    body = '{"prefs":{"deep":' + nested + ',"n":' + "9" * 20 + ',"emoji":"\\ud83d\\ude00"}}'
    answer = raw("PATCH", base, "/account/prefs", body, session)
    assert answer.status_code == 200, answer.text
    assert answer.json()["prefs"]["emoji"] == "\U0001f600"
    assert_error(raw("PATCH", base, "/account/prefs", '{"prefs":{"deep":[' + nested + "]}}", session), 400,
                 "general_argument_invalid")  # fmt: skip
    assert request("PATCH", base, "/account/prefs", {"prefs": {}}, session).status_code == 200


# --- finding 8: phishing through our own mail -------------------------------------------------------------------


def test_finding_8_a_squatters_name_never_reaches_the_victims_inbox(base: str) -> None:
    """A squatter signs up with the victim's email and a name holding a newline and a URL, then asks for the
    verification email: it reaches the victim without the name."""
    victim = unique_email()
    name = "Ada. URGENT: verify at https://evil.example/login instead\nThanks"
    sign_up(base, victim, PASSWORD, name)
    squatter = {"X-Appwrite-Session": sign_in(base, victim)}
    sent = request("POST", base, "/account/verification", {"url": "http://localhost:3000/verify"}, squatter)
    assert sent.status_code == 201, sent.text
    message = last_message(base, victim)
    for part in (message["subject"], message["text"]):  # the text is what the HTML part shows
        for word in ("Ada", "URGENT", "evil", "Thanks"):
            assert word not in part, (word, part)
    assert last_link(base, victim).startswith("http://localhost:3000/verify?")


def _mfa_notice_to_verified_user(base: str, name: str) -> dict[str, str]:
    """The email telling a user (signed up with `name`, address verified) that MFA is now on."""
    email = unique_email()
    sign_up(base, email, PASSWORD, name)
    session = {"X-Appwrite-Session": sign_in(base, email)}
    sent = request("POST", base, "/account/verification", {"url": "http://localhost:3000/v"}, session)
    assert sent.status_code == 201, sent.text
    query = dict(part.split("=", 1) for part in last_link(base, email).split("?", 1)[1].split("&"))
    verified = request("PUT", base, "/account/verification", {"userId": query["userId"], "secret": query["secret"]})
    assert verified.status_code == 200, verified.text
    assert request("PATCH", base, "/account/mfa", {"mfa": True}, session).status_code == 200
    return last_message(base, email)


def test_a_verified_users_name_is_shown_on_one_line(base: str) -> None:
    """Once the address is verified the owner's own name greets them: one line, control characters gone."""
    assert "Hello Ada Lovelace,\n" in _mfa_notice_to_verified_user(base, "Ada\r\nLovelace\u202e")["text"]


def test_a_name_a_mail_client_could_make_a_link_of_is_not_shown(base: str) -> None:
    notice = _mfa_notice_to_verified_user(base, "Ada visit evil.example")
    assert "evil" not in notice["text"]
    assert "Hello" not in notice["text"]


# --- cookies and CSRF -------------------------------------------------------------------------------------------


def test_a_cookie_write_from_a_cross_site_page_without_origin_is_refused(base: str, user: User) -> None:
    cookie = {"Cookie": f"{COOKIE}={user.credential}"}
    cross_site = {**cookie, "Sec-Fetch-Site": "cross-site"}
    answer = request("PATCH", base, "/account/name", {"name": "Mallory"}, cross_site)
    assert_error(answer, 401, "general_unauthorized_scope")
    assert request("GET", base, "/account", headers=cross_site).json()["name"] == "Limits"  # a read is no CSRF
    for site in ("same-origin", "same-site", "none"):
        answer = request("PATCH", base, "/account/name", {"name": "Limits"}, {**cookie, "Sec-Fetch-Site": site})
        assert answer.status_code == 200, (site, answer.text)


# --- more malformed input ---------------------------------------------------------------------------------------


def test_email_local_parts_are_at_most_64_octets(base: str) -> None:
    for local in ("a" * 65, "é" * 33):  # 65 and 66 octets
        body = {"userId": "unique()", "email": f"{local}@example.com", "password": PASSWORD}
        assert_error(request("POST", base, "/account", body), 400, "general_argument_invalid")
        token = {"userId": "unique()", "email": f"{local}@example.com"}
        assert_error(request("POST", base, "/account/tokens/email", token), 400, "general_argument_invalid")


@pytest.mark.parametrize(
    "path",
    ["/users/%00", "/users/a%00b/sessions", "/users?search=%00", "/users?queries%5B%5D=%00",
     "/users?queries%5B%5D=" + "%5B" * 1000, "/users?queries%5B%5D=%7B%22method%22%3A%22limit%22%2C%22values%22%3A%5B"
     + "9" * 4400 + "%5D%7D", "/users?%00=1"],
)  # fmt: skip
def test_junk_in_path_and_query_parameters_is_a_400(stack: tuple[str, dict[str, str]], path: str) -> None:
    base, key = stack
    assert_error(requests.get(f"{base}{path}", headers=key, timeout=TIMEOUT), 400, "general_argument_invalid")


def test_junk_in_an_account_path_parameter_is_a_400(base: str, user: User) -> None:
    session = {"X-Appwrite-Session": user.credential}
    assert_error(request("GET", base, "/account/sessions/%00", headers=session), 400, "general_argument_invalid")
    assert_error(request("DELETE", base, "/account/sessions/%00", headers=session), 400, "general_argument_invalid")
