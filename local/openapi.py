"""The OpenAPI document of the whole API, merged from each function's own resolver.

`python -m local.openapi --write` refreshes docs/openapi.json; a contract test checks that the
committed file matches the handlers. Without --write the document goes to stdout.

Each function documents its own route (parameters, body, success model, error statuses through
`doc()`). What every function shares is added here, at merge time: what `entrypoint` handles
(the project header or query parameter, 404 project_not_found), the session credential as
security schemes, the headers of sign-in, sign-out and rate-limited answers, tags and summaries.
"""

from __future__ import annotations

import argparse
import inspect
import json
import typing
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from types import ModuleType
from typing import Any

from local.gateway import load_module
from local.template import DEV_PARAMETERS, REGION, REPO_ROOT, Function, Resolver, functions, layers, load

DOCUMENT_PATH = REPO_ROOT / "docs" / "openapi.json"
REFRESH_COMMAND = ".venv/bin/python -m local.openapi --write"
TITLE = "authcore"
JSON = "application/json"

DESCRIPTION = """\
Account, session and multi-factor-authentication API on AWS Lambda, speaking the wire format of the
Appwrite and Nuvix client SDKs (the contract is `API.md`). Point an SDK at `https://<api-host>/v1`.

- **Project**: `X-Appwrite-Project` or `X-Nuvix-Project` header, or the `project` query parameter.
  A request without one is for this deployment's project; one naming another project gets
  `404 project_not_found`.
- **Session**: the credential is `base64({"id":"<userId>","secret":"<secret>"})`. Signing in sets it as
  the cookie `a_session_<projectId>` (and `_legacy`) and returns it in `X-Fallback-Cookies`. It is read
  from those cookies, `X-Appwrite-Session`/`X-Nuvix-Session`, or `X-Fallback-Cookies`, in that order.
- **MFA gate**: when MFA is on, a session with too few factors gets `401 user_more_factors_required`
  on gated routes until it completes a challenge (`POST` then `PUT /account/mfa/challenge`).
- **Errors**: every error is `{"message", "code", "type", "version"}` with `code` equal to the status;
  `type` is one of the types listed with each status. Rate limits answer `429` with `X-RateLimit-*`.
- **JWT**: `POST /account/jwts` signs a JWT (RS256) naming the user and session; `X-Appwrite-JWT` or
  `X-Nuvix-JWT` carrying it is accepted wherever a session is, while that session lives. Other APIs verify
  it alone through `/.well-known/openid-configuration` and its JWKS.
- Every answer carries `Cache-Control: no-store` (except the public discovery document and JWKS); an
  allowed `Origin` is echoed with credentials.
"""

# (tag, description, path prefixes) in API.md §4's order; a path gets the tag of its longest matching prefix.
TAGS = (
    ("Account", "The signed-in user's account and preferences.", ("/account",)),
    ("Verification", "Email link and phone code verification.", ("/account/verification",)),
    ("Sessions", "Sign-in with a password or a one-time code, and sessions.", ("/account/sessions", "/account/tokens")),
    ("MFA", "Multi-factor authentication: factors, authenticators, recovery codes, challenges.", ("/account/mfa",)),
    ("Avatars", "Images built from the request, such as the TOTP QR code.", ("/avatars",)),
    ("Identities", "Sign-in with OAuth2 providers: their accounts linked to the user.", ("/account/identities",)),
    ("Users", "Server API (API.md §6): users managed with a server API key, for support desks.", ("/users",)),
    ("JWT", "JWTs for the team's other APIs: discovery and public keys (API.md §8, docs/jwt.md).", ("/.well-known",)),
)

# API.md §1: where the project id may arrive. Optional everywhere.
PROJECT_PARAMETERS = {
    "ProjectHeader": {"name": "X-Appwrite-Project", "in": "header"},
    "NuvixProjectHeader": {"name": "X-Nuvix-Project", "in": "header"},
    "ProjectQuery": {"name": "project", "in": "query"},
}
PROJECT_DESCRIPTION = "The project id; when given, it must be this deployment's (else 404 `project_not_found`)."

