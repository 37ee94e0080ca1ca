"""docs/openapi.json is the document generated from the handlers, valid, and complete (API.md §1, §2)."""

from __future__ import annotations

import difflib
import json

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from local.openapi import DOCUMENT_PATH, REFRESH_COMMAND, document, render
from local.template import routes
from tests.conftest import FUNCTIONS, TEMPLATE

SPEC = document(FUNCTIONS.values())
ERROR = {"$ref": "#/components/schemas/Error"}
PROJECT_REFS = [
    {"$ref": f"#/components/parameters/{name}"} for name in ("ProjectHeader", "NuvixProjectHeader", "ProjectQuery")
]
# API.md §4: the operations a caller without a session may use, and the ones exempt from the MFA gate.
NO_SESSION = {
    ("post", "/account"),
    ("post", "/account/sessions"),
    ("post", "/account/sessions/email"),
    ("post", "/account/sessions/token"),
    ("post", "/account/tokens/email"),
    ("post", "/account/tokens/phone"),
    ("put", "/account/verification"),
    ("put", "/account/verifications/email"),
    ("put", "/account/verification/phone"),
    ("put", "/account/verifications/phone"),
    ("get", "/avatars/qr"),
    ("post", "/account/tokens/magic-url"),
    ("put", "/account/sessions/magic-url"),
    ("put", "/account/sessions/phone"),
    ("put", "/account/verifications/email/otp"),
    ("post", "/account/sessions/anonymous"),
    ("post", "/account/recovery"),
    ("put", "/account/recovery"),
    ("post", "/account/recovery/otp"),
    ("put", "/account/recovery/otp"),
    ("get", "/.well-known/openid-configuration"),
    ("get", "/.well-known/jwks.json"),
    ("post", "/account/tokens/passkey"),
    ("put", "/account/tokens/passkey"),
    # Social sign-in: the browser flows (a session present is used only to link) and native ID tokens.
    ("get", "/account/sessions/oauth2/{provider}"),
    ("get", "/account/tokens/oauth2/{provider}"),
    ("get", "/account/sessions/oauth2/callback/{provider}/{projectId}"),
    ("post", "/account/sessions/oauth2/callback/{provider}/{projectId}"),
    ("post", "/account/sessions/id-token"),
}
GATE_EXEMPT = {
    ("get", "/account/mfa/factors"),
    ("post", "/account/mfa/challenge"),
    ("post", "/account/mfa/challenges"),
    ("put", "/account/mfa/challenge"),
    ("put", "/account/mfa/challenges"),
    ("delete", "/account/sessions/{sessionId}"),
}
GATE_NOTE = "user_more_factors_required"


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, operation) for path, ops in spec["paths"].items() for method, operation in ops.items()]


def test_the_committed_document_is_the_one_the_handlers_generate():
    committed = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
    generated = render(SPEC)
    if committed != generated:
        diff = list(
            difflib.unified_diff(
                committed.splitlines(), generated.splitlines(), "committed", "generated", n=1, lineterm=""
            )
        )
        changed = sum(1 for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---"))
        shown = "\n".join(diff[:60]) + ("\n…" if len(diff) > 60 else "")
        pytest.fail(
            f"docs/openapi.json is stale ({changed} lines differ): refresh it with `make openapi` "
            f"(or `{REFRESH_COMMAND}`) and commit it.\n{shown}",
            pytrace=False,
        )


def test_the_document_is_valid_openapi_3_1():
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in OpenAPIV31SpecValidator(SPEC).iter_errors()
    ]
    assert errors == []


def test_every_template_route_is_in_the_committed_document():
    committed = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    documented = {(method.upper(), path) for method, path, _ in operations(committed)}
    declared = {route for route in routes(TEMPLATE) if route[0] not in ("OPTIONS", "ANY")}
    assert declared - documented == set()


