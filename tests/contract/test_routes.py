"""template.yaml's routes equal the OpenAPI document generated from the handlers."""

from local.openapi import document
from local.template import routes
from tests.conftest import FUNCTIONS, TEMPLATE


def test_template_routes_equal_openapi_routes():
    declared = {(method, path) for (method, path) in routes(TEMPLATE) if method not in ("OPTIONS", "ANY")}
    spec = document(FUNCTIONS.values())
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert documented == declared


def test_every_resource_has_a_preflight_and_unknown_paths_reach_a_function():
    """API Gateway picks the resource by path before the method, so each needs its own OPTIONS, and its
    own ANY for the methods it lacks (else API Gateway answers them itself, with no CORS grant). A new
    resource path needs its two lines in the Api's DefinitionBody (template.yaml)."""
    table = routes(TEMPLATE)
    resources = {path for (_, path) in table}
    assert {path for (method, path), name in table.items() if method == "OPTIONS" and name == "cors_preflight"} == (
        resources
    )
    assert {path for (method, path), name in table.items() if method == "ANY" and name == "route_not_found"} == (
        resources
    )


def test_document_has_no_powertools_422_and_uses_our_error_model():
    spec = document(FUNCTIONS.values())
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert errors, (method, path)
            for code in errors:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert {"Account", "Session", "SessionList", "Error"} <= set(spec["components"]["schemas"])


# API.md §4.5 and §4.7: method, path -> function, success status and what the success answer holds.
MFA_ROUTES = {
    ("PATCH", "/account/mfa"): ("update_mfa", "200", "Account"),
    ("GET", "/account/mfa/factors"): ("list_mfa_factors", "200", "MfaFactors"),
    ("POST", "/account/mfa/authenticators/{type}"): ("create_mfa_authenticator", "200", "MfaType"),
    ("PUT", "/account/mfa/authenticators/{type}"): ("update_mfa_authenticator", "200", "Account"),
    ("DELETE", "/account/mfa/authenticators/{type}"): ("delete_mfa_authenticator", "204", None),
    ("POST", "/account/mfa/recovery-codes"): ("create_mfa_recovery_codes", "201", "MfaRecoveryCodes"),
    ("GET", "/account/mfa/recovery-codes"): ("get_mfa_recovery_codes", "200", "MfaRecoveryCodes"),
    ("PATCH", "/account/mfa/recovery-codes"): ("update_mfa_recovery_codes", "200", "MfaRecoveryCodes"),
    ("POST", "/account/mfa/challenge"): ("create_mfa_challenge", "201", "MfaChallenge"),
    ("POST", "/account/mfa/challenges"): ("create_mfa_challenge", "201", "MfaChallenge"),
    ("PUT", "/account/mfa/challenge"): ("update_mfa_challenge", "200", "Session"),
    ("PUT", "/account/mfa/challenges"): ("update_mfa_challenge", "200", "Session"),
    ("GET", "/avatars/qr"): ("get_qr", "200", "image/png"),
}


def test_mfa_and_avatar_routes_reach_their_functions():
    table = routes(TEMPLATE)
    declared = {
        route: name
        for route, name in table.items()
        if route[1].startswith(("/account/mfa", "/avatars")) and route[0] not in ("OPTIONS", "ANY")
    }
    assert declared == {route: function for route, (function, _, _) in MFA_ROUTES.items()}


def test_mfa_and_avatar_routes_document_their_success_answer():
    spec = document(FUNCTIONS.values())
    for (method, path), (_, status, answer) in MFA_ROUTES.items():
        responses = spec["paths"][path][method.lower()]["responses"]
        assert [code for code in responses if code.startswith("2")] == [status], (method, path)
        if answer == "image/png":
            assert set(responses[status]["content"]) == {"image/png"}
        elif answer:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{answer}"}, (method, path)


def test_the_qr_query_parameters():
    operation = document([FUNCTIONS["get_qr"]])["paths"]["/avatars/qr"]["get"]
    parameters = {p["name"]: (p["in"], p.get("required", False)) for p in operation["parameters"] if "name" in p}
    assert parameters == {
        "text": ("query", True),
        "size": ("query", False),
        "margin": ("query", False),
        "download": ("query", False),
    }
