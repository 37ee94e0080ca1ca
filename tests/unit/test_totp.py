"""TOTP authenticators (authcore.security.totp) checked against the tests' own RFC 6238 (tests/rfc6238.py),
and the recovery-code primitives (authcore.security.codes)."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from authcore.security import totp
from authcore.security.codes import RECOVERY_CODES, new_recovery_codes, normalised_recovery_code
from tests.rfc6238 import hotp, key_of, step

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_700_000_015.25  # seconds, inside step 56666667
BASE32 = re.compile(r"^[A-Z2-7]{32}$")


def fullwidth(text: str) -> str:
    """The same ASCII digits and letters in their full-width forms (U+FF10...), as some keyboards type them."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def code_at(secret: str, time_step: int) -> str:
    return hotp(key_of(secret), time_step)


# --- secrets ---------------------------------------------------------------------------------------


def test_a_secret_is_32_base32_characters_of_160_bits():
    secret = totp.new_secret()
    assert BASE32.fullmatch(secret), secret
    assert len(base64.b32decode(secret)) == 20  # 160 bits, no padding needed


def test_secrets_differ_and_use_the_whole_alphabet():
    secrets = [totp.new_secret() for _ in range(200)]
    assert len(set(secrets)) == len(secrets)
    assert set("".join(secrets)) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_a_new_secret_gives_codes_our_reference_agrees_with():
    secret = totp.new_secret()
    current = step(NOW)
    assert totp.matching_steps(secret, code_at(secret, current), now=NOW)[-1] >= current


# --- the otpauth URI ------------------------------------------------------------------------------


def parse_uri(uri: str) -> tuple[str, str, str, dict[str, list[str]]]:
    """(issuer from the label, account, secret, query) as an authenticator app reads them."""
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    issuer, account = unquote(parts.path.removeprefix("/")).split(":", 1)
    query = parse_qs(parts.query, keep_blank_values=True)
    return issuer, account, query["secret"][0], query


def test_uri_percent_encodes_the_issuer_and_the_email():
    uri = totp.uri(SECRET, "My App", "ada+1@example.com")
    assert uri == f"otpauth://totp/My%20App:ada%2B1%40example.com?secret={SECRET}&issuer=My%20App"


def test_uri_with_a_plain_email():
    uri = totp.uri(SECRET, "My App", "ada@example.com")
    assert uri == f"otpauth://totp/My%20App:ada%40example.com?secret={SECRET}&issuer=My%20App"


@pytest.mark.parametrize(
    ("issuer", "account"),
    [
        ("My App", "ada+1@example.com"),
        ("Café & Co", "grace@example.com"),
        ("My App", "+14155552671"),  # no email: the phone
        ("日本のアプリ", "a.b+c@example.co.uk"),
    ],
)
def test_uri_round_trips_issuer_account_and_secret(issuer, account):
    secret = totp.new_secret()
    label_issuer, label_account, uri_secret, query = parse_uri(totp.uri(secret, issuer, account))
    assert (label_issuer, label_account, uri_secret) == (issuer, account, secret)
    assert query["issuer"] == [issuer]
    assert set(query) <= {"secret", "issuer", "algorithm", "digits", "period"}
    # Anything beyond secret and issuer must be the defaults every app assumes.
    assert query.get("algorithm", ["SHA1"]) == ["SHA1"]
    assert query.get("digits", ["6"]) == ["6"]
    assert query.get("period", ["30"]) == ["30"]


def test_uri_leaves_no_raw_space_plus_or_at():
    uri = totp.uri(SECRET, "My App", "ada+1@example.com")
    assert " " not in uri and "+" not in uri and "@" not in uri


# --- matching codes -------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_current_step_and_one_either_side_match(offset):
    current = step(NOW)
    assert totp.matching_steps(SECRET, code_at(SECRET, current + offset), now=NOW) == [current + offset]


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_two_steps_away_is_refused(offset):
    current = step(NOW)
    codes = {code_at(SECRET, current + k) for k in (-1, 0, 1)}
    code = code_at(SECRET, current + offset)
    assert code not in codes  # the premise: no accidental collision with the window
    assert totp.matching_steps(SECRET, code, now=NOW) == []


