"""An independent TOTP (RFC 6238 / RFC 4226) for tests, written from the RFCs with the standard
library only, so a test never checks the server's pyotp against pyotp itself. Its own
correctness is proven against the RFC's published test vectors (tests/unit/test_rfc6238.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time


def hotp(key: bytes, counter: int, digits: int = 6, algorithm=hashlib.sha1) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), algorithm).digest()
    offset = mac[-1] & 0x0F
    binary = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def key_of(base32_secret: str) -> bytes:
    padded = base32_secret.upper() + "=" * (-len(base32_secret) % 8)
    return base64.b32decode(padded)


def step(at: float | None = None, period: int = 30) -> int:
    return int((time.time() if at is None else at) // period)


def totp(base32_secret: str, at: float | None = None, offset_steps: int = 0) -> str:
    """The 6-digit SHA-1 code for the 30 s step at `at` (now), moved by `offset_steps`."""
    return hotp(key_of(base32_secret), step(at) + offset_steps)
