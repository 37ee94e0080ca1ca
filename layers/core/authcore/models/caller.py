"""Who is calling, as far as the transport can tell."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    ip: str
    user_agent: str
    credential: tuple[str, str] | None  # (userId, session secret) when one was presented
