"""The router of a one-route function: an API Gateway REST event in, a proxy response out.

It takes the place of Powertools' APIGatewayRestResolver, whose package imports every resolver (asyncio
with them) and whose validation middleware analyses the route at the first request: together about a
fifth of a cold start (docs/performance-cuts.md). The handler conventions are Powertools' own, so
local/openapi.py can hand the routes to Powertools to write the OpenAPI document from the code:

- `@app.post("/users/<userId>", responses=doc(...))`; a parameter named like a `<segment>` is that
  path parameter (a string);
- a parameter typed with a pydantic model (or `Model | None = None`) is the JSON body;
- `Annotated[T, Depends(f)]` is what `f` returns; `f` takes a `Request` or other dependencies, and each
  dependency runs once per request, in the order the parameters name them;
- any other parameter is a query parameter: `str`, `str | None = None`, or `Annotated[T, Query(...)]`
  with pydantic's constraints.

Input is checked before any dependency runs (as in Powertools): the first problem is raised as
`InvalidRequestError`, whose `errors()` are pydantic's, located ("body", field) or ("query", name).
"""

import base64
import inspect
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from types import NoneType, UnionType
from typing import Annotated, Any

from aws_lambda_powertools.shared.cookies import Cookie
from pydantic import BaseModel, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from authcore.http.transport import header

# Powertools' pattern for a `<name>` segment (RFC 3986's characters), so a path matches here iff it did there.
SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"


