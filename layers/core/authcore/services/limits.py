"""Rate limits of API.md §5 as calls that refuse with 429 and the X-RateLimit-* headers."""

from __future__ import annotations

import time

from authcore.errors import ApiError
from authcore.store import ratelimit
from authcore.store.errors import LimitError
from authcore.store.ratelimit import Charge

HOUR = 3600
DAY = 24 * HOUR


def rate_limited(limit: int, reset: int) -> ApiError:
    return ApiError(
        "general_rate_limit_exceeded",
        headers={"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )


def contended(message: str) -> ApiError:
    """429 for writes that kept colliding with concurrent ones: try again in a second (headers as every 429)."""
    headers = {"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 1)}
    return ApiError("general_rate_limit_exceeded", message, headers=headers)


def limit_reached(limited: LimitError, now: int) -> ApiError:
    """The 429 for a charge the store refused at `now` (epoch s)."""
    return rate_limited(limited.charge.limit, limited.reset or limited.charge.reset(now))


# A key's hourly limit split by source address (API.md §7): SOURCE_LIMIT per (key, source address),
# and KEY_LIMIT per key from all sources together. One address cannot exhaust a key for everyone;
# KEY_LIMIT still bounds what many addresses can try (docs/security.md §2 has the arithmetic).
SOURCE_LIMIT = 10
KEY_LIMIT = 100


def hourly(bucket: str, key: str, limit: int = 10) -> Charge:
    return Charge(bucket, key, limit, HOUR)


def per_source(bucket: str, key: str, ip: str) -> list[Charge]:
    """The hourly charges of one attempt on `key` from `ip`: per (key, ip), and per key."""
    return [hourly(f"{bucket}-source", f"{key} {ip}", SOURCE_LIMIT), hourly(bucket, key, KEY_LIMIT)]


def enforce(bucket: str, key: str, limit: int = 10, window_seconds: int = HOUR) -> None:
    window = ratelimit.hit(bucket, key, limit, window_seconds, int(time.time()))
    if not window.allowed:
        raise rate_limited(limit, window.reset)


def enforce_all(*charges: Charge) -> None:
    """Every limit at once (one round trip): all are counted, or none when one is exhausted."""
    now = int(time.time())
    try:
        ratelimit.spend(list(charges), now)
    except LimitError as limited:
        raise limit_reached(limited, now) from None
