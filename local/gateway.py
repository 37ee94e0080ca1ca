"""API Gateway (REST API, Lambda proxy integration) emulation: routing, events, responses."""

from __future__ import annotations

import base64
import importlib.util
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from types import ModuleType
from typing import Any

from local.template import ACCOUNT_ID, REGION, Api, Function

API_ID = "localapi01"
ROUTE_NOT_FOUND_BODY = (
    '{"message":"The requested route was not found. Please refer to the API docs and try again.",'
    '"code":404,"type":"general_route_not_found","version":"1.0.0"}'
)
SERVER_ERROR_BODY = '{"message":"Server Error","code":500,"type":"general_server_error","version":"1.0.0"}'

Pairs = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True)
class Match:
    function: Function
    resource: str  # the route's resource path, e.g. /account/sessions/{sessionId}
    path_parameters: dict[str, str] | None


class Router:
    """Resource matching as REST API does it: the most specific resource wins, segment by
    segment (literal > {param} > {proxy+}); then its exact method, else its ANY."""

    def __init__(self, functions: Iterable[Function]) -> None:
        self._routes = [
            (method, resource, _segments(resource), function)
            for function in functions
            for method, resource in function.routes
        ]

    def match(self, method: str, path: str) -> Match | None:
        """`path` is the resource path without the stage, e.g. /account.

        The resource is chosen by path alone; a method it lacks is no match, even when a less
        specific resource (such as /{proxy+}) has it: that is what API Gateway does.
        """
        parts = _segments(path)
        best_rank: tuple[int, ...] | None = None
        candidates: list[tuple[str, str, dict[str, str], Function]] = []
        for route_method, resource, pattern, function in self._routes:
            params = _match(pattern, parts)
            if params is None:
                continue
            rank = tuple(_specificity(segment) for segment in pattern)
            if best_rank is None or rank > best_rank:
                best_rank, candidates = rank, []
            if rank == best_rank:
                candidates.append((route_method, resource, params, function))
        for wanted in (method, "ANY"):
            for route_method, resource, params, function in candidates:
                if route_method == wanted:
                    return Match(function, resource, params or None)
        return None


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _specificity(segment: str) -> int:
    if segment.endswith("+}"):
        return 0
    return 1 if segment.startswith("{") else 2


def _match(pattern: list[str], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, segment in enumerate(pattern):
        if index >= len(parts):
            return None
        if segment.endswith("+}"):  # greedy: one or more remaining segments
            params[segment[1:-2]] = "/".join(parts[index:])
            return params
        if segment.startswith("{"):
            params[segment[1:-1]] = parts[index]
        elif segment != parts[index]:
            return None
    return params if len(parts) == len(pattern) else None


def strip_stage(path: str, stage: str) -> str | None:
    """/v1/account → /account; None when the path is outside the stage."""
    if path == f"/{stage}":
        return "/"
    if path.startswith(f"/{stage}/"):
        return path[len(stage) + 1 :]
    return None


def build_event(
    method: str,
    path: str,
    headers: Pairs,
    query: Pairs,
    body_bytes: bytes,
    source_ip: str,
    *,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    stage: str = "v1",
    binary_media_types: Sequence[str] = ("image/*",),
) -> dict[str, Any]:
    """The v1 Lambda proxy event API Gateway sends for this request.

    `path` is the resource path without the stage; headers and query are pairs so that
    repeated names survive into the multiValue* fields.
    """
    pairs = _pairs(headers)
    forwarded = ", ".join([value for name, value in pairs if name.lower() == "x-forwarded-for"] + [source_ip])
    # API Gateway sets these (proto https); handlers choose the cookie Secure flag from them.
    header_pairs = [
        (name, value) for name, value in pairs if name.lower() not in ("x-forwarded-proto", "x-forwarded-for")
    ]
    header_pairs += [("X-Forwarded-For", forwarded), ("X-Forwarded-Proto", "http")]
    single_headers, multi_headers = _single_and_multi(header_pairs)
    single_query, multi_query = _single_and_multi(_pairs(query))
    lowered = {name.lower(): value for name, value in single_headers.items()}
    mimetype = lowered.get("content-type", "").split(";")[0].strip().lower()
    is_binary = any(fnmatchcase(mimetype, pattern.lower()) for pattern in binary_media_types)
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "extendedRequestId": request_id[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": source_ip, "userAgent": lowered.get("user-agent")},
            "domainName": lowered.get("host", "localhost"),
            "apiId": API_ID,
        },
        "body": _event_body(body_bytes, is_binary),
        "isBase64Encoded": is_binary and bool(body_bytes),
    }


def _pairs(items: Pairs) -> list[tuple[str, str]]:
    return list(items.items() if isinstance(items, Mapping) else items)


def _single_and_multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # the last value wins, as in API Gateway
        multi.setdefault(name, []).append(value)
    return single, multi


def _event_body(body: bytes, is_binary: bool) -> str | None:
    if not body:
        return None
    return base64.b64encode(body).decode() if is_binary else body.decode("utf-8", "replace")


class LambdaContext:
    """The attributes and method of the Python runtime's context object."""

    def __init__(self, function: Function) -> None:
        self.function_name = function.logical_id
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function.logical_id}"
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.logical_id}"
        self.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


_import_lock = threading.Lock()
# One invocation at a time: a Lambda container serves one request at a time (Powertools keeps
# the current event on the resolver), and moto's conditional writes are not atomic across threads.
# HTTP handling stays concurrent; only the handler call is serialised.
_invocation_lock = threading.Lock()


