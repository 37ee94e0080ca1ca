"""The OpenAPI document of the whole API, merged from each function's own resolver."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from local.gateway import load_module
from local.template import Function

# Powertools documents a 422 for validation errors; this API answers them as 400 (API.md §2).
_POWERTOOLS_ONLY = ("HTTPValidationError", "ValidationError")


def document(functions: Iterable[Function], title: str = "authcore", version: str = "1.0.0") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for function in functions:
        app = getattr(load_module(function), "app", None)
        if app is None:  # the CORS preflight answers OPTIONS for every path and has no resolver
            continue
        own = json.loads(app.get_openapi_json_schema(title=title, version=version))
        for path, operations in own["paths"].items():
            for method, operation in operations.items():
                operation["responses"].pop("422", None)
                paths.setdefault(path, {})[method] = operation
        schemas.update(own.get("components", {}).get("schemas", {}))
    for name in _POWERTOOLS_ONLY:
        schemas.pop(name, None)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": "/v1"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
