"""Takeover with a stolen session (issue 15, findings 1 and 2; API.md §7), over real HTTP against a server of this
module's own (`fresh_server`): the sequences of legitimate calls the review used, and the ones found after it.

The thief holds the owner's session credential; some tests give them the password too. "The enrolling session" is
the owner's own session that set MFA up: through the gate (password + totp) but never challenged, which is what a
thief who copies a cookie usually gets. Budget (one IP, per hour, on this server): 7 x `POST /account`,
3 x `POST /account/tokens/email`, 3 x `POST /account/sessions/token`.
"""

from __future__ import annotations

from tests import rfc6238
from tests.e2e.helpers import (
    ALLOWED_ORIGIN,
    PASSWORD,
    assert_error,
    auth,
    code_sign_in,
    credential_of,
    get_account,
    last_code,
    last_link,
    request,
    sent_to,
    sign_in,
    sign_in_response,
    sign_up,
    unique_email,
)
from tests.e2e.test_mfa_attacks import Enrolled, challenge, completed, factors_of, half_signed_in, next_totp

OWNER_PHONE = "+14155552671"
THIEF_PHONE = "+442071838750"
CHALLENGE_REQUIRED = (401, "user_challenge_required")


def verify_email(base: str, credential: str, user_id: str, email: str) -> None:
    asked = request("POST", base, "/account/verification", {"url": f"{ALLOWED_ORIGIN}/verify"}, auth(credential))
    assert asked.status_code == 201, asked.text
    secret = last_link(base, email).split("secret=")[1].split("&")[0]
    confirmed = request("PUT", base, "/account/verification", {"userId": user_id, "secret": secret})
    assert confirmed.status_code == 200, confirmed.text


def verify_phone(base: str, credential: str, user_id: str, phone: str) -> None:
    moved = request("PATCH", base, "/account/phone", {"phone": phone, "password": PASSWORD}, auth(credential))
    assert moved.status_code == 200, moved.text
    asked = request("POST", base, "/account/verification/phone", {}, auth(credential))
    assert asked.status_code == 201, asked.text
    code = last_code(base, phone)
    confirmed = request("PUT", base, "/account/verification/phone", {"userId": user_id, "secret": code})
    assert confirmed.status_code == 200, confirmed.text


def owner(base: str, recovery_codes: bool = True, phone: str = "") -> Enrolled:
    """An owner with a password, a verified email (and `phone`, verified), a TOTP authenticator, optionally recovery
    codes, and MFA on; `credential` is the enrolling session (one of the module's sign-ups)."""
    email = unique_email()
    user_id = sign_up(base, email)["$id"]
    credential = sign_in(base, email)
    verify_email(base, credential, user_id, email)
    if phone:
        verify_phone(base, credential, user_id, phone)
    codes = []
    if recovery_codes:
        made = request("POST", base, "/account/mfa/recovery-codes", {}, auth(credential))
        assert made.status_code == 201, made.text
        codes = made.json()["recoveryCodes"]
    secret = enrol_totp(base, credential)
    enabled = request("PATCH", base, "/account/mfa", {"mfa": True}, auth(credential))
    assert enabled.status_code == 200, enabled.text
    return Enrolled(user_id, email, secret, codes, credential, "", rfc6238.step())


def enrol_totp(base: str, credential: str) -> str:
    created = request("POST", base, "/account/mfa/authenticators/totp", {}, auth(credential))
    assert created.status_code == 200, created.text
    secret = created.json()["secret"]
    verified = request("PUT", base, "/account/mfa/authenticators/totp", {"otp": rfc6238.totp(secret)}, auth(credential))
    assert verified.status_code == 200, verified.text
    return secret


def stepped_up(base: str, user: Enrolled) -> str:
    """A session the owner just signed in with and stepped up in (password, then a TOTP challenge): what a thief who
    copies a cookie right after the owner confirmed something holds."""
    credential = half_signed_in(base, user)
    completed(base, credential, challenge(base, credential, "totp"), next_totp(user))
    return credential


def change_email(base: str, credential: str, email: str, password: str = PASSWORD):
    return request("PATCH", base, "/account/email", {"email": email, "password": password}, auth(credential))


def code_sign_in_to(base: str, email: str) -> tuple[str, str]:
    """POST /account/tokens/email then POST /account/sessions/token with the emailed code: (userId, credential)."""
    token = request("POST", base, "/account/tokens/email", {"userId": "unique()", "email": email})
    assert token.status_code == 201, token.text
    user_id = token.json()["userId"]
    session = request("POST", base, "/account/sessions/token", {"userId": user_id, "secret": last_code(base, email)})
    assert session.status_code == 201, session.text
    return user_id, credential_of(session)


