"""Sessions that still need factors (API.md §7): their lifetime, the cap, signing out, extension and the
password counter, through the handlers. The end-to-end attacks are in tests/e2e/test_incomplete_sessions.py."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from authcore.clock import now_ms
from authcore.security.tokens import decode_credential
from authcore.store.table import client, marshal, session_key, table_name
from tests.integration.conftest import PASSWORD, Api, profile
from tests.integration.mfa_fixtures import (
    EMAIL,
    TotpClock,
    assert_error,
    complete_totp_challenge,
    enrol_totp,
    session_items,
    sign_up_and_in,
    stored_session,
)

pytestmark = pytest.mark.usefixtures("steady_rate_window")

MINUTE_MS = 60 * 1000
INCOMPLETE_MS = 15 * MINUTE_MS
FULL_MS = 30 * 24 * 60 * MINUTE_MS  # SessionLifetimeSeconds of the template
SLACK_MS = 5000


def epoch_ms(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp() * 1000)


class Owner:
    """A user with a verified authenticator and MFA on, and her complete (enrolling) session."""

    def __init__(self, api: Api, clock: TotpClock) -> None:
        self.api, self.clock = api, clock
        self.sources = 0
        ada = sign_up_and_in(api)
        self.credential, self.user_id = ada.credential, ada.user_id
        self.secret = enrol_totp(api, self.credential, clock)
        assert api("update_mfa", {"mfa": True}, session=self.credential).status == 200

    def half_signed_in(self) -> str:
        """A password session: the gate stops it. Each from a source address of its own, since a password
        step that stops at the gate is not a success that gives its attempt back (10 an hour per source)."""
        self.sources += 1
        answer = self.api(
            "create_email_password_session", {"email": EMAIL, "password": PASSWORD}, ip=f"198.51.100.{self.sources}"
        )
        assert answer.status == 201, answer.body
        assert_error(self.api("get_account", session=answer.credential), 401, "user_more_factors_required")
        return answer.credential

    def signed_in(self) -> str:
        """A session that passed the gate: password, then a TOTP challenge."""
        credential = self.half_signed_in()
        complete_totp_challenge(self.api, credential, self.secret, self.clock)
        return credential

    def entries(self) -> dict[str, dict[str, Any]]:
        return profile(self.user_id)["sessions"]

    def alive(self, credential: str) -> bool:
        return self.api("list_mfa_factors", session=credential).status == 200


@pytest.fixture
def owner(api, totp_clock) -> Owner:
    return Owner(api, totp_clock)


def short_session(api: Api, seconds: int):
    return api("create_email_password_session", {"email": EMAIL, "password": PASSWORD, "duration": seconds})


def session_id(credential: str) -> str:
    return stored_session(credential)["sessionId"]


def digest_of(credential: str) -> str:
    return stored_session(credential)["digest"]


# --- lifetime --------------------------------------------------------------------------------------------------------


def test_an_incomplete_session_lives_15_minutes_and_its_cookies_its_full_lifetime(api, owner):
    answer = api.sign_in(EMAIL)
    assert answer.status == 201
    created, expire = epoch_ms(answer.body["$createdAt"]), epoch_ms(answer.body["expire"])
    assert expire == created + INCOMPLETE_MS
    stored = stored_session(answer.credential)
    assert stored["pending"] is True and stored["duration"] == FULL_MS and stored["ttl"] == expire // 1000
    assert owner.entries()[stored["digest"]] == {"id": stored["sessionId"], "createdAt": created, "expire": expire,
                                                 "pending": True}  # fmt: skip
    # The cookies expire with the full lifetime: completing the session does not set them again.
    for cookie in answer.headers["set-cookie"]:
        expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1)).timestamp() * 1000
        assert abs(expires - (created + FULL_MS)) <= SLACK_MS


def test_completing_the_gate_gives_the_full_lifetime_from_creation(api, owner):
    credential = owner.half_signed_in()
    session = complete_totp_challenge(api, credential, owner.secret, owner.clock)
    created = epoch_ms(session["$createdAt"])
    assert epoch_ms(session["expire"]) == created + FULL_MS
    stored = stored_session(credential)
    assert "pending" not in stored and stored["expire"] == created + FULL_MS
    assert stored["ttl"] == stored["expire"] // 1000
    assert owner.entries()[stored["digest"]] == {"id": stored["sessionId"], "createdAt": created,
                                                 "expire": created + FULL_MS}  # fmt: skip
    # A step-up challenge later changes nothing of it.
    complete_totp_challenge(api, credential, owner.secret, owner.clock)
    assert stored_session(credential)["expire"] == created + FULL_MS


def test_a_short_session_keeps_its_duration_when_completed(api, owner):
    answer = short_session(api, 300)
    created = epoch_ms(answer.body["$createdAt"])
    assert epoch_ms(answer.body["expire"]) == created + 300_000  # shorter than 15 minutes already
    session = complete_totp_challenge(api, answer.credential, owner.secret, owner.clock)
    assert epoch_ms(session["expire"]) == created + 300_000


def test_an_expired_incomplete_session_is_refused(api, owner):
    credential = owner.half_signed_in()
    user_id, _ = decode_credential(credential)
    client().update_item(
        TableName=table_name(),
        Key=marshal(session_key(user_id, digest_of(credential))),
        UpdateExpression="SET #e = :past",
        ExpressionAttributeNames={"#e": "expire"},
        ExpressionAttributeValues=marshal({":past": now_ms() - 1}),
    )
    assert_error(api("list_mfa_factors", session=credential), 401, "general_unauthorized_scope")


# --- the cap ---------------------------------------------------------------------------------------------------------


def test_incomplete_sessions_never_end_complete_ones(api, owner):
    """Issue 15, finding 3: with ten complete sessions, password-only sign-ins go beyond the cap and end only
    each other (the oldest first, beyond ten of them): the map holds at most 20 entries."""
    complete = [owner.credential] + [owner.signed_in() for _ in range(9)]
    incomplete = [owner.half_signed_in() for _ in range(11)]
    assert all(api("get_account", session=c).status == 200 for c in complete)
    assert not owner.alive(incomplete[0]) and all(owner.alive(c) for c in incomplete[1:])
    entries = owner.entries()
    assert len(entries) == 20 and sum(1 for e in entries.values() if e.get("pending")) == 10
    assert len(session_items(owner.user_id)) == 20


def test_passing_the_gate_ends_the_oldest_incomplete_session_first(api, owner):
    """A session that passes the gate at the cap ends the oldest incomplete session, not the oldest complete one;
    with no incomplete one left, the oldest complete one."""
    complete = [owner.credential] + [owner.signed_in() for _ in range(4)]
    incomplete = [owner.half_signed_in() for _ in range(5)]
    assert len(owner.entries()) == 10
    newest = owner.signed_in()  # incomplete beyond the cap at first, then complete: ends incomplete[0]
    assert not owner.alive(incomplete[0])
    assert all(owner.alive(c) for c in [*complete, *incomplete[1:], newest])
    assert len(owner.entries()) == 10
    for credential in incomplete[1:]:  # already counted in the cap: completing them ends nothing
        complete_totp_challenge(api, credential, owner.secret, owner.clock)
    assert all(owner.alive(c) for c in [*complete, *incomplete[1:], newest])
    assert not any(e.get("pending") for e in owner.entries().values())
    last = owner.signed_in()  # no incomplete one left: the oldest complete one ends
    assert not owner.alive(complete[0]) and owner.alive(last)
    assert len(owner.entries()) == 10


# --- signing out -----------------------------------------------------------------------------------------------------


def test_an_incomplete_session_may_end_only_itself(api, owner):
    """Issue 15, finding 5. Another id, existing or not, gets the gate's answer before any lookup."""
    thief = owner.half_signed_in()
    other = owner.half_signed_in()
    existing = api("delete_session", session=thief, path={"sessionId": session_id(owner.credential)})
    unknown = api("delete_session", session=thief, path={"sessionId": "00000000000000000000"})
    sibling = api("delete_session", session=thief, path={"sessionId": session_id(other)})
    for answer in (existing, unknown, sibling):
        assert_error(answer, 401, "user_more_factors_required")
    assert existing.body == unknown.body == sibling.body
    assert owner.alive(owner.credential) and owner.alive(other)
    assert_error(api("delete_sessions", session=thief), 401, "user_more_factors_required")
    assert_error(api("delete_sessions", {"current": False}, session=thief), 401, "user_more_factors_required")

    assert api("delete_session", session=thief, path={"sessionId": session_id(thief)}).status == 204
    assert api("delete_session", session=other, path={"sessionId": "current"}).status == 204
    assert not owner.alive(thief) and not owner.alive(other) and owner.alive(owner.credential)


