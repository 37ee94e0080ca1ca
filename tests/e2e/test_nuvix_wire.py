"""The Nuvix web SDK's requests, sent exactly as that SDK sends them (tests/e2e/nuvix.py: positional methods,
X-Nuvix-Project / X-Nuvix-Session / X-Nuvix-Locale, the SDK headers, JSON bodies with `{}` for DELETE, the singular
`/account/verification` and `/account/mfa/challenge` paths), and the answers read the way the SDK reads them
(`data` and `total` in lists, the X-Fallback-Cookies header kept in localStorage, errors as NuvixException).

Most calls run as a page on another site would make them: third-party cookies blocked, so the session travels in
X-Fallback-Cookies, and every answer must carry the CORS grant and expose that header (else fetch fails).

Runs against a server of its own (`fresh_server`). Budget (one IP, per hour): 7 x `POST /account`,
1 x `POST /account/tokens/email`, 1 x `POST /account/tokens/phone`, 2 x `POST /account/sessions/token`.
Email and SMS challenges are not repeated here: they differ from `totp` only in the code's channel, and the MFA guide
(test_mfa_guide.py) sends them on this same singular path.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import PIL.Image
import pytest
import requests
import zxingcpp
from appwrite.id import ID

from tests import rfc6238
from tests.e2e.helpers import (
    ALLOWED_ORIGIN,
    COOKIE,
    DATETIME,
    GENERATED_ID,
    PASSWORD,
    TIMEOUT,
    decode_credential,
    last_code,
    last_link,
    last_message,
    sign_in,
    unique_email,
)
from tests.e2e.nuvix import (
    FALLBACK_KEY,
    NOT_SERVED,
    SDK_HEADERS,
    SERVED,
    URLS,
    Browser,
    Client,
    NuvixException,
)

# The models of the SDK's src/models.ts (User without the optional password, hash and hashOptions).
USER_FIELDS = {
    "$id",
    "$createdAt",
    "$updatedAt",
    "name",
    "registration",
    "status",
    "labels",
    "passwordUpdate",
    "email",
    "phone",
    "emailVerification",
    "phoneVerification",
    "mfa",
    "prefs",
    "targets",
    "accessedAt",
}
SESSION_FIELDS = {
    "$id",
    "$createdAt",
    "$updatedAt",
    "userId",
    "expire",
    "provider",
    "providerUid",
    "providerAccessToken",
    "providerAccessTokenExpiry",
    "providerRefreshToken",
    "ip",
    "osCode",
    "osName",
    "osVersion",
    "clientType",
    "clientCode",
    "clientName",
    "clientVersion",
    "clientEngine",
    "clientEngineVersion",
    "deviceName",
    "deviceBrand",
    "deviceModel",
    "countryCode",
    "countryName",
    "current",
    "factors",
    "secret",
    "mfaUpdatedAt",
}
TOKEN_FIELDS = {"$id", "$createdAt", "userId", "secret", "expire", "phrase"}
CHALLENGE_FIELDS = {"$id", "$createdAt", "userId", "expire"}
NO_CONTENT = {"message": ""}  # what the SDK returns for a 204 (its body is not JSON)
# Real numbers (the server checks numbering plans), one per test.
PHONE_PROFILE, PHONE_VERIFY, PHONE_TOKEN = "+14155552671", "+442071838750", "+33142685300"
PHONE_LINK = "+61293744000"
# What a browser lists in Access-Control-Request-Headers before the SDK's cross-origin fetch.
PREFLIGHT_HEADERS = sorted(
    {name.lower() for name in SDK_HEADERS}
    | {"content-type", "x-nuvix-project", "x-nuvix-locale", "x-nuvix-session", "x-fallback-cookies"}
)


def nuvix(base: str, **browser: object) -> Client:
    """The SDK on a page at ALLOWED_ORIGIN: `setEndpoint(base).setProject("default")`."""
    return Client(base, Browser(**browser))


def sent(client: Client) -> requests.PreparedRequest:
    assert client.last is not None
    return client.last.request


def assert_sent(client: Client, method: str, path: str, body: dict | None) -> None:
    """The last request's method, path, SDK headers and exact body: JSON.stringify of the parameters in the SDK's
    order (`{}` when there are none), or none for GET."""
    request = sent(client)
    assert (request.method, urlsplit(request.url).path) == (method, urlsplit(client.endpoint).path + path)
    assert {name: request.headers.get(name) for name in SDK_HEADERS} == SDK_HEADERS
    assert request.headers["content-type"] == "application/json"
    assert request.body == (None if body is None else json.dumps(body, separators=(",", ":")))


def raises(call: Callable[[], object], code: int, type_: str) -> NuvixException:
    with pytest.raises(NuvixException) as caught:
        call()
    assert (caught.value.code, caught.value.type) == (code, type_), caught.value.response
    assert caught.value.message
    return caught.value


def sign_up(client: Client, name: str) -> tuple[dict, str]:
    email = unique_email()
    user = client.account.create(ID.unique(), email, PASSWORD, name)
    assert client.last.status_code == 201
    assert set(user) == USER_FIELDS, user
    return user, email


def stored_credential(browser: Browser) -> str:
    stored = json.loads(browser.local_storage[FALLBACK_KEY])
    assert set(stored) == {COOKIE}, stored
    return stored[COOKIE]


def fresh_totp(secret: str, used_step: int) -> str:
    """A code the server has not accepted yet: a step once used never is again (one step either side is allowed)."""
    return rfc6238.totp(secret, offset_steps=1 if rfc6238.step() <= used_step else 0)


def decode_qr(png: bytes) -> str:
    decoded = zxingcpp.read_barcodes(PIL.Image.open(io.BytesIO(png)))
    assert [barcode.format for barcode in decoded] == [zxingcpp.BarcodeFormat.QRCode], decoded
    return decoded[0].text


def load_like_img(url: str) -> requests.Response:
    """An <img src=url>: a plain GET, no SDK headers, no session."""
    return requests.get(url, headers={"Accept": "image/*,*/*;q=0.8"}, timeout=TIMEOUT)


# --- transport -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [spec[:2] for spec in SERVED.values()], ids=list(SERVED))
def test_preflight_admits_the_sdk_headers(fresh_server: str, method: str, path: str) -> None:
    """Every cross-origin call the SDK makes is preceded by a preflight naming its method and custom headers."""
    url = fresh_server + path.replace("{type}", "totp").replace("{sessionId}", "current")
    response = requests.options(
        url,
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": ",".join(PREFLIGHT_HEADERS),
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 204, response.text
    assert response.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    assert response.headers.get("Access-Control-Allow-Credentials") == "true"
    allowed_methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert method in allowed_methods
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert set(PREFLIGHT_HEADERS) <= allowed, set(PREFLIGHT_HEADERS) - allowed


def test_sign_up_sign_in_and_out_through_the_fallback_header(fresh_server: str) -> None:
    """Third-party cookies blocked: the session lives in localStorage and travels in X-Fallback-Cookies."""
    client = nuvix(fresh_server)
    account, browser = client.account, client.browser
    user, email = sign_up(client, "Nadia")
    assert user["email"] == email and user["name"] == "Nadia" and user["prefs"] == {}
    assert_sent(
        client,
        "POST",
        "/account",
        {"userId": user["$id"], "email": email, "password": PASSWORD, "name": "Nadia"},
    )
    assert sent(client).headers["X-Nuvix-Project"] == "default"
    assert FALLBACK_KEY not in browser.local_storage  # sign-up starts no session

    raises(lambda: account.createEmailPasswordSession(email, "not the password"), 401, "user_invalid_credentials")
    session = account.createEmailPasswordSession(email, PASSWORD)
    assert client.last.status_code == 201
    assert set(session) == SESSION_FIELDS, session
    assert session["userId"] == user["$id"] and session["current"] is True
    assert session["secret"] == "" and session["factors"] == ["password"] and session["provider"] == "email"
    assert decode_credential(stored_credential(browser))["id"] == user["$id"]
    assert len(client.http.cookies) == 0  # the browser kept no cookie

    me = account.get()
    assert set(me) == USER_FIELDS and me["$id"] == user["$id"]
    headers = sent(client).headers
    assert headers["X-Fallback-Cookies"] == browser.local_storage[FALLBACK_KEY]
    assert "Cookie" not in headers and "X-Nuvix-Session" not in headers
    assert sent(client).body is None  # GET: parameters (none here) go in the query

    listed = account.listSessions()
    assert listed["total"] == 1
    assert [item["$id"] for item in listed["data"]] == [session["$id"]]
    assert listed["data"][0]["current"] is True and set(listed["data"][0]) == SESSION_FIELDS
    assert account.getSession("current")["$id"] == session["$id"]
    assert account.getSession(session["$id"])["current"] is True
    extended = account.updateSession("current")
    assert_sent(client, "PATCH", "/account/sessions/current", {})
    assert extended["$id"] == session["$id"] and extended["expire"] >= session["expire"]

    assert account.deleteSession("current") == NO_CONTENT
    assert client.last.status_code == 204
    assert_sent(client, "DELETE", "/account/sessions/current", {})
    assert browser.local_storage[FALLBACK_KEY] == "{}"  # the SDK stores the emptied header
    raises(account.get, 401, "general_unauthorized_scope")
    assert sent(client).headers["X-Fallback-Cookies"] == "{}"


def test_cookie_path_when_the_api_is_first_party(fresh_server: str) -> None:
    """The browser keeps the API's cookies: the session works with nothing else, and signing out clears them."""
    client = nuvix(fresh_server, keeps_cookies=True)
    account, browser = client.account, client.browser
    user, email = sign_up(client, "Cora")
    account.createEmailPasswordSession(email, PASSWORD)
    assert client.http.cookies.get(COOKIE) == stored_credential(browser)
    browser.local_storage.clear()

    assert account.get()["$id"] == user["$id"]
    headers = sent(client).headers
    assert COOKIE in headers["Cookie"] and "X-Fallback-Cookies" not in headers

    account.deleteSession("current")
    assert client.http.cookies.get(COOKIE) is None  # the expired cookies replaced the session's
    browser.local_storage.clear()
    raises(account.get, 401, "general_unauthorized_scope")


