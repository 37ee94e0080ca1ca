"""Social sign-in end to end: the browser flows against a real OpenID Connect provider (panva's oidc-provider,
with its login and consent pages) and a stand-in for GitHub, through a local stack of this module's own
(configured with both providers), plus the refusals of docs/security.md §social sign-in."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.e2e.helpers import (
    ALLOWED_ORIGIN,
    COOKIE,
    FOREIGN_ORIGIN,
    ROOT,
    TIMEOUT,
    LocalStack,
    assert_error,
    auth,
    code_sign_in,
    request,
    sign_up,
    unique_email,
)
from tests.e2e.oauth_fakes import FakeGitHub, OidcProvider, authorization_code_for, free_port, sign_in_at_provider
from tests.e2e.test_browser_demo import CHROMIUM, missing_prerequisites

CLIENT_ID, CLIENT_SECRET = "authcore-test", "oidc-client-secret"
OTHER_CLIENT, OTHER_SECRET = "another-app", "another-secret"
GITHUB_ID, GITHUB_SECRET = "github-client", "github-secret"
NATIVE_REDIRECT = "http://127.0.0.1:9/native"  # a native app's redirect: never followed
SUCCESS = f"{ALLOWED_ORIGIN}/welcome"
FAILURE = f"{ALLOWED_ORIGIN}/sorry"


@dataclass
class OAuthStack:
    base: str
    issuer: str
    github: FakeGitHub

    def callback(self, provider: str) -> str:
        return f"{self.base}/account/sessions/oauth2/callback/{provider}/default"


@pytest.fixture(scope="module")
def stack() -> Iterator[OAuthStack]:
    port = free_port()
    github = FakeGitHub(GITHUB_ID, GITHUB_SECRET)
    overrides = [
        f"OAuthOidcClientId={CLIENT_ID}",
        f"OAuthOidcIssuer=http://localhost:{port}",
        f"OAuthGithubClientId={GITHUB_ID}",
        f"OAuthGithubUrl={github.url}",
        f"OAuthGithubApiUrl={github.url}",
    ]
    secret_env = "AUTHCORE_LOCAL_SECRET_OAuthClientSecrets"
    os.environ[secret_env] = json.dumps({"oidc": CLIENT_SECRET, "github": GITHUB_SECRET})
    try:
        server = LocalStack(("--port", "0", "--parameter-overrides", *overrides))
        base = server.wait_ready()
    finally:
        del os.environ[secret_env]
    callback = f"{base}/account/sessions/oauth2/callback/oidc/default"
    provider = OidcProvider(
        port,
        [
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [callback, NATIVE_REDIRECT]},
            {"client_id": OTHER_CLIENT, "client_secret": OTHER_SECRET, "redirect_uris": [NATIVE_REDIRECT]},
        ],
    )
    try:
        yield OAuthStack(base, provider.issuer, github)
    finally:
        provider.stop()
        server.stop()
        github.shutdown()


def start(stack: OAuthStack, session: requests.Session, flow: str = "sessions", provider: str = "oidc", **params):
    query = {"success": SUCCESS, "failure": FAILURE, **params}
    response = session.get(
        f"{stack.base}/account/{flow}/oauth2/{provider}", params=query, allow_redirects=False, timeout=TIMEOUT
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def through_provider(stack: OAuthStack, login: str, flow: str = "sessions", **params) -> tuple[requests.Session, str]:
    """A browser's way: start, sign in and consent at the provider; (the browser, our callback URL)."""
    browser = requests.Session()
    authorize = start(stack, browser, flow, **params)
    return browser, sign_in_at_provider(browser, authorize, login, stack.callback("oidc"))


def finish(browser: requests.Session, callback: str) -> requests.Response:
    return browser.get(callback, allow_redirects=False, timeout=TIMEOUT)


def social_sign_in(stack: OAuthStack, login: str) -> tuple[requests.Response, str]:
    """The whole session flow: the callback's answer and the session credential it set."""
    browser, callback = through_provider(stack, login)
    answer = finish(browser, callback)
    return answer, answer.cookies.get(COOKIE, "")


