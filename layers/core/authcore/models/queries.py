"""Appwrite's `queries[]` for lists that page: JSON strings like {"method": "limit", "values": [25]}."""

from __future__ import annotations

from authcore.errors import invalid_param
from authcore.models import json_limits

DEFAULT_LIMIT = 25
MAX_LIMIT = 5000  # Appwrite's own ceiling of a page and of a list's total


def limit_offset(raw: list[str]) -> tuple[int, int]:
    """(limit, offset) from the queries; only those two methods, each with a non-negative integer."""
    limit, offset = DEFAULT_LIMIT, 0
    for text in raw:
        try:
            query = json_limits.loads(text)
            method, (value,) = query["method"], query["values"]
        except (ValueError, TypeError, KeyError):
            raise invalid_param("queries", "Invalid query: a JSON object with method and values.") from None
        if method not in ("limit", "offset") or not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise invalid_param("queries", "Only limit and offset queries with a non-negative integer are supported.")
        if method == "limit":
            limit = min(value, MAX_LIMIT)
        else:
            offset = value
    return limit, offset
