"""Time as stored (epoch milliseconds) and as sent (ISO 8601 with ms and offset)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(epoch_ms: int | None) -> str:
    """`2026-11-29T18:30:00.000+00:00`, or "" for an unset time."""
    if not epoch_ms:
        return ""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds")
