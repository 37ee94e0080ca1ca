"""CORS of API.md §1: credentials-mode answers for the allowed app origins only. No sign-up.

The local stack also allows any loopback origin (a front end on Vite's :5173 works with `make dev`); a deployed
stack does not (tests/integration/test_deployed_origins.py).
"""

from __future__ import annotations

import pytest
import requests

from tests.e2e.helpers import (
    ALLOWED_ORIGIN,
    FOREIGN_ORIGIN,
    OTHER_ALLOWED_ORIGIN,
    TIMEOUT,
    LocalStack,
    User,
    assert_error,
    auth,
    get_account,
    request,
)

EXPOSED = {"x-fallback-cookies", "x-appwrite-session", "x-nuvix-session"} | {
    f"x-ratelimit-{part}" for part in ("limit", "remaining", "reset")
}


def _names(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def assert_granted(response: requests.Response, origin: str) -> None:
    assert response.headers.get("Access-Control-Allow-Origin") == origin, dict(response.headers)
    assert response.headers.get("Access-Control-Allow-Credentials") == "true"
    assert "origin" in _names(response.headers.get("Vary"))


def assert_not_granted(response: requests.Response) -> None:
    assert "Access-Control-Allow-Origin" not in response.headers, dict(response.headers)


@pytest.mark.parametrize("origin", [ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN])
def test_allowed_origin_on_a_normal_answer(base_url: str, shared_user: User, origin: str) -> None:
    response = get_account(base_url, {**auth(shared_user.credential), "Origin": origin})
    assert response.status_code == 200
    assert_granted(response, origin)
    assert _names(response.headers.get("Access-Control-Expose-Headers")) >= EXPOSED


@pytest.mark.parametrize(
    ("method", "path", "status", "type_"),
    [
        ("GET", "/account", 401, "general_unauthorized_scope"),
        ("GET", "/nope", 404, "general_route_not_found"),
        ("POST", "/account/sessions/email", 400, "general_argument_invalid"),
    ],
)
def test_allowed_origin_on_an_error(base_url: str, method: str, path: str, status: int, type_: str) -> None:
    response = request(method, base_url, path, {} if method == "POST" else None, {"Origin": ALLOWED_ORIGIN})
    assert_error(response, status, type_)
    assert_granted(response, ALLOWED_ORIGIN)


def test_exposed_headers_on_an_error(base_url: str) -> None:
    """A 429 carries X-RateLimit-*, a sign-in error may come back to a page that reads headers."""
    response = request("POST", base_url, "/account/sessions/email", {}, {"Origin": ALLOWED_ORIGIN})
    assert_error(response, 400, "general_argument_invalid")
    assert _names(response.headers.get("Access-Control-Expose-Headers")) >= EXPOSED


def test_allowed_origin_on_another_projects_error(base_url: str) -> None:
    response = get_account(base_url, {"Origin": ALLOWED_ORIGIN, "X-Appwrite-Project": "other"})
    assert_error(response, 404, "project_not_found")
    assert_granted(response, ALLOWED_ORIGIN)


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:8080", "http://[::1]:4321"])
def test_any_loopback_origin_is_granted_locally(local_stack: LocalStack, shared_user: User, origin: str) -> None:
    response = get_account(local_stack.base_url, {**auth(shared_user.credential), "Origin": origin})
    assert response.status_code == 200
    assert_granted(response, origin)
    preflight = requests.options(
        f"{local_stack.base_url}/account/sessions/email",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=TIMEOUT,
    )
    assert_granted(preflight, origin)
    notes = local_stack.console(f"Origin {origin} ")
    assert notes and "a deployed stack needs AllowedOrigins=" in notes[0] and f",{origin} (" in notes[0]


def test_a_refused_origin_says_how_to_allow_it(local_stack: LocalStack) -> None:
    origin, later = "https://app.refused.example", "https://later.refused.example"
    for sent in (origin, origin, later):
        assert_not_granted(get_account(local_stack.base_url, {"Origin": sent}))
    assert local_stack.console(f"Origin {later}:"), local_stack.output()  # printed after any line of the 2nd request
    notes = local_stack.console(f"Origin {origin}:")
    assert len(notes) == 1, "only the first refusal is printed"
    assert notes[0].strip().startswith(f"CORS: refused Origin {origin}:")
    assert '--parameter-overrides "AllowedOrigins=' in notes[0] and f",{origin}" in notes[0]


@pytest.mark.parametrize(
    "origin",
    [
        FOREIGN_ORIGIN,
        "null",
        "http://localhost:3000.evil.example",
        "http://localhost.evil.example:5173",
        "http://127.0.0.1.nip.io:5173",
        "http://192.168.1.20:5173",
    ],
)
def test_foreign_origin_gets_no_grant(base_url: str, shared_user: User, origin: str) -> None:
    normal = get_account(base_url, {**auth(shared_user.credential), "Origin": origin})
    assert normal.status_code == 200
    assert_not_granted(normal)
    error = get_account(base_url, {"Origin": origin})
    assert_error(error, 401, "general_unauthorized_scope")
    assert_not_granted(error)


def test_foreign_origin_gets_no_grant_on_an_unknown_route(base_url: str) -> None:
    """Unknown routes are answered by API Gateway itself (a gateway response), not by a function."""
    response = request("GET", base_url, "/nope", headers={"Origin": FOREIGN_ORIGIN})
    assert_error(response, 404, "general_route_not_found")
    assert_not_granted(response)


def test_never_a_wildcard(base_url: str) -> None:
    for origin in (ALLOWED_ORIGIN, FOREIGN_ORIGIN):
        response = get_account(base_url, {"Origin": origin})
        assert response.headers.get("Access-Control-Allow-Origin") != "*"


@pytest.mark.parametrize("path", ["/account/sessions/email", "/account", "/account/sessions/current"])
def test_preflight_from_an_allowed_origin(base_url: str, path: str) -> None:
    response = requests.options(
        f"{base_url}{path}",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-appwrite-project,x-fallback-cookies",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 204, response.text
    assert_granted(response, ALLOWED_ORIGIN)
    assert _names(response.headers.get("Access-Control-Allow-Methods")) >= {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "options",
    }
    allowed_headers = _names(response.headers.get("Access-Control-Allow-Headers"))
    assert allowed_headers >= {
        "content-type",
        "x-appwrite-project",
        "x-appwrite-session",
        "x-appwrite-jwt",
        "x-appwrite-locale",
        "x-appwrite-response-format",
        "x-appwrite-key",
        "x-nuvix-project",
        "x-nuvix-session",
        "x-sdk-name",
        "x-sdk-platform",
        "x-sdk-language",
        "x-sdk-version",
        "x-fallback-cookies",
    }, allowed_headers


def test_preflight_from_a_foreign_origin(base_url: str) -> None:
    response = requests.options(
        f"{base_url}/account/sessions/email",
        headers={"Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "POST"},
        timeout=TIMEOUT,
    )
    assert_not_granted(response)
    assert "Access-Control-Allow-Credentials" not in response.headers
