"""Passkey steps shared by the passkey tests and the round-trip counts: registration, sign-in, and a walk
through every passkey function along its success path."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.integration.admin_fixtures import key_headers
from tests.integration.conftest import Answer, Api
from tests.integration.mfa_fixtures import sign_up_and_in, verify_email
from tests.soft_authenticator import SoftAuthenticator


def start_registration(api, credential: str, name: str = "Laptop", passkey_id: str = "unique()"):
    answer = api("create_passkey", {"passkeyId": passkey_id, "name": name}, session=credential)
    assert answer.status == 201, answer.body
    return answer.body


def finish_registration(api, credential: str, passkey_id: str, attestation: dict):
    return api(
        "update_passkey_verification", {"credential": attestation}, session=credential, path={"passkeyId": passkey_id}
    )


def register(api, credential: str, authenticator: SoftAuthenticator, name: str = "Laptop") -> dict:
    started = start_registration(api, credential, name)
    answer = finish_registration(api, credential, started["passkeyId"], authenticator.create(started["publicKey"]))
    assert answer.status == 200, answer.body
    return answer.body


def sign_in_challenge(api) -> dict:
    answer = api("create_passkey_token", {})
    assert answer.status == 201, answer.body
    return answer.body


def answer_sign_in(api, challenge_id: str, assertion: dict):
    return api("update_passkey_token", {"challengeId": challenge_id, "credential": assertion})


def passkey_token(api, authenticator: SoftAuthenticator, **misbehaviour):
    started = sign_in_challenge(api)
    return answer_sign_in(api, started["$id"], authenticator.get(started["publicKey"], **misbehaviour))


def passkey_session(api, authenticator: SoftAuthenticator):
    token = passkey_token(api, authenticator)
    assert token.status == 201, token.body
    return api("create_session", {"userId": token.body["userId"], "secret": token.body["secret"]})


def walk_passkeys(api: Api, sent, step: Callable[[str, Answer], Answer], tag: str = "") -> None:
    """Every passkey function along its success path, as a user with a verified email (so notices go out)
    and then the support desk would: `step(name, answer)` sees each answer (named as in
    test_round_trips.PASSKEY_STEPS); `tag` makes the address unique."""
    email = f"passkeys{tag}@example.com"
    ada = sign_up_and_in(api, email)
    verify_email(api, sent, ada.credential, email)
    phone = SoftAuthenticator()
    started = step("create", api("create_passkey", {"passkeyId": "unique()", "name": "Laptop"}, session=ada.credential))
    attestation = phone.create(started.body["publicKey"])
    passkey = step("verify", finish_registration(api, ada.credential, started.body["passkeyId"], attestation)).body
    one = {"passkeyId": passkey["$id"]}
    step("list", api("list_passkeys", session=ada.credential))
    step("get", api("get_passkey", session=ada.credential, path=one))
    step("rename", api("update_passkey", {"name": "Phone"}, session=ada.credential, path=one))
    challenge = step("sign-in challenge", api("create_passkey_token", {})).body
    token = step("sign-in", answer_sign_in(api, challenge["$id"], phone.get(challenge["publicKey"]))).body
    step("session", api("create_session", {"userId": token["userId"], "secret": token["secret"]}))
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    half = api.session_for(email)
    created = step("mfa challenge", api("create_mfa_challenge", {"factor": "passkey"}, session=half)).body
    assertion = json.dumps(phone.get(created["publicKey"]))
    step("mfa completed", api("update_mfa_challenge", {"challengeId": created["$id"], "otp": assertion}, session=half))
    step("delete", api("delete_passkey", {}, session=half, path=one))
    register(api, half, phone)
    [lost] = api("list_passkeys", session=half).body["passkeys"]
    read, write = key_headers("users.read"), key_headers("users.write")
    target, both = {"userId": ada.user_id}, {"userId": ada.user_id, "passkeyId": lost["$id"]}
    step("users_list_passkeys", api("users_list_passkeys", headers=read, path=target))
    step("users_get_passkey", api("users_get_passkey", headers=read, path=both))
    step("users_update_passkey", api("users_update_passkey", {"name": "Lost"}, headers=write, path=both))
    step("users_delete_passkey", api("users_delete_passkey", {}, headers=write, path=both))