def test_server_side_client_with_set_session(fresh_server: str) -> None:
    """SSR: no window, the credential handed to `setSession` travels in X-Nuvix-Session."""
    browserless = Client(fresh_server)
    user, email = sign_up(browserless, "Sid")
    credential = sign_in(fresh_server, email)
    client = Client(fresh_server, session=credential)
    me = client.account.get()
    assert me["$id"] == user["$id"]
    headers = sent(client).headers
    assert headers["X-Nuvix-Session"] == credential
    assert not {"Cookie", "X-Fallback-Cookies", "Origin"} & set(headers)
    listed = client.account.listSessions()
    assert listed["total"] == 1 and listed["data"][0]["userId"] == user["$id"]
    assert listed["sessions"] == listed["data"]  # Appwrite's name too, for its SDKs
    jwt = client.account.createJWT()["jwt"]  # API.md §8: a JWT, then a client holding only it (X-Nuvix-JWT)
    assert_sent(client, "POST", "/account/jwts", {})
    holder = Client(fresh_server)
    holder.headers["X-Nuvix-JWT"] = jwt
    assert holder.account.get()["$id"] == user["$id"]
    client.account.deleteSessions()
    assert_sent(client, "DELETE", "/account/sessions", {})
    raises(client.account.get, 401, "general_unauthorized_scope")
    raises(holder.account.get, 401, "general_unauthorized_scope")  # its session ended


