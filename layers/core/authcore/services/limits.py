"""Rate limits of API.md §5 as one call that refuses with 429 and the X-RateLimit-* headers."""

from __future__ import annotations

import time

from authcore.errors import ApiError
from authcore.store import ratelimit

HOUR = 3600


def rate_limited(limit: int, reset: int) -> ApiError:
    return ApiError(
        "general_rate_limit_exceeded",
        headers={"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )


def enforce(bucket: str, key: str, limit: int = 10, window_seconds: int = HOUR) -> None:
    window = ratelimit.hit(bucket, key, limit, window_seconds, int(time.time()))
    if not window.allowed:
        raise rate_limited(limit, window.reset)
