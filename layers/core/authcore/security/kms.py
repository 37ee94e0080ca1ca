"""Small secrets sealed with the deployment's KMS key, bound to the user they belong to.

TOTP secrets and the display copy of recovery codes are a few hundred bytes at most, so KMS
encrypts them directly (no data key). The userId is the encryption context: a ciphertext copied
into another user's profile does not decrypt.
"""

from __future__ import annotations

from botocore.config import Config

from authcore import awsclient
from authcore.config import settings

_client = None


def kms_client():
    global _client
    if _client is None:
        config = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
        _client = awsclient.create("kms", config)
    return _client


def seal(user_id: str, plaintext: bytes) -> bytes:
    response = kms_client().encrypt(
        KeyId=settings().kms_key_id, Plaintext=plaintext, EncryptionContext={"userId": user_id}
    )
    return response["CiphertextBlob"]


def unseal(user_id: str, ciphertext: bytes) -> bytes:
    response = kms_client().decrypt(
        KeyId=settings().kms_key_id, CiphertextBlob=ciphertext, EncryptionContext={"userId": user_id}
    )
    return response["Plaintext"]
