"""The relying party of passkeys (API.md §9): PasskeyRpId and PasskeyOrigins as config.py reads them, the
template's AllowedPattern that refuses them at deploy, and py_webauthn kept off the other functions' cold start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from authcore.config import RP_ID, ConfigError, passkey_origins
from tests.conftest import TEMPLATE

ROOT = Path(__file__).resolve().parents[2]

ALLOWED = frozenset({"http://localhost:3000", "http://127.0.0.1:3000", "https://app.example.com"})


def test_without_passkey_origins_the_allowed_origins_under_the_rp_id_serve():
    assert passkey_origins("localhost", [], ALLOWED) == {"http://localhost:3000"}  # an IP is never under it
    assert passkey_origins("example.com", [], ALLOWED) == {"https://app.example.com"}


def test_listed_passkey_origins_must_be_under_the_rp_id():
    assert passkey_origins("example.com", ["https://example.com"], ALLOWED) == {"https://example.com"}
    for wrong in (["https://evil.example"], ["http://app.example.com"], ["https://example.com.evil.test"]):
        with pytest.raises(ConfigError):
            passkey_origins("example.com", wrong, ALLOWED)


@pytest.mark.parametrize("rp_id", ["127.0.0.1", "::1", "", "Example.com", "-bad.com", "a..b"])
def test_an_rp_id_that_is_no_domain_name_is_refused(rp_id):
    with pytest.raises(ConfigError):
        passkey_origins(rp_id, [], ALLOWED)


def test_the_templates_pattern_is_configs():
    parameters = TEMPLATE["Parameters"]
    assert parameters["PasskeyRpId"]["AllowedPattern"] == RP_ID.pattern
    assert parameters["PasskeyRpId"]["Default"] == "localhost"
    origins = re.compile(parameters["PasskeyOrigins"]["AllowedPattern"])
    assert all(origins.fullmatch(o) for o in ("", "https://app.example.com", "http://localhost:8080"))
    assert not any(origins.fullmatch(o) for o in ("http://app.example.com", "https://x.test/", "javascript:x"))


def test_webauthn_is_imported_only_where_a_ceremony_needs_it():
    """Cold start: loading the MFA challenge and session handlers (which serve passkeys too) imports no
    py_webauthn; the first ceremony does."""
    script = (
        "import sys; from local.gateway import load_handler; from tests.conftest import FUNCTIONS\n"
        "for name in ('create_mfa_challenge', 'update_mfa_challenge', 'create_session', 'get_account',"
        " 'create_passkey', 'update_passkey_token'):\n"
        "    load_handler(FUNCTIONS[name])\n"
        "print('webauthn' in sys.modules, 'cbor2' in sys.modules)\n"
    )
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/core'}{os.pathsep}{ROOT}"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
