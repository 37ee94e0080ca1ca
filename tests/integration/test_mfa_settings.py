"""MFA settings of the signed-in user (API.md §4.5, §4.6): the factors list, the TOTP authenticator,
recovery codes, the MFA flag, "a recent challenge" and the security notifications, through the
handlers with DynamoDB, KMS, SES and SNS emulated. TOTP codes come from tests/rfc6238.py."""

import base64
import hashlib
import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from authcore.config import settings
from authcore.store import users as users_store

from .conftest import PASSWORD, profile, table_items
from .mfa_fixtures import (
    EMAIL,
    PHONE,
    RECENT_MS,
    assert_error,
    challenge,
    challenge_items,
    complete,
    complete_totp_challenge,
    create_authenticator,
    create_challenge,
    create_recovery_codes,
    email_otp_session,
    enrol_totp,
    failures,
    phone_otp_session,
    stored_session,
    verify_authenticator,
    verify_email,
    verify_phone,
)

NO_FACTORS = {"totp": False, "email": False, "phone": False, "recoveryCode": False, "custom": False, "passkey": False}
RECOVERY_CODE = re.compile(r"^[0-9a-f]{16}$")
SUBJECT_MFA_ON = "Multi-factor authentication turned on for My App"
SUBJECT_MFA_OFF = "Multi-factor authentication turned off for My App"
SUBJECT_AUTHENTICATOR_ADDED = "Authenticator app added to your My App account"
SUBJECT_AUTHENTICATOR_REMOVED = "Authenticator app removed from your My App account"
SUBJECT_RECOVERY_CODE_USED = "A recovery code was used to sign in to My App"
SUBJECT_CODES_REGENERATED = "New recovery codes for your My App account"
SUBJECT_CODES_CREATED = "Recovery codes created for your My App account"


def factors(api, credential):
    answer = api("list_mfa_factors", session=credential)
    assert answer.status == 200, answer.body
    return answer.body


def use_recovery_code(api, credential, code):
    return complete(api, credential, challenge(api, credential, "recoverycode"), code)


def kms_decrypt(ciphertext: bytes, user_id: str) -> bytes:
    kms = boto3.client("kms")
    return kms.decrypt(KeyId=settings().kms_key_id, CiphertextBlob=ciphertext, EncryptionContext={"userId": user_id})[
        "Plaintext"
    ]


def everything_stored() -> str:
    return repr(table_items())


# --- the factors list ----------------------------------------------------------------------------


def test_the_factors_list_shows_each_factor_once_it_is_verified(api, sent, ada, totp_clock):
    assert factors(api, ada.credential) == NO_FACTORS
    verify_email(api, sent, ada.credential)
    assert factors(api, ada.credential) == {**NO_FACTORS, "email": True}
    answer = api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=ada.credential)
    assert answer.status == 200
    assert factors(api, ada.credential)["phone"] is False  # set, but not verified
    assert api("create_phone_verification", {}, session=ada.credential).status == 201
    assert api("update_phone_verification", {"userId": ada.user_id, "secret": sent.code(PHONE)}).status == 200
    assert factors(api, ada.credential) == {**NO_FACTORS, "email": True, "phone": True}
    secret = create_authenticator(api, ada.credential)["secret"]
    assert factors(api, ada.credential)["totp"] is False  # created, but not verified
    assert verify_authenticator(api, ada.credential, totp_clock.code(secret)).status == 200
    assert factors(api, ada.credential) == {**NO_FACTORS, "email": True, "phone": True, "totp": True}
    create_recovery_codes(api, ada.credential)
    assert factors(api, ada.credential) == {
        "totp": True,
        "email": True,
        "phone": True,
        "recoveryCode": True,
        "custom": False,
        "passkey": False,
    }


def test_the_factors_list_shows_recovery_codes_only_while_unused_ones_remain(api, ada):
    codes = create_recovery_codes(api, ada.credential)
    for n, code in enumerate(codes):
        assert factors(api, ada.credential)["recoveryCode"] is True, n
        assert use_recovery_code(api, ada.credential, code).status == 200, n
    assert factors(api, ada.credential) == NO_FACTORS
    # With none left unused, a new set may be created (409 is only while unused ones remain).
    assert len(create_recovery_codes(api, ada.credential)) == 10
    assert factors(api, ada.credential)["recoveryCode"] is True


