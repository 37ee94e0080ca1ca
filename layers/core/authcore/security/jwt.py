"""JWTs signed by a KMS asymmetric key (RS256: RSA_2048, RSASSA_PKCS1_V1_5_SHA_256) and verified with joserfc.

The private half never leaves KMS: a token's signing input is built here (joserfc's base64url helpers), KMS
signs it, and the PKCS#1 v1.5 signature KMS returns is already the JWS signature (no DER to convert, as an
ECDSA key would need). joserfc and cryptography are imported inside the functions: only a request that
carries a JWT, or a JWT route, pays for them (cold start).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from authcore.security.kms import kms_client

ALGORITHM = "RS256"
KMS_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256"


class InvalidJwtError(ValueError):
    """Malformed, wrongly signed, expired, for another audience or issuer, or signed by an unknown key."""


def public_jwk(kms_key_id: str) -> tuple[str, dict[str, Any]]:
    """The ARN of a KMS signing key (given by id, ARN or alias) and its public JWK, whose `kid` is its
    RFC 7638 thumbprint (the same wherever computed).

    The JWK is written out from the key's numbers (RFC 7518 §6.3.1), as joserfc's RSAKey makes it
    (tests/unit/test_jwt_keys.py): importing joserfc's jwk module costs a cold start about 25 ms of CPU,
    cryptography's DER loader about 10."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    response = kms_client().get_public_key(KeyId=kms_key_id)
    key = load_der_public_key(response["PublicKey"])
    if not isinstance(key, RSAPublicKey):
        raise ValueError("the JWT signing key must be an RSA key")
    numbers = key.public_numbers()
    public = {"n": _b64_uint(numbers.n), "e": _b64_uint(numbers.e), "kty": "RSA"}
    members = json.dumps({name: public[name] for name in ("e", "kty", "n")}, separators=(",", ":"))
    thumbprint = _b64(hashlib.sha256(members.encode()).digest())
    return response["KeyId"], {**public, "kid": thumbprint, "alg": ALGORITHM, "use": "sig"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64_uint(number: int) -> str:
    return _b64(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def sign(claims: dict[str, Any], kid: str, kms_key_id: str) -> str:
    """A compact JWS of `claims`, signed by KMS."""
    from joserfc.util import json_b64encode, urlsafe_b64encode

    header = {"alg": ALGORITHM, "typ": "JWT", "kid": kid}
    payload = json.dumps(claims, separators=(",", ":")).encode()
    signing_input = json_b64encode(header) + b"." + urlsafe_b64encode(payload)
    signature = kms_client().sign(
        KeyId=kms_key_id, Message=signing_input, MessageType="RAW", SigningAlgorithm=KMS_ALGORITHM
    )["Signature"]
    return (signing_input + b"." + urlsafe_b64encode(signature)).decode()


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload as sent, NOT verified: only to find what to read before verifying."""
    from joserfc import jws
    from joserfc.errors import JoseError

    try:
        claims = json.loads(jws.extract_compact(token.encode()).payload)
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidJwtError from error
    if not isinstance(claims, dict):
        raise InvalidJwtError
    return claims


def verify(token: str, keys: list[dict[str, Any]], issuer: str, audience: str) -> dict[str, Any]:
    """The claims of a token signed by one of `keys` (by `kid`), unexpired, for this issuer and audience."""
    from joserfc import jwk, jwt
    from joserfc.errors import JoseError

    try:
        decoded = jwt.decode(token, jwk.KeySet.import_key_set({"keys": keys}), algorithms=[ALGORITHM])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
            sid={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidJwtError from error
    return decoded.claims
