"""The MFA guide, walked end to end over real HTTP against the local stack: sign up, recovery codes, a verified
email and phone, a TOTP authenticator (its otpauth URI read back from the QR avatar like an <img> loads it), MFA
on, then a sign-in finished by each factor in turn, each in a session of its own.

One test, since each step needs the one before. The Appwrite Python SDK drives the steps it has methods for; plain
HTTP the rest (and wherever a status code or header must be seen). TOTP codes come from tests/rfc6238.py.

Sign-up #9 of the session-wide server's budget (see conftest.py). Waits once for the one-message-per-destination-
per-minute limit: the email and phone challenges come right after the verification messages to the same address.
"""

from __future__ import annotations

import io
import re
import time
from urllib.parse import parse_qs, unquote, urlsplit

import PIL.Image
import requests
import zxingcpp
from appwrite.enums.authentication_factor import AuthenticationFactor
from appwrite.enums.authenticator_type import AuthenticatorType
from appwrite.id import ID
from appwrite.services.account import Account

from tests import rfc6238
from tests.e2e.helpers import (
    ALLOWED_ORIGIN,
    DATETIME,
    PASSWORD,
    PROJECT,
    TIMEOUT,
    assert_error,
    auth,
    credential_of,
    get_account,
    iso_epoch,
    last_code,
    last_link,
    last_message,
    request,
    sdk_client,
    sign_in_response,
    unique_email,
)

PHONE = "+16502530000"  # a real number (the server checks numbering plans); no other e2e module uses it
ISSUER = "My App"  # the local stack's ProjectName
RECOVERY_CODE = re.compile(r"^[0-9a-f]{16}$")
BASE32_SECRET = re.compile(r"^[A-Z2-7]{32}$")
IMG_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"  # what a browser's <img> sends
MAX_WAIT_S = 65  # one send cooldown (60 s) and a little clock slack
ALL_FACTORS = {"totp": True, "email": True, "phone": True, "recoveryCode": True, "custom": False}


def sign_in(base: str, email: str) -> str:
    """A password sign-in; returns the credential. The new session has the password factor only."""
    response = sign_in_response(base, email, PASSWORD)
    assert response.status_code == 201, response.text
    assert response.json()["factors"] == ["password"]
    assert response.json()["provider"] == "email"
    credential = credential_of(response)
    assert credential, dict(response.headers)
    return credential


def half_signed_in(base: str, email: str) -> str:
    """A fresh password sign-in of a user with MFA on: the gate stops it at GET /account."""
    credential = sign_in(base, email)
    assert_error(get_account(base, auth(credential)), 401, "user_more_factors_required")
    return credential


def current_session(base: str, credential: str) -> dict:
    response = request("GET", base, "/account/sessions/current", headers=auth(credential))
    assert response.status_code == 200, response.text
    return response.json()


def create_challenge(base: str, credential: str, factor: str, waited: list[float]) -> str:
    """POST /account/mfa/challenge over HTTP (the SDK cannot show X-RateLimit-Reset). An email or SMS right after
    another to the same destination is refused with 429 until the minute is over: wait for exactly that, once."""
    response = request("POST", base, "/account/mfa/challenge", {"factor": factor}, auth(credential))
    if response.status_code == 429:
        assert factor in ("email", "phone"), response.text
        assert_error(response, 429, "general_rate_limit_exceeded")
        assert response.headers["X-RateLimit-Limit"] == "1", dict(response.headers)
        assert response.headers["X-RateLimit-Remaining"] == "0"
        reset = int(response.headers["X-RateLimit-Reset"])
        pause = reset - time.time() + 0.2
        assert 0 < pause <= 61, f"cooldown ends in {pause:.1f} s"
        assert sum(waited) + pause <= MAX_WAIT_S, f"waited {sum(waited):.1f} s already, {pause:.1f} s more asked"
        time.sleep(pause)
        waited.append(pause)
        response = request("POST", base, "/account/mfa/challenge", {"factor": factor}, auth(credential))
    assert response.status_code == 201, response.text
    challenge = response.json()
    assert set(challenge) == {"$id", "$createdAt", "userId", "expire"}, challenge
    assert iso_epoch(challenge["expire"]) - iso_epoch(challenge["$createdAt"]) == 600
    return challenge["$id"]


