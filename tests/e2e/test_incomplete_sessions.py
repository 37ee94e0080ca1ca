"""Sessions that still need factors (API.md §7), over real HTTP against a server of this module's own
(`fresh_server`): what a thief holding only the password can do to the owner with the half-signed-in
sessions it gets. Issue 15, findings 3 (eviction), 4 (challenge budget) and 5 (deleting the owner's
session), the session-extension rule, and the rest of what such a session can reach.

Every test enrols its own user, so no test's sign-in counter, challenge limits or used TOTP steps leak into
another's. Budget of this module (one IP, per hour, on its own server): 7 x `POST /account`; at most 11
password sign-ins per user.
"""

from __future__ import annotations

import time

from tests.e2e.helpers import (
    PASSWORD,
    assert_error,
    auth,
    credential_of,
    get_account,
    iso_epoch,
    request,
    sign_in,
    sign_in_response,
)
from tests.e2e.test_mfa_attacks import Enrolled, challenge, completed, enrol, half_signed_in, next_totp

MAX_SESSIONS = 10
SIGN_IN_LIMIT = 10  # password sign-ins per email (and source address) per hour
CHALLENGE_LIMIT = 10  # totp / recoveryCode challenges per session per hour
INCOMPLETE_LIFETIME_S = 15 * 60
FULL_LIFETIME_S = 30 * 24 * 3600  # the template's default SessionLifetimeSeconds
SLACK_S = 60  # between our clock reading and the server's


def fully_signed_in(base: str, user: Enrolled) -> str:
    """A new session of the owner that passed the gate: password, then a TOTP challenge."""
    credential = half_signed_in(base, user)
    completed(base, credential, challenge(base, credential, "totp"), next_totp(user))
    return credential


def session_of(base: str, credential: str) -> dict:
    """The caller's own Session (GET /account/sessions/current is gated: complete sessions only)."""
    response = request("GET", base, "/account/sessions/current", headers=auth(credential))
    assert response.status_code == 200, response.text
    return response.json()


def signed_in(base: str, credential: str) -> bool:
    return get_account(base, auth(credential)).status_code == 200


# --- finding 3: a password alone evicts the owner --------------------------------------------------------------------


def test_password_only_sign_ins_never_end_the_owners_sessions(fresh_server: str) -> None:
    """Finding 3: ten password sign-ins that stop at user_more_factors_required, from a thief with the password,
    used to end the owner's fully signed-in session through the 10-session cap, and a successful password step
    reset the per-email counter so it repeated forever. Now the owner's session survives them (incomplete
    sessions go beyond the cap rather than end a complete one), and the 11th password-only sign-in is refused
    like an 11th wrong password."""
    base = fresh_server
    owner = enrol(base)  # one complete session (the enrolling one); its sign-in reset the counter
    thief = [half_signed_in(base, owner) for _ in range(SIGN_IN_LIMIT)]
    assert signed_in(base, owner.credential), "the owner was signed out"
    listed = request("GET", base, "/account/sessions", headers=auth(owner.credential)).json()
    assert listed["total"] == 1 + SIGN_IN_LIMIT

    limited = sign_in_response(base, owner.email, PASSWORD)
    assert_error(limited, 429, "general_rate_limit_exceeded")  # not reset by a password step that stops at the gate
    assert signed_in(base, owner.credential), "the owner was signed out"
    assert all(get_account(base, auth(c)).status_code == 401 for c in thief)


# --- finding 4: a half-signed-in session exhausts the owner's challenge budget ---------------------------------------


def test_a_half_signed_in_session_cannot_spend_the_owners_challenge_budget(fresh_server: str) -> None:
    """Finding 4: 10 x POST /account/mfa/challenge {factor: totp} from a half-signed-in session used to make the
    owner's new sign-in get 429 for the rest of the hour. TOTP and recovery-code challenges are now limited per
    session: the thief's session runs out, the owner's new sign-in does not."""
    base = fresh_server
    owner = enrol(base)
    thief = half_signed_in(base, owner)
    for _ in range(CHALLENGE_LIMIT):
        challenge(base, thief, "totp")
    spent = request("POST", base, "/account/mfa/challenge", {"factor": "recoverycode"}, auth(thief))
    assert_error(spent, 429, "general_rate_limit_exceeded")

    mine = half_signed_in(base, owner)
    completed(base, mine, challenge(base, mine, "totp"), next_totp(owner))
    assert signed_in(base, mine)


# --- finding 5: a half-signed-in session deletes the owner's session -------------------------------------------------


def test_a_half_signed_in_session_may_delete_only_itself(fresh_server: str) -> None:
    """Finding 5: a half-signed-in session could DELETE /account/sessions/{ownerSessionId}. Now it may end only
    itself; another id, existing or not, gets the gate's own answer, so it learns nothing about the id."""
    base = fresh_server
    owner = enrol(base)
    owner_id = session_of(base, owner.credential)["$id"]
    thief = half_signed_in(base, owner)
    other_thief = half_signed_in(base, owner)

    refused = request("DELETE", base, f"/account/sessions/{owner_id}", {}, auth(thief))
    assert_error(refused, 401, "user_more_factors_required")
    unknown = request("DELETE", base, "/account/sessions/00000000000000000000", {}, auth(thief))
    assert_error(unknown, 401, "user_more_factors_required")
    assert refused.json() == unknown.json()
    assert signed_in(base, owner.credential)

    # Nor every session, nor every other one: DELETE /account/sessions is gated, with or without current.
    for body in ({}, {"current": False}):
        assert_error(request("DELETE", base, "/account/sessions", body, auth(thief)), 401, "user_more_factors_required")
    assert signed_in(base, owner.credential)

    # Its own session, by "current" or by its id (taken here from the owner's list, oldest first).
    listed = request("GET", base, "/account/sessions", headers=auth(owner.credential)).json()["sessions"]
    other_id = [s["$id"] for s in listed if s["factors"] == ["password"]][-1]
    assert request("DELETE", base, "/account/sessions/current", {}, auth(thief)).status_code == 204
    assert request("DELETE", base, f"/account/sessions/{other_id}", {}, auth(other_thief)).status_code == 204
    for credential in (thief, other_thief):
        assert_error(get_account(base, auth(credential)), 401, "general_unauthorized_scope")
    assert signed_in(base, owner.credential)


# --- lifetimes: 15 minutes unless completed; extension keeps the duration --------------------------------------------


def test_incomplete_sessions_live_15_minutes_until_completed(fresh_server: str) -> None:
    """A password-only session of an MFA user expires in 15 minutes; completing a challenge gives it the lifetime it
    was created with, counted from its creation. The owner's session cannot stretch a half-signed-in one either."""
    base = fresh_server
    owner = enrol(base)
    before = time.time()
    response = sign_in_response(base, owner.email, PASSWORD)
    assert response.status_code == 201, response.text
    pending = response.json()
    assert iso_epoch(pending["expire"]) <= before + INCOMPLETE_LIFETIME_S + SLACK_S
    credential = credential_of(response)

    extended = request("PATCH", base, f"/account/sessions/{pending['$id']}", {}, auth(owner.credential))
    assert extended.status_code == 200, extended.text
    assert iso_epoch(extended.json()["expire"]) <= time.time() + INCOMPLETE_LIFETIME_S + SLACK_S
    assert_error(request("PATCH", base, "/account/sessions/current", {}, auth(credential)), 401,
                 "user_more_factors_required")  # fmt: skip

    session = completed(base, credential, challenge(base, credential, "totp"), next_totp(owner))
    created = iso_epoch(session["$createdAt"])
    assert abs(iso_epoch(session["expire"]) - (created + FULL_LIFETIME_S)) <= SLACK_S
    assert abs(iso_epoch(session_of(base, credential)["expire"]) - (created + FULL_LIFETIME_S)) <= SLACK_S


def test_extension_renews_the_duration_the_session_was_created_with(fresh_server: str) -> None:
    """PATCH /account/sessions/{id} renews the session's own duration, never the full 30 days."""
    base = fresh_server
    owner = enrol(base)  # MFA on: the short session must pass the gate before it may extend itself
    body = {"email": owner.email, "password": PASSWORD, "duration": 120}
    response = request("POST", base, "/account/sessions/email", body)
    assert response.status_code == 201, response.text
    credential = credential_of(response)
    completed(base, credential, challenge(base, credential, "totp"), next_totp(owner))
    extended = request("PATCH", base, "/account/sessions/current", {}, auth(credential))
    assert extended.status_code == 200, extended.text
    assert iso_epoch(extended.json()["expire"]) <= time.time() + 120 + SLACK_S


def test_the_owners_sign_in_ends_the_thiefs_sessions_first(fresh_server: str) -> None:
    """At the cap, a session that passed the gate ends the oldest incomplete ones before any complete one."""
    base = fresh_server
    owner = enrol(base)
    complete = [owner.credential] + [fully_signed_in(base, owner) for _ in range(3)]
    thief = [half_signed_in(base, owner) for _ in range(MAX_SESSIONS - len(complete))]
    assert len(complete) + len(thief) == MAX_SESSIONS
    # The owner's next sign-in passes the gate: the cap ends the thief's oldest session, not the owner's oldest.
    newest = sign_in(base, owner.email)
    completed(base, newest, challenge(base, newest, "totp"), next_totp(owner))
    assert all(signed_in(base, c) for c in [*complete, newest])
    assert get_account(base, auth(thief[0])).status_code == 401
    listed = request("GET", base, "/account/sessions", headers=auth(newest)).json()
    assert listed["total"] == MAX_SESSIONS


def test_a_half_signed_in_session_reaches_none_of_the_owners_sessions(fresh_server: str) -> None:
    """Beyond the issue: every other session route a password-only session might use against the owner (list,
    read, extend, end all or all others) answers the gate's 401, and leaves the owner's session as it was."""
    base = fresh_server
    owner = enrol(base)
    before = session_of(base, owner.credential)
    thief = half_signed_in(base, owner)
    calls = [
        ("GET", "/account/sessions", None),
        ("GET", f"/account/sessions/{before['$id']}", None),
        ("GET", "/account/sessions/current", None),
        ("PATCH", f"/account/sessions/{before['$id']}", {}),
        ("PATCH", "/account/sessions/current", {}),
        ("DELETE", "/account/sessions", {}),
        ("DELETE", "/account/sessions", {"current": False}),
        ("DELETE", f"/account/sessions/{before['$id']}", {}),
    ]
    for method, path, body in calls:
        assert_error(request(method, base, path, body, auth(thief)), 401, "user_more_factors_required")
    assert session_of(base, owner.credential) == before
