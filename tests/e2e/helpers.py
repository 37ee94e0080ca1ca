"""Helpers for the end-to-end tests: the local stack subprocess and plain-HTTP calls against it."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from appwrite.client import Client
from appwrite.exception import AppwriteException

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "default"
COOKIE = f"a_session_{PROJECT}"
LEGACY_COOKIE = f"{COOKIE}_legacy"
READY = "Local stack ready on "
STARTUP_TIMEOUT_S = 60
ALLOWED_ORIGIN = "http://localhost:3000"
OTHER_ALLOWED_ORIGIN = "http://127.0.0.1:3000"
FOREIGN_ORIGIN = "https://evil.example"
PASSWORD = "correct horse battery staple"
ERROR_KEYS = {"message", "code", "type", "version"}
TIMEOUT = 30  # seconds for any single HTTP request
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
GENERATED_ID = re.compile(r"^[0-9a-f]{20}$")


class LocalStack:
    """One `python -m local.server` subprocess; a thread drains its output so the pipe never fills."""

    def __init__(self, args: Sequence[str] = ("--port", "0")) -> None:
        self.lines: list[str] = []
        self.base_url = ""
        self._ready = threading.Event()
        self.process = subprocess.Popen(
            # --port 0: the server binds a free port itself (no race between picking one and binding it)
            # and prints the URL it got in its ready line.
            [sys.executable, "-u", "-m", "local.server", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if not self._ready.is_set() and READY in line:
                self.base_url = line.split(READY, 1)[1].strip()
                self._ready.set()
        self._ready.set()  # the process ended: wake the waiter

    def console(self, text: str, timeout: float = 10) -> list[str]:
        """The console lines containing `text`, once there is one (the output is read by another thread)."""
        deadline = time.monotonic() + timeout
        while not (found := [line for line in self.lines if text in line]) and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def output(self) -> str:
        return "\n".join(self.lines[-200:])

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> str:
        self._ready.wait(timeout)
        if not self.base_url:
            code = self.process.poll()
            self.stop()
            state = f"exited with code {code}" if code is not None else f"was not ready after {timeout:.0f} s"
            pytest.fail(f"the local stack {state}; its output:\n{self.output()}", pytrace=False)
        return self.base_url

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)


def unique_email() -> str:
    return f"{uuid.uuid4().hex}@example.com"


def sdk_client(base: str, credential: str | None = None) -> Client:
    """An Appwrite SDK client for the local stack, optionally holding a session (SSR style)."""
    client = Client().set_endpoint(base).set_project(PROJECT)
    if credential:
        client.set_session(credential)
    return client


def request(
    method: str, base: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
) -> requests.Response:
    return requests.request(method, f"{base}{path}", json=body, headers=headers or {}, timeout=TIMEOUT, **kwargs)


def auth(credential: str) -> dict[str, str]:
    """Headers presenting a session credential as a cookie, like a browser does."""
    return {"Cookie": f"{COOKIE}={credential}"}


def credential_of(response: requests.Response) -> str:
    """The session credential of a sign-in answer: the cookie, else the X-Fallback-Cookies header."""
    cookie = response.cookies.get(COOKIE)
    if cookie:
        return cookie
    fallback = json.loads(response.headers.get("X-Fallback-Cookies") or "{}")
    return fallback.get(COOKIE, "")


def sign_in_response(base: str, email: str, password: str, headers: dict[str, str] | None = None) -> requests.Response:
    return request("POST", base, "/account/sessions/email", {"email": email, "password": password}, headers)


def sign_in(base: str, email: str, password: str = PASSWORD) -> str:
    """Sign in over plain HTTP and return the session credential (the SDK cannot see response headers)."""
    response = sign_in_response(base, email, password)
    assert response.status_code == 201, response.text
    credential = credential_of(response)
    assert credential, f"no credential in {dict(response.headers)}"
    return credential


def sign_up(base: str, email: str, password: str = PASSWORD, name: str = "", user_id: str = "unique()") -> dict:
    body = {"userId": user_id, "email": email, "password": password, "name": name}
    response = request("POST", base, "/account", body)
    assert response.status_code == 201, response.text
    return response.json()


def get_account(base: str, headers: dict[str, str]) -> requests.Response:
    return request("GET", base, "/account", headers=headers)


def decode_credential(credential: str) -> dict[str, str]:
    padded = credential + "=" * (-len(credential) % 4)
    return json.loads(base64.b64decode(padded))


def set_cookies(response: requests.Response) -> dict[str, str]:
    """The raw Set-Cookie headers of an answer, by cookie name."""
    raw = response.raw.headers.getlist("Set-Cookie")
    return {line.split("=", 1)[0].strip(): line for line in raw}


def cookie_attributes(line: str) -> dict[str, str]:
    """The attributes of one Set-Cookie line, lower-cased names ("" for flags)."""
    attributes = {}
    for part in line.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def cookie_expires_epoch(line: str) -> float:
    return parsedate_to_datetime(cookie_attributes(line)["expires"]).timestamp()


def sdk_raises(call: Callable[[], Any], code: int, type_: str) -> AppwriteException:
    """Run an SDK call that must fail with this status and error type."""
    with pytest.raises(AppwriteException) as caught:
        call()
    assert (caught.value.code, caught.value.type) == (code, type_), caught.value.response
    return caught.value


def assert_error(response: requests.Response, status: int, type_: str) -> dict:
    """An API.md §2 error: exactly message/code/type/version, code == status, the type, and no-store."""
    assert response.status_code == status, response.text
    assert response.headers.get("Content-Type", "").startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["code"] == status
    assert body["type"] == type_, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["version"], str) and body["version"]
    assert response.headers.get("Cache-Control") == "no-store"
    return body


@dataclass
class User:
    """An account created for tests, with what is needed to sign in as it."""

    id: str
    email: str
    password: str = PASSWORD
    account: dict = field(default_factory=dict)
    credential: str = ""  # a session kept for read-only use


def make_user(base: str, name: str = "") -> User:
    email = unique_email()
    account = sign_up(base, email, PASSWORD, name)
    return User(id=account["$id"], email=email, account=account)


def iso_epoch(stamp: str) -> float:
    """Seconds since the epoch of an API datetime (``2026-11-29T18:30:00.000+00:00``)."""
    return datetime.fromisoformat(stamp).timestamp()


# --- the dev outbox and one-time codes (API.md §4.3, §4.4) -----------------------------------------------------------

SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")
LINK = re.compile(r"https?://[^\s<>\"]+")


def outbox(base: str) -> list[dict[str, str]]:
    """Every email and SMS the local stack sent (newest last); `base` is the API base URL ending in /v1."""
    response = requests.get(f"{base.removesuffix('/v1')}/__dev/outbox", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def sent_to(base: str, to: str) -> list[dict[str, str]]:
    """The messages sent to one address or phone number, oldest first."""
    return [message for message in outbox(base) if message["to"] == to]


def last_message(base: str, to: str) -> dict[str, str]:
    messages = sent_to(base, to)
    assert messages, f"nothing was sent to {to}"
    return messages[-1]


def last_code(base: str, to: str) -> str:
    """The six-digit code of the newest email or SMS to `to`."""
    text = last_message(base, to)["text"]
    codes = set(SIX_DIGITS.findall(text))
    assert len(codes) == 1, f"not exactly one code in {text!r}"
    return codes.pop()


def last_link(base: str, to: str) -> str:
    """The link of the newest email to `to` (the email may show it more than once)."""
    text = last_message(base, to)["text"]
    links = set(LINK.findall(text))
    assert len(links) == 1, f"not exactly one link in {text!r}"
    return links.pop()


def code_sign_in(base: str, email: str) -> User:
    """A user signed in with an emailed code (created on the way if the email is new; its email ends verified).
    Spends one `POST /account/tokens/email` and one `POST /account/sessions/token` of the caller IP's budget."""
    token = request("POST", base, "/account/tokens/email", {"userId": "unique()", "email": email})
    assert token.status_code == 201, token.text
    user_id = token.json()["userId"]
    session = request("POST", base, "/account/sessions/token", {"userId": user_id, "secret": last_code(base, email)})
    assert session.status_code == 201, session.text
    credential = credential_of(session)
    assert credential, f"no credential in {dict(session.headers)}"
    return User(id=user_id, email=email, password="", credential=credential)


class SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Connects from a given loopback address (127.0.0.2, ...): the local stack takes the client IP from the TCP
    peer, so a test can spend another IP's per-IP limits."""

    def __init__(self, source_ip: str) -> None:
        self.source_ip = source_ip
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


def request_from(
    source_ip: str, method: str, base: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> requests.Response:
    """`request`, sent from `source_ip`."""
    with requests.Session() as session:
        session.mount("http://", SourceAddressAdapter(source_ip))
        return session.request(method, f"{base}{path}", json=body, headers=headers or {}, timeout=TIMEOUT)
