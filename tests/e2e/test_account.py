"""Every account call of API.md §4.2 through Appwrite's Python SDK, on one account of this module
(sign-up #3 of the budget). The shared user stands in for "someone else" when a value must be taken."""

from __future__ import annotations

import pytest
from appwrite.services.account import Account

from tests.e2e.helpers import (
    DATETIME,
    PASSWORD,
    User,
    assert_error,
    auth,
    iso_epoch,
    make_user,
    request,
    sdk_client,
    sdk_raises,
    sign_in,
    sign_in_response,
    unique_email,
)

# Real numbers (libphonenumber-valid), one per purpose so test order does not matter.
PHONE_OWN = "+14155552671"
PHONE_TAKEN = "+442071838750"


@pytest.fixture(scope="module")
def alice(base_url: str) -> User:
    user = make_user(base_url, name="Alice")
    user.credential = sign_in(base_url, user.email)
    return user


@pytest.fixture
def account(base_url: str, alice: User) -> Account:
    return Account(sdk_client(base_url, alice.credential))


def test_update_name(account: Account, alice: User) -> None:
    before = account.get()
    updated = account.update_name(name="Alice Liddell")
    assert updated.id == alice.id
    assert updated.name == "Alice Liddell"
    assert DATETIME.match(updated.updatedat)
    assert iso_epoch(updated.updatedat) >= iso_epoch(before.updatedat)
    assert account.get().name == "Alice Liddell"


def test_update_name_too_long_is_refused(base_url: str, alice: User) -> None:
    response = request("PATCH", base_url, "/account/name", {"name": "x" * 129}, auth(alice.credential))
    assert_error(response, 400, "general_argument_invalid")


def test_prefs_are_an_object(base_url: str, account: Account, alice: User) -> None:
    # Empty prefs: an object, never a list (PHP servers famously send []).
    raw = request("GET", base_url, "/account/prefs", headers=auth(alice.credential))
    assert raw.status_code == 200, raw.text
    assert raw.json() == {}
    raw_account = request("GET", base_url, "/account", headers=auth(alice.credential))
    assert raw_account.json()["prefs"] == {}
    assert account.get_prefs().data == {}

    prefs = {"theme": "dark", "nested": {"n": 1, "list": [1, "two"]}, "flag": True}
    updated = account.update_prefs(prefs=prefs)
    assert updated.prefs.data == prefs
    assert account.get_prefs().data == prefs
    assert request("GET", base_url, "/account/prefs", headers=auth(alice.credential)).json() == prefs

    cleared = account.update_prefs(prefs={})
    assert cleared.prefs.data == {}
    assert request("GET", base_url, "/account/prefs", headers=auth(alice.credential)).json() == {}
    assert request("GET", base_url, "/account", headers=auth(alice.credential)).json()["prefs"] == {}


def test_update_prefs_needs_an_object(base_url: str, alice: User) -> None:
    response = request("PATCH", base_url, "/account/prefs", {"prefs": ["not", "an", "object"]}, auth(alice.credential))
    assert_error(response, 400, "general_argument_invalid")


def test_update_email(base_url: str, account: Account, alice: User, shared_user: User) -> None:
    sdk_raises(
        lambda: account.update_email(email=unique_email(), password="wrong password!"), 401, "user_invalid_credentials"
    )
    sdk_raises(
        lambda: account.update_email(email=shared_user.email.upper(), password=alice.password),
        409,
        "user_email_already_exists",
    )

    old, new = alice.email, unique_email()
    updated = account.update_email(email=new.upper(), password=alice.password)
    alice.email = new
    assert updated.email == new  # lower-cased
    assert updated.emailverification is False
    assert account.get().email == new

    assert sign_in_response(base_url, new, alice.password).status_code == 201
    refused = sign_in_response(base_url, old, alice.password)
    assert_error(refused, 401, "user_invalid_credentials")
    # the old address was released: it can be taken again (here by its former owner)
    assert account.update_email(email=old, password=alice.password).email == old
    alice.email = old
    assert sign_in_response(base_url, old, alice.password).status_code == 201


def test_update_email_invalid_address(base_url: str, alice: User) -> None:
    response = request(
        "PATCH", base_url, "/account/email", {"email": "not-an-email", "password": PASSWORD}, auth(alice.credential)
    )
    body = assert_error(response, 400, "general_argument_invalid")
    assert body["message"].startswith("Invalid `email` param: ")


def test_update_phone(account: Account, alice: User, shared_user: User) -> None:
    sdk_raises(
        lambda: account.update_phone(phone=PHONE_OWN, password="wrong password!"), 401, "user_invalid_credentials"
    )
    updated = account.update_phone(phone=PHONE_OWN, password=alice.password)
    assert updated.phone == PHONE_OWN
    assert updated.phoneverification is False
    assert account.get().phone == PHONE_OWN


@pytest.mark.parametrize("phone", ["+10000000000", "14155552671", "+1415555267a", "+1234567890123456", ""])
def test_update_phone_invalid_number(account: Account, alice: User, phone: str) -> None:
    sdk_raises(lambda: account.update_phone(phone=phone, password=alice.password), 400, "general_argument_invalid")


def test_update_phone_taken(base_url: str, account: Account, alice: User, shared_user: User) -> None:
    account.update_phone(phone=PHONE_TAKEN, password=alice.password)
    other = Account(sdk_client(base_url, shared_user.credential))
    sdk_raises(
        lambda: other.update_phone(phone=PHONE_TAKEN, password=shared_user.password), 409, "user_phone_already_exists"
    )
    assert other.get().phone != PHONE_TAKEN
    # once alice moves on, the number is released and someone else may take it
    account.update_phone(phone=PHONE_OWN, password=alice.password)
    assert account.get().phone == PHONE_OWN
    assert other.update_phone(phone=PHONE_TAKEN, password=shared_user.password).phone == PHONE_TAKEN


def test_sessions_survive_profile_changes(account: Account, alice: User) -> None:
    """Name, email, phone and prefs changes do not end the session that made them."""
    assert account.get().id == alice.id
    assert account.get_session("current").current is True
