"""Six-digit codes and their keyed hashes; security phrases.

Codes are short enough to guess offline from a plain hash, so the table keeps only an HMAC whose
key lives in Secrets Manager (never in the table). The key is fetched once per container, on the
first code a function handles, so functions that never touch a code never pay for it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from botocore.config import Config

from authcore import awsclient
from authcore.config import settings

CODE_DIGITS = 6
CODE = re.compile(rf"^[0-9]{{{CODE_DIGITS}}}$")

_key: bytes | None = None

_ADJECTIVES = (
    "Amber", "Brave", "Bright", "Calm", "Clever", "Cosy", "Crisp", "Daring", "Eager", "Gentle", "Golden", "Happy",
    "Honest", "Humble", "Jolly", "Kind", "Lively", "Lucky", "Mellow", "Merry", "Mighty", "Noble", "Polite", "Proud",
    "Quick", "Quiet", "Rapid", "Silver", "Steady", "Sunny", "Swift", "Witty",
)  # fmt: skip
_NOUNS = (
    "Badger", "Beacon", "Canyon", "Comet", "Dolphin", "Falcon", "Garden", "Glacier", "Harbor", "Heron", "Island",
    "Lantern", "Maple", "Meadow", "Otter", "Panda", "Pebble", "Pepper", "Pumpkin", "Rabbit", "Raven", "River",
    "Rocket", "Saddle", "Sparrow", "Summit", "Thistle", "Tiger", "Tulip", "Valley", "Walnut", "Willow",
)  # fmt: skip


def new_code() -> str:
    """A uniformly random six-digit code (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def is_code(value: str) -> bool:
    """Shaped like a code we send: anything else is refused without a lookup (and without counting)."""
    return bool(CODE.fullmatch(value))


def new_phrase() -> str:
    """Two words shown both where the code was asked for and in the email: a phishing check, not a secret."""
    return f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_NOUNS)}"


def _code_key() -> bytes:
    global _key
    if _key is None:
        config = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 2})
        client = awsclient.create("secretsmanager", config)
        secret = client.get_secret_value(SecretId=settings().code_key_secret)["SecretString"]
        _key = hashlib.sha256(secret.encode()).digest()
    return _key


def keyed_hash(user_id: str, code: str) -> str:
    """HMAC-SHA256 of a user's code: what the table keeps (and looks codes up by)."""
    return hmac.new(_code_key(), f"{user_id}\x00{code}".encode(), hashlib.sha256).hexdigest()


def new_code_and_hash(user_id: str) -> tuple[str, str]:
    """A fresh code for the user, and what the table keeps of it."""
    code = new_code()
    return code, keyed_hash(user_id, code)


LINK_SECRET = re.compile(r"^[0-9a-f]{64}$")


def is_link_secret(value: str) -> bool:
    """Shaped like the secret of a sign-in link (256 bits, hex): anything else is refused without a lookup."""
    return bool(LINK_SECRET.fullmatch(value))


def new_link_secret_and_hash(user_id: str) -> tuple[str, str]:
    """A fresh sign-in link secret (256 bits) and its keyed hash: a link and a code of the same user are looked
    up the same way, so POST /account/sessions/token takes either (API.md §8)."""
    secret = secrets.token_hex(32)
    return secret, keyed_hash(user_id, secret)


RECOVERY_CODES = 10
RECOVERY_CODE = re.compile(r"^[0-9a-f]{16}$")


def new_recovery_codes() -> list[str]:
    """Ten codes of 16 lowercase hex characters (64 random bits each)."""
    return [secrets.token_hex(8) for _ in range(RECOVERY_CODES)]


def normalised_recovery_code(value: str) -> str | None:
    """The code as we issue it (lowercase, without spaces or dashes people type), or None if it cannot be one."""
    code = value.strip().lower().replace("-", "").replace(" ", "")
    return code if RECOVERY_CODE.fullmatch(code) else None