@pytest.mark.parametrize(
    ("method", "path", "operation"), operations(SPEC), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_operation_documents_the_error_model(method, path, operation):
    responses = operation["responses"]
    errors = {code: response for code, response in responses.items() if code.startswith(("4", "5"))}
    assert {"404", "500"} <= set(errors)  # 404: entrypoint's project_not_found; 500: anything unexpected
    for code, response in errors.items():
        assert response["content"] == {"application/json": {"schema": ERROR}}, code
        assert "Error `type`: `" in response["description"], code
    assert "`project_not_found`" in errors["404"]["description"]
    assert "`general_server_error`" in errors["500"]["description"]
    validated = "requestBody" in operation or any(p.get("in") == "query" for p in operation["parameters"])
    if validated:  # a body or query parameter that fails validation is a 400 general_argument_invalid
        assert "`general_argument_invalid`" in errors["400"]["description"]


@pytest.mark.parametrize(
    ("method", "path", "operation"), operations(SPEC), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_operation_accepts_the_project_as_entrypoint_does(method, path, operation):
    assert operation["parameters"][-3:] == PROJECT_REFS


def test_the_qr_image_documents_the_project_query_parameter_and_its_404():
    operation = SPEC["paths"]["/avatars/qr"]["get"]
    query = {SPEC["components"]["parameters"][ref["$ref"].rsplit("/", 1)[1]]["name"] for ref in PROJECT_REFS}
    assert "project" in query
    assert "`project_not_found`" in operation["responses"]["404"]["description"]


def test_session_and_mfa_gate_as_in_api_md():
    session = {(method, path) for method, path, operation in operations(SPEC) if "security" in operation}
    gated = {
        (method, path) for method, path, operation in operations(SPEC) if GATE_NOTE in operation.get("description", "")
    }
    everything = {(method, path) for method, path, _ in operations(SPEC)}
    # The Users API (API.md §6) takes a server API key, never a session.
    keyed = {
        (method, path)
        for method, path, operation in operations(SPEC)
        if operation.get("security") == [{"AppwriteKey": []}, {"NuvixKey": []}]
        and "Needs a server API key" in operation["description"]
    }
    assert keyed == {(method, path) for method, path in everything if path.startswith("/users")}
    assert session - keyed == everything - NO_SESSION - keyed
    assert not gated & keyed
    assert gated == session - keyed - GATE_EXEMPT


def test_every_session_operation_accepts_each_place_the_credential_is_read_from():
    schemes = SPEC["components"]["securitySchemes"]
    assert {(scheme["in"], scheme["name"]) for scheme in schemes.values()} == {
        ("cookie", "a_session_default"),
        ("cookie", "a_session_default_legacy"),
        ("cookie", "nx_session"),
        ("header", "X-Appwrite-Session"),
        ("header", "X-Nuvix-Session"),
        ("header", "X-Fallback-Cookies"),
        ("header", "X-Appwrite-JWT"),
        ("header", "X-Nuvix-JWT"),
        ("header", "X-Appwrite-Key"),
        ("header", "X-Nuvix-Key"),
    }
    session_schemes = [{name: []} for name in schemes if not name.endswith("Key")]
    for method, path, operation in operations(SPEC):
        if "security" in operation and not path.startswith("/users"):
            assert operation["security"] == session_schemes, (method, path)


def test_sign_in_and_sign_out_answers_document_their_cookie_headers_and_429_its_rate_limit_headers():
    cookie_headers = {"Set-Cookie", "X-Fallback-Cookies"}
    for method, path in [
        ("post", "/account/sessions/email"),
        ("post", "/account/sessions/token"),
        ("delete", "/account/sessions"),
        ("delete", "/account/sessions/{sessionId}"),
    ]:
        responses = SPEC["paths"][path][method]["responses"]
        success = next(response for code, response in responses.items() if code.startswith("2"))
        assert set(success["headers"]) == cookie_headers, (method, path)
    for method, path, operation in operations(SPEC):
        if "429" in operation["responses"]:
            assert set(operation["responses"]["429"]["headers"]) == {
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            }, (method, path)


def test_no_powertools_validation_models_are_left():
    """Validation errors are answered as 400 with the Error model, so Powertools' 422 models go."""
    schemas = set(SPEC["components"]["schemas"])
    assert not schemas & {"HTTPValidationError", "ValidationError", "ResponseValidationError"}
    assert {"Account", "Session", "SessionList", "Error", "MfaChallenge"} <= schemas


def test_patch_account_mfa_documents_its_429():
    """services/mfa.py update_mfa answers 429 when writes keep colliding."""
    assert "429" in SPEC["paths"]["/account/mfa"]["patch"]["responses"]
