"""Sign-in by a one-time code sent by email or SMS (API.md §4.4), the language of the messages, and the
one-message-a-minute cooldown per destination, over real HTTP and through the SDK.

Runs against a server of its own (`fresh_server`). Budget of this module (one IP, per hour):
7 x `POST /account/tokens/email` (a refused one spends nothing), 2 x `POST /account/tokens/phone`,
9 x `POST /account/sessions/token`, 1 x `POST /account`;
and from 127.0.0.2: 1 x tokens/email, 1 x tokens/phone, 2 x sessions/token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests
from appwrite.id import ID
from appwrite.models import Session, Token
from appwrite.services.account import Account

from tests.e2e.helpers import (
    COOKIE,
    DATETIME,
    GENERATED_ID,
    LEGACY_COOKIE,
    PASSWORD,
    assert_error,
    auth,
    credential_of,
    decode_credential,
    get_account,
    iso_epoch,
    last_code,
    last_message,
    request,
    request_from,
    sdk_client,
    sdk_raises,
    sent_to,
    set_cookies,
    sign_in,
    sign_in_response,
    sign_up,
    unique_email,
)

CODE_LIFETIME_S = 600
TOKEN_KEYS = {"$id", "$createdAt", "userId", "secret", "expire", "phrase"}
# Real numbers (the server checks them against the numbering plans); each gets at most one SMS a minute.
PHONES = ("+61293744000", "+81312345678", "+33142685300")


def email_token(base: str, email: str, headers: dict[str, str] | None = None, **extra: object) -> requests.Response:
    return request("POST", base, "/account/tokens/email", {"userId": "unique()", "email": email, **extra}, headers)


def token_session(base: str, user_id: str, secret: str, headers: dict[str, str] | None = None) -> requests.Response:
    return request("POST", base, "/account/sessions/token", {"userId": user_id, "secret": secret}, headers)


def assert_code_token(token: dict, lifetime_s: int = CODE_LIFETIME_S) -> None:
    assert set(token) == TOKEN_KEYS, token
    assert GENERATED_ID.match(token["$id"]) and token["secret"] == ""
    assert DATETIME.match(token["$createdAt"]) and DATETIME.match(token["expire"])
    assert iso_epoch(token["expire"]) - iso_epoch(token["$createdAt"]) == pytest.approx(lifetime_s, abs=1)


def other_code(code: str) -> str:
    """A well-formed code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def assert_signed_in(response: requests.Response, user_id: str) -> str:
    """201 Session with both cookies and X-Fallback-Cookies carrying the same credential; returns it."""
    assert response.status_code == 201, response.text
    credential = credential_of(response)
    assert credential and decode_credential(credential)["id"] == user_id
    assert json.loads(response.headers["X-Fallback-Cookies"]) == {COOKIE: credential}
    cookies = set_cookies(response)
    assert {COOKIE, LEGACY_COOKIE} <= set(cookies)
    assert cookies[COOKIE].startswith(f"{COOKIE}={credential};")
    session = response.json()
    assert session["userId"] == user_id and session["current"] is True and session["secret"] == ""
    assert session["mfaUpdatedAt"] == ""
    return credential


@contextmanager
def responses_seen() -> Iterator[list[requests.Response]]:
    """Every `requests.request` answer while open. The SDK returns only the body, and for an end user the Session's
    `secret` is "": the credential is in the cookie / X-Fallback-Cookies headers, which the SDK does not expose."""
    seen: list[requests.Response] = []
    original: Callable[..., requests.Response] = requests.request

    def spy(*args: object, **kwargs: object) -> requests.Response:
        response = original(*args, **kwargs)
        seen.append(response)
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requests, "request", spy)
        yield seen


# --- email --------------------------------------------------------------------------------------------------------


def test_sign_in_by_emailed_code(fresh_server: str) -> None:
    base = fresh_server
    email = unique_email()
    response = email_token(base, email)
    assert response.status_code == 201, response.text
    token = response.json()
    assert_code_token(token)
    assert GENERATED_ID.match(token["userId"]) and token["phrase"] == ""
    message = last_message(base, email)
    assert message["channel"] == "email"
    assert message["subject"] == "Your My App sign-in code"
    assert "expires in 10 minutes" in message["text"]
    assert "Security phrase" not in message["text"]
    code = last_code(base, email)

    assert_error(token_session(base, token["userId"], other_code(code)), 401, "user_invalid_token")
    signed_in = token_session(base, token["userId"], code)
    credential = assert_signed_in(signed_in, token["userId"])
    session = signed_in.json()
    assert session["provider"] == "token" and session["factors"] == ["email"]
    assert session["providerUid"] == email
    assert GENERATED_ID.match(session["$id"])

    account = get_account(base, auth(credential))
    assert account.status_code == 200, account.text
    assert account.json()["$id"] == token["userId"]
    assert account.json()["email"] == email and account.json()["emailVerification"] is True
    assert account.json()["phone"] == "" and account.json()["passwordUpdate"] == ""  # made by the code, no password
    current = request("GET", base, "/account/sessions/current", headers=auth(credential)).json()
    assert current["$id"] == session["$id"] and current["factors"] == ["email"]

    # the code works once
    assert_error(token_session(base, token["userId"], code), 401, "user_invalid_token")
    # a caller holding a live session cannot start another one (refused before any limit is spent)
    assert_error(token_session(base, token["userId"], code, auth(credential)), 401, "user_session_already_exists")


