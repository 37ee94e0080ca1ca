"""Email verification by link and phone verification by code (API.md §4.3), over real HTTP and through the SDK,
with the messages read back from the dev outbox.

Runs against a server of its own (`fresh_server`): every user here signs in with an emailed code, and one IP may
ask for 10 codes and spend 10 of them an hour. Budget of this module: 8 x `POST /account/tokens/email`,
9 x `POST /account/sessions/token`, 4 x phone verification POST; no `POST /account`.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from appwrite.models import Token
from appwrite.models import User as AccountModel
from appwrite.services.account import Account

from tests.e2e.helpers import (
    ALLOWED_ORIGIN,
    DATETIME,
    FOREIGN_ORIGIN,
    GENERATED_ID,
    OTHER_ALLOWED_ORIGIN,
    User,
    assert_error,
    auth,
    code_sign_in,
    credential_of,
    get_account,
    iso_epoch,
    last_code,
    last_link,
    last_message,
    request,
    sdk_client,
    sdk_raises,
    sent_to,
    unique_email,
)

LINK_LIFETIME_S = 3600
CODE_LIFETIME_S = 600
TOKEN_KEYS = {"$id", "$createdAt", "userId", "secret", "expire", "phrase"}
# Real numbers (the server checks them against the numbering plans); each gets at most one SMS a minute.
PHONES = ("+14155552671", "+442071838750", "+33142685300", "+4930901820")


def pending_email_user(base: str) -> User:
    """A signed-in user whose email is not verified yet: signed in with an emailed code (which verifies
    that address), then moved to a fresh address. Accounts made by a code have no password."""
    user = code_sign_in(base, unique_email())
    user.email = unique_email()
    changed = request("PATCH", base, "/account/email", {"email": user.email, "password": ""}, auth(user.credential))
    assert changed.status_code == 200, changed.text
    assert changed.json()["emailVerification"] is False
    return user


def pending_phone_user(base: str, phone: str) -> User:
    """A signed-in user with an unverified phone."""
    user = code_sign_in(base, unique_email())
    changed = request("PATCH", base, "/account/phone", {"phone": phone, "password": ""}, auth(user.credential))
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone"] == phone and changed.json()["phoneVerification"] is False
    return user


def account_of(base: str, user: User) -> dict:
    response = get_account(base, auth(user.credential))
    assert response.status_code == 200, response.text
    return response.json()


def assert_token(response_json: dict, user_id: str, lifetime_s: int) -> None:
    """A Token model (API.md §3) for an end user: no secret, no phrase, expiring after `lifetime_s`."""
    assert set(response_json) == TOKEN_KEYS, response_json
    assert GENERATED_ID.match(response_json["$id"])
    assert response_json["userId"] == user_id
    assert response_json["secret"] == ""
    assert response_json["phrase"] == ""
    assert DATETIME.match(response_json["$createdAt"]) and DATETIME.match(response_json["expire"])
    lifetime = iso_epoch(response_json["expire"]) - iso_epoch(response_json["$createdAt"])
    assert lifetime == pytest.approx(lifetime_s, abs=1)


def link_query(link: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(link).query, keep_blank_values=True).items()}


def ask_link(base: str, user: User, path: str, url: str) -> tuple[dict, dict[str, str]]:
    """POST the verification request; returns the Token and the query of the link that was emailed."""
    response = request("POST", base, path, {"url": url}, auth(user.credential))
    assert response.status_code == 201, response.text
    link = last_link(base, user.email)
    assert link.startswith(f"{url}&" if "?" in url else f"{url}?"), link
    return response.json(), link_query(link)


def confirm(base: str, path: str, user_id: str, secret: str) -> dict:
    """PUT the link's userId and secret, without a session (the link may be opened on any device)."""
    response = request("PUT", base, path, {"userId": user_id, "secret": secret})
    assert response.status_code == 200, response.text
    return response.json()


# --- email --------------------------------------------------------------------------------------------------------


