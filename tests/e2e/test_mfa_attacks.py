"""Attacks on MFA (API.md §4.1, §4.6), over real HTTP against a server of this module's own (`fresh_server`):
guessing, replaying and racing codes, spending someone else's challenge, taking the sign-in's own factor as the
second one, and the sensitive actions a stolen session must not reach.

Every test enrols its own users, so no test's failure counter or used TOTP steps leak into another's. Budget of
this module (one IP, per hour, on its own server): 8 x `POST /account`, 3 x `POST /account/tokens/email`,
3 x `POST /account/sessions/token`; at most 4 challenges per user.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass

import requests

from tests import rfc6238
from tests.e2e.helpers import (
    COOKIE,
    TIMEOUT,
    User,
    assert_error,
    auth,
    code_sign_in,
    credential_of,
    get_account,
    last_code,
    request,
    sent_to,
    sign_in,
    sign_up,
    unique_email,
)

PARALLEL_PUTS = 20
MAX_WRONG_CODES = 5  # a challenge burns at the 5th wrong code
FREE_FAILURES = 10  # consecutive wrong codes of a user before code checks lock
FIRST_LOCK_S = 30
FACTORS = ("totp", "email", "phone", "recoveryCode", "custom", "passkey")  # custom: never served, always false


@dataclass
class Enrolled:
    """A user with a password, ten recovery codes, a verified TOTP authenticator and MFA on."""

    id: str
    email: str
    secret: str
    recovery_codes: list[str]
    credential: str  # the enrolling session: password + totp, and never a completed challenge
    enrol_code: str  # the TOTP code that verified the authenticator
    last_step: int  # the newest TOTP step the server accepted for this user


def enrol(base: str) -> Enrolled:
    """Sign up (one of the module's sign-ups) and set up every factor but email and phone."""
    email = unique_email()
    user_id = sign_up(base, email)["$id"]
    credential = sign_in(base, email)
    codes = request("POST", base, "/account/mfa/recovery-codes", {}, auth(credential))
    assert codes.status_code == 201, codes.text
    created = request("POST", base, "/account/mfa/authenticators/totp", {}, auth(credential))
    assert created.status_code == 200, created.text
    secret = created.json()["secret"]
    step = rfc6238.step()
    code = rfc6238.hotp(rfc6238.key_of(secret), step)
    verified = request("PUT", base, "/account/mfa/authenticators/totp", {"otp": code}, auth(credential))
    assert verified.status_code == 200, verified.text
    enabled = request("PATCH", base, "/account/mfa", {"mfa": True}, auth(credential))
    assert enabled.status_code == 200 and enabled.json()["mfa"] is True, enabled.text
    return Enrolled(user_id, email, secret, codes.json()["recoveryCodes"], credential, code, step)


def next_totp(user: Enrolled) -> str:
    """A code the server will accept once: a step after the last one used, within one step of now (waiting up to
    30 s when two steps were used within this one)."""
    now = rfc6238.step()
    step = max(user.last_step + 1, now)
    if step > now + 1:
        time.sleep((step - 1) * 30 - time.time() + 0.1)
    user.last_step = step
    return rfc6238.hotp(rfc6238.key_of(user.secret), step)


def wrong_totp_codes(user: Enrolled, count: int) -> list[str]:
    """Well-formed six-digit codes that match none of the steps the server could accept now (or soon)."""
    key, now = rfc6238.key_of(user.secret), rfc6238.step()
    valid = {rfc6238.hotp(key, step) for step in range(now - 3, now + 4)}
    chooser = random.SystemRandom()
    wrong: list[str] = []
    while len(wrong) < count:
        code = f"{chooser.randrange(10**6):06d}"
        if code not in valid and code not in wrong:
            wrong.append(code)
    return wrong


def wrong_recovery_codes(user: Enrolled, count: int) -> list[str]:
    """Well-formed recovery codes (16 lowercase hex) the user was not given."""
    wrong = [uuid.uuid4().hex[:16] for _ in range(count)]
    assert not set(wrong) & set(user.recovery_codes)
    return wrong


def half_signed_in(base: str, user: Enrolled) -> str:
    """A fresh password session of an MFA user: the gate stops it until a challenge is completed."""
    credential = sign_in(base, user.email)
    assert_error(get_account(base, auth(credential)), 401, "user_more_factors_required")
    return credential


def challenge(base: str, credential: str, factor: str) -> str:
    response = request("POST", base, "/account/mfa/challenge", {"factor": factor}, auth(credential))
    assert response.status_code == 201, response.text
    return response.json()["$id"]


def complete(base: str, credential: str, challenge_id: str, otp: str) -> requests.Response:
    return request("PUT", base, "/account/mfa/challenge", {"challengeId": challenge_id, "otp": otp}, auth(credential))


def completed(base: str, credential: str, challenge_id: str, otp: str) -> dict:
    response = complete(base, credential, challenge_id, otp)
    assert response.status_code == 200, response.text
    assert get_account(base, auth(credential)).status_code == 200
    return response.json()


def refused(response: requests.Response) -> bytes:
    """The 401 every dead challenge and wrong code gets; returns the body for byte comparison."""
    assert_error(response, 401, "user_invalid_token")
    return response.content


def factors_of(base: str, credential: str) -> dict[str, bool]:
    response = request("GET", base, "/account/mfa/factors", headers=auth(credential))
    assert response.status_code == 200, response.text
    return response.json()


# --- guessing --------------------------------------------------------------------------------------------------------


def test_fifth_wrong_code_burns_the_challenge(fresh_server: str) -> None:
    """Five wrong codes burn a challenge: the right code is refused on it afterwards, and works on a new one. Four
    wrong codes do not burn it."""
    base = fresh_server
    user = enrol(base)
    credential = half_signed_in(base, user)
    right = next_totp(user)

    burnt = challenge(base, credential, "totp")
    for code in wrong_totp_codes(user, MAX_WRONG_CODES):
        refused(complete(base, credential, burnt, code))
    refused(complete(base, credential, burnt, right))
    assert_error(get_account(base, auth(credential)), 401, "user_more_factors_required")

    # The code was right all along (the burn refused it, not the code): four wrong ones leave a challenge usable.
    survivor = challenge(base, credential, "totp")
    for code in wrong_totp_codes(user, MAX_WRONG_CODES - 1):
        refused(complete(base, credential, survivor, code))
    session = completed(base, credential, survivor, right)
    assert session["factors"] == ["password", "totp"]


def test_consecutive_wrong_codes_across_challenges_lock_code_checks(fresh_server: str) -> None:
    """The per-user count of wrong codes spans challenges (a new one does not reset it): after ten, even the right
    code on a fresh challenge gets 429 with X-RateLimit-Reset at the end of a 30 s lock."""
    base = fresh_server
    user = enrol(base)
    credential = half_signed_in(base, user)
    for _ in range(FREE_FAILURES // MAX_WRONG_CODES):
        burnt = challenge(base, credential, "recoverycode")
        for code in wrong_recovery_codes(user, MAX_WRONG_CODES):
            refused(complete(base, credential, burnt, code))

    fresh = challenge(base, credential, "recoverycode")
    locked = complete(base, credential, fresh, user.recovery_codes[0])
    assert_error(locked, 429, "general_rate_limit_exceeded")
    assert locked.headers["X-RateLimit-Remaining"] == "0"
    reset = int(locked.headers["X-RateLimit-Reset"])
    assert time.time() + FIRST_LOCK_S - 5 <= reset <= time.time() + FIRST_LOCK_S + 1, reset - time.time()
    assert_error(get_account(base, auth(credential)), 401, "user_more_factors_required")


# --- dead, foreign and replayed codes ------------------------------------------------------------------------------


def test_unknown_foreign_used_and_burnt_challenges_get_identical_401s(fresh_server: str) -> None:
    """No oracle: another user's challenge, a used one, a burnt one, an unknown id and a wrong code all get the same
    401 body, byte for byte, even when the code offered is valid; and nothing is spent by trying."""
    base = fresh_server
    ann, bob = enrol(base), enrol(base)
    ann_code, bob_code = ann.recovery_codes[1], bob.recovery_codes[0]

    ann_earlier = half_signed_in(base, ann)
    used = challenge(base, ann_earlier, "recoverycode")
    completed(base, ann_earlier, used, ann.recovery_codes[0])
    bob_session = half_signed_in(base, bob)
    foreign = challenge(base, bob_session, "recoverycode")

    attacker = half_signed_in(base, ann)  # Ann's fresh sign-in, offering codes that would work somewhere
    burnt = challenge(base, attacker, "recoverycode")
    wrong = refused(complete(base, attacker, burnt, wrong_recovery_codes(ann, 1)[0]))
    for code in wrong_recovery_codes(ann, MAX_WRONG_CODES - 1):
        refused(complete(base, attacker, burnt, code))
    bodies = {
        "wrong code": wrong,
        "foreign": refused(complete(base, attacker, foreign, bob_code)),
        "used": refused(complete(base, attacker, used, ann_code)),
        "burnt": refused(complete(base, attacker, burnt, ann_code)),
        "unknown": refused(complete(base, attacker, uuid.uuid4().hex[:20], ann_code)),
    }
    assert len(set(bodies.values())) == 1, bodies
    assert_error(get_account(base, auth(attacker)), 401, "user_more_factors_required")

    # Nothing was spent: Bob's challenge and code still work for Bob, Ann's unused code for Ann.
    completed(base, bob_session, foreign, bob_code)
    completed(base, attacker, challenge(base, attacker, "recoverycode"), ann_code)


def test_replayed_totp_code_is_refused_and_not_counted(fresh_server: str) -> None:
    """A TOTP step once accepted is never accepted again: not the enrolment's, not a challenge's. A replay is no
    guess, so it does not count against the user (it still uses one of that challenge's five attempts)."""
    base = fresh_server
    user = enrol(base)
    credential = half_signed_in(base, user)

    pending = challenge(base, credential, "totp")
    for _ in range(MAX_WRONG_CODES - 1):
        refused(complete(base, credential, pending, user.enrol_code))
    fresh = next_totp(user)
    completed(base, credential, pending, fresh)

    again = half_signed_in(base, user)
    refused(complete(base, again, challenge(base, again, "totp"), fresh))
    assert_error(get_account(base, auth(again)), 401, "user_more_factors_required")


def test_email_otp_session_cannot_take_an_email_challenge(fresh_server: str) -> None:
    """The factor that started a session cannot be its second factor: a session signed in by an emailed code gets
    400 for an email challenge (both paths, any case), nothing is emailed, and other factors stay available."""
    base = fresh_server
    user = code_sign_in(base, unique_email())  # POST /account/tokens/email, then /account/sessions/token
    session = request("GET", base, "/account/sessions/current", headers=auth(user.credential))
    assert session.status_code == 200 and session.json()["factors"] == ["email"], session.text
    messages = len(sent_to(base, user.email))

    def email_challenge_refused(path: str, factor: str) -> None:
        response = request("POST", base, path, {"factor": factor}, auth(user.credential))
        body = assert_error(response, 400, "general_argument_invalid")
        assert "email" in body["message"], body

    email_challenge_refused("/account/mfa/challenge", "email")
    email_challenge_refused("/account/mfa/challenges", "EMAIL")

    # Still so once the user has real MFA (a TOTP authenticator, MFA on); the TOTP factor is open to this session.
    created = request("POST", base, "/account/mfa/authenticators/totp", {}, auth(user.credential))
    assert created.status_code == 200, created.text
    otp = rfc6238.totp(created.json()["secret"])
    verified = request("PUT", base, "/account/mfa/authenticators/totp", {"otp": otp}, auth(user.credential))
    assert verified.status_code == 200, verified.text
    enabled = request("PATCH", base, "/account/mfa", {"mfa": True}, auth(user.credential))
    assert enabled.status_code == 200, enabled.text
    email_challenge_refused("/account/mfa/challenge", "email")
    assert len(sent_to(base, user.email)) == messages + 2  # only "authenticator added" and "MFA turned on"
    assert challenge(base, user.credential, "totp")


# --- what a stolen session must not reach ---------------------------------------------------------------------------


def test_sensitive_actions_need_a_recent_challenge_of_this_session(fresh_server: str) -> None:
    """Turning MFA off, removing the authenticator, reading or regenerating recovery codes: 401
    user_challenge_required for a fully signed-in session that completed no challenge, even when another session of
    the user just did, or only one with a factor it enrolled itself; the same actions succeed right after a session
    completes one with a factor older than itself."""
    base = fresh_server
    user = enrol(base)
    full = user.credential  # password + totp (from enrolling), through the gate, but never challenged
    assert get_account(base, auth(full)).status_code == 200

    def all_refused() -> None:
        for method, path, body in [
            ("PATCH", "/account/mfa", {"mfa": False}),
            ("DELETE", "/account/mfa/authenticators/totp", {}),
            ("GET", "/account/mfa/recovery-codes", None),
            ("PATCH", "/account/mfa/recovery-codes", {}),
        ]:
            assert_error(request(method, base, path, body, auth(full)), 401, "user_challenge_required")

    all_refused()
    other = half_signed_in(base, user)
    completed(base, other, challenge(base, other, "recoverycode"), user.recovery_codes[0])
    all_refused()  # a challenge completed by another session does not count for this one
    assert factors_of(base, full) == dict.fromkeys(FACTORS, False) | {"totp": True, "recoveryCode": True}
    assert get_account(base, auth(full)).json()["mfa"] is True

    completed(base, full, challenge(base, full, "totp"), next_totp(user))
    all_refused()  # this session enrolled the authenticator: a factor it made itself is no step-up (API.md §7)

    full = half_signed_in(base, user)  # a later sign-in, which the authenticator is older than
    completed(base, full, challenge(base, full, "totp"), next_totp(user))
    codes = request("GET", base, "/account/mfa/recovery-codes", headers=auth(full))
    assert codes.status_code == 200, codes.text
    assert codes.json() == {"recoveryCodes": user.recovery_codes[1:]}  # the unused ones only
    regenerated = request("PATCH", base, "/account/mfa/recovery-codes", {}, auth(full))
    assert regenerated.status_code == 200, regenerated.text
    fresh_codes = regenerated.json()["recoveryCodes"]
    assert len(fresh_codes) == 10 and not set(fresh_codes) & set(user.recovery_codes)
    removed = request("DELETE", base, "/account/mfa/authenticators/totp", {}, auth(full))
    assert removed.status_code == 204, removed.text
    disabled = request("PATCH", base, "/account/mfa", {"mfa": False}, auth(full))
    assert disabled.status_code == 200 and disabled.json()["mfa"] is False, disabled.text
    assert factors_of(base, full) == dict.fromkeys(FACTORS, False) | {"recoveryCode": True}


# --- racing ----------------------------------------------------------------------------------------------------------


def test_one_challenge_completes_once_under_parallel_puts(fresh_server: str) -> None:
    """20 threads PUT the same challenge with the right code at once: exactly one 200, the rest the same 401, and the
    recovery code is spent once.

    The local stack serialises handler invocations (one Lambda container), so over HTTP this proves single use
    (the first completion deletes the challenge, every later one finds it gone). True interleaving of the
    read-check-write is proven in-process by the integration suite."""
    base = fresh_server
    user = enrol(base)
    credential = half_signed_in(base, user)
    racing = challenge(base, credential, "recoverycode")
    body = {"challengeId": racing, "otp": user.recovery_codes[0]}
    start = threading.Barrier(PARALLEL_PUTS)
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def put() -> None:
        with requests.Session() as session:  # a connection of its own
            start.wait(timeout=TIMEOUT)
            response = session.put(
                f"{base}/account/mfa/challenge", json=body, cookies={COOKIE: credential}, timeout=TIMEOUT
            )
        with lock:
            answers.append((response.status_code, response.content))

    threads = [threading.Thread(target=put) for _ in range(PARALLEL_PUTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    assert len(answers) == PARALLEL_PUTS
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [401] * (PARALLEL_PUTS - 1), statuses
    assert len({content for status, content in answers if status == 401}) == 1
    assert get_account(base, auth(credential)).status_code == 200
    left = request("GET", base, "/account/mfa/recovery-codes", headers=auth(credential))
    assert left.status_code == 200 and left.json()["recoveryCodes"] == user.recovery_codes[1:], left.text


# --- lock-outs that were bugs -------------------------------------------------------------------------------------


def test_enabling_mfa_does_not_lock_out_the_session_that_enabled_it(fresh_server: str) -> None:
    base = fresh_server
    user = code_sign_in(base, unique_email())  # no password; the email is verified by the code
    # Email is its only verified factor, and it started this session: MFA on would lock the session (and every
    # later email-code sign-in, which may not take an email challenge) out, so it is refused.
    refused = request("PATCH", base, "/account/mfa", {"mfa": True}, auth(user.credential))
    assert_error(refused, 400, "general_argument_invalid")
    response = get_account(base, auth(user.credential))
    assert response.status_code == 200, response.text
    assert response.json()["mfa"] is False


def test_first_proof_of_an_email_drops_mfa_a_squatter_set_up(fresh_server: str) -> None:
    base = fresh_server
    squatter = enrol(base)  # signed up with someone else's address (never verified): password, TOTP, codes, MFA on
    token = request("POST", base, "/account/tokens/email", {"userId": "unique()", "email": squatter.email})
    assert token.status_code == 201 and token.json()["userId"] == squatter.id, token.text
    signed_in = request(
        "POST", base, "/account/sessions/token", {"userId": squatter.id, "secret": last_code(base, squatter.email)}
    )
    assert signed_in.status_code == 201, signed_in.text
    owner = User(id=squatter.id, email=squatter.email, password="", credential=credential_of(signed_in))
    # the pre-hijacking defence that exists: the squatter's session and password are gone
    assert_error(get_account(base, auth(squatter.credential)), 401, "general_unauthorized_scope")
    # the owner of the address is signed in, with no factor but the one they proved
    response = get_account(base, auth(owner.credential))
    assert response.status_code == 200, response.text
    assert factors_of(base, owner.credential) == dict.fromkeys(FACTORS, False) | {"email": True}
