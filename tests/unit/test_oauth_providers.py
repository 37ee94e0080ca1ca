"""Provider specifics of social sign-in (services/oauth_providers.py) that the local OIDC provider cannot show:
Apple's hashed nonce, Microsoft's tenant issuer and unverified emails, GitHub's emails, configuration."""

from __future__ import annotations

import hashlib
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from authcore.errors import ApiError
from authcore.services import oauth_providers as op

KEY = RSAKey.generate_key(2048, parameters={"kid": "k"})


def provider_with_keys(monkeypatch, name: str, issuer: str, **env: str) -> op.Provider:
    monkeypatch.setenv(f"OAUTH_{name.upper()}_CLIENT_ID", "client")
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    p = op.configured(name)
    assert p is not None
    metadata = {"issuer": issuer, "jwks_uri": "https://keys.example/jwks"}
    monkeypatch.setattr(op, "metadata", lambda _: metadata)
    monkeypatch.setattr(op, "_cached", lambda url, refresh=False: {"keys": [KEY.as_dict(private=False)]})
    return p


def token(**claims) -> str:
    now = int(time.time())
    return jwt.encode({"alg": "RS256", "kid": "k"}, {"aud": "client", "iat": now, "exp": now + 300, **claims}, KEY)


def test_apple_native_tokens_carry_the_sha256_of_the_raw_nonce_and_must_carry_one(monkeypatch):
    p = provider_with_keys(monkeypatch, "apple", "https://appleid.apple.com")
    raw = "raw-nonce"
    claims = op.verify_id_token(
        p,
        token(iss="https://appleid.apple.com", sub="a", nonce=hashlib.sha256(raw.encode()).hexdigest()),
        "",
        ("client",),
    )
    assert op.native_nonce_matches(p, claims, raw)
    assert not op.native_nonce_matches(p, claims, "another")
    assert not op.native_nonce_matches(p, {"sub": "a"}, raw)  # Apple without a nonce: refused
    assert op.profile_from_claims(p, {"sub": "a", "email": "A@x.example", "email_verified": "true"}).email_verified


def test_google_checks_a_nonce_only_when_the_token_carries_one(monkeypatch):
    p = provider_with_keys(monkeypatch, "google", "https://accounts.google.com")
    assert op.native_nonce_matches(p, {"sub": "g"}, "")
    assert op.native_nonce_matches(p, {"sub": "g", "nonce": "n"}, "n")
    assert not op.native_nonce_matches(p, {"sub": "g", "nonce": "n"}, "")


def test_microsoft_names_the_tenant_in_its_issuer_and_its_emails_are_unverified_unless_it_says_so(monkeypatch):
    p = provider_with_keys(monkeypatch, "microsoft", "https://login.microsoftonline.com/{tenantid}/v2.0")
    tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    claims = op.verify_id_token(
        p, token(iss=f"https://login.microsoftonline.com/{tenant}/v2.0", tid=tenant, sub="m"), "", ("client",)
    )
    with pytest.raises(op.ProviderError):  # another tenant's issuer than the token's tid
        op.verify_id_token(
            p, token(iss="https://login.microsoftonline.com/other/v2.0", tid=tenant, sub="m"), "", ("client",)
        )
    assert not op.profile_from_claims(p, {**claims, "email": "a@corp.example", "email_verified": True}).email_verified
    assert op.profile_from_claims(p, {**claims, "email": "a@corp.example", "xms_edov": True}).email_verified


def test_an_unsigned_or_hmac_token_is_refused(monkeypatch):
    p = provider_with_keys(monkeypatch, "google", "https://accounts.google.com")
    from joserfc.jwk import OctKey

    hmac_token = jwt.encode(
        {"alg": "HS256"}, {"iss": "https://accounts.google.com", "aud": "client", "sub": "x"}, OctKey.generate_key()
    )
    with pytest.raises(op.ProviderError):
        op.verify_id_token(p, hmac_token, "", ("client",))


def test_github_takes_the_primary_email_verified_only_if_github_says_so(monkeypatch):
    monkeypatch.setenv("OAUTH_GITHUB_CLIENT_ID", "client")
    p = op.configured("github")
    answers = {
        "https://api.github.com/user": {"id": 7, "name": "Octo"},
        "https://api.github.com/user/emails": [
            {"email": "x@example.com", "primary": False, "verified": True},
            {"email": "Octo@Example.com", "primary": True, "verified": False},
        ],
    }
    monkeypatch.setattr(op, "_call", lambda url, data=None, headers=None: answers[url])
    profile = op.github_profile(p, "token")
    assert (profile.uid, profile.email, profile.email_verified, profile.name) == (
        "7",
        "octo@example.com",
        False,
        "Octo",
    )


def test_providers_without_configuration_are_disabled_and_unknown_names_invalid(monkeypatch):
    for name in ("google", "apple", "microsoft", "github", "oidc"):
        monkeypatch.delenv(f"OAUTH_{name.upper()}_CLIENT_ID", raising=False)
    with pytest.raises(ApiError) as disabled:
        op.provider("google")
    assert disabled.value.type == "project_provider_disabled"
    with pytest.raises(ApiError) as discord:
        op.provider("discord")  # Appwrite's, not ours
    assert discord.value.type == "project_provider_disabled"
    with pytest.raises(ApiError) as unknown:
        op.provider("../etc")
    assert unknown.value.type == "general_argument_invalid"
    monkeypatch.setenv("OAUTH_OIDC_CLIENT_ID", "client")  # an OIDC client id without an issuer: still disabled
    monkeypatch.delenv("OAUTH_OIDC_ISSUER", raising=False)
    with pytest.raises(ApiError):
        op.provider("oidc")


def test_the_authorization_url_has_pkce_state_and_nonce_and_apple_posts_back(monkeypatch):
    p = provider_with_keys(monkeypatch, "apple", "https://appleid.apple.com")
    monkeypatch.setattr(op, "metadata", lambda _: p.endpoints)
    url = op.authorization_url(p, "https://api.example/cb", "st", "v" * 43, "nc", ["extra"])
    assert url.startswith("https://appleid.apple.com/auth/authorize?")
    for part in ("state=st", "nonce=nc", "code_challenge_method=S256", "response_mode=form_post", "extra"):
        assert part in url


def test_a_native_token_for_a_listed_bundle_id_is_accepted_and_one_for_another_app_is_not(monkeypatch):
    p = provider_with_keys(
        monkeypatch, "apple", "https://appleid.apple.com", OAUTH_APPLE_NATIVE_CLIENT_IDS="com.ex.app"
    )
    assert p.audiences == ("client", "com.ex.app")
    claims = op.verify_id_token(p, token(iss="https://appleid.apple.com", sub="a", aud="com.ex.app"), "", p.audiences)
    assert claims["aud"] == "com.ex.app"
    with pytest.raises(op.ProviderError):
        op.verify_id_token(p, token(iss="https://appleid.apple.com", sub="a", aud="com.other.app"), "", p.audiences)
