"""No secret reaches the logs (issue 8, part 1).

Every function of template.yaml is called in-process, through its success and its error paths (wrong
password, wrong code, malformed body, no session, SES refusing), with every Logger at DEBUG. Each
secret the flow handles is collected at the handler boundary (request fields, session headers and
cookies, answers, the dev outbox) and none of them, raw or encoded, may appear in anything written.
How the capture works, and why it cannot silently miss a line: tests/integration/log_secrets.py.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from pydantic import TypeAdapter, ValidationError

from authcore.config import settings
from authcore.security.tokens import decode_credential
from authcore.services.apikeys import create_key
from tests.conftest import FUNCTIONS

from . import conftest
from .admin_fixtures import key_headers, walk_admin
from .conftest import lift_cooldowns
from .log_secrets import Recorder, capture_logs
from .mfa_fixtures import _fresh_module, wrong
from .oauth_fixtures import CLIENT_SECRET as OAUTH_CLIENT_SECRET
from .oauth_fixtures import set_cookie, walk_oauth
from .passkey_fixtures import walk_passkeys
from .test_delivery_failures import Outage
from .test_round_trips import ADMIN_FUNCTIONS

pytestmark = pytest.mark.usefixtures("steady_rate_window")

EMAIL = "ada@example.com"
NEW_EMAIL = "ada.lovelace@example.com"
PHONE = "+14155552671"
APP_URL = "http://localhost:3000/verify"
# Passwords with characters a JSON log escapes, so only a search that knows the escaping finds them.
PASSWORD = 'Ada "Countess" of Lovelace \u2013 1815'
NEW_PASSWORD = "analytical engine \\ difference engine"
WRONG_PASSWORD = "Babbage's wrong guess 1834"
# Secrets only ever sent in malformed requests (wrong type, not JSON, forged).
MISTYPED_PASSWORD = "mistyped-password-4f1c9e"
RAW_BODY_PASSWORD = "raw-body-password-77d0a2"
BEARER = "bearer-token-planted-9b3e51d2"
# On every request: what a client or a server SDK may send besides the session (and a server API key,
# see `recorded`).
PLANTED_HEADERS = {"Authorization": f"Bearer {BEARER}"}
# Functions with a single outcome: a preflight always answers 204, an unknown route always 404.
ONE_OUTCOME = {"cors_preflight", "route_not_found"}


@pytest.fixture
def logs(capfd, monkeypatch):
    yield from capture_logs(capfd, monkeypatch)


@pytest.fixture
def load_handler(request, monkeypatch):
    """How the harness gets a function's handler; with the param "events logged whole", as with
    POWERTOOLS_LOGGER_LOG_EVENT=true (a debugging switch): each handler first logs its event. The
    switch is read when a handler is decorated, so each function is then loaded afresh."""
    if getattr(request, "param", None) != "events logged whole":
        return conftest.load_handler
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    modules: dict[str, Any] = {}

    def load(function):
        if function.name not in modules:
            modules[function.name] = _fresh_module(function)
        return getattr(modules[function.name], function.handler)

    return load


@pytest.fixture
def recorded(api, logs, monkeypatch, load_handler) -> Recorder:
    # A real server API key on every request: sign-ins then answer with the session secret (SSR), and
    # the key itself is one more secret to look for.
    _, key = create_key("planted", ["sessions.write", "users.read", "users.write"])
    recorder = Recorder(logs, {**PLANTED_HEADERS, "X-Appwrite-Key": key})
    monkeypatch.setattr(conftest, "load_handler", recorder.wrap(load_handler))
    return recorder


@pytest.fixture
def outage(aws_emulation):
    outage = Outage()
    yield outage
    outage.heal()


def expect(answer, status: int):
    assert answer.status == status, answer.body
    return answer


# --- the flow ------------------------------------------------------------------------------------


def account_and_password(api) -> str:
    """Sign up, sign in, change profile and password, manage sessions; a live password session."""
    sign_up = {"userId": "unique()", "email": EMAIL, "password": PASSWORD, "name": "Ada"}
    expect(api("create_account", sign_up), 201)
    expect(api("create_account", sign_up), 409)
    expect(api("create_account", {**sign_up, "email": "b@example.com", "password": [MISTYPED_PASSWORD]}), 400)
    expect(api("create_account", f"userId=unique()&password={RAW_BODY_PASSWORD}"), 400)

    expect(api("create_email_password_session", {"email": EMAIL, "password": WRONG_PASSWORD}), 401)
    expect(api("create_email_password_session", {"email": EMAIL, "password": {"value": MISTYPED_PASSWORD}}), 400)
    other = expect(api.sign_in(EMAIL, PASSWORD), 201).credential
    alias = api("create_email_password_session", {"email": EMAIL, "password": PASSWORD}, route="/account/sessions")
    session = expect(alias, 201).credential

    # The credential through each transport a client uses, and a forged one.
    expect(api("get_account", session=session), 200)
    expect(api("get_account", headers={"Cookie": f"a_session_default={session}"}), 200)
    expect(api("get_account", headers={"X-Fallback-Cookies": f'{{"a_session_default":"{session}"}}'}), 200)
    forged = f"{session[:-8]}AAAAAAA="
    expect(api("get_account", session=forged), 401)
    expect(api("get_account", session=session, headers={"X-Appwrite-Project": "another"}), 404)

    expect(api("update_name", {"name": "Ada King"}, session=session), 200)
    expect(api("update_name", {"name": 1815}, session=session), 400)
    expect(api("get_prefs", session=session), 200)
    expect(api("get_prefs"), 401)
    expect(api("update_prefs", {"prefs": {"theme": "dark"}}, session=session), 200)
    expect(api("update_prefs", {"prefs": "dark"}, session=session), 400)
    expect(api("update_email", {"email": NEW_EMAIL, "password": WRONG_PASSWORD}, session=session), 401)
    expect(api("update_email", {"email": NEW_EMAIL, "password": PASSWORD}, session=session), 200)
    expect(api("update_phone", {"phone": PHONE, "password": WRONG_PASSWORD}, session=session), 401)
    expect(api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=session), 200)

    expect(api("list_sessions", session=session), 200)
    expect(api("list_sessions"), 401)
    expect(api("get_session", session=session, path={"sessionId": "current"}), 200)
    expect(api("get_session", session=session, path={"sessionId": "nosuchsession"}), 404)
    expect(api("update_session", session=session, path={"sessionId": "current"}), 200)
    expect(api("update_session", session=session, path={"sessionId": "nosuchsession"}), 404)

    # JWTs (API.md §8): bearer credentials too, in answers and in the X-Appwrite-JWT header.
    jwt = expect(api("create_jwt", {"duration": 60}, session=session), 201).body["jwt"]
    expect(api("create_jwt", {"duration": 4000}, session=session), 400)
    expect(api("get_account", headers={"X-Appwrite-JWT": jwt}), 200)
    expect(api("get_account", headers={"X-Appwrite-JWT": jwt[:-6] + "AAAAAA"}), 401)
    expect(api("users_create_jwt", {}, path={"userId": decode_credential(session)[0]}), 201)
    expect(api("users_create_jwt", {}, path={"userId": "nosuchuser"}), 404)
    for public in ("get_openid_configuration", "get_jwks"):
        expect(api(public), 200)
        expect(api(public, headers={"X-Appwrite-Project": "another"}), 404)
    other_id = expect(api("get_session", session=other, path={"sessionId": "current"}), 200).body["$id"]
    expect(api("delete_session", session=session, path={"sessionId": other_id}), 204)
    expect(api("delete_session", session=session, path={"sessionId": "nosuchsession"}), 404)

    expect(api("update_password", {"password": NEW_PASSWORD, "oldPassword": WRONG_PASSWORD}, session=session), 401)
    expect(api("update_password", {"password": [MISTYPED_PASSWORD], "oldPassword": PASSWORD}, session=session), 400)
    expect(api("update_password", {"password": NEW_PASSWORD, "oldPassword": PASSWORD}, session=session), 200)
    expect(api("list_logs", session=session), 200)  # the failed sign-in and its ip are there, no password
    expect(api("list_logs", session=session, query={"queries[0]": "not json"}), 400)
    # Self-block, of an account of its own (a blocked one is of no further use to the flow).
    expect(api("create_account", {**sign_up, "email": "blocked@example.com"}), 201)
    expect(api("update_status", {}), 401)
    blocked = expect(api.sign_in("blocked@example.com", PASSWORD), 201).credential
    expect(api("update_status", {}, session=blocked), 200)
    return session


def verification(api, sent, session: str, user_id: str) -> None:
    """Verify the email (by its link) and the phone (by its code), after a wrong secret each."""
    expect(api("create_email_verification", {"url": "https://evil.example/"}, session=session), 400)
    expect(api("create_email_verification", {"url": APP_URL}, session=session), 201)
    link_secret = sent.link(NEW_EMAIL).split("secret=")[1].split("&")[0]
    expect(api("update_email_verification", {"userId": user_id, "secret": link_secret[::-1]}), 401)
    expect(api("update_email_verification", {"userId": user_id, "secret": link_secret}), 200)

    expect(api("create_phone_verification", {}), 401)
    expect(api("create_phone_verification", {}, session=session), 201)
    code = sent.code(PHONE)
    expect(api("update_phone_verification", {"userId": user_id, "secret": wrong(code)}), 401)
    expect(api("update_phone_verification", {"userId": user_id, "secret": code}), 200)


def code_sign_in(api, sent, outage) -> None:
    """Sign in by an emailed code (with a phrase) and by an SMS code; SES refusing once."""
    lift_cooldowns()
    outage.start("ses", "refused")
    expect(api("create_email_token", {"userId": "unique()", "email": NEW_EMAIL}), 503)
    outage.heal()
    expect(api("create_email_token", {"userId": "unique()", "email": 5}), 400)
    token = expect(api("create_email_token", {"userId": "unique()", "email": NEW_EMAIL, "phrase": True}), 201).body
    assert token["phrase"]
    code = sent.code(NEW_EMAIL)
    expect(api("create_session", {"userId": token["userId"], "secret": wrong(code)}), 401)
    expect(api("create_session", {"userId": token["userId"], "secret": [code]}), 400)
    expect(api("create_session", {"userId": token["userId"], "secret": code}), 201)

    lift_cooldowns()
    expect(api("create_phone_token", {"userId": "unique()", "phone": "not a phone"}), 400)
    token = expect(api("create_phone_token", {"userId": "unique()", "phone": PHONE}), 201).body
    expect(api("create_session", {"userId": token["userId"], "secret": sent.code(PHONE)}), 201)


def links_and_anonymous(api, sent) -> None:
    """Issue 17: a sign-in link exchanged through both deprecated aliases, an anonymous session that sets an email
    and verifies it by code; each after a refusal."""
    email = "links@example.com"
    expect(api("create_magic_url_token", {"userId": "unique()", "email": email, "url": "https://evil.example/"}), 400)
    for alias in ("update_magic_url_session", "update_phone_session"):
        lift_cooldowns()
        token = expect(api("create_magic_url_token", {"userId": "unique()", "email": email, "url": APP_URL}), 201).body
        secret = sent.link(email).split("secret=")[1].split("&")[0]
        expect(api(alias, {"userId": token["userId"], "secret": secret[::-1]}), 401)
        expect(api(alias, {"userId": token["userId"], "secret": secret}), 201)

    anonymous = expect(api("create_anonymous_session", {}), 201).credential
    expect(api("create_anonymous_session", {}, session=anonymous), 401)
    user_id = expect(api("get_account", session=anonymous), 200).body["$id"]
    expect(api("update_email", {"email": "anonymous@example.com", "password": ""}, session=anonymous), 200)
    expect(api("create_email_verification_otp", {}), 401)
    expect(api("create_email_verification_otp", {"phrase": True}, session=anonymous), 201)
    code = sent.code("anonymous@example.com")
    expect(api("update_email_verification_otp", {"userId": user_id, "secret": wrong(code)}), 401)
    expect(api("update_email_verification_otp", {"userId": user_id, "secret": code}), 200)


def mfa(api, sent, session: str, totp_clock) -> None:
    """Recovery codes, an authenticator (and its QR code), MFA on, a sign-in finished by each factor,
    then everything undone by the last of those sessions."""
    recovery = expect(api("create_mfa_recovery_codes", {}, session=session), 201).body["recoveryCodes"]
    expect(api("create_mfa_recovery_codes", {}, session=session), 409)
    expect(api("create_mfa_authenticator", {}, session=session, path={"type": "sms"}), 400)
    authenticator = expect(api("create_mfa_authenticator", {}, session=session, path={"type": "totp"}), 200).body
    expect(api("get_qr", query={"text": authenticator["uri"]}), 200)
    expect(api("get_qr", query={"text": authenticator["uri"], "size": "0"}), 400)
    guess = {"otp": totp_clock.wrong_code(authenticator["secret"])}
    expect(api("update_mfa_authenticator", guess, session=session, path={"type": "totp"}), 401)
    otp = {"otp": totp_clock.code(authenticator["secret"])}
    expect(api("update_mfa_authenticator", otp, session=session, path={"type": "totp"}), 200)
    expect(api("update_mfa", {"mfa": "on"}, session=session), 400)
    expect(api("update_mfa", {"mfa": True}, session=session), 200)

    # The password session is one factor short now: what needs the second factor is refused.
    expect(api("get_mfa_recovery_codes", session=session), 401)
    expect(api("update_mfa_recovery_codes", {}, session=session), 401)
    expect(api("delete_mfa_authenticator", session=session, path={"type": "totp"}), 401)
    expect(api("list_mfa_factors"), 401)
    expect(api("list_mfa_factors", session=session), 200)
    expect(api("create_mfa_challenge", {"factor": "carrier pigeon"}, session=session), 400)

    secret = authenticator["secret"]
    factors = {  # factor: (the right answer, a wrong one), read once the challenge was sent
        "email": lambda: (sent.code(NEW_EMAIL), wrong(sent.code(NEW_EMAIL))),
        "phone": lambda: (sent.code(PHONE), wrong(sent.code(PHONE))),
        "totp": lambda: (totp_clock.code(secret), totp_clock.wrong_code(secret)),
        "recoverycode": lambda: (recovery[0], recovery[0][::-1]),
    }
    for factor, answers in factors.items():
        lift_cooldowns()
        totp_clock.next_step()
        credential = expect(api.sign_in(NEW_EMAIL, NEW_PASSWORD), 201).credential
        challenge = expect(api("create_mfa_challenge", {"factor": factor}, session=credential), 201).body["$id"]
        otp, guess = answers()
        expect(api("update_mfa_challenge", {"challengeId": challenge, "otp": [otp]}, session=credential), 400)
        expect(api("update_mfa_challenge", {"challengeId": challenge, "otp": otp}), 401)
        expect(api("update_mfa_challenge", {"challengeId": challenge, "otp": guess}, session=credential), 401)
        expect(api("update_mfa_challenge", {"challengeId": challenge, "otp": otp}, session=credential), 200)

    # The last session has a recent challenge: it may read and renew the codes, and undo it all.
    expect(api("get_mfa_recovery_codes", session=credential), 200)
    expect(api("update_mfa_recovery_codes", {}, session=credential), 200)
    expect(api("delete_mfa_authenticator", session=credential, path={"type": "totp"}), 204)
    expect(api("update_mfa", {"mfa": False}, session=credential), 200)
    expect(api("delete_sessions", session=credential), 204)
    expect(api("delete_sessions", session=credential), 401)


def password_recovery(api, sent, outage, user_id: str) -> None:
    """Reset the password by link and by code (the same password again), after a wrong secret each; an email no
    account holds; SES refusing once."""
    lift_cooldowns()
    expect(api("create_recovery", {"email": NEW_EMAIL, "url": "https://evil.example/"}), 400)
    expect(api("create_recovery", {"email": NEW_EMAIL, "url": APP_URL}), 201)
    expect(api("create_recovery", {"email": "nobody@example.com", "url": APP_URL}), 201)
    link_secret = sent.link(NEW_EMAIL).split("secret=")[1].split("&")[0]
    reset = {"userId": user_id, "secret": link_secret, "password": NEW_PASSWORD}
    expect(api("update_recovery", {**reset, "secret": link_secret[::-1]}), 401)
    expect(api("update_recovery", {**reset, "password": [MISTYPED_PASSWORD]}), 400)
    expect(api("update_recovery", reset), 200)

    lift_cooldowns()
    outage.start("ses", "refused")
    expect(api("create_recovery_otp", {"email": NEW_EMAIL}), 503)
    outage.heal()
    expect(api("create_recovery_otp", {"email": NEW_EMAIL, "phrase": True}), 201)
    code = sent.code(NEW_EMAIL)
    expect(api("update_recovery_otp", {**reset, "secret": wrong(code)}), 401)
    expect(api("update_recovery_otp", {**reset, "secret": code}), 200)


def the_rest(api) -> None:
    """A CORS preflight and an unknown route."""
    expect(api("cors_preflight"), 204)
    expect(api("route_not_found", {"password": MISTYPED_PASSWORD}), 404)


def users_api(api, sent, totp_clock) -> None:
    """Every Users API function (the planted key has every scope): its success path, and a user it lacks."""
    walk_admin(api, sent, lambda _, answer: answer, code=totp_clock.code)
    for function in ADMIN_FUNCTIONS:  # a user it lacks, a body or query it refuses
        path = {"userId": "nobody", "type": "totp", "sessionId": "none"}
        bodies = {"users_update_mfa": {"mfa": False}, "users_create": {"userId": "-", "password": WRONG_PASSWORD}}
        answer = api(function, bodies.get(function), path=path, query={})
        if function == "users_list":
            answer = api(function, query={"queries[0]": "not json"})
        assert answer.status >= 400, (function, answer.body)


def passkeys(api, sent) -> None:
    """Every passkey function (API.md §9): its success path (walk_passkeys), and a refusal each."""
    walk_passkeys(api, sent, lambda _, answer: answer)
    expect(api("list_passkeys"), 401)
    expect(api("create_passkey", {}), 401)
    one, both = {"passkeyId": "none"}, {"userId": "nobody", "passkeyId": "none"}
    session = api.session_for("passkeys@example.com")  # MFA is on: one factor short
    for function, body in (("get_passkey", None), ("update_passkey", {"name": "x"}), ("delete_passkey", {})):
        expect(api(function, body, session=session, path=one), 401)
    expect(api("update_passkey_verification", {"credential": {"id": "x"}}, session=session, path=one), 401)
    expect(api("create_passkey_token", {}, headers={"X-Appwrite-Project": "another"}), 404)
    expect(api("update_passkey_token", {"challengeId": "none", "credential": {"id": "x"}}), 401)
    for function, body in (
        ("users_list_passkeys", None),
        ("users_get_passkey", None),
        ("users_update_passkey", {"name": "x"}),
        ("users_delete_passkey", {}),
    ):
        expect(api(function, body, path=both), 404)


def social_sign_in(api, idp, secrets) -> None:
    """Every OAuth function (the walk), then a refusal each; what only the provider and the redirects carry."""
    answers = []
    walk_oauth(api, idp, lambda _, answer: answers.append(answer) or answer, key_headers())
    for answer in answers:
        location = answer.header("location") or ""
        for name, values in parse_qs(urlsplit(location).query).items():
            if name in ("state", "nonce", "code_challenge", "secret"):
                secrets.add(f"oauth2 {name} in a redirect", values)
        secrets.add("oauth2 flow cookie", set_cookie(answer, "a_oauth2_default"))
    secrets.add("oauth2 provider code or token", idp.issued)
    secrets.add("oauth2 client secret", OAUTH_CLIENT_SECRET)
    foreign = {"success": "https://evil.example/x"}
    for function in ("create_oauth2_session", "create_oauth2_token"):
        assert api(function, query=foreign, path={"provider": "oidc"}).status == 400
    refused = api(
        "oauth2_callback", query={"code": "c", "state": "s"}, path={"provider": "oidc", "projectId": "default"}
    )
    assert refused.status == 401
    assert api("create_id_token_session", {"provider": "oidc", "idToken": "x.y.z"}).status == 401
    assert api("list_identities").status == 401
    assert api("delete_identity", path={"identityId": "none"}).status == 401
    assert api("users_list_identities", query={"queries[0]": "not json"}).status == 400
    assert api("users_delete_identity", path={"identityId": "none"}).status == 404


@pytest.fixture
def flow(recorded, api, sent, outage, totp_clock, idp) -> Recorder:
    """The whole flow, recorded; then the secrets only the outbox and the server hold."""
    session = account_and_password(api)
    user_id = expect(api("get_account", session=session), 200).body["$id"]
    verification(api, sent, session, user_id)
    code_sign_in(api, sent, outage)
    links_and_anonymous(api, sent)
    mfa(api, sent, session, totp_clock)
    password_recovery(api, sent, outage, user_id)
    the_rest(api)
    users_api(api, sent, totp_clock)
    passkeys(api, sent)
    social_sign_in(api, idp, recorded.secrets)
    recorded.secrets.from_outbox(sent.outbox.entries())
    recorded.secrets.add("request password (raw body)", RAW_BODY_PASSWORD)
    key = boto3.client("secretsmanager").get_secret_value(SecretId=settings().code_key_secret)["SecretString"]
    recorded.secrets.add("code key", key)
    recorded.logs.read()  # this runs in the setup phase, whose capture ends with it
    return recorded


# --- the tests -----------------------------------------------------------------------------------


def test_the_capture_sees_every_way_a_function_can_log(recorded, api, logs, monkeypatch):
    """If this fails, the other tests here prove nothing: their capture would miss lines."""
    from authcore.observability import logger as service_logger
    from authcore.services import verification
    from authcore.services.codes import logger as child_logger

    service_logger.debug("marker-service-debug")
    child_logger.debug("marker-child-debug")
    logging.getLogger("botocore.credentials").warning("marker-library-warning")
    print("marker-print")
    print("marker-stderr", file=sys.stderr)
    os.write(1, b"marker-fd\n")

    def fails(body, caller):
        raise RuntimeError("marker-unhandled-error")

    monkeypatch.setattr(verification, "update_email_verification", fails)
    expect(api("update_email_verification", {"userId": "ada", "secret": "0" * 64}), 500)
    [invocation] = recorded.invocations
    assert "RuntimeError" in invocation.logs and invocation.request_id in invocation.logs
    for marker in ("service-debug", "child-debug", "library-warning", "print", "stderr", "fd"):
        assert f"marker-{marker}" in logs.text, marker


# Every kind of secret the flow must have met, or the search below proves less than it seems.
KINDS = {
    "request password",
    "request oldPassword",
    "request secret",
    "request otp",
    "request password (raw body)",
    "X-Appwrite-Session header",
    "X-Appwrite-Session header (its decoded secret)",
    "session cookie sent",
    "session cookie sent (its decoded secret)",
    "X-Fallback-Cookies sent (whole header)",
    "X-Fallback-Cookies answered (whole header)",
    "session cookie set",
    "session cookie set (its decoded secret)",
    "Authorization header",
    "X-Appwrite-Key header",
    "X-Appwrite-JWT header",
    "JWT",
    "TOTP secret",
    "otpauth URI",
    "recovery code",
    "phrase",
    "six-digit code sent",
    "verification link secret",
    "code key",
    "oauth2 state in a redirect",
    "oauth2 nonce in a redirect",
    "oauth2 secret in a redirect",
    "oauth2 flow cookie",
    "oauth2 provider code or token",
    "oauth2 client secret",
}


def test_no_secret_reaches_the_logs_through_any_endpoint(flow, logs):
    statuses: dict[str, set[int]] = {}
    for invocation in flow.invocations:
        statuses.setdefault(invocation.function, set()).add(invocation.status)
    assert statuses.keys() == FUNCTIONS.keys()
    for name, seen in statuses.items():
        if name not in ONE_OUTCOME:
            succeeded = any(s < 300 or s == 302 for s in seen)  # the OAuth2 flows succeed with a redirect
            assert succeeded and any(s >= 400 for s in seen), (name, seen)
    assert flow.secrets.all_kinds() >= KINDS
    # The account flow: two sets of ten. The Users API walk: its user's own set (which the API shows
    # again), the set it regenerates, and a first set for another user.
    assert len(flow.secrets.of_kind("recovery code")) == 20 + 30

    # The capture holds every request's line (the preflight's: see the next test) and the SES refusal.
    silent = {i.function for i in flow.invocations if i.function != "cors_preflight" and i.request_id not in i.logs}
    assert not silent
    assert "message not sent" in next(i.logs for i in flow.invocations if i.status == 503)
    assert_no_leak(flow, logs)


@pytest.mark.parametrize("load_handler", ["events logged whole"], indirect=True)
def test_no_secret_reaches_the_logs_when_events_are_logged_whole(flow, logs):
    assert any('"httpMethod"' in i.logs for i in flow.invocations)  # the events were logged
    assert_no_leak(flow, logs)


def assert_no_leak(flow: Recorder, logs) -> None:
    """No secret in any invocation's lines (reported by function and kind), nor anywhere else."""
    leaks = {i.function: kinds for i in flow.invocations if (kinds := flow.secrets.leaked_into(i.logs))}
    assert not leaks
    leaked = flow.secrets.leaked_into(logs.text)
    assert not leaked