# --- account ------------------------------------------------------------------------------------------------------


def test_list_logs_and_update_status_as_the_nuvix_sdk_sends_them(fresh_server: str) -> None:
    """Issue 17: the activity log (read as `data`, as the SDK reads lists) and self-block from a page on another
    site: the answer to the block empties the stored fallback credential, and the account answers user_blocked."""
    client = nuvix(fresh_server)
    account, browser = client.account, client.browser
    user, email = sign_up(client, "Lou")
    raises(lambda: account.createEmailPasswordSession(email, "not the password"), 401, "user_invalid_credentials")
    account.createEmailPasswordSession(email, PASSWORD)
    logs = account.listLogs()
    assert_sent(client, "GET", "/account/logs", None)
    assert logs["total"] == 2 and logs["logs"] == logs["data"]
    assert [log["event"] for log in logs["data"]] == ["session.create", "session.create.failed"]
    assert {log["userId"] for log in logs["data"]} == {user["$id"]} and logs["data"][0]["mode"] == "user"
    blocked = account.updateStatus()
    assert_sent(client, "PATCH", "/account/status", {})
    assert set(blocked) == USER_FIELDS and blocked["status"] is False
    assert browser.local_storage[FALLBACK_KEY] == "{}"
    raises(lambda: account.createEmailPasswordSession(email, PASSWORD), 401, "user_blocked")