def test_code_for_an_existing_email_signs_in_that_account(fresh_server: str) -> None:
    """The one `POST /account` of these modules: a password account asks for a code (its email in upper case,
    another id requested): the Token names the existing user, and the code signs in to that account."""
    base = fresh_server
    email = unique_email()
    existing = sign_up(base, email, name="Ivy")
    assert existing["emailVerification"] is False

    response = request("POST", base, "/account/tokens/email", {"userId": "ignored-id", "email": email.upper()})
    assert response.status_code == 201, response.text
    assert response.json()["userId"] == existing["$id"]
    assert [m["to"] for m in sent_to(base, email)] == [email]  # stored and sent lower-cased

    credential = assert_signed_in(token_session(base, existing["$id"], last_code(base, email)), existing["$id"])
    account = get_account(base, auth(credential)).json()
    assert account["$id"] == existing["$id"] and account["name"] == "Ivy"
    assert account["emailVerification"] is True
    # The code was the first proof of the email: the password set before it no longer signs in
    # (whoever signed up may not have owned the address), and the owner can set a new one.
    assert account["passwordUpdate"] == ""
    assert sign_in_response(base, email, PASSWORD).status_code == 401
    new_password = {"password": "a brand new password"}
    assert request("PATCH", base, "/account/password", new_password, headers=auth(credential)).status_code == 200
    assert get_account(base, auth(sign_in(base, email, "a brand new password"))).json()["$id"] == existing["$id"]


def test_email_token_refusals(fresh_server: str) -> None:
    """Bad requests are refused before anything is sent or spent."""
    base = fresh_server
    email = unique_email()
    for body in (
        {"email": email},
        {"userId": "unique()"},
        {"userId": "unique()", "email": "not an email"},
        {"userId": "unique()", "email": email, "phrase": "yes"},
        {"userId": "-starts-with-a-dash", "email": email},
    ):
        assert_error(request("POST", base, "/account/tokens/email", body), 400, "general_argument_invalid")
    for body in (
        {"phone": PHONES[0]},
        {"userId": "unique()", "phone": "+15555555555"},
        {"userId": "unique()", "phone": "4155552671"},
        {"userId": "unique()"},
    ):
        assert_error(request("POST", base, "/account/tokens/phone", body), 400, "general_argument_invalid")
    for body in ({"userId": "someone"}, {"secret": "123456"}, {"userId": "someone", "secret": ""}):
        assert_error(request("POST", base, "/account/sessions/token", body), 400, "general_argument_invalid")
    assert sent_to(base, email) == [] and sent_to(base, PHONES[0]) == []


# --- phone --------------------------------------------------------------------------------------------------------


def test_sign_in_by_texted_code(fresh_server: str) -> None:
    base = fresh_server
    phone = PHONES[0]
    response = request("POST", base, "/account/tokens/phone", {"userId": "unique()", "phone": phone})
    assert response.status_code == 201, response.text
    token = response.json()
    assert_code_token(token)
    assert token["phrase"] == ""
    sms = last_message(base, phone)
    assert sms["channel"] == "sms" and sms["subject"] == ""
    code = last_code(base, phone)
    assert sms["text"] == f"{code} is your My App sign-in code. Valid for 10 min. Never share it."

    # a live code of one user is no code for another (here: a user who never asked for one)
    assert_error(token_session(base, "someoneelse", code), 401, "user_invalid_token")
    signed_in = token_session(base, token["userId"], code)
    credential = assert_signed_in(signed_in, token["userId"])
    assert signed_in.json()["provider"] == "phone" and signed_in.json()["factors"] == ["phone"]
    assert signed_in.json()["providerUid"] == phone

    account = get_account(base, auth(credential)).json()
    assert account["$id"] == token["userId"]
    assert account["phone"] == phone and account["phoneVerification"] is True
    assert account["email"] == "" and account["emailVerification"] is False
    # so there is no email to verify, and the phone is verified already
    asked = request("POST", base, "/account/verification", {"url": "http://localhost:3000/v"}, auth(credential))
    assert_error(asked, 400, "user_email_not_found")
    asked = request("POST", base, "/account/verification/phone", {}, auth(credential))
    assert_error(asked, 409, "user_phone_already_verified")


