"""Password change and the session calls of API.md §4.4 through the SDK.
Sign-ups #4 (password changes) and #5 (sessions) of the budget."""

from __future__ import annotations

import time

import pytest
from appwrite.services.account import Account

from tests.e2e.helpers import (
    DATETIME,
    GENERATED_ID,
    User,
    assert_error,
    auth,
    get_account,
    iso_epoch,
    make_user,
    request,
    sdk_client,
    sdk_raises,
    sign_in,
    sign_in_response,
)


@pytest.fixture(scope="module")
def sam(base_url: str) -> User:
    """A user whose sessions the tests here create and end at will."""
    return make_user(base_url, name="Sam")


def test_update_password(base_url: str) -> None:
    pat = make_user(base_url, name="Pat")
    current = sign_in(base_url, pat.email, pat.password)
    other = sign_in(base_url, pat.email, pat.password)
    account = Account(sdk_client(base_url, current))

    sdk_raises(
        lambda: account.update_password(password="a brand new passphrase", old_password="not the password"),
        401,
        "user_invalid_credentials",
    )
    sdk_raises(lambda: account.update_password(password="a brand new passphrase"), 401, "user_invalid_credentials")
    sdk_raises(
        lambda: account.update_password(password="short", old_password=pat.password), 400, "general_argument_invalid"
    )
    sdk_raises(
        lambda: account.update_password(password="x" * 257, old_password=pat.password), 400, "general_argument_invalid"
    )
    # nothing changed so far
    assert get_account(base_url, auth(other)).status_code == 200

    before = account.get()
    updated = account.update_password(password="a brand new passphrase", old_password=pat.password)
    assert updated.id == pat.id
    assert DATETIME.match(updated.passwordupdate)
    assert iso_epoch(updated.passwordupdate) >= iso_epoch(before.passwordupdate)

    # the other session ended, the current one stays
    assert_error(get_account(base_url, auth(other)), 401, "general_unauthorized_scope")
    assert account.get().id == pat.id
    listed = account.list_sessions()
    assert listed.total == 1 and listed.sessions[0].current is True

    assert_error(sign_in_response(base_url, pat.email, pat.password), 401, "user_invalid_credentials")
    assert sign_in_response(base_url, pat.email, "a brand new passphrase").status_code == 201


def test_get_session_current_and_by_id(base_url: str, sam: User) -> None:
    first = sign_in(base_url, sam.email)
    second = sign_in(base_url, sam.email)
    account = Account(sdk_client(base_url, second))

    current = account.get_session("current")
    assert current.current is True
    assert current.userid == sam.id
    assert GENERATED_ID.match(current.id)
    assert current.secret == ""
    assert current.provider == "email" and current.factors == ["password"]
    for stamp in (current.createdat, current.updatedat, current.expire):
        assert DATETIME.match(stamp), stamp

    first_id = Account(sdk_client(base_url, first)).get_session("current").id
    assert first_id != current.id
    by_id = account.get_session(first_id)
    assert by_id.id == first_id
    assert by_id.current is False
    assert by_id.secret == ""
    assert account.get_session(current.id).current is True

    sdk_raises(lambda: account.get_session("00000000000000000000"), 404, "user_session_not_found")


def test_update_session_extends_expiry(base_url: str, sam: User) -> None:
    account = Account(sdk_client(base_url, sign_in(base_url, sam.email)))
    before = account.get_session("current")
    time.sleep(0.02)
    extended = account.update_session("current")
    assert extended.id == before.id
    assert extended.current is True
    assert DATETIME.match(extended.expire)
    assert iso_epoch(extended.expire) > iso_epoch(before.expire)
    assert iso_epoch(extended.updatedat) > iso_epoch(before.updatedat)
    assert account.get_session("current").expire == extended.expire


def test_delete_one_session_by_id(base_url: str, sam: User) -> None:
    keep = sign_in(base_url, sam.email)
    drop = sign_in(base_url, sam.email)
    account = Account(sdk_client(base_url, keep))
    drop_id = Account(sdk_client(base_url, drop)).get_session("current").id

    response = request("DELETE", base_url, f"/account/sessions/{drop_id}", {}, auth(keep))
    assert response.status_code == 204, response.text
    assert_error(get_account(base_url, auth(drop)), 401, "general_unauthorized_scope")
    assert account.get().id == sam.id
    sdk_raises(lambda: account.get_session(drop_id), 404, "user_session_not_found")


def test_delete_current_session_with_sdk(base_url: str, sam: User) -> None:
    account = Account(sdk_client(base_url, sign_in(base_url, sam.email)))
    account.delete_session("current")
    sdk_raises(account.get, 401, "general_unauthorized_scope")


def test_delete_sessions(base_url: str, sam: User) -> None:
    credentials = [sign_in(base_url, sam.email) for _ in range(3)]
    account = Account(sdk_client(base_url, credentials[0]))
    assert account.list_sessions().total >= 3
    account.delete_sessions()
    for credential in credentials:
        assert_error(get_account(base_url, auth(credential)), 401, "general_unauthorized_scope")
    # a new sign-in starts from a clean list
    fresh = Account(sdk_client(base_url, sign_in(base_url, sam.email)))
    assert fresh.list_sessions().total == 1


def test_eleventh_session_ends_the_oldest(base_url: str, sam: User) -> None:
    # Successful sign-ins reset the per-email attempt count, so 11 in a row stay within the limit.
    credentials = [sign_in(base_url, sam.email) for _ in range(11)]
    assert_error(get_account(base_url, auth(credentials[0])), 401, "general_unauthorized_scope")
    for credential in credentials[1:]:
        assert get_account(base_url, auth(credential)).status_code == 200
    listed = Account(sdk_client(base_url, credentials[-1])).list_sessions()
    assert listed.total == 10
    assert len(listed.sessions) == 10
    raw = request("GET", base_url, "/account/sessions", headers=auth(credentials[-1])).json()
    assert raw["total"] == 10 and len(raw["data"]) == 10
    # generated ids are time-ordered: the later session, the greater id
    ids = [Account(sdk_client(base_url, c)).get_session("current").id for c in credentials[1:]]
    assert all(GENERATED_ID.match(i) for i in ids), ids
    assert ids == sorted(ids)
    assert sorted(s.id for s in listed.sessions) == sorted(ids)


def test_sign_in_alias_and_email_case(base_url: str, sam: User) -> None:
    """`POST /account/sessions` is an alias; the email matches whatever its case."""
    response = request("POST", base_url, "/account/sessions", {"email": sam.email.upper(), "password": sam.password})
    assert response.status_code == 201, response.text
    assert response.json()["userId"] == sam.id
    assert response.json()["providerUid"] == sam.email
    assert response.json()["ip"] == "127.0.0.1"


def test_sessions_of_another_user_are_out_of_reach(base_url: str, sam: User, shared_user: User) -> None:
    theirs = request("GET", base_url, "/account/sessions/current", headers=auth(shared_user.credential)).json()["$id"]
    account = Account(sdk_client(base_url, sign_in(base_url, sam.email)))
    sdk_raises(lambda: account.get_session(theirs), 404, "user_session_not_found")
    sdk_raises(lambda: account.update_session(theirs), 404, "user_session_not_found")
    sdk_raises(lambda: account.delete_session(theirs), 404, "user_session_not_found")
    assert theirs not in [s.id for s in account.list_sessions().sessions]
    # their session is untouched
    assert get_account(base_url, auth(shared_user.credential)).status_code == 200
