"""The request walk every in-process measurement shares: each function once along its success path.

The events, the event building and the outbox come from the integration harness
(tests/integration/conftest.py), so the bench sends what the tests send. Importing this module
sets the process up as tests/conftest.py does (template environment, fake credentials).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import FUNCTIONS  # first: it sets the environment authcore reads at import
from tests.integration import conftest as integration
from tests.integration.admin_fixtures import key_headers, walk_admin
from tests.integration.conftest import PASSWORD, Answer, lift_cooldowns
from tests.integration.oauth_fixtures import walk_oauth
from tests.integration.passkey_fixtures import walk_passkeys
from tests.rfc6238 import totp

TOTP = {"type": "totp"}
# Walked only with a provider (walk's `idp`): the in-process fake cannot answer a cold start's own process, so the
# cold-start bench leaves them out (their first request is a redirect or a provider call; docs/performance.md).
NEEDS_PROVIDER = frozenset(
    {
        "create_oauth2_session",
        "create_oauth2_token",
        "oauth2_callback",
        "create_id_token_session",
        "list_identities",
        "delete_identity",
        "users_list_identities",
        "users_delete_identity",
    }
)
Dispatch = Callable[[Any, dict[str, Any], Any], dict[str, Any]]  # (function, event, context) -> result


def use_template_log_level() -> None:
    """tests/conftest.py quiets logging; the bench keeps the template's level, as a deployment runs."""
    os.environ.update(next(iter(FUNCTIONS.values())).environment)
    os.environ.pop("POWERTOOLS_LOG_LEVEL", None)


class Api(integration.Api):
    """The integration harness's caller, from a fixed source IP, with `dispatch` running each handler."""

    def __init__(self, dispatch: Dispatch, ip: str) -> None:
        super().__init__(integration.DynamoCalls())
        self.ip = ip
        integration.load_handler = lambda function: lambda event, context: dispatch(function, event, context)

    def __call__(self, name: str, body: Any = None, **kwargs: Any) -> Answer:
        kwargs.setdefault("ip", self.ip)
        return super().__call__(name, body, **kwargs)


def _ok(answer: Answer, what: str, status: int | None = None) -> Answer:
    expected = answer.status == status if status else answer.status < 300
    if not expected:
        raise RuntimeError(f"{what}: HTTP {answer.status} {json.dumps(answer.body)[:300]}")
    return answer


def _link_secret(sent: integration.Sent, address: str) -> str:
    return parse_qs(urlsplit(sent.link(address)).query)["secret"][0]


