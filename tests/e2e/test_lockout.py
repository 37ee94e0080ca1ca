"""Lockout by a stranger (issue 15, finding 9; API.md §7), over HTTP against a server of this module's own.

A stranger at one source address spends a path's whole per-(key, address) budget on the owner's account: that
address is refused from then on, the owner at another address is not. The local stack takes the client IP from
the TCP peer, so each party connects from its own loopback address (tests/e2e/helpers.py `request_from`).

Wrong well-formed codes without a session never lock: every 5th burns the owner's live codes instead
(docs/security.md §2), so a code the owner asks for afterwards works.

Budget (per hour, on this server): `POST /account` 6 and `POST /account/sessions/token` 4 from 127.0.0.1; the
strangers are 127.0.0.66 (each path's budget once), 127.0.0.67 (wrong sign-in codes against MFA), 127.0.0.69
(a burn of a live code) and 127.0.0.71 (a whole hour of wrong sign-in codes).
"""

from __future__ import annotations

import pytest
import requests

from tests.e2e.helpers import (
    PASSWORD,
    User,
    assert_error,
    auth,
    last_code,
    last_link,
    make_user,
    request_from,
    sign_in,
)
from tests.e2e.test_mfa_attacks import challenge, complete, enrol, half_signed_in, next_totp
from tests.e2e.test_verification import link_query

OWNER = "127.0.0.1"
STRANGER = "127.0.0.66"
PER_SOURCE = 10  # attempts per (key, source address) an hour (API.md §7)
URL = "http://localhost:3000/verified"
BURN_AFTER = 5  # consecutive wrong codes without a session that burn the user's live codes (docs/security.md §2)
PHONE = "+61293744000"


def from_stranger(base: str, method: str, path: str, body: dict) -> list[requests.Response]:
    """PER_SOURCE attempts, then one more, all from the stranger's address."""
    return [request_from(STRANGER, method, base, path, body) for _ in range(PER_SOURCE + 1)]


def ask_for_a_sign_in_code(base: str, owner: User) -> None:
    """The owner, from her own address, asks for an email sign-in code."""
    token = request_from(OWNER, "POST", base, "/account/tokens/email", {"userId": owner.id, "email": owner.email})
    assert token.status_code == 201, token.text


def sign_in_with_the_last_code(base: str, owner: User) -> None:
    """The owner signs in with the last code emailed to her: 201."""
    body = {"userId": owner.id, "secret": last_code(base, owner.email)}
    signed_in = request_from(OWNER, "POST", base, "/account/sessions/token", body)
    assert signed_in.status_code == 201, signed_in.text


def assert_spent_from_one_address(answers: list[requests.Response], status: int, type_: str) -> None:
    """The stranger's attempts are answered as usual until the address's budget is spent, then 429."""
    for answer in answers[:PER_SOURCE]:
        assert_error(answer, status, type_)
    assert_error(answers[PER_SOURCE], 429, "general_rate_limit_exceeded")
    assert answers[PER_SOURCE].headers["X-RateLimit-Limit"] == str(PER_SOURCE)


@pytest.fixture(scope="module")
def base(fresh_server: str) -> str:
    return fresh_server


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(base: str) -> None:
    owner = make_user(base)
    answers = from_stranger(base, "POST", "/account/sessions/email", {"email": owner.email, "password": "wrong pw"})
    assert_spent_from_one_address(answers, 401, "user_invalid_credentials")
    body = {"email": owner.email, "password": PASSWORD}
    signed_in = request_from(OWNER, "POST", base, "/account/sessions/email", body)
    assert signed_in.status_code == 201, signed_in.text


def test_malformed_codes_from_one_address_do_not_lock_code_sign_in(base: str) -> None:
    owner = make_user(base)
    ask_for_a_sign_in_code(base, owner)
    answers = from_stranger(base, "POST", "/account/sessions/token", {"userId": owner.id, "secret": "bad"})
    assert_spent_from_one_address(answers, 401, "user_invalid_token")
    sign_in_with_the_last_code(base, owner)


