"""Rate limits of API.md §5, exhausted on purpose against a server of this module's own (`fresh_server`),
so the other modules keep their budget."""

from __future__ import annotations

import time

import pytest
import requests

from tests.conftest import await_steady_rate_window
from tests.e2e.helpers import PASSWORD, assert_error, request, sign_in_response, unique_email

LIMIT = 10


def assert_rate_limited(response: requests.Response) -> int:
    """429 with the X-RateLimit-* trio; returns the reset time (unix seconds)."""
    assert_error(response, 429, "general_rate_limit_exceeded")
    assert response.headers.get("X-RateLimit-Limit") == str(LIMIT)
    assert response.headers.get("X-RateLimit-Remaining") == "0"
    reset = int(response.headers["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 3600 + 5
    return reset


def _sign_up(base: str, email: str) -> requests.Response:
    return request("POST", base, "/account", {"userId": "unique()", "email": email, "password": PASSWORD})


@pytest.fixture(scope="module")
def signed_up(fresh_server: str) -> list[str]:
    """The 10 sign-ups one IP may make in an hour (their emails). The whole module runs in
    one rate-limit window."""
    await_steady_rate_window(margin_seconds=120)
    emails = [unique_email() for _ in range(LIMIT)]
    for number, email in enumerate(emails, 1):
        response = _sign_up(fresh_server, email)
        assert response.status_code == 201, f"sign-up {number}: {response.text}"
    return emails


def test_eleventh_sign_up_from_one_ip_is_refused(fresh_server: str, signed_up: list[str]) -> None:
    email = unique_email()
    assert_rate_limited(_sign_up(fresh_server, email))
    # the refused sign-up created nothing
    assert_error(sign_in_response(fresh_server, email, PASSWORD), 401, "user_invalid_credentials")
    # the limit comes before any lookup: a taken email gets the same 429, not a 409
    assert_rate_limited(_sign_up(fresh_server, signed_up[0]))


def _password_limit(base: str, email: str) -> tuple[list[requests.Response], requests.Response]:
    """10 wrong passwords, then the right one."""
    failures = [sign_in_response(base, email, f"wrong password {i}") for i in range(LIMIT)]
    return failures, sign_in_response(base, email, PASSWORD)


def test_password_attempts_per_email(fresh_server: str, signed_up: list[str]) -> None:
    known = signed_up[1]
    unknown = unique_email()

    known_failures, known_final = _password_limit(fresh_server, known)
    for response in known_failures:
        assert_error(response, 401, "user_invalid_credentials")
    known_reset = assert_rate_limited(known_final)  # even with the right password
    assert "Set-Cookie" not in known_final.headers

    unknown_failures, unknown_final = _password_limit(fresh_server, unknown)
    for response in unknown_failures:
        assert_error(response, 401, "user_invalid_credentials")
    unknown_reset = assert_rate_limited(unknown_final)

    # no enumeration: the same answers for a known and an unknown email
    assert [r.content for r in known_failures] == [r.content for r in unknown_failures]
    assert known_final.content == unknown_final.content
    assert known_reset == unknown_reset

    # the limit is per email: another account signs in normally
    other = sign_in_response(fresh_server, signed_up[2], PASSWORD)
    assert other.status_code == 201, other.text


def test_a_success_resets_the_password_attempts(fresh_server: str, signed_up: list[str]) -> None:
    email = signed_up[3]
    for i in range(LIMIT - 1):
        assert_error(sign_in_response(fresh_server, email, f"wrong password {i}"), 401, "user_invalid_credentials")
    assert sign_in_response(fresh_server, email, PASSWORD).status_code == 201
    # the count started over: 9 more failures and another success are allowed
    for i in range(LIMIT - 1):
        assert_error(sign_in_response(fresh_server, email, f"wrong again {i}"), 401, "user_invalid_credentials")
    assert sign_in_response(fresh_server, email, PASSWORD).status_code == 201
