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
    """API Gateway picks the resource by path before the method, so each needs its own OPTIONS."""
    table = routes(TEMPLATE)
    resources = {path for (_, path) in table}
    assert {path for (method, path), name in table.items() if method == "OPTIONS" and name == "cors_preflight"} == (
        resources
    )
    assert table[("ANY", "/{proxy+}")] == "route_not_found"


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
