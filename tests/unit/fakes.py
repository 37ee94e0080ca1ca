"""In-memory stand-ins for the store modules, for unit tests of the service rules.

They keep only what the services rely on: items as dicts, and the failures a conditional write
can report (ConflictError, StaleError), which tests can also inject.
"""

from __future__ import annotations

from typing import Any

from authcore.store.errors import ConflictError, LimitError, StaleError
from authcore.store.ratelimit import Charge, Window


class FakeUsers:
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.emails: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}  # digest -> session item

    def create_user(self, user: dict[str, Any]) -> None:
        if user["userId"] in self.users:
            raise ConflictError("user")
        if user["email"] in self.emails:
            raise ConflictError("email")
        self.users[user["userId"]] = dict(user)
        self.emails[user["email"]] = {"userId": user["userId"]}

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        user = self.users.get(user_id)
        return dict(user) if user else None

    def get_user_and_session(self, user_id: str, digest: str) -> tuple[dict | None, dict | None]:
        session = self.sessions.get(digest)
        return self.get_user(user_id), session if session and session["userId"] == user_id else None

    def update_user(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.users[user_id].update(changes)
        return dict(self.users[user_id])

    def count_sign_in_attempt(
        self, email: str, source: str, hour: int, source_limit: int, email_limit: int
    ) -> tuple[str, dict | None, int]:
        index = self.emails.get(email)
        if index is None:
            return "unknown", None, 0
        if index.get("signIn", {}).get("h") != hour:
            index["signIn"] = {"h": hour, "n": 0}
        counts = index["signIn"]
        if counts["n"] >= email_limit:
            return "limited", dict(index), email_limit
        if counts.get(source, 0) >= source_limit:
            return "limited", dict(index), source_limit
        counts["n"] += 1
        counts[source] = counts.get(source, 0) + 1
        return "ok", dict(index), 0

    def sign_in_source(self, ip: str) -> str:
        return f"s{ip}"


class FakeSessions:
    def __init__(self, users: FakeUsers, stale_times: int = 0) -> None:
        self.users = users
        self.stale_times = stale_times
        self.attempts = 0

    def create_session(self, user, session, evict, sign_in_counter=None, token_use=None, log=None) -> None:
        self.attempts += 1
        if self.stale_times:
            self.stale_times -= 1
            raise StaleError()
        stored = self.users.users[user["userId"]]
        entries = stored.setdefault("sessions", {})
        for digest in evict:
            entries.pop(digest, None)
            self.users.sessions.pop(digest, None)
        entries[session["digest"]] = {
            "id": session["sessionId"],
            "createdAt": session["createdAt"],
            "expire": session["expire"],
            **({"pending": True} if session.get("pending") else {}),
        }
        self.users.sessions[session["digest"]] = dict(session)
        if sign_in_counter:
            email, _, source = sign_in_counter
            counts = self.users.emails[email]["signIn"]
            counts["n"] -= 1
            counts.pop(source, None)


class FakeLogs:
    """Activity log items written on their own (services/activity.py `record`)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def write(self, item: dict[str, Any]) -> None:
        self.items.append(item)


class FakeRateLimit:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    def hit(self, bucket: str, key: str, limit: int, window_seconds: int, now: int) -> Window:
        reset = now - now % window_seconds + window_seconds
        count = self.counts.get((bucket, key), 0)
        if count >= limit:
            return Window(limit, 0, reset, allowed=False)
        self.counts[(bucket, key)] = count + 1
        return Window(limit, limit - count - 1, reset, allowed=True)

    def spend(self, charges: list[Charge], now: int) -> None:
        """Every charge or none, like store.ratelimit.spend."""
        for charge in charges:
            if self.counts.get((charge.bucket, charge.key), 0) >= charge.limit:
                raise LimitError(charge)
        for charge in charges:
            self.counts[(charge.bucket, charge.key)] = self.counts.get((charge.bucket, charge.key), 0) + 1


class FakeCodeFailures:
    """Stands in for store.users where services.codes counts wrong codes.

    `answers` are what successive record_code_failure calls return: None (counted), a fresh
    profile (the count changed meanwhile), or {} (the user is gone). Once used up: None.
    """

    MFA_FAILURES = ("codeFailures", "codeFailedAt")
    PRE_AUTH_FAILURES = ("preAuthFailures", "preAuthFailedAt")

    def __init__(self, answers: list[dict[str, Any] | None] | None = None) -> None:
        self.answers = list(answers or [])
        self.calls: list[tuple[str, int, int]] = []
        self.counters: list[tuple[str, str]] = []  # which count each call was for

    def record_code_failure(self, user_id: str, counter: Any, failures: int, now: int) -> dict[str, Any] | None:
        self.calls.append((user_id, failures, now))
        self.counters.append((counter.count, counter.at))
        return self.answers.pop(0) if self.answers else None


class FakeTokens:
    """Stands in for store.tokens: profiles and tokens by hash, with scripted write failures.

    `issue_errors` / `spend_errors` are raised (in order) by the next issue / spend calls.
    `before_read` runs before every get_user_and_token, so a test can change the profile between reads.
    """

    SPENT = "spentAt"

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.tokens: dict[tuple[str, str], dict[str, Any]] = {}
        self.issue_errors: list[Exception] = []
        self.spend_errors: list[Exception] = []
        self.issued: list[tuple[dict[str, Any], list, int, dict | None]] = []
        self.withdrawn: list[tuple[dict[str, Any], list, int, dict | None]] = []
        self.spent: list[tuple[str, Any]] = []
        self.reads = 0
        self.before_read = None

    def issue(self, token: dict[str, Any], charges: list, now: int, new_user: dict | None = None, key=None) -> None:
        self.issued.append((dict(token), list(charges), now, new_user))
        if self.issue_errors:
            raise self.issue_errors.pop(0)
        self.tokens[(token["userId"], token["hash"])] = dict(token)

    def withdraw(self, token: dict[str, Any], charges: list, now: int, new_user: dict | None = None, key=None) -> None:
        self.withdrawn.append((dict(token), list(charges), now, new_user))
        self.tokens.pop((token["userId"], token["hash"]), None)

    def get_user_and_token(self, user_id: str, token_hash: str) -> tuple[dict | None, dict | None]:
        self.reads += 1
        if self.before_read:
            self.before_read(self)
        user = self.users.get(user_id)
        token = self.tokens.get((user_id, token_hash))
        return (dict(user) if user else None), (dict(token) if token else None)

    def spend(self, user_id: str, use: Any) -> None:
        self.spent.append((user_id, use))
        if self.spend_errors:
            raise self.spend_errors.pop(0)
        self.tokens.pop((user_id, use.token_hash), None)
