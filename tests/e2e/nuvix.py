"""The Nuvix web SDK's wire behaviour, ported to Python for the e2e tests.

Read from the SDK's public source (github.com/Nuvix-Tech/sdk-for-web: src/base-client.ts `prepareRequest` and
`call`, src/services/account.ts, src/services/avatars.ts, src/models.ts). Every account method takes positional
parameters; the client sends:

- always: ``x-sdk-name: Web``, ``x-sdk-platform: client``, ``x-sdk-language: web``, ``x-sdk-version: 0.0.1``,
  ``X-Nuvix-Response-Format: 1.0.0``, and per call ``content-type: application/json``;
- after ``setProject`` / ``setLocale`` / ``setSession``: ``X-Nuvix-Project`` / ``X-Nuvix-Locale`` / ``X-Nuvix-Session``;
- in a browser (``window.localStorage`` exists): ``X-Fallback-Cookies`` with whatever it stored from the last answer
  that carried that header; ``fetch`` runs with ``credentials: "include"``;
- GET parameters in the query string and no body; every other method the JSON of its parameters, ``{}`` when it has
  none (DELETE included).

It raises ``NuvixException(message, code, type)`` for a status >= 400, and returns the parsed JSON when the answer's
content type says JSON, else ``{"message": <text>}``. QR codes and OAuth2 redirects are URLs the SDK only builds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlencode

import requests

from tests.e2e.helpers import ALLOWED_ORIGIN, PROJECT, TIMEOUT

SDK_HEADERS = {
    "x-sdk-name": "Web",
    "x-sdk-platform": "client",
    "x-sdk-language": "web",
    "x-sdk-version": "0.0.1",
    "X-Nuvix-Response-Format": "1.0.0",
}
FALLBACK_KEY = "cookieFallback"  # the SDK's localStorage key for the X-Fallback-Cookies header it last saw

# Account methods: name -> (HTTP method, path, parameters in call order). A `{name}` in the path takes that parameter.
SERVED = {
    "get": ("GET", "/account", ()),
    "create": ("POST", "/account", ("userId", "email", "password", "name")),
    "updateEmail": ("PATCH", "/account/email", ("email", "password")),
    "updateMFA": ("PATCH", "/account/mfa", ("mfa",)),
    "createMfaAuthenticator": ("POST", "/account/mfa/authenticators/{type}", ("type",)),
    "updateMfaAuthenticator": ("PUT", "/account/mfa/authenticators/{type}", ("type", "otp")),
    "deleteMfaAuthenticator": ("DELETE", "/account/mfa/authenticators/{type}", ("type",)),
    "createMfaChallenge": ("POST", "/account/mfa/challenge", ("factor",)),
    "updateMfaChallenge": ("PUT", "/account/mfa/challenge", ("challengeId", "otp")),
    "listMfaFactors": ("GET", "/account/mfa/factors", ()),
    "getMfaRecoveryCodes": ("GET", "/account/mfa/recovery-codes", ()),
    "createMfaRecoveryCodes": ("POST", "/account/mfa/recovery-codes", ()),
    "updateMfaRecoveryCodes": ("PATCH", "/account/mfa/recovery-codes", ()),
    "updateName": ("PATCH", "/account/name", ("name",)),
    "updatePassword": ("PATCH", "/account/password", ("password", "oldPassword")),
    "updatePhone": ("PATCH", "/account/phone", ("phone", "password")),
    "getPrefs": ("GET", "/account/prefs", ()),
    "updatePrefs": ("PATCH", "/account/prefs", ("prefs",)),
    "listSessions": ("GET", "/account/sessions", ()),
    "deleteSessions": ("DELETE", "/account/sessions", ()),
    "createEmailPasswordSession": ("POST", "/account/sessions/email", ("email", "password")),
    "createSession": ("POST", "/account/sessions/token", ("userId", "secret")),
    "getSession": ("GET", "/account/sessions/{sessionId}", ("sessionId",)),
    "updateSession": ("PATCH", "/account/sessions/{sessionId}", ("sessionId",)),
    "deleteSession": ("DELETE", "/account/sessions/{sessionId}", ("sessionId",)),
    "createEmailToken": ("POST", "/account/tokens/email", ("userId", "email", "phrase")),
    "createPhoneToken": ("POST", "/account/tokens/phone", ("userId", "phone")),
    "createVerification": ("POST", "/account/verification", ("url",)),
    "updateVerification": ("PUT", "/account/verification", ("userId", "secret")),
    "createPhoneVerification": ("POST", "/account/verification/phone", ()),
    "updatePhoneVerification": ("PUT", "/account/verification/phone", ("userId", "secret")),
    "createAnonymousSession": ("POST", "/account/sessions/anonymous", ()),
    "updateMagicURLSession": ("PUT", "/account/sessions/magic-url", ("userId", "secret")),
    "updatePhoneSession": ("PUT", "/account/sessions/phone", ("userId", "secret")),
    "createMagicURLToken": ("POST", "/account/tokens/magic-url", ("userId", "email", "url", "phrase")),
    "createRecovery": ("POST", "/account/recovery", ("email", "url")),
    "updateRecovery": ("PUT", "/account/recovery", ("userId", "secret", "password")),
    "createJWT": ("POST", "/account/jwts", ()),
    "listLogs": ("GET", "/account/logs", ("queries",)),
    "updateStatus": ("PATCH", "/account/status", ()),
    "listIdentities": ("GET", "/account/identities", ("queries",)),
    "deleteIdentity": ("DELETE", "/account/identities/{identityId}", ("identityId",)),
}
NOT_SERVED = {
    "createPushTarget": ("POST", "/account/targets/push", ("targetId", "identifier", "providerId")),
    "updatePushTarget": ("PUT", "/account/targets/{targetId}/push", ("targetId", "identifier")),
    "deletePushTarget": ("DELETE", "/account/targets/{targetId}/push", ("targetId",)),
}
# Methods that only build a URL (the page navigates to it or puts it in an <img>), with the project in the query.
URLS = {
    "createOAuth2Session": ("/account/sessions/oauth2/{provider}", ("provider", "success", "failure", "scopes")),
    "createOAuth2Token": ("/account/tokens/oauth2/{provider}", ("provider", "success", "failure", "scopes")),
    "getQR": ("/avatars/qr", ("text", "size", "margin", "download")),
    "getBrowser": ("/avatars/browsers/{code}", ("code", "width", "height", "quality")),
    "getCreditCard": ("/avatars/credit-cards/{code}", ("code", "width", "height", "quality")),
    "getFavicon": ("/avatars/favicon", ("url",)),
    "getFlag": ("/avatars/flags/{code}", ("code", "width", "height", "quality")),
    "getImage": ("/avatars/image", ("url", "width", "height")),
    "getInitials": ("/avatars/initials", ("name", "width", "height", "background")),
}


class NuvixException(Exception):  # noqa: N818 - the SDK's name
    def __init__(self, message: str, code: int, type_: str | None, response: Any) -> None:
        super().__init__(message)
        self.message, self.code, self.type, self.response = message, code, type_, response


@dataclass
class Browser:
    """What the page's browser adds to the SDK's requests.

    `keeps_cookies`: the API is first-party, so the browser stores its cookies and sends them back
    (``credentials: "include"``); false when third-party cookies are blocked. The page's `origin` is sent as
    ``Origin``, and an answer without a CORS grant for it is unreadable (fetch fails), as is any header the answer
    does not expose. `local_storage` is the page's ``window.localStorage``."""

    origin: str = ALLOWED_ORIGIN
    keeps_cookies: bool = False
    local_storage: dict[str, str] = field(default_factory=dict)