def test_the_factors_list_needs_no_second_factor(api, sent, ada, totp_clock):
    """A half-signed-in session (MFA on, one factor) may list factors: it must pick a challenge."""
    enrol_totp(api, ada.credential, totp_clock)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    half = api.session_for(EMAIL)
    assert_error(api("get_account", session=half), 401, "user_more_factors_required")
    assert factors(api, half) == {**NO_FACTORS, "totp": True}
    assert_error(api("list_mfa_factors"), 401, "general_unauthorized_scope")


# --- the TOTP authenticator ----------------------------------------------------------------------


def test_a_new_authenticator_shows_its_secret_and_otpauth_uri(api, ada):
    created = create_authenticator(api, ada.credential)
    assert set(created) == {"secret", "uri"}
    secret, uri = created["secret"], created["uri"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)  # 160 bits of base32
    assert len(base64.b32decode(secret)) == 20
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert " " not in uri and "@" not in uri  # percent-encoded
    assert unquote(parts.path) == "/My App:ada@example.com"
    assert parse_qs(parts.query) == {"secret": [secret], "issuer": ["My App"]}


def test_the_authenticator_label_is_the_phone_when_there_is_no_email(api, sent):
    credential = phone_otp_session(api, sent)
    answer = api("create_mfa_authenticator", {}, session=credential, path={"type": "totp"})
    assert answer.status == 200, answer.body
    parts = urlsplit(answer.body["uri"])
    assert unquote(parts.path) == f"/My App:{PHONE}"
    assert parse_qs(parts.query)["issuer"] == ["My App"]


def test_the_authenticator_secret_is_shown_only_once_and_stored_sealed(api, sent, ada, totp_clock):
    secret = create_authenticator(api, ada.credential)["secret"]
    later = [
        verify_authenticator(api, ada.credential, totp_clock.code(secret)),
        api("get_account", session=ada.credential),
        api("list_mfa_factors", session=ada.credential),
        api("get_session", session=ada.credential, path={"sessionId": "current"}),
        api("list_sessions", session=ada.credential),
        api("create_mfa_authenticator", {}, session=ada.credential, path={"type": "totp"}),  # 409
        api("update_mfa", {"mfa": True}, session=ada.credential),
        api("create_mfa_challenge", {"factor": "totp"}, session=ada.credential),
    ]
    totp_clock.next_step()
    later.append(complete(api, ada.credential, later[-1].body["$id"], totp_clock.code(secret)))
    later.append(api("get_mfa_recovery_codes", session=ada.credential))  # 404: none created
    for answer in later:
        assert answer.status < 500, answer.body
        assert secret not in json.dumps(answer.body) and secret.lower() not in json.dumps(answer.body).lower()
        assert all(secret not in value for values in answer.headers.values() for value in values)

    stored = profile(ada.user_id)["authenticator"]
    assert isinstance(stored["secret"], bytes) and stored["verified"] is True
    assert secret.encode() not in stored["secret"] and base64.b32decode(secret) not in stored["secret"]
    assert secret not in everything_stored() and secret.lower() not in everything_stored().lower()
    # The ciphertext is KMS's, bound to this user: it opens only with her id as the context.
    assert kms_decrypt(stored["secret"], ada.user_id) == secret.encode()
    with pytest.raises(ClientError):
        kms_decrypt(stored["secret"], "someone-else")


def test_an_unverified_authenticator_is_replaced_by_a_new_one(api, ada, totp_clock):
    first = create_authenticator(api, ada.credential)["secret"]
    created_at = profile(ada.user_id)["authenticator"]["createdAt"]
    second = create_authenticator(api, ada.credential)["secret"]
    assert second != first
    assert profile(ada.user_id)["authenticator"]["createdAt"] >= created_at
    assert kms_decrypt(profile(ada.user_id)["authenticator"]["secret"], ada.user_id) == second.encode()
    assert totp_clock.code(first) != totp_clock.code(second)
    assert_error(verify_authenticator(api, ada.credential, totp_clock.code(first)), 401, "user_invalid_token")
    assert verify_authenticator(api, ada.credential, totp_clock.code(second)).status == 200


def test_a_verified_authenticator_cannot_be_replaced(api, ada, totp_clock):
    secret = enrol_totp(api, ada.credential, totp_clock)
    sealed = profile(ada.user_id)["authenticator"]["secret"]
    answer = api("create_mfa_authenticator", {}, session=ada.credential, path={"type": "totp"})
    assert_error(answer, 409, "user_authenticator_already_verified")
    assert profile(ada.user_id)["authenticator"]["secret"] == sealed
    assert_error(
        verify_authenticator(api, ada.credential, totp_clock.code(secret, 1)),
        409,
        "user_authenticator_already_verified",
    )


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("create_mfa_authenticator", {}),
        ("update_mfa_authenticator", {"otp": "123456"}),
        ("delete_mfa_authenticator", {}),
    ],
)
@pytest.mark.parametrize("type_", ["sms", "email", "TOTP", "hotp"])
def test_the_only_authenticator_type_is_totp(api, ada, name, body, type_):
    answer = api(name, body, session=ada.credential, path={"type": type_})
    assert_error(answer, 400, "general_argument_invalid")
    assert "authenticator" not in profile(ada.user_id)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_an_authenticator_code_is_accepted_one_step_either_side(api, ada, totp_clock, offset):
    secret = create_authenticator(api, ada.credential)["secret"]
    answer = verify_authenticator(api, ada.credential, totp_clock.code(secret, offset))
    assert answer.status == 200, answer.body
    assert answer.body["$id"] == ada.user_id and "secret" not in answer.body
    assert profile(ada.user_id)["authenticator"]["verified"] is True
    assert profile(ada.user_id)["totpStep"] == totp_clock.step + offset


@pytest.mark.parametrize("offset", [-2, 2])
def test_an_authenticator_code_two_steps_away_is_a_wrong_code(api, ada, totp_clock, offset):
    secret = create_authenticator(api, ada.credential)["secret"]
    code = totp_clock.code(secret, offset)
    if code in {totp_clock.code(secret, near) for near in (-1, 0, 1)}:
        pytest.skip("one in a few hundred thousand: that code is also a nearby step's")
    assert_error(verify_authenticator(api, ada.credential, code), 401, "user_invalid_token")
    assert failures(ada.user_id) == 1
    assert profile(ada.user_id)["authenticator"]["verified"] is False


def test_a_wrong_authenticator_code_is_refused_and_counted(api, ada, totp_clock):
    secret = create_authenticator(api, ada.credential)["secret"]
    for n in (1, 2):
        answer = verify_authenticator(api, ada.credential, totp_clock.wrong_code(secret))
        assert_error(answer, 401, "user_invalid_token")
        assert failures(ada.user_id) == n
    assert profile(ada.user_id)["authenticator"]["verified"] is False
    assert stored_session(ada.credential)["factors"] == ["password"]
    assert verify_authenticator(api, ada.credential, totp_clock.code(secret)).status == 200
    assert users_store.MFA.count not in profile(ada.user_id)  # a success resets the count


