"""What the no-secrets-in-logs test needs: a capture of everything the functions write, and a recorder
at the handler boundary that gives each invocation its own request id, its own slice of the logs, and
harvests every secret its event and its answer carry.

The capture: Powertools' handler holds the stream it was given when the first Logger was created (at
import time, long before a test starts), so capfd alone would miss it. For the test, that handler
writes to whatever sys.stdout is at the time (capfd's, in each phase of the test), every Logger of
the service is put at DEBUG, and a root handler stands in for the Lambda runtime's, which ships what
other libraries log through the root logger (at their own levels: WARNING unless configured, as in
Lambda). capfd also catches print(), warnings and anything written to the file descriptors. The
test module's first test proves each of these paths reaches the capture.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import pkgutil
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

from aws_lambda_powertools.logging.filters import SuppressFilter
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

import authcore
from authcore.security.tokens import decode_credential

# Request fields whose values are secrets (their leaves, whatever their type: a malformed body counts).
SECRET_FIELDS = {"password", "oldPassword", "secret", "otp"}
# Answer fields that carry a secret: a TOTP secret, its otpauth URI, recovery codes, the security phrase.
SECRET_ANSWERS = {
    "secret": "TOTP secret",
    "uri": "otpauth URI",
    "recoveryCodes": "recovery code",
    "phrase": "phrase",
    "jwt": "JWT",
}
SHORT = 12  # shorter values (six-digit codes, their base64) only count as whole words


class LogCapture:
    """Everything written to stdout and stderr since the test began, read in chunks."""

    def __init__(self, capfd: Any) -> None:
        self.capfd = capfd
        self.chunks: list[str] = []

    def read(self) -> str:
        """What was written since the last read (it stays part of `text`)."""
        out, err = self.capfd.readouterr()
        self.chunks.append(out + err)
        return self.chunks[-1]

    @property
    def text(self) -> str:
        self.read()
        return "".join(self.chunks)


class CurrentStdout:
    """Writes to whatever sys.stdout is at the time: pytest gives each phase of a test (setup, call)
    its own capture, so a stream taken once would be closed by the next phase."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def service_loggers(service: str) -> list[logging.Logger]:
    """The service's Powertools Logger and its children (`Logger(child=True)` in a module)."""
    return [
        logger
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and (name == service or name.startswith(f"{service}."))
    ]


def capture_logs(capfd: Any, monkeypatch: Any) -> Iterator[LogCapture]:
    """(For a fixture.) Every Logger at DEBUG, every Powertools handler writing into capfd; undone after."""
    for module in pkgutil.walk_packages(authcore.__path__, "authcore."):
        importlib.import_module(module.name)  # so that every module's Logger exists from here on
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")  # for a Logger first created during the test
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    service = os.environ["POWERTOOLS_SERVICE_NAME"]
    loggers = service_loggers(service)
    levels = [(logger, logger.level) for logger in loggers]
    handlers = {
        handler
        for logger in logging.root.manager.loggerDict.values()
        if (handler := getattr(logger, "powertools_handler", None)) is not None
    }
    stdout = CurrentStdout()
    streams = [(handler, handler.setStream(stdout)) for handler in handlers]
    root = logging.StreamHandler(stdout)
    root.setFormatter(LambdaPowertoolsFormatter())
    root.addFilter(SuppressFilter(service))  # as Powertools does to the runtime's: no duplicates
    logging.root.addHandler(root)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield LogCapture(capfd)
    finally:
        logging.root.removeHandler(root)
        for handler, stream in streams:
            handler.setStream(stream)
        for logger, level in levels:
            logger.setLevel(level)


# --- the secrets of a flow -----------------------------------------------------------------------


def forms(value: str) -> set[str]:
    """How a secret could be written: as is, JSON-escaped (ASCII-only or not), URL-encoded, base64 (padded or not)."""
    raw = value.encode()
    encoded = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value),
        *encoded,
        *(text.rstrip("=") for text in encoded),
    }


def found_in(text: str, value: str) -> bool:
    for form in forms(value):
        if len(form) >= SHORT:
            if form in text:
                return True
        elif re.search(rf"(?<![0-9A-Za-z]){re.escape(form)}(?![0-9A-Za-z])", text):
            return True
    return False


