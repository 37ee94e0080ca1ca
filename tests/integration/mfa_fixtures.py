"""Shared setup for the MFA settings and challenge tests: a signed-in user, verified addresses, a
verified authenticator, challenges, a pinned TOTP clock and moved service clocks.

Codes are computed with tests/rfc6238.py (never the server's pyotp), from the secret the API showed.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from authcore import clock as real_clock
from authcore.security.tokens import decode_credential
from authcore.store import users as users_store
from tests.rfc6238 import totp

from .conftest import PASSWORD, Api, lift_cooldowns, profile, table_items

EMAIL = "ada@example.com"
PHONE = "+14155552671"
MINUTE_MS = 60 * 1000
RECENT_MS = 10 * MINUTE_MS


@dataclass
class Ada:
    """A signed-up user and one of her password sessions."""

    credential: str
    user_id: str


def assert_error(answer, status: int, type_: str) -> None:
    assert answer.status == status, answer.body
    assert answer.body["type"] == type_, answer.body
    assert set(answer.body) == {"message", "code", "type", "version"} and answer.body["code"] == status


def wrong(code: str) -> str:
    """Another well-formed six-digit code."""
    return f"{(int(code) + 1) % 10**6:06d}"


def failures(user_id: str) -> int:
    """The user's count of consecutive wrong MFA codes."""
    return profile(user_id).get(users_store.MFA.count, 0)


def challenge_items(user_id: str) -> list[dict[str, Any]]:
    return [item for item in table_items(f"USER#{user_id}") if item["sk"].startswith("CHALLENGE#")]


def session_items(user_id: str) -> list[dict[str, Any]]:
    return [item for item in table_items(f"USER#{user_id}") if item["sk"].startswith("SESSION#")]


def stored_session(credential: str) -> dict[str, Any]:
    from authcore.security.tokens import digest

    user_id, secret = decode_credential(credential)
    [session] = [item for item in session_items(user_id) if item.get("digest") == digest(secret)]
    return session


def lift_challenge_limit() -> None:
    """As if the hour of the challenge limits (10/hour per user, or per session) had turned: delete their counters."""
    from authcore.store.table import client, marshal, table_name

    for item in table_items("RATE#mfa-challenge"):
        client().delete_item(TableName=table_name(), Key=marshal({"pk": item["pk"], "sk": item["sk"]}))


# --- setup through the API -----------------------------------------------------------------------


def sign_up_and_in(api: Api, email: str = EMAIL) -> Ada:
    api.sign_up(email)
    credential = api.session_for(email)
    return Ada(credential, decode_credential(credential)[0])


def verify_email(api: Api, sent, credential: str, address: str = EMAIL) -> None:
    assert api("create_email_verification", {"url": "http://localhost:3000/verify"}, session=credential).status == 201
    link = sent.link(address)
    user_id = re.search(r"userId=([^&]+)", link).group(1)
    secret = re.search(r"secret=([^&]+)", link).group(1)
    assert api("update_email_verification", {"userId": user_id, "secret": secret}).status == 200


def add_phone(api: Api, credential: str, phone: str = PHONE) -> None:
    answer = api("update_phone", {"phone": phone, "password": PASSWORD}, session=credential)
    assert answer.status == 200, answer.body


def verify_phone(api: Api, sent, credential: str, user_id: str, phone: str = PHONE) -> None:
    add_phone(api, credential, phone)
    assert api("create_phone_verification", {}, session=credential).status == 201
    assert api("update_phone_verification", {"userId": user_id, "secret": sent.code(phone)}).status == 200


def create_authenticator(api: Api, credential: str) -> dict[str, str]:
    answer = api("create_mfa_authenticator", {}, session=credential, path={"type": "totp"})
    assert answer.status == 200, answer.body
    return answer.body


def verify_authenticator(api: Api, credential: str, otp: str):
    return api("update_mfa_authenticator", {"otp": otp}, session=credential, path={"type": "totp"})


def enrol_totp(api: Api, credential: str, clock: TotpClock) -> str:
    """A verified authenticator (its first code spends the pinned clock's current step); its secret."""
    secret = create_authenticator(api, credential)["secret"]
    answer = verify_authenticator(api, credential, clock.code(secret))
    assert answer.status == 200, answer.body
    return secret


def create_recovery_codes(api: Api, credential: str) -> list[str]:
    answer = api("create_mfa_recovery_codes", {}, session=credential)
    assert answer.status == 201, answer.body
    return answer.body["recoveryCodes"]


def create_challenge(api: Api, credential: str, factor: str):
    return api("create_mfa_challenge", {"factor": factor}, session=credential)


def challenge(api: Api, credential: str, factor: str) -> str:
    answer = create_challenge(api, credential, factor)
    assert answer.status == 201, answer.body
    return answer.body["$id"]


def complete(api: Api, credential: str, challenge_id: str, otp: str, **extra: Any):
    return api("update_mfa_challenge", {"challengeId": challenge_id, "otp": otp}, session=credential, **extra)


def complete_totp_challenge(api: Api, credential: str, secret: str, clock: TotpClock) -> dict[str, Any]:
    """A completed TOTP challenge (a recent challenge for this session), on a fresh step; the Session."""
    clock.next_step()
    answer = complete(api, credential, challenge(api, credential, "totp"), clock.code(secret))
    assert answer.status == 200, answer.body
    return answer.body


def _code_session(api: Api, sent, channel: str, address: str) -> str:
    """A session signed in by a code sent over `channel` ("email" or "phone"); its factors start as [channel]."""
    lift_cooldowns()
    token = api(f"create_{channel}_token", {"userId": "unique()", channel: address})
    assert token.status == 201, token.body
    answer = api("create_session", {"userId": token.body["userId"], "secret": sent.code(address)})
    assert answer.status == 201 and answer.body["factors"] == [channel], answer.body
    return answer.credential


def email_otp_session(api: Api, sent, email: str = EMAIL) -> str:
    return _code_session(api, sent, "email", email)


def phone_otp_session(api: Api, sent, phone: str = PHONE) -> str:
    return _code_session(api, sent, "phone", phone)


# --- clocks --------------------------------------------------------------------------------------


class TotpClock:
    """The server's TOTP clock (authcore.security.totp's `time.time()`), pinned to the middle of the
    current 30 s step so a test never straddles a step boundary; `next_step()` moves it one step on."""

    def __init__(self) -> None:
        self.now = (time.time() // 30) * 30 + 15

    def time(self) -> float:
        return self.now

    @property
    def step(self) -> int:
        return int(self.now // 30)

    def code(self, secret: str, offset_steps: int = 0) -> str:
        return totp(secret, at=self.now, offset_steps=offset_steps)

    def wrong_code(self, secret: str) -> str:
        """A six-digit code no step near now accepts (a genuine guess)."""
        near = {self.code(secret, offset) for offset in range(-3, 4)}
        candidate = self.code(secret)
        while candidate in near:
            candidate = wrong(candidate)
        return candidate

    def next_step(self) -> None:
        self.now += 30


def pin_totp_clock(monkeypatch) -> TotpClock:
    """Pin the server's TOTP clock (for a `totp_clock` fixture)."""
    from authcore.security import totp as server_totp

    pinned = TotpClock()
    monkeypatch.setattr(server_totp, "time", pinned)
    return pinned


class MovedClock:
    """`now_ms` of one service module, moved forward by `advance(ms)`."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return real_clock.now_ms() + self.offset_ms

    def advance(self, ms: int) -> None:
        self.offset_ms += ms


def move_mfa_clock(monkeypatch) -> MovedClock:
    """(For an `mfa_clock` fixture.) Moves the clock of the MFA services: services/mfa.py (what
    "a recent challenge" is measured by) and services/challenges.py (when challenges are completed,
    and when they expire)."""
    from authcore.services import challenges, mfa

    moved = MovedClock()
    monkeypatch.setattr(mfa, "now_ms", moved.now_ms)
    monkeypatch.setattr(challenges, "now_ms", moved.now_ms)
    return moved


# --- the worst-case interleaving of concurrent requests ------------------------------------------


class AllReadFirst:
    """Runs requests in threads, interleaved as badly as possible for a check-then-write: every
    request does all its reads before any of them writes.

    One lock is held by whichever request is running, so exactly one runs at a time (moto is not
    thread-safe, and neither is the shared state of a Lambda container). A request gives the lock
    up once: at its first TransactWriteItems (a botocore 'before-parameter-build' hook), where it
    waits at a Barrier for all the others to arrive there too. When the last one arrives, every
    request has read the same state; then they take the lock in turn and their conditional writes
    alone decide who wins. Each thread calls its own copy of the function's module, so the
    resolver's per-invocation state (Powertools keeps the current event on it) is not shared.
    """

    def __init__(self, count: int, timeout_s: float = 30) -> None:
        self.count = count
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(count, timeout=timeout_s)
        self.local = threading.local()
        self.arrived = 0

    def _at_first_transaction(self, **_: Any) -> None:
        if getattr(self.local, "waited", True):
            return
        self.local.waited = True
        self.arrived += 1
        self.lock.release()
        try:
            self.barrier.wait()
        finally:
            self.lock.acquire()

    def run(self, monkeypatch, requests: list) -> list[Any]:
        """Run each zero-argument callable in `requests` (each calls the `api` fixture once); their answers."""
        assert len(requests) == self.count
        from authcore.store import table

        from . import conftest
        from .conftest import load_handler as shared_handler

        modules: dict[tuple[int, str], Any] = {}

        def own_handler(function):
            key = (threading.get_ident(), function.name)
            if key not in modules:
                modules[key] = _fresh_module(function)
            return getattr(modules[key], function.handler)

        monkeypatch.setattr(conftest, "load_handler", own_handler)
        answers: list[Any] = [None] * self.count
        errors: list[BaseException] = []

        def worker(index: int) -> None:
            self.local.waited = False
            with self.lock:
                try:
                    answers[index] = requests[index]()
                except BaseException as error:  # reported by the test
                    errors.append(error)

        event = "before-parameter-build.dynamodb.TransactWriteItems"
        table.client().meta.events.register(event, self._at_first_transaction)
        try:
            threads = [threading.Thread(target=worker, args=(n,)) for n in range(self.count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
        finally:
            table.client().meta.events.unregister(event, self._at_first_transaction)
            monkeypatch.setattr(conftest, "load_handler", shared_handler)
        assert not errors, errors
        assert self.arrived == self.count, "not every request reached its write"
        return answers


def _fresh_module(function):
    import importlib.util

    name = f"_race_{threading.get_ident()}_{function.name}"
    spec = importlib.util.spec_from_file_location(name, function.module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