def test_profile_calls(fresh_server: str) -> None:
    client = nuvix(fresh_server)
    account = client.account
    user, email = sign_up(client, "Pia")
    account.createEmailPasswordSession(email, PASSWORD)

    assert account.updateName("Pia Maria")["name"] == "Pia Maria"
    assert_sent(client, "PATCH", "/account/name", {"name": "Pia Maria"})
    assert account.getPrefs() == {}
    prefs = {"theme": "dark", "sizes": [1, 2]}
    assert account.updatePrefs(prefs)["prefs"] == prefs
    assert account.getPrefs() == prefs

    raises(lambda: account.updatePhone(PHONE_PROFILE, "not the password"), 401, "user_invalid_credentials")
    updated = account.updatePhone(PHONE_PROFILE, PASSWORD)
    assert (updated["phone"], updated["phoneVerification"]) == (PHONE_PROFILE, False)
    new_email = unique_email()
    updated = account.updateEmail(new_email, PASSWORD)
    assert (updated["email"], updated["emailVerification"]) == (new_email, False)

    raises(lambda: account.updatePassword("a brand new passphrase", "wrong"), 401, "user_invalid_credentials")
    updated = account.updatePassword("a brand new passphrase", PASSWORD)
    assert set(updated) == USER_FIELDS and updated["$id"] == user["$id"]
    assert_sent(client, "PATCH", "/account/password", {"password": "a brand new passphrase", "oldPassword": PASSWORD})
    account.deleteSession("current")
    raises(lambda: account.createEmailPasswordSession(new_email, PASSWORD), 401, "user_invalid_credentials")
    assert account.createEmailPasswordSession(new_email, "a brand new passphrase")["userId"] == user["$id"]


def test_verification_on_the_singular_paths_in_french(fresh_server: str) -> None:
    """`createVerification(url)` / `updateVerification(userId, secret)` on `/account/verification`, and the phone pair
    on `/account/verification/phone`; X-Nuvix-Locale picks the messages' language."""
    client = Client(fresh_server, Browser(), locale="fr")
    account = client.account
    user, email = sign_up(client, "Zoé")
    account.createEmailPasswordSession(email, PASSWORD)
    anonymous = nuvix(fresh_server)  # the link may be opened anywhere

    token = account.createVerification(f"{ALLOWED_ORIGIN}/verify")
    assert client.last.status_code == 201
    assert set(token) == TOKEN_FIELDS and token["userId"] == user["$id"] and token["secret"] == ""
    assert_sent(client, "POST", "/account/verification", {"url": f"{ALLOWED_ORIGIN}/verify"})
    assert sent(client).headers["X-Nuvix-Locale"] == "fr"
    assert last_message(fresh_server, email)["subject"] == "Vérifiez votre adresse e-mail pour My App"
    query = {key: values[-1] for key, values in parse_qs(urlsplit(last_link(fresh_server, email)).query).items()}
    confirmed = anonymous.account.updateVerification(query["userId"], query["secret"])
    assert set(confirmed) == TOKEN_FIELDS and confirmed["$id"] == token["$id"]
    assert account.get()["emailVerification"] is True
    raises(lambda: anonymous.account.updateVerification(user["$id"], query["secret"]), 401, "user_invalid_token")

    account.updatePhone(PHONE_VERIFY, PASSWORD)
    token = account.createPhoneVerification()
    assert_sent(client, "POST", "/account/verification/phone", {})
    assert client.last.status_code == 201 and set(token) == TOKEN_FIELDS
    sms = last_message(fresh_server, PHONE_VERIFY)["text"]
    assert "est votre code de vérification pour My App" in sms, sms
    confirmed = anonymous.account.updatePhoneVerification(user["$id"], last_code(fresh_server, PHONE_VERIFY))
    assert confirmed["$id"] == token["$id"]
    assert account.get()["phoneVerification"] is True


def test_password_recovery_in_french(fresh_server: str) -> None:
    """`createRecovery(email, url)` / `updateRecovery(userId, secret, password)` on `/account/recovery`: the link
    lands on the app's page, the reset ends every session (the one in localStorage included) and the old password."""
    client = Client(fresh_server, Browser(), locale="fr")
    account = client.account
    user, email = sign_up(client, "Inès")
    account.createEmailPasswordSession(email, PASSWORD)
    anonymous = Client(fresh_server, Browser(), locale="fr")  # a page without the session: the user forgot

    token = anonymous.account.createRecovery(email, f"{ALLOWED_ORIGIN}/reset")
    assert anonymous.last.status_code == 201
    assert set(token) == TOKEN_FIELDS and token["userId"] == user["$id"] and token["secret"] == ""
    assert_sent(anonymous, "POST", "/account/recovery", {"email": email, "url": f"{ALLOWED_ORIGIN}/reset"})
    assert last_message(fresh_server, email)["subject"] == "Réinitialisez votre mot de passe My App"
    link = last_link(fresh_server, email)
    assert link.startswith(f"{ALLOWED_ORIGIN}/reset?")
    query = {key: values[-1] for key, values in parse_qs(urlsplit(link).query).items()}
    done = anonymous.account.updateRecovery(query["userId"], query["secret"], "un nouveau mot de passe")
    assert_sent(
        anonymous,
        "PUT",
        "/account/recovery",
        {"userId": user["$id"], "secret": query["secret"], "password": "un nouveau mot de passe"},
    )
    assert set(done) == TOKEN_FIELDS and done["$id"] == token["$id"]
    raises(account.get, 401, "general_unauthorized_scope")
    raises(lambda: account.createEmailPasswordSession(email, PASSWORD), 401, "user_invalid_credentials")
    assert account.createEmailPasswordSession(email, "un nouveau mot de passe")["userId"] == user["$id"]
    raises(lambda: anonymous.account.updateRecovery(user["$id"], query["secret"], "x" * 10), 401, "user_invalid_token")


def test_sign_in_by_code(fresh_server: str) -> None:
    """`createEmailToken(userId, email, phrase)` and `createPhoneToken(userId, phone)`, then `createSession(userId,
    secret)`: each new user is made on the way, and the session lands in localStorage like any other."""
    client = nuvix(fresh_server)
    account, browser = client.account, client.browser
    email = unique_email()
    token = account.createEmailToken(ID.unique(), email, True)
    assert client.last.status_code == 201 and set(token) == TOKEN_FIELDS
    assert token["secret"] == "" and len(token["phrase"].split()) >= 2
    session = account.createSession(token["userId"], last_code(fresh_server, email))
    assert set(session) == SESSION_FIELDS and session["provider"] == "token" and session["factors"] == ["email"]
    assert decode_credential(stored_credential(browser))["id"] == token["userId"]
    me = account.get()
    assert (me["$id"], me["email"], me["emailVerification"]) == (token["userId"], email, True)

    other = nuvix(fresh_server)
    token = other.account.createPhoneToken(ID.unique(), PHONE_TOKEN)
    assert_sent(other, "POST", "/account/tokens/phone", {"userId": token["userId"], "phone": PHONE_TOKEN})
    session = other.account.createSession(token["userId"], last_code(fresh_server, PHONE_TOKEN))
    assert session["provider"] == "phone" and session["factors"] == ["phone"]
    assert other.account.get()["phoneVerification"] is True