class CorsBlocked(Exception):  # noqa: N818 - what fetch's TypeError means here
    pass


def _js_value(value: Any) -> str:
    """How `URLSearchParams.append` writes a value (String(value))."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The SDK's `flatten`: arrays become key[0], key[1], ..."""
    output: dict[str, Any] = {}
    for key, value in params.items():
        final = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, list):
            output |= _flatten(dict(enumerate(value)), final)
        else:
            output[final] = value
    return output


def _bind(path: str, names: tuple[str, ...], args: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
    """The path with its parameters filled in, and the payload: the other parameters that were given."""
    if len(args) > len(names):
        raise TypeError(f"{len(args)} arguments for {names}")
    payload = {}
    for name, value in zip(names, args, strict=False):
        if f"{{{name}}}" in path:
            path = path.replace(f"{{{name}}}", str(value))
        elif value is not None:  # the SDK leaves out what is undefined
            payload[name] = value
    return path, payload


class Client:
    """The SDK's client: `Client().setEndpoint(endpoint).setProject(project)` plus optional locale and session.
    `browser` None is a server-side runtime (no window: no Origin, no localStorage, no cookie jar)."""

    def __init__(
        self,
        endpoint: str,
        browser: Browser | None = None,
        project: str | None = PROJECT,
        session: str | None = None,
        locale: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.browser = browser
        self.headers = dict(SDK_HEADERS)
        for name, value in (("X-Nuvix-Project", project), ("X-Nuvix-Locale", locale), ("X-Nuvix-Session", session)):
            if value is not None:
                self.headers[name] = value
        self.project = project or ""
        self.http = requests.Session()
        if browser is None or not browser.keeps_cookies:
            self.http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # stores no cookie
        self.last: requests.Response | None = None
        self.account = Service(self, SERVED | NOT_SERVED)

    def call(self, method: str, path: str, params: dict[str, Any]) -> Any:
        headers = {**self.headers, "content-type": "application/json"}
        browser = self.browser
        if browser is not None:
            headers["Origin"] = browser.origin
            if stored := browser.local_storage.get(FALLBACK_KEY):
                headers["X-Fallback-Cookies"] = stored
        query = {key: _js_value(value) for key, value in _flatten(params).items()} if method == "GET" else None
        body = None if method == "GET" else json.dumps(params, separators=(",", ":"))
        response = self.http.request(
            method, self.endpoint + path, params=query, data=body, headers=headers, timeout=TIMEOUT
        )
        self.last = response
        if browser is not None:
            _check_cors(response, browser.origin)
        if "application/json" in response.headers.get("content-type", ""):
            data = response.json()
        else:
            data = {"message": response.text}
        if response.status_code >= 400:
            raise NuvixException(data.get("message", ""), response.status_code, data.get("type"), data)
        fallback = readable_header(response, "X-Fallback-Cookies", browser)
        if browser is not None and fallback:
            browser.local_storage[FALLBACK_KEY] = fallback
        return data

    def url(self, name: str, *args: Any) -> str:
        """What the OAuth2 methods and the avatars methods return: the URL, with the project last."""
        path, payload = _bind(*URLS[name], args)
        payload["project"] = self.project
        return f"{self.endpoint}{path}?{urlencode({k: _js_value(v) for k, v in _flatten(payload).items()})}"


class Service:
    """`client.account`: `account.createMfaChallenge("totp")` sends what the SDK method of that name sends."""

    def __init__(self, client: Client, methods: dict[str, tuple[str, str, tuple[str, ...]]]) -> None:
        self._client, self._methods = client, methods

    def __getattr__(self, name: str) -> Any:
        if name not in self._methods:
            raise AttributeError(name)
        method, path, names = self._methods[name]

        def call(*args: Any) -> Any:
            bound_path, payload = _bind(path, names, args)
            return self._client.call(method, bound_path, payload)

        return call


def _check_cors(response: requests.Response, origin: str) -> None:
    """A credentialed cross-origin fetch sees the answer only with the origin echoed and credentials allowed."""
    granted = response.headers.get("Access-Control-Allow-Origin")
    if granted != origin or response.headers.get("Access-Control-Allow-Credentials") != "true":
        raise CorsBlocked(f"{response.request.method} {response.url}: no CORS grant for {origin} ({granted!r})")


def readable_header(response: requests.Response, name: str, browser: Browser | None) -> str | None:
    """A response header as page script sees it: outside a browser every header, in one only the exposed ones."""
    if browser is not None:
        listed = response.headers.get("Access-Control-Expose-Headers", "")
        exposed = {part.strip().lower() for part in listed.split(",")}
        if name.lower() not in exposed:
            return None
    return response.headers.get(name)
