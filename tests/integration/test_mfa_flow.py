"""The MFA guide in-process, step by step: recovery codes, verified email and phone, a TOTP
authenticator, MFA on, then a sign-in finished by each factor in turn."""

import re

import pytest

from tests.integration.conftest import PASSWORD, lift_cooldowns
from tests.rfc6238 import totp

EMAIL = "ada@example.com"
PHONE = "+14155552671"


def verify_email(api, sent, credential):
    assert api("create_email_verification", {"url": "http://localhost:3000/verify"}, session=credential).status == 201
    link = sent.link(EMAIL)
    user_id = re.search(r"userId=([^&]+)", link).group(1)
    secret = re.search(r"secret=([^&]+)", link).group(1)
    assert api("update_email_verification", {"userId": user_id, "secret": secret}).status == 200


def verify_phone(api, sent, credential, user_id):
    assert api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=credential).status == 200
    assert api("create_phone_verification", {}, session=credential).status == 201
    assert api("update_phone_verification", {"userId": user_id, "secret": sent.code(PHONE)}).status == 200


@pytest.fixture
def enrolled(api, sent, user_id_of):
    """Ada, with recovery codes, verified email and phone, a verified authenticator and MFA on."""
    api.sign_up(EMAIL)
    credential = api.session_for(EMAIL)
    user_id = user_id_of(credential)
    codes = api("create_mfa_recovery_codes", {}, session=credential)
    assert codes.status == 201, codes.body
    verify_email(api, sent, credential)
    verify_phone(api, sent, credential, user_id)
    created = api("create_mfa_authenticator", {}, session=credential, path={"type": "totp"})
    assert created.status == 200, created.body
    secret = created.body["secret"]
    verified = api("update_mfa_authenticator", {"otp": totp(secret)}, session=credential, path={"type": "totp"})
    assert verified.status == 200, verified.body
    enabled = api("update_mfa", {"mfa": True}, session=credential)
    assert enabled.status == 200 and enabled.body["mfa"] is True, enabled.body
    assert api("get_account", session=credential).status == 200
    return {"userId": user_id, "secret": secret, "codes": codes.body["recoveryCodes"]}


def half_signed_in(api):
    credential = api.session_for(EMAIL)
    answer = api("get_account", session=credential)
    assert answer.status == 401 and answer.body["type"] == "user_more_factors_required"
    return credential


def challenge(api, credential, factor):
    answer = api("create_mfa_challenge", {"factor": factor}, session=credential)
    assert answer.status == 201, answer.body
    return answer.body["$id"]


def complete(api, credential, challenge_id, otp):
    return api("update_mfa_challenge", {"challengeId": challenge_id, "otp": otp}, session=credential)


def test_each_factor_finishes_a_sign_in(api, sent, enrolled):
    factors = api("list_mfa_factors", session=half_signed_in(api))
    assert factors.body == {
        "totp": True,
        "email": True,
        "phone": True,
        "recoveryCode": True,
        "custom": False,
        "passkey": False,
    }
    for factor, otp in [
        ("email", lambda: sent.code(EMAIL)),
        ("phone", lambda: sent.code(PHONE)),
        ("totp", lambda: totp(enrolled["secret"], offset_steps=1)),
        ("recoverycode", lambda: enrolled["codes"][0]),
    ]:
        lift_cooldowns()  # the verification messages went to the same addresses a moment ago
        credential = half_signed_in(api)
        challenge_id = challenge(api, credential, factor)
        done = complete(api, credential, challenge_id, otp())
        assert done.status == 200, (factor, done.body)
        assert done.body["mfaUpdatedAt"] and len(done.body["factors"]) == 2
        assert api("get_account", session=credential).status == 200
