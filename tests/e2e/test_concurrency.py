"""Races over real HTTP against a local stack of this module's own (`fresh_server`): many requests spend one
secret at once (an MFA challenge, a recovery code, a TOTP step, an email-verification link, an email sign-in
code), sign up one email, or sign one user in; exactly one wins, and the losers get the documented answer.

What this proves, and what it does not. Each race's requests leave together (a Barrier, one connection each) and
really overlap at the HTTP layer: the server takes each on a thread of its own, and
`test_parallel_sign_ins_leave_at_most_ten_live_sessions` checks that all were in flight before the first answer
came back. But the local stack runs one handler invocation at a time (local/gateway.py `_invocation_lock`: one
Lambda container, and moto's conditional writes are not atomic across threads), so here the handlers meet the
store one after another, in whatever order the requests arrived. So these tests prove the end-to-end outcome of
a burst (single use, the loser's error, no loser counted as a wrong code where API.md §4.6 says so, the limits
of §5 holding, the session cap) through the whole HTTP path; that the conditional writes alone decide when all
requests read before any writes is proven in-process, by the forced interleavings of
tests/integration/test_mfa_challenges.py (AllReadFirst) and the `racing` tests of the integration suite.

The losers of a sign-in-code race are no guesses, whether they read the code before the winner's write (the
conditional write refuses them) or after it (the spent code is a tombstone until it expires).

Budget (per hour, on this server): `POST /account` 5 from 127.0.0.1 and 1 from each of 127.0.0.10-29; the
sign-in-code races use 127.0.0.4 and .5 for their per-IP limits; at most 10 MFA challenges per user (the §5 limit:
a code is raced over 8 challenges x 3 requests, not 20 challenges).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import requests

from tests.e2e.helpers import (
    ALLOWED_ORIGIN,
    PASSWORD,
    TIMEOUT,
    SourceAddressAdapter,
    assert_error,
    auth,
    credential_of,
    get_account,
    last_code,
    last_link,
    make_user,
    request,
    request_from,
    sign_in,
    unique_email,
)
from tests.e2e.test_mfa_attacks import (
    MAX_WRONG_CODES,
    Enrolled,
    challenge,
    complete,
    completed,
    enrol,
    half_signed_in,
    next_totp,
    refused,
    wrong_recovery_codes,
)
from tests.e2e.test_verification import link_query

RACERS = 20
FREE_FAILURES = 10  # consecutive wrong MFA answers of a user before MFA code checks lock (API.md §4.6)
LIMIT = 10  # the §5 limits raced into here
MAX_SESSIONS = 10
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Call:
    """One request of a race."""

    method: str
    path: str
    body: dict | None = None
    credential: str = ""
    source_ip: str = LOOPBACK


@dataclass(frozen=True)
class Answer:
    response: requests.Response
    sent: float  # time.monotonic() just before the request went out
    answered: float  # ... and once its answer was read

    @property
    def kind(self) -> tuple[int, str]:
        """The status, and the error type of an error ("" for a success)."""
        status = self.response.status_code
        return status, self.response.json()["type"] if status >= 400 else ""


def race(base: str, calls: Sequence[Call]) -> list[Answer]:
    """Send every call at once, each on a connection of its own; the answers, in call order."""
    start = threading.Barrier(len(calls), timeout=TIMEOUT)
    answers: list[Answer | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def send(index: int, call: Call) -> None:
        try:
            with requests.Session() as session:
                session.mount("http://", SourceAddressAdapter(call.source_ip))
                headers = auth(call.credential) if call.credential else {}
                start.wait()
                sent = time.monotonic()
                response = session.request(
                    call.method, f"{base}{call.path}", json=call.body, headers=headers, timeout=TIMEOUT
                )
                answers[index] = Answer(response, sent, time.monotonic())
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
            start.abort()

    threads = [threading.Thread(target=send, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    assert not errors, errors
    assert all(answers), "a racer did not finish"
    return [answer for answer in answers if answer]


def outcome(answers: Sequence[Answer]) -> Counter[tuple[int, str]]:
    return Counter(answer.kind for answer in answers)


def winner(answers: Sequence[Answer]) -> requests.Response:
    (won,) = [answer.response for answer in answers if answer.response.status_code < 400]
    return won


def assert_losers(answers: Sequence[Answer], status: int, type_: str) -> None:
    """Every loser got the same complete §2 error, byte for byte (429s carry the X-RateLimit-* trio)."""
    losers = [answer.response for answer in answers if answer.response.status_code == status]
    assert losers
    for response in losers:
        assert_error(response, status, type_)
        if status == 429:
            assert response.headers["X-RateLimit-Limit"] == str(LIMIT)
            assert response.headers["X-RateLimit-Remaining"] == "0"
            assert int(response.headers["X-RateLimit-Reset"]) > time.time()
    assert len({response.content for response in losers}) == 1


def assert_no_loser_was_counted(base: str, credential: str, user: Enrolled, right_code: str) -> None:
    """No loser counted as a wrong code (API.md §4.6: a lost race is no guess). The race's success reset the
    user's count; nine wrong recovery codes now bring it to 9, one short of the lock, so the right code is still
    accepted. Had one loser been counted, it would be a 429. Spends 2 challenges."""
    first, second = challenge(base, credential, "recoverycode"), challenge(base, credential, "recoverycode")
    wrong = wrong_recovery_codes(user, FREE_FAILURES - 1)
    for code in wrong[:MAX_WRONG_CODES]:
        refused(complete(base, credential, first, code))
    for code in wrong[MAX_WRONG_CODES:]:
        refused(complete(base, credential, second, code))
    completed(base, credential, second, right_code)


def passes_gate(base: str, credential: str) -> bool:
    """True when the session has its second factor; False when the MFA gate stops it."""
    response = get_account(base, auth(credential))
    if response.status_code == 200:
        return True
    assert_error(response, 401, "user_more_factors_required")
    return False


def puts(challenges: Sequence[tuple[str, str]], otp: str, per_challenge: int) -> list[Call]:
    """`per_challenge` completions of each (session credential, challenge id) with the same code."""
    return [
        Call("PUT", "/account/mfa/challenge", {"challengeId": challenge_id, "otp": otp}, credential)
        for credential, challenge_id in challenges
        for _ in range(per_challenge)
    ]


# --- MFA: one challenge, one recovery code, one TOTP step --------------------------------------------------------


def test_one_challenge_completes_once(fresh_server: str) -> None:
    """20 completions of one TOTP challenge with its right code: one 200, 19 identical 401s, none counted."""
    base = fresh_server
    user = enrol(base)
    credential = half_signed_in(base, user)
    challenge_id = challenge(base, credential, "totp")
    answers = race(base, puts([(credential, challenge_id)], next_totp(user), RACERS))
    assert outcome(answers) == {(200, ""): 1, (401, "user_invalid_token"): RACERS - 1}
    assert_losers(answers, 401, "user_invalid_token")
    assert winner(answers).json()["factors"] == ["password", "totp"]
    assert passes_gate(base, credential)
    assert_no_loser_was_counted(base, half_signed_in(base, user), user, user.recovery_codes[0])


def race_one_code(base: str, user: Enrolled, factor: str, otp: str) -> tuple[list[Answer], list[str]]:
    """2 half-signed-in sessions open 4 `factor` challenges each; 3 completions of each of the 8 race with the same
    code (24 in all: §5's 10 challenges per user and hour would not allow 20 of their own). Returns the answers
    and the sessions."""
    sessions = [half_signed_in(base, user) for _ in range(2)]
    challenges = [(credential, challenge(base, credential, factor)) for credential in sessions * 4]
    answers = race(base, puts(challenges, otp, 3))
    assert outcome(answers) == {(200, ""): 1, (401, "user_invalid_token"): 23}
    assert_losers(answers, 401, "user_invalid_token")
    assert sum(passes_gate(base, credential) for credential in sessions) == 1
    return answers, sessions


def test_one_recovery_code_is_spent_once(fresh_server: str) -> None:
    """24 completions of 8 challenges with one recovery code: one session gets through, the code is gone from
    the list, and no loser was counted as a wrong code."""
    base = fresh_server
    user = enrol(base)
    answers, sessions = race_one_code(base, user, "recoverycode", user.recovery_codes[0])
    assert winner(answers).json()["factors"] == ["password", "recoveryCode"]
    (through,) = [credential for credential in sessions if passes_gate(base, credential)]
    left = request("GET", base, "/account/mfa/recovery-codes", headers=auth(through))  # needs a recent challenge
    assert left.status_code == 200 and left.json()["recoveryCodes"] == user.recovery_codes[1:], left.text
    stuck = next(credential for credential in sessions if credential != through)
    assert_no_loser_was_counted(base, stuck, user, user.recovery_codes[1])


def test_one_totp_step_is_accepted_once(fresh_server: str) -> None:
    """24 completions of 8 challenges with one TOTP code (one time step): one is accepted, and no loser was
    counted as a wrong code."""
    base = fresh_server
    user = enrol(base)
    answers, sessions = race_one_code(base, user, "totp", next_totp(user))
    assert winner(answers).json()["factors"] == ["password", "totp"]
    stuck = next(credential for credential in sessions if not passes_gate(base, credential))
    assert_no_loser_was_counted(base, stuck, user, user.recovery_codes[0])


# --- codes and links sent to an address --------------------------------------------------------------------------


def test_one_verification_link_is_spent_once(fresh_server: str, steady_rate_window: None) -> None:
    """20 PUTs of one email-verification link: one 200; of the rest, the 9 that §5's 10 confirmations per user
    allow get 401, the other 10 get 429. The email ends verified."""
    base = fresh_server
    user = make_user(base)
    credential = sign_in(base, user.email)
    asked = request("POST", base, "/account/verification", {"url": f"{ALLOWED_ORIGIN}/verify"}, auth(credential))
    assert asked.status_code == 201, asked.text
    query = link_query(last_link(base, user.email))
    body = {"userId": query["userId"], "secret": query["secret"]}
    answers = race(base, [Call("PUT", "/account/verification", body)] * RACERS)
    expected = {(200, ""): 1, (401, "user_invalid_token"): LIMIT - 1, (429, "general_rate_limit_exceeded"): LIMIT}
    assert outcome(answers) == expected
    assert_losers(answers, 401, "user_invalid_token")
    assert_losers(answers, 429, "general_rate_limit_exceeded")
    assert winner(answers).json()["userId"] == user.id
    assert get_account(base, auth(credential)).json()["emailVerification"] is True


def race_sign_in_code(base: str, racers: int, source_ip: str) -> tuple[str, list[Answer]]:
    """A new account asks for an email sign-in code; `racers` exchanges of it race, all from `source_ip` (the
    per-IP limits of §5 are the test's own). Returns the user id and the answers."""
    email = unique_email()
    token = request_from(source_ip, "POST", base, "/account/tokens/email", {"userId": "unique()", "email": email})
    assert token.status_code == 201, token.text
    user_id = token.json()["userId"]
    body = {"userId": user_id, "secret": last_code(base, email)}
    return user_id, race(base, [Call("POST", "/account/sessions/token", body, source_ip=source_ip)] * racers)


def test_one_sign_in_code_makes_one_session(fresh_server: str, steady_rate_window: None) -> None:
    """20 exchanges of one emailed sign-in code: one 201; of the rest, the 9 that §5's 10 per userId allow get
    401, the other 10 get 429. The user has exactly one session."""
    base = fresh_server
    user_id, answers = race_sign_in_code(base, RACERS, "127.0.0.4")
    expected = {(201, ""): 1, (401, "user_invalid_token"): LIMIT - 1, (429, "general_rate_limit_exceeded"): LIMIT}
    assert outcome(answers) == expected
    assert_losers(answers, 401, "user_invalid_token")
    assert_losers(answers, 429, "general_rate_limit_exceeded")
    won = winner(answers)
    assert won.json()["userId"] == user_id and won.json()["factors"] == ["email"]
    sessions = request("GET", base, "/account/sessions", headers=auth(credential_of(won)))
    assert sessions.status_code == 200 and sessions.json()["total"] == 1, sessions.text


def test_losers_of_a_sign_in_code_race_are_not_counted_as_wrong_codes(fresh_server: str) -> None:
    """10 exchanges of one sign-in code (a double-click, an SDK retry, ...): the 9 losers are no guesses, so after
    them one real wrong code (on the phone's verification code) is the user's first, far from a burn (the 5th
    consecutive wrong code without a session burns the live codes), and the right code verifies the phone. The
    spent code stays as a tombstone until it expires, so a loser arriving after the winner's write is known as a
    double submit (API.md §7). Had the 9 losers counted (as they once did), the count would stand at 4 after a
    burn at 5, the wrong code would be the next 5th and burn the phone's code, and the right one would get 401
    (under the older lock rule: 429)."""
    base = fresh_server
    user_id, answers = race_sign_in_code(base, LIMIT, "127.0.0.5")
    assert outcome(answers) == {(201, ""): 1, (401, "user_invalid_token"): LIMIT - 1}
    credential = credential_of(winner(answers))
    phone = "+14155552671"
    added = request("PATCH", base, "/account/phone", {"phone": phone, "password": ""}, auth(credential))
    assert added.status_code == 200, added.text
    assert request("POST", base, "/account/verification/phone", {}, auth(credential)).status_code == 201
    code = last_code(base, phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    confirm = "/account/verification/phone"
    assert_error(request("PUT", base, confirm, {"userId": user_id, "secret": wrong}), 401, "user_invalid_token")
    confirmed = request("PUT", base, confirm, {"userId": user_id, "secret": code})
    assert confirmed.status_code == 200, confirmed.text


# --- sign-up and sign-in -----------------------------------------------------------------------------------------


def test_parallel_sign_ups_with_one_email_make_one_account(fresh_server: str) -> None:
    """20 sign-ups with one email, each from its own IP (so the per-IP limit decides nothing) and with its own
    password: one 201, 19 x 409; the account is the winner's (its password signs in, a loser's does not)."""
    base = fresh_server
    email = unique_email()
    passwords = [f"{PASSWORD} {n}" for n in range(RACERS)]
    body = {"userId": "unique()", "email": email}
    calls = [
        Call("POST", "/account", {**body, "password": password}, source_ip=f"127.0.0.{10 + n}")
        for n, password in enumerate(passwords)
    ]
    answers = race(base, calls)
    assert outcome(answers) == {(201, ""): 1, (409, "user_already_exists"): RACERS - 1}
    assert_losers(answers, 409, "user_already_exists")
    (won,) = [n for n, answer in enumerate(answers) if answer.response.status_code == 201]
    account = answers[won].response.json()
    signed_in = request("POST", base, "/account/sessions/email", {"email": email, "password": passwords[won]})
    assert signed_in.status_code == 201 and signed_in.json()["userId"] == account["$id"], signed_in.text
    loser = passwords[(won + 1) % RACERS]
    refused_sign_in = request("POST", base, "/account/sessions/email", {"email": email, "password": loser})
    assert_error(refused_sign_in, 401, "user_invalid_credentials")


def test_parallel_sign_ins_leave_at_most_ten_live_sessions(fresh_server: str) -> None:
    """25 sign-ins of one user at once: all succeed (each success resets the per-email count of §5), and only
    the 10 newest sessions are live. Also checks that the requests really overlapped: all 25 were sent before
    the first answer came back (each sign-in verifies an Argon2 hash, and invocations run one at a time)."""
    base = fresh_server
    user = make_user(base)
    body = {"email": user.email, "password": user.password}
    answers = race(base, [Call("POST", "/account/sessions/email", body)] * 25)
    assert max(answer.sent for answer in answers) < min(answer.answered for answer in answers)
    assert outcome(answers) == {(201, ""): 25}
    live = {
        answer.response.json()["$id"]
        for answer in answers
        if get_account(base, auth(credential_of(answer.response))).status_code == 200
    }
    newest = sorted(answers, key=lambda answer: answer.response.json()["$createdAt"])[-MAX_SESSIONS:]
    assert live == {answer.response.json()["$id"] for answer in newest}
    listed = request("GET", base, "/account/sessions", headers=auth(credential_of(newest[-1].response)))
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == MAX_SESSIONS
    assert {session["$id"] for session in listed.json()["sessions"]} == live
