"""Who is calling, as far as the transport can tell."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Caller:
    ip: str
    user_agent: str
    # (userId, session secret) when one was presented; kept out of repr so it cannot reach a log.
    credential: tuple[str, str] | None = field(repr=False)
    locale: str = ""  # X-Appwrite-Locale / X-Nuvix-Locale: the language of emails and SMS