def test_mfa_guide(base_url: str) -> None:
    base = base_url
    email = unique_email()
    anonymous = Account(sdk_client(base))
    waited: list[float] = []

    # 1. Sign up (SDK).
    user_id = ID.unique()
    user = anonymous.create(user_id=user_id, email=email, password=PASSWORD, name="Grace Hopper")
    assert user.id == user_id and user.mfa is False

    # 2. Sign in with the password: one factor.
    credential = sign_in(base, email)
    account = Account(sdk_client(base, credential))
    assert account.get().id == user_id

    # 3. Recovery codes, first of all (HTTP: the status is part of the step): 201, ten 16-hex codes.
    created = request("POST", base, "/account/mfa/recovery-codes", {}, auth(credential))
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"recoveryCodes"}
    recovery_codes = created.json()["recoveryCodes"]
    assert len(recovery_codes) == 10 and len(set(recovery_codes)) == 10
    assert all(RECOVERY_CODE.match(code) for code in recovery_codes), recovery_codes
    assert account.list_mfa_factors().recoverycode is True

    # 4. Verify the email by the emailed link (PUT without a session, as from the link's page).
    asked = request("POST", base, "/account/verification", {"url": f"{ALLOWED_ORIGIN}/verify"}, auth(credential))
    assert asked.status_code == 201, asked.text
    link = last_link(base, email)
    assert link.startswith(f"{ALLOWED_ORIGIN}/verify?"), link
    query = {key: values[-1] for key, values in parse_qs(urlsplit(link).query).items()}
    assert query["userId"] == user_id
    confirmed = request("PUT", base, "/account/verification", {"userId": query["userId"], "secret": query["secret"]})
    assert confirmed.status_code == 200, confirmed.text
    assert account.get().emailverification is True

    # 5. Set the phone and verify it by the texted code.
    changed = request("PATCH", base, "/account/phone", {"phone": PHONE, "password": PASSWORD}, auth(credential))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["phone"], changed.json()["phoneVerification"]) == (PHONE, False)
    texted = request("POST", base, "/account/verification/phone", {}, auth(credential))
    assert texted.status_code == 201, texted.text
    verified_phone = request(
        "PUT", base, "/account/verification/phone", {"userId": user_id, "secret": last_code(base, PHONE)}
    )
    assert verified_phone.status_code == 200, verified_phone.text
    assert account.get().phoneverification is True

    # 6. Add a TOTP authenticator (SDK) and verify it with a code from the independent RFC 6238 implementation.
    mfa_type = account.create_mfa_authenticator(type=AuthenticatorType.TOTP)
    secret, uri = mfa_type.secret, mfa_type.uri
    assert BASE32_SECRET.match(secret), secret
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp"), uri
    assert unquote(parts.path) == f"/{ISSUER}:{email}" and " " not in uri, uri  # percent-encoded
    assert parse_qs(parts.query) == {"secret": [secret], "issuer": [ISSUER]}, uri
    enrolled_step = rfc6238.step()
    enrolled = account.update_mfa_authenticator(type=AuthenticatorType.TOTP, otp=rfc6238.totp(secret))
    assert enrolled.id == user_id and enrolled.mfa is False
    assert "totp" in current_session(base, credential)["factors"]
    assert last_message(base, email)["subject"] == f"Authenticator app added to your {ISSUER} account"

    # 7. The QR an app shows for that URI, loaded like an <img>: no session, the project in the query only.
    qr = requests.get(
        f"{base}/avatars/qr",
        params={"text": uri, "size": "300", "project": PROJECT},
        headers={"Accept": IMG_ACCEPT},
        timeout=TIMEOUT,
    )
    assert qr.status_code == 200, qr.text[:300]
    assert qr.headers["Content-Type"] == "image/png"
    assert qr.content.startswith(b"\x89PNG\r\n\x1a\n"), qr.content[:40]
    image = PIL.Image.open(io.BytesIO(qr.content))
    assert image.size == (300, 300)
    decoded = zxingcpp.read_barcodes(image)
    assert [barcode.format for barcode in decoded] == [zxingcpp.BarcodeFormat.QRCode], decoded
    assert decoded[0].text == uri

    # 8. Turn MFA on (SDK): the session that did it keeps working, holding every verified factor.
    enabled = account.update_mfa(mfa=True)
    assert enabled.mfa is True
    assert account.get().mfa is True
    assert set(current_session(base, credential)["factors"]) == {"password", "email", "phone", "totp"}
    assert last_message(base, email)["subject"] == f"Multi-factor authentication turned on for {ISSUER}"

    # 9. Sign out.
    out = request("DELETE", base, "/account/sessions/current", {}, auth(credential))
    assert out.status_code == 204, out.text
    assert_error(get_account(base, auth(credential)), 401, "general_unauthorized_scope")

    # 10. Sign in again: the password is not enough any more, and the factors on offer are all four.
    credential = half_signed_in(base, email)
    factors = Account(sdk_client(base, credential)).list_mfa_factors()
    assert {
        "totp": factors.totp,
        "email": factors.email,
        "phone": factors.phone,
        "recoveryCode": factors.recoverycode,
        "custom": factors.custom,
    } == ALL_FACTORS
    listed = request("GET", base, "/account/mfa/factors", headers=auth(credential))
    assert listed.status_code == 200 and listed.json() == {**ALL_FACTORS, "passkey": False}, listed.text

    # 11. Finish a sign-in with each factor in turn, each in a fresh session.
    for factor, sdk_factor in [
        ("email", AuthenticationFactor.EMAIL),
        ("phone", AuthenticationFactor.PHONE),
        ("totp", AuthenticationFactor.TOTP),
        ("recoveryCode", AuthenticationFactor.RECOVERYCODE),
    ]:
        if factor != "email":  # the sign-in of step 10 is still fresh: it takes the email challenge
            credential = half_signed_in(base, email)
        account = Account(sdk_client(base, credential))
        if factor in ("email", "phone"):
            challenge_id = create_challenge(base, credential, factor, waited)
            otp = last_code(base, email if factor == "email" else PHONE)
        else:
            challenge = account.create_mfa_challenge(factor=sdk_factor)
            assert challenge.userid == user_id and DATETIME.match(challenge.expire)
            challenge_id = challenge.id
            if factor == "totp":
                # A step once accepted never is again: use a later one than the enrolment's if the clock has not
                # moved on since (the server accepts one step either side).
                otp = rfc6238.totp(secret, offset_steps=1 if rfc6238.step() <= enrolled_step else 0)
            else:
                otp = recovery_codes[0]
        session = account.update_mfa_challenge(challenge_id=challenge_id, otp=otp)
        assert session.userid == user_id and session.current is True, factor
        assert session.factors == ["password", factor], factor
        assert DATETIME.match(session.mfaupdatedat), session.mfaupdatedat
        assert session.secret == ""
        # Signed in: the gate opens, and the stored session holds the factor.
        assert account.get().id == user_id, factor
        assert get_account(base, auth(credential)).status_code == 200, factor
        stored = current_session(base, credential)
        assert factor in stored["factors"] and stored["$id"] == session.id, stored
        assert stored["mfaUpdatedAt"] == session.mfaupdatedat

    # Using a recovery code is announced, with how many are left; the factor remains while codes do.
    used = last_message(base, email)
    assert used["subject"] == f"A recovery code was used to sign in to {ISSUER}"
    assert "Unused recovery codes left: 9" in used["text"], used["text"]
    assert account.list_mfa_factors().recoverycode is True
    assert sum(waited) <= MAX_WAIT_S
