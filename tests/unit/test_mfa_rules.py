"""The MFA rules that need no AWS: factors and their order, the recent-challenge window, the MFA state
read from a profile, what a proven factor writes, and the QR image."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
import zxingcpp
from boto3.dynamodb.types import TypeDeserializer
from PIL import Image

from authcore.errors import ApiError
from authcore.services import factors, mfa
from authcore.services.auth import Principal
from authcore.services.avatars import qr_png
from authcore.services.factors import minimum_factors, needs_more_factors, verified_second_factors
from authcore.store.mfa import FactorProof, factors_update
from authcore.store.update import ProfileUpdate

NOW = 1_700_000_000_123  # epoch ms
TEN_MINUTES = 10 * 60 * 1000
KEY = {"pk": "USER#u1", "sk": "PROFILE"}


# --- with_factor ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factors", "added", "expected"),
    [
        (["password"], ("totp",), ["password", "totp"]),
        (["email"], ("totp",), ["email", "totp"]),  # an email-OTP session keeps email first
        (["password", "email"], ("email",), ["password", "email"]),  # already proven: no repeat
        (["password"], ("email", "phone", "totp"), ["password", "email", "phone", "totp"]),  # in proof order
        (["password"], ("totp", "email", "totp"), ["password", "totp", "email"]),
        (["password"], ("password",), ["password"]),
        (["password"], (), ["password"]),
        ([], ("email",), ["email"]),
        (["password", "password"], ("email",), ["password", "email"]),
    ],
)
def test_with_factor_adds_in_order_without_repeats(factors, added, expected):
    assert mfa.with_factor({"factors": factors}, *added) == expected


def test_with_factor_on_a_session_without_factors():
    assert mfa.with_factor({}, "totp") == ["totp"]


def test_with_factor_leaves_the_session_alone():
    session = {"factors": ["password"]}
    result = mfa.with_factor(session, "email")
    assert session == {"factors": ["password"]}
    result.append("x")
    assert session["factors"] == ["password"]


# --- the recent-challenge window -----------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(mfa, "now_ms", lambda: NOW)


def principal(**session: Any) -> Principal:
    return Principal(user={"userId": "u1"}, session={"userId": "u1", "factors": ["password", "email"], **session})


def refused(call) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("age_ms", [0, 1, 60_000, TEN_MINUTES - 1])
def test_a_challenge_within_ten_minutes_is_recent(clock, age_ms):
    mfa.require_recent_challenge(principal(stepUpAt=NOW - age_ms))  # no error


@pytest.mark.parametrize("age_ms", [TEN_MINUTES, TEN_MINUTES + 1, 3_600_000])
def test_a_challenge_ten_minutes_old_or_more_is_not(clock, age_ms):
    # Exactly 10 minutes is already too old, as a challenge expires at createdAt + 10 min (expire <= now).
    error = refused(lambda: mfa.require_recent_challenge(principal(stepUpAt=NOW - age_ms)))
    assert (error.status, error.type) == (401, "user_challenge_required")


# A challenge with a factor the session made itself sets mfaUpdatedAt but no stepUpAt (API.md §7).
@pytest.mark.parametrize("session", [{}, {"mfaUpdatedAt": 0}, {"mfaUpdatedAt": NOW}, {"stepUpAt": 0}])
def test_a_session_that_never_completed_a_challenge_is_not_recent(clock, session):
    error = refused(lambda: mfa.require_recent_challenge(principal(**session)))
    assert error.type == "user_challenge_required"


def test_the_window_is_the_sessions_own(clock):
    """Another session's challenge, or the user's, proves nothing for this session."""
    user = {"userId": "u1", "mfaUpdatedAt": NOW}
    other = Principal(user=user, session={"userId": "u1", "factors": ["password"]})
    assert refused(lambda: mfa.require_recent_challenge(other)).type == "user_challenge_required"


# --- the MFA state of a profile ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "unused"),
    [
        (None, []),
        ({}, []),
        ({"a": False, "b": True, "c": False}, ["a", "c"]),
        ({"a": True, "b": True}, []),
        ({"z": False, "y": False}, ["z", "y"]),
    ],
)
def test_unused_recovery_hashes(codes, unused):
    user = {"userId": "u1"} if codes is None else {"userId": "u1", "recoveryCodes": codes}
    assert mfa.unused_recovery_hashes(user) == unused


@pytest.mark.parametrize(
    ("authenticator", "verified"),
    [
        (None, False),
        ({}, False),
        ({"secret": b"x", "verified": False, "createdAt": 1}, False),
        ({"secret": b"x", "createdAt": 1}, False),
        ({"secret": b"x", "verified": True, "createdAt": 1}, True),
    ],
)
def test_verified_authenticator(authenticator, verified):
    user = {"userId": "u1"} if authenticator is None else {"userId": "u1", "authenticator": authenticator}
    found = factors.verified_authenticator(user)
    assert (found is not None) == verified
    if verified:
        assert found == authenticator


VERIFIED_EMAIL = {"email": "a@example.com", "emailVerification": True}
VERIFIED_PHONE = {"phone": "+14155552671", "phoneVerification": True}
VERIFIED_TOTP = {"authenticator": {"secret": b"x", "verified": True, "createdAt": 1}}


@pytest.mark.parametrize(
    ("profile", "factors", "minimum"),
    [
        ({}, [], 1),
        ({"mfa": False, **VERIFIED_EMAIL, **VERIFIED_PHONE, **VERIFIED_TOTP}, ["email", "phone", "totp"], 1),
        ({"mfa": True}, [], 1),  # MFA on without a verified factor does not lock the user out
        ({"mfa": True, "email": "a@example.com", "emailVerification": False}, [], 1),
        ({"mfa": True, "email": "", "emailVerification": True}, [], 1),  # verified, then removed
        ({"mfa": True, "phone": "+14155552671", "phoneVerification": False}, [], 1),
        ({"mfa": True, "authenticator": {"secret": b"x", "verified": False, "createdAt": 1}}, [], 1),
        ({"mfa": True, "recoveryCodes": {"a": False}}, [], 1),  # recovery codes alone are no second factor
        ({"mfa": True, **VERIFIED_EMAIL}, ["email"], 2),
        ({"mfa": True, **VERIFIED_PHONE}, ["phone"], 2),
        ({"mfa": True, **VERIFIED_TOTP}, ["totp"], 2),
        ({"mfa": True, **VERIFIED_EMAIL, **VERIFIED_PHONE, **VERIFIED_TOTP}, ["email", "phone", "totp"], 2),
    ],
)
def test_minimum_factors_follow_the_mfa_state(profile, factors, minimum):
    user = {"userId": "u1", **profile}
    assert verified_second_factors(user) == factors
    assert minimum_factors(user) == minimum


@pytest.mark.parametrize(
    ("session_factors", "needs_more"),
    [
        (["password"], True),
        (["password", "password"], True),  # distinct factors count
        (["password", "email"], False),
        (["email", "totp"], False),
        ([], True),
    ],
)
def test_a_session_needs_two_distinct_factors_when_mfa_applies(session_factors, needs_more):
    user = {"userId": "u1", "mfa": True, **VERIFIED_EMAIL}
    assert needs_more_factors(user, {"factors": session_factors}) is needs_more
    assert needs_more_factors({**user, "mfa": False}, {"factors": session_factors}) is (not session_factors)


# --- what a proven factor writes -----------------------------------------------------------------


def plain(value: Any) -> Any:
    """DynamoDB numbers as Python ints, so that values print as they were written."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def unwrap(condition: str) -> str:
    return condition[1:-1] if condition.startswith("(") and condition.endswith(")") else condition


