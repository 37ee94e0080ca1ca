"""Issue 17 over real HTTP and through the Appwrite Python SDK 27: sign-in by an emailed link
(`create_magic_url_token`, then `create_session` or the deprecated `update_magic_url_session` /
`update_phone_session`), email verification by code (`create_email_verification_otp` /
`update_email_verification_otp`) and anonymous sessions (`create_anonymous_session`, then `update_email` and
`update_password` make it a normal account). Emails come from the dev outbox.

Runs against a server of its own (`fresh_server`). Budget (one IP, per hour): 3 x sign-in emails (tokens/email and
tokens/magic-url share it), 1 x tokens/phone, 10 x sessions/token and its aliases (all of the per-IP limit),
2 x anonymous sessions.
"""

from __future__ import annotations

import threading
import warnings
from urllib.parse import parse_qs, urlsplit

import requests
from appwrite.id import ID
from appwrite.models import Session, Token
from appwrite.services.account import Account

from tests.e2e.helpers import (
    ALLOWED_ORIGIN,
    PASSWORD,
    assert_error,
    credential_of,
    last_code,
    last_link,
    last_message,
    request,
    sdk_client,
    sdk_raises,
    sent_to,
    sign_in,
    unique_email,
)
from tests.e2e.test_code_sign_in import PHONES, responses_seen

APP_URL = f"{ALLOWED_ORIGIN}/sign-in"


def link_secret(base: str, email: str) -> tuple[str, str]:
    """(userId, secret) of the newest sign-in link emailed to `email`."""
    params = parse_qs(urlsplit(last_link(base, email)).query)
    return params["userId"][0], params["secret"][0]


def test_sign_in_with_a_link_through_the_sdk(fresh_server: str) -> None:
    base = fresh_server
    guest = Account(sdk_client(base))
    email = unique_email()
    user_id = ID.unique()
    token = guest.create_magic_url_token(user_id=user_id, email=email, url=APP_URL, phrase=True)
    assert isinstance(token, Token) and token.userid == user_id and token.secret == ""
    assert token.phrase and token.phrase in last_message(base, email)["text"]
    assert last_link(base, email).startswith(APP_URL + "?")
    linked_id, secret = link_secret(base, email)
    assert linked_id == user_id

    with responses_seen() as seen:
        session = guest.create_session(user_id=user_id, secret=secret)
    assert isinstance(session, Session)
    assert (session.provider, session.factors, session.provideruid) == ("magic-url", ["email"], email)
    account = Account(sdk_client(base, credential_of(seen[-1])))
    me = account.get()
    assert (me.id, me.email, me.emailverification, me.passwordupdate) == (user_id, email, True, "")
    # Replayed: the link works once.
    sdk_raises(lambda: guest.create_session(user_id=user_id, secret=secret), 401, "user_invalid_token")


def test_link_refusals(fresh_server: str) -> None:
    base = fresh_server
    email = unique_email()
    foreign = request(
        "POST",
        base,
        "/account/tokens/magic-url",
        {"userId": "unique()", "email": email, "url": "https://evil.example/"},
    )
    assert_error(foreign, 400, "general_argument_invalid")
    assert sent_to(base, email) == []
    token = request("POST", base, "/account/tokens/magic-url", {"userId": "unique()", "email": email, "url": APP_URL})
    assert token.status_code == 201, token.text
    user_id, secret = link_secret(base, email)
    wrong = "0" * 64 if secret != "0" * 64 else "1" * 64
    for bad in (wrong, secret[:-1], "123456"):
        answer = request("POST", base, "/account/sessions/token", {"userId": user_id, "secret": bad})
        assert_error(answer, 401, "user_invalid_token")

    # Two exchanges of one link at once: one session, one refusal.
    answers: list[requests.Response] = []

    def exchange() -> None:
        answers.append(request("POST", base, "/account/sessions/token", {"userId": user_id, "secret": secret}))

    threads = [threading.Thread(target=exchange) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [201, 401]


def test_the_deprecated_session_aliases_through_the_sdk(fresh_server: str) -> None:
    base = fresh_server
    guest = Account(sdk_client(base))
    email = unique_email()
    guest.create_magic_url_token(user_id=ID.unique(), email=email, url=APP_URL)
    user_id, secret = link_secret(base, email)
    with warnings.catch_warnings(record=True):  # deprecated in the SDK
        session = guest.update_magic_url_session(user_id=user_id, secret=secret)
        assert isinstance(session, Session) and session.provider == "magic-url" and session.userid == user_id
        phone = PHONES[2]
        token = guest.create_phone_token(user_id=ID.unique(), phone=phone)
        session = guest.update_phone_session(user_id=token.userid, secret=last_code(base, phone))
        assert session.provider == "phone" and session.factors == ["phone"]
        sdk_raises(
            lambda: guest.update_phone_session(user_id=token.userid, secret=last_code(base, phone)),
            401,
            "user_invalid_token",
        )


def test_email_verification_by_code_through_the_sdk(fresh_server: str) -> None:
    base = fresh_server
    email = unique_email()
    # A user whose email is not verified: an anonymous one that set it.
    with responses_seen() as seen:
        session = Account(sdk_client(base)).create_anonymous_session()
    account = Account(sdk_client(base, credential_of(seen[-1])))
    account.update_email(email=email, password="")
    token = account.create_email_verification_otp(phrase=True)
    assert isinstance(token, Token) and token.userid == session.userid and token.secret == ""
    message = last_message(base, email)
    assert message["subject"] == "Your My App verification code" and token.phrase in message["text"]
    code = last_code(base, email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    sdk_raises(
        lambda: account.update_email_verification_otp(user_id=token.userid, secret=wrong), 401, "user_invalid_token"
    )
    confirmed = account.update_email_verification_otp(user_id=token.userid, secret=code)
    assert isinstance(confirmed, Token) and confirmed.id == token.id
    assert account.get().emailverification is True
    sdk_raises(
        lambda: account.update_email_verification_otp(user_id=token.userid, secret=code), 401, "user_invalid_token"
    )


def test_an_anonymous_session_becomes_a_normal_account(fresh_server: str) -> None:
    base = fresh_server
    with responses_seen() as seen:
        session = Account(sdk_client(base)).create_anonymous_session()
    assert isinstance(session, Session)
    assert (session.provider, session.factors, session.secret) == ("anonymous", ["anonymous"], "")
    account = Account(sdk_client(base, credential_of(seen[-1])))
    me = account.get()
    assert (me.id, me.email, me.phone, me.passwordupdate) == (session.userid, "", "", "")
    email = unique_email()
    assert account.update_email(email=email, password="").email == email
    assert account.update_password(password=PASSWORD).passwordupdate
    assert sign_in(base, email, PASSWORD)
