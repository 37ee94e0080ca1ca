"""JWTs (API.md §8): minting, the published keys, and the JWT as a credential on every session route."""

import json

import pytest
from joserfc import jwk, jwt

from authcore.security.tokens import decode_credential, digest
from authcore.services import jwts
from authcore.store import users as users_store
from authcore.store.table import client, marshal, session_key, table_name

from .admin_fixtures import key_headers
from .conftest import PASSWORD
from .test_mfa_gate import GATED

ISSUER = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1"  # the events' Host and stage


@pytest.fixture
def ada(api):
    api.sign_up()
    return api.session_for()


def create_jwt(api, credential, body=None):
    return api("create_jwt", {} if body is None else body, session=credential)


def token_of(api, credential, body=None) -> str:
    answer = create_jwt(api, credential, body)
    assert answer.status == 201, answer.body
    return answer.body["jwt"]


def published_key_set() -> jwk.KeySet:
    return jwk.KeySet.import_key_set(jwts.key_set())


def claims_of(token: str) -> dict:
    return jwt.decode(token, published_key_set(), algorithms=["RS256"]).claims


def with_jwt(token: str) -> dict[str, str]:
    return {"X-Appwrite-JWT": token}


def set_factors(credential: str, factors: list[str]) -> None:
    user_id, secret = decode_credential(credential)
    client().update_item(
        TableName=table_name(),
        Key=marshal(session_key(user_id, digest(secret))),
        UpdateExpression="SET factors = :f",
        ExpressionAttributeValues=marshal({":f": factors}),
    )


def test_a_jwt_names_the_user_session_and_factors(api, ada, user_id_of):
    token = token_of(api, ada, {"duration": 600})
    header = jwt.decode(token, published_key_set()).header
    claims = claims_of(token)
    session = api("get_session", session=ada, path={"sessionId": "current"}).body
    assert header["alg"] == "RS256" and header["kid"] == published_key_set().keys[0].kid
    assert claims == {
        "iss": ISSUER,
        "aud": "default",
        "sub": user_id_of(ada),
        "sid": session["$id"],
        "amr": ["password"],
        "iat": claims["iat"],
        "exp": claims["iat"] + 600,
    }


def test_default_duration_and_its_bounds(api, ada):
    claims = claims_of(token_of(api, ada))
    assert claims["exp"] - claims["iat"] == 900
    assert claims_of(token_of(api, ada, {"duration": 3600}))["exp"] - claims["iat"] >= 3600
    for wrong in (-1, 3601, "900"):
        answer = create_jwt(api, ada, {"duration": wrong})
        assert (answer.status, answer.body["type"]) == (400, "general_argument_invalid"), wrong


def test_amr_lists_passed_factors_and_mfa(api, ada):
    set_factors(ada, ["password", "totp"])
    assert claims_of(token_of(api, ada))["amr"] == ["password", "totp", "mfa"]


def test_no_jwt_for_a_session_short_of_the_gate(api, ada, user_id_of):
    users_store.update_user(user_id_of(ada), {"mfa": True, "emailVerification": True})
    answer = create_jwt(api, ada)
    assert (answer.status, answer.body["type"]) == (401, "user_more_factors_required")


def test_no_jwt_without_a_session(api):
    assert create_jwt(api, None).status == 401


@pytest.mark.parametrize(("name", "body", "path"), GATED)
def test_every_session_route_takes_a_jwt(api, ada, name, body, path):
    token = token_of(api, ada)
    answer = api(name, body, headers=with_jwt(token), path=path)
    assert answer.status < 300, answer.body


def test_nuvix_header_and_what_the_jwt_names(api, ada, user_id_of):
    token = token_of(api, ada)
    account = api("get_account", headers={"X-Nuvix-JWT": token})
    assert (account.status, account.body["$id"]) == (200, user_id_of(ada))
    sessions = api("list_sessions", headers=with_jwt(token)).body["sessions"]
    assert [s["current"] for s in sessions] == [True]  # the JWT's session is the current one


def test_a_jwt_cannot_mint_another(api, ada):
    token = token_of(api, ada)
    answer = api("create_jwt", {}, headers=with_jwt(token))
    assert (answer.status, answer.body["type"]) == (401, "general_unauthorized_scope")


def test_refused_once_the_session_ends(api, ada):
    token = token_of(api, ada)
    assert api("delete_session", session=ada, path={"sessionId": "current"}).status == 204
    answer = api("get_account", headers=with_jwt(token))
    assert (answer.status, answer.body["type"]) == (401, "general_unauthorized_scope")