def readable(update: dict[str, Any]) -> tuple[list[str], set[str]]:
    """The update's clauses and AND-ed conditions with every placeholder replaced by its name or value."""
    names = update.get("ExpressionAttributeNames", {})
    deserialize = TypeDeserializer().deserialize
    values = {k: plain(deserialize(v)) for k, v in update.get("ExpressionAttributeValues", {}).items()}

    def fill(text: str) -> str:
        text = re.sub(r"#n\d+", lambda m: names[m.group(0)], text)
        return re.sub(r":v\d+", lambda m: repr(values[m.group(0)]), text)

    clauses = re.split(r" (?=SET |REMOVE |ADD )", fill(update["UpdateExpression"]))
    conditions = {unwrap(c) for c in fill(update["ConditionExpression"]).split(" AND ")}
    return clauses, conditions


def test_a_plain_proof_resets_the_failure_count_as_read():
    update = FactorProof(failures=0).apply_to(ProfileUpdate().set("updatedAt", NOW)).as_update(KEY)
    clauses, conditions = readable(update)
    assert clauses == [f"SET updatedAt = {NOW!r}", "REMOVE codeFailures, codeFailedAt"]
    assert conditions == {"attribute_exists(pk)", "attribute_not_exists(codeFailures) OR codeFailures = 0"}