def walk(api: Api, run: int, idp: Any = None) -> None:
    """Call every function of the template, each first along its success path (run: unique addresses).

    The social sign-in functions need a provider: they are walked when `idp` (oauth_fixtures.FakeIdp, the
    generic OIDC provider configured) is given."""
    from authcore.security.tokens import decode_credential  # after tests.conftest set the environment

    sent = integration.Sent()
    email, email2, email3 = (f"bench{run}-{n}@example.com" for n in range(3))
    phone, phone2 = f"+1415555{run % 10000:04d}", f"+1415556{run % 10000:04d}"

    _ok(api("cors_preflight"), "cors_preflight")
    _ok(api("route_not_found"), "route_not_found", 404)
    _ok(api("get_qr"), "get_qr")
    _ok(api("create_account", {"userId": "unique()", "email": email, "password": PASSWORD}), "create_account")
    session = _ok(api.sign_in(email), "sign in").credential
    other = _ok(api.sign_in(email), "sign in").credential
    user_id = decode_credential(session)[0]
    for name, body in [
        ("get_account", None),
        ("get_prefs", None),
        ("list_sessions", None),
        ("update_name", {"name": "Ada"}),
        ("update_prefs", {"prefs": {"theme": "dark"}}),
    ]:
        _ok(api(name, body, session=session), name)
    other_id = _ok(api("get_session", session=other, path={"sessionId": "current"}), "get_session").body["$id"]
    # JWTs (issue 18): minted by the session and by a server key, verified against the published keys.
    _ok(api("create_jwt", {}, session=session), "create_jwt")
    _ok(api("users_create_jwt", {}, path={"userId": user_id}, headers=key_headers()), "users_create_jwt")
    _ok(api("get_openid_configuration"), "get_openid_configuration")
    _ok(api("get_jwks"), "get_jwks")

    _ok(api("create_email_verification", {"url": "http://localhost:3000/v"}, session=session), "email verification")
    secret = _link_secret(sent, email)
    _ok(api("update_email_verification", {"userId": user_id, "secret": secret}), "update_email_verification")
    _ok(api("update_phone", {"phone": phone, "password": PASSWORD}, session=session), "update_phone")
    _ok(api("create_phone_verification", {}, session=session), "create_phone_verification")
    code = sent.code(phone)
    _ok(api("update_phone_verification", {"userId": user_id, "secret": code}), "update_phone_verification")
    lift_cooldowns()  # the MFA codes below go to the addresses just verified

    _ok(api("list_mfa_factors", session=session), "list_mfa_factors")
    _ok(api("create_mfa_recovery_codes", {}, session=session), "create_mfa_recovery_codes")
    secret = _ok(api("create_mfa_authenticator", {}, session=session, path=TOTP), "authenticator").body["secret"]
    _ok(api("update_mfa_authenticator", {"otp": totp(secret)}, session=session, path=TOTP), "verify authenticator")
    _ok(api("update_mfa", {"mfa": True}, session=session), "mfa on")
    mfa_session = _ok(api.sign_in(email), "sign in").credential
    for factor, code_of in [("email", lambda: sent.code(email)), ("totp", lambda: totp(secret, offset_steps=1))]:
        challenge = _ok(api("create_mfa_challenge", {"factor": factor}, session=mfa_session), "challenge").body
        body = {"challengeId": challenge["$id"], "otp": code_of()}
        _ok(api("update_mfa_challenge", body, session=mfa_session), f"{factor} challenge completed")
    _ok(api("get_mfa_recovery_codes", session=mfa_session), "get_mfa_recovery_codes")
    _ok(api("update_mfa_recovery_codes", {}, session=mfa_session), "update_mfa_recovery_codes")
    _ok(api("delete_mfa_authenticator", session=mfa_session, path=TOTP), "delete_mfa_authenticator")
    _ok(api("update_mfa", {"mfa": False}, session=mfa_session), "mfa off")

    _ok(api("update_session", session=session, path={"sessionId": "current"}), "update_session")
    _ok(api("delete_session", session=session, path={"sessionId": other_id}), "delete_session")
    _ok(api("update_email", {"email": email2, "password": PASSWORD}, session=session), "update_email")
    new_password = {"password": "new password 123", "oldPassword": PASSWORD}
    _ok(api("update_password", new_password, session=session), "update_password")
    _ok(api("delete_sessions", session=session), "delete_sessions")

    token = _ok(api("create_email_token", {"userId": "unique()", "email": email3}), "create_email_token").body
    _ok(api("create_session", {"userId": token["userId"], "secret": sent.code(email3)}), "create_session")
    _ok(api("create_phone_token", {"userId": "unique()", "phone": phone2}), "create_phone_token")
    # Issue 17: a sign-in link through the token route and both deprecated aliases, an anonymous session that sets
    # an email and verifies it by code.
    for exchange in ("create_session", "update_magic_url_session", "update_phone_session"):
        address = f"{exchange}-{email3}"
        link = {"userId": "unique()", "email": address, "url": "http://localhost:3000/m"}
        token = _ok(api("create_magic_url_token", link), "create_magic_url_token").body
        _ok(api(exchange, {"userId": token["userId"], "secret": _link_secret(sent, address)}), exchange)
    anonymous = _ok(api("create_anonymous_session", {}), "create_anonymous_session").credential
    _ok(api("update_email", {"email": f"anonymous-{email3}", "password": ""}, session=anonymous), "update_email")
    _ok(api("create_email_verification_otp", {}, session=anonymous), "create_email_verification_otp")
    code = {"userId": decode_credential(anonymous)[0], "secret": sent.code(f"anonymous-{email3}")}
    _ok(api("update_email_verification_otp", code), "update_email_verification_otp")
    # The activity log, then the account blocks itself (issue 17): its sessions end.
    _ok(api("list_logs", session=anonymous), "list_logs")
    _ok(api("update_status", {}, session=anonymous), "update_status")
    # Password recovery by link and by code (issue 17), on the account whose sessions just ended.
    lift_cooldowns()
    _ok(api("create_recovery", {"email": email2, "url": "http://localhost:3000/r"}), "create_recovery")
    reset = {"userId": user_id, "secret": _link_secret(sent, email2), "password": "recovered password 1"}
    _ok(api("update_recovery", reset), "update_recovery")
    lift_cooldowns()
    _ok(api("create_recovery_otp", {"email": email2}), "create_recovery_otp")
    reset = {"userId": user_id, "secret": sent.code(email2), "password": "recovered password 2"}
    _ok(api("update_recovery_otp", reset), "update_recovery_otp")
    # The Users API with a server API key (issue 9), as its round-trip test walks it.
    walk_admin(api, sent, lambda what, answer: _ok(answer, what), tag=f"-bench{run}")
    if idp is not None:
        # The browser flows answer redirects: 302 is their success.
        walk_oauth(
            api, idp, lambda what, answer: _ok(answer, what, 302 if answer.status == 302 else None), key_headers()
        )
    # Passkeys (issue 19), with the tests' software authenticator, as their round-trip test walks them.
    walk_passkeys(api, sent, lambda what, answer: _ok(answer, what), tag=f"-bench{run}")
