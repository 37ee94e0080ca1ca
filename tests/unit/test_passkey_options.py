"""Passkey options (security/passkeys.py) are what py_webauthn makes of the same arguments, without importing it."""

import subprocess
import sys
from pathlib import Path

import pytest
from webauthn import generate_authentication_options, generate_registration_options
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from authcore.config import settings
from authcore.security import passkeys

LAYER = Path(__file__).resolve().parents[2] / "layers" / "core"
CHALLENGE = bytes(range(32))
# Credential ids as browsers report them (base64url without padding), one with padding as a stored id might be.
IDS = [passkeys.b64url(bytes([n]) * (16 + n)) for n in range(3)] + [passkeys.b64url(b"\xfb\xff" * 9) + "=="]


@pytest.mark.parametrize("existing", [[], IDS[:1], IDS])
@pytest.mark.parametrize("display_name", ["Ann Example", ""])
def test_registration_options_are_py_webauthns(existing, display_name):
    library = generate_registration_options(
        rp_id=settings().passkey_rp_id,
        rp_name=settings().project_name,
        user_id=b"user-1",
        user_name="ann@example.com",
        user_display_name=display_name,
        challenge=CHALLENGE,
        timeout=passkeys.TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=passkeys.from_b64url(c)) for c in existing],
    )
    ours = passkeys.registration_options("user-1", "ann@example.com", display_name, CHALLENGE, existing)
    assert ours == options_to_json_dict(library)
    assert list(ours) == list(options_to_json_dict(library))


@pytest.mark.parametrize("allowed", [[], IDS[:1], IDS])
def test_authentication_options_are_py_webauthns(allowed):
    library = generate_authentication_options(
        rp_id=settings().passkey_rp_id,
        challenge=CHALLENGE,
        timeout=passkeys.TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=passkeys.from_b64url(c)) for c in allowed],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    ours = passkeys.authentication_options(CHALLENGE, allowed)
    assert ours == options_to_json_dict(library)
    assert list(ours) == list(options_to_json_dict(library))


def test_making_options_imports_no_webauthn_library():
    program = (
        "import sys; from authcore.security import passkeys;"
        "passkeys.registration_options('u', 'ann@example.com', '', bytes(32), []);"
        "passkeys.authentication_options(bytes(32), []);"
        "print(sorted({'webauthn', 'cryptography', 'cbor2'} & set(sys.modules)))"
    )
    env = {"TABLE_NAME": "t", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", program], cwd=LAYER, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"