def test_sign_in_by_link_and_anonymously(fresh_server: str) -> None:
    """`createMagicURLToken(userId, email, url, phrase)`, then `createSession` and the deprecated
    `updateMagicURLSession(userId, secret)`; `updatePhoneSession(userId, secret)`; `createAnonymousSession()`."""
    client = nuvix(fresh_server)
    account = client.account
    email = unique_email()
    url = f"{ALLOWED_ORIGIN}/sign-in"
    token = account.createMagicURLToken(ID.unique(), email, url, True)
    assert_sent(
        client,
        "POST",
        "/account/tokens/magic-url",
        {"userId": token["userId"], "email": email, "url": url, "phrase": True},
    )
    assert client.last.status_code == 201 and set(token) == TOKEN_FIELDS and token["secret"] == ""
    secret = parse_qs(urlsplit(last_link(fresh_server, email)).query)["secret"][0]
    session = account.updateMagicURLSession(token["userId"], secret)
    assert_sent(client, "PUT", "/account/sessions/magic-url", {"userId": token["userId"], "secret": secret})
    assert set(session) == SESSION_FIELDS and session["provider"] == "magic-url" and session["factors"] == ["email"]
    assert decode_credential(stored_credential(client.browser))["id"] == token["userId"]
    raises(lambda: nuvix(fresh_server).account.createSession(token["userId"], secret), 401, "user_invalid_token")

    other = nuvix(fresh_server)
    token = other.account.createPhoneToken(ID.unique(), PHONE_LINK)
    session = other.account.updatePhoneSession(token["userId"], last_code(fresh_server, PHONE_LINK))
    assert session["provider"] == "phone" and other.account.get()["phoneVerification"] is True

    guest = nuvix(fresh_server)
    session = guest.account.createAnonymousSession()
    assert_sent(guest, "POST", "/account/sessions/anonymous", {})
    assert set(session) == SESSION_FIELDS and session["provider"] == "anonymous"
    assert guest.account.get()["email"] == ""


# --- MFA -------------------------------------------------------------------------------------------------------------


def test_mfa_with_positional_calls(fresh_server: str) -> None:
    client = nuvix(fresh_server)
    account, browser = client.account, client.browser
    user, email = sign_up(client, "Mo")
    account.createEmailPasswordSession(email, PASSWORD)

    codes = account.createMfaRecoveryCodes()["recoveryCodes"]
    assert client.last.status_code == 201
    assert_sent(client, "POST", "/account/mfa/recovery-codes", {})
    assert len(codes) == 10

    mfa_type = account.createMfaAuthenticator("totp")
    assert_sent(client, "POST", "/account/mfa/authenticators/totp", {})
    assert set(mfa_type) == {"secret", "uri"}
    qr = load_like_img(client.url("getQR", mfa_type["uri"], 300, 1, False))
    assert qr.status_code == 200 and qr.headers["Content-Type"] == "image/png"
    assert "Content-Disposition" not in qr.headers
    assert decode_qr(qr.content) == mfa_type["uri"]
    enrolled_step = rfc6238.step()
    enrolled = account.updateMfaAuthenticator("totp", rfc6238.totp(mfa_type["secret"]))
    assert set(enrolled) == USER_FIELDS and enrolled["$id"] == user["$id"]
    assert account.updateMFA(True)["mfa"] is True
    assert_sent(client, "PATCH", "/account/mfa", {"mfa": True})
    factors = {"totp": True, "email": False, "phone": False, "recoveryCode": True, "custom": False, "passkey": False}
    assert account.listMfaFactors() == factors
    account.deleteSession("current")

    # A new sign-in stops at the gate until a challenge is answered on /account/mfa/challenge.
    account.createEmailPasswordSession(email, PASSWORD)
    raises(account.get, 401, "user_more_factors_required")
    assert account.listMfaFactors() == factors
    challenge = account.createMfaChallenge("totp")
    assert client.last.status_code == 201
    assert_sent(client, "POST", "/account/mfa/challenge", {"factor": "totp"})
    assert set(challenge) == CHALLENGE_FIELDS and challenge["userId"] == user["$id"]
    assert GENERATED_ID.match(challenge["$id"]) and DATETIME.match(challenge["expire"])
    raises(lambda: account.updateMfaChallenge(challenge["$id"], "000000"), 401, "user_invalid_token")
    session = account.updateMfaChallenge(challenge["$id"], fresh_totp(mfa_type["secret"], enrolled_step))
    assert sent(client).method == "PUT"
    assert set(session) == SESSION_FIELDS and session["factors"] == ["password", "totp"]
    assert DATETIME.match(session["mfaUpdatedAt"])
    assert account.get()["mfa"] is True

    # Right after a challenge: read and renew the recovery codes.
    assert account.getMfaRecoveryCodes() == {"recoveryCodes": codes}
    renewed = account.updateMfaRecoveryCodes()["recoveryCodes"]
    assert_sent(client, "PATCH", "/account/mfa/recovery-codes", {})
    assert len(renewed) == 10 and not set(renewed) & set(codes)
    account.deleteSession("current")

    # The SDK's `recoverycode` spelling; then remove the authenticator, turn MFA off, sign out everywhere.
    account.createEmailPasswordSession(email, PASSWORD)
    challenge = account.createMfaChallenge("recoverycode")
    assert_sent(client, "POST", "/account/mfa/challenge", {"factor": "recoverycode"})
    raises(lambda: account.updateMfaChallenge(challenge["$id"], codes[0]), 401, "user_invalid_token")  # replaced
    session = account.updateMfaChallenge(challenge["$id"], renewed[0])
    assert session["factors"] == ["password", "recoveryCode"]
    assert account.deleteMfaAuthenticator("totp") == NO_CONTENT
    assert client.last.status_code == 204
    assert_sent(client, "DELETE", "/account/mfa/authenticators/totp", {})
    assert account.listMfaFactors()["totp"] is False
    assert account.updateMFA(False)["mfa"] is False
    account.deleteSessions()
    assert client.last.status_code == 204
    assert browser.local_storage[FALLBACK_KEY] == "{}"
    raises(account.get, 401, "general_unauthorized_scope")