def intact(base: str, user: Enrolled, email: str) -> None:
    """The owner keeps everything: the enrolling session, MFA with its factors, and the password."""
    account = get_account(base, auth(user.credential))
    assert account.status_code == 200, account.text
    assert account.json()["mfa"] is True and account.json()["email"] == email
    factors = factors_of(base, user.credential)
    assert factors["totp"] is True and factors["recoveryCode"] is bool(user.recovery_codes)
    password = sign_in_response(base, email, PASSWORD)
    assert password.status_code == 201, password.text  # half signed in: the gate wants the owner's totp
    assert_error(get_account(base, auth(credential_of(password))), 401, "user_more_factors_required")


# --- finding 1: takeover by email swap ------------------------------------------------------------------------------


def test_finding_1_a_session_and_the_password_cannot_swap_the_email_of_an_mfa_account(fresh_server: str) -> None:
    """Issue 15 finding 1 as written: with a full session and the password, `PATCH /account/email` to the thief's
    address, then a code sign-in there. The change now needs a recent challenge; the thief's code sign-in lands in
    an account of their own, and the owner loses nothing."""
    base = fresh_server
    user = owner(base)
    thief_email = unique_email()
    assert_error(change_email(base, user.credential, thief_email), *CHALLENGE_REQUIRED)
    thief_id, _ = code_sign_in_to(base, thief_email)
    assert thief_id != user.id
    intact(base, user, user.email)
    assert all("changed" not in m["subject"] for m in sent_to(base, user.email))  # nothing changed, nothing told


def test_an_email_swap_after_a_step_up_wipes_nothing_and_tells_the_old_address(fresh_server: str) -> None:
    """The same sequence from a session that did step up (the thief copied it within the 10 minutes): the change
    goes through, but the old verified address is told, and the code sign-in to the address a signed-in session set
    wipes nothing: the owner's sessions, password, authenticator, recovery codes and MFA stay (API.md §7)."""
    base = fresh_server
    user = owner(base)
    stolen = stepped_up(base, user)
    thief_email = unique_email()
    told = len(sent_to(base, user.email))
    changed = change_email(base, stolen, thief_email)
    assert changed.status_code == 200, changed.text
    notices = sent_to(base, user.email)[told:]
    assert [m["subject"].startswith("Email address of your") for m in notices] == [True], notices
    assert thief_email not in notices[0]["text"]

    thief_id, thief = code_sign_in_to(base, thief_email)
    assert thief_id == user.id
    assert get_account(base, auth(thief)).status_code == 401  # email alone is one factor: the gate wants totp
    intact(base, user, thief_email)


# --- finding 2: a self-made factor satisfies the step-up ------------------------------------------------------------


def test_finding_2_a_session_cannot_make_itself_recovery_codes_while_mfa_is_on(fresh_server: str) -> None:
    """Issue 15 finding 2 as written: DELETE the authenticator (refused), make recovery codes, challenge with one of
    them, then DELETE and turn MFA off. Creating the codes now needs the step-up itself."""
    base = fresh_server
    user = owner(base, recovery_codes=False)
    stolen = user.credential
    assert_error(request("DELETE", base, "/account/mfa/authenticators/totp", {}, auth(stolen)), *CHALLENGE_REQUIRED)
    assert_error(request("POST", base, "/account/mfa/recovery-codes", {}, auth(stolen)), *CHALLENGE_REQUIRED)
    no_codes = request("POST", base, "/account/mfa/challenge", {"factor": "recoverycode"}, auth(stolen))
    assert_error(no_codes, 404, "user_recovery_codes_not_found")
    assert_error(request("DELETE", base, "/account/mfa/authenticators/totp", {}, auth(stolen)), *CHALLENGE_REQUIRED)
    assert_error(request("PATCH", base, "/account/mfa", {"mfa": False}, auth(stolen)), *CHALLENGE_REQUIRED)
    assert factors_of(base, stolen)["totp"] is True
    assert get_account(base, auth(stolen)).json()["mfa"] is True