def test_a_preflight_logs_its_request_id(recorded, api):
    expect(api("cors_preflight"), 204)
    [invocation] = recorded.invocations
    assert invocation.request_id in invocation.logs


def test_denied_fields_of_a_child_loggers_line_are_redacted(logs):
    """The deny-list applies to what a module's child Logger adds, too (they share the service's handler)."""
    from authcore.services.codes import logger

    logger.info("planted", extra={"password": MISTYPED_PASSWORD, "headers": {"Authorization": f"Bearer {BEARER}"}})
    text = logs.text
    assert "planted" in text
    assert MISTYPED_PASSWORD not in text and BEARER not in text


def echoed_by_pydantic(password: str) -> Exception:
    """What pydantic raises for a value of the wrong type: its text quotes the value."""
    try:
        TypeAdapter(int).validate_python(password)
    except ValidationError as error:
        return error
    raise AssertionError("pydantic accepted a password as an int")


def carried_in_a_note(password: str) -> Exception:
    """An error with a note (Python 3.11's add_note; libraries add context to errors this way)."""
    error = RuntimeError("store refused the item")
    error.add_note(f"while writing {password}")
    return error


@pytest.mark.parametrize(
    "raised",
    [echoed_by_pydantic, carried_in_a_note],
)
def test_a_secret_in_an_unexpected_errors_text_is_not_logged(raised, recorded, api, logs, monkeypatch):
    """An error escaping a service whose text quotes the request's password must not carry it into
    the "unhandled error" line (its type and stack are enough to find the bug)."""
    from authcore.services import accounts

    def fails(body, caller):
        raise raised(body.password)

    monkeypatch.setattr(accounts, "create_account", fails)
    expect(api("create_account", {"userId": "unique()", "email": EMAIL, "password": PASSWORD}), 500)
    [invocation] = recorded.invocations
    assert "unhandled error" in invocation.logs and invocation.request_id in invocation.logs
    leaked = recorded.secrets.leaked_into(logs.text)
    assert not leaked
