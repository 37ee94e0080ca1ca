"""The OAuth2 / OpenID Connect providers a deployment serves, and the calls to them.

Authlib builds the authorization URL (with PKCE S256 and the OIDC nonce) and the token request, and
validates ID token claims (iss, aud, exp, iat, nonce, azp, at_hash); joserfc (Authlib's JOSE backend)
checks the token's signature against the provider's published keys. Both are imported on first use,
inside these functions: the other functions' cold starts never load them. HTTP goes through urllib
(the standard library): no client library in the layer for a few form POSTs and JSON GETs.

Client ids are template parameters (environment); client secrets live in one Secrets Manager secret,
a JSON object keyed by provider name (Apple's value is the PEM of its signing key, from which each
token request signs a short client secret).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from authcore.errors import ApiError
from authcore.observability import logger

HTTP_TIMEOUT_SECONDS = 5
KEYS_CACHE_SECONDS = 3600
LEEWAY_SECONDS = 60
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
MAX_RESPONSE_BYTES = 1024 * 1024

# Appwrite's provider names (its OAuthProvider enum): those we do not serve answer "provider disabled", as
# Appwrite does for a provider not enabled; anything else is no provider at all (400).
_APPWRITE_NAMES = (
    "amazon apple appwrite auth0 authentik autodesk bitbucket bitly box cloudflare dailymotion discord disqus "
    "dropbox etsy facebook figma fusionauth github gitlab google huggingface kakao keycloak kick linkedin "
    "microsoft notion oidc okta paypal paypalSandbox podio resend salesforce slack spotify stripe tiktok "
    "tradeshift tradeshiftBox twitch webflow wordpress x yahoo yammer yandex zoho zoom"
)
APPWRITE_PROVIDERS = frozenset(_APPWRITE_NAMES.split())
SERVED = ("google", "apple", "microsoft", "github", "oidc")
# Appwrite's IdTokenProvider enum, and (ours) the generic OIDC provider: an enterprise's native app signs in
# with its IdP's ID token the same way.
ID_TOKEN_PROVIDERS = ("apple", "google", "oidc")


@dataclass(frozen=True)
class Provider:
    """One configured provider. `discovery`: its OpenID configuration URL (OIDC providers), or the fixed
    endpoints for Apple and GitHub."""

    name: str
    client_id: str
    scopes: tuple[str, ...]
    discovery: str = ""
    endpoints: dict[str, str] = field(default_factory=dict)
    native_client_ids: tuple[str, ...] = ()  # more audiences accepted for native ID tokens (Apple bundle ids…)

    @property
    def oidc(self) -> bool:
        return self.name != "github"

    @property
    def audiences(self) -> tuple[str, ...]:
        return (self.client_id, *self.native_client_ids)


@dataclass(frozen=True)
class Profile:
    """Who the provider says signed in. `email_verified`: the provider asserts it controls `email`."""

    uid: str
    email: str
    email_verified: bool
    name: str


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _ids(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _env(name).split(",") if part.strip())


def configured(name: str) -> Provider | None:
    """The provider's configuration, or None when its client id is not set."""
    prefix = f"OAUTH_{name.upper()}_"
    client_id = _env(prefix + "CLIENT_ID")
    if not client_id:
        return None
    natives = _ids(prefix + "NATIVE_CLIENT_IDS")
    if name == "google":
        discovery = "https://accounts.google.com/.well-known/openid-configuration"
        return Provider(name, client_id, ("openid", "email", "profile"), discovery, native_client_ids=natives)
    if name == "microsoft":
        tenant = _env(prefix + "TENANT") or "common"
        discovery = f"https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
        return Provider(name, client_id, ("openid", "email", "profile"), discovery)
    if name == "apple":
        endpoints = {
            "authorization_endpoint": "https://appleid.apple.com/auth/authorize",
            "token_endpoint": "https://appleid.apple.com/auth/token",  # nosec B105 - a URL
            "jwks_uri": "https://appleid.apple.com/auth/keys",
            "issuer": "https://appleid.apple.com",
        }
        return Provider(name, client_id, ("openid", "name", "email"), endpoints=endpoints, native_client_ids=natives)
    if name == "github":
        # GitHub Enterprise Server has its own hosts: both are parameters (github.com by default).
        web = (_env(prefix + "URL") or "https://github.com").rstrip("/")
        api = (_env(prefix + "API_URL") or "https://api.github.com").rstrip("/")
        endpoints = {
            "authorization_endpoint": f"{web}/login/oauth/authorize",
            "token_endpoint": f"{web}/login/oauth/access_token",
            "api": api,
        }
        return Provider(name, client_id, ("read:user", "user:email"), endpoints=endpoints)
    if name == "oidc":
        issuer = _env(prefix + "ISSUER").rstrip("/")
        if not issuer:
            return None
        discovery = f"{issuer}/.well-known/openid-configuration"
        return Provider(name, client_id, ("openid", "email", "profile"), discovery, native_client_ids=natives)
    return None