def test_recovery_codes_a_session_made_itself_are_no_step_up_in_it(fresh_server: str) -> None:
    """With MFA off a session may make recovery codes (the owner is emailed), and a challenge with one completes (the
    gate counts it), but it is no step-up in that session: the owner's authenticator cannot be removed with them. A
    later session, which the codes are older than, may."""
    base = fresh_server
    user = owner(base, recovery_codes=False)
    owners = stepped_up(base, user)
    turned_off = request("PATCH", base, "/account/mfa", {"mfa": False}, auth(owners))
    assert turned_off.status_code == 200, turned_off.text
    stolen = sign_in(base, user.email)  # the thief's own sign-in with the password; MFA is off

    made = request("POST", base, "/account/mfa/recovery-codes", {}, auth(stolen))
    assert made.status_code == 201, made.text
    codes = made.json()["recoveryCodes"]
    # Codes planted while MFA is off would outlive the owner turning it on: the owner is told.
    assert sent_to(base, user.email)[-1]["subject"].startswith("Recovery codes created for your")
    completed(base, stolen, challenge(base, stolen, "recoverycode"), codes[0])
    assert_error(request("DELETE", base, "/account/mfa/authenticators/totp", {}, auth(stolen)), *CHALLENGE_REQUIRED)
    assert_error(request("GET", base, "/account/mfa/recovery-codes", headers=auth(stolen)), *CHALLENGE_REQUIRED)
    assert factors_of(base, stolen)["totp"] is True

    later = sign_in(base, user.email)
    completed(base, later, challenge(base, later, "recoverycode"), codes[1])
    removed = request("DELETE", base, "/account/mfa/authenticators/totp", {}, auth(later))
    assert removed.status_code == 204, removed.text


def test_an_authenticator_a_session_made_itself_is_no_step_up_in_it(fresh_server: str) -> None:
    """The TOTP variant: a session that enrolled the authenticator and then answers a TOTP challenge has not stepped
    up; and while MFA is on, no session may make a new authenticator (or codes) without a step-up."""
    base = fresh_server
    user = owner(base, recovery_codes=False)
    completed(base, user.credential, challenge(base, user.credential, "totp"), next_totp(user))
    assert_error(request("POST", base, "/account/mfa/recovery-codes", {}, auth(user.credential)), *CHALLENGE_REQUIRED)
    assert_error(request("PATCH", base, "/account/mfa", {"mfa": False}, auth(user.credential)), *CHALLENGE_REQUIRED)


def test_a_passwordless_mfa_account_keeps_its_email(fresh_server: str) -> None:
    """Finding 2's end on a passwordless account: the thief's session makes no codes, so cannot change the email."""
    base = fresh_server
    user = code_sign_in(base, unique_email())  # no password; the code verified the email
    enrol_totp(base, user.credential)
    assert request("PATCH", base, "/account/mfa", {"mfa": True}, auth(user.credential)).status_code == 200
    assert_error(request("POST", base, "/account/mfa/recovery-codes", {}, auth(user.credential)), *CHALLENGE_REQUIRED)
    assert_error(change_email(base, user.credential, unique_email(), ""), *CHALLENGE_REQUIRED)
    assert get_account(base, auth(user.credential)).json()["email"] == user.email


# --- other paths, found after the review ----------------------------------------------------------------------------


def test_a_session_and_the_password_cannot_change_the_password_of_an_mfa_account(fresh_server: str) -> None:
    """A password change ends every other session: with MFA on it needs a step-up, else a thief with the password
    would sign the owner out of everywhere and keep the account to themselves."""
    base = fresh_server
    user = owner(base, phone=OWNER_PHONE)
    owners_phone = half_signed_in(base, user)
    completed(base, owners_phone, challenge(base, owners_phone, "totp"), next_totp(user))
    body = {"password": "the thief's own password", "oldPassword": PASSWORD}
    assert_error(request("PATCH", base, "/account/password", body, auth(user.credential)), *CHALLENGE_REQUIRED)
    assert get_account(base, auth(owners_phone)).status_code == 200

    # The phone is a second factor too: swapping it needs the step-up; a stepped-up change texts the old phone.
    swap = {"phone": THIEF_PHONE, "password": PASSWORD}
    assert_error(request("PATCH", base, "/account/phone", swap, auth(user.credential)), *CHALLENGE_REQUIRED)
    texted = len(sent_to(base, OWNER_PHONE))
    changed = request("PATCH", base, "/account/phone", swap, auth(owners_phone))
    assert changed.status_code == 200, changed.text
    [notice] = sent_to(base, OWNER_PHONE)[texted:]
    assert notice["channel"] == "sms" and "phone number was changed" in notice["text"], notice


def test_a_stolen_session_is_no_password_oracle(fresh_server: str) -> None:
    """Without MFA the password guards address changes; a stolen session may try it 10 times an hour, not forever
    (and with MFA on, the step-up is asked first, so no answer says whether a password was right)."""
    base = fresh_server
    email = unique_email()
    sign_up(base, email)
    stolen = sign_in(base, email)
    for attempt in range(10):
        assert_error(change_email(base, stolen, unique_email(), f"guess {attempt}"), 401, "user_invalid_credentials")
    assert_error(change_email(base, stolen, unique_email(), PASSWORD), 429, "general_rate_limit_exceeded")
    assert get_account(base, auth(stolen)).json()["email"] == email
