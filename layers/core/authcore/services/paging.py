"""Appwrite's list queries: the JSON `limit` and `offset` queries, the only ones served."""

from __future__ import annotations

from authcore.errors import invalid_param
from authcore.models import json_limits

DEFAULT_LIMIT = 25
MAX_LIMIT = 5000  # Appwrite's own ceiling of a page and of a list's total


def limit_offset(raw: list[str], max_limit: int) -> tuple[int, int]:
    """(limit, offset) from Appwrite's JSON queries ({"method": "limit", "values": [25]})."""
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
            limit = min(value, max_limit)
        else:
            offset = value
    return limit, offset