def test_email_verification_by_the_emailed_link(fresh_server: str) -> None:
    base = fresh_server
    ann = pending_email_user(base)
    name = "Ann Co"  # never in a message to an address not yet verified (API.md §7)
    assert request("PATCH", base, "/account/name", {"name": name}, auth(ann.credential)).status_code == 200
    url = f"{ALLOWED_ORIGIN}/verify?next=%2Fhome"

    token, query = ask_link(base, ann, "/account/verification", url)
    assert_token(token, ann.id, LINK_LIFETIME_S)
    message = last_message(base, ann.email)
    assert message["channel"] == "email"
    assert message["subject"] == "Verify your email for My App"
    assert message["text"].startswith("Please confirm your email address"), message["text"]
    assert name not in message["text"]  # the visible text of the HTML part
    assert "expires in 60 minutes" in message["text"]
    # the app's own query is kept; the link carries who, the secret, and the token's expiry
    assert query["next"] == "/home"
    assert query["userId"] == ann.id
    assert query["expire"] == token["expire"]
    assert len(query["secret"]) >= 32
    assert account_of(base, ann)["emailVerification"] is False

    confirmed = confirm(base, "/account/verification", query["userId"], query["secret"])
    assert confirmed["userId"] == ann.id and confirmed["$id"] == token["$id"]
    assert confirmed["secret"] == ""
    assert account_of(base, ann)["emailVerification"] is True

    # the link works once
    again = request("PUT", base, "/account/verification", {"userId": ann.id, "secret": query["secret"]})
    assert_error(again, 401, "user_invalid_token")
    # nothing left to verify
    refused = request("POST", base, "/account/verification", {"url": url}, auth(ann.credential))
    assert_error(refused, 409, "user_email_already_verified")


def test_plural_path_wrong_and_foreign_secrets(fresh_server: str) -> None:
    """`/account/verifications/email` serves the same; a secret works only for the user it was sent to."""
    base = fresh_server
    bea, cal = pending_email_user(base), pending_email_user(base)
    path = "/account/verifications/email"
    bea_token, bea_link = ask_link(base, bea, path, f"{ALLOWED_ORIGIN}/verify")
    cal_token, cal_link = ask_link(base, cal, path, f"{OTHER_ALLOWED_ORIGIN}/welcome")
    assert_token(bea_token, bea.id, LINK_LIFETIME_S)
    assert_token(cal_token, cal.id, LINK_LIFETIME_S)
    assert bea_link["secret"] != cal_link["secret"]
    # one email a minute per address
    again = request("POST", base, path, {"url": f"{ALLOWED_ORIGIN}/verify"}, auth(bea.credential))
    assert_error(again, 429, "general_rate_limit_exceeded")
    assert again.headers.get("X-RateLimit-Limit") == "1"
    assert len(sent_to(base, bea.email)) == 1

    refusals = [
        {"userId": bea.id, "secret": cal_link["secret"]},  # another user's live secret
        {"userId": cal.id, "secret": bea_link["secret"]},
        {"userId": bea.id, "secret": "0" * len(bea_link["secret"])},  # a wrong secret
        {"userId": bea.id, "secret": bea_link["secret"][:-1]},
        {"userId": "unknownuser", "secret": bea_link["secret"]},
    ]
    for number, body in enumerate(refusals):
        either = (path, "/account/verification")[number % 2]
        assert_error(request("PUT", base, either, body), 401, "user_invalid_token")
    assert account_of(base, bea)["emailVerification"] is False
    assert account_of(base, cal)["emailVerification"] is False

    # the refusals spent nothing: both links still work, once, on either path
    assert confirm(base, path, bea.id, bea_link["secret"])["userId"] == bea.id
    assert confirm(base, "/account/verification", cal.id, cal_link["secret"])["userId"] == cal.id
    assert account_of(base, bea)["emailVerification"] is True
    assert account_of(base, cal)["emailVerification"] is True
    for user, link in ((bea, bea_link), (cal, cal_link)):
        assert_error(
            request("PUT", base, path, {"userId": user.id, "secret": link["secret"]}), 401, "user_invalid_token"
        )


def test_link_for_a_replaced_email_verifies_nothing(fresh_server: str) -> None:
    base = fresh_server
    dan = pending_email_user(base)
    _, old = ask_link(base, dan, "/account/verification", f"{ALLOWED_ORIGIN}/verify")
    newer = unique_email()
    changed = request("PATCH", base, "/account/email", {"email": newer, "password": ""}, auth(dan.credential))
    assert changed.status_code == 200, changed.text

    stale = request("PUT", base, "/account/verification", {"userId": dan.id, "secret": old["secret"]})
    assert_error(stale, 401, "user_invalid_token")
    account = account_of(base, dan)
    assert account["email"] == newer and account["emailVerification"] is False


def test_codes_work_only_for_what_they_were_sent_for(fresh_server: str) -> None:
    """A sign-in code verifies nothing by the verification routes, a verification code signs no one in; and the
    verification requests that must be refused are."""
    base = fresh_server
    eve = User(id="", email=unique_email(), password="")
    token = request("POST", base, "/account/tokens/email", {"userId": "unique()", "email": eve.email})
    assert token.status_code == 201, token.text
    eve.id = token.json()["userId"]
    sign_in_code = last_code(base, eve.email)
    for path in ("/account/verification", "/account/verifications/phone"):
        refused = request("PUT", base, path, {"userId": eve.id, "secret": sign_in_code})
        assert_error(refused, 401, "user_invalid_token")
    signed_in = request("POST", base, "/account/sessions/token", {"userId": eve.id, "secret": sign_in_code})
    assert signed_in.status_code == 201, signed_in.text  # still unspent
    eve.credential = credential_of(signed_in)

    # the code verified her email; she has no phone
    url = f"{ALLOWED_ORIGIN}/verify"
    for path in ("/account/verification", "/account/verifications/email"):
        assert_error(request("POST", base, path, {"url": url}), 401, "general_unauthorized_scope")
        for bad in ({}, {"url": ""}, {"url": f"{FOREIGN_ORIGIN}/verify"}, {"url": "javascript:alert(1)"}):
            assert_error(request("POST", base, path, bad, auth(eve.credential)), 400, "general_argument_invalid")
        assert_error(
            request("POST", base, path, {"url": url}, auth(eve.credential)), 409, "user_email_already_verified"
        )
        for bad in ({}, {"userId": eve.id}, {"secret": "x"}):
            assert_error(request("PUT", base, path, bad), 400, "general_argument_invalid")
    for path in ("/account/verification/phone", "/account/verifications/phone"):
        assert_error(request("POST", base, path, {}), 401, "general_unauthorized_scope")
        assert_error(request("POST", base, path, {}, auth(eve.credential)), 400, "user_phone_not_found")
    assert len(sent_to(base, eve.email)) == 1  # her sign-in code, nothing else

    changed = request("PATCH", base, "/account/phone", {"phone": PHONES[3], "password": ""}, auth(eve.credential))
    assert changed.status_code == 200, changed.text
    asked = request("POST", base, "/account/verification/phone", {}, auth(eve.credential))
    assert asked.status_code == 201, asked.text
    code = last_code(base, PHONES[3])
    assert_error(
        request("POST", base, "/account/sessions/token", {"userId": eve.id, "secret": code}), 401, "user_invalid_token"
    )
    assert_error(
        request("PUT", base, "/account/verification", {"userId": eve.id, "secret": code}), 401, "user_invalid_token"
    )
    assert confirm(base, "/account/verification/phone", eve.id, code)["userId"] == eve.id
    assert account_of(base, eve)["phoneVerification"] is True


def test_email_verification_with_the_sdk(fresh_server: str) -> None:
    """`create_verification` / `update_verification` (deprecated since 1.8.0) and `create_email_verification` /
    `update_email_verification`: all four call `/account/verifications/email` and parse a Token model."""
    base = fresh_server
    fay = pending_email_user(base)
    account = Account(sdk_client(base, fay.credential))
    anonymous = Account(sdk_client(base))

    with pytest.warns(DeprecationWarning, match="create_email_verification"):
        token = account.create_verification(url=f"{ALLOWED_ORIGIN}/verify")
    assert isinstance(token, Token)
    assert token.userid == fay.id and token.secret == "" and GENERATED_ID.match(token.id)
    query = link_query(last_link(base, fay.email))
    with pytest.warns(DeprecationWarning, match="update_email_verification"):
        confirmed = anonymous.update_verification(user_id=query["userId"], secret=query["secret"])
    assert isinstance(confirmed, Token) and confirmed.userid == fay.id
    got = account.get()
    assert isinstance(got, AccountModel) and got.emailverification is True
    with pytest.warns(DeprecationWarning):
        sdk_raises(
            lambda: anonymous.update_verification(user_id=fay.id, secret=query["secret"]), 401, "user_invalid_token"
        )

    # again for a new address, with the current method names
    fay.email = unique_email()
    assert account.update_email(email=fay.email, password="").emailverification is False
    token = account.create_email_verification(url=f"{OTHER_ALLOWED_ORIGIN}/verify")
    assert token.userid == fay.id
    query = link_query(last_link(base, fay.email))
    assert anonymous.update_email_verification(user_id=fay.id, secret=query["secret"]).userid == fay.id
    assert account.get().emailverification is True
    sdk_raises(lambda: account.create_email_verification(url=f"{FOREIGN_ORIGIN}/"), 400, "general_argument_invalid")


