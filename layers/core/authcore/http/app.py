"""The resolver every function uses, the entry point around it, and response helpers.

One place turns domain errors into API.md §2 bodies; one place adds CORS and no-store headers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.shared.cookies import Cookie
from pydantic import BaseModel

from authcore.errors import CATALOGUE, ApiError
from authcore.http import transport
from authcore.http.router import InvalidRequestError, Response, RouteNotFoundError, Router
from authcore.models import json_limits
from authcore.models.responses import Error, Session
from authcore.observability import identify, logged, logger

API_VERSION = "1.0.0"
JSON = "application/json"
NOT_AN_OBJECT = "Invalid request body: it must be a JSON object."
# Four times the largest body a route takes (prefs: 64 KB of compact JSON), room for pretty-printing; it
# also bounds what the limit checks below read.
MAX_BODY_BYTES = 256 * 1024


def error_body(type_: str, message: str) -> str:
    status = CATALOGUE[type_][0]
    return json.dumps({"message": message, "code": status, "type": type_, "version": API_VERSION})


def error_response(error: ApiError) -> Response:
    logger.append_keys(errorType=error.type)  # for the request's log line
    return Response(error.status, JSON, error_body(error.type, error.message), headers=error.headers)


def _validation_message(errors: list[dict[str, Any]]) -> str:
    """Appwrite's wording: ``Param "email" is not optional.`` or ``Invalid `email` param: <why>``."""
    first = errors[0] if errors else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    kind = first.get("type", "")
    if kind == "unsupported_content_type":
        return NOT_JSON
    if kind == "json_invalid" or not loc:
        return NOT_AN_OBJECT
    name = loc[0]
    if kind == "missing":
        return f'Param "{name}" is not optional.'
    why = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"Invalid `{name}` param: {why}"


# Form bodies. The API takes JSON only: an HTML form on another site can post
# these without a CORS preflight (login CSRF), and a multipart type without a boundary crashed the parser.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/")
NOT_JSON = "Invalid request body: send it as application/json."


def create_app() -> Router:
    return Router(errors=_answer_to_error)


def _answer_to_error(error: Exception) -> Response:
    """The API.md §2 answer to whatever a route raised (called while it is being handled)."""
    if isinstance(error, ApiError):
        return error_response(error)
    if isinstance(error, InvalidRequestError):
        return error_response(ApiError("general_argument_invalid", _validation_message(error.errors())))
    if isinstance(error, UnicodeDecodeError):
        # Every body reaches us base64-encoded (binary media type */*); one that is not UTF-8 is no JSON.
        return error_response(ApiError("general_argument_invalid", NOT_AN_OBJECT))
    if isinstance(error, RouteNotFoundError):
        return error_response(ApiError("general_route_not_found"))
    logger.exception("unhandled error")  # type and stack only: see observability.RedactingFormatter
    return error_response(ApiError("general_server_error"))


def _add_headers(response: dict[str, Any], extra: dict[str, str]) -> None:
    multi = response.get("multiValueHeaders")
    for name, value in extra.items():
        if multi is not None:
            multi[name] = [value]
        else:
            response.setdefault("headers", {})[name] = value


def _refusal(event: dict[str, Any]) -> ApiError | None:
    """What is refused before routing (and before the router parses a body): another project, a form body,
    input beyond the limits of API.md §7."""
    if not transport.project_matches(event):
        return ApiError("project_not_found")
    content_type = transport.header(event, "Content-Type").strip().lower()
    if content_type.startswith(FORM_TYPES) and not _form_callback(event, content_type):
        return ApiError("general_argument_invalid", NOT_JSON)
    if _junk_parameter(event):
        return ApiError("general_argument_invalid", "Invalid parameter: it must not hold NUL or lone surrogates.")
    if not content_type or content_type.startswith(JSON):  # what the router parses as JSON
        return _body_out_of_limits(event)
    return None


# Sign in with Apple posts its answer as a form to the OAuth2 callback (response_mode=form_post). That one
# form is taken: the callback acts only on a single-use state the flow stored, so a forged post does nothing.
OAUTH2_CALLBACK = "/account/sessions/oauth2/callback/"


def _form_callback(event: dict[str, Any], content_type: str) -> bool:
    return content_type.startswith(FORM_TYPES[0]) and (event.get("path") or "").removeprefix("/v1").startswith(
        OAUTH2_CALLBACK
    )