@pytest.mark.parametrize(
    "otp", ["12345", "1234567", "abcdef", "12 345", " 123456", "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
def test_a_malformed_authenticator_code_is_refused_without_counting(api, ada, otp):
    create_authenticator(api, ada.credential)
    assert_error(verify_authenticator(api, ada.credential, otp), 401, "user_invalid_token")
    assert failures(ada.user_id) == 0
    assert profile(ada.user_id)["authenticator"]["verified"] is False


def test_verifying_needs_an_unverified_authenticator(api, ada, totp_clock):
    assert_error(verify_authenticator(api, ada.credential, "123456"), 404, "user_authenticator_not_found")
    secret = enrol_totp(api, ada.credential, totp_clock)
    totp_clock.next_step()
    answer = verify_authenticator(api, ada.credential, totp_clock.code(secret))
    assert_error(answer, 409, "user_authenticator_already_verified")


def test_the_step_that_verified_the_authenticator_is_never_accepted_again(api, ada, totp_clock):
    secret = create_authenticator(api, ada.credential)["secret"]
    code = totp_clock.code(secret)
    assert verify_authenticator(api, ada.credential, code).status == 200
    later = api.session_for(EMAIL)  # a session the authenticator is older than: its challenge is a step-up
    challenge_id = challenge(api, later, "totp")
    assert_error(complete(api, later, challenge_id, code), 401, "user_invalid_token")
    assert failures(ada.user_id) == 0  # a replay is no guess, though it uses one of the challenge's attempts
    [stored] = challenge_items(ada.user_id)
    assert stored["attempts"] == 1
    # A new authenticator does not make old steps usable again: the used steps are the user's.
    assert complete(api, later, challenge_id, totp_clock.code(secret, 1)).status == 200  # step s+1
    assert api("delete_mfa_authenticator", {}, session=later, path={"type": "totp"}).status == 204
    replacement = create_authenticator(api, later)["secret"]
    totp_clock.next_step()  # now s+1: steps s, s+1 and s+2 are in the window, s and s+1 used
    for used in (-1, 0):
        answer = verify_authenticator(api, later, totp_clock.code(replacement, used))
        assert_error(answer, 401, "user_invalid_token")
    assert failures(ada.user_id) == 0
    assert verify_authenticator(api, later, totp_clock.code(replacement, 1)).status == 200


def test_verifying_the_authenticator_adds_totp_to_this_session_only(api, ada, totp_clock):
    other = api.session_for(EMAIL)
    enrol_totp(api, ada.credential, totp_clock)
    current = api("get_session", session=ada.credential, path={"sessionId": "current"}).body
    assert current["factors"] == ["password", "totp"]
    assert current["mfaUpdatedAt"] == ""  # enrolling is no challenge
    assert stored_session(other)["factors"] == ["password"]


# --- recovery codes ------------------------------------------------------------------------------


def test_recovery_codes_are_ten_distinct_lowercase_hex_codes(api, ada):
    answer = api("create_mfa_recovery_codes", {}, session=ada.credential)
    assert answer.status == 201, answer.body
    assert set(answer.body) == {"recoveryCodes"}
    codes = answer.body["recoveryCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(RECOVERY_CODE.fullmatch(code) for code in codes), codes


def test_recovery_codes_are_created_once(api, ada):
    codes = create_recovery_codes(api, ada.credential)
    before = profile(ada.user_id)["recoveryCodes"]
    answer = api("create_mfa_recovery_codes", {}, session=ada.credential)
    assert_error(answer, 409, "user_recovery_codes_already_exists")
    assert profile(ada.user_id)["recoveryCodes"] == before
    assert use_recovery_code(api, ada.credential, codes[0]).status == 200  # the first set still works


def test_recovery_codes_are_stored_only_as_keyed_hashes(api, ada):
    codes = create_recovery_codes(api, ada.credential)
    stored = everything_stored()
    for code in codes:
        assert code not in stored and code.upper() not in stored
    hashes = profile(ada.user_id)["recoveryCodes"]
    assert len(hashes) == 10 and set(hashes.values()) == {False}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    plain = {
        hashlib.sha256(text.encode()).hexdigest()
        for code in codes
        for text in (code, f"{ada.user_id}{code}", f"{ada.user_id}\x00{code}", f"{ada.user_id}:{code}")
    }
    assert not plain & set(hashes)  # keyed: not derivable from the code (and user id) alone
    sealed = profile(ada.user_id)["recoveryCodesSealed"]
    assert isinstance(sealed, bytes) and json.loads(kms_decrypt(sealed, ada.user_id)) == codes


def test_reading_recovery_codes_shows_only_the_unused_ones(api, ada):
    codes = create_recovery_codes(api, ada.credential)
    later = api.session_for(EMAIL)  # the codes are older than this session: using one is a step-up in it
    assert use_recovery_code(api, later, codes[3]).status == 200  # also the recent challenge
    answer = api("get_mfa_recovery_codes", session=later)
    assert answer.status == 200, answer.body
    assert answer.body == {"recoveryCodes": codes[:3] + codes[4:]}


def test_regenerating_recovery_codes_ends_the_old_ones(api, ada, sent):
    old = create_recovery_codes(api, ada.credential)
    later = api.session_for(EMAIL)
    assert use_recovery_code(api, later, old[0]).status == 200
    answer = api("update_mfa_recovery_codes", {}, session=later)
    assert answer.status == 200, answer.body
    new = answer.body["recoveryCodes"]
    assert len(new) == 10 and len(set(new)) == 10 and all(RECOVERY_CODE.fullmatch(code) for code in new)
    assert not set(new) & set(old)
    assert api("get_mfa_recovery_codes", session=later).body == {"recoveryCodes": new}
    assert_error(use_recovery_code(api, later, old[1]), 401, "user_invalid_token")
    assert failures(ada.user_id) == 1  # an old code is a wrong code now
    assert use_recovery_code(api, later, new[1]).status == 200


@pytest.mark.parametrize("name", ["get_mfa_recovery_codes", "update_mfa_recovery_codes"])
def test_recovery_codes_are_read_or_regenerated_only_right_after_a_challenge(api, ada, totp_clock, mfa_clock, name):
    create_recovery_codes(api, ada.credential)
    secret = enrol_totp(api, ada.credential, totp_clock)  # enrolling is no challenge
    later = api.session_for(EMAIL)
    body = {} if name.startswith("update") else None
    assert_error(api(name, body, session=later), 401, "user_challenge_required")
    complete_totp_challenge(api, later, secret, totp_clock)
    assert api(name, body, session=later).status == 200
    # Another session of the same user has not been challenged.
    assert_error(api(name, body, session=api.session_for(EMAIL)), 401, "user_challenge_required")
    mfa_clock.advance(RECENT_MS - 5_000)
    assert api(name, body, session=later).status == 200
    mfa_clock.advance(6_000)
    assert_error(api(name, body, session=later), 401, "user_challenge_required")
    complete_totp_challenge(api, later, secret, totp_clock)  # a new challenge, at the moved time
    mfa_clock.advance(1_000)
    assert api(name, body, session=later).status == 200


@pytest.mark.parametrize("name", ["get_mfa_recovery_codes", "update_mfa_recovery_codes"])
def test_recovery_codes_never_created_are_not_found(api, ada, totp_clock, name):
    secret = enrol_totp(api, ada.credential, totp_clock)
    later = api.session_for(EMAIL)
    complete_totp_challenge(api, later, secret, totp_clock)
    answer = api(name, {} if name.startswith("update") else None, session=later)
    assert_error(answer, 404, "user_recovery_codes_not_found")
    assert "recoveryCodes" not in profile(ada.user_id)


# --- the MFA flag --------------------------------------------------------------------------------


def test_turning_mfa_on_adds_every_verified_factor_to_the_session(api, sent, ada, totp_clock):
    verify_email(api, sent, ada.credential)
    verify_phone(api, sent, ada.credential, ada.user_id)
    enrol_totp(api, ada.credential, totp_clock)
    other = api.session_for(EMAIL)
    answer = api("update_mfa", {"mfa": True}, session=ada.credential)
    assert answer.status == 200, answer.body
    assert answer.body["mfa"] is True and answer.body["$id"] == ada.user_id
    assert profile(ada.user_id)["mfa"] is True
    session = stored_session(ada.credential)
    assert session["factors"][:2] == ["password", "totp"]
    assert sorted(session["factors"]) == ["email", "password", "phone", "totp"]
    assert session.get("mfaUpdatedAt", 0) == 0  # turning MFA on is no challenge
    assert api("get_account", session=ada.credential).status == 200  # the session stays usable
    # Every other session, and every new one, is a factor short now.
    assert_error(api("get_account", session=other), 401, "user_more_factors_required")
    assert_error(api("get_account", session=api.session_for(EMAIL)), 401, "user_more_factors_required")


def test_turning_mfa_on_without_a_verified_factor_keeps_sessions_usable(api, ada):
    answer = api("update_mfa", {"mfa": True}, session=ada.credential)
    assert answer.status == 200 and answer.body["mfa"] is True
    assert stored_session(ada.credential)["factors"] == ["password"]
    assert api("get_account", session=api.session_for(EMAIL)).status == 200


def test_turning_mfa_off_needs_a_recent_challenge(api, ada, totp_clock, mfa_clock):
    secret = enrol_totp(api, ada.credential, totp_clock)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    assert_error(api("update_mfa", {"mfa": False}, session=ada.credential), 401, "user_challenge_required")
    assert profile(ada.user_id)["mfa"] is True
    complete_totp_challenge(api, ada.credential, secret, totp_clock)  # its own authenticator: no step-up
    assert_error(api("update_mfa", {"mfa": False}, session=ada.credential), 401, "user_challenge_required")
    later = api.session_for(EMAIL)
    complete_totp_challenge(api, later, secret, totp_clock)
    mfa_clock.advance(RECENT_MS + 1_000)
    assert_error(api("update_mfa", {"mfa": False}, session=later), 401, "user_challenge_required")
    complete_totp_challenge(api, later, secret, totp_clock)
    answer = api("update_mfa", {"mfa": False}, session=later)
    assert answer.status == 200 and answer.body["mfa"] is False
    assert profile(ada.user_id)["mfa"] is False
    assert api("get_account", session=api.session_for(EMAIL)).status == 200


def test_removing_the_authenticator_needs_a_recent_challenge(api, ada, totp_clock):
    secret = enrol_totp(api, ada.credential, totp_clock)
    answer = api("delete_mfa_authenticator", {}, session=ada.credential, path={"type": "totp"})
    assert_error(answer, 401, "user_challenge_required")
    assert profile(ada.user_id)["authenticator"]["verified"] is True
    later = api.session_for(EMAIL)
    complete_totp_challenge(api, later, secret, totp_clock)
    answer = api("delete_mfa_authenticator", {}, session=later, path={"type": "totp"})
    assert answer.status == 204 and answer.body is None
    assert factors(api, later)["totp"] is False
    assert "authenticator" not in profile(ada.user_id)
    assert_error(create_challenge(api, later, "totp"), 404, "user_authenticator_not_found")
    answer = api("delete_mfa_authenticator", {}, session=later, path={"type": "totp"})
    assert_error(answer, 404, "user_authenticator_not_found")


# --- security notifications ----------------------------------------------------------------------


def security_mail(sent, after: int) -> list[tuple[str, str]]:
    """(recipient, subject) of every message after the first `after` ones."""
    return [(m["to"], m["subject"]) for m in sent.outbox.entries()[after:]]


def test_security_changes_are_emailed_to_a_verified_email(api, sent, ada, totp_clock):
    verify_email(api, sent, ada.credential)
    mark = sent.count()
    unverified = create_authenticator(api, ada.credential)["secret"]
    assert security_mail(sent, mark) == []  # an authenticator that is not verified yet adds nothing
    assert verify_authenticator(api, ada.credential, totp_clock.code(unverified)).status == 200
    assert security_mail(sent, mark) == [(EMAIL, SUBJECT_AUTHENTICATOR_ADDED)]

    mark = sent.count()
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200  # no change, no email
    assert security_mail(sent, mark) == [(EMAIL, SUBJECT_MFA_ON)]

    mark = sent.count()
    later = api.session_for(EMAIL)  # MFA on: creating recovery codes needs a step-up (API.md §7)
    complete_totp_challenge(api, later, unverified, totp_clock)
    codes = create_recovery_codes(api, later)
    assert security_mail(sent, mark) == [(EMAIL, SUBJECT_CODES_CREATED)]  # a challenge alone tells nothing

    mark = sent.count()
    for code in codes[:2]:
        assert use_recovery_code(api, later, code).status == 200
    assert security_mail(sent, mark) == [(EMAIL, SUBJECT_RECOVERY_CODE_USED)] * 2
    texts = [m["text"] for m in sent.outbox.entries()[mark:]]
    assert "Unused recovery codes left: 9" in texts[0] and "Unused recovery codes left: 8" in texts[1]
    assert not any(code in text for text in texts for code in codes)

    mark = sent.count()
    regenerated = api("update_mfa_recovery_codes", {}, session=later)
    assert regenerated.status == 200
    assert security_mail(sent, mark) == [(EMAIL, SUBJECT_CODES_REGENERATED)]
    assert not any(
        code in m["text"] for m in sent.outbox.entries()[mark:] for code in regenerated.body["recoveryCodes"]
    )

    mark = sent.count()
    assert api("delete_mfa_authenticator", {}, session=later, path={"type": "totp"}).status == 204
    assert security_mail(sent, mark) == [(EMAIL, SUBJECT_AUTHENTICATOR_REMOVED)]

    mark = sent.count()
    create_authenticator(api, later)
    assert api("delete_mfa_authenticator", {}, session=later, path={"type": "totp"}).status == 204
    assert security_mail(sent, mark) == []  # an unverified one was never announced as added

    mark = sent.count()
    assert api("update_mfa", {"mfa": False}, session=later).status == 200
    assert api("update_mfa", {"mfa": False}, session=later).status == 200
    assert security_mail(sent, mark) == [(EMAIL, SUBJECT_MFA_OFF)]


def test_no_security_email_goes_to_an_unverified_email(api, sent, ada, totp_clock):
    secret = enrol_totp(api, ada.credential, totp_clock)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    later = api.session_for(EMAIL)
    complete_totp_challenge(api, later, secret, totp_clock)
    codes = create_recovery_codes(api, later)
    assert use_recovery_code(api, later, codes[0]).status == 200
    assert api("update_mfa_recovery_codes", {}, session=later).status == 200
    assert api("delete_mfa_authenticator", {}, session=later, path={"type": "totp"}).status == 204
    assert api("update_mfa", {"mfa": False}, session=later).status == 200
    assert secret and sent.count() == 0


# --- the MFA gate and the lock on settings -------------------------------------------------------


SETTINGS_ROUTES = [
    ("update_mfa", {"mfa": False}, None),
    ("create_mfa_authenticator", {}, {"type": "totp"}),
    ("update_mfa_authenticator", {"otp": "123456"}, {"type": "totp"}),
    ("delete_mfa_authenticator", {}, {"type": "totp"}),
    ("create_mfa_recovery_codes", {}, None),
    ("get_mfa_recovery_codes", None, None),
    ("update_mfa_recovery_codes", {}, None),
]


@pytest.mark.parametrize(("name", "body", "path"), SETTINGS_ROUTES)
def test_mfa_settings_need_every_factor(api, ada, totp_clock, name, body, path):
    """A half-signed-in session (a stolen password) cannot change or read the MFA settings."""
    enrol_totp(api, ada.credential, totp_clock)
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    half = api.session_for(EMAIL)
    before = profile(ada.user_id)
    assert_error(api(name, body, session=half, path=path), 401, "user_more_factors_required")
    assert profile(ada.user_id) == before


def test_a_locked_user_cannot_verify_an_authenticator(api, ada, totp_clock, clock):
    secret = create_authenticator(api, ada.credential)["secret"]
    for _ in range(10):
        answer = verify_authenticator(api, ada.credential, totp_clock.wrong_code(secret))
        assert_error(answer, 401, "user_invalid_token")
    locked = verify_authenticator(api, ada.credential, totp_clock.code(secret))
    assert_error(locked, 429, "general_rate_limit_exceeded")
    assert locked.header("X-RateLimit-Reset")
    assert profile(ada.user_id)["authenticator"]["verified"] is False
    clock.advance(31_000)
    assert verify_authenticator(api, ada.credential, totp_clock.code(secret)).status == 200
    assert users_store.MFA.count not in profile(ada.user_id)


def test_a_passwordless_account_with_mfa_on_changes_addresses_and_password_only_after_a_challenge(
    api, sent, totp_clock
):
    """Without a password the session is the only proof, and a thief may hold it: with MFA on, replacing
    an address (a second factor) or setting a password (which ends the other sessions) needs a recent
    challenge of this session."""
    credential = email_otp_session(api, sent)  # passwordless; the code verified the email
    secret = enrol_totp(api, credential, totp_clock)
    assert api("update_mfa", {"mfa": True}, session=credential).status == 200
    thief = {"session": credential}
    assert_error(
        api("update_email", {"email": "thief@example.com", "password": ""}, **thief), 401, "user_challenge_required"
    )
    assert_error(api("update_phone", {"phone": PHONE, "password": ""}, **thief), 401, "user_challenge_required")
    assert_error(api("update_password", {"password": "thief's new password"}, **thief), 401, "user_challenge_required")
    complete_totp_challenge(api, credential, secret, totp_clock)  # its own authenticator: no step-up
    assert_error(api("update_phone", {"phone": PHONE, "password": ""}, **thief), 401, "user_challenge_required")
    owner = email_otp_session(api, sent)  # a later sign-in: the authenticator is older than it
    complete_totp_challenge(api, owner, secret, totp_clock)
    assert api("update_phone", {"phone": PHONE, "password": ""}, session=owner).status == 200