def load_module(function: Function) -> ModuleType:
    """Import the function's module once, as functions.<name>.<module> (every file is app.py)."""
    module_name = f"functions.{function.name}.{function.module}"
    with _import_lock:
        module = sys.modules.get(module_name)
        if module is None or getattr(module, "__file__", None) != str(function.module_file):
            spec = importlib.util.spec_from_file_location(module_name, function.module_file)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {function.module_file}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[module_name]
                raise
    return module


def load_handler(function: Function) -> Callable[[dict[str, Any], Any], Any]:
    return getattr(load_module(function), function.handler)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def accepts_binary(headers: Pairs, binary_media_types: Sequence[str]) -> bool:
    """API Gateway's rule: a base64 answer goes out as bytes only when the request's first Accept
    type matches a binary media type (otherwise the client gets the base64 text)."""
    accept = next((value for name, value in _pairs(headers) if name.lower() == "accept"), "")
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return any(fnmatchcase(first, pattern.lower()) for pattern in binary_media_types)


def to_http(result: Any, binary: bool = True) -> HttpResponse:
    """Turn a proxy-integration result into the HTTP response; ValueError if malformed.

    When a header is in both `headers` and `multiValueHeaders`, only the latter's values
    are sent (API Gateway's documented merge). A base64 body is decoded when `binary`.
    """
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        raise ValueError(f"malformed Lambda proxy response: {result!r:.200}")
    multi = result.get("multiValueHeaders") or {}
    multi_names = {name.lower() for name in multi}
    headers = [
        (name, str(value)) for name, value in (result.get("headers") or {}).items() if name.lower() not in multi_names
    ]
    headers += [(name, str(value)) for name, values in multi.items() for value in values]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") and binary else body.encode()
    return HttpResponse(result["statusCode"], headers, data)


@dataclass(frozen=True)
class GatewayResponse:
    """One of API Gateway's own answers; header values are mapping expressions."""

    status: int
    headers: Mapping[str, str]
    body: str

    def render(self, request_headers: Pairs) -> HttpResponse:
        lowered = {name.lower(): value for name, value in _pairs(request_headers)}
        headers = [("Content-Type", "application/json")]
        for name, expression in self.headers.items():
            if expression.startswith("'") and expression.endswith("'"):
                headers.append((name, expression[1:-1]))
            elif expression.lower().startswith("method.request.header."):
                value = lowered.get(expression[len("method.request.header.") :].lower())
                if value is not None:
                    headers.append((name, value))
        return HttpResponse(self.status, headers, self.body.encode())


_GATEWAY_HEADERS = {"Cache-Control": "'no-store'"}
# Used when the template does not customise them. Unknown routes are a 403
# MISSING_AUTHENTICATION_TOKEN in AWS; our API contract says 404.
DEFAULT_GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": GatewayResponse(404, _GATEWAY_HEADERS, ROUTE_NOT_FOUND_BODY),
    "DEFAULT_5XX": GatewayResponse(502, _GATEWAY_HEADERS, SERVER_ERROR_BODY),
}


def gateway_response(api: Api, kind: str) -> GatewayResponse:
    """The template's customisation of `kind` over our default.

    A status set on DEFAULT_5XX applies to every 5XX answer (AWS documents this), so a
    crashing handler gets that status instead of 502.
    """
    default = DEFAULT_GATEWAY_RESPONSES[kind]
    spec = api.gateway_responses.get(kind) or {}
    return GatewayResponse(
        status=int(spec.get("StatusCode", default.status)),
        headers=(spec.get("ResponseParameters") or {}).get("Headers", default.headers),
        body=(spec.get("ResponseTemplates") or {}).get("application/json", default.body),
    )


class Gateway:
    """Serves one REST API stage: stage prefix, routing, proxy event, invocation."""

    def __init__(self, functions: Sequence[Function], api: Api) -> None:
        self.functions = list(functions)
        self.api = api
        self.router = Router(self.functions)
        self._not_found = gateway_response(api, "MISSING_AUTHENTICATION_TOKEN")
        self._server_error = gateway_response(api, "DEFAULT_5XX")

    def preload(self) -> None:
        """Import every handler now, so an import error shows at startup."""
        for function in self.functions:
            load_handler(function)

    def handle(self, method: str, path: str, headers: Pairs, query: Pairs, body: bytes, source_ip: str) -> HttpResponse:
        """Answer one HTTP request; `path` includes the stage (/v1/account)."""
        headers = _pairs(headers)
        resource_path = strip_stage(path, self.api.stage)
        match = self.router.match(method, resource_path) if resource_path is not None else None
        if match is None:
            return self._not_found.render(headers)
        event = build_event(
            method,
            resource_path or "/",
            headers,
            query,
            body,
            source_ip,
            resource=match.resource,
            path_parameters=match.path_parameters,
            stage=self.api.stage,
            binary_media_types=self.api.binary_media_types,
        )
        try:
            handler = load_handler(match.function)
            with _invocation_lock:
                result = handler(event, LambdaContext(match.function))
            return to_http(result, accepts_binary(headers, self.api.binary_media_types))
        except Exception:  # what Lambda would log; the client gets the gateway's 5XX
            print(f"{match.function.name}: invocation failed", file=sys.stderr)
            traceback.print_exc()
            return self._server_error.render(headers)
