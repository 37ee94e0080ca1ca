"""In-memory stand-ins for the store modules, for unit tests of the service rules.

They keep only what the services rely on: items as dicts, and the failures a conditional write
can report (ConflictError, StaleError), which tests can also inject.
"""

from __future__ import annotations

from typing import Any

from authcore.store.errors import ConflictError, StaleError
from authcore.store.ratelimit import Window


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

    def count_sign_in_attempt(self, email: str, window: str, previous: str, limit: int) -> tuple[str, dict | None]:
        index = self.emails.get(email)
        if index is None:
            return "unknown", None
        index.pop(previous, None)
        if index.get(window, 0) >= limit:
            return "limited", dict(index)
        index[window] = index.get(window, 0) + 1
        return "ok", dict(index)


class FakeSessions:
    def __init__(self, users: FakeUsers, stale_times: int = 0) -> None:
        self.users = users
        self.stale_times = stale_times
        self.attempts = 0

    def create_session(self, user, session, evict, sign_in_counter=None, token_use=None) -> None:
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
        }
        self.users.sessions[session["digest"]] = dict(session)
        if sign_in_counter:
            email, counter = sign_in_counter
            self.users.emails[email].pop(counter, None)


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