# Functions that authenticate inside their service (to read the session with other items in one
# round trip), so their signature shows no session dependency; with whether they apply the MFA gate.
SESSION_READ_BY_SERVICE = {"update_mfa_challenge": False, "update_passkey_verification": True}

RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "The limit that was exceeded.",
    "X-RateLimit-Remaining": "Requests left in the window (0).",
    "X-RateLimit-Reset": "When the window or lockout ends, in Unix seconds.",
}


JWT_DESCRIPTION = "A JWT from `POST /account/jwts` (API.md §8); it names the session and wins over the others."


def security_schemes(cookie: str) -> dict[str, dict[str, Any]]:
    """API.md §1: every place the session credential is read from, in lookup order."""
    credential = 'The session credential, `base64({"id":"<userId>","secret":"<secret>"})`'
    return {
        "SessionCookie": {"in": "cookie", "name": cookie, "description": f"{credential}, set at sign-in."},
        "LegacySessionCookie": {"in": "cookie", "name": f"{cookie}_legacy", "description": f"{credential}."},
        "NuvixSessionCookie": {"in": "cookie", "name": "nx_session", "description": f"{credential}."},
        "AppwriteSession": {"in": "header", "name": "X-Appwrite-Session", "description": f"{credential}."},
        "NuvixSession": {"in": "header", "name": "X-Nuvix-Session", "description": f"{credential}."},
        "AppwriteJwt": {"in": "header", "name": "X-Appwrite-JWT", "description": JWT_DESCRIPTION},
        "NuvixJwt": {"in": "header", "name": "X-Nuvix-JWT", "description": JWT_DESCRIPTION},
        "FallbackCookies": {
            "in": "header",
            "name": "X-Fallback-Cookies",
            "description": f'A JSON object of credentials keyed by cookie name: `{{"{cookie}":"<credential>"}}`, '
            "as returned at sign-in (for browsers that block third-party cookies).",
        },
    }


SESSION_SCHEMES = tuple(security_schemes(""))
KEY_DESCRIPTION = "A server API key (`<keyId>.<secret>`), created with `python -m admin.keys create` (API.md §6)."
KEY_SCHEMES = {
    "AppwriteKey": {"in": "header", "name": "X-Appwrite-Key", "description": KEY_DESCRIPTION},
    "NuvixKey": {"in": "header", "name": "X-Nuvix-Key", "description": KEY_DESCRIPTION},
}


def document(functions: Iterable[Function], title: str = TITLE) -> dict[str, Any]:
    # authcore is importable only once the process is prepared (the layer on sys.path).
    from authcore.http import transport
    from authcore.http.app import API_VERSION

    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for function in functions:
        module = load_module(function)
        app = getattr(module, "app", None)
        if app is None:  # the CORS preflight answers OPTIONS for every path and has no resolver
            continue
        own = json.loads(_powertools_resolver(app).get_openapi_json_schema(title=title, version=API_VERSION))
        for path, operations in own["paths"].items():
            for method, operation in operations.items():
                paths.setdefault(path, {})[method] = _complete(operation, path, module, function.name)
        schemas.update(own.get("components", {}).get("schemas", {}))
    cookie = transport.cookie_name()
    schemes = {
        name: {"type": "apiKey", **scheme} for name, scheme in {**security_schemes(cookie), **KEY_SCHEMES}.items()
    }
    spec = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": API_VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/v1", "description": "This deployment's API (`https://<api-host>/v1`)."}],
        "tags": [{"name": name, "description": description} for name, description, _ in TAGS],
        "paths": dict(sorted(paths.items())),
        "components": {
            "parameters": {
                name: {**parameter, "required": False, "description": PROJECT_DESCRIPTION, "schema": {"type": "string"}}
                for name, parameter in PROJECT_PARAMETERS.items()
            },
            "headers": {
                name: {"description": description, "schema": {"type": "integer"}}
                for name, description in RATE_LIMIT_HEADERS.items()
            },
            "securitySchemes": schemes,
        },
    }
    # Powertools' own schemas (422 validation errors) are no longer referenced once 422 is gone.
    used = _referenced(spec["paths"], schemas)
    spec["components"]["schemas"] = {name: schemas[name] for name in sorted(used)}
    return spec


