"""A software passkey authenticator for the tests: P-256 keys, `none` attestation, discoverable credentials.

It answers the server's options the way a browser's `navigator.credentials.create()` / `.get()` and their
`toJSON()` would, and can be told to misbehave (another origin or rp id, no user verification, a counter
that goes back, another challenge). The CBOR and authenticator-data encoding here is the test side's own:
the server parses none of it by hand (py_webauthn does).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost:3000"  # in the test stacks' AllowedOrigins, under the default rp id `localhost`
UP, UV, AT = 0x01, 0x04, 0x40  # authenticator data flags: user present, user verified, attested data


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    rp_id: str
    user_handle: bytes
    counter: int = 0


def _cose_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    numbers = key.public_key().public_numbers()
    return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()


class SoftAuthenticator:
    """One authenticator holding any number of discoverable credentials."""

    def __init__(self, counting: bool = True) -> None:
        self.credentials: list[Credential] = []
        self.counting = counting  # False: a counter that stays 0, as synced passkeys keep

    def create(
        self, options: dict[str, Any], origin: str = ORIGIN, rp_id: str | None = None, verified: bool = True
    ) -> dict[str, Any]:
        """`navigator.credentials.create({publicKey: options})`, then `.toJSON()`."""
        rp = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        credential = Credential(secrets.token_bytes(16), key, rp, from_b64url(options["user"]["id"]))
        self.credentials.append(credential)
        flags = UP | AT | (UV if verified else 0)
        attested = bytes(16) + struct.pack(">H", len(credential.credential_id)) + credential.credential_id
        auth_data = self._auth_data(credential, flags) + attested + _cose_key(key)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = _client_data("webauthn.create", options["challenge"], origin)
        return self._json(credential, {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation)})

    def get(
        self,
        options: dict[str, Any],
        origin: str = ORIGIN,
        rp_id: str | None = None,
        verified: bool = True,
        credential: Credential | None = None,
        counter: int | None = None,
        challenge: str | None = None,
    ) -> dict[str, Any]:
        """`navigator.credentials.get({publicKey: options})`, then `.toJSON()`: the newest credential for
        the rp id that the options allow (any, when they list none), unless `credential` names one."""
        if credential is None:
            allowed = {c["id"] for c in options.get("allowCredentials") or []}
            usable = [c for c in self.credentials if c.rp_id == options["rpId"]]
            usable = [c for c in usable if not allowed or b64url(c.credential_id) in allowed]
            credential = usable[-1]
        if counter is not None:
            credential.counter = counter
        elif self.counting:
            credential.counter += 1
        auth_data = self._auth_data(credential, UP | (UV if verified else 0), rp_id)
        client_data = _client_data("webauthn.get", challenge or options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = credential.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
            "userHandle": b64url(credential.user_handle),
        }
        return self._json(credential, response)

    @staticmethod
    def _auth_data(credential: Credential, flags: int, rp_id: str | None = None) -> bytes:
        rp_hash = hashlib.sha256((rp_id or credential.rp_id).encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", credential.counter)

    @staticmethod
    def _json(credential: Credential, response: dict[str, Any]) -> dict[str, Any]:
        credential_id = b64url(credential.credential_id)
        return {
            "id": credential_id,
            "rawId": credential_id,
            "type": "public-key",
            "response": response,
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }
