"""JWTs over HTTP (API.md §8): the Python SDK 27 (Users.create_jwt, Client.set_jwt), and verification by a
standard JOSE library that is given nothing but the discovery URL.

Runs against a server of its own, started with a users.write key. Budget: 2 sign-ups, 3 sign-ins."""

import json
from collections.abc import Iterator

import pytest
import requests
from appwrite.client import Client
from appwrite.id import ID
from appwrite.services.account import Account
from appwrite.services.users import Users
from joserfc import jwk, jwt
from joserfc.errors import JoseError

from tests.e2e.helpers import PASSWORD, PROJECT, LocalStack, auth, request, sdk_client, sign_in, unique_email

TIMEOUT = 10


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, str]]:
    """(endpoint, a users.write key) of a local stack of its own."""
    server = LocalStack(["--port", "0", "--api-key", "desk:users.write"])
    try:
        base = server.wait_ready()
        key = next(line for line in server.lines if line.startswith("API key ")).partition(": ")[2]
        yield base, key
    finally:
        server.stop()


def verify_with_discovery_only(discovery_url: str, token: str, audience: str = PROJECT) -> dict:
    """What another team's API does: discovery -> jwks_uri -> keys; then signature, iss, aud, exp."""
    discovery = requests.get(discovery_url, timeout=TIMEOUT).json()
    keys = jwk.KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=TIMEOUT).json())
    decoded = jwt.decode(token, keys, algorithms=discovery["id_token_signing_alg_values_supported"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
    ).validate(decoded.claims)
    return decoded.claims


def account_jwt(base: str, credential: str, duration: int | None = None) -> str:
    body = {} if duration is None else {"duration": duration}
    answer = request("POST", base, "/account/jwts", body, auth(credential))
    assert answer.status_code == 201, answer.text
    return answer.json()["jwt"]


@pytest.fixture(scope="module")
def ada(stack) -> tuple[str, str]:
    """(userId, session credential)."""
    base, _ = stack
    email = unique_email()
    user = Account(sdk_client(base)).create(user_id=ID.unique(), email=email, password=PASSWORD)
    return user.id, sign_in(base, email)


def test_a_token_verifies_with_the_discovery_url_alone(stack, ada):
    base, _ = stack
    user_id, credential = ada
    discovery = requests.get(f"{base}/.well-known/openid-configuration", timeout=TIMEOUT)
    assert discovery.headers["Cache-Control"] == "public, max-age=3600"
    assert discovery.json()["issuer"] == base  # the API's base URL, here http://127.0.0.1:<port>/v1
    claims = verify_with_discovery_only(f"{base}/.well-known/openid-configuration", account_jwt(base, credential))
    assert (claims["sub"], claims["aud"], claims["amr"]) == (user_id, PROJECT, ["password"])
    assert requests.get(f"{base}/.well-known/jwks.json", timeout=TIMEOUT).headers["Cache-Control"] == (
        "public, max-age=300"
    )


def test_tampered_expired_and_foreign_tokens_do_not_verify(stack, ada):
    base, _ = stack
    _, credential = ada
    discovery_url = f"{base}/.well-known/openid-configuration"
    header, payload, signature = account_jwt(base, credential).split(".")
    forged_payload = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    for token, audience in [
        (f"{header}.{forged_payload}.{signature}", PROJECT),  # tampered
        (account_jwt(base, credential, duration=0), PROJECT),  # expired at once
        (f"{header}.{payload}.{signature}", "another-project"),  # wrong audience
    ]:
        with pytest.raises((JoseError, ValueError)):
            verify_with_discovery_only(discovery_url, token, audience)
        if audience == PROJECT:  # the API refuses them too
            assert request("GET", base, "/account", headers={"X-Appwrite-JWT": token}).status_code == 401


def test_python_sdk_users_create_jwt_then_set_jwt(stack, ada):
    base, key = stack
    user_id, credential = ada
    server = Client().set_endpoint(base).set_project(PROJECT).set_key(key)
    token = Users(server).create_jwt(user_id=user_id, duration=60).jwt
    me = Account(Client().set_endpoint(base).set_project(PROJECT).set_jwt(token)).get()
    assert me.id == user_id
    # refused once its session ends
    assert request("DELETE", base, "/account/sessions/current", {}, auth(credential)).status_code == 204
    answer = request("GET", base, "/account", headers={"X-Appwrite-JWT": token})
    assert (answer.status_code, answer.json()["type"]) == (401, "general_unauthorized_scope")


def test_the_example_authorizer_matches_the_served_discovery_document():
    """The template's example authorizer (JwtExampleApi on) against what a local stack with the same
    parameters serves: same issuer, the project as audience, and a minted token passes both checks."""
    from joserfc.jws import extract_compact

    from tests.contract.test_jwt_example import authorizer

    overrides = {"JwtIssuer": "https://id.example.com/v1", "JwtExampleApi": "true"}
    server = LocalStack(["--port", "0", "--parameter-overrides", *(f"{k}={v}" for k, v in overrides.items())])
    try:
        base = server.wait_ready()
        discovery = requests.get(f"{base}/.well-known/openid-configuration", timeout=TIMEOUT).json()
        email = unique_email()
        Account(sdk_client(base)).create(user_id=ID.unique(), email=email, password=PASSWORD)
        token = account_jwt(base, sign_in(base, email))
    finally:
        server.stop()
    config = authorizer(overrides)
    assert config["issuer"] == discovery["issuer"] == "https://id.example.com/v1"
    assert discovery["jwks_uri"] == f"{config['issuer']}/.well-known/jwks.json"
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]  # what every JWT authorizer accepts
    claims = json.loads(extract_compact(token.encode()).payload)
    assert claims["iss"] == config["issuer"] and claims["aud"] in config["audience"]
