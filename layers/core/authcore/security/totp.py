"""TOTP authenticators (RFC 6238: SHA-1, 6 digits, 30-second steps), by pyotp.

A code is accepted for the current step or one step either side; the caller records the matched
step so that it is never accepted again (API.md §4.6).
"""

from __future__ import annotations

import hmac
import re
import time

import pyotp

WINDOW = 1  # steps accepted either side of the current one
CODE = re.compile(r"^[0-9]{6}$")


def new_secret() -> str:
    """160 random bits (SystemRandom), as 32 base32 characters without padding."""
    return pyotp.random_base32(length=32)


def uri(secret: str, issuer: str, account: str) -> str:
    """`otpauth://totp/<Issuer>:<account>?secret=<base32>&issuer=<Issuer>`, percent-encoded."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def is_code(value: str) -> bool:
    return bool(CODE.fullmatch(value))


def matching_steps(secret: str, code: str, now: float | None = None) -> list[int]:
    """The time steps (current ±WINDOW) whose code is `code`, oldest first; each compared in constant time."""
    authenticator = pyotp.TOTP(secret)
    current = authenticator.timecode(time.time() if now is None else now)
    steps = range(current - WINDOW, current + WINDOW + 1)
    return [step for step in steps if hmac.compare_digest(authenticator.generate_otp(step), code)]