def _junk_parameter(event: dict[str, Any]) -> bool:
    """A path or query parameter (name or value) holding NUL or a lone surrogate: no DynamoDB key or
    answer can carry one."""
    single = event.get("queryStringParameters") or {}
    multi = event.get("multiValueQueryStringParameters") or {}
    texts = [
        *(event.get("pathParameters") or {}).values(),
        *single,
        *single.values(),
        *multi,
        *(value for values in multi.values() for value in values or ()),
    ]
    return any(isinstance(text, str) and json_limits.bad_text(text) for text in texts)


def _body_out_of_limits(event: dict[str, Any]) -> ApiError | None:
    """400 for a body larger than any request needs, or a JSON body beyond the limits. A body that is no
    JSON at all is left to the router, which answers it like any malformed body; one that is not UTF-8
    gets the same answer here."""
    body = event.get("body")
    if not body:
        return None
    try:
        data = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8", "surrogatepass")
        if len(data) > MAX_BODY_BYTES:
            return ApiError("general_argument_invalid", f"Invalid request body: at most {MAX_BODY_BYTES} bytes.")
        json_limits.loads(data)
    except json_limits.OutOfLimitsError as error:
        return ApiError("general_argument_invalid", f"Invalid request body: {error}.")
    except UnicodeDecodeError:
        return ApiError("general_argument_invalid", NOT_AN_OBJECT)
    except ValueError:  # not JSON (or not base64): the router answers it
        pass
    return None


def entrypoint(app: Router, cache_control: str = "no-store") -> Callable[[dict, Any], dict]:
    """The Lambda handler: project check, routing, then CORS and no-store on every answer (and the
    request's log line). A public document passes its `cache_control`, which only a 200 carries."""

    @logged
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if refusal := _refusal(event):
            logger.append_keys(errorType=refusal.type)
            response = {
                "statusCode": refusal.status,
                "headers": {"Content-Type": JSON},
                "body": error_body(refusal.type, refusal.message),
            }
        else:
            response = app.resolve(event)
        cache = cache_control if response["statusCode"] == 200 else "no-store"
        _add_headers(response, {**transport.cors_headers(event), "Cache-Control": cache})
        return response

    return lambda_handler


def _json(model: BaseModel) -> str:
    return model.model_dump_json(by_alias=True)


def ok(model: BaseModel, headers: dict[str, str] | None = None, cookies: list[Cookie] | None = None) -> Response:
    return Response(200, JSON, _json(model), headers=headers, cookies=cookies)


def created(model: BaseModel, headers: dict[str, str] | None = None, cookies: list[Cookie] | None = None) -> Response:
    return Response(201, JSON, _json(model), headers=headers, cookies=cookies)


def no_content(headers: dict[str, str] | None = None, cookies: list[Cookie] | None = None) -> Response:
    """204 with a non-JSON content type: Appwrite's Python SDK reads Content-Type on every answer
    and would try to parse an empty JSON body."""
    return Response(204, "text/plain; charset=utf-8", "", headers=headers, cookies=cookies)


def signed_in(
    event: dict[str, Any], session: Session, credential: str, expire_ms: int, reveal: bool = False
) -> Response:
    """201 with the new Session, its cookies and the X-Fallback-Cookies header (API.md §1). With
    `reveal` (a server API key asked, for SSR) the Session's `secret` is the credential itself."""
    identify(session.userId)
    return created(
        session.model_copy(update={"secret": credential}) if reveal else session,
        headers=transport.fallback_cookies_header(credential),
        cookies=transport.session_cookies(event, credential, expire_ms),
    )


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response:
    """302 to `location` (the OAuth2 flows), with the session cookies of a sign-in."""
    return Response(302, "text/plain; charset=utf-8", "", headers={"Location": location}, cookies=cookies)


def signed_out(event: dict[str, Any]) -> Response:
    """204 that also ends the caller's session on the client: expired cookies, empty fallback."""
    return no_content(headers=transport.fallback_cookies_header(None), cookies=transport.expired_cookies(event))


def doc(status: int, model: type[BaseModel] | None, *errors: int) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses=` for a route: its success answer and the error statuses it can give (any
    route answers 400 to input beyond the limits of API.md §7, and may fail with a 500)."""
    success: dict[str, Any] = {"description": "Success"}
    if model is not None:
        success["content"] = {JSON: {"model": model}}
    described = {status: success}
    for code in (*errors, 400, 500):
        described[code] = {"description": "Error", "content": {JSON: {"model": Error}}}
    return described