class Secrets:
    """Every secret seen in a flow, with its kinds (for a failure message that does not print it)."""

    def __init__(self) -> None:
        self.kinds: dict[str, set[str]] = {}

    def add(self, kind: str, value: Any) -> None:
        if isinstance(value, dict | list):
            for leaf in value.values() if isinstance(value, dict) else value:
                self.add(kind, leaf)
        elif value not in (None, "", True, False):
            self.kinds.setdefault(str(value), set()).add(kind)

    def credential(self, kind: str, value: Any) -> None:
        """A session credential: the whole value, and the secret inside it."""
        self.add(kind, value)
        if isinstance(value, str) and (decoded := decode_credential(value)):
            self.add(f"{kind} (its decoded secret)", decoded[1])

    def all_kinds(self) -> set[str]:
        return set().union(*self.kinds.values())

    def of_kind(self, kind: str) -> list[str]:
        return [value for value, kinds in self.kinds.items() if kind in kinds]

    def leaked_into(self, text: str) -> set[str]:
        """The kinds of the secrets found in `text`."""
        return set().union(*(kinds for value, kinds in self.kinds.items() if found_in(text, value)))

    def from_event(self, event: dict[str, Any]) -> None:
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
        self.credential("X-Appwrite-Session header", headers.get("x-appwrite-session"))
        for pair in (headers.get("cookie") or "").split(";"):
            self.credential("session cookie sent", pair.partition("=")[2].strip())
        self.fallback("X-Fallback-Cookies sent", headers.get("x-fallback-cookies"))
        authorization = headers.get("authorization") or ""
        self.add("Authorization header", authorization)
        self.add("Authorization header", authorization.partition(" ")[2])
        self.add("X-Appwrite-Key header", headers.get("x-appwrite-key"))
        self.add("X-Appwrite-JWT header", headers.get("x-appwrite-jwt"))
        if event.get("body"):
            text = (
                base64.b64decode(event["body"]).decode("utf-8", "replace")
                if event["isBase64Encoded"]
                else event["body"]
            )
            try:
                body = json.loads(text)
            except ValueError:
                return
            if isinstance(body, dict):
                for field in SECRET_FIELDS & body.keys():
                    self.add(f"request {field}", body[field])

    def from_answer(self, result: dict[str, Any]) -> None:
        headers = [*(result.get("headers") or {}).items()]
        headers += [
            (name, value) for name, values in (result.get("multiValueHeaders") or {}).items() for value in values
        ]
        for name, value in headers:
            if name.lower() == "x-fallback-cookies":
                self.fallback("X-Fallback-Cookies answered", value)
            elif name.lower() == "set-cookie":
                self.credential("session cookie set", value.partition("=")[2].partition(";")[0])
        if result.get("body") and not result.get("isBase64Encoded"):
            body = json.loads(result["body"])
            if isinstance(body, dict):
                for field, kind in SECRET_ANSWERS.items():
                    self.add(kind, body.get(field))

    def fallback(self, kind: str, value: str | None) -> None:
        if not value or value == "{}":
            return
        self.add(f"{kind} (whole header)", value)
        stored = json.loads(value)
        if isinstance(stored, dict):
            for credential in stored.values():
                self.credential(kind, credential)

    def from_outbox(self, entries: list[dict[str, str]]) -> None:
        """Codes in every email and SMS, and the secret of every verification link."""
        for entry in entries:
            for code in re.findall(r"(?<![0-9])[0-9]{6}(?![0-9])", entry["text"]):
                self.add("six-digit code sent", code)
            for link in re.findall(r"https?://[^\s<>\"]+", entry["text"]):
                self.add("verification link secret", parse_qs(urlsplit(link).query).get("secret"))


# --- the handler boundary ------------------------------------------------------------------------


@dataclass
class Invocation:
    function: str
    request_id: str
    status: int
    logs: str  # what was written while the handler ran


class Recorder:
    """Wraps every handler the `api` fixture calls: a unique request id per invocation, the planted
    headers, the secrets of the event and the answer, and what was logged meanwhile."""

    def __init__(self, logs: LogCapture, planted_headers: dict[str, str]) -> None:
        self.logs = logs
        self.planted_headers = planted_headers
        self.invocations: list[Invocation] = []
        self.secrets = Secrets()

    def wrap(self, load_handler: Callable[[Any], Callable]) -> Callable[[Any], Callable]:
        def load(function: Any) -> Callable:
            handler = load_handler(function)

            def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
                request_id = f"req-{uuid.uuid4()}"
                event["requestContext"]["requestId"] = request_id
                for name, value in self.planted_headers.items():
                    event["headers"][name] = value
                    event["multiValueHeaders"][name] = [value]
                self.secrets.from_event(event)
                self.logs.read()  # what came before belongs to no invocation (it is still searched)
                result = handler(event, context)
                self.invocations.append(Invocation(function.name, request_id, result["statusCode"], self.logs.read()))
                self.secrets.from_answer(result)
                return result

            return invoke

        return load
