"""JWTs (API.md §8, docs/jwt.md): minted for a session that passed the MFA gate, signed by KMS, verified by
anyone against the keys this API publishes, and accepted here as a credential while their session lives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authcore.clock import now_ms
from authcore.config import settings
from authcore.errors import ApiError
from authcore.models import json_limits
from authcore.models.caller import JwtCredential
from authcore.models.responses import Jwt
from authcore.security import jwt
from authcore.store import signing_keys

if TYPE_CHECKING:
    from authcore.services.auth import Principal

MAX_DURATION_S = 3600
MAX_ID_CHARS = 36  # API.md §1: ids are at most 36 chars (a longer `sub` is no key to read)
# A replaced key keeps signing in warm containers until they next resolve the alias (SIGNER_TTL_MS); a key
# retired at t stays published until every token it can have signed has expired.
SIGNER_TTL_MS = 5 * 60 * 1000
RETIRED_KEY_PUBLISHED_MS = MAX_DURATION_S * 1000 + 2 * SIGNER_TTL_MS

_signer: tuple[int, str, str] | None = None  # (resolved at, kid, KMS key ARN), per container


def _signing_key() -> tuple[str, str]:
    """(kid, KMS key ARN) of the key the JWT_SIGNING_KEY alias names, published before its first token.
    Resolved again every SIGNER_TTL_MS, so a rotation reaches warm containers."""
    global _signer
    now = now_ms()
    if _signer is None or now - _signer[0] >= SIGNER_TTL_MS:
        entry = publish_key(settings().jwt_signing_key)
        if entry.get("retiredAt"):  # retired (compromised?) but still named by the alias: sign nothing
            raise RuntimeError("the JWT signing key is retired: point JwtSigningKeyArn at a new key")
        _signer = (now, entry["kid"], entry["kms"])
    return _signer[1], _signer[2]


def publish_key(kms_key_id: str) -> dict[str, Any]:
    """Publish a KMS key's public half in the key set (no change if it is there); its entry as stored."""
    arn, public = jwt.public_jwk(kms_key_id)
    return signing_keys.publish({"kid": public["kid"], "kms": arn, "jwk": public, "publishedAt": now_ms()})


def retire_key(kid: str, at_once: bool = False) -> None:
    """The key signs no more: it stays published until its last token expires, or, `at_once` (a key
    compromise), leaves the key set now and every token it signed is refused."""
    now = now_ms()
    signing_keys.retire(kid, now - RETIRED_KEY_PUBLISHED_MS if at_once else now)


def mint(user: dict[str, Any], session: dict[str, Any], duration: float, issuer: str) -> Jwt:
    """A JWT for a session that passed the MFA gate (the caller checked). `amr`: the factors the session
    passed, plus RFC 8176's "mfa" when they are two or more."""
    factors = sorted(set(session.get("factors", [])))
    issued = now_ms() // 1000
    claims = {
        "iss": issuer,
        "aud": settings().project_id,
        "sub": user["userId"],
        "sid": session["sessionId"],
        "amr": factors + (["mfa"] if len(factors) >= 2 else []),
        "iat": issued,
        "exp": issued + int(duration),
    }
    kid, arn = _signing_key()
    return Jwt(jwt=jwt.sign(claims, kid, arn))


def create_for_session(principal: Principal, credential: object, duration: float, issuer: str) -> Jwt:
    """POST /account/jwts. A JWT cannot mint another: a stolen token then dies at its `exp` in other APIs
    instead of renewing itself for as long as its session lives (stricter than Appwrite)."""
    if isinstance(credential, JwtCredential):
        raise ApiError("general_unauthorized_scope", "A JWT cannot create another JWT: use the session.")
    return mint(principal.user, principal.session, duration, issuer)


def published(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The public JWKs that verify: current keys, and retired ones whose tokens may not have expired yet."""
    now = now_ms()
    return [k["jwk"] for k in keys if not k.get("retiredAt") or now < k["retiredAt"] + RETIRED_KEY_PUBLISHED_MS]


def key_set() -> dict[str, Any]:
    return {"keys": published(signing_keys.get_keys())}


def discovery(issuer: str) -> dict[str, Any]:
    """The OpenID discovery document: what API Gateway's JWT authorizers and JOSE libraries read."""
    return {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [jwt.ALGORITHM],
        "claims_supported": ["iss", "aud", "sub", "sid", "amr", "iat", "exp"],
    }


def session_of(credential: JwtCredential) -> tuple[str, str] | None:
    """(userId, session digest) of a valid JWT's session; None once the session or the user is gone.
    One round trip: the profile (whose session map leads from `sid` to the session) with the key set.
    A token that does not verify: 401 user_jwt_invalid."""
    try:
        unverified = jwt.unverified_claims(credential.token)
        user_id = unverified.get("sub")
        if not isinstance(user_id, str) or not 0 < len(user_id) <= MAX_ID_CHARS or json_limits.bad_text(user_id):
            raise jwt.InvalidJwtError
        user, keys = signing_keys.get_user_and_keys(user_id)
        claims = jwt.verify(credential.token, published(keys), credential.issuer, settings().project_id)
    except jwt.InvalidJwtError as error:
        raise ApiError("user_jwt_invalid") from error
    sessions = (user or {}).get("sessions", {})
    digest = next((d for d, entry in sessions.items() if entry.get("id") == claims["sid"]), None)
    return (user_id, digest) if digest else None
