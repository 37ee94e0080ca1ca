"""Ids as the SDKs make them: `unique()` asks the server for a time-ordered one."""

from __future__ import annotations

import re
import secrets
import time

from authcore.errors import invalid_param

CUSTOM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$")


def unique_id() -> str:
    """20 lowercase hex chars: seconds and microseconds (time-ordered), then 7 random."""
    now_us = time.time_ns() // 1000
    seconds, micros = divmod(now_us, 1_000_000)
    return f"{seconds:08x}{micros:05x}{secrets.token_hex(4)[:7]}"


def resolve_id(value: str, param: str = "userId") -> str:
    if value == "unique()":
        return unique_id()
    if not CUSTOM_ID.fullmatch(value):
        raise invalid_param(
            param,
            "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, "
            "and underscore. Can't start with a special char",
        )
    return value