def test_a_complete_session_may_end_an_incomplete_one(api, owner):
    thief = owner.half_signed_in()
    assert api("delete_session", session=owner.credential, path={"sessionId": session_id(thief)}).status == 204
    assert not owner.alive(thief)


# --- extension -------------------------------------------------------------------------------------------------------


def test_extension_renews_the_duration_never_more(api, owner):
    thief = owner.half_signed_in()
    extended = api("update_session", session=owner.credential, path={"sessionId": session_id(thief)})
    assert extended.status == 200
    assert epoch_ms(extended.body["expire"]) <= now_ms() + INCOMPLETE_MS
    assert owner.entries()[digest_of(thief)]["expire"] == epoch_ms(extended.body["expire"])
    assert_error(api("update_session", session=thief, path={"sessionId": "current"}), 401, "user_more_factors_required")

    answer = short_session(api, 120)
    complete_totp_challenge(api, answer.credential, owner.secret, owner.clock)
    renewed = api("update_session", session=answer.credential, path={"sessionId": "current"})
    assert now_ms() + 110_000 <= epoch_ms(renewed.body["expire"]) <= now_ms() + 120_000

    full = api("update_session", session=owner.credential, path={"sessionId": "current"})
    assert now_ms() + FULL_MS - SLACK_MS <= epoch_ms(full.body["expire"]) <= now_ms() + FULL_MS


