"""Handlers called in-process with their events/ samples, AWS emulated by moto."""

from __future__ import annotations

import base64
import copy
import json
import os
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from authcore.config import settings
from authcore.security.tokens import decode_credential
from authcore.store import table
from local import aws, template
from local.gateway import LambdaContext, load_handler
from tests.conftest import FUNCTIONS, TEMPLATE

EVENTS = Path(__file__).resolve().parents[2] / "events"
PASSWORD = "correct horse battery"


@dataclass
class Answer:
    status: int
    headers: dict[str, list[str]]
    body: Any

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    @property
    def credential(self) -> str:
        return json.loads(self.header("X-Fallback-Cookies"))["a_session_default"]


class DynamoCalls:
    """Counts DynamoDB round trips and the IAM actions they need, through botocore's event hooks."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self.actions: set[str] = set()

    def hook(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.operations.append(model.name)
        if model.name == "TransactWriteItems":
            kinds = {next(iter(item)) for item in params["TransactItems"]}
            self.actions |= {"ConditionCheckItem" if k == "ConditionCheck" else f"{k}Item" for k in kinds}
        elif model.name == "TransactGetItems":
            self.actions.add("GetItem")
        else:
            self.actions.add(model.name)

    def clear(self) -> None:
        self.operations.clear()
        self.actions.clear()


class Api:
    """Calls a function's handler with its events/ sample, adjusted like a real request would be."""

    def __init__(self, calls: DynamoCalls) -> None:
        self.calls = calls
        self.actions_by_function: dict[str, set[str]] = {}

    def __call__(
        self,
        name: str,
        body: Any = None,
        *,
        session: str | None = None,
        headers: dict[str, str] | None = None,
        path: dict[str, str] | None = None,
        ip: str | None = None,
        route: str | None = None,
        query: dict[str, str] | None = None,
    ) -> Answer:
        """`route` calls the function for another of its paths (an alias); `query` replaces the query string."""
        event = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
        if route:
            event["resource"] = event["path"] = event["requestContext"]["resourcePath"] = route
            event["requestContext"]["path"] = "/v1" + route
        if query is not None:
            event["queryStringParameters"] = query or None
            event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
        extra = dict(headers or {})
        if session:
            extra["X-Appwrite-Session"] = session
        for key, value in extra.items():
            event["headers"][key] = value
            event["multiValueHeaders"][key] = [value]
        if body is not None:
            # Binary media type */*: API Gateway hands every body over base64-encoded.
            text = body if isinstance(body, str) else json.dumps(body)
            event["body"] = base64.b64encode(text.encode("utf-8", "surrogateescape")).decode()
            event["isBase64Encoded"] = True
        if path:
            event["pathParameters"] = path
            event["path"] = re.sub(r"\{(\w+)\+?\}", lambda m: path[m.group(1)], event["resource"])
        if ip:
            event["requestContext"]["identity"]["sourceIp"] = ip
        self.calls.clear()
        function = FUNCTIONS[name]
        result = load_handler(function)(event, LambdaContext(function))
        self.actions_by_function.setdefault(name, set()).update(self.calls.actions)
        headers_out: dict[str, list[str]] = {}
        for key, value in (result.get("headers") or {}).items():
            headers_out.setdefault(key.lower(), []).append(value)
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers_out.setdefault(key.lower(), []).extend(values)
        text = result.get("body") or ""
        if result.get("isBase64Encoded"):
            return Answer(result["statusCode"], headers_out, base64.b64decode(text))
        return Answer(result["statusCode"], headers_out, json.loads(text) if text else None)

    # Shortcuts for the common setup steps.
    def sign_up(self, email: str = "ada@example.com", **extra: Any) -> dict[str, Any]:
        answer = self("create_account", {"userId": "unique()", "email": email, "password": PASSWORD, **extra})
        assert answer.status == 201, answer.body
        return answer.body

    def sign_in(self, email: str = "ada@example.com", password: str = PASSWORD) -> Answer:
        return self("create_email_password_session", {"email": email, "password": password})

    def session_for(self, email: str = "ada@example.com") -> str:
        answer = self.sign_in(email)
        assert answer.status == 201, answer.body
        return answer.credential


@pytest.fixture
def aws_emulation():
    with mock_aws():
        physical = aws.create_resources(TEMPLATE, template.Resolver(TEMPLATE, template.DEV_PARAMETERS))
        assert physical["Table"].ref == os.environ["TABLE_NAME"]
        table._client = None  # a fresh client per test, inside this emulation
        yield
        table._client = None


@pytest.fixture
def dynamo_calls(aws_emulation) -> DynamoCalls:
    calls = DynamoCalls()
    table.client().meta.events.register("before-parameter-build.dynamodb", calls.hook)
    return calls


@pytest.fixture
def api(dynamo_calls) -> Api:
    return Api(dynamo_calls)


@pytest.fixture
def user_id_of():
    def of(credential: str) -> str:
        return decode_credential(credential)[0]

    return of


# --- email, SMS and one-time codes ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_delivery_clients():
    """SES, SNS, KMS, the code key and the JWT signing key are cached per container: drop them around every
    test, so they are created inside the current emulation (as table._client is in aws_emulation)."""
    from authcore.delivery import aws
    from authcore.security import codes, kms
    from authcore.services import jwts

    aws._clients.clear()
    codes._key = jwts._signer = None
    kms._client = None
    yield
    aws._clients.clear()
    codes._key = jwts._signer = None
    kms._client = None


class Sent:
    """What moto recorded as sent (SES v2 emails, SNS SMS), read through the dev outbox."""

    def __init__(self) -> None:
        from local.outbox import Outbox

        self.outbox = Outbox()

    def to(self, address: str) -> list[dict[str, str]]:
        return [entry for entry in self.outbox.entries() if entry["to"] == address]

    def last(self, address: str) -> dict[str, str]:
        messages = self.to(address)
        assert messages, f"nothing was sent to {address}"
        return messages[-1]

    def code(self, address: str) -> str:
        """The six-digit code of the last message to `address`."""
        found = re.findall(r"(?<![0-9])[0-9]{6}(?![0-9])", self.last(address)["text"])
        assert len(found) == 1, self.last(address)["text"]
        return found[0]

    def link(self, address: str) -> str:
        """The verification link (http://localhost:3000/...) of the last email to `address`."""
        found = set(re.findall(r"http://localhost:3000/[^\s<>\"]*", self.last(address)["text"]))
        assert len(found) == 1, self.last(address)["text"]
        return found.pop()

    def count(self) -> int:
        return len(self.outbox.entries())


@pytest.fixture
def sent(aws_emulation) -> Sent:
    return Sent()


