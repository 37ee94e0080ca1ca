"""Passkeys (API.md §9) over HTTP through Appwrite's Python SDK (appwrite==27.0.0), with the software
authenticator of tests/soft_authenticator.py in the browser's place: every passkey method of Account and
Users, the MFA extension (`factor: "passkey"`), and the refusals (replayed challenge, foreign credential,
wrong origin or rp id, user verification off, a counter that goes back, a deleted passkey).

Runs against a server of its own, started with a support-desk key. Budget (one IP, per hour): 2 x
`POST /account`, 12 x `POST /account/tokens/passkey` (30 allowed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from appwrite.client import Client
from appwrite.id import ID
from appwrite.models import MfaFactors, Passkey, PasskeyChallenge, PasskeyList, Session, TokenSecret
from appwrite.query import Query
from appwrite.services.account import Account
from appwrite.services.users import Users

from tests.e2e.helpers import PASSWORD, PROJECT, LocalStack, sdk_client, sdk_raises, sign_in, unique_email
from tests.soft_authenticator import SoftAuthenticator, b64url


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, str]]:
    """(endpoint, a users.read+users.write key) of a local stack of its own."""
    server = LocalStack(["--port", "0", "--api-key", "desk:users.read,users.write"])
    try:
        base = server.wait_ready()
        [key] = [line.partition(": ")[2] for line in server.lines if line.startswith("API key desk: ")]
        yield base, key
    finally:
        server.stop()


def signed_up(base: str) -> tuple[str, Account]:
    """A new account and the SDK's Account service holding a fresh password session of it."""
    email = unique_email()
    Account(sdk_client(base)).create(user_id=ID.unique(), email=email, password=PASSWORD)
    return email, Account(sdk_client(base, sign_in(base, email)))


def register(account: Account, authenticator: SoftAuthenticator, name: str) -> Passkey:
    started = account.create_passkey(passkey_id=ID.unique(), name=name)
    assert isinstance(started, PasskeyChallenge) and started.passkeyid and started.expire
    return account.update_passkey_verification(started.passkeyid, authenticator.create(started.publickey))


def token(base: str, authenticator: SoftAuthenticator, **misbehaviour) -> TokenSecret:
    guest = Account(sdk_client(base))
    started = guest.create_passkey_token()
    return guest.update_passkey_token(started.id, authenticator.get(started.publickey, **misbehaviour))


def test_register_manage_and_sign_in_with_a_passkey(stack):
    base, _ = stack
    _, account = signed_up(base)
    phone = SoftAuthenticator()
    passkey = register(account, phone, "Laptop")
    assert isinstance(passkey, Passkey) and passkey.name == "Laptop" and passkey.accessedat == ""
    second = register(account, phone, "Phone")
    listed = account.list_passkeys()
    assert isinstance(listed, PasskeyList) and listed.total == 2
    assert [p.id for p in listed.passkeys] == [passkey.id, second.id]
    assert [p.id for p in account.list_passkeys(queries=[Query.limit(1), Query.offset(1)]).passkeys] == [second.id]
    assert account.get_passkey(passkey.id).id == passkey.id
    assert account.update_passkey(passkey.id, "Work laptop").name == "Work laptop"
    account.delete_passkey(second.id)
    sdk_raises(lambda: account.get_passkey(second.id), 404, "user_passkey_not_found")
    sdk_raises(lambda: token(base, phone), 401, "user_invalid_token")  # the deleted one, still on the device
    phone.credentials.pop()  # the user removes it from the device too

    # Discoverable sign-in: no email asked; the token (with its secret, 1 minute) makes the session.
    guest = Account(sdk_client(base))
    started = guest.create_passkey_token()
    assert started.passkeyid == "" and started.publickey["userVerification"] == "required"
    earned = guest.update_passkey_token(started.id, phone.get(started.publickey))
    assert isinstance(earned, TokenSecret) and len(earned.secret) == 64
    session = guest.create_session(user_id=earned.userid, secret=earned.secret)
    assert isinstance(session, Session) and session.factors == ["passkey"]
    assert account.get_passkey(passkey.id).accessedat != ""
    sdk_raises(lambda: guest.create_session(user_id=earned.userid, secret=earned.secret), 401, "user_invalid_token")

    # Replays, strangers and misbehaving authenticators are refused alike.
    assertion = phone.get(started.publickey)
    sdk_raises(lambda: guest.update_passkey_token(started.id, assertion), 401, "user_invalid_token")
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": b64url(earned.userid.encode())}, "challenge": "x"})
    for authenticator, misbehaviour in [
        (stranger, {}),
        (phone, {"origin": "https://evil.example"}),
        (phone, {"rp_id": "evil.example"}),
        (phone, {"verified": False}),
    ]:
        sdk_raises(lambda a=authenticator, m=misbehaviour: token(base, a, **m), 401, "user_invalid_token")
    assert token(base, phone).secret  # the passkey still works after all that

    # A counter that goes back (a cloned authenticator) marks the passkey suspect: refused from then on.
    assert token(base, phone, counter=50).secret
    sdk_raises(lambda: token(base, phone, counter=50), 401, "user_invalid_token")
    sdk_raises(lambda: token(base, phone, counter=51), 401, "user_invalid_token")


