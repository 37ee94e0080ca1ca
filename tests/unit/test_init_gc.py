"""Cold start: the cyclic garbage collector is off while a function's module is imported and its first
request is served; then what init built is frozen out of later collections (authcore/__init__.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc, json, sys, types
import authcore
imported = gc.isenabled()
import app
event = json.load(open(sys.argv[1]))
event["headers"].pop("X-Appwrite-Session", None)  # no session: answered without any AWS call
imported = imported or gc.isenabled()
context = types.SimpleNamespace(
    function_name="f", memory_limit_in_mb=512, invoked_function_arn="arn", aws_request_id="r"
)
status = app.lambda_handler(event, context)["statusCode"]
print(json.dumps({"imported": imported, "served": gc.isenabled(), "frozen": gc.get_freeze_count(), "status": status}))
"""


@pytest.mark.parametrize(("function", "status"), [("get_account", 401), ("cors_preflight", 204), ("get_qr", 200)])
def test_init_runs_without_cyclic_gc_then_freezes(function, status):
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT / 'functions' / function}"}
    event = ROOT / "events" / f"{function}.json"
    out = subprocess.run([sys.executable, "-c", PROBE, event], env=env, capture_output=True, text=True, check=True)
    state = json.loads(out.stdout.splitlines()[-1])
    assert state["status"] == status
    assert state["imported"] is False  # off through the import
    assert state["served"] is True  # on again after the first request
    assert state["frozen"] > 10_000  # init's objects: botocore, Powertools, pydantic, authcore
