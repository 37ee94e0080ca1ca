"""Cold start: the cyclic garbage collector is off while a function's module is imported, and what
init built is frozen out of later collections once the handler is built (authcore/__init__.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc, json, sys
import authcore
during = gc.isenabled()
import app
print(json.dumps({"during": during, "after": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


@pytest.mark.parametrize("function", ["get_account", "cors_preflight", "get_qr"])
def test_init_runs_without_cyclic_gc_then_freezes(function):
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT / 'functions' / function}"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    state = json.loads(out.stdout.splitlines()[-1])
    assert state["during"] is False
    assert state["after"] is True
    assert state["frozen"] > 10_000  # init's objects: botocore, Powertools, pydantic, authcore
