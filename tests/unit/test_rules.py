"""Pure rules: ids, dates, the MFA gate, the session cap, password hashing, field validation."""

import re

import pytest
from pydantic import ValidationError

from authcore.clock import iso
from authcore.errors import ApiError
from authcore.ids import resolve_id, unique_id
from authcore.models.requests import CreateAccount, UpdatePhone, UpdatePrefs
from authcore.security import passwords
from authcore.services.factors import minimum_factors, needs_more_factors
from authcore.services.sessions import MAX_INCOMPLETE, MAX_SESSIONS, _evictions


def test_unique_ids_are_20_hex_and_time_ordered():
    ids = [unique_id() for _ in range(50)]
    assert all(re.fullmatch(r"[0-9a-f]{20}", i) for i in ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)
    assert len(set(ids)) == 50


@pytest.mark.parametrize("value", ["a", "user_1.x-y", "A" * 36])
def test_custom_ids_accepted(value):
    assert resolve_id(value) == value


@pytest.mark.parametrize("value", ["", "_lead", "-lead", "a" * 37, "has space", "ünï"])
def test_bad_custom_ids_rejected(value):
    with pytest.raises(ApiError) as caught:
        resolve_id(value)
    assert caught.value.type == "general_argument_invalid"
    assert caught.value.message.startswith("Invalid `userId` param:")


def test_dates_have_milliseconds_and_offset():
    assert iso(1_764_441_000_500) == "2025-11-29T18:30:00.500+00:00"
    assert iso(0) == ""
    assert iso(None) == ""


@pytest.mark.parametrize(
    ("user", "factors", "blocked"),
    [
        ({"mfa": False, "email": "a@b.co", "emailVerification": True}, ["password"], False),
        # MFA on but no verified second factor: one factor is enough (no lock-out).
        ({"mfa": True, "email": "a@b.co", "emailVerification": False}, ["password"], False),
        ({"mfa": True, "email": "a@b.co", "emailVerification": True}, ["password"], True),
        ({"mfa": True, "phone": "+14155552671", "phoneVerification": True}, ["password"], True),
        ({"mfa": True, "authenticator": {"verified": True}}, ["password"], True),
        ({"mfa": True, "authenticator": {"verified": False}}, ["password"], False),
        ({"mfa": True, "email": "a@b.co", "emailVerification": True}, ["password", "email"], False),
        # Distinct factors count: the same factor twice is still one.
        ({"mfa": True, "email": "a@b.co", "emailVerification": True}, ["email", "email"], True),
        # A verified flag without an address is not a factor.
        ({"mfa": True, "email": "", "emailVerification": True}, ["password"], False),
        # Passkeys (API.md §9): a second factor; with user verification a passkey sign-in passes alone.
        ({"mfa": True, "passkeys": {"p": {"createdAt": 1}}}, ["password"], True),
        ({"mfa": True, "passkeys": {"p": {"createdAt": 1}}}, ["passkey"], False),
        ({"mfa": True, "passkeys": {"p": {"createdAt": 1}}}, ["password", "passkey"], False),
        # A suspect passkey (its counter went back) is no factor.
        ({"mfa": True, "passkeys": {"p": {"createdAt": 1, "suspect": 5}}}, ["password"], False),
    ],
)
def test_mfa_gate(user, factors, blocked):
    assert needs_more_factors(user, {"factors": factors}) is blocked


def test_minimum_factors_needs_mfa_on_and_a_verified_second_factor():
    verified_email = {"email": "a@b.co", "emailVerification": True}
    assert minimum_factors({"mfa": False, **verified_email}) == 1
    assert minimum_factors({"mfa": True, **verified_email}) == 2
    assert minimum_factors({"mfa": True, "email": "a@b.co"}) == 1


def test_session_cap_evicts_expired_then_oldest():
    now = 1_000_000
    live = {f"d{i}": {"id": f"s{i}", "createdAt": i, "expire": now + 10} for i in range(MAX_SESSIONS)}
    expired = {"old": {"id": "x", "createdAt": 99, "expire": now - 1}}
    assert _evictions({"sessions": {**live, **expired}}, now) == ["old", "d0"]
    assert _evictions({"sessions": dict(list(live.items())[:9])}, now) == []
    assert _evictions({}, now) == []


