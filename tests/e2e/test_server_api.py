"""Server API keys through Appwrite's Python server SDK (appwrite==27.0.0), over HTTP (issue 9):
an SSR sign-in (the server keeps the session secret and acts with it) and a support desk resetting the
MFA of a user locked out of every factor.

Runs against a server of its own, started with three keys (`--api-key`). Budget (one IP, per hour):
3 x `POST /account`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from appwrite.client import Client
from appwrite.enums.authenticator_type import AuthenticatorType
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.account import Account
from appwrite.services.users import Users

from tests import rfc6238
from tests.e2e.helpers import PASSWORD, PROJECT, LocalStack, sdk_client, sdk_raises, sign_in, unique_email

KEYS = {"ssr": "sessions.write", "desk": "users.read,users.write", "reader": "users.read"}


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, dict[str, str]]]:
    """(endpoint, key by name) of a local stack started with KEYS."""
    args = ["--port", "0", *(arg for name, scopes in KEYS.items() for arg in ("--api-key", f"{name}:{scopes}"))]
    server = LocalStack(args)
    try:
        base = server.wait_ready()
        keys = {}
        for line in server.lines:
            if line.startswith("API key "):
                name, _, key = line.removeprefix("API key ").partition(": ")
                keys[name] = key
        assert set(keys) == set(KEYS), server.output()
        yield base, keys
    finally:
        server.stop()


def server_client(base: str, key: str) -> Client:
    return Client().set_endpoint(base).set_project(PROJECT).set_key(key)


def test_ssr_sign_in_keeps_the_secret_and_acts_with_it(stack):
    base, keys = stack
    email = unique_email()
    Account(sdk_client(base)).create(user_id=ID.unique(), email=email, password=PASSWORD)

    session = Account(server_client(base, keys["ssr"])).create_email_password_session(email=email, password=PASSWORD)
    assert session.secret  # the credential client.set_session() takes, kept in the SSR app's own cookie
    me = Account(sdk_client(base).set_session(session.secret)).get()
    assert me.email == email and me.id == session.userid

    # Without a key the secret stays empty; with a key lacking the scope the sign-in is refused.
    assert Account(sdk_client(base)).create_email_password_session(email=email, password=PASSWORD).secret == ""

    def sign_in_with(key: str):
        return Account(server_client(base, key)).create_email_password_session(email=email, password=PASSWORD)

    error = sdk_raises(lambda: sign_in_with(keys["reader"]), 401, "general_unauthorized_scope")
    assert "sessions.write" in error.message
    forged = keys["ssr"].split(".")[0] + "." + "0" * 64
    sdk_raises(lambda: sign_in_with(forged), 401, "general_unauthorized_scope")


def _enrol_authenticator(account: Account, offset_steps: int = 0) -> None:
    secret = account.create_mfa_authenticator(type=AuthenticatorType.TOTP).secret
    account.update_mfa_authenticator(type=AuthenticatorType.TOTP, otp=rfc6238.totp(secret, offset_steps=offset_steps))
    account.update_mfa(mfa=True)


def test_support_desk_resets_the_mfa_of_a_user_locked_out_of_every_factor(stack):
    base, keys = stack
    email = unique_email()
    user_id = Account(sdk_client(base)).create(user_id=ID.unique(), email=email, password=PASSWORD).id
    account = Account(sdk_client(base, sign_in(base, email)))
    account.create_mfa_recovery_codes()
    _enrol_authenticator(account)

    # Phone lost, recovery codes lost: a password sign-in stops halfway and stays there.
    halfway = Account(sdk_client(base, sign_in(base, email)))
    sdk_raises(halfway.get, 401, "user_more_factors_required")

    # A reader can look, not reset.
    reader = Users(server_client(base, keys["reader"]))
    assert reader.list_mfa_factors(user_id=user_id).totp is True
    sdk_raises(lambda: reader.update_mfa(user_id=user_id, mfa=False), 401, "general_unauthorized_scope")

    desk = Users(server_client(base, keys["desk"]))
    assert desk.get(user_id=user_id).mfa is True
    assert desk.list_sessions(user_id=user_id).total == 2
    assert desk.update_mfa(user_id=user_id, mfa=False).mfa is False
    desk.delete_mfa_authenticator(user_id=user_id, type=AuthenticatorType.TOTP)
    factors = desk.list_mfa_factors(user_id=user_id)
    assert (factors.totp, factors.recoverycode) == (False, True)

    # The user signs in with the password alone, and enrols a new authenticator.
    again = Account(sdk_client(base, sign_in(base, email)))
    assert again.get().email == email
    _enrol_authenticator(again, offset_steps=1)  # the current step was spent by the first authenticator
    assert desk.get(user_id=user_id).mfa is True

    # Recovery codes: shown, regenerated (the old ones stop working), not created twice.
    shown = desk.get_mfa_recovery_codes(user_id=user_id).recoverycodes
    regenerated = desk.update_mfa_recovery_codes(user_id=user_id).recoverycodes
    assert len(shown) == len(regenerated) == 10 and not set(shown) & set(regenerated)
    sdk_raises(lambda: desk.create_mfa_recovery_codes(user_id=user_id), 409, "user_recovery_codes_already_exists")

    oldest = desk.list_sessions(user_id=user_id).sessions[0]
    desk.delete_session(user_id=user_id, session_id=oldest.id)
    assert oldest.id not in [s.id for s in desk.list_sessions(user_id=user_id).sessions]
    desk.delete_sessions(user_id=user_id)
    assert desk.list_sessions(user_id=user_id).total == 0
    sdk_raises(again.get, 401, "general_unauthorized_scope")


def test_users_are_created_listed_blocked_and_deleted_through_the_sdk(stack):
    base, keys = stack
    desk = Users(server_client(base, keys["desk"]))
    email = unique_email()
    user = desk.create(user_id=ID.unique(), email=email, password=PASSWORD, name="Made by the desk")
    listed = desk.list(queries=[Query.limit(1), Query.offset(0)], search=email)
    assert listed.total == 1 and [u.id for u in listed.users] == [user.id]
    assert desk.update_email_verification(user_id=user.id, email_verification=True).emailverification is True
    assert desk.update_phone_verification(user_id=user.id, phone_verification=False).phoneverification is False

    session = desk.create_session(user_id=user.id)
    assert Account(sdk_client(base).set_session(session.secret)).get().email == email
    assert desk.update_status(user_id=user.id, status=False).status is False
    sdk_raises(Account(sdk_client(base).set_session(session.secret)).get, 401, "user_blocked")

    desk.delete(user_id=user.id)
    sdk_raises(lambda: desk.get(user_id=user.id), 404, "user_not_found")
    sdk_raises(
        lambda: Users(server_client(base, keys["reader"])).delete(user_id=user.id), 401, "general_unauthorized_scope"
    )
