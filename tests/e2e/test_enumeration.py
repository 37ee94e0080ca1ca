"""No account enumeration through the answers of password sign-in, email-code and phone-code sign-in, over real HTTP
against a server of this module's own (`fresh_server`): for an address that has an account and one that has none,
the status, the headers and the body are the same, up to what varies by itself (Date, generated ids and times, the
X-RateLimit-Reset second), under the rate limits of API.md §5 too. Timing is not compared here (bench/ does).

The one legitimate difference: a Token's `userId` is the id of the account the code is for (services/otp.py), which
`POST /account/sessions/token` needs. For an address without an account that is a new account's id (the one the
client asked for, or a generated one); for an address with one, it is the existing account's id whatever the client
asked for. So a client that asks for an id of its own, or reads the creation time in a generated id's first 8 hex
digits, learns whether the address had an account (Appwrite answers the same way). The code itself only goes to the
address, and §5 bounds such probing: one message per address a minute, 10 per address and 10 per IP an hour.

Password recovery has no such difference: an email without an account gets a stand-in id shaped like a generated
one, the same for every ask (services/recovery.py).

Budget (per hour, on this server): `POST /account` 7 from 127.0.0.1; `POST /account/tokens/email` and `/phone`: 5
each from 127.0.0.1, and 12 from 127.0.0.2 (email) and 127.0.0.3 (phone); `POST /account/recovery` and `/otp`: 4
each from 127.0.0.4.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    ALLOWED_ORIGIN,
    DATETIME,
    GENERATED_ID,
    assert_error,
    auth,
    make_user,
    request,
    request_from,
    sent_to,
    sign_in,
    unique_email,
)

LIMIT = 10
COOLDOWN_S = 60
ORIGIN = {"Origin": ALLOWED_ORIGIN}  # as a browser sends it, so the CORS headers are compared too
_numbers = itertools.count(2600)


def unique_phone() -> str:
    """A never used, valid E.164 number (the server checks numbering plans)."""
    return f"+1415555{next(_numbers):04d}"


def shape(response: requests.Response) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and body with what varies by itself replaced by its kind: Date dropped, X-RateLimit-Reset
    as "<unix s>", generated ids as "<id>", times as "<datetime>". Every other value is kept as is."""
    headers = {name.lower(): value for name, value in response.headers.items() if name.lower() != "date"}
    if "x-ratelimit-reset" in headers:
        assert headers["x-ratelimit-reset"].isdigit(), headers
        headers["x-ratelimit-reset"] = "<unix s>"
    return response.status_code, headers, {key: _kind(value) for key, value in response.json().items()}


def _kind(value: Any) -> Any:
    if isinstance(value, str) and GENERATED_ID.match(value):
        return "<id>"
    if isinstance(value, str) and DATETIME.match(value):
        return "<datetime>"
    return value


def assert_alike(known: requests.Response, unknown: requests.Response) -> None:
    assert shape(known) == shape(unknown)


# --- password sign-in ------------------------------------------------------------------------------------------------


def test_password_sign_in_answers_alike_up_to_the_limit_and_past_it(
    fresh_server: str, steady_rate_window: None
) -> None:
    """Ten wrong passwords for an email with an account, and ten for one without: the same 401s, byte for byte and
    header for header; the 11th attempt of each gets the same 429 (even with the right password for the account)."""
    base = fresh_server
    user = make_user(base)
    unknown = unique_email()

    def attempt(email: str, password: str) -> requests.Response:
        return request("POST", base, "/account/sessions/email", {"email": email, "password": password}, ORIGIN)

    for n in range(LIMIT):
        known_answer, unknown_answer = attempt(user.email, f"wrong {n}"), attempt(unknown, f"wrong {n}")
        assert_error(known_answer, 401, "user_invalid_credentials")
        assert_alike(known_answer, unknown_answer)
        assert known_answer.content == unknown_answer.content
    known_answer, unknown_answer = attempt(user.email, user.password), attempt(unknown, user.password)
    assert_error(known_answer, 429, "general_rate_limit_exceeded")
    assert_alike(known_answer, unknown_answer)
    assert known_answer.headers["X-RateLimit-Reset"] == unknown_answer.headers["X-RateLimit-Reset"]


# --- sign-in codes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    path: str
    field: str
    fresh: Callable[[], str]  # an address no account has
    source_ip: str  # for the per-IP limit test, so that it spends no other test's budget


EMAIL = Channel("/account/tokens/email", "email", unique_email, "127.0.0.2")
PHONE = Channel("/account/tokens/phone", "phone", unique_phone, "127.0.0.3")


def with_account(base: str, channel: Channel) -> tuple[str, str]:
    """An address that has an account (signed up with a password; the phone added to it): (address, its user id)."""
    user = make_user(base)
    if channel is EMAIL:
        return user.email, user.id
    phone = unique_phone()
    changed = request(
        "PATCH", base, "/account/phone", {"phone": phone, "password": user.password}, auth(sign_in(base, user.email))
    )
    assert changed.status_code == 200, changed.text
    return phone, user.id