def test_code_sent_to_a_replaced_email_signs_in_no_one(fresh_server: str) -> None:
    """From another loopback address (its own per-IP limits): a phone account adds an email, a code is sent
    there (to that account: the Token names it), the email is changed before the code is used: refused."""
    base, source = fresh_server, "127.0.0.2"
    phone, old_email, new_email = PHONES[2], unique_email(), unique_email()
    token = request_from(source, "POST", base, "/account/tokens/phone", {"userId": "unique()", "phone": phone})
    assert token.status_code == 201, token.text
    user_id = token.json()["userId"]
    body = {"userId": user_id, "secret": last_code(base, phone)}
    signed_in = request_from(source, "POST", base, "/account/sessions/token", body)
    credential = assert_signed_in(signed_in, user_id)
    assert signed_in.json()["ip"] == source
    added = request("PATCH", base, "/account/email", {"email": old_email, "password": ""}, auth(credential))
    assert added.status_code == 200, added.text

    body = {"userId": "unique()", "email": old_email}
    token = request_from(source, "POST", base, "/account/tokens/email", body)
    assert token.status_code == 201, token.text
    assert token.json()["userId"] == user_id
    code = last_code(base, old_email)
    moved = request("PATCH", base, "/account/email", {"email": new_email, "password": ""}, auth(credential))
    assert moved.status_code == 200, moved.text

    refused = request_from(source, "POST", base, "/account/sessions/token", {"userId": user_id, "secret": code})
    assert_error(refused, 401, "user_invalid_token")
    account = get_account(base, auth(credential)).json()
    assert account["email"] == new_email and account["emailVerification"] is False


# --- through the SDK ----------------------------------------------------------------------------------------------


def test_sign_in_by_code_with_the_sdk(fresh_server: str) -> None:
    """`create_email_token(user_id, email, phrase)` → POST /account/tokens/email, `create_phone_token(user_id, phone)`
    → POST /account/tokens/phone, `create_session(user_id, secret)` → POST /account/sessions/token; each parses its
    model. The SDK has no way to read the session credential (Session.secret is "" for end users, and response headers
    are not exposed), so it is taken from the answer's X-Fallback-Cookies header and handed to `set_session`."""
    base = fresh_server
    anonymous = Account(sdk_client(base))

    email = unique_email()
    user_id = ID.unique()
    token = anonymous.create_email_token(user_id=user_id, email=email, phrase=True)
    assert isinstance(token, Token)
    assert token.userid == user_id and token.secret == ""
    words = token.phrase.split()
    assert len(words) >= 2, token.phrase
    text = last_message(base, email)["text"]
    assert f"Security phrase: {token.phrase}" in text, text

    with responses_seen() as seen:
        session = anonymous.create_session(user_id=user_id, secret=last_code(base, email))
    assert isinstance(session, Session)
    assert session.userid == user_id and session.provider == "token" and session.factors == ["email"]
    assert session.secret == "" and session.current is True
    credential = credential_of(seen[-1])
    account = Account(sdk_client(base, credential))
    got = account.get()
    assert got.id == user_id and got.email == email and got.emailverification is True
    assert account.get_session("current").id == session.id

    phone = PHONES[1]
    token = anonymous.create_phone_token(user_id=ID.unique(), phone=phone)
    assert isinstance(token, Token) and token.phrase == ""
    code = last_code(base, phone)
    with responses_seen() as seen:
        session = anonymous.create_session(user_id=token.userid, secret=code)
    assert session.provider == "phone" and session.factors == ["phone"]
    account = Account(sdk_client(base, credential_of(seen[-1])))
    got = account.get()
    assert got.id == token.userid and got.phone == phone and got.phoneverification is True
    sdk_raises(lambda: anonymous.create_session(user_id=token.userid, secret=code), 401, "user_invalid_token")


# --- language and cooldown ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "locale", "subject", "line"),
    [
        ("X-Appwrite-Locale", "de", "Ihr Anmeldecode für My App", "Ihr Code für die Anmeldung bei My App lautet:"),
        ("X-Nuvix-Locale", "fr", "Votre code de connexion pour My App", "Votre code pour vous connecter à My App :"),
        ("X-Appwrite-Locale", "tlh", "Your My App sign-in code", "Your code to sign in to My App:"),
    ],
    ids=["appwrite-de", "nuvix-fr", "unknown-en"],
)
def test_sign_in_code_in_the_callers_language(
    fresh_server: str, header: str, locale: str, subject: str, line: str
) -> None:
    email = unique_email()
    response = email_token(fresh_server, email, {header: locale})
    assert response.status_code == 201, response.text
    message = last_message(fresh_server, email)
    assert message["subject"] == subject
    assert line in message["text"].splitlines(), message["text"]
    assert last_code(fresh_server, email)


def test_one_email_a_minute_per_address(fresh_server: str) -> None:
    email = unique_email()
    first = email_token(fresh_server, email)
    assert first.status_code == 201, first.text
    second = email_token(fresh_server, email)
    assert_error(second, 429, "general_rate_limit_exceeded")
    assert second.headers.get("X-RateLimit-Limit") == "1"
    assert second.headers.get("X-RateLimit-Remaining") == "0"
    reset = int(second.headers["X-RateLimit-Reset"])
    assert time.time() + 50 <= reset <= time.time() + 61
    assert len(sent_to(fresh_server, email)) == 1
