"""Transport rules of API.md §1: project, credential lookup order, cookies, CORS."""

import base64
import json

import pytest

from authcore.http import transport
from authcore.security.tokens import decode_credential, encode_credential

ALICE = encode_credential("alice", "a" * 64)
BOB = encode_credential("bob", "b" * 64)


def event(headers=None, query=None, cookies=None):
    headers = dict(headers or {})
    multi = {k: [v] for k, v in headers.items()}
    if cookies:
        multi["Cookie"] = cookies
        headers["Cookie"] = cookies[-1]
    return {"headers": headers, "multiValueHeaders": multi, "queryStringParameters": query}


def test_credential_round_trips_and_rejects_garbage():
    assert decode_credential(ALICE) == ("alice", "a" * 64)
    assert decode_credential("not base64!") is None
    assert decode_credential(base64.b64encode(b"[1, 2]").decode()) is None
    assert decode_credential(base64.b64encode(b'{"id": "x"}').decode()) is None
    assert decode_credential(base64.b64encode(b'{"id": "", "secret": "s"}').decode()) is None


@pytest.mark.parametrize(
    ("headers", "cookies", "expected"),
    [
        ({}, [f"a_session_default={ALICE}"], "alice"),
        ({}, [f"a_session_default_legacy={ALICE}"], "alice"),
        ({}, [f"nx_session={ALICE}"], "alice"),
        ({"X-Appwrite-Session": ALICE}, None, "alice"),
        ({"x-nuvix-session": ALICE}, None, "alice"),
        ({"X-Fallback-Cookies": json.dumps({"a_session_default": ALICE})}, None, "alice"),
        # Cookies come first, then session headers, then the fallback header.
        ({"X-Appwrite-Session": BOB}, [f"a_session_default={ALICE}"], "alice"),
        ({"X-Fallback-Cookies": json.dumps({"a_session_default": BOB}), "X-Nuvix-Session": ALICE}, None, "alice"),
        # Another project's cookie is not ours.
        ({}, [f"a_session_other={ALICE}"], None),
        ({"X-Fallback-Cookies": "{not json"}, None, None),
        ({"X-Fallback-Cookies": json.dumps(["a_session_default", ALICE])}, None, None),
        ({}, ["theme=dark; a_session_default=broken", f"nx_session={BOB}"], "bob"),
    ],
)
def test_credential_lookup_order(headers, cookies, expected):
    found = transport.credential(event(headers, cookies=cookies))
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize(
    ("headers", "query", "matches"),
    [
        ({}, None, True),
        ({"X-Appwrite-Project": "default"}, None, True),
        ({"x-nuvix-project": "default"}, None, True),
        ({}, {"project": "default"}, True),
        ({"X-Appwrite-Project": "other"}, None, False),
        ({}, {"project": "other"}, False),
        ({"X-Nuvix-Project": "other", "X-Appwrite-Project": "default"}, None, False),
    ],
)
def test_project_resolution(headers, query, matches):
    assert transport.project_matches(event(headers, query)) is matches


def test_cookies_are_secure_over_https_and_legacy_has_no_samesite():
    main, legacy = transport.session_cookies(event({"X-Forwarded-Proto": "https"}), ALICE, 1_900_000_000_000)
    assert str(main).startswith(f"a_session_default={ALICE}; Path=/; Expires=")
    assert "HttpOnly" in str(main) and "Secure" in str(main) and "SameSite=None" in str(main)
    assert legacy.name == "a_session_default_legacy" and "Secure" in str(legacy)
    assert "SameSite" not in str(legacy)


def test_cookies_over_plain_http_drop_secure_and_samesite_none():
    main, legacy = transport.session_cookies(event({"X-Forwarded-Proto": "http"}), ALICE, 1_900_000_000_000)
    assert "Secure" not in str(main) and "SameSite" not in str(main)
    assert "Secure" not in str(legacy)


def test_expired_cookies_are_empty_and_in_the_past():
    for cookie in transport.expired_cookies(event()):
        assert cookie.value == ""
        assert "Expires=Thu, 01 Jan 1970" in str(cookie)


def test_fallback_header_carries_the_credential_or_nothing():
    assert json.loads(transport.fallback_cookies_header(ALICE)["X-Fallback-Cookies"]) == {"a_session_default": ALICE}
    assert transport.fallback_cookies_header(None) == {"X-Fallback-Cookies": "{}"}


def test_cors_echoes_only_allowed_origins_never_star():
    allowed = transport.cors_headers(event({"Origin": "http://localhost:3000"}))
    assert allowed["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert allowed["Access-Control-Allow-Credentials"] == "true"
    assert "X-Fallback-Cookies" in allowed["Access-Control-Expose-Headers"]
    assert "X-RateLimit-Reset" in allowed["Access-Control-Expose-Headers"]
    foreign = transport.cors_headers(event({"Origin": "https://evil.example"}))
    assert "Access-Control-Allow-Origin" not in foreign
    assert transport.preflight_headers(event({"Origin": "https://evil.example"})) == foreign


def test_preflight_allows_the_sdk_headers():
    headers = transport.preflight_headers(event({"Origin": "http://127.0.0.1:3000"}))
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    for name in ("content-type", "x-appwrite-project", "x-nuvix-session", "x-fallback-cookies", "x-sdk-version"):
        assert name in allowed
    assert set(headers["Access-Control-Allow-Methods"].split(", ")) == {
        "GET",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
    }


def test_caller_and_principal_reprs_hide_secrets():
    from authcore.models.caller import Caller
    from authcore.services.auth import Principal

    assert "a" * 64 not in repr(Caller(ip="1.2.3.4", user_agent="x", credential=("alice", "a" * 64)))
    principal = Principal(user={"passwordHash": "$argon2id$secret"}, session={"digest": "d"})
    assert "argon2id" not in repr(principal)


@pytest.mark.parametrize(
    ("origin", "loopback_rule"),
    [
        ("http://localhost:5173", True),
        ("http://localhost", True),
        ("https://127.0.0.1:8443", True),
        ("http://[::1]:3000", True),
        ("HTTP://LocalHost:5173/", True),
        ("http://localhost.evil.example:5173", False),
        ("http://127.0.0.1.nip.io", False),
        ("http://localhost:5173@evil.example", False),
        ("http://localhost:5173/path", False),
        ("http://0.0.0.0:3000", False),
        ("http://192.168.1.20:5173", False),
        ("ws://localhost:5173", False),
        ("null", False),
        ("", False),
    ],
)
def test_the_local_loopback_rule_matches_loopback_origins_only(origin, loopback_rule):
    import dataclasses

    from authcore.config import settings

    strict = settings()
    assert not strict.loopback_origins  # the template's environment: the listed origins only
    assert not strict.origin_allowed(origin)
    assert dataclasses.replace(strict, loopback_origins=True).origin_allowed(origin) is loopback_rule


def test_headers_are_found_by_any_case_and_each_event_reads_its_own():
    first = {"headers": {"Origin": "https://a.example", "origin": "https://second.example", "X-Nuvix-Key": None}}
    second = {"headers": {"ORIGIN": "https://b.example"}}
    assert transport.header(first, "origin") == "https://a.example"  # the first of names differing in case
    assert transport.header(second, "Origin") == "https://b.example"
    assert transport.header(first, "ORIGIN") == "https://a.example"
    assert transport.header(first, "X-Nuvix-Key") == ""
    assert transport.header({"headers": None}, "Origin") == ""
