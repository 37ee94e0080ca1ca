"""Social sign-in in-process (handlers with moto, a fake provider signing real ID tokens): what the callback
refuses from a misbehaving or compromised provider, linking rules, state storage, logs, and the Users API's
identities. The browser flows against a real provider are in tests/e2e/test_oauth.py."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc.jwk import RSAKey

from authcore.observability import logger
from authcore.security.codes import keyed_hash

from .admin_fixtures import key_headers
from .conftest import moved_clock, table_items
from .oauth_fixtures import (
    FAILURE,
    SUCCESS,
    callback,
    session_cookie,
    social_sign_in,
    start,
    verified,
)


def failure_type(answer) -> str:
    assert answer.status == 302, answer.body
    location = answer.header("location")
    assert location.startswith(FAILURE + "?"), location
    return json.loads(parse_qs(urlsplit(location).query)["error"][0])["type"]


def test_a_first_sign_in_makes_a_verified_account_and_a_session(api, idp):
    _, answer = social_sign_in(api, idp, "sub-1", name="Ada", **verified("ada@example.com"))
    assert answer.status == 302 and answer.header("location") == SUCCESS
    me = api("get_account", session=session_cookie(answer)).body
    assert (me["email"], me["emailVerification"], me["name"]) == ("ada@example.com", True, "Ada")


@pytest.mark.parametrize(
    ("what", "tamper"),
    [
        ("a wrong nonce", lambda claims: claims.update(nonce="another")),
        ("a foreign audience", lambda claims: claims.update(aud="someone-else")),
        ("another issuer", lambda claims: claims.update(iss="https://evil.example")),
        ("an expired token", lambda claims: claims.update(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)),
        ("an authorized party that is not us", lambda claims: claims.update(azp="someone-else")),
    ],
)
def test_an_id_token_that_does_not_hold_signs_in_nobody(api, idp, what, tamper):
    idp.tamper = tamper
    _, answer = social_sign_in(api, idp, "sub-2", **verified("bob@example.com"))
    assert failure_type(answer) == "user_oauth2_provider_error", what
    assert not session_cookie(answer)
    assert not [item for item in table_items("EMAIL#") if item["pk"] == "EMAIL#bob@example.com"]  # nobody made


def test_an_id_token_signed_by_another_key_is_refused(api, idp):
    idp.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # the same key id, another key
    _, answer = social_sign_in(api, idp, "sub-3", **verified("carol@example.com"))
    assert failure_type(answer) == "user_oauth2_provider_error"


def test_the_state_is_stored_as_a_keyed_hash_and_taken_once(api, idp):
    started = start(api)
    state = parse_qs(urlsplit(started.header("location")).query)["state"][0]
    stored = [item for item in table_items("OAUTHSTATE#")]
    assert [item["pk"] for item in stored] == [f"OAUTHSTATE#{keyed_hash('oauth2-state', state)}"]
    assert state not in json.dumps(stored)
    code, _ = idp.authorize(started.header("location"), {"sub": "sub-4", **verified("dan@example.com")})
    assert callback(api, code, state, started).status == 302
    assert table_items("OAUTHSTATE#") == []
    assert callback(api, code, state, started).status == 401  # the state is gone


def test_a_signed_in_caller_links_the_provider_account_to_itself(api, idp):
    api.sign_up("eve@example.com")  # an unverified email: no email-based joining could happen
    credential = api.session_for("eve@example.com")
    started = api(
        "create_oauth2_session",
        query={"success": SUCCESS},
        path={"provider": "oidc"},
        headers={"Cookie": f"a_session_default={credential}"},
    )
    code, state = idp.authorize(started.header("location"), {"sub": "sub-5", **verified("elsewhere@example.com")})
    answer = callback(api, code, state, started)
    assert answer.header("location") == SUCCESS
    me = api("get_account", session=session_cookie(answer)).body
    assert me["email"] == "eve@example.com"
    identities = api("list_identities", session=credential).body["identities"]
    assert [(i["providerUid"], i["providerEmail"]) for i in identities] == [("sub-5", "elsewhere@example.com")]


def test_a_session_stolen_later_cannot_link_its_thiefs_provider_account(api, idp, monkeypatch):
    """Linking adds a way to sign in: as with a passkey, it needs a sign-in or step-up of the last 10 minutes."""
    from authcore.services import oauth

    api.sign_up("gail@example.com")
    credential = api.session_for("gail@example.com")
    moved_clock(monkeypatch, oauth).advance(11 * 60 * 1000)
    started = api(
        "create_oauth2_session",
        query={"success": SUCCESS},
        path={"provider": "oidc"},
        headers={"Cookie": f"a_session_default={credential}"},
    )
    assert (started.status, started.body["type"]) == (401, "user_challenge_required")
    assert api("list_identities", session=credential).body["identities"] == []


def test_an_unverified_provider_email_of_a_new_user_stays_unverified(api, idp):
    _, answer = social_sign_in(api, idp, "sub-6", email="frank@example.com", email_verified=False)
    me = api("get_account", session=session_cookie(answer)).body
    assert (me["email"], me["emailVerification"]) == ("frank@example.com", False)


def test_no_code_state_or_token_reaches_the_logs(api, idp, caplog, capfd):
    caplog.set_level("DEBUG", logger=logger.name)  # everything ours logs (botocore's debug log shows items)
    started, answer = social_sign_in(api, idp, "sub-7", **verified("gina@example.com"))
    idp.tamper = lambda claims: claims.update(nonce="x")  # and a refusal, which is logged
    started2, _ = social_sign_in(api, idp, "sub-8", **verified("hal@example.com"))
    captured = capfd.readouterr()
    text = captured.out + captured.err + "\n".join(str(vars(record)) for record in caplog.records)
    for location in (started.header("location"), started2.header("location")):
        query = parse_qs(urlsplit(location).query)
        for name in ("state", "nonce", "code_challenge"):
            assert query[name][0] not in text, name
    assert session_cookie(answer) not in text
    refusals = [record for record in caplog.records if record.getMessage() == "oauth2 provider refusal"]
    assert [record.reason for record in refusals] == ["ID token refused: InvalidClaimError"]  # the reason only


def test_the_users_api_lists_and_unlinks_identities(api, idp):
    for sub, email in (("sub-9", "ivy@example.com"), ("sub-10", "jim@example.com")):
        social_sign_in(api, idp, sub, **verified(email))
    key = key_headers()
    listed = api("users_list_identities", query={"search": "jim@"}, headers=key).body
    assert [i["providerUid"] for i in listed["identities"]] == ["sub-10"] and listed["total"] == 1
    path = {"identityId": listed["identities"][0]["$id"]}
    assert api("users_delete_identity", path=path, headers=key).status == 204
    assert api("users_delete_identity", path=path, headers=key).status == 404
    assert api("users_list_identities", headers=key).body["total"] == 1
    assert api("users_list_identities", headers=key_headers("sessions.write")).status == 401


def test_a_deleted_users_provider_account_signs_up_anew(api, idp):
    _, answer = social_sign_in(api, idp, "sub-11", **verified("kim@example.com"))
    old_id = api("get_account", session=session_cookie(answer)).body["$id"]
    assert api("users_delete", path={"userId": old_id}, headers=key_headers()).status == 204
    _, again = social_sign_in(api, idp, "sub-11", **verified("kim@example.com"))
    assert again.header("location") == SUCCESS
    assert api("get_account", session=session_cookie(again)).body["$id"] != old_id


def test_a_callback_in_another_browser_is_refused(api, idp):
    """Login CSRF: the attacker's own callback URL (their code and state) opened in the victim's browser would
    sign the victim in to the attacker's account; the flow cookie binds the state to the starting browser."""
    started = start(api)
    code, state = idp.authorize(started.header("location"), {"sub": "attacker", **verified("mallory@example.com")})
    path = {"provider": "oidc", "projectId": "default"}
    query = {"code": code, "state": state}
    assert api("oauth2_callback", query=query, path=path).status == 401  # no flow cookie
    wrong = {"Cookie": "a_oauth2_default=" + "A" * 43}
    assert api("oauth2_callback", query=query, path=path, headers=wrong).status == 401
    assert not [item for item in table_items("EMAIL#") if item["pk"] == "EMAIL#mallory@example.com"]


def test_an_existing_email_is_joined_only_when_verified_on_both_sides(api, idp):
    api.sign_up("nia@example.com")  # a password account: its email unproven
    _, answer = social_sign_in(api, idp, "sub-12", **verified("nia@example.com"))
    assert failure_type(answer) == "user_already_exists"
    _, first = social_sign_in(api, idp, "sub-13", **verified("oz@example.com"))  # a verified account
    owner = api("get_account", session=session_cookie(first)).body["$id"]
    _, unverified = social_sign_in(api, idp, "sub-14", email="oz@example.com", email_verified=False)
    assert failure_type(unverified) == "user_already_exists"
    _, joined = social_sign_in(api, idp, "sub-15", **verified("oz@example.com"))
    assert api("get_account", session=session_cookie(joined)).body["$id"] == owner
