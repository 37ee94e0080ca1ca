"""The router every function uses (authcore/http/router.py behind authcore/http/app.py): matching,
input checks before dependencies, dependencies once per request, the proxy answer's shape."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.shared.cookies import Cookie
from pydantic import BaseModel

from authcore.errors import ApiError
from authcore.http.app import create_app, ok
from authcore.http.router import Depends, Query, Request, Response

ROOT = Path(__file__).resolve().parents[2]


class Name(BaseModel):
    name: str


def _event(method: str, path: str, body: object = None, query: dict | None = None, **headers: str) -> dict:
    return {
        "httpMethod": method,
        "path": path,
        "headers": headers,
        "queryStringParameters": query,
        "body": None if body is None else json.dumps(body),
    }


def _error(answer: dict) -> tuple[int, str, str]:
    body = json.loads(answer["body"])
    return answer["statusCode"], body["type"], body["message"]


def test_path_segments_match_what_api_gateway_passes_and_the_v1_prefix_is_stripped():
    app = create_app()

    @app.get("/users/<user>/sessions/<session>")
    def handler(user: str, session: str):
        return Response(200, "text/plain", f"{user}|{session}")

    answer = app.resolve(_event("GET", "/v1/users/a.b-c_d~e/sessions/x:y@z"))
    assert (answer["statusCode"], answer["body"]) == (200, "a.b-c_d~e|x:y@z")
    assert _error(app.resolve(_event("POST", "/v1/users/a/sessions/b")))[:2] == (404, "general_route_not_found")
    assert _error(app.resolve(_event("GET", "/v1/users/a/sessions/b/c")))[:2] == (404, "general_route_not_found")
    assert _error(app.resolve(_event("GET", "/v1/users//sessions/b")))[:2] == (404, "general_route_not_found")


def test_each_dependency_runs_once_per_request_after_the_input_is_checked():
    app = create_app()
    calls = []

    def read_event(request: Request) -> dict:
        calls.append("event")
        return request.event

    def session(event: Annotated[dict, Depends(read_event)]) -> str:
        calls.append("session")
        if "X-Session" not in event["headers"]:
            raise ApiError("general_unauthorized_scope")
        return event["headers"]["X-Session"]

    @app.post("/things")
    def handler(owner: Annotated[str, Depends(session)], body: Name, event: Annotated[dict, Depends(read_event)]):
        return ok(Name(name=f"{owner}:{body.name}"))

    answer = app.resolve(_event("POST", "/v1/things", {"name": "n"}, **{"X-Session": "s"}))
    assert json.loads(answer["body"]) == {"name": "s:n"}
    assert calls == ["event", "session"]  # read_event once, shared by the handler and `session`

    calls.clear()
    assert _error(app.resolve(_event("POST", "/v1/things", {"other": 1}))) == (
        400,
        "general_argument_invalid",
        'Param "name" is not optional.',
    )
    assert calls == []  # a bad body is refused before anyone is authenticated
    assert _error(app.resolve(_event("POST", "/v1/things", {"name": "n"})))[:2] == (401, "general_unauthorized_scope")


def test_bodies_that_are_no_json_object_get_appwrites_wording():
    app = create_app()

    @app.post("/things")
    def handler(body: Name):
        return ok(body)

    not_an_object = "Invalid request body: it must be a JSON object."
    assert _error(app.resolve(_event("POST", "/things")))[2] == not_an_object  # no body at all
    assert _error(app.resolve(_event("POST", "/things", ["name"])))[2] == not_an_object
    assert _error(app.resolve({**_event("POST", "/things"), "body": "{"}))[2] == not_an_object
    for body in ("abc", "%%%", base64.b64encode(b"\xff\xfe").decode()):  # not base64 (twice); not UTF-8
        encoded = {**_event("POST", "/things"), "body": body, "isBase64Encoded": True}
        assert _error(app.resolve(encoded))[2] == not_an_object
    plain = _event("POST", "/things", {"name": "n"}, **{"Content-Type": "text/plain"})
    assert _error(app.resolve(plain))[2] == "Invalid request body: send it as application/json."
    wrong = _event("POST", "/things", {"name": 5})
    assert _error(app.resolve(wrong))[2] == "Invalid `name` param: Input should be a valid string"


def test_an_optional_body_may_be_absent_and_query_parameters_keep_their_constraints():
    app = create_app()

    @app.get("/things")
    def handler(size: Annotated[int, Query(ge=1, le=10)] = 3, label: str | None = None, body: Name | None = None):
        return Response(200, "text/plain", f"{size}|{label}|{body}")

    assert app.resolve(_event("GET", "/things"))["body"] == "3|None|None"
    assert app.resolve(_event("GET", "/things", query={"size": "7", "label": "a,b"}))["body"] == "7|a,b|None"
    assert _error(app.resolve(_event("GET", "/things", query={"size": "11"}))) == (
        400,
        "general_argument_invalid",
        "Invalid `size` param: Input should be less than or equal to 10",
    )


def test_the_answer_is_a_rest_proxy_answer_with_binary_bodies_and_cookies():
    app = create_app()

    @app.get("/image")
    def handler():
        cookies = [Cookie(name="a", value="1"), Cookie(name="b", value="2")]
        return Response(200, "image/png", b"\x89PNG", headers={"X-One": "1"}, cookies=cookies)

    answer = app.resolve(_event("GET", "/image"))
    assert answer["isBase64Encoded"] is True
    assert base64.b64decode(answer["body"]) == b"\x89PNG"
    assert answer["multiValueHeaders"] == {
        "X-One": ["1"],
        "Content-Type": ["image/png"],
        "Set-Cookie": ["a=1; Secure", "b=2; Secure"],
    }


def test_an_unexpected_error_is_a_generic_500():
    app = create_app()

    @app.get("/boom")
    def handler():
        raise KeyError("a secret-looking detail")

    status, type_, message = _error(app.resolve(_event("GET", "/boom")))
    assert (status, type_) == (500, "general_server_error")
    assert "secret" not in message


IMPORT_EVERY_FUNCTION = """
import importlib.util, json, sys
from pathlib import Path
for folder in sorted(Path(sys.argv[1]).iterdir()):
    spec = importlib.util.spec_from_file_location(f"fn_{folder.name}", folder / "app.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
import botocore.httpsession  # what every function's first AWS client imports
heavy = ("aws_lambda_powertools.event_handler", "asyncio", "boto3", "s3transfer")
loaded = [name for name, module in sys.modules.items() if module is not None and name.startswith(heavy)]
if sys.modules.get("urllib3.contrib.pyopenssl") is not None:  # botocore's way into pyOpenSSL
    loaded.append("urllib3.contrib.pyopenssl")
print(json.dumps(sorted(loaded)))
"""


def test_no_function_imports_powertools_resolvers_asyncio_boto3_or_botocores_pyopenssl_context():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "core")}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_FUNCTION, ROOT / "functions"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []
