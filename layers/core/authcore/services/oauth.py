"""Social sign-in (Appwrite's OAuth2 contract): the browser flows, native ID tokens and identities.

Browser flow: `GET /account/sessions/oauth2/{provider}` (or `/account/tokens/oauth2/{provider}`) stores
a single-use state (keyed hash, 10 minutes) with the PKCE verifier and nonce, and redirects to the
provider; the provider's callback takes the state once, exchanges the code, learns who signed in (a
verified ID token, or GitHub's user API) and redirects to `success` with a session cookie (session flow)
or with `userId` and `secret` (token flow, exchanged by `POST /account/sessions/token`).

Linking: a provider account is tied to one user by its identity. A first sign-in joins an existing
account only when the provider asserts a verified email equal to the account's verified email;
otherwise an existing email is refused (`user_already_exists`), never silently merged.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from authcore import observability
from authcore.clock import iso, now_ms
from authcore.config import settings
from authcore.errors import ApiError, invalid_param
from authcore.ids import unique_id
from authcore.models.caller import Caller
from authcore.models.responses import Identity, IdentityList
from authcore.security.codes import keyed_hash, new_link_secret_and_hash
from authcore.security.tokens import digest
from authcore.services import limits
from authcore.services.accounts import new_user
from authcore.services.auth import Principal, find_session
from authcore.services.factors import needs_more_factors, require_recent_sign_in
from authcore.services.oauth_providers import (
    ID_TOKEN_PROVIDERS,
    Profile,
    Provider,
    ProviderError,
    authorization_url,
    exchange_code,
    fetch_profile,
    log_refusal,
    native_nonce_matches,
    profile_from_claims,
    provider,
    verify_id_token,
)
from authcore.services.sessions import NewSession, sign_in, start_session
from authcore.store import oauth as oauth_store
from authcore.store import users as users_store
from authcore.store.errors import ConflictError

STATE_LIFETIME_MS = 10 * 60 * 1000
TOKEN_LIFETIME_MS = 5 * 60 * 1000
FACTOR = "oauth2"  # what a social sign-in adds to the session's factors
MAX_SCOPES = 100
SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,256}$")  # RFC 6749 scope-token, bounded
APP_STATE = re.compile(r"^[\x20-\x7e]{1,256}$")  # the app's own opaque state, echoed back (printable ASCII)
SESSION_FLOW, TOKEN_FLOW = "session", "token"
LINK_ATTEMPTS = 3


def _redirect_target(value: str | None, error_type: str) -> str:
    """`success`/`failure`: "" when absent, else an absolute http(s) URL on an allowed app origin (no open
    redirect); 400 project_invalid_success_url / project_invalid_failure_url otherwise."""
    if value is None or value == "":
        return ""
    parts = urlsplit(value)
    if (
        len(value) > 2048
        or any(c.isspace() or not c.isprintable() for c in value)
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or not settings().origin_allowed(f"{parts.scheme}://{parts.netloc}")
    ):
        raise ApiError(error_type)
    return value


def _scopes(scopes: list[str]) -> list[str]:
    if len(scopes) > MAX_SCOPES or not all(SCOPE.fullmatch(s) for s in scopes):
        raise invalid_param("scopes", "at most 100 scopes of printable characters without spaces.")
    return scopes


def _state_hash(state: str) -> str:
    return keyed_hash("oauth2-state", state)


def start(
    provider_name: str,
    flow: str,
    callback_base: str,
    caller: Caller,
    success: str | None,
    failure: str | None,
    scopes: list[str],
    app_state: str | None = None,
) -> tuple[str, str]:
    """Begin a browser flow: the provider's authorization URL to redirect to, and the binding for the
    browser's flow cookie (the callback must come back in the browser that started the flow).

    A caller with a live, complete session links the provider account to itself instead of signing in
    someone else (Appwrite: the identity is attached to the logged-in account)."""
    p = provider(provider_name)
    success_url = _redirect_target(success, "project_invalid_success_url")
    failure_url = _redirect_target(failure, "project_invalid_failure_url")
    if flow == TOKEN_FLOW and not success_url:
        raise ApiError("project_invalid_success_url")  # the token has nowhere else to go
    if app_state is not None and not APP_STATE.fullmatch(app_state):
        raise invalid_param("state", "printable ASCII, at most 256 characters.")
    limits.enforce("oauth2-start", caller.ip, limit=60)
    link_user = ""
    principal = find_session(caller.credential) if caller.credential else None
    if principal and not needs_more_factors(principal.user, principal.session):
        # Linking adds a way to sign in: as for a passkey, only a session that signed in (or stepped up)
        # recently may, so a stolen session cannot attach its thief's provider account.
        require_recent_sign_in(principal.session, now_ms())
        link_user = principal.user["userId"]
    state, verifier, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(48), secrets.token_urlsafe(32)
    binding = secrets.token_urlsafe(32)
    redirect_uri = callback_url(callback_base, p.name)
    url = authorization_url(p, redirect_uri, state, verifier, nonce, _scopes(scopes))
    now = now_ms()
    oauth_store.put_state(
        _state_hash(state),
        {
            "kind": "oauth2State",
            "provider": p.name,
            "flow": flow,
            "success": success_url,
            "failure": failure_url,
            "appState": app_state or "",
            "codeVerifier": verifier,
            "nonce": nonce,
            "redirectUri": redirect_uri,
            "linkUserId": link_user,
            "binding": digest(binding),
            "createdAt": now,
            "expire": now + STATE_LIFETIME_MS,
            "ttl": (now + STATE_LIFETIME_MS) // 1000,
        },
    )
    return url, binding


def callback_url(base: str, provider_name: str) -> str:
    """The redirect URI to register with the provider (Appwrite's path)."""
    return f"{base}/account/sessions/oauth2/callback/{provider_name}/{settings().project_id}"


@dataclass(frozen=True)
class Outcome:
    """Where the callback sends the browser, and the session whose cookies go with it (session flow)."""

    location: str
    session: NewSession | None = None
    error: ApiError | None = None  # no failure URL to redirect to: answer this error


def _with_query(url: str, params: dict[str, str]) -> str:
    params = {k: v for k, v in params.items() if v}
    if not params:
        return url
    base, _, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"
    return f"{joined}#{fragment}" if fragment else joined


def _failed(started: dict[str, Any], error: ApiError) -> Outcome:
    """Appwrite's failure redirect: `failure?error=<JSON of the error>` (and the app's state)."""
    observability.count("SignInFailed", method="oauth2")
    if not started.get("failure"):
        return Outcome("", error=error)
    body = {"message": error.message, "code": error.status, "type": error.type}
    return Outcome(_with_query(started["failure"], {"error": json.dumps(body), "state": started.get("appState", "")}))


def callback(provider_name: str, params: dict[str, str], binding: str, caller: Caller) -> Outcome:
    """The provider sent the browser back: finish the flow the state names (once), in the browser that
    started it (`binding`, from its flow cookie)."""
    p = provider(provider_name)
    state = params.get("state", "")
    if not state or len(state) > 512 or not binding or len(binding) > 64:
        raise ApiError("user_invalid_token")
    started = oauth_store.take_state(_state_hash(state), now_ms())
    if started is None or started["provider"] != p.name:
        raise ApiError("user_invalid_token")  # unknown, used, expired or another provider's state
    if not hmac.compare_digest(started["binding"], digest(binding)):
        raise ApiError("user_invalid_token")  # another browser: a replayed callback URL (login CSRF)
    if params.get("error"):
        reason = re.sub(r"[^a-z_]", "", params["error"].lower())[:64]
        return _failed(started, ApiError("user_oauth2_provider_error", f"The provider answered: {reason}."))
    code = params.get("code", "")
    if not code or len(code) > 4096:
        return _failed(started, ApiError("user_oauth2_provider_error", "The provider sent no code."))
    try:
        tokens = exchange_code(p, code, started["redirectUri"], started["codeVerifier"])
        profile = fetch_profile(p, tokens, started["nonce"])
    except ProviderError as refusal:
        log_refusal(p, refusal)
        return _failed(started, ApiError("user_oauth2_provider_error"))
    try:
        user, identity_id = user_for(p, profile, started.get("linkUserId", ""))
        if started["flow"] == TOKEN_FLOW:
            secret = _issue_token(user, p, profile, identity_id)
            params_out = {"userId": user["userId"], "secret": secret, "state": started.get("appState", "")}
            observability.count("SignInSucceeded", method="oauth2")
            return Outcome(_with_query(started["success"], params_out) if started["success"] else "", error=None)
        new = start_session(user, caller, p.name, [FACTOR], provider_uid=profile.uid)
    except ApiError as error:
        return _failed(started, error)
    observability.count("SignInSucceeded", method="oauth2")
    return Outcome(_with_query(started["success"], {"state": started.get("appState", "")}), session=new)


def _identity_item(user_id: str, p: Provider, profile: Profile) -> dict[str, Any]:
    now = now_ms()
    return {
        "identityId": unique_id(),
        "userId": user_id,
        "provider": p.name,
        "providerUid": profile.uid,
        "providerEmail": profile.email,
        "createdAt": now,
        "updatedAt": now,
    }


def user_for(p: Provider, profile: Profile, link_user_id: str = "") -> tuple[dict[str, Any], str]:
    """The user this provider account signs in (and its identity id), linking or creating as the rules say:
    - a known identity signs in its user;
    - a signed-in caller who started the flow (`link_user_id`) gets the identity added;
    - an email an account holds joins it only if both sides have it verified; otherwise 409;
    - else a new account (its email verified if the provider says so)."""
    for _ in range(LINK_ATTEMPTS):
        index = oauth_store.find_identity(p.name, profile.uid)
        if index:
            if link_user_id and index["userId"] != link_user_id:
                raise ApiError("user_already_exists", "This provider account is linked to another user.")
            user = users_store.get_user(index["userId"])
            if user is not None:
                return _active(user), index["identityId"]
            oauth_store.drop_orphan_index(p.name, profile.uid, index["userId"])  # its user was deleted
            continue
        identity = _identity_item(link_user_id, p, profile)
        target, created = link_user_id, None
        if not target and profile.email:
            target = users_store.find_user_id("email", profile.email) or ""
        if target:
            user = users_store.get_user(target)
            if user is None:
                continue
            if not link_user_id and not _may_join(user, profile):
                raise ApiError(
                    "user_already_exists",
                    "An account with this email exists. Sign in to it, then connect this provider.",
                )
        else:
            target = unique_id()
            created = _new_user(target, profile)
            user = created
        identity["userId"] = target
        try:
            oauth_store.add_identity(identity, new_user=created)
        except ConflictError:
            continue  # a concurrent sign-in linked it or took the email: decide again
        return _active(user), identity["identityId"]
    raise limits.contended("Too many simultaneous sign-ins. Please try again.")


def _may_join(user: dict[str, Any], profile: Profile) -> bool:
    """Join an existing account only on a verified email on both sides, the same address."""
    return profile.email_verified and bool(user.get("emailVerification")) and user.get("email") == profile.email


def _new_user(user_id: str, profile: Profile) -> dict[str, Any]:
    """A new account for a first social sign-in. An email the provider did not verify stays unverified and
    counts as put there by a stranger: its owner's first code sign-in wipes this account's way in (API.md §7)."""
    user = new_user(user_id, by_guest=not profile.email_verified, email=profile.email, name=profile.name)
    if profile.email and profile.email_verified:
        user["emailVerification"] = True
        user[users_store.verified_at("email")] = user["createdAt"]
    return user


def _active(user: dict[str, Any]) -> dict[str, Any]:
    if not user.get("status", True):
        raise ApiError("user_blocked")
    return user


def _issue_token(user: dict[str, Any], p: Provider, profile: Profile, identity_id: str) -> str:
    secret, hashed = new_link_secret_and_hash(user["userId"])  # a keyed hash, as every sign-in secret (API.md §8)
    now = now_ms()
    oauth_store.put_token(
        {
            "hash": hashed,
            "tokenId": unique_id(),
            "userId": user["userId"],
            "kind": "oauth2",
            "provider": p.name,
            "providerUid": profile.uid,
            "identityId": identity_id,
            "createdAt": now,
            "expire": now + TOKEN_LIFETIME_MS,
            "ttl": (now + TOKEN_LIFETIME_MS) // 1000,
        }
    )
    return secret


def session_from_token(user: dict[str, Any], token: dict[str, Any], caller: Caller) -> NewSession:
    """`POST /account/sessions/token` with a token-flow secret (found by services/otp.py): the token is taken
    once, then the session."""
    if oauth_store.take_token(user["userId"], token["hash"], now_ms()) is None:
        raise ApiError("user_invalid_token")
    return start_session(_active(user), caller, token["provider"], [FACTOR], provider_uid=token["providerUid"])


@sign_in("idToken")
def create_id_token_session(provider_name: str, id_token: str, nonce: str, name: str, caller: Caller) -> NewSession:
    """A native app's ID token (Google Credential Manager, Sign in with Apple): verified against the
    provider's published keys for this deployment's client ids, used once, then a session."""
    if provider_name not in ID_TOKEN_PROVIDERS:
        raise invalid_param("provider", "Value must be one of (apple, google, oidc).")
    p = provider(provider_name)
    if caller.credential and find_session(caller.credential):
        raise ApiError("user_session_already_exists")
    limits.enforce("id-token-session", caller.ip, limit=60)  # a provider-signed token is no guess
    try:
        claims = verify_id_token(p, id_token, "", p.audiences)
    except ProviderError as refusal:
        log_refusal(p, refusal)
        raise ApiError("user_invalid_token") from None
    if not native_nonce_matches(p, claims, nonce):
        raise ApiError("user_invalid_token")
    if not oauth_store.spend_id_token(digest(id_token), int(claims["exp"])):
        raise ApiError("user_invalid_token")  # replayed
    profile = profile_from_claims(p, claims)
    if name and not profile.name:
        profile = Profile(profile.uid, profile.email, profile.email_verified, name)
    user, _ = user_for(p, profile)
    return start_session(user, caller, p.name, [FACTOR], provider_uid=profile.uid)


# --- identities ----------------------------------------------------------------------------------


def identity_model(item: dict[str, Any]) -> Identity:
    return Identity(
        id=item["identityId"],
        createdAt=iso(item["createdAt"]),
        updatedAt=iso(item["updatedAt"]),
        userId=item["userId"],
        provider=item["provider"],
        providerUid=item["providerUid"],
        providerEmail=item.get("providerEmail", ""),
        providerAccessToken="",  # provider tokens are never kept: we need none after sign-in
        providerAccessTokenExpiry="",
        providerRefreshToken="",
        providerIdToken="",
    )


def identity_list(items: list[dict[str, Any]]) -> IdentityList:
    models = [identity_model(i) for i in sorted(items, key=lambda i: i["createdAt"])]
    return IdentityList(total=len(models), identities=models)


def list_identities(principal: Principal) -> IdentityList:
    return identity_list(oauth_store.list_identities(principal.user["userId"]))


def delete_identity(principal: Principal, identity_id: str) -> None:
    """Unlink one of the caller's identities: that provider account no longer signs in to this user."""
    identity = oauth_store.get_identity(principal.user["userId"], identity_id)
    if identity is None or not oauth_store.delete_identity(identity):
        raise ApiError("user_identity_not_found")
