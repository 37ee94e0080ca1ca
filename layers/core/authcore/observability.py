"""Logs and metrics: one JSON Logger that cannot print a secret, and business metrics as EMF lines.

Both write to stdout only, so they add no AWS round trip: CloudWatch Logs stores the lines and turns
the EMF ones into metrics (namespace POWERTOOLS_METRICS_NAMESPACE, `Authcore/<stack>`; dimension
`service` = POWERTOOLS_SERVICE_NAME, the stack name).
Names and dimensions are documented in docs/operations.md; keep the two in step.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from functools import wraps
from types import TracebackType
from typing import Any

from aws_lambda_powertools import Logger, single_metric
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

from authcore import init_done

REDACTED = "[redacted]"

# Keys whose values never reach a log line, at any depth, compared without case, "-" or "_".
# Code logs no secret on purpose; this catches the accident (an event, headers or a body logged whole).
DENIED_KEYS = frozenset(
    {
        "authorization",
        "body",
        "code",
        "codes",
        "cookie",
        "cookies",
        "credential",
        "event",
        "exceptionnotes",
        "hash",
        "headers",
        "multivalueheaders",
        "multivaluequerystringparameters",
        "newpassword",
        "oldpassword",
        "otp",
        "password",
        "passwordhash",
        "phrase",
        "querystringparameters",
        "recoverycodes",
        "secret",
        "setcookie",
        "token",
        "uri",
        "jwt",
        "xappwritejwt",
        "xappwritekey",
        "xappwritesession",
        "xfallbackcookies",
        "xnuvixjwt",
        "xnuvixkey",
        "xnuvixsession",
    }
)


def _denied(key: object) -> bool:
    return str(key).lower().replace("-", "").replace("_", "") in DENIED_KEYS


def redact(value: Any) -> Any:
    """`value` with every denied key's value replaced, in nested dicts and lists too."""
    if isinstance(value, dict):
        return {key: REDACTED if _denied(key) else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, with denied keys redacted and exceptions logged without their message.

    An exception's message may quote input (pydantic echoes values, some AWS errors echo items), so a
    logged exception keeps its type, the AWS error code when there is one, and the stack frames; its
    notes are a denied key and Powertools' structured stack trace (which repeats the message) is off.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**{"serialize_stacktrace": False, **options})

    def serialize(self, log: dict[str, Any]) -> str:
        return super().serialize(redact(log))

    def formatException(self, ei: tuple[type[BaseException], BaseException, TracebackType | None]) -> str:  # noqa: N802
        kind, error, trace = ei
        code = getattr(error, "response", {}).get("Error", {}).get("Code") if hasattr(error, "response") else None
        headline = f"{kind.__name__} ({code})" if code else kind.__name__
        return headline + "\n" + "".join(traceback.format_tb(trace))


logger = Logger(logger_formatter=RedactingFormatter())


def logged(handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda handler that logs one line per request: route, status, sourceIp, and what the handler
    adds (errorType, userId). Correlation id = the API Gateway request id; nothing carries over.
    The end of the first request ends init (authcore.init_done): it builds the AWS client and the
    route's validation models, much like an import."""

    @logger.inject_lambda_context(correlation_id_path="requestContext.requestId", clear_state=True)
    @wraps(handler)
    def logged_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        identity = (event.get("requestContext") or {}).get("identity") or {}
        logger.append_keys(
            route=f"{event.get('httpMethod')} {event.get('resource')}", sourceIp=identity.get("sourceIp")
        )
        try:
            response = handler(event, context)
        finally:
            init_done()
        logger.info("request", extra={"status": response["statusCode"]})
        return response

    return logged_handler


def identify(user_id: str) -> None:
    """The request acts for this user: its log line carries the userId."""
    logger.append_keys(userId=user_id)


def count(name: str, **dimensions: str) -> None:
    """One occurrence of a business event, as one EMF line."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1) as metric:
        for dimension, value in dimensions.items():
            metric.add_dimension(name=dimension, value=value)
