"""WebAuthn ceremonies: options out (plain JSON, written here), credentials in (verified by py_webauthn,
`webauthn` on PyPI).

The library (and the cryptography, cbor2 and pyOpenSSL it brings) is imported inside the verifications,
never at module import: only the routes that verify a credential pay for it at cold start. Every refusal, whatever the
library found wrong (challenge, origin, rp id hash, flags, signature, malformed JSON), is one
PasskeyRefusedError: the API answers them alike.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from authcore.config import settings

TIMEOUT_MS = 5 * 60 * 1000
CHALLENGE_BYTES = 32


class PasskeyRefusedError(Exception):
    """The credential proves nothing (the reason is for logs only)."""


@dataclass(frozen=True)
class NewCredential:
    credential_id: str  # base64url, as the browser's rawId
    public_key: bytes  # COSE_Key
    sign_count: int


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _origin_of(credential: dict[str, Any]) -> str:
    """The origin the browser signed into clientDataJSON, if it is one passkeys may come from."""
    try:
        client_data = json.loads(from_b64url(credential["response"]["clientDataJSON"]))
        origin = client_data["origin"]
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise PasskeyRefusedError("malformed clientDataJSON") from error
    if not isinstance(origin, str) or not settings().passkey_origin_allowed(origin):
        raise PasskeyRefusedError("origin not allowed")
    return origin


def credential_id(credential: dict[str, Any]) -> str:
    """The credential's id (base64url) as the browser reports it; PasskeyRefusedError when there is none."""
    raw = credential.get("rawId") or credential.get("id")
    if not isinstance(raw, str) or not raw or len(raw) > 1366:  # 1023 bytes at most (WebAuthn)
        raise PasskeyRefusedError("no credential id")
    return raw


def user_handle(credential: dict[str, Any]) -> str:
    """The user id a discoverable credential carries (its user.id at registration)."""
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    try:
        return from_b64url(handle).decode() if isinstance(handle, str) and handle else ""
    except (ValueError, binascii.Error):
        return ""


# py_webauthn's default algorithms (what its verification accepts): EdDSA, ES256, RS256.
ALGORITHMS = (-8, -7, -257)


def _rp_id() -> str:
    if not settings().passkey_rp_id:  # py_webauthn's own checks, kept
        raise ValueError("rp_id cannot be an empty string")
    return settings().passkey_rp_id


def registration_options(
    user_id: str, user_name: str, display_name: str, challenge: bytes, existing: list[str]
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptionsJSON: a discoverable credential with user verification, no
    attestation (we trust no vendor list, so asking for one would only cost the user a prompt).

    Written out as py_webauthn's generate_registration_options and options_to_json_dict make it (checked
    against them in tests/unit/test_passkey_options.py): options are plain JSON, and importing the library,
    which only the verifications need, costs a cold start about 35 ms of CPU."""
    rp_id = _rp_id()
    if not settings().project_name:
        raise ValueError("rp_name cannot be an empty string")
    return {
        "rp": {"name": settings().project_name, "id": rp_id},
        "user": {"id": b64url(user_id.encode()), "name": user_name, "displayName": display_name or user_name},
        "challenge": b64url(challenge),
        "pubKeyCredParams": [{"type": "public-key", "alg": alg} for alg in ALGORITHMS],
        "timeout": TIMEOUT_MS,
        "excludeCredentials": _descriptors(existing),
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": True,
            "userVerification": "required",
        },
        "attestation": "none",
    }


def authentication_options(challenge: bytes, allowed: list[str]) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptionsJSON with user verification required; `allowed` empty for
    discoverable credentials (the user picks one). Written out as registration_options is."""
    return {
        "challenge": b64url(challenge),
        "timeout": TIMEOUT_MS,
        "rpId": _rp_id(),
        "allowCredentials": _descriptors(allowed),
        "userVerification": "required",
    }


def _descriptors(credential_ids: list[str]) -> list[dict[str, str]]:
    return [{"id": b64url(from_b64url(c)), "type": "public-key"} for c in credential_ids]


def verify_registration(credential: dict[str, Any], challenge: bytes) -> NewCredential:
    """The new credential of a `navigator.credentials.create()` answer to `challenge`."""
    from webauthn import verify_registration_response

    origin = _origin_of(credential)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings().passkey_rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except Exception as error:  # anything a crafted credential makes the library raise is a refusal, never a 500
        raise PasskeyRefusedError(type(error).__name__) from error
    return NewCredential(b64url(verified.credential_id), verified.credential_public_key, verified.sign_count)


def verify_authentication(credential: dict[str, Any], challenge: bytes, public_key: bytes) -> int:
    """The sign counter of a `navigator.credentials.get()` answer to `challenge`, signed by `public_key`.

    The library's own counter rule is left out (current count 0): the caller compares the verified
    count with the stored one, so that a regression, proven by a valid signature, can mark the
    credential suspect rather than be one more refusal.
    """
    from webauthn import verify_authentication_response

    origin = _origin_of(credential)
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings().passkey_rp_id,
            expected_origin=origin,
            credential_public_key=public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except Exception as error:  # as in verify_registration
        raise PasskeyRefusedError(type(error).__name__) from error
    return verified.new_sign_count


def counter_regressed(stored: int, presented: int) -> bool:
    """WebAuthn §6.1.1: a counter that does not move forward (unless both are 0: the authenticator
    keeps none) signals a cloned authenticator."""
    return (stored > 0 or presented > 0) and presented <= stored