def test_the_window_follows_the_clock_across_a_step_boundary():
    boundary = (step(NOW) + 1) * 30  # the first second of the next step
    before, at = boundary - 0.001, float(boundary)
    assert (step(before), step(at)) == (step(NOW), step(NOW) + 1)
    oldest = code_at(SECRET, step(before) - 1)
    assert totp.matching_steps(SECRET, oldest, now=before) == [step(before) - 1]
    assert totp.matching_steps(SECRET, oldest, now=at) == []  # now two steps old
    newest = code_at(SECRET, step(at) + 1)
    assert totp.matching_steps(SECRET, newest, now=before) == []
    assert totp.matching_steps(SECRET, newest, now=at) == [step(at) + 1]


def test_the_default_clock_is_now():
    current = step()
    assert current in totp.matching_steps(SECRET, code_at(SECRET, current))  # still in the window if a step turns
    stale = code_at(SECRET, current - 5)
    assert stale not in {code_at(SECRET, current + k) for k in range(-1, 3)}
    assert totp.matching_steps(SECRET, stale) == []


def test_a_code_shared_by_two_steps_returns_both_oldest_first():
    # SECRET gives 065554 for two consecutive steps (found by search, checked here with the reference).
    first = 56_668_234
    assert code_at(SECRET, first) == code_at(SECRET, first + 1) == "065554"
    code = code_at(SECRET, first)
    assert totp.matching_steps(SECRET, code, now=first * 30 + 7) == [first, first + 1]
    assert totp.matching_steps(SECRET, code, now=(first + 1) * 30 + 7) == [first, first + 1]
    assert totp.matching_steps(SECRET, code, now=(first + 2) * 30 + 7) == [first + 1]
    assert totp.matching_steps(SECRET, code, now=(first - 1) * 30 + 7) == [first]


def test_another_secret_does_not_match():
    other = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    current = step(NOW)
    code = code_at(other, current)
    assert code not in {code_at(SECRET, current + k) for k in (-1, 0, 1)}
    assert totp.matching_steps(SECRET, code, now=NOW) == []


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "abcdef", "12 345", " 123456", "123456 ", "123456\n", "12345a", "-12345", "+12345"],
)
def test_malformed_codes_are_not_codes(code):
    assert not totp.is_code(code)
    assert totp.matching_steps(SECRET, code, now=NOW) == []


@pytest.mark.parametrize("code", [fullwidth("123456"), "١٢٣٤٥٦", "12345" + fullwidth("6")])  # and Arabic-Indic
def test_non_ascii_digits_are_not_codes(code):
    assert not totp.is_code(code)


def test_the_real_code_with_whitespace_is_not_a_code():
    code = code_at(SECRET, step(NOW))
    assert totp.is_code(code)
    assert not totp.is_code(f" {code}") and not totp.is_code(f"{code}\n")
    assert totp.matching_steps(SECRET, f"{code} ", now=NOW) == []


def test_codes_keep_their_leading_zeros():
    code = code_at(SECRET, 56_668_234)
    assert code.startswith("0") and totp.is_code(code)
    assert totp.matching_steps(SECRET, code.lstrip("0"), now=56_668_234 * 30) == []


# --- recovery codes -------------------------------------------------------------------------------


def test_ten_recovery_codes_of_16_lowercase_hex():
    codes = new_recovery_codes()
    assert len(codes) == RECOVERY_CODES == 10
    assert all(re.fullmatch(r"[0-9a-f]{16}", code) for code in codes), codes
    assert len(set(codes)) == 10


def test_recovery_codes_differ_each_time():
    sets = [new_recovery_codes() for _ in range(20)]
    every = [code for codes in sets for code in codes]
    assert len(set(every)) == len(every)
    assert set("".join(every)) == set("0123456789abcdef")


def test_issued_recovery_codes_are_already_normalised():
    for code in new_recovery_codes():
        assert normalised_recovery_code(code) == code


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0123456789abcdef", "0123456789abcdef"),
        ("0123456789ABCDEF", "0123456789abcdef"),
        ("0123-4567-89ab-cdef", "0123456789abcdef"),
        ("0123 4567 89AB CDEF", "0123456789abcdef"),
        ("  0123456789abcdef\n", "0123456789abcdef"),
        ("01234567-89abcdef", "0123456789abcdef"),
    ],
)
def test_recovery_codes_are_normalised(typed, expected):
    assert normalised_recovery_code(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "0123456789abcde",  # 15
        "0123456789abcdef0",  # 17
        "0123456789abcdeg",
        "0x23456789abcdef",
        "0123_4567_89ab_cdef",
        "0123\t4567\t89ab\tcdef",
        fullwidth("0123456789abcdef"),
        "123456",
    ],
)
def test_what_cannot_be_a_recovery_code_is_none(typed):
    assert normalised_recovery_code(typed) is None
