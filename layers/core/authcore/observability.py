"""Logs and metrics: one JSON Logger that cannot print a secret, and business metrics as EMF lines.

Both write to stdout only, so they add no AWS round trip: CloudWatch Logs stores the lines and turns
the EMF ones into metrics of the namespace below, dimension `service` = the stack name.
Names and dimensions are documented in docs/operations.md; keep the two in step.
"""

from __future__ import annotations

import traceback
from types import TracebackType
from typing import Any

from aws_lambda_powertools import Logger, single_metric
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "Authcore"
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
        "hash",
        "headers",
        "multivalueheaders",
        "newpassword",
        "oldpassword",
        "otp",
        "password",
        "passwordhash",
        "phrase",
        "recoverycodes",
        "secret",
        "setcookie",
        "token",
        "uri",
        "xappwritekey",
        "xappwritesession",
        "xfallbackcookies",
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
    logged exception keeps its type, the AWS error code when there is one, and the stack frames.
    """

    def serialize(self, log: dict[str, Any]) -> str:
        return super().serialize(redact(log))

    def formatException(self, ei: tuple[type[BaseException], BaseException, TracebackType | None]) -> str:  # noqa: N802
        kind, error, trace = ei
        code = getattr(error, "response", {}).get("Error", {}).get("Code") if hasattr(error, "response") else None
        headline = f"{kind.__name__} ({code})" if code else kind.__name__
        return headline + "\n" + "".join(traceback.format_tb(trace))


logger = Logger(logger_formatter=RedactingFormatter())


def identify(user_id: str) -> None:
    """The request acts for this user: its log line carries the userId."""
    logger.append_keys(userId=user_id)


def count(name: str, **dimensions: str) -> None:
    """One occurrence of a business event (EMF line; `service` dimension from POWERTOOLS_SERVICE_NAME)."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        for dimension, value in dimensions.items():
            metric.add_dimension(name=dimension, value=value)
