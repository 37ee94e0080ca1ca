"""Random secrets and their stored digests."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

from authcore.models import json_limits


def new_secret() -> str:
    """256 random bits, hex encoded."""
    return secrets.token_hex(32)


def is_secret(value: str) -> bool:
    """Shaped like new_secret(): 64 lowercase hex characters."""
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def digest(secret: str) -> str:
    """SHA-256 hex: what the table keeps instead of a high-entropy secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret_and_digest() -> tuple[str, str]:
    """A fresh link secret, and what the table keeps of it."""
    secret = new_secret()
    return secret, digest(secret)


def encode_credential(user_id: str, secret: str) -> str:
    """The session credential the SDKs carry: base64 of {"id", "secret"}."""
    return base64.b64encode(json.dumps({"id": user_id, "secret": secret}, separators=(",", ":")).encode()).decode()


def decode_credential(value: str) -> tuple[str, str] | None:
    """(userId, secret) from a credential, or None when it is not one."""
    try:
        data = json_limits.loads(base64.b64decode(value.strip(), validate=True))
    except ValueError:  # binascii.Error, not JSON, or beyond the input limits (API.md §7)
        return None
    if not isinstance(data, dict):
        return None
    user_id, secret = data.get("id"), data.get("secret")
    if isinstance(user_id, str) and isinstance(secret, str) and user_id and secret:
        return user_id, secret
    return None
