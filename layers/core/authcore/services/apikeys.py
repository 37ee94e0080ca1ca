"""Server API keys (API.md §6): minting one, and checking the one a request presents.

A key is `<keyId>.<secret>` (20 hex + 64 hex, 256 random bits); the table keeps only the SHA-256 of
the secret. It is shown once, by the command that creates it.
"""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass
from typing import Any

from authcore.clock import now_ms
from authcore.errors import ApiError
from authcore.ids import unique_id
from authcore.observability import logger
from authcore.security.tokens import digest, new_secret
from authcore.services import limits
from authcore.store import apikeys as apikeys_store

SCOPES = ("users.read", "users.write", "sessions.write")
RATE_LIMIT = 600  # requests per key per minute
MINUTE = 60
KEY = re.compile(r"^([0-9a-f]{20})\.([0-9a-f]{64})$")
EXPIRED_KEPT_SECONDS = 30 * 24 * 3600  # an expired key stays listed a while, then TTL deletes its item
INVALID_KEY = "The API key is invalid, expired or revoked."


@dataclass(frozen=True)
class ServerKey:
    """The key a request was made with: who (its name, for logs and audit) and what it may do."""

    key_id: str
    name: str
    scopes: frozenset[str]


def new_key(name: str, scopes: list[str], expire_ms: int = 0) -> tuple[dict[str, Any], str]:
    """A key item to store and the key string (shown once). `expire_ms` 0 = never expires."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)} (got {', '.join(unknown) or 'none'})")
    if not name.strip():
        raise ValueError("a key needs a name")
    key_id, secret = unique_id(), new_secret()
    item = {
        "keyId": key_id,
        "name": name.strip(),
        "scopes": sorted(set(scopes)),
        "expire": expire_ms,
        "createdAt": now_ms(),
        "hash": digest(secret),
    }
    if expire_ms:
        item["ttl"] = expire_ms // 1000 + EXPIRED_KEPT_SECONDS  # DynamoDB removes it some time after
    return item, f"{key_id}.{secret}"


def create_key(name: str, scopes: list[str], expire_ms: int = 0) -> tuple[dict[str, Any], str]:
    item, key = new_key(name, scopes, expire_ms)
    apikeys_store.put_key(item)
    return item, key


def current_minute() -> int:
    """The rate limit's window: minutes since the epoch."""
    return int(time.time()) // MINUTE


def authorize(presented: str, scope: str) -> ServerKey:
    """The key `presented` names, if it is valid and has `scope`; 401 (one message for every way a key
    is wrong), 401 naming the scope it lacks, or 429 beyond RATE_LIMIT requests a minute."""
    match = KEY.fullmatch(presented.strip())
    if not match:
        raise ApiError("general_unauthorized_scope", INVALID_KEY)
    key_id, secret = match.groups()
    minute = current_minute()
    status, item = apikeys_store.count_use(key_id, minute, RATE_LIMIT)
    if item is None or not hmac.compare_digest(item["hash"], digest(secret)):
        raise ApiError("general_unauthorized_scope", INVALID_KEY)
    if item["expire"] and item["expire"] <= now_ms():
        raise ApiError("general_unauthorized_scope", INVALID_KEY)
    key = ServerKey(key_id, item["name"], frozenset(item["scopes"]))
    logger.append_keys(keyName=key.name)  # the request's log line names the key, never shows it
    if status == "limited":
        raise limits.rate_limited(RATE_LIMIT, (minute + 1) * MINUTE)
    if scope not in key.scopes:
        raise ApiError("general_unauthorized_scope", f"The key lacks the scope {scope}.")
    return key
