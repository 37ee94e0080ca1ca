"""The local stack's API Gateway emulation and template reading, on small inline templates."""

from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path

import pytest

from local.gateway import (
    ROUTE_NOT_FOUND_BODY,
    SERVER_ERROR_BODY,
    Gateway,
    LambdaContext,
    Router,
    build_event,
    strip_stage,
    to_http,
)
from local.template import Api, Function, Physical, Resolver, api, functions, parse, routes


def _function(name: str, *routes: tuple[str, str]) -> Function:
    return Function(
        logical_id=name,
        name=name,
        code_dir=Path("/nowhere") / name,
        module_file=Path("/nowhere") / name / "app.py",
        module="app",
        handler="lambda_handler",
        routes=routes,
        environment={},
        policies=[],
        memory_mb=128,
        timeout_s=3,
    )


ROUTER = Router(
    [
        _function("get_account", ("GET", "/account")),
        _function("get_session", ("GET", "/account/sessions/{sessionId}")),
        _function("get_current", ("GET", "/account/sessions/current")),
        _function("any_account", ("ANY", "/account/{rest+}")),
        _function("preflight", ("OPTIONS", "/{proxy+}")),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/account", "get_account", None),
        ("GET", "/account/", "get_account", None),
        ("GET", "/account/sessions/current", "get_current", None),  # literal beats {param}
        ("GET", "/account/sessions/abc", "get_session", {"sessionId": "abc"}),  # {param} beats {proxy+}
        ("GET", "/account/sessions/abc/x", "any_account", {"rest": "sessions/abc/x"}),
        ("POST", "/account/x", "any_account", {"rest": "x"}),  # ANY takes other methods
        ("OPTIONS", "/other/path", "preflight", {"proxy": "other/path"}),
        ("OPTIONS", "/account/x", "any_account", {"rest": "x"}),  # /account/{rest+} is more specific
    ],
)
def test_route_precedence(method: str, path: str, function: str, params: dict[str, str] | None) -> None:
    match = ROUTER.match(method, path)
    assert match is not None
    assert (match.function.name, match.path_parameters) == (function, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/account"),
        ("GET", "/nope"),
        ("OPTIONS", "/"),  # a greedy {proxy+} needs at least one segment
        # The resource is chosen by path first: a method it lacks does not fall back to a
        # less specific resource that has it (API Gateway answers MISSING_AUTHENTICATION_TOKEN).
        ("OPTIONS", "/account"),
        ("POST", "/account/sessions/abc"),
    ],
)
def test_unknown_routes(method: str, path: str) -> None:
    assert ROUTER.match(method, path) is None


def test_exact_method_beats_any_on_the_same_resource() -> None:
    router = Router([_function("any", ("ANY", "/a")), _function("get", ("GET", "/a"))])
    assert router.match("GET", "/a").function.name == "get"  # type: ignore[union-attr]
    assert router.match("PUT", "/a").function.name == "any"  # type: ignore[union-attr]


def test_stage_is_required_and_stripped() -> None:
    assert strip_stage("/v1/account/sessions", "v1") == "/account/sessions"
    assert strip_stage("/v1", "v1") == "/"
    assert strip_stage("/account", "v1") is None
    assert strip_stage("/v10/account", "v1") is None


def _event(**overrides: object) -> dict:
    args: dict = {
        "method": "GET",
        "path": "/account/sessions/abc",
        "headers": [],
        "query": [],
        "body_bytes": b"",
        "source_ip": "10.0.0.7",
        "resource": "/account/sessions/{sessionId}",
        "path_parameters": {"sessionId": "abc"},
    }
    args.update(overrides)
    return build_event(**args)


def test_event_shape() -> None:
    event = _event(headers=[("Host", "127.0.0.1:3000"), ("User-Agent", "sdk/1")])
    assert event["resource"] == "/account/sessions/{sessionId}"
    assert event["path"] == "/account/sessions/abc"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"sessionId": "abc"}
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["path"] == "/v1/account/sessions/abc"
    assert context["resourcePath"] == "/account/sessions/{sessionId}"
    assert context["stage"] == "v1"
    assert context["accountId"] == "123456789012"
    assert context["domainName"] == "127.0.0.1:3000"
    assert context["identity"] == {"sourceIp": "10.0.0.7", "userAgent": "sdk/1"}
    assert len(context["requestId"]) == 36
    assert isinstance(context["requestTimeEpoch"], int)


def test_event_without_path_parameters() -> None:
    event = build_event("GET", "/account", {}, {}, b"", "127.0.0.1")
    assert event["resource"] == "/account"
    assert event["pathParameters"] is None


def test_query_arrays_keep_every_value() -> None:
    event = _event(query=[("queries[0]", "a"), ("queries[1]", "b"), ("tag", "x"), ("tag", "y")])
    assert event["queryStringParameters"] == {"queries[0]": "a", "queries[1]": "b", "tag": "y"}
    assert event["multiValueQueryStringParameters"] == {
        "queries[0]": ["a"],
        "queries[1]": ["b"],
        "tag": ["x", "y"],
    }


def test_repeated_headers_and_forwarding_headers() -> None:
    headers = [("Accept", "a/b"), ("Accept", "c/d"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "1.2.3.4")]
    event = _event(headers=headers)
    assert event["headers"]["Accept"] == "c/d"  # the last value wins
    assert event["multiValueHeaders"]["Accept"] == ["a/b", "c/d"]
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["headers"]["X-Forwarded-For"] == "1.2.3.4, 10.0.0.7"
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["http"]


def test_text_body() -> None:
    event = _event(headers={"content-type": "application/json"}, body_bytes=b'{"a":1}')
    assert (event["body"], event["isBase64Encoded"]) == ('{"a":1}', False)


def test_binary_body_is_base64() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    event = _event(headers={"Content-Type": "image/png"}, body_bytes=png, binary_media_types=("image/*",))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png


def test_two_set_cookies_survive() -> None:
    response = to_http(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "Set-Cookie": "dropped=1"},
            "multiValueHeaders": {"Set-Cookie": ["a_session_p=x; HttpOnly", "a_session_p_legacy=x; HttpOnly"]},
            "body": "{}",
            "isBase64Encoded": False,
        }
    )
    assert response.status == 201
    assert [value for name, value in response.headers if name == "Set-Cookie"] == [
        "a_session_p=x; HttpOnly",
        "a_session_p_legacy=x; HttpOnly",
    ]
    assert response.body == b"{}"


def test_base64_response_is_decoded_and_content_type_defaults_to_json() -> None:
    png = {"statusCode": 200, "body": base64.b64encode(b"\x89PNG").decode(), "isBase64Encoded": True}
    assert to_http(png).body == b"\x89PNG"
    response = to_http({"statusCode": 204, "body": ""})
    assert (response.body, response.headers) == (b"", [("Content-Type", "application/json")])


def test_malformed_result_is_rejected() -> None:
    with pytest.raises(ValueError):
        to_http({"body": "{}"})


def test_lambda_context() -> None:
    context = LambdaContext(_function("create_account"))
    assert context.function_name == "create_account"
    assert context.invoked_function_arn.endswith(":function:create_account")
    assert context.memory_limit_in_mb == 128
    assert 0 < context.get_remaining_time_in_millis() <= 3000