# --- phone --------------------------------------------------------------------------------------------------------


def test_phone_verification_by_the_texted_code_on_both_paths(fresh_server: str) -> None:
    base = fresh_server
    gus = pending_phone_user(base, PHONES[0])

    response = request("POST", base, "/account/verification/phone", {}, auth(gus.credential))
    assert response.status_code == 201, response.text
    assert_token(response.json(), gus.id, CODE_LIFETIME_S)
    sms = last_message(base, PHONES[0])
    assert sms["channel"] == "sms" and sms["subject"] == ""
    assert sms["text"].startswith(last_code(base, PHONES[0]))
    assert "verification code" in sms["text"]
    code = last_code(base, PHONES[0])
    # one SMS a minute per number, whichever path asks
    again = request("POST", base, "/account/verifications/phone", {}, auth(gus.credential))
    assert_error(again, 429, "general_rate_limit_exceeded")
    assert again.headers.get("X-RateLimit-Limit") == "1"
    assert len(sent_to(base, PHONES[0])) == 1

    wrong = "000000" if code != "000000" else "111111"
    put = "/account/verification/phone"
    assert_error(request("PUT", base, put, {"userId": gus.id, "secret": wrong}), 401, "user_invalid_token")
    # a valid code of one user is no code for another
    assert_error(request("PUT", base, put, {"userId": "someoneelse", "secret": code}), 401, "user_invalid_token")
    assert account_of(base, gus)["phoneVerification"] is False

    confirmed = request("PUT", base, put, {"userId": gus.id, "secret": code})  # no session needed
    assert confirmed.status_code == 200, confirmed.text
    assert_token(confirmed.json(), gus.id, CODE_LIFETIME_S)
    assert confirmed.json()["$id"] == response.json()["$id"]
    assert account_of(base, gus)["phoneVerification"] is True
    assert_error(request("PUT", base, put, {"userId": gus.id, "secret": code}), 401, "user_invalid_token")
    refused = request("POST", base, "/account/verification/phone", {}, auth(gus.credential))
    assert_error(refused, 409, "user_phone_already_verified")

    # a new number is unverified again; the plural path family does the same
    changed = request("PATCH", base, "/account/phone", {"phone": PHONES[1], "password": ""}, auth(gus.credential))
    assert changed.status_code == 200 and changed.json()["phoneVerification"] is False, changed.text
    response = request("POST", base, "/account/verifications/phone", {}, auth(gus.credential))
    assert response.status_code == 201, response.text
    assert_token(response.json(), gus.id, CODE_LIFETIME_S)
    plural = "/account/verifications/phone"
    code = last_code(base, PHONES[1])
    assert request("PUT", base, plural, {"userId": gus.id, "secret": code}).status_code == 200
    account = account_of(base, gus)
    assert account["phone"] == PHONES[1] and account["phoneVerification"] is True
    assert_error(request("PUT", base, plural, {"userId": gus.id, "secret": code}), 401, "user_invalid_token")


def test_phone_verification_with_the_sdk_in_french(fresh_server: str) -> None:
    """`create_phone_verification` / `update_phone_verification` call `/account/verifications/phone`; the client's
    locale (`set_locale`, sent as X-Appwrite-Locale) picks the SMS language."""
    base = fresh_server
    hal = pending_phone_user(base, PHONES[2])
    account = Account(sdk_client(base, hal.credential).set_locale("fr"))

    token = account.create_phone_verification()
    assert isinstance(token, Token)
    assert token.userid == hal.id and token.secret == "" and token.phrase == ""
    sms = last_message(base, PHONES[2])["text"]
    assert "est votre code de vérification pour My App" in sms, sms
    code = last_code(base, PHONES[2])

    confirmed = Account(sdk_client(base)).update_phone_verification(user_id=hal.id, secret=code)
    assert isinstance(confirmed, Token) and confirmed.userid == hal.id and confirmed.id == token.id
    assert account.get().phoneverification is True
    sdk_raises(lambda: account.update_phone_verification(user_id=hal.id, secret=code), 401, "user_invalid_token")
    sdk_raises(account.create_phone_verification, 409, "user_phone_already_verified")
