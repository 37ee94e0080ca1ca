"""Social sign-in in-process: an OpenID Connect provider answering the handlers' HTTP calls (discovery, keys,
token endpoint) with ID tokens it really signs, so the real verification code runs; and a walk through
every OAuth function for the round-trip and IAM tests. The browser flows against a real provider are in
tests/e2e/test_oauth.py."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from authcore.services import oauth_providers

from .conftest import Answer, Api

ISSUER = "https://idp.example"
CLIENT_ID = "authcore-client"
CLIENT_SECRET = "client-secret-value"  # nosec B105 - a test value
SUCCESS = "http://localhost:3000/welcome"
FAILURE = "http://localhost:3000/sorry"


class FakeIdp:
    """The provider behind `oauth_providers._call`. `next_claims` are what the next code's ID token says;
    `tamper(claims)` may change an issued ID token's claims (a misbehaving or compromised provider)."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.signing_key = self.key  # the key that signs: another one is an impostor (the published one is `key`)
        self.codes: dict[str, dict[str, Any]] = {}
        self.next_claims: dict[str, Any] = {}
        self.tamper: Callable[[dict[str, Any]], None] = lambda claims: None
        self.calls: list[str] = []
        self.issued: list[str] = []  # every code, access token and ID token it handed out (for the log tests)

    def authorize(self, authorization_url: str, claims: dict[str, Any]) -> tuple[str, str]:
        """What the provider does when the user consents: a code for this request. Returns (code, state)."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"query": query, "claims": claims}
        self.issued.append(code)
        return code, query["state"]

    def sign(self, claims: dict[str, Any]) -> str:
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.signing_key)
        self.issued.append(token)
        return token

    def id_token_for(self, sub: str, **extra: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": sub, "iat": now, "exp": now + 300, **extra}
        self.tamper(claims)
        return self.sign(claims)

    def __call__(self, url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
        self.calls.append(url)
        if url == f"{ISSUER}/.well-known/openid-configuration":
            return {
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks",
            }
        if url == f"{ISSUER}/jwks":
            return {"keys": [self.key.as_dict(private=False)]}
        if url == f"{ISSUER}/token":
            assert data is not None
            grant = self.codes.pop(data.get("code", ""), None)
            verifier = data.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if (
                grant is None
                or data.get("client_secret") != CLIENT_SECRET
                or grant["query"]["code_challenge"] != challenge
                or grant["query"]["redirect_uri"] != data.get("redirect_uri")
            ):
                raise oauth_providers.ProviderError("HTTP 400 from idp.example")
            id_token = self.id_token_for(nonce=grant["query"]["nonce"], **grant["claims"])
            access_token = secrets.token_urlsafe(16)
            self.issued.append(access_token)
            return {"access_token": access_token, "token_type": "Bearer", "id_token": id_token}
        raise oauth_providers.ProviderError("HTTP 404 from idp.example")


@pytest.fixture
def idp(monkeypatch, aws_emulation) -> FakeIdp:
    """The generic OIDC provider configured (client id, issuer, secret in Secrets Manager), answered by FakeIdp."""
    fake = FakeIdp()
    monkeypatch.setenv("OAUTH_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("OAUTH_OIDC_ISSUER", ISSUER)
    boto3.client("secretsmanager").put_secret_value(
        SecretId=oauth_providers._env("OAUTH_CLIENT_SECRETS"), SecretString=json.dumps({"oidc": CLIENT_SECRET})
    )
    monkeypatch.setattr(oauth_providers, "_call", fake)
    monkeypatch.setattr(oauth_providers, "_secrets", None)
    monkeypatch.setattr(oauth_providers, "_cache", {})
    return fake


def start(api: Api, function: str = "create_oauth2_session", **query: str) -> Answer:
    return api(function, query={"success": SUCCESS, "failure": FAILURE, **query}, path={"provider": "oidc"})


def callback(api: Api, code: str, state: str, started: Answer) -> Answer:
    """The provider's redirect back, in the browser that `started` the flow (its flow cookie)."""
    binding = set_cookie(started, "a_oauth2_default")
    return api(
        "oauth2_callback",
        query={"code": code, "state": state},
        path={"provider": "oidc", "projectId": "default"},
        headers={"Cookie": f"a_oauth2_default={binding}"},
    )


def social_sign_in(api: Api, idp: FakeIdp, sub: str, function: str = "create_oauth2_session", **claims: Any):
    """Start, consent at the fake provider, come back: (start answer, callback answer)."""
    started = start(api, function)
    assert started.status == 302, started.body
    code, state = idp.authorize(started.header("location"), {"sub": sub, **claims})
    return started, callback(api, code, state, started)


def verified(email: str) -> dict[str, Any]:
    return {"email": email, "email_verified": True}


def walk_oauth(api: Api, idp: FakeIdp, step: Callable[[str, Answer], Answer], key: dict[str, str]) -> None:
    """Every OAuth function along its success path: sign-up by the session flow, the token flow and its
    exchange, a provider account linked by a signed-in caller, a native ID token joining by verified email,
    the identities listed and unlinked, the Users API's identities."""
    started, came_back = social_sign_in(api, idp, "walker", **verified("walker@example.com"))
    step("create_oauth2_session", started)
    step("oauth2_callback", came_back)
    credential = session_cookie(came_back)
    signed_in = {"Cookie": f"a_session_default={credential}"}
    to_app = {"success": SUCCESS}
    started, came_back = social_sign_in(api, idp, "walker", "create_oauth2_token")
    step("create_oauth2_token", started)
    step("oauth2_callback", came_back)
    query = {k: v[0] for k, v in parse_qs(urlsplit(came_back.header("location")).query).items()}
    step("create_session", api("create_session", {"userId": query["userId"], "secret": query["secret"]}))
    linking = api("create_oauth2_session", query=to_app, path={"provider": "oidc"}, headers=signed_in)
    code, state = idp.authorize(step("create_oauth2_session", linking).header("location"), {"sub": "walker-2"})
    step("oauth2_callback", callback(api, code, state, linking))  # a second identity linked to the signed-in walker
    step("create_oauth2_token", api("create_oauth2_token", query=to_app, path={"provider": "oidc"}, headers=signed_in))
    # A native token asserting the walker's verified email: joins the walker's account.
    native = idp.id_token_for("native-user", nonce="n", **verified("walker@example.com"))
    body = {"provider": "oidc", "idToken": native, "nonce": "n"}
    walker = step("create_id_token_session", api("create_id_token_session", body)).credential
    assert api("create_id_token_session", body, session=walker).status == 401  # signed in already
    for n in range(10):  # past the session cap: the oldest session ends in the same write
        again = idp.id_token_for("native-user", nonce="n", jti=str(n), **verified("walker@example.com"))
        latest = step("create_id_token_session", api("create_id_token_session", {**body, "idToken": again}))
    listed = step("list_identities", api("list_identities", session=latest.credential))
    identity_id = listed.body["identities"][0]["$id"]
    step("delete_identity", api("delete_identity", path={"identityId": identity_id}, session=latest.credential))
    everyone = step("users_list_identities", api("users_list_identities", headers=key))
    other_id = everyone.body["identities"][0]["$id"]
    step("users_delete_identity", api("users_delete_identity", path={"identityId": other_id}, headers=key))


def set_cookie(answer: Answer, name: str) -> str:
    """The value of cookie `name` an answer sets ("" when none)."""
    for line in answer.headers.get("set-cookie", []):
        key, _, rest = line.partition("=")
        if key == name:
            return rest.split(";", 1)[0]
    return ""


def session_cookie(answer: Answer) -> str:
    return set_cookie(answer, "a_session_default")
