"""The Users API (issue 9) for integration tests: server API keys and a support-desk walk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authcore.services.apikeys import create_key
from tests.rfc6238 import totp

from .conftest import PASSWORD, Answer, Api
from .mfa_fixtures import (
    create_authenticator,
    create_recovery_codes,
    sign_up_and_in,
    verify_authenticator,
    verify_email,
)

ALL_SCOPES = ["users.read", "users.write", "sessions.write"]


def key_headers(*scopes: str, name: str = "support-desk") -> dict[str, str]:
    return {"X-Appwrite-Key": create_key(name, list(scopes or ALL_SCOPES))[1]}


def locked_out_user(
    api: Api, sent, email: str = "locked@example.com", code: Callable[[str], str] = totp
) -> dict[str, Any]:
    """A user with a verified email, recovery codes, a verified authenticator and MFA on; and a session."""
    ada = sign_up_and_in(api, email)
    verify_email(api, sent, ada.credential, email)
    create_recovery_codes(api, ada.credential)
    secret = create_authenticator(api, ada.credential)["secret"]
    assert verify_authenticator(api, ada.credential, code(secret)).status == 200
    assert api("update_mfa", {"mfa": True}, session=ada.credential).status == 200
    return {"userId": ada.user_id, "session": ada.credential, "email": email}


def walk_admin(
    api: Api, sent, step: Callable[[str, Answer], Answer], code: Callable[[str], str] = totp, tag: str = ""
) -> dict[str, Any]:
    """Every Users API function along its success path, as a support desk would: `step(function, answer)`
    sees each answer; `code(secret)` is the authenticator's current code; `tag` makes the addresses unique
    (for walks repeated on one table). Returns the user it acted on."""
    headers = key_headers()
    user = locked_out_user(api, sent, f"locked{tag}@example.com", code=code)
    target = {"userId": user["userId"]}
    step("users_get", api("users_get", path=target, headers=headers))
    step("users_list_mfa_factors", api("users_list_mfa_factors", path=target, headers=headers))
    step("users_list_sessions", api("users_list_sessions", path=target, headers=headers))
    step("users_list_logs", api("users_list_logs", path=target, headers=headers))
    step("users_get_mfa_recovery_codes", api("users_get_mfa_recovery_codes", path=target, headers=headers))
    step("users_update_mfa_recovery_codes", api("users_update_mfa_recovery_codes", {}, path=target, headers=headers))
    step("users_update_mfa", api("users_update_mfa", {"mfa": False}, path=target, headers=headers))
    totp_type = {**target, "type": "totp"}
    step("users_delete_mfa_authenticator", api("users_delete_mfa_authenticator", path=totp_type, headers=headers))
    fresh = sign_up_and_in(api, f"fresh{tag}@example.com")  # no recovery codes yet
    fresh_target = {"userId": fresh.user_id}
    created = api("users_create_mfa_recovery_codes", {}, path=fresh_target, headers=headers)
    step("users_create_mfa_recovery_codes", created)
    session_id = api("get_session", session=user["session"], path={"sessionId": "current"}).body["$id"]
    by_id = {**target, "sessionId": session_id}
    step("users_delete_session", api("users_delete_session", path=by_id, headers=headers))
    step("users_delete_sessions", api("users_delete_sessions", path=fresh_target, headers=headers))

    made = {"userId": "unique()", "email": f"made{tag}@example.com", "password": PASSWORD, "name": "Made"}
    made_id = step("users_create", api("users_create", made, headers=headers)).body["$id"]
    made_target = {"userId": made_id}
    listing = {"queries[0]": '{"method":"limit","values":[1]}', "search": f"made{tag}@"}
    step("users_list", api("users_list", query=listing, headers=headers))
    verified = {"emailVerification": True}
    step(
        "users_update_email_verification",
        api("users_update_email_verification", verified, path=made_target, headers=headers),
    )
    unverified = {"phoneVerification": False}
    step(
        "users_update_phone_verification",
        api("users_update_phone_verification", unverified, path=made_target, headers=headers),
    )
    step("users_create_session", api("users_create_session", {}, path=made_target, headers=headers))
    step("users_update_status", api("users_update_status", {"status": False}, path=made_target, headers=headers))
    step("users_delete", api("users_delete", path=made_target, headers=headers))
    return user
