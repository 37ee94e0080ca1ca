"""Handlers called in-process with their events/ samples, AWS emulated by moto."""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

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
    ) -> Answer:
        event = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
        extra = dict(headers or {})
        if session:
            extra["X-Appwrite-Session"] = session
        for key, value in extra.items():
            event["headers"][key] = value
            event["multiValueHeaders"][key] = [value]
        if body is not None:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
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