def test_refused_for_a_blocked_or_deleted_user(api, ada, user_id_of):
    token = token_of(api, ada)
    users_store.update_user(user_id_of(ada), {"status": False})
    assert api("get_account", headers=with_jwt(token)).body["type"] == "user_blocked"
    headers = key_headers()
    assert api("users_delete", path={"userId": user_id_of(ada)}, headers=headers).status == 204
    assert api("get_account", headers=with_jwt(token)).body["type"] == "general_unauthorized_scope"


def _unsigned(payload: str) -> str:
    from joserfc.util import urlsafe_b64encode

    return f"eyJhbGciOiJSUzI1NiJ9.{urlsafe_b64encode(payload.encode()).decode()}.c2ln"


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "x",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.e30.",
        "é.ü.ß",
        _unsigned('{"sub": "\\ud800", "sid": "s"}'),  # a lone surrogate: no key to read (API.md §7)
        _unsigned('{"sub": "' + "u" * 37 + '", "sid": "s"}'),
        _unsigned('{"sub": 5, "sid": "s"}'),
        _unsigned("[]"),
    ],
)
def test_junk_is_an_invalid_jwt(api, dynamo_calls, junk):
    answer = api("get_account", headers=with_jwt(junk))
    expected = "user_jwt_invalid" if junk else "general_unauthorized_scope"  # an empty header is no credential
    assert (answer.status, answer.body["type"]) == (401, expected)
    assert dynamo_calls.operations == []  # refused before any read: no key is built from junk


def test_tampered_expired_foreign_tokens_are_invalid(api, ada, environment):
    token = token_of(api, ada)
    header, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert api("get_account", headers=with_jwt(f"{header}.{payload}.{flipped}")).body["type"] == "user_jwt_invalid"
    expired = token_of(api, ada, {"duration": 0})
    assert api("get_account", headers=with_jwt(expired)).body["type"] == "user_jwt_invalid"
    environment("PROJECT_ID", "other")  # the same token, to a deployment of another project
    assert api("get_account", headers={**with_jwt(token), "X-Appwrite-Project": "other"}).body["type"] == (
        "user_jwt_invalid"
    )


def test_a_token_of_another_issuer_is_refused(api, ada, environment):
    environment("JWT_ISSUER", "https://auth.example.com/v1")
    token = token_of(api, ada)
    assert api("get_account", headers=with_jwt(token)).status == 200
    environment("JWT_ISSUER", "")  # the API's own URL now: the token names another issuer
    assert api("get_account", headers=with_jwt(token)).body["type"] == "user_jwt_invalid"


def verifies_via_discovery(api, token: str) -> bool:
    """A JOSE library given the discovery document and the JWKS the handlers serve (issuer, keys, alg)."""
    from joserfc.errors import JoseError

    discovery = api("get_openid_configuration").body
    keys = jwk.KeySet.import_key_set(api("get_jwks").body)
    try:
        claims = jwt.decode(token, keys, algorithms=discovery["id_token_signing_alg_values_supported"]).claims
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": discovery["issuer"]}).validate(claims)
    except (JoseError, ValueError):
        return False
    return True


def test_rotation_keeps_old_tokens_until_retired(api, ada, environment):
    old_token = token_of(api, ada)
    old_kid = published_key_set().keys[0].kid
    new_key = client_kms().create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    environment("JWT_SIGNING_KEY", new_key)
    jwts._signer = None  # a fresh container after the deploy
    new_token = token_of(api, ada)
    assert {k.kid for k in published_key_set().keys} == {
        old_kid,
        jwt.decode(new_token, published_key_set()).header["kid"],
    }
    for token in (old_token, new_token):
        assert api("get_account", headers=with_jwt(token)).status == 200
        assert verifies_via_discovery(api, token)
    jwts.retire_key(old_kid, at_once=True)  # a compromise: dropped at once
    assert [k.kid for k in published_key_set().keys] != [old_kid]
    assert api("get_account", headers=with_jwt(old_token)).body["type"] == "user_jwt_invalid"
    assert not verifies_via_discovery(api, old_token)  # rotated out: elsewhere too
    assert api("get_account", headers=with_jwt(new_token)).status == 200
    assert verifies_via_discovery(api, new_token)


def test_a_retired_key_stays_published_while_its_tokens_live(ada, api):
    token_of(api, ada)
    kid = published_key_set().keys[0].kid
    jwts.retire_key(kid)
    assert [k.kid for k in published_key_set().keys] == [kid]


def client_kms():
    from authcore.security.kms import kms_client

    return kms_client()


# --- the Users API -------------------------------------------------------------------------------


def users_jwt(api, user_id, body=None, scopes=("users.write",)):
    return api("users_create_jwt", {} if body is None else body, path={"userId": user_id}, headers=key_headers(*scopes))