class Response:
    """What a handler returns: status, content type, body (bytes go out base64-encoded), headers, cookies."""

    def __init__(
        self,
        status_code: int,
        content_type: str | None = None,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        cookies: list[Cookie] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.headers = dict(headers) if headers else {}
        self.cookies = cookies or []
        if content_type:
            self.headers.setdefault("Content-Type", content_type)

    def to_proxy(self) -> dict[str, Any]:
        """The REST API proxy answer: every header in multiValueHeaders, each cookie one Set-Cookie."""
        headers = {name: [value] for name, value in self.headers.items()}
        if self.cookies:
            headers["Set-Cookie"] = [str(cookie) for cookie in self.cookies]
        binary = isinstance(self.body, bytes)
        body = base64.b64encode(self.body).decode() if binary else self.body
        return {"statusCode": self.status_code, "body": body, "isBase64Encoded": binary, "multiValueHeaders": headers}


class Request:
    """What a dependency asks for to read the request: its Lambda event."""

    __slots__ = ("event",)

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event


@dataclass(frozen=True)
class Depends:
    """`Annotated[T, Depends(f)]`: the parameter is f's answer for this request."""

    dependency: Callable[..., Any]


class Query:
    """`Annotated[T, Query(ge=1, le=10)]`: a query parameter with pydantic's Field constraints."""

    def __init__(self, **constraints: Any) -> None:
        self.constraints = constraints


class InvalidRequestError(Exception):
    """The request's body or query does not fit the route; `errors()` as pydantic reports them."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid request")
        self._errors = errors

    def errors(self) -> list[dict[str, Any]]:
        return self._errors


class RouteNotFoundError(Exception):
    """No route of this function answers the method and path."""


_REQUIRED = inspect.Parameter.empty


@dataclass(frozen=True)
class Parameter:
    """One parameter of a handler or dependency, and where its value comes from."""

    name: str
    source: str  # "path", "body", "query", "depends" or "request"
    default: Any = _REQUIRED
    model: type[BaseModel] | None = None  # the body's model
    adapter: TypeAdapter | None = None  # a query parameter that is more than a string
    dependency: Callable[..., Any] | None = None


def _optional(hint: Any) -> Any:
    """`X | None` -> X; anything else as it is."""
    if typing.get_origin(hint) in (UnionType, typing.Union):
        others = [arg for arg in typing.get_args(hint) if arg is not NoneType]
        if len(others) == 1:
            return others[0]
    return hint


def _parameters(function: Callable[..., Any], path_names: frozenset[str] = frozenset()) -> tuple[Parameter, ...]:
    hints = typing.get_type_hints(function, include_extras=True)
    found = []
    for name, declared in inspect.signature(function).parameters.items():
        hint, default = hints.get(name, str), declared.default
        extras = hint.__metadata__ if typing.get_origin(hint) is Annotated else ()
        depends = next((extra for extra in extras if isinstance(extra, Depends)), None)
        query = next((extra for extra in extras if isinstance(extra, Query)), None)
        bare = _optional(typing.get_args(hint)[0] if extras else hint)
        if depends:
            found.append(Parameter(name, "depends", dependency=depends.dependency))
        elif hint is Request:
            found.append(Parameter(name, "request"))
        elif name in path_names:
            found.append(Parameter(name, "path"))
        elif isinstance(bare, type) and issubclass(bare, BaseModel):
            found.append(Parameter(name, "body", default, model=bare))
        elif query:
            adapter = TypeAdapter(Annotated[typing.get_args(hint)[0], Field(**query.constraints)])
            found.append(Parameter(name, "query", default, adapter=adapter))
        elif bare is str:
            found.append(Parameter(name, "query", default))
        else:
            raise TypeError(f"{function.__name__}: cannot tell where parameter {name!r} comes from")
    return tuple(found)


def _missing(location: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "missing", "loc": location, "msg": "Field required", "input": None}


def _body(event: dict[str, Any]) -> Any:
    """The parsed JSON body (None when there is none), as Powertools read it: only JSON is taken."""
    content_type = header(event, "Content-Type").strip()
    if content_type and not content_type.startswith("application/json"):
        message = f"Unsupported content type: {content_type}"
        raise InvalidRequestError([{"type": "unsupported_content_type", "loc": ("body",), "msg": message, "input": {}}])
    text = event.get("body")
    try:
        if text and event.get("isBase64Encoded"):
            text = base64.b64decode(text, validate=True).decode()
        return json.loads(text) if text else None
    except ValueError as error:  # not base64, not UTF-8 or not JSON: no JSON object either way
        problem = {"type": "json_invalid", "loc": ("body",), "msg": "not a JSON text", "input": {}}
        raise InvalidRequestError([problem]) from error


@dataclass
class Route:
    method: str
    rule: str  # Powertools' form: /users/<userId>
    handler: Callable[..., Any]
    responses: dict[int, dict[str, Any]] | None
    pattern: re.Pattern[str] = field(init=False)
    parameters: tuple[Parameter, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = frozenset(re.findall(r"<(\w+)>", self.rule))
        segments = re.sub(r"<(\w+)>", lambda name: f"(?P<{name[1]}>{SEGMENT})", self.rule)
        self.pattern = re.compile(f"^{segments}$")
        self.parameters = _parameters(self.handler, names)


class Router:
    """The routes of one function. `resolve` answers an event; `errors` turns any exception into a Response."""

    def __init__(self, errors: Callable[[Exception], Response], strip_prefix: str = "/v1") -> None:
        self.routes: list[Route] = []
        self.event: dict[str, Any] = {}  # the request being answered
        self._errors = errors
        self._prefix = strip_prefix
        self._dependencies: dict[Callable[..., Any], tuple[Parameter, ...]] = {}

    def route(self, method: str, rule: str, responses: dict[int, dict[str, Any]] | None = None) -> Callable:
        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            self.routes.append(Route(method, rule, handler, responses))
            return handler

        return register

    def get(self, rule: str, responses: dict[int, dict[str, Any]] | None = None) -> Callable:
        return self.route("GET", rule, responses)

    def post(self, rule: str, responses: dict[int, dict[str, Any]] | None = None) -> Callable:
        return self.route("POST", rule, responses)

    def put(self, rule: str, responses: dict[int, dict[str, Any]] | None = None) -> Callable:
        return self.route("PUT", rule, responses)

    def patch(self, rule: str, responses: dict[int, dict[str, Any]] | None = None) -> Callable:
        return self.route("PATCH", rule, responses)

    def delete(self, rule: str, responses: dict[int, dict[str, Any]] | None = None) -> Callable:
        return self.route("DELETE", rule, responses)

    def resolve(self, event: dict[str, Any]) -> dict[str, Any]:
        self.event = event
        try:
            response = self._call(event)
        except Exception as error:  # every failure becomes an API.md §2 answer
            response = self._errors(error)
        return response.to_proxy()

    def _call(self, event: dict[str, Any]) -> Response:
        path = event.get("path") or "/"
        if path.startswith(self._prefix + "/"):
            path = path[len(self._prefix) :]
        method = (event.get("httpMethod") or "").upper()
        for route in self.routes:
            match = route.pattern.match(path) if route.method == method else None
            if match:
                return route.handler(**self._arguments(route, match.groupdict(), event))
        raise RouteNotFoundError

    def _arguments(self, route: Route, path: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        query = event.get("queryStringParameters") or {}
        for parameter in route.parameters:
            if parameter.source == "path":
                arguments[parameter.name] = path[parameter.name]
            elif parameter.source == "query":
                self._read(parameter, query.get(parameter.name), ("query", parameter.name), arguments, errors)
            elif parameter.source == "body":
                self._read(parameter, _body(event), ("body",), arguments, errors)
        if errors:
            raise InvalidRequestError(errors)
        request, solved = Request(event), {}
        for parameter in route.parameters:
            if parameter.source in ("depends", "request"):
                arguments[parameter.name] = self._solve(parameter, request, solved)
        return arguments

    @staticmethod
    def _read(parameter: Parameter, value: Any, location: tuple, arguments: dict, errors: list) -> None:
        """Validate one body or query value into `arguments`, or add why it does not fit to `errors`."""
        if value is None:
            if parameter.default is _REQUIRED:
                errors.append(_missing(location))
            else:
                arguments[parameter.name] = parameter.default
            return
        try:
            if parameter.model is not None:
                arguments[parameter.name] = parameter.model.model_validate(value)
            elif parameter.adapter is not None:
                arguments[parameter.name] = parameter.adapter.validate_python(value)
            else:
                arguments[parameter.name] = value
        except PydanticValidationError as error:
            errors.extend({**problem, "loc": (*location, *problem["loc"])} for problem in error.errors())

    def _solve(self, parameter: Parameter, request: Request, solved: dict[Callable[..., Any], Any]) -> Any:
        if parameter.source == "request":
            return request
        dependency = parameter.dependency
        if dependency not in solved:
            if dependency not in self._dependencies:
                self._dependencies[dependency] = _parameters(dependency)
            arguments = {inner.name: self._solve(inner, request, solved) for inner in self._dependencies[dependency]}
            solved[dependency] = dependency(**arguments)
        return solved[dependency]
