"""The local stack serves the OpenAPI document and a self-contained reference page built from it."""

from __future__ import annotations

import re

import pytest
import requests

from local.openapi import DOCUMENT_PATH
from tests.e2e.helpers import TIMEOUT


@pytest.fixture(scope="module")
def root(base_url: str) -> str:
    """The server's root, e.g. ``http://127.0.0.1:41234`` (the API is under /v1)."""
    return base_url.removesuffix("/v1")


def test_the_openapi_document_is_served_as_committed(root):
    answer = requests.get(f"{root}/__dev/openapi.json", timeout=TIMEOUT)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.text == DOCUMENT_PATH.read_text(encoding="utf-8")


def test_the_reference_page_shows_every_operation_and_fetches_nothing(root):
    spec = requests.get(f"{root}/__dev/openapi.json", timeout=TIMEOUT).json()
    answer = requests.get(f"{root}/__dev/docs", timeout=TIMEOUT)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    page = answer.text
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            section = re.search(rf"<section class=op id='{operation['operationId']}'>(.*?)</section>", page, re.S)
            assert section, (method, path)
            html = section.group(1)
            assert f">{method.upper()}</span><code>/v1{path.replace('<', '&lt;')}</code>" in html
            for code in operation["responses"]:
                assert f">{code}</span>" in html, (method, path, code)
    assert "<code>project_not_found</code>" in page
    assert "<code>a_session_default</code>" in page
    assert not re.search(r"<script|<link|\ssrc=|@import|https?://(?!&lt;api-host&gt;)", page)


def test_other_methods_and_unknown_dev_paths_are_not_the_reference(root):
    assert requests.post(f"{root}/__dev/docs", timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{root}/__dev/docs/nothing", timeout=TIMEOUT).status_code == 404


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, operation) for path, ops in spec["paths"].items() for method, operation in ops.items()]


def _url(root: str, path: str) -> str:
    return f"{root}/v1" + path.replace("{type}", "totp").replace("{sessionId}", "current")


def test_every_operation_answers_a_foreign_project_where_the_document_says_it_is_read(root):
    """The document's project parameters (header or query) and 404 project_not_found, checked on the wire."""
    spec = requests.get(f"{root}/__dev/openapi.json", timeout=TIMEOUT).json()
    for method, path, operation in _operations(spec):
        for ref in operation["parameters"]:
            if "$ref" not in ref:
                continue
            parameter = spec["components"]["parameters"][ref["$ref"].rsplit("/", 1)[1]]
            where = "headers" if parameter["in"] == "header" else "params"
            answer = requests.request(
                method.upper(), _url(root, path), json={}, timeout=TIMEOUT, **{where: {parameter["name"]: "another"}}
            )
            assert (answer.status_code, answer.json()["type"]) == (404, "project_not_found"), (method, path, parameter)
            assert "404" in operation["responses"]


def test_operations_without_a_body_need_a_session_exactly_where_the_document_says(root):
    """A body is validated before the session is looked up, so only body-less operations show it."""
    spec = requests.get(f"{root}/__dev/openapi.json", timeout=TIMEOUT).json()
    checked = 0
    for method, path, operation in _operations(spec):
        if "requestBody" in operation:
            continue
        answer = requests.request(method.upper(), _url(root, path), json={}, timeout=TIMEOUT)
        unauthorized = (answer.status_code, answer.json().get("type")) == (401, "general_unauthorized_scope")
        assert unauthorized == ("security" in operation), (method, path, answer.status_code)
        checked += 1
    assert checked >= 15


def test_completing_a_challenge_needs_a_session_as_documented(root):
    """The one operation whose handler reads the session in its service (local.openapi.SESSION_READ_BY_SERVICE)."""
    spec = requests.get(f"{root}/__dev/openapi.json", timeout=TIMEOUT).json()
    assert "security" in spec["paths"]["/account/mfa/challenge"]["put"]
    body = {"challengeId": "0123456789abcdef0123", "otp": "123456"}
    answer = requests.put(f"{root}/v1/account/mfa/challenge", json=body, timeout=TIMEOUT)
    assert (answer.status_code, answer.json()["type"]) == (401, "general_unauthorized_scope")