def table_items(prefix: str = "") -> list[dict[str, Any]]:
    """Every item of the table (plain values), optionally only those whose pk starts with `prefix`."""
    from authcore.store.table import client, table_name, unmarshal

    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table_name(), "ConsistentRead": True}
    while True:
        page = client().scan(**request)
        items += [unmarshal(item) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [item for item in items if item["pk"].startswith(prefix)]


def token_items(user_id: str | None = None, spent: bool = False) -> list[dict[str, Any]]:
    """The stored TOKEN# items not spent yet (of one user, or of all); with `spent`, the spent ones,
    which stay as tombstones until TTL removes them (API.md §7)."""
    prefix = f"USER#{user_id}" if user_id else "USER#"
    return [item for item in table_items(prefix) if item["sk"].startswith("TOKEN#") and ("spentAt" in item) == spent]


def profile(user_id: str) -> dict[str, Any] | None:
    from authcore.store import users as users_store

    return users_store.get_user(user_id)


class MovedClock:
    """A clock `advance(ms)` moves forward, for the modules given to moved_clock."""

    offset_ms = 0

    def now_ms(self) -> int:
        from authcore import clock as real_clock

        return real_clock.now_ms() + self.offset_ms

    def advance(self, ms: int) -> None:
        self.offset_ms += ms


def moved_clock(monkeypatch, module: Any) -> MovedClock:
    """Make `module` read its `now_ms` from a MovedClock."""
    moved = MovedClock()
    monkeypatch.setattr(module, "now_ms", moved.now_ms)
    return moved


@pytest.fixture
def clock(monkeypatch):
    """Moves the clock the code rules read (services/codes.py `now_ms`) forward by `advance(ms)`."""
    from authcore.services import codes

    return moved_clock(monkeypatch, codes)


def call_at(api: Api, name: str, route: str, body: Any = None, *, session: str | None = None) -> Answer:
    """Call function `name` as API Gateway would for `route` (one of its other paths, e.g. an alias)."""
    return api(name, body, session=session, route=route)


def rate_counts() -> dict[tuple[str, str], int]:
    """Every fixed-window rate counter as (pk, window) -> count. A counter at 0 equals a missing one."""
    return {
        (item["pk"], item["sk"]): item["count"]
        for item in table_items("RATE#")
        if item["sk"] != "cooldown" and item["count"] != 0
    }


def cooldowns() -> list[str]:
    """The pk of every per-destination send cooldown in the table."""
    return [item["pk"] for item in table_items("RATE#") if item["sk"] == "cooldown"]


def lift_cooldowns() -> None:
    """As if the one-message-per-minute cooldowns had run out: delete them."""
    from authcore.store.table import client, marshal, table_name

    for pk in cooldowns():
        client().delete_item(TableName=table_name(), Key=marshal({"pk": pk, "sk": "cooldown"}))


def lift_rate_limits() -> None:
    """As if every rate-limit window had run out (for walks that sign up more users than one hour allows)."""
    from authcore.store.table import client, marshal, table_name

    for pk, window in rate_counts():
        client().delete_item(TableName=table_name(), Key=marshal({"pk": pk, "sk": window}))


@contextmanager
def racing(other: Callable[[], Any], item_kind: str, sk_prefix: str = "", operation: str = "TransactWriteItems"):
    """Let `other` (a whole request, or a write) run once, right before the first transaction holding
    an `item_kind` ("Put", "Delete", …) item (whose sort key starts with `sk_prefix`): two requests
    that both read before either writes. Yields a list that then holds what `other` returned.
    With `operation` "UpdateItem": right before the first single UpdateItem on such a key."""
    others: list[Any] = []

    def matches(item: dict[str, Any]) -> bool:
        if item_kind not in item:
            return False
        key = item[item_kind].get("Key") or item[item_kind].get("Item", {})
        return key.get("sk", {}).get("S", "").startswith(sk_prefix)

    def other_first(params: dict[str, Any], **_: Any) -> None:
        items = params.get("TransactItems", []) if operation == "TransactWriteItems" else [{item_kind: params}]
        if not others and any(matches(item) for item in items):
            others.append(None)  # taken before running, so that it runs once
            others[0] = other()

    event = f"before-parameter-build.dynamodb.{operation}"
    table.client().meta.events.register(event, other_first)
    try:
        yield others
    finally:
        table.client().meta.events.unregister(event, other_first)


# --- MFA -----------------------------------------------------------------------------------------


@pytest.fixture
def totp_clock(monkeypatch):
    """The server's TOTP time pinned to the middle of a 30 s step (see mfa_fixtures.pin_totp_clock)."""
    from tests.integration.mfa_fixtures import pin_totp_clock

    return pin_totp_clock(monkeypatch)


@pytest.fixture
def mfa_clock(monkeypatch):
    from tests.integration.mfa_fixtures import move_mfa_clock

    return move_mfa_clock(monkeypatch)


@pytest.fixture
def ada(api):
    """A signed-up user with a password session (modules may define their own `ada`)."""
    from tests.integration.mfa_fixtures import sign_up_and_in

    return sign_up_and_in(api)


@pytest.fixture
def environment():
    """Changes settings for one test: set(name, value); restored (and settings re-read) afterwards."""
    saved: dict[str, str | None] = {}

    def change(name: str, value: str) -> None:
        saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value
        settings.cache_clear()

    yield change
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    settings.cache_clear()


from .oauth_fixtures import idp  # noqa: E402, F401 - the social sign-in provider fixture (it needs Api from above)