def test_bogus_link_secrets_from_one_address_do_not_lock_email_verification(base: str) -> None:
    owner = make_user(base)
    credential = sign_in(base, owner.email)
    asked = request_from(OWNER, "POST", base, "/account/verification", {"url": URL}, auth(credential))
    assert asked.status_code == 201, asked.text
    answers = from_stranger(base, "PUT", "/account/verification", {"userId": owner.id, "secret": "0" * 64})
    assert_spent_from_one_address(answers, 401, "user_invalid_token")
    query = link_query(last_link(base, owner.email))
    body = {"userId": query["userId"], "secret": query["secret"]}
    verified = request_from(OWNER, "PUT", base, "/account/verification", body)
    assert verified.status_code == 200, verified.text


def wrong_codes(base: str, source: str, user_id: str, count: int, start: int = 0) -> None:
    """`count` well-formed wrong sign-in codes for `user_id` from `source`: each a plain 401."""
    for n in range(start, start + count):
        body = {"userId": user_id, "secret": f"{n:06d}"}
        assert_error(request_from(source, "POST", base, "/account/sessions/token", body), 401, "user_invalid_token")


def test_a_whole_hour_of_wrong_codes_from_one_address_does_not_lock_code_sign_in(base: str) -> None:
    """Everything one address may send in an hour (10 well-formed wrong codes for the owner's userId) used to
    lock the owner's code sign-in (30 s, doubling to a day, for good at 100); now it only burns live codes."""
    owner = make_user(base)
    stranger = "127.0.0.71"
    wrong_codes(base, stranger, owner.id, PER_SOURCE)
    refused = request_from(stranger, "POST", base, "/account/sessions/token", {"userId": owner.id, "secret": "999999"})
    assert_error(refused, 429, "general_rate_limit_exceeded")  # the address's own limit, not a lock on the owner
    ask_for_a_sign_in_code(base, owner)
    sign_in_with_the_last_code(base, owner)


def test_a_code_issued_before_five_wrong_guesses_is_burned_and_presenting_it_is_no_guess(base: str) -> None:
    owner = make_user(base)
    credential = sign_in(base, owner.email)
    body = {"phone": PHONE, "password": PASSWORD}
    assert request_from(OWNER, "PATCH", base, "/account/phone", body, auth(credential)).status_code == 200
    stranger = "127.0.0.69"
    ask_for_a_sign_in_code(base, owner)
    before = last_code(base, owner.email)

    wrong_codes(base, stranger, owner.id, BURN_AFTER, start=100)  # the 5th burns the live code
    burned = request_from(OWNER, "POST", base, "/account/sessions/token", {"userId": owner.id, "secret": before})
    assert_error(burned, 401, "user_invalid_token")

    token = request_from(OWNER, "POST", base, "/account/tokens/phone", {"userId": owner.id, "phone": PHONE})
    assert token.status_code == 201, token.text
    fresh = last_code(base, PHONE)
    # Four more wrong codes: had the burned code counted as a guess, the 4th would be the 5th and burn this one too.
    wrong_codes(base, stranger, owner.id, BURN_AFTER - 1, start=200)
    signed_in = request_from(OWNER, "POST", base, "/account/sessions/token", {"userId": owner.id, "secret": fresh})
    assert signed_in.status_code == 201, signed_in.text


def test_wrong_sign_in_codes_from_a_stranger_never_lock_mfa(base: str) -> None:
    """The two counts of API.md §7: ten well-formed wrong sign-in codes count on the pre-auth count, which
    burns live codes and locks nothing (it used to lock code sign-in); password sign-in and the MFA
    challenge that completes it are untouched."""
    owner = enrol(base)
    wrong_codes(base, "127.0.0.67", owner.id, PER_SOURCE)
    body = {"userId": owner.id, "secret": "123456"}
    not_locked = request_from("127.0.0.68", "POST", base, "/account/sessions/token", body)
    assert_error(not_locked, 401, "user_invalid_token")  # code sign-in is not locked (it used to be 429)...
    credential = half_signed_in(base, owner)  # ...password sign-in is not...
    challenge_id = challenge(base, credential, "totp")
    answer = complete(base, credential, challenge_id, next_totp(owner))
    assert answer.status_code == 200, answer.text  # ...and neither is MFA