def provider(name: str) -> Provider:
    """The configured provider `name`: 412 project_provider_disabled when it is not configured (or not
    one we serve), 400 for a name that is no provider at all."""
    if name not in APPWRITE_PROVIDERS:
        raise ApiError("general_argument_invalid", "Invalid `provider` param: unknown OAuth2 provider.")
    found = configured(name) if name in SERVED else None
    if found is None:
        raise ApiError("project_provider_disabled")
    return found


# --- HTTP ----------------------------------------------------------------------------------------


class ProviderError(Exception):
    """The provider refused or failed a call (the reason is for logs: never a token or secret)."""


def _call(url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
    """GET (or POST a form) and parse the JSON answer."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    if not url.startswith(("https://", "http://")):
        raise ProviderError("not an http(s) URL")
    headers = {"Accept": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - http(s) only, checked above
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            raw = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise ProviderError(f"HTTP {error.code} from {urllib.parse.urlsplit(url).netloc}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise ProviderError(f"no answer from {urllib.parse.urlsplit(url).netloc}: {type(error).__name__}") from None
    if len(raw) > MAX_RESPONSE_BYTES:
        raise ProviderError("answer too large")
    try:
        return json.loads(raw)
    except ValueError:
        raise ProviderError("answer is not JSON") from None


_cache: dict[str, tuple[float, Any]] = {}


def _cached(url: str, refresh: bool = False) -> Any:
    """A discovery document or key set, kept an hour per container (refetched on demand for a new key)."""
    hit = _cache.get(url)
    if hit and not refresh and hit[0] > time.monotonic():
        return hit[1]
    value = _call(url)
    _cache[url] = (time.monotonic() + KEYS_CACHE_SECONDS, value)
    return value


def metadata(p: Provider) -> dict[str, Any]:
    return _cached(p.discovery) if p.discovery else p.endpoints


# --- secrets -------------------------------------------------------------------------------------

_secrets: dict[str, str] | None = None


def client_secret(p: Provider) -> str:
    """The provider's client secret from Secrets Manager (read once per container); Apple's is a fresh
    ES256 JWT signed with its key. A provider without a secret is disabled."""
    global _secrets
    if _secrets is None:
        from botocore.config import Config

        from authcore import awsclient

        secret_id = _env("OAUTH_CLIENT_SECRETS")
        secrets = awsclient.create("secretsmanager", Config()) if secret_id else None
        value = secrets.get_secret_value(SecretId=secret_id)["SecretString"] if secrets else ""
        parsed = json.loads(value or "{}")
        _secrets = {k: v for k, v in parsed.items() if isinstance(v, str)} if isinstance(parsed, dict) else {}
    value = _secrets.get(p.name, "")
    if not value:
        raise ApiError("project_provider_disabled")
    return _apple_client_secret(p, value) if p.name == "apple" else value


def _apple_client_secret(p: Provider, pem: str) -> str:
    from joserfc import jwt
    from joserfc.jwk import ECKey

    now = int(time.time())
    claims = {"iss": _env("OAUTH_APPLE_TEAM_ID"), "iat": now, "exp": now + 300, "aud": "https://appleid.apple.com"}
    claims["sub"] = p.client_id
    header = {"alg": "ES256", "kid": _env("OAUTH_APPLE_KEY_ID")}
    return jwt.encode(header, claims, ECKey.import_key(pem))


# --- the flow ------------------------------------------------------------------------------------


def authorization_url(
    p: Provider, redirect_uri: str, state: str, code_verifier: str, nonce: str, scopes: list[str]
) -> str:
    """Where the browser goes: the authorization endpoint with state, PKCE (S256) and, for OIDC, the nonce."""
    from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    extra: dict[str, str] = {}
    if p.oidc:
        extra["nonce"] = nonce
    if p.name == "apple":
        extra["response_mode"] = "form_post"  # Apple posts the code back when name or email is asked for
    return prepare_grant_uri(
        metadata(p)["authorization_endpoint"],
        p.client_id,
        "code",
        redirect_uri=redirect_uri,
        scope=list(dict.fromkeys([*p.scopes, *scopes])),
        state=state,
        code_challenge=create_s256_code_challenge(code_verifier),
        code_challenge_method="S256",
        **extra,
    )


def exchange_code(p: Provider, code: str, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
    """The token response for an authorization code (client_secret_post: every served provider takes it)."""
    from authlib.oauth2.rfc6749.parameters import prepare_token_request

    body = prepare_token_request(
        "authorization_code",
        redirect_uri=redirect_uri,
        code=code,
        code_verifier=code_verifier,
        client_id=p.client_id,
        client_secret=client_secret(p),
    )
    tokens = _call(metadata(p)["token_endpoint"], dict(urllib.parse.parse_qsl(body)))
    if not isinstance(tokens, dict) or "error" in tokens or not tokens.get("access_token"):
        raise ProviderError(
            f"token endpoint refused the code: {tokens.get('error', '?') if isinstance(tokens, dict) else '?'}"
        )
    return tokens


def _key_set(p: Provider, refresh: bool = False) -> Any:
    from joserfc.jwk import KeySet

    return KeySet.import_key_set(_cached(metadata(p)["jwks_uri"], refresh))


def _issuer_matches(p: Provider, issuer: str, claims: dict[str, Any]) -> bool:
    expected = metadata(p)["issuer"]
    if p.name == "microsoft":  # the common endpoints name the tenant in each token
        expected = expected.replace("{tenantid}", str(claims.get("tid", "")))
    if p.name == "google":
        return issuer in ("https://accounts.google.com", "accounts.google.com")
    return issuer == expected


def _our_party(claims: dict[str, Any], audiences: tuple[str, ...]) -> str:
    """Which of our client ids the token is for: its `azp`, else the audience of ours it names (a native
    app's token names its bundle or platform client id)."""
    aud = claims.get("aud")
    named = [aud] if isinstance(aud, str) else [a for a in aud or () if isinstance(a, str)]
    return str(claims.get("azp") or next((a for a in named if a in audiences), audiences[0]))


def verify_id_token(  # nosec B107 - access_token '' means no access token to check
    p: Provider, id_token: str, nonce: str, audiences: tuple[str, ...], access_token: str = ""
) -> dict[str, Any]:
    """The claims of an ID token whose signature (the provider's published keys), issuer, audience, expiry
    and nonce hold; ProviderError otherwise. `nonce` "" skips the nonce check (a native token without one)."""
    from authlib.oidc.core import CodeIDToken
    from joserfc import jwt
    from joserfc.errors import JoseError

    try:
        try:
            token = jwt.decode(id_token, _key_set(p), algorithms=list(ID_TOKEN_ALGORITHMS))
        except JoseError:  # perhaps a key published since the set was cached
            token = jwt.decode(id_token, _key_set(p, refresh=True), algorithms=list(ID_TOKEN_ALGORITHMS))
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={"aud": {"essential": True, "values": list(audiences)}},
            params={"nonce": nonce, "client_id": _our_party(token.claims, audiences), "access_token": access_token},
        )
        claims.validate(leeway=LEEWAY_SECONDS)
        if "azp" in claims and claims["azp"] not in audiences:
            raise ProviderError("ID token for another party (azp)")
    except (JoseError, ValueError) as error:
        raise ProviderError(f"ID token refused: {type(error).__name__}") from None
    if not _issuer_matches(p, str(claims.get("iss", "")), claims):
        raise ProviderError("ID token from another issuer")
    return dict(claims)


def _truthy(value: Any) -> bool:
    return value is True or value == "true"  # Apple sends "true"


def profile_from_claims(p: Provider, claims: dict[str, Any]) -> Profile:
    """Who the ID token names. Microsoft does not verify the addresses it puts in `email` unless it says so
    (`xms_edov`): only then is its email taken as verified."""
    email = str(claims.get("email") or "").strip().lower()
    verified = _truthy(claims.get("xms_edov")) if p.name == "microsoft" else _truthy(claims.get("email_verified"))
    return Profile(str(claims["sub"]), email, bool(email) and verified, str(claims.get("name") or "")[:128])


def github_profile(p: Provider, access_token: str) -> Profile:
    """GitHub's user and its primary email, verified only if GitHub says so."""
    headers = {"Authorization": f"Bearer {access_token}", "X-GitHub-Api-Version": "2022-11-28"}
    user = _call(f"{p.endpoints['api']}/user", headers=headers)
    emails = _call(f"{p.endpoints['api']}/user/emails", headers=headers)
    if not isinstance(user, dict) or "id" not in user or not isinstance(emails, list):
        raise ProviderError("unexpected GitHub user answer")
    primary = next((e for e in emails if isinstance(e, dict) and e.get("primary")), {})
    email = str(primary.get("email") or "").strip().lower()
    return Profile(
        str(user["id"]), email, bool(email) and primary.get("verified") is True, str(user.get("name") or "")[:128]
    )


def fetch_profile(p: Provider, tokens: dict[str, Any], nonce: str) -> Profile:
    """Who signed in, from the token response: the verified ID token (OIDC) or GitHub's user API."""
    if not p.oidc:
        return github_profile(p, str(tokens["access_token"]))
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise ProviderError("no ID token in the token response")
    return profile_from_claims(p, verify_id_token(p, id_token, nonce, (p.client_id,), str(tokens["access_token"])))


def native_nonce_matches(p: Provider, claims: dict[str, Any], raw_nonce: str) -> bool:
    """A native ID token's nonce: Apple's SDKs carry SHA-256(raw) hex, others the raw value. Apple's tokens
    must carry one; others are checked whenever the token carries one (Appwrite's rule)."""
    claim = claims.get("nonce")
    if claim is None:
        return p.name != "apple"
    expected = hashlib.sha256(raw_nonce.encode()).hexdigest() if p.name == "apple" else raw_nonce
    return bool(raw_nonce) and claim == expected


def log_refusal(p: Provider, error: ProviderError) -> None:
    logger.warning("oauth2 provider refusal", extra={"provider": p.name, "reason": str(error)})