def test_a_proof_after_failures_requires_that_count():
    update = FactorProof(failures=7).apply_to(ProfileUpdate()).as_update(KEY)
    clauses, conditions = readable(update)
    assert clauses == ["REMOVE codeFailures, codeFailedAt"]
    assert conditions == {"attribute_exists(pk)", "codeFailures = 7"}


def test_a_totp_proof_uses_up_its_step():
    update = FactorProof(failures=0, totp_step=56_666_667).apply_to(ProfileUpdate().set("updatedAt", NOW))
    clauses, conditions = readable(update.as_update(KEY))
    assert clauses == [f"SET updatedAt = {NOW!r}, totpStep = 56666667", "REMOVE codeFailures, codeFailedAt"]
    assert conditions == {
        "attribute_exists(pk)",
        "attribute_not_exists(totpStep) OR totpStep < 56666667",  # only a later step than any accepted
        "attribute_not_exists(codeFailures) OR codeFailures = 0",
    }


def test_a_recovery_code_proof_spends_that_code():
    proof = FactorProof(failures=2, recovery_code_hash="f00d")
    clauses, conditions = readable(proof.apply_to(ProfileUpdate()).as_update(KEY))
    assert clauses == ["SET recoveryCodes.f00d = True", "REMOVE codeFailures, codeFailedAt"]
    assert conditions == {"attribute_exists(pk)", "recoveryCodes.f00d = False", "codeFailures = 2"}


def test_apply_to_returns_the_update_it_was_given():
    update = ProfileUpdate()
    assert FactorProof(failures=0).apply_to(update) is update


def test_a_recovery_code_hash_stays_out_of_reprs():
    assert "f00d" not in repr(FactorProof(failures=0, recovery_code_hash="f00d"))


def test_factors_update_requires_the_factors_as_read_and_a_live_session():
    session = {"userId": "u1", "digest": "d1", "factors": ["password"]}
    update = factors_update(session, ["password", "totp"], NOW, challenged=True)
    clauses, conditions = readable(update)
    assert clauses == [f"SET factors = ['password', 'totp'], updatedAt = {NOW!r}, mfaUpdatedAt = {NOW!r}"]
    assert conditions == {"attribute_exists(pk)", "factors = ['password']", f"expire > {NOW!r}"}
    not_challenged = readable(factors_update(session, ["password", "totp"], NOW, challenged=False))[0]
    assert not_challenged == [f"SET factors = ['password', 'totp'], updatedAt = {NOW!r}"]  # no mfaUpdatedAt


# --- the QR image --------------------------------------------------------------------------------


def read(png: bytes) -> tuple[Image.Image, list[str]]:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image, [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize(
    ("text", "size", "margin"),
    [
        ("hello", 100, 0),
        ("hello", 333, 4),
        ("otpauth://totp/My%20App:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=My%20App", 400, 1),
        ("x" * 512, 1000, 10),
        ("Grüße, 日本語, Привет", 250, 2),
    ],
)
def test_qr_png_reads_back(text, size, margin):
    png = qr_png(text, size, margin)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image, texts = read(png)
    assert (image.format, image.size, image.mode) == ("PNG", (size, size), "L")
    assert texts == [text]


def test_qr_png_is_a_valid_png_with_correct_checksums():
    png = qr_png("hello", 123, 1)
    Image.open(io.BytesIO(png)).verify()  # raises on a bad chunk CRC or truncation


def test_qr_png_is_black_and_white_only():
    image, _ = read(qr_png("hello", 211, 3))
    assert set(image.tobytes()) == {0, 255}


def test_qr_png_scales_every_module_evenly():
    """At a size that is a whole multiple of the module count, every module is a k x k block."""
    one = read(qr_png("hello", 25, 2))[0]  # version 1: 21 modules + 2 x 2 margin = 25
    assert one.size == (25, 25)
    big = read(qr_png("hello", 100, 2))[0]
    assert big.resize((25, 25), Image.Resampling.NEAREST).tobytes() == one.tobytes()
    assert big.tobytes() == one.resize((100, 100), Image.Resampling.NEAREST).tobytes()


def test_qr_png_is_deterministic():
    assert qr_png("hello", 200, 1) == qr_png("hello", 200, 1)
    assert qr_png("hello", 200, 1) != qr_png("hello!", 200, 1)
