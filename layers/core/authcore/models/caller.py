"""Who is calling, as far as the transport can tell."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JwtCredential:
    """An X-Appwrite-JWT / X-Nuvix-JWT header, and the issuer a token from this API names (API.md §8)."""

    token: str = field(repr=False)
    issuer: str


@dataclass(frozen=True)
class Caller:
    ip: str
    user_agent: str
    # (userId, session secret) or a JWT when one was presented; kept out of repr so it cannot reach a log.
    credential: tuple[str, str] | JwtCredential | None = field(repr=False)
    locale: str = ""  # X-Appwrite-Locale / X-Nuvix-Locale: the language of emails and SMS
