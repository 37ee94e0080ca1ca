"""API.md §7 as pure functions: JSON within the input limits, credentials holding junk, the cross-site cookie rule,
email local parts, and user-chosen text in messages."""

import base64
import json

import pytest
from pydantic import TypeAdapter, ValidationError

from authcore.delivery.messages import name_for, render_email, shown_name
from authcore.http import transport
from authcore.models import json_limits
from authcore.models.fields import Email
from authcore.security.tokens import decode_credential, encode_credential

ALICE = encode_credential("alice", "a" * 64)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 33 + "]" * 33,
        '{"a":' * 33 + "1" + "}" * 33,
        "[" * 100_000,  # not even JSON: the depth is counted first
        "1" * 21,
        "-" + "1" * 21,
        "1." + "1" * 20,
        "1e400",
        "-1e400",
        "NaN",
        "[Infinity]",
        '"\\ud800"',
        '"\\udfff x"',
        '"a\\u0000"',
        '{"\\u0000": 1}',
        '{"k": ["\\ud83d"]}',
    ],
)
def test_beyond_the_limits(text):
    with pytest.raises(json_limits.OutOfLimitsError):
        json_limits.loads(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("[" * 32 + "]" * 32, json.loads("[" * 32 + "]" * 32)),
        ('"[[[[ brackets in a string do not nest \\" [[["', '[[[[ brackets in a string do not nest " [[['),
        ("1" * 20, int("1" * 20)),
        ("-1.5e300", -1.5e300),
        ('"\\ud83d\\ude00"', "\U0001f600"),  # a surrogate pair is one character
        ('{"k": "\\u00e9"}', {"k": "é"}),
    ],
)
def test_within_the_limits(text, value):
    assert json_limits.loads(text) == value
    assert json_limits.loads(text.encode()) == value


def test_a_string_that_never_ends_is_read_once():
    """Escaped quotes without a closing one: a backtracking string pattern took minutes on this (each escaped quote
    started a new search to the end of the text); the depth count reads it in one pass."""
    with pytest.raises(json.JSONDecodeError):
        json_limits.loads('"' + '\\"' * 100_000)


def test_not_json_is_a_decode_error_and_bad_utf8_a_value_error():
    with pytest.raises(json.JSONDecodeError):
        json_limits.loads("{")
    with pytest.raises(ValueError):
        json_limits.loads(b"\xff")


@pytest.mark.parametrize(
    "inner",
    [
        "[" * 1000 + "]" * 1000,
        '{"id": ' + "[" * 1000 + "]" * 1000 + ', "secret": "s"}',
        '{"id": ' + "9" * 4400 + ', "secret": "s"}',
        '{"id": "\\ud800", "secret": "s"}',
        '{"id": "a", "secret": "\\u0000"}',
    ],
)
def test_a_credential_holding_junk_is_no_credential(inner):
    junk = base64.b64encode(inner.encode()).decode()
    assert decode_credential(junk) is None
    for headers in ({"X-Appwrite-Session": junk}, {"X-Fallback-Cookies": json.dumps({"a_session_default": junk})}):
        assert transport.credential({"headers": headers}) is None
    deep_fallback = '{"a_session_default": ' + "[" * 1000 + "]" * 1000 + "}"
    assert transport.credential({"headers": {"X-Fallback-Cookies": deep_fallback}}) is None


def _cookie_write(**headers):
    cookie = f"a_session_default={ALICE}"
    return {"httpMethod": "PATCH", "headers": {"Cookie": cookie, **headers}, "multiValueHeaders": {"Cookie": [cookie]}}


@pytest.mark.parametrize(
    ("headers", "counts"),
    [
        ({}, True),  # no Origin and no Sec-Fetch-Site: not a browser page of another site
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "same-site"}, True),
        ({"Sec-Fetch-Site": "none"}, True),
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": " Cross-Site "}, False),
        ({"Origin": "http://localhost:3000", "Sec-Fetch-Site": "cross-site"}, True),  # an allowed app origin
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),
    ],
)
def test_a_cookie_counts_on_a_write_unless_it_comes_from_another_site(headers, counts):
    assert (transport.credential(_cookie_write(**headers)) is not None) is counts
    read = {**_cookie_write(**headers), "httpMethod": "GET"}
    assert transport.credential(read) is not None  # reads: CORS keeps the answer from the other site


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("a" * 64 + "@example.com", True),
        ("a" * 65 + "@example.com", False),
        ("é" * 32 + "@example.com", True),  # 64 octets
        ("é" * 33 + "@example.com", False),  # 33 characters, 66 octets
    ],
)
def test_email_local_parts_are_at_most_64_octets(address, ok):
    adapter = TypeAdapter(Email)
    if ok:
        assert adapter.validate_python(address) == address.lower()
    else:
        with pytest.raises(ValidationError):
            adapter.validate_python(address)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Ada Lovelace", "Ada Lovelace"),
        ("J. R. R. Tolkien", "J. R. R. Tolkien"),
        ("José María O\u2019Brien", "José María O\u2019Brien"),
        ("李小龙", "李小龙"),
        ("  Ada\r\n\tLovelace\u2028 ", "Ada Lovelace"),
        ("Ada\u202eecalevoL\u200b\x00\x7f\x85", "AdaecalevoL"),  # bidi override, zero-width space, controls
        ("Ada. URGENT: verify at https://evil.example instead", ""),
        ("Ada\nURGENT verify at evil.example", ""),
        ("evil\uff0eexample", ""),  # fullwidth dot: NFKC makes it a dot
        ("www.evil", ""),
        ("ada@evil", ""),
        ("mailto:x", ""),
        ("Call +1 415 555 2671", ""),
        ("x" * 100, "x" * 63 + "…"),
    ],
)
def test_shown_name(name, shown):
    assert shown_name(name) == shown


def test_a_name_is_used_only_for_a_verified_address():
    assert name_for({"name": "Ada", "emailVerification": True}) == "Ada"
    assert name_for({"name": "Ada", "emailVerification": False}) == ""
    assert name_for({"name": "Ada"}) == ""
    assert name_for({"name": "evil.example", "emailVerification": True}) == ""


def test_render_email_neutralises_a_name_whatever_the_caller_passes():
    variables = {"project": "My App", "name": "Ada\nVisit https://evil.example", "url": "http://x/", "minutes": "60"}
    email = render_email("email-verification", "en", variables)
    assert "evil" not in email.text and "evil" not in email.html and "Hello" not in email.text
    email = render_email("email-verification", "en", {**variables, "name": "Ada\r\nLovelace"})
    assert "Hello Ada Lovelace," in email.text and "Hello Ada Lovelace," in email.html
