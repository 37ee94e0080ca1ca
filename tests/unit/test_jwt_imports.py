"""Cold start (issue 16): joserfc and cryptography load only when a JWT is signed or verified, never when a
function is loaded (the JWT functions included)."""

import json
import os
import subprocess
import sys

from local import template
from tests.conftest import FUNCTIONS

HEAVY = ("joserfc", "cryptography")
# Lambda's runtime has no pyOpenSSL (the layer's lock neither); the dev venv may, and botocore then loads
# urllib3's pyOpenSSL support, which imports cryptography for every AWS client. None in sys.modules = absent.
PROBE = """
import importlib.util, json, sys
sys.modules["OpenSSL"] = None
for name, path in json.loads(sys.argv[1]):
    spec = importlib.util.spec_from_file_location(f"fn_{name}", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))))
"""


def test_no_function_imports_the_jwt_libraries_at_import_time():
    functions = [(f.name, str(f.module_file)) for f in FUNCTIONS.values()]
    layer = [str(path) for path in template.layers(template.load())]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*layer, str(template.REPO_ROOT)])}
    run = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(functions), json.dumps(HEAVY)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == []
