"""Load: complete MFA sign-in flows from concurrent clients against the local stack (python -m local.server).

A flow is: sign in with email and password → create a TOTP challenge → complete it → GET /account.

Users are seeded through the API first (sign up, sign in, add and verify an authenticator, MFA on).
The rate limits are respected, not lifted: sign-up allows 10 per hour per IP, so seeding spreads
sign-ups over source addresses 127.0.0.x (Linux routes all of 127/8 to loopback); password sign-in
allows 10 failures per hour per email (a success resets it) and challenges 10 per hour per user, and
no user runs more than a few flows. A TOTP code is accepted once per user per 30 s step (current
step ±1), so each flow of a user uses a later step than the user's last: a client takes a user whose
next step is the current one or the next, and otherwise another user.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import ROOT
from tests.rfc6238 import hotp, key_of, step

PASSWORD = "correct horse battery"  # noqa: S105 - the test users' password
SIGN_UPS_PER_IP = 10  # API.md §5


class Client:
    """JSON over HTTP to the local stack, from one source address, with an optional session."""

    def __init__(self, port: int, source_ip: str = "127.0.0.1") -> None:
        self.port, self.source_ip = port, source_ip

    def call(self, method: str, path: str, body: Any = None, session: str | None = None) -> tuple[int, Any, Any]:
        headers = {"Content-Type": "application/json", "X-Appwrite-Project": "default"}
        if session:
            headers["X-Appwrite-Session"] = session
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(self.source_ip, 0))
        try:
            connection.request(method, f"/v1{path}", json.dumps(body) if body is not None else None, headers)
            response = connection.getresponse()
            text = response.read()
            return response.status, json.loads(text) if text else None, response.headers
        finally:
            connection.close()


class User:
    def __init__(self, email: str, secret: str, last_step: int) -> None:
        self.email, self.key, self.last_step = email, key_of(secret), last_step


def _expect(status: int, wanted: int, what: str, body: Any) -> None:
    if status != wanted:
        raise RuntimeError(f"{what}: HTTP {status} {json.dumps(body)[:200]}")


def _credential(headers: Any) -> str:
    return json.loads(headers["X-Fallback-Cookies"])["a_session_default"]


def seed(port: int, index: int) -> User:
    """One user with a verified authenticator and MFA on."""
    client = Client(port, f"127.0.1.{1 + index // SIGN_UPS_PER_IP}")
    email = f"load{index}@example.com"
    status, body, _ = client.call("POST", "/account", {"userId": "unique()", "email": email, "password": PASSWORD})
    _expect(status, 201, "sign up", body)
    status, body, headers = client.call("POST", "/account/sessions/email", {"email": email, "password": PASSWORD})
    _expect(status, 201, "sign in", body)
    session = _credential(headers)
    status, body, _ = client.call("POST", "/account/mfa/authenticators/totp", {}, session)
    _expect(status, 200, "add authenticator", body)
    secret, now = body["secret"], step()
    status, body, _ = client.call(
        "PUT", "/account/mfa/authenticators/totp", {"otp": hotp(key_of(secret), now)}, session
    )
    _expect(status, 200, "verify authenticator", body)
    status, body, _ = client.call("PATCH", "/account/mfa", {"mfa": True}, session)
    _expect(status, 200, "mfa on", body)
    return User(email, secret, now)


def flow(client: Client, user: User, otp_step: int) -> None:
    """Sign in → TOTP challenge → complete → GET /account; raises on any unexpected answer."""
    status, body, headers = client.call("POST", "/account/sessions/email", {"email": user.email, "password": PASSWORD})
    _expect(status, 201, "sign in", body)
    session = _credential(headers)
    status, body, _ = client.call("POST", "/account/mfa/challenges", {"factor": "totp"}, session)
    _expect(status, 201, "create challenge", body)
    otp = hotp(user.key, otp_step)
    status, body, _ = client.call("PUT", "/account/mfa/challenges", {"challengeId": body["$id"], "otp": otp}, session)
    _expect(status, 200, "complete challenge", body)
    status, body, _ = client.call("GET", "/account", session=session)
    _expect(status, 200, "get account", body)


class Scheduler:
    """Hands out (user, TOTP step) pairs so that no user's step is ever used twice."""

    def __init__(self, users: list[User]) -> None:
        self.ready = collections.deque(users)
        self.lock = threading.Condition()

    def take(self) -> tuple[User, int]:
        with self.lock:
            while True:
                now = step()
                for _ in range(len(self.ready)):
                    user = self.ready.popleft()
                    if user.last_step + 1 <= now + 1:  # accepted: the current step or the next one
                        user.last_step = max(user.last_step + 1, now)
                        return user, user.last_step
                    self.ready.append(user)
                self.lock.wait(timeout=0.2)

    def give_back(self, user: User) -> None:
        with self.lock:
            self.ready.append(user)
            self.lock.notify()


def start_server(log: Path) -> tuple[subprocess.Popen, int]:
    """The local stack (python -m local.server, through bench/stack.py) on a free port; its console goes to `log`."""
    output = log.open("w")
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "bench.stack", "--port", "0"],
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if line.startswith("Local stack ready on "):
                return server, int(line.rsplit(":", 1)[1].split("/")[0])
        if server.poll() is not None:
            break
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"the local stack did not start:\n{log.read_text()[-2000:]}")


def measure(flows: int, clients: int, users: int, log: Path) -> dict[str, Any]:
    server, port = start_server(log)
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            seeded = list(pool.map(lambda i: seed(port, i), range(users)))
        seeding_s = time.perf_counter() - started
        scheduler = Scheduler(seeded)
        durations: list[float] = []
        errors: list[str] = []

        def one(_: int) -> None:
            user, otp_step = scheduler.take()
            flow_started = time.perf_counter()
            try:
                flow(Client(port), user, otp_step)
                durations.append((time.perf_counter() - flow_started) * 1000)
            except Exception as error:  # counted and reported; the run goes on
                errors.append(str(error))
            finally:
                scheduler.give_back(user)

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, range(flows)))
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(durations)
    return {
        "flows": flows,
        "clients": clients,
        "users": users,
        "seeding_s": seeding_s,
        "elapsed_s": elapsed,
        "errors": len(errors),
        "error_samples": errors[:5],
        "flows_per_s": len(durations) / elapsed,
        "p50_ms": statistics.median(ordered) if ordered else None,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else None,
    }


if __name__ == "__main__":  # python -m bench.load FLOWS CLIENTS USERS OUT.json
    flows, clients, users = map(int, sys.argv[1:4])
    with tempfile.TemporaryDirectory() as scratch:
        figures = measure(flows, clients, users, Path(scratch) / "server.log")
    with open(sys.argv[4], "w") as out:
        json.dump(figures, out, indent=2)