TEMPLATE = """
Parameters:
  ProjectId: {Type: String, Default: demo}
  AllowedOrigins: {Type: CommaDelimitedList, Default: "http://a.test,http://b.test"}
Globals:
  Function:
    Handler: app.lambda_handler
    Timeout: 10
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        TABLE_ARN: !GetAtt Table.Arn
        PROJECT_ID: !Ref ProjectId
        ALLOWED_ORIGINS: !Join [",", !Ref AllowedOrigins]
        FIRST_ORIGIN: !Select [0, !Ref AllowedOrigins]
        ISSUER: !Sub "${ProjectId}@${AWS::Region}"
        FLAG: true
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      BinaryMediaTypes: ["image~1*"]
      DefinitionBody:
        paths:
          /things:
            options:
              x-amazon-apigateway-integration:
                uri: !Sub "arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${EchoFunction.Arn}/invocations"
            x-amazon-apigateway-any-method: {x-amazon-apigateway-integration: {type: mock}}
  Table:
    Type: AWS::DynamoDB::Table
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Environment: {Variables: {PROJECT_ID: own}}
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/things/{thingId}", Method: get}}
        Post: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /things, Method: post}}
  CrashFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/crash/
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /crash, Method: get}}
"""

ECHO = """
import json

def lambda_handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps({"event": event, "function": context.function_name}),
        "isBase64Encoded": False,
    }
"""


CRASH = """
def lambda_handler(event, context):
    raise NotImplementedError
"""


@pytest.fixture
def stack(tmp_path: Path) -> tuple[dict, Path]:
    """The inline template with its two functions under tmp_path."""
    text = TEMPLATE
    for function, code in (("echo", ECHO), ("crash", CRASH)):
        # Handlers load as functions.<folder>.app: folders unique per test keep modules apart.
        folder = f"{function}_{tmp_path.name.replace('-', '_')}"
        text = text.replace(f"functions/{function}/", f"functions/{folder}/")
        (tmp_path / "functions" / folder).mkdir(parents=True)
        (tmp_path / "functions" / folder / "app.py").write_text(code)
    return parse(text), tmp_path


def test_functions_and_routes_from_template(stack: tuple[dict, Path]) -> None:
    template, root = stack
    echo, crash = functions(template, root=root)
    assert echo.logical_id == "EchoFunction"
    assert echo.module_file == root / f"functions/{echo.name}/app.py"
    assert (echo.module, echo.handler, echo.timeout_s, echo.memory_mb) == ("app", "lambda_handler", 10, 128)
    # Its events, then the DefinitionBody's Lambda integrations with it (a mock integration is no route).
    assert echo.routes == (("GET", "/things/{thingId}"), ("POST", "/things"), ("OPTIONS", "/things"))
    assert echo.environment == {
        "TABLE_NAME": "local-Table",  # placeholder: no emulation running
        "TABLE_ARN": "arn:aws:dynamodb:us-east-1:123456789012:local-Table",
        "PROJECT_ID": "own",  # the function's own variable wins over Globals
        "ALLOWED_ORIGINS": "http://a.test,http://b.test",
        "FIRST_ORIGIN": "http://a.test",
        "ISSUER": "demo@us-east-1",
        "FLAG": "true",
    }
    assert crash.environment["PROJECT_ID"] == "demo"
    assert routes(template) == {
        ("GET", "/things/{thingId}"): echo.name,
        ("POST", "/things"): echo.name,
        ("OPTIONS", "/things"): echo.name,
        ("GET", "/crash"): crash.name,
    }
    assert api(template) == Api(stage="v1", binary_media_types=("image/*",), gateway_responses={})


def test_resolver_overrides_and_physical_resources(stack: tuple[dict, Path]) -> None:
    template, root = stack
    resolver = Resolver(template, {"AllowedOrigins": "http://c.test", "ProjectId": "p2"})
    resolver.resources["Table"] = Physical("real-table", {"Arn": "arn:table"})
    _, crash = functions(template, resolver, root=root)
    assert (crash.environment["TABLE_NAME"], crash.environment["TABLE_ARN"]) == ("real-table", "arn:table")
    assert crash.environment["ALLOWED_ORIGINS"] == "http://c.test"
    assert crash.environment["PROJECT_ID"] == "p2"
    with pytest.raises(ValueError, match="Unknown"):
        Resolver(template, {"Unknown": "x"})