def test_a_session_stored_without_its_duration_is_renewed_for_at_most_what_it_had(api, owner):
    """Sessions created before `duration` was recorded: the span they were given, at most the configured one."""
    user_id, _ = decode_credential(owner.credential)
    stored = stored_session(owner.credential)
    short = stored["createdAt"] + 10 * MINUTE_MS
    client().update_item(
        TableName=table_name(),
        Key=marshal(session_key(user_id, stored["digest"])),
        UpdateExpression="REMOVE #d SET #e = :e",
        ExpressionAttributeNames={"#d": "duration", "#e": "expire"},
        ExpressionAttributeValues=marshal({":e": short}),
    )
    renewed = api("update_session", session=owner.credential, path={"sessionId": "current"})
    assert epoch_ms(renewed.body["expire"]) <= now_ms() + 10 * MINUTE_MS


# --- the password counter --------------------------------------------------------------------------------------------


def test_a_password_step_that_stops_at_the_gate_does_not_reset_the_counter(api, owner):
    """Issue 15, finding 3: it used to reset it, so a password alone could sign in (and evict) forever."""
    for _ in range(10):  # the owner's own sign-in (a success) gave its attempt back: 10 left from this source
        assert api.sign_in(EMAIL).status == 201
    assert_error(api.sign_in(EMAIL), 429, "general_rate_limit_exceeded")
    assert owner.alive(owner.credential)


def test_a_server_made_session_of_an_mfa_user_is_incomplete_too(api, owner):
    """`POST /users/{userId}/sessions` (factor `server`) for a user with MFA on: 15 minutes and no complete session
    ended, until a challenge completes it; then the lifetime it was created with."""
    from tests.integration.admin_fixtures import key_headers

    complete = [owner.credential] + [owner.signed_in() for _ in range(9)]
    made = api("users_create_session", {}, path={"userId": owner.user_id}, headers=key_headers())
    assert made.status == 201
    created = epoch_ms(made.body["$createdAt"])
    assert epoch_ms(made.body["expire"]) == created + INCOMPLETE_MS
    assert all(owner.alive(c) for c in complete) and len(owner.entries()) == 11
    session = complete_totp_challenge(api, made.body["secret"], owner.secret, owner.clock)
    assert epoch_ms(session["expire"]) == created + FULL_MS
    assert not owner.alive(complete[0]) and len(owner.entries()) == 10
