"""Service rules with in-memory fakes of the store: sign-up, password sign-in, the session cap."""

import pytest

from authcore.errors import ApiError
from authcore.models.caller import Caller
from authcore.models.requests import CreateAccount, EmailPasswordSession
from authcore.security import passwords
from authcore.services import accounts, activity, limits, sessions

from .fakes import FakeLogs, FakeRateLimit, FakeSessions, FakeUsers

pytestmark = pytest.mark.usefixtures("steady_rate_window")

CALLER = Caller(ip="198.51.100.1", user_agent="pytest", credential=None)
PASSWORD = "correct horse battery"


@pytest.fixture
def store(monkeypatch):
    users = FakeUsers()
    session_store = FakeSessions(users)
    for module in (accounts, sessions):
        monkeypatch.setattr(module, "users_store", users)
        monkeypatch.setattr(module, "sessions_store", session_store)
    monkeypatch.setattr(limits, "ratelimit", FakeRateLimit())
    monkeypatch.setattr(activity, "logs_store", FakeLogs())
    return users, session_store


def sign_up(email="ada@example.com", user_id="unique()"):
    return accounts.create_account(CreateAccount(userId=user_id, email=email, password=PASSWORD), CALLER)


def sign_in(email="ada@example.com", password=PASSWORD):
    return sessions.create_email_password_session(EmailPasswordSession(email=email, password=password), CALLER)


def error_of(call) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_sign_up_stores_a_hash_never_the_password(store):
    users, _ = store
    account = sign_up()
    stored = users.users[account.id]
    assert stored["passwordHash"].startswith("$argon2id$") and PASSWORD not in str(stored)


def test_taken_id_and_taken_email_both_answer_user_already_exists(store):
    sign_up(user_id="ada")
    assert error_of(lambda: sign_up("other@example.com", "ada")).type == "user_already_exists"
    assert error_of(lambda: sign_up(user_id="grace")).type == "user_already_exists"


def test_unknown_email_pays_a_password_hash(store, monkeypatch):
    verified = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(sessions, "verify_password", lambda h, p: verified.append(h) or real_verify(h, p))
    assert error_of(lambda: sign_in("nobody@example.com")).type == "user_invalid_credentials"
    assert verified == [None]  # verify_password(None, …) hashes against the dummy


def test_limited_sign_in_carries_the_reset_of_the_hour(store):
    sign_up()
    for _ in range(10):
        assert error_of(lambda: sign_in(password="wrong password")).type == "user_invalid_credentials"
    limited = error_of(sign_in)
    assert limited.type == "general_rate_limit_exceeded"
    assert int(limited.headers["X-RateLimit-Reset"]) % 3600 == 0
    assert limited.headers["X-RateLimit-Limit"] == "10" and limited.headers["X-RateLimit-Remaining"] == "0"


def test_a_success_gives_back_its_attempt_and_clears_its_source(store):
    users, _ = store
    sign_up()
    for _ in range(3):
        error_of(lambda: sign_in(password="wrong password"))
    sign_in()
    counts = users.emails["ada@example.com"]["signIn"]
    assert counts["n"] == 3 and set(counts) == {"h", "n"}  # the failures stay counted; the source's count went


def test_a_lost_race_is_retried_with_the_fresh_profile(store):
    _, session_store = store
    sign_up()
    session_store.stale_times = 2
    created = sign_in()
    assert session_store.attempts == 3
    assert created.session.current and created.session.factors == ["password"]


def test_endless_races_end_in_a_clear_429_not_a_500(store):
    _, session_store = store
    sign_up()
    session_store.stale_times = 100
    error = error_of(sign_in)
    assert error.type == "general_rate_limit_exceeded" and error.status == 429
    assert session_store.attempts == sessions.WRITE_ATTEMPTS


def test_the_eleventh_session_evicts_the_oldest(store):
    users, _ = store
    account = sign_up()
    created = [sign_in() for _ in range(11)]
    entries = users.users[account.id]["sessions"]
    assert len(entries) == sessions.MAX_SESSIONS
    assert created[0].session.id not in {e["id"] for e in entries.values()}
    assert created[-1].session.id in {e["id"] for e in entries.values()}


def test_blocked_users_are_told_only_after_the_right_password(store):
    users, _ = store
    account = sign_up()
    users.update_user(account.id, {"status": False})
    assert error_of(lambda: sign_in(password="wrong password")).type == "user_invalid_credentials"
    assert error_of(sign_in).type == "user_blocked"
