"""Cold start (issue 16): what a function loads only when its request needs it."""

import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "core"
PROBE = """
import importlib, pkgutil, sys
import authcore.http, authcore.services
for package in (authcore.http, authcore.services):
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
print("authcore.models.requests" in sys.modules)
"""


def test_the_request_models_load_only_with_a_handler_that_takes_a_body():
    """The services name request models in annotations only; a GET function never builds their module (~4 ms)."""
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=LAYER, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "False"


def test_a_users_api_function_loads_only_the_services_of_its_action():
    """services/admin.py imports the MFA, notice, passkey, JWT and session services in the actions that use
    them: `users_get` and most other Users API functions import none of them (about 6 ms)."""
    program = (
        "import sys, authcore.services.admin;"
        "print(sorted(m for m in sys.modules if m in {'authcore.services.' + s for s in"
        " ('mfa', 'notices', 'passkeys', 'jwts', 'sessions')}))"
    )
    run = subprocess.run([sys.executable, "-c", program], cwd=LAYER, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"
