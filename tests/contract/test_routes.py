"""template.yaml's routes equal the OpenAPI document generated from the handlers."""

from local.openapi import document
from local.template import routes
from tests.conftest import FUNCTIONS, TEMPLATE


def test_template_routes_equal_openapi_routes():
    declared = {(method.upper(), path) for (method, path) in routes(TEMPLATE) if method.upper() != "OPTIONS"}
    spec = document(FUNCTIONS.values())
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert documented == declared


def test_preflight_covers_every_path():
    assert routes(TEMPLATE)[("OPTIONS", "/{proxy+}")] == "cors_preflight"


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