def _powertools_resolver(router: Any) -> Any:
    """The function's routes given to Powertools' resolver, which writes their OpenAPI operations: each
    handler as it looks from outside (dependencies are not input; a Query holds pydantic constraints)."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    resolver = APIGatewayRestResolver(enable_validation=True)
    for route in router.routes:
        resolver.route(route.rule, route.method, responses=route.responses)(_outside_view(route.handler))
    return resolver


def _outside_view(handler: Any) -> Any:
    """A stand-in with the handler's name and its parameters that come from the request."""
    from aws_lambda_powertools.event_handler.openapi.params import Query as PowertoolsQuery

    from authcore.http.router import Depends, Query, Request

    hints = typing.get_type_hints(handler, include_extras=True)
    parameters = []
    for parameter in inspect.signature(handler).parameters.values():
        hint = hints.get(parameter.name, str)
        extras = hint.__metadata__ if typing.get_origin(hint) is typing.Annotated else ()
        if hint is Request or any(isinstance(extra, Depends) for extra in extras):
            continue
        query = next((extra for extra in extras if isinstance(extra, Query)), None)
        if query:
            hint = typing.Annotated[typing.get_args(hint)[0], PowertoolsQuery(**query.constraints)]
        parameters.append(parameter.replace(annotation=hint))

    def stand_in(**_: Any) -> None:
        raise AssertionError("only documented, never called")

    stand_in.__name__ = stand_in.__qualname__ = handler.__name__
    stand_in.__module__, stand_in.__doc__ = handler.__module__, handler.__doc__
    stand_in.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return stand_in