def failure_error(answer: requests.Response) -> dict:
    """The Appwrite error the failure redirect carries in `error`."""
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(FAILURE + "?"), location
    return json.loads(parse_qs(urlsplit(location).query)["error"][0])


def account(stack: OAuthStack, credential: str) -> requests.Response:
    return request("GET", stack.base, "/account", headers=auth(credential))


# --- the session flow -----------------------------------------------------------------------------------------------


def test_the_authorization_request_carries_state_pkce_s256_and_a_nonce(stack):
    query = parse_qs(urlsplit(start(stack, requests.Session())).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 43 and len(query["nonce"][0]) >= 43
    assert query["redirect_uri"] == [stack.callback("oidc")]
    assert set(query["scope"][0].split()) >= {"openid", "email", "profile"}


def test_a_first_social_sign_in_creates_a_verified_account_with_a_usable_session(stack):
    email = unique_email()
    answer, credential = social_sign_in(stack, email)
    assert answer.status_code == 302 and answer.headers["Location"] == SUCCESS
    assert credential
    me = account(stack, credential)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email and me.json()["emailVerification"] is True
    identities = request("GET", stack.base, "/account/identities", headers=auth(credential)).json()
    assert identities["total"] == 1
    identity = identities["identities"][0]
    assert (identity["provider"], identity["providerUid"], identity["providerEmail"]) == ("oidc", email, email)
    assert identity["providerAccessToken"] == "" and identity["providerRefreshToken"] == ""
    session = request("GET", stack.base, "/account/sessions/current", headers=auth(credential)).json()
    assert (session["provider"], session["providerUid"], session["factors"]) == ("oidc", email, ["oauth2"])


def test_the_same_provider_account_signs_in_to_the_same_user_again(stack):
    email = unique_email()
    _, first = social_sign_in(stack, email)
    _, second = social_sign_in(stack, email)
    assert account(stack, first).json()["$id"] == account(stack, second).json()["$id"]


def test_the_token_flow_redirects_with_a_secret_that_makes_one_session(stack):
    email = unique_email()
    browser, callback = through_provider(stack, email, flow="tokens", state="app-state-42")
    answer = finish(browser, callback)
    assert answer.status_code == 302 and COOKIE not in answer.cookies
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == SUCCESS
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert set(query) == {"userId", "secret", "state"} and query["state"] == "app-state-42"
    body = {"userId": query["userId"], "secret": query["secret"]}
    created = request("POST", stack.base, "/account/sessions/token", body)
    assert created.status_code == 201, created.text
    assert created.json()["provider"] == "oidc" and created.json()["userId"] == query["userId"]
    assert_error(request("POST", stack.base, "/account/sessions/token", body), 401, "user_invalid_token")


def test_github_signs_in_with_its_primary_verified_email(stack):
    email = unique_email()
    stack.github.user = {"id": 4242, "login": "octo", "name": "Octo"}
    stack.github.emails = [
        {"email": "other@example.com", "primary": False, "verified": True},
        {"email": email, "primary": True, "verified": True},
    ]
    browser = requests.Session()
    authorize = start(stack, browser, provider="github")
    assert authorize.startswith(f"{stack.github.url}/login/oauth/authorize?")
    callback = browser.get(authorize, allow_redirects=False, timeout=TIMEOUT).headers["Location"]
    assert callback.startswith(stack.callback("github"))
    answer = finish(browser, callback)
    assert answer.status_code == 302 and answer.headers["Location"] == SUCCESS
    me = account(stack, answer.cookies[COOKIE]).json()
    assert (me["email"], me["emailVerification"], me["name"]) == (email, True, "Octo")


# --- refusals -------------------------------------------------------------------------------------------------------


def test_a_wrong_state_is_refused(stack):
    _, callback = through_provider(stack, unique_email())
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    forged = f"{stack.callback('oidc')}?{urlencode({**query, 'state': secrets.token_urlsafe(32)})}"
    assert_error(requests.get(forged, allow_redirects=False, timeout=TIMEOUT), 401, "user_invalid_token")


def test_a_state_works_once(stack):
    browser, callback = through_provider(stack, unique_email())
    assert finish(browser, callback).status_code == 302
    assert_error(requests.get(callback, allow_redirects=False, timeout=TIMEOUT), 401, "user_invalid_token")


def test_a_replayed_code_is_refused_by_the_provider_and_signs_in_nobody(stack):
    browser, callback = through_provider(stack, unique_email())
    assert COOKIE in finish(browser, callback).cookies
    used_code = parse_qs(urlsplit(callback).query)["code"][0]
    # A new flow's state with the old code: the provider refuses the code (used, and another PKCE verifier).
    other = requests.Session()
    fresh_state = parse_qs(urlsplit(start(stack, other)).query)["state"][0]
    answer = other.get(
        stack.callback("oidc"), params={"code": used_code, "state": fresh_state}, allow_redirects=False, timeout=TIMEOUT
    )
    assert failure_error(answer)["type"] == "user_oauth2_provider_error"
    assert COOKIE not in answer.cookies


def test_success_and_failure_urls_must_be_on_an_allowed_origin(stack):
    base = f"{stack.base}/account/sessions/oauth2/oidc"
    for params, type_ in (
        ({"success": f"{FOREIGN_ORIGIN}/x", "failure": FAILURE}, "project_invalid_success_url"),
        ({"success": SUCCESS, "failure": f"{FOREIGN_ORIGIN}/x"}, "project_invalid_failure_url"),
        ({"success": "javascript:alert(1)"}, "project_invalid_success_url"),
    ):
        assert_error(requests.get(base, params=params, allow_redirects=False, timeout=TIMEOUT), 400, type_)
    token_flow = requests.get(f"{stack.base}/account/tokens/oauth2/oidc", allow_redirects=False, timeout=TIMEOUT)
    assert_error(token_flow, 400, "project_invalid_success_url")  # the secret would have nowhere to go


def test_a_provider_without_configuration_is_disabled(stack):
    for provider in ("google", "apple", "microsoft", "discord"):
        answer = requests.get(
            f"{stack.base}/account/sessions/oauth2/{provider}", allow_redirects=False, timeout=TIMEOUT
        )
        assert_error(answer, 412, "project_provider_disabled")
    assert_error(
        requests.get(f"{stack.base}/account/sessions/oauth2/nope", timeout=TIMEOUT), 400, "general_argument_invalid"
    )


def test_an_unverified_provider_email_never_joins_an_existing_account(stack):
    email = f"unverified-{secrets.token_hex(6)}@example.com"  # the provider says email_verified: false
    owner = code_sign_in(stack.base, email)  # the owner's account, its email verified
    answer, credential = social_sign_in(stack, email)
    assert failure_error(answer)["type"] == "user_already_exists"
    assert not credential
    assert request("GET", stack.base, "/account/identities", headers=auth(owner.credential)).json()["total"] == 0


def test_a_verified_provider_email_joins_only_a_verified_account(stack):
    email = unique_email()
    sign_up(stack.base, email)  # a password account whose email nobody has proven
    answer, _ = social_sign_in(stack, email)
    assert failure_error(answer)["type"] == "user_already_exists"
    verified = code_sign_in(stack.base, unique_email())
    answer, credential = social_sign_in(stack, verified.email)
    assert answer.headers["Location"] == SUCCESS
    assert account(stack, credential).json()["$id"] == verified.id


def test_the_mfa_gate_still_applies_after_a_social_sign_in(stack):
    email = unique_email()
    _, first = social_sign_in(stack, email)  # its verified email is a second factor besides the provider
    on = request("PATCH", stack.base, "/account/mfa", {"mfa": True}, headers=auth(first))
    assert on.status_code == 200, on.text
    answer, credential = social_sign_in(stack, email)
    assert answer.headers["Location"] == SUCCESS and credential
    assert_error(account(stack, credential), 401, "user_more_factors_required")
    factors = request("GET", stack.base, "/account/mfa/factors", headers=auth(credential))
    assert factors.status_code == 200 and factors.json()["email"] is True


def test_an_identity_can_be_unlinked(stack):
    email = unique_email()
    _, credential = social_sign_in(stack, email)
    listed = request("GET", stack.base, "/account/identities", headers=auth(credential)).json()
    identity_id = listed["identities"][0]["$id"]
    path = f"/account/identities/{identity_id}"
    assert request("DELETE", stack.base, path, headers=auth(credential)).status_code == 204
    assert_error(request("DELETE", stack.base, path, headers=auth(credential)), 404, "user_identity_not_found")
    # Unlinked: the provider account is no longer a way in, and its verified email joins the verified account.
    _, again = social_sign_in(stack, email)
    assert account(stack, again).json()["$id"] == account(stack, credential).json()["$id"]


# --- native ID tokens -----------------------------------------------------------------------------------------------


def id_token_session(stack: OAuthStack, id_token: str, nonce: str) -> requests.Response:
    return request(
        "POST", stack.base, "/account/sessions/id-token", {"provider": "oidc", "idToken": id_token, "nonce": nonce}
    )


def test_a_native_id_token_signs_in_once(stack):
    nonce = secrets.token_urlsafe(16)
    tokens = authorization_code_for(stack.issuer, CLIENT_ID, CLIENT_SECRET, NATIVE_REDIRECT, unique_email(), nonce)
    created = id_token_session(stack, tokens["id_token"], nonce)
    assert created.status_code == 201, created.text
    assert created.json()["provider"] == "oidc" and created.json()["factors"] == ["oauth2"]
    assert_error(id_token_session(stack, tokens["id_token"], nonce), 401, "user_invalid_token")  # replayed


def test_a_native_id_token_with_a_wrong_nonce_is_refused(stack):
    tokens = authorization_code_for(stack.issuer, CLIENT_ID, CLIENT_SECRET, NATIVE_REDIRECT, unique_email(), "n-1")
    assert_error(id_token_session(stack, tokens["id_token"], "n-2"), 401, "user_invalid_token")


def test_an_id_token_for_another_client_is_refused(stack):
    nonce = secrets.token_urlsafe(16)
    tokens = authorization_code_for(stack.issuer, OTHER_CLIENT, OTHER_SECRET, NATIVE_REDIRECT, unique_email(), nonce)
    assert_error(id_token_session(stack, tokens["id_token"], nonce), 401, "user_invalid_token")


def test_a_forged_id_token_is_refused(stack):
    nonce = secrets.token_urlsafe(16)
    tokens = authorization_code_for(stack.issuer, CLIENT_ID, CLIENT_SECRET, NATIVE_REDIRECT, unique_email(), nonce)
    header, payload, signature = tokens["id_token"].split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert_error(id_token_session(stack, forged, nonce), 401, "user_invalid_token")


# --- in a browser ---------------------------------------------------------------------------------------------------


def test_chromium_clicks_through_the_providers_consent_to_the_app_with_a_usable_session(stack):
    """tests/js/browser/oauth.mjs: the web SDK's URL, the provider's login and consent pages clicked in headless
    Chromium, then the demo page (the success URL) shows the account through the session cookie."""
    if missing := missing_prerequisites():
        pytest.fail("the browser test needs: " + "; ".join(missing), pytrace=False)
    driver = ROOT / "tests/js/browser/oauth.mjs"
    command = ["node", str(driver), "--chromium", str(CHROMIUM), "--endpoint", stack.base, "--login", unique_email()]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_callback_url_opened_in_another_browser_signs_in_nobody(stack):
    """Login CSRF: the attacker's callback URL (their code, their state) in the victim's browser."""
    _, callback = through_provider(stack, unique_email())
    victim = requests.Session()
    answer = victim.get(callback, allow_redirects=False, timeout=TIMEOUT)
    assert_error(answer, 401, "user_invalid_token")
    assert COOKIE not in answer.cookies
