"""API.md's "done when" walk-through: sign up, sign in, use the session every way a client may present it,
list sessions, sign out. One test, since each step needs the one before (and xdist may split a module).
Sign-up #2 of the budget (through the SDK)."""

from __future__ import annotations

import json
import time

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.account import Account

from tests.e2e.helpers import (
    COOKIE,
    DATETIME,
    GENERATED_ID,
    LEGACY_COOKIE,
    PASSWORD,
    assert_error,
    auth,
    cookie_attributes,
    cookie_expires_epoch,
    credential_of,
    decode_credential,
    get_account,
    iso_epoch,
    request,
    sdk_client,
    set_cookies,
    sign_in_response,
    unique_email,
)


def _presentations(credential: str) -> dict[str, dict[str, str]]:
    """Every way API.md §1 lets a client present its session."""
    return {
        "cookie": auth(credential),
        "legacy cookie": {"Cookie": f"{LEGACY_COOKIE}={credential}"},
        "X-Appwrite-Session": {"X-Appwrite-Session": credential},
        "X-Nuvix-Session": {"X-Nuvix-Session": credential},
        "X-Fallback-Cookies": {"X-Fallback-Cookies": json.dumps({COOKIE: credential})},
    }


def test_done_when_walkthrough(base_url: str) -> None:
    email = unique_email()
    anonymous = Account(sdk_client(base_url))

    # 1. Sign up through the SDK (a client-made ID.unique() id; the email is stored lower-cased).
    user_id = ID.unique()
    user = anonymous.create(user_id=user_id, email=email.upper(), password=PASSWORD, name="Ada Lovelace")
    assert user.id == user_id
    assert user.email == email
    assert user.name == "Ada Lovelace"
    assert user.status is True
    assert (user.emailverification, user.phoneverification, user.mfa) == (False, False, False)
    assert user.phone == ""
    assert user.labels == [] and user.targets == []
    assert user.prefs.data == {}
    for stamp in (user.createdat, user.updatedat, user.registration, user.passwordupdate, user.accessedat):
        assert DATETIME.match(stamp), stamp
    assert not {"password", "hash", "passwordHash"} & set(user.to_dict())

    # 2. Sign in through the SDK: a Session model, with no secret for an end user.
    sdk_session = anonymous.create_email_password_session(email=email, password=PASSWORD)
    assert sdk_session.userid == user_id
    assert GENERATED_ID.match(sdk_session.id), sdk_session.id
    assert sdk_session.secret == ""
    assert sdk_session.provider == "email"
    assert sdk_session.provideruid == email
    assert sdk_session.factors == ["password"]
    assert sdk_session.current is True
    assert DATETIME.match(sdk_session.createdat) and DATETIME.match(sdk_session.expire)
    assert iso_epoch(sdk_session.expire) > iso_epoch(sdk_session.createdat)

    # 3. Sign in over HTTP: 201, both cookies, X-Fallback-Cookies, and the same body shape.
    response = sign_in_response(base_url, email, PASSWORD)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["secret"] == ""
    assert body["provider"] == "email"
    assert body["factors"] == ["password"]
    assert body["current"] is True
    assert body["userId"] == user_id
    assert response.headers.get("Cache-Control") == "no-store"
    cookies = set_cookies(response)
    assert set(cookies) >= {COOKIE, LEGACY_COOKIE}, cookies
    credential = response.cookies.get(COOKIE)
    assert credential and response.cookies.get(LEGACY_COOKIE) == credential
    for name in (COOKIE, LEGACY_COOKIE):
        attributes = cookie_attributes(cookies[name])
        assert "httponly" in attributes, cookies[name]
        assert "secure" not in attributes, f"Secure over plain http: {cookies[name]}"
        assert attributes.get("path") == "/", cookies[name]
        assert abs(cookie_expires_epoch(cookies[name]) - iso_epoch(body["expire"])) <= 1, "expires with the session"
    assert "samesite" not in cookie_attributes(cookies[LEGACY_COOKIE])
    assert json.loads(response.headers["X-Fallback-Cookies"]) == {COOKIE: credential}
    assert credential_of(response) == credential
    assert decode_credential(credential)["id"] == user_id

    # 4. The session works however it is presented.
    for how, headers in _presentations(credential).items():
        answer = get_account(base_url, headers)
        assert answer.status_code == 200, f"{how}: {answer.text}"
        assert answer.json()["$id"] == user_id, how
        assert answer.headers.get("Cache-Control") == "no-store", how
    signed_in = Account(sdk_client(base_url, credential))
    assert signed_in.get().id == user_id

    # 5. List sessions: both, the HTTP one current; `sessions` and `data` both sent.
    listed = signed_in.list_sessions()
    assert listed.total == 2
    assert sorted(s.id for s in listed.sessions) == sorted([sdk_session.id, body["$id"]])
    assert [s.id for s in listed.sessions if s.current] == [body["$id"]]
    assert all(s.secret == "" for s in listed.sessions)
    raw = request("GET", base_url, "/account/sessions", headers=auth(credential))
    assert raw.status_code == 200, raw.text
    assert set(raw.json()) >= {"total", "sessions", "data"}
    assert raw.json()["total"] == 2
    assert raw.json()["sessions"] == raw.json()["data"]

    # 6. Sign out: 204, both cookies expired, X-Fallback-Cookies emptied.
    out = request("DELETE", base_url, "/account/sessions/current", {}, auth(credential))
    assert out.status_code == 204, out.text
    assert out.content == b""
    assert json.loads(out.headers["X-Fallback-Cookies"]) == {}
    cleared = set_cookies(out)
    assert set(cleared) >= {COOKIE, LEGACY_COOKIE}, cleared
    for name in (COOKIE, LEGACY_COOKIE):
        assert cleared[name].split(";", 1)[0] == f"{name}=", cleared[name]
        attributes = cookie_attributes(cleared[name])
        gone = attributes.get("max-age") == "0" or (
            "expires" in attributes and cookie_expires_epoch(cleared[name]) < time.time()
        )
        assert gone, cleared[name]

    # 7. The ended session is refused however it is presented, and through the SDK.
    for how, headers in _presentations(credential).items():
        refused = get_account(base_url, headers)
        assert_error(refused, 401, "general_unauthorized_scope")
        assert refused.status_code == 401, how
    with pytest.raises(AppwriteException) as caught:
        signed_in.get()
    assert (caught.value.code, caught.value.type) == (401, "general_unauthorized_scope")