def render(spec: dict[str, Any]) -> str:
    """The committed form: sorted keys, indent 2, trailing newline."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _complete(operation: dict[str, Any], path: str, module: ModuleType, name: str) -> dict[str, Any]:
    """Add to one function's operation what the shared entry point and helpers do."""
    from authcore.http import app as http_app

    # Powertools documents a 422 for validation errors; this API answers them as 400 (API.md §2).
    operation["responses"].pop("422", None)
    summary, _, details = _first_line(module.__doc__).partition(". ")
    operation["summary"] = summary.rstrip(".")
    operation["tags"] = [_tag(path)]
    session, gated = _session_needs(module, name)
    notes = ["Needs a session."] if session else []
    if scope := _key_scope(module):
        operation["security"] = [{scheme: []} for scheme in KEY_SCHEMES]  # either header
        notes.append(f"Needs a server API key (`X-Appwrite-Key` or `X-Nuvix-Key`) with the scope `{scope}`.")
    notes += [details] if details else []
    if session:
        operation["security"] = [{scheme: []} for scheme in SESSION_SCHEMES]  # any one of them
    if gated:
        notes.append("Subject to the MFA gate: a session with too few factors gets 401 `user_more_factors_required`.")
    if notes:
        operation["description"] = " ".join(notes)
    operation["parameters"] = [
        *operation.get("parameters", []),
        *({"$ref": f"#/components/parameters/{parameter}"} for parameter in PROJECT_PARAMETERS),
    ]
    responses = operation["responses"]
    for code, response in responses.items():
        if code.startswith(("4", "5")):
            response["description"] = _error_description(int(code))
    if "404" not in responses:  # only entrypoint's project check answers 404 here
        responses["404"] = {
            "description": _error_description(404, ["project_not_found"]),
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if "429" in responses:
        responses["429"]["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}
    if "204" in responses:  # Powertools documents an empty JSON media type; the answer has no body (`no_content`)
        responses["204"].pop("content", None)
    success = next(response for code, response in responses.items() if code.startswith(("2", "3")))
    if getattr(module, "redirect", None) is http_app.redirect:  # the OAuth2 flows: the browser goes on
        success["description"] = "Redirect"
        success["headers"] = {
            "Location": {"description": "Where the browser goes next.", "schema": {"type": "string"}},
            "Set-Cookie": {
                "description": "The new session's cookies (the callback of the session flow).",
                "schema": {"type": "string"},
            },
        }
    elif getattr(module, "signed_in", None) is http_app.signed_in:
        success["headers"] = _cookie_headers("The new session's credential cookies (and `_legacy`).")
    elif getattr(module, "signed_out", None) is http_app.signed_out:
        success["headers"] = _cookie_headers("When the current session ends: both cookies, expired.")
    return operation


def _first_line(docstring: str | None) -> str:
    """`POST /account: sign up. No session is created.` -> `Sign up. No session is created.`"""
    lines = (docstring or "").strip().splitlines()
    line = lines[0] if lines else ""
    text = line.partition(": ")[2] or line
    return text[:1].upper() + text[1:]


def _tag(path: str) -> str:
    matches = [(len(prefix), name) for name, _, prefixes in TAGS for prefix in prefixes if path.startswith(prefix)]
    return max(matches)[1]


def _session_needs(module: ModuleType, name: str) -> tuple[bool, bool]:
    """(needs a session, subject to the MFA gate), read from the handler's dependencies."""
    from authcore.http import depends
    from authcore.services.auth import Principal

    session = name in SESSION_READ_BY_SERVICE
    gated = SESSION_READ_BY_SERVICE.get(name, False)
    for handler in _handlers(module):
        for hint in typing.get_type_hints(handler, include_extras=True).values():
            if typing.get_origin(hint) is typing.Annotated and typing.get_args(hint)[0] is Principal:
                session = True
                used = {getattr(extra, "dependency", None) for extra in hint.__metadata__}
                gated = gated or bool(used & {depends.gated_session, depends.gated_session_with_all})
    return session, gated


def _key_scope(module: ModuleType) -> str:
    """The scope of the server API key the handler requires ("" when it needs none)."""
    from authcore.services.apikeys import ServerKey

    for handler in _handlers(module):
        for hint in typing.get_type_hints(handler, include_extras=True).values():
            if typing.get_origin(hint) is typing.Annotated and typing.get_args(hint)[0] is ServerKey:
                scopes = [getattr(getattr(extra, "dependency", None), "scope", "") for extra in hint.__metadata__]
                return next((scope for scope in scopes if scope), "")
    return ""


def _handlers(module: ModuleType) -> Iterator[Any]:
    """The functions the module defines itself (its route handlers)."""
    for _, value in inspect.getmembers(module, inspect.isfunction):
        if value.__module__ == module.__name__:
            yield value


def _error_description(status: int, types: list[str] | None = None) -> str:
    """The status and the error types it can carry (by default every API.md §2 type with that status)."""
    from authcore.errors import CATALOGUE

    types = types or [type_ for type_, (code, _) in CATALOGUE.items() if code == status]
    return f"{HTTPStatus(status).phrase}. Error `type`: {', '.join(f'`{type_}`' for type_ in types)}."


def _cookie_headers(cookies: str) -> dict[str, Any]:
    return {
        "Set-Cookie": {"description": cookies, "schema": {"type": "string"}},
        "X-Fallback-Cookies": {
            "description": "The same credential as a JSON object keyed by cookie name (`{}` after sign-out).",
            "schema": {"type": "string"},
        },
    }


def _referenced(node: Any, schemas: dict[str, Any]) -> set[str]:
    """Names of the component schemas `node` refers to, directly or through other schemas."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref", "")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found:
                    found.add(name)
                    pending.append(schemas[name])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _prepared_functions() -> list[Function]:
    """The template's functions, importable as the local stack imports them (same parameters)."""
    from local import aws
    from local.server import prepare_process  # not at the top: local.server imports this module

    template = load()
    template_functions = functions(template, Resolver(template, DEV_PARAMETERS))
    aws.fake_environment(REGION)
    prepare_process(template_functions, [REPO_ROOT, *layers(template)])
    return template_functions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.openapi", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {DOCUMENT_PATH.relative_to(REPO_ROOT)}")
    args = parser.parse_args(argv)
    text = render(document(_prepared_functions()))
    if args.write:
        DOCUMENT_PATH.parent.mkdir(exist_ok=True)
        DOCUMENT_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {DOCUMENT_PATH.relative_to(REPO_ROOT)}")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