def test_session_cap_never_lets_an_incomplete_session_end_a_complete_one():
    """API.md §7: incomplete sessions go first, and only a complete session (or one completing now) ends a
    complete one. Incomplete ones beyond the cap end only each other, beyond MAX_INCOMPLETE of them."""
    now = 1_000_000

    def entries(prefix: str, count: int, pending: bool, start: int = 0) -> dict:
        flag = {"pending": True} if pending else {}
        return {f"{prefix}{i}": {"id": "x", "createdAt": start + i, "expire": now + 10, **flag} for i in range(count)}

    complete = entries("c", MAX_SESSIONS, pending=False)
    assert _evictions({"sessions": complete}, now, pending=True) == []
    waiting = entries("p", MAX_INCOMPLETE, pending=True, start=100)
    assert _evictions({"sessions": {**complete, **waiting}}, now, pending=True) == ["p0"]
    # A complete one at the cap: the oldest incomplete ones first, even when younger than every complete one.
    mixed = {**entries("c", 7, pending=False), **entries("p", 3, pending=True, start=100)}
    assert _evictions({"sessions": mixed}, now) == ["p0"]
    assert _evictions({"sessions": {**complete, **waiting}}, now) == [f"p{i}" for i in range(MAX_INCOMPLETE)] + ["c0"]
    # The session completing now is already counted: it ends the others beyond the cap, never itself.
    assert _evictions({"sessions": mixed}, now, completing="p2") == []
    expiring = {"p2": {**mixed["p2"], "expire": now}}  # its expiry passed since it was read: still not itself
    assert _evictions({"sessions": {**mixed, **expiring}}, now, completing="p2") == []
    assert _evictions({"sessions": {**mixed, **entries("q", 1, pending=True, start=200)}}, now, completing="q0") == [
        "p0"
    ]


def test_argon2id_at_owasp_minimum():
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(hashed, "correct horse battery")
    assert not passwords.verify_password(hashed, "wrong")
    assert not passwords.verify_password(None, "unknown-account-placeholder")
    assert not passwords.verify_password("not a hash", "x")
    assert not passwords.needs_rehash(hashed)


def test_email_is_validated_and_lower_cased():
    body = CreateAccount(userId="unique()", email="Ada.L@Example.COM", password="12345678")
    assert body.email == "ada.l@example.com"
    for bad in ["no-at-sign", "a@", "@b.co", "a b@c.co", "x" * 250 + "@b.co"]:
        with pytest.raises(ValidationError):
            CreateAccount(userId="unique()", email=bad, password="12345678")


def test_phone_must_be_a_real_e164_number():
    assert UpdatePhone(phone="+14155552671", password="").phone == "+14155552671"
    assert UpdatePhone(phone="+447911123456", password="").phone == "+447911123456"
    for bad in ["14155552671", "+1 415 555 2671", "+1415555267100000", "+10000000000", "+999"]:
        with pytest.raises(ValidationError):
            UpdatePhone(phone=bad, password="")


def test_password_length_bounds():
    with pytest.raises(ValidationError):
        CreateAccount(userId="unique()", email="a@b.co", password="1234567")
    with pytest.raises(ValidationError):
        CreateAccount(userId="unique()", email="a@b.co", password="x" * 257)
    assert CreateAccount(userId="unique()", email="a@b.co", password="x" * 256).password == "x" * 256


def test_types_are_not_coerced():
    with pytest.raises(ValidationError):
        CreateAccount(userId="unique()", email="a@b.co", password=12345678)


def test_prefs_size_is_bounded():
    assert UpdatePrefs(prefs={"theme": "dark"}).prefs == {"theme": "dark"}
    with pytest.raises(ValidationError):
        UpdatePrefs(prefs={"blob": "x" * 70_000})