def test_resolver_conditions_and_no_value() -> None:
    template = parse(
        textwrap.dedent(
            """
            Parameters:
              Env: {Type: String, Default: dev}
            Conditions:
              IsProd: !Equals [!Ref Env, prod]
              NotProd: !Not [!Condition IsProd]
            """
        )
    )
    resolver = Resolver(template)
    value = {"A": {"Fn::If": ["IsProd", "p", "d"]}, "B": {"Fn::If": ["NotProd", {"Ref": "AWS::NoValue"}, 1]}}
    assert resolver.resolve(value) == {"A": "d"}
    assert resolver.resolve({"Fn::Sub": ["${X}-${!Literal}", {"X": {"Ref": "Env"}}]}) == "dev-${Literal}"
    assert resolver.resolve({"Fn::Split": [",", "a,b"]}) == ["a", "b"]


def _gateway(template: dict, root: Path) -> Gateway:
    return Gateway(functions(template, root=root), api(template))


def test_gateway_invokes_the_handler(stack: tuple[dict, Path]) -> None:
    template, root = stack
    response = _gateway(template, root).handle(
        "GET", "/v1/things/t1", [("Origin", "http://a.test")], [("q", "1")], b"", "127.0.0.1"
    )
    assert response.status == 200
    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2"]
    payload = json.loads(response.body)
    assert payload["function"] == "EchoFunction"
    event = payload["event"]
    assert (event["resource"], event["path"], event["pathParameters"]) == (
        "/things/{thingId}",
        "/things/t1",
        {"thingId": "t1"},
    )
    assert event["requestContext"]["path"] == "/v1/things/t1"
    assert event["queryStringParameters"] == {"q": "1"}


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/nope"), ("DELETE", "/v1/things"), ("GET", "/things/t1")])
def test_unknown_route_gets_the_404_gateway_response(stack: tuple[dict, Path], method: str, path: str) -> None:
    template, root = stack
    response = _gateway(template, root).handle(method, path, {"origin": "http://evil.test"}, {}, b"", "127.0.0.1")
    assert response.status == 404
    assert json.loads(response.body) == json.loads(ROUTE_NOT_FOUND_BODY)
    assert json.loads(response.body)["type"] == "general_route_not_found"
    headers = dict(response.headers)
    assert "Access-Control-Allow-Origin" not in headers  # a gateway answer cannot vet the Origin
    assert "Access-Control-Allow-Credentials" not in headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "application/json"


def test_crashing_handler_gets_the_5xx_gateway_response(
    stack: tuple[dict, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    template, root = stack
    response = _gateway(template, root).handle("GET", "/v1/crash", {}, {}, b"", "127.0.0.1")
    assert response.status == 502
    assert response.body == SERVER_ERROR_BODY.encode()
    assert json.loads(response.body)["type"] == "general_server_error"
    assert "NotImplementedError" in capsys.readouterr().err
    assert "Access-Control-Allow-Origin" not in dict(response.headers)  # no Origin, nothing to echo


def test_template_gateway_responses_override_the_defaults(stack: tuple[dict, Path]) -> None:
    template, root = stack
    template["Resources"]["Api"]["Properties"]["GatewayResponses"] = {
        "DEFAULT_5XX": {
            "StatusCode": 500,
            "ResponseParameters": {
                "Headers": {"Access-Control-Allow-Origin": "method.request.header.origin", "Vary": "'Origin'"}
            },
            "ResponseTemplates": {"application/json": SERVER_ERROR_BODY},
        }
    }
    response = _gateway(template, root).handle("GET", "/v1/crash", {"Origin": "http://a.test"}, {}, b"", "127.0.0.1")
    assert response.status == 500  # a DEFAULT_5XX status replaces every 5XX status, 502 included
    assert dict(response.headers)["Vary"] == "Origin"
    assert dict(response.headers)["Access-Control-Allow-Origin"] == "http://a.test"