# --- avatars and what is not served -----------------------------------------------------------------------------------


def test_qr_download_url(fresh_server: str) -> None:
    """`avatars.getQR(text, size, margin, download)` builds the URL; a browser loads it without the SDK."""
    client = nuvix(fresh_server)
    url = client.url("getQR", "otpauth://totp/My%20App:a@example.com?secret=JBSWY3DPEHPK3PXP", 120, 0, True)
    assert urlsplit(url).query.endswith("&size=120&margin=0&download=true&project=default"), url
    response = load_like_img(url)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == 'attachment; filename="qr.png"'
    assert PIL.Image.open(io.BytesIO(response.content)).size == (120, 120)
    assert decode_qr(response.content).startswith("otpauth://totp/")


def call_not_served(client: Client, name: str) -> None:
    arguments = ["x"] * len(NOT_SERVED[name][2])
    raises(lambda: getattr(client.account, name)(*arguments), 404, "general_route_not_found")


@pytest.mark.parametrize("name", sorted(NOT_SERVED))
def test_methods_not_served_get_route_not_found(fresh_server: str, name: str) -> None:
    """Outside a browser (SSR), the SDK raises a NuvixException the app can handle."""
    call_not_served(Client(fresh_server), name)


@pytest.mark.parametrize("name", sorted(NOT_SERVED))
def test_methods_not_served_answer_a_page_on_another_site(fresh_server: str, name: str) -> None:
    """In a page on another site the 404 must carry the CORS grant, or the app sees a failed fetch, not the error."""
    call_not_served(nuvix(fresh_server), name)


@pytest.mark.parametrize("name", ["createOAuth2Session", "createOAuth2Token"])
def test_oauth2_url_builders_answer_provider_disabled_without_a_configured_provider(fresh_server: str, name: str):
    """The OAuth2 URLs are served (tests/e2e/test_oauth.py runs the flows); a provider this deployment has no
    client id for answers Appwrite's JSON 412, never a redirect."""
    url = nuvix(fresh_server).url(name, "google", "http://localhost:3000/ok", "http://localhost:3000/no", [])
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 412
    assert response.json()["type"] == "project_provider_disabled"


def test_identities_need_a_session(fresh_server: str) -> None:
    client = nuvix(fresh_server)
    raises(client.account.listIdentities, 401, "general_unauthorized_scope")
    raises(lambda: client.account.deleteIdentity("i1"), 401, "general_unauthorized_scope")


@pytest.mark.parametrize("name", sorted(set(URLS) - {"getQR", "createOAuth2Session", "createOAuth2Token"}))
def test_url_builders_not_served(fresh_server: str, name: str) -> None:
    """The browser navigates to the OAuth2 URLs and loads the avatar ones with <img>: a JSON 404, never a redirect."""
    url = nuvix(fresh_server).url(name, *["x"] * len(URLS[name][1]))
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.json()["type"] == "general_route_not_found"