def ask_code(
    base: str, channel: Channel, address: str, user_id: str = "unique()", source_ip: str = "127.0.0.1"
) -> requests.Response:
    body = {"userId": user_id, channel.field: address}
    return request_from(source_ip, "POST", base, channel.path, body, ORIGIN)


@pytest.mark.parametrize("channel", [EMAIL, PHONE], ids=["email", "phone"])
def test_code_requests_answer_alike(fresh_server: str, channel: Channel) -> None:
    """Asking for a sign-in code for an address with an account and for one without: the same 201 Token shape; the
    second ask within a minute gets the same 429 (one message per address a minute). The client asks for an id of
    its own (20 hex digits, like a generated one): only the userId's value differs (see the module docstring)."""
    base = fresh_server
    known, account_id = with_account(base, channel)
    unknown = channel.fresh()
    asked_known, asked_unknown = uuid.uuid4().hex[:20], uuid.uuid4().hex[:20]

    known_answer = ask_code(base, channel, known, asked_known)
    unknown_answer = ask_code(base, channel, unknown, asked_unknown)
    assert known_answer.status_code == 201, known_answer.text
    assert_alike(known_answer, unknown_answer)
    assert set(known_answer.json()) == {"$id", "$createdAt", "userId", "secret", "expire", "phrase"}
    assert known_answer.json()["secret"] == "" and known_answer.json()["phrase"] == ""
    # the legitimate difference: the code is for the account that has the address
    assert known_answer.json()["userId"] == account_id
    assert unknown_answer.json()["userId"] == asked_unknown

    known_again, unknown_again = ask_code(base, channel, known), ask_code(base, channel, unknown)
    assert_error(known_again, 429, "general_rate_limit_exceeded")
    assert_alike(known_again, unknown_again)
    assert known_again.headers["X-RateLimit-Limit"] == "1"
    assert known_again.content == unknown_again.content


@pytest.mark.parametrize("channel", [EMAIL, PHONE], ids=["email", "phone"])
def test_code_requests_past_the_ip_limit_answer_alike(
    fresh_server: str, channel: Channel, steady_rate_window: None
) -> None:
    """Once an IP has asked for 10 codes in the hour, the next ask gets the same 429 for an address with an account
    and for one without; the refused ask created no account and sent nothing (from another IP, the address then
    gets a code for a new account, without waiting for the minute between messages)."""
    base = fresh_server
    known, _ = with_account(base, channel)
    unknown = channel.fresh()
    for _ in range(LIMIT):
        assert ask_code(base, channel, channel.fresh(), source_ip=channel.source_ip).status_code == 201
    known_answer = ask_code(base, channel, known, source_ip=channel.source_ip)
    unknown_answer = ask_code(base, channel, unknown, source_ip=channel.source_ip)
    assert_error(known_answer, 429, "general_rate_limit_exceeded")
    assert_alike(known_answer, unknown_answer)
    assert known_answer.headers["X-RateLimit-Limit"] == str(LIMIT)
    assert known_answer.headers["X-RateLimit-Reset"] == unknown_answer.headers["X-RateLimit-Reset"]
    assert known_answer.content == unknown_answer.content
    requested = uuid.uuid4().hex[:20]
    later = ask_code(base, channel, unknown, requested)
    assert later.status_code == 201 and later.json()["userId"] == requested, later.text
    assert len(sent_to(base, unknown)) == 1


# --- password recovery -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "extra"),
    [("/account/recovery", {"url": f"{ALLOWED_ORIGIN}/reset"}), ("/account/recovery/otp", {})],
    ids=["link", "code"],
)
def test_recovery_requests_answer_alike(fresh_server: str, path: str, extra: dict[str, str]) -> None:
    """Asking for a password reset for an email with an account and for one without: the same 201 Token, header for
    header, the userId included up to its value (a stand-in shaped like a generated id, the same on every ask); the
    second ask within a minute gets the same 429 byte for byte. Only the account's address gets an email."""
    base = fresh_server
    user = make_user(base)
    unknown = unique_email()

    def ask(email: str) -> requests.Response:
        return request_from("127.0.0.4", "POST", base, path, {"email": email, **extra}, ORIGIN)

    known_answer, unknown_answer = ask(user.email), ask(unknown)
    assert known_answer.status_code == 201, known_answer.text
    assert_alike(known_answer, unknown_answer)
    assert known_answer.json()["userId"] == user.id and unknown_answer.json()["userId"] != user.id
    known_again, unknown_again = ask(user.email), ask(unknown)
    assert_error(known_again, 429, "general_rate_limit_exceeded")
    assert_alike(known_again, unknown_again)
    assert known_again.content == unknown_again.content
    assert len(sent_to(base, user.email)) == 1 and sent_to(base, unknown) == []