def test_a_refused_registration_must_be_started_again(stack):
    base, _ = stack
    _, account = signed_up(base)
    phone = SoftAuthenticator()
    for misbehaviour in ({"verified": False}, {"origin": "https://evil.example"}, {"rp_id": "evil.example"}):
        started = account.create_passkey(passkey_id=ID.unique(), name="x")
        bad = phone.create(started.publickey, **misbehaviour)
        sdk_raises(
            lambda s=started, c=bad: account.update_passkey_verification(s.passkeyid, c), 401, "user_invalid_token"
        )
        good = phone.create(started.publickey)
        sdk_raises(
            lambda s=started, c=good: account.update_passkey_verification(s.passkeyid, c), 401, "user_invalid_token"
        )
    assert account.list_passkeys().total == 0


def test_a_passkey_completes_a_password_sign_ins_second_factor_and_the_desk_removes_a_lost_one(stack):
    base, key = stack
    email, account = signed_up(base)
    phone = SoftAuthenticator()
    passkey = register(account, phone, "Phone")
    assert account.list_mfa_factors().to_dict().get("passkey") is True
    account.update_mfa(mfa=True)

    half = Account(sdk_client(base, sign_in(base, email)))
    sdk_raises(half.get, 401, "user_more_factors_required")
    challenge = half.create_mfa_challenge(factor="passkey")  # ours: the SDK passes the string through
    options = challenge.to_dict()["publicKey"]
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(phone.credentials[0].credential_id)]
    completed = half.update_mfa_challenge(challenge.id, json.dumps(phone.get(options)))
    assert completed.factors == ["password", "passkey"]
    assert half.get().email == email
    replay = json.dumps(phone.get(options))
    sdk_raises(lambda: half.update_mfa_challenge(challenge.id, replay), 401, "user_invalid_token")
    assert isinstance(half.list_mfa_factors(), MfaFactors)

    # The support desk: list, read, rename, then remove the lost passkey; it signs in no more.
    desk = Users(Client().set_endpoint(base).set_project(PROJECT).set_key(key))
    user_id = completed.userid
    assert [p.id for p in desk.list_passkeys(user_id).passkeys] == [passkey.id]
    assert desk.get_passkey(user_id, passkey.id).name == "Phone"
    assert desk.update_passkey(user_id, passkey.id, "Lost phone").name == "Lost phone"
    desk.delete_passkey(user_id, passkey.id)
    sdk_raises(lambda: desk.get_passkey(user_id, passkey.id), 404, "user_passkey_not_found")
    sdk_raises(lambda: token(base, phone), 401, "user_invalid_token")
    sdk_raises(lambda: half.create_mfa_challenge(factor="passkey"), 404, "user_passkey_not_found")