def test_users_jwt_names_the_most_recent_complete_session(api, ada, user_id_of):
    user_id = user_id_of(ada)
    second = api.session_for()
    answer = users_jwt(api, user_id)
    assert answer.status == 201, answer.body
    sid = claims_of(answer.body["jwt"])["sid"]
    assert sid == api("get_session", session=second, path={"sessionId": "current"}).body["$id"]
    named = api("get_session", session=ada, path={"sessionId": "current"}).body["$id"]
    assert claims_of(users_jwt(api, user_id, {"sessionId": named, "duration": 60}).body["jwt"])["sid"] == named
    assert claims_of(users_jwt(api, user_id, {"sessionId": "recent()"}).body["jwt"])["sid"] == sid


def test_users_jwt_refusals(api, ada, user_id_of):
    user_id = user_id_of(ada)
    assert users_jwt(api, user_id, scopes=("users.read",)).status == 401
    assert users_jwt(api, "nobody").body["type"] == "user_not_found"
    assert users_jwt(api, user_id, {"sessionId": "nope"}).body["type"] == "user_session_not_found"
    named = api("get_session", session=ada, path={"sessionId": "current"}).body["$id"]
    users_store.update_user(user_id, {"mfa": True, "emailVerification": True})  # every session is short now
    assert users_jwt(api, user_id).body["type"] == "user_session_not_found"
    assert users_jwt(api, user_id, {"sessionId": named}).body["type"] == "user_more_factors_required"
    assert api("get_session", session=ada, path={"sessionId": "current"}).status == 401
    users_store.update_user(user_id, {"mfa": False, "status": False})
    assert users_jwt(api, user_id).body["type"] == "user_blocked"


def test_users_jwt_works_with_the_python_sdk_flow(api, ada, user_id_of):
    """Client.set_jwt then account.get: the server-made token is a credential of the user."""
    token = users_jwt(api, user_id_of(ada)).body["jwt"]
    account = api("get_account", headers=with_jwt(token))
    assert account.status == 200 and account.body["email"] == "ada@example.com"
    assert PASSWORD not in json.dumps(account.body)


# --- discovery and keys --------------------------------------------------------------------------


def test_discovery_and_jwks_are_public_and_cacheable(api, ada):
    discovery = api("get_openid_configuration")
    assert discovery.status == 200
    assert discovery.body["issuer"] == ISSUER
    assert discovery.body["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert discovery.header("Cache-Control") == "public, max-age=3600"
    assert api("get_jwks").body == {"keys": []}  # nothing signed yet
    token_of(api, ada)
    keys = api("get_jwks")
    assert keys.header("Cache-Control") == "public, max-age=300"
    [key] = keys.body["keys"]
    assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}  # the public half only


def test_the_configured_issuer_wins(api, ada, environment):
    environment("JWT_ISSUER", "https://auth.example.com/v1")
    assert api("get_openid_configuration").body["issuer"] == "https://auth.example.com/v1"
    assert claims_of(token_of(api, ada))["iss"] == "https://auth.example.com/v1"


def test_admin_cli_publishes_ahead_and_retires(api, ada, capsys, environment):
    """The rotation runbook (docs/operations.md) with python -m admin.jwt_keys."""
    from admin import jwt_keys

    table = table_name()
    old_token = token_of(api, ada)
    new_key = client_kms().create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    assert jwt_keys.main(["publish", "--table", table, "--key", new_key]) == 0
    assert len(published_key_set().keys) == 2  # published before it signs
    environment("JWT_SIGNING_KEY", new_key)
    jwts._signer = None
    new_token = token_of(api, ada)
    old_kid = jwt.decode(old_token, published_key_set()).header["kid"]
    assert jwt_keys.main(["retire", "--table", table, old_kid]) == 0
    assert api("get_account", headers=with_jwt(old_token)).status == 200  # until it expires
    assert jwt_keys.main(["retire", "--table", table, old_kid, "--now"]) == 0
    assert api("get_account", headers=with_jwt(old_token)).body["type"] == "user_jwt_invalid"
    assert api("get_account", headers=with_jwt(new_token)).status == 200
    assert jwt_keys.main(["retire", "--table", table, "nope"]) == 1
    assert jwt_keys.main(["list", "--table", table]) == 0
    listing = capsys.readouterr().out
    assert f"{old_kid}" in listing and "withdrawn" in listing and "published" in listing


def test_a_retired_signing_key_signs_nothing(api, ada):
    token_of(api, ada)
    jwts.retire_key(published_key_set().keys[0].kid, at_once=True)
    jwts._signer = None
    assert create_jwt(api, ada).status == 500
