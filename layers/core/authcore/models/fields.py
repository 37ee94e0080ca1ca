"""Validated field types shared by request bodies. Messages say what is wrong, never echo secrets."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, StringConstraints

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
MAX_LOCAL_PART_OCTETS = 64


# Addresses of the common shape (ASCII dot-atom @ LDH labels, a letters-only top-level domain, no "--", no
# special-use domain) are checked here, with the result email_validator gives them; any other goes to
# email_validator, whose import compiles Unicode regexes: about 25 ms of CPU at a cold start.
# tests/unit/test_email_addresses.py compares the two on generated and edge-case addresses.
_ATEXT = r"[a-zA-Z0-9_!#$%&'*+/=?^`{|}~-]"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_PLAIN_ADDRESS = re.compile(rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+[a-zA-Z]{{2,63}})")
SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")  # email_validator's list
MAX_DOMAIN_OCTETS = 253


def _plain_address(value: str) -> tuple[str, str] | None:
    """(local part, normalized address) of an address of the common shape, else None."""
    match = _PLAIN_ADDRESS.fullmatch(value) if value.isascii() else None
    if match is None:
        return None
    domain = match[2].lower()
    if "--" in domain or len(domain) > MAX_DOMAIN_OCTETS:
        return None
    if any(domain == name or domain.endswith(f".{name}") for name in SPECIAL_USE_DOMAINS):
        return None
    return match[1], f"{match[1]}@{domain}"


def _validated_address(value: str) -> tuple[str, str]:
    # Imported on first use: functions that never read an email address do not pay for it.
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("Value must be a valid email address") from None
    return checked.local_part, checked.normalized


def _email(value: str) -> str:
    if len(value) > 254:
        raise ValueError("Value must be a valid email address")
    local_part, normalized = _plain_address(value) or _validated_address(value)
    if len(local_part.encode()) > MAX_LOCAL_PART_OCTETS:  # RFC 5321; email_validator counts characters
        raise ValueError(f"The part before the @ must be at most {MAX_LOCAL_PART_OCTETS} bytes")
    return normalized.lower()


def _phone(value: str) -> str:
    """E.164 syntax, and a number that really exists in its country's numbering plan."""
    import phonenumbers  # on first use, as above

    message = "Phone number must start with a '+' and can have a maximum of fifteen digits."
    if not E164.fullmatch(value):
        raise ValueError(message)
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(message) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Value must be a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _app_url(value: str) -> str:
    """An absolute http(s) URL on one of the allowed app origins: where a verification link may point."""
    from authcore.config import settings

    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("URL must not contain spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValueError("URL must be an absolute http or https URL")
    if not settings().origin_allowed(f"{parts.scheme}://{parts.netloc}"):
        raise ValueError("URL host must be one of the allowed app origins")
    return value


# MFA factors as the API names them; SDKs send "recoverycode", newer servers "recoveryCode" (API.md §4.5).
FACTORS = {"email": "email", "phone": "phone", "totp": "totp", "recoverycode": "recoveryCode", "passkey": "passkey"}


def _factor(value: str) -> str:
    """A factor name, case-insensitively, stored in its normal spelling."""
    factor = FACTORS.get(value.lower())
    if factor is None:
        raise ValueError("Value must be one of (email, phone, totp, recoverycode, passkey)")
    return factor


Email = Annotated[str, AfterValidator(_email)]
AppUrl = Annotated[str, StringConstraints(min_length=1, max_length=2048), AfterValidator(_app_url)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=256)]
# An MFA challenge's answer: a code, or a passkey assertion's toJSON() as a string (API.md §9).
ChallengeAnswer = Annotated[str, StringConstraints(min_length=1, max_length=16384)]
Phone = Annotated[str, AfterValidator(_phone)]
NewPassword = Annotated[str, StringConstraints(min_length=8, max_length=256)]
Password = Annotated[str, StringConstraints(max_length=256)]
Name = Annotated[str, StringConstraints(max_length=128)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
Factor = Annotated[str, StringConstraints(max_length=32), AfterValidator(_factor)]
