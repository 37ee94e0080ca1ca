"""The public JWK of a KMS signing key (security/jwt.py public_jwk) is what joserfc makes of it."""

from unittest.mock import patch

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwk

from authcore.security import jwt


def _der(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class Kms:
    def __init__(self, der: bytes) -> None:
        self.der = der

    def get_public_key(self, **request):
        return {"KeyId": f"arn:{request['KeyId']}", "PublicKey": self.der}


def _public_jwk(der: bytes):
    with patch.object(jwt, "kms_client", return_value=Kms(der)):
        return jwt.public_jwk("alias/jwt")


@pytest.mark.parametrize(("bits", "exponent"), [(2048, 65537), (3072, 65537), (2048, 3)])
def test_the_jwk_and_its_thumbprint_are_joserfcs(bits, exponent):
    der = _der(rsa.generate_private_key(public_exponent=exponent, key_size=bits).public_key())
    key = jwk.RSAKey.import_key(der)
    expected = {**key.as_dict(private=False), "kid": key.thumbprint(), "alg": "RS256", "use": "sig"}
    arn, public = _public_jwk(der)
    assert (arn, public, list(public)) == ("arn:alias/jwt", expected, list(expected))


def test_a_key_that_is_not_rsa_is_refused():
    with pytest.raises(ValueError, match="RSA"):
        _public_jwk(_der(ec.generate_private_key(ec.SECP256R1()).public_key()))
