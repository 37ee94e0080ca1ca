"""The Appwrite web SDK suite in Node (tests/js/node, `node --test`), against local stacks of this module's own.

The suite signs up more accounts through `POST /account` than one IP may in an hour (10), so it runs in two
groups of files, each against a server of its own rather than spending the shared one's budget. Each TAP summary
must show tests that ran and none failed, cancelled or skipped; a `todo` test (a known production bug, see its
reason) must still fail, as a strict xfail would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings

import pytest

from tests.e2e.helpers import ROOT

SUITE = ROOT / "tests" / "js" / "node"
NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
PACKAGES = ("appwrite", "otpauth")
HANG_GUARD_S = 900  # the suite takes about 75 s; this only stops a hung run from blocking CI
SUMMARY = re.compile(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$", re.MULTILINE)
# Node reports a file that ran no test of its own (it only imported, or had none) as one test named by its path.
TESTLESS_FILE = re.compile(r"^ok \d+ - (.*\.test\.mjs)$", re.MULTILINE)
PASSED_TODO = re.compile(r"^\s*ok \d+ - (.*) # TODO", re.MULTILINE)
FAILED_TODO = re.compile(r"^\s*not ok \d+ - (.*) # TODO (.*)$", re.MULTILINE)


# The Account API beyond the MFA guide (issues 17-20); every other file is the "guide" group.
ACCOUNT_API_FILES = ("activity", "jwts", "links-and-anonymous", "oauth", "recovery")


def node_command(group: str) -> list[str]:
    """`node --test` over the suite's files, or a clear failure when Node or the npm packages are missing."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: install Node.js 20+ (Debian: apt-get install nodejs)", pytrace=False)
    missing = [name for name in PACKAGES if not (NODE_MODULES / name / "package.json").is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing from {NODE_MODULES}: run make js-deps", pytrace=False)
    files = sorted(
        str(path.relative_to(ROOT))
        for path in SUITE.glob("*.test.mjs")
        if (path.name.removesuffix(".test.mjs") in ACCOUNT_API_FILES) == (group == "account-api")
    )
    if not files:
        pytest.fail(f"no *.test.mjs files in {SUITE}", pytrace=False)
    # Files are listed (not the directory) because Node 22+ reads --test arguments as glob patterns.
    return [node, "--test", "--test-reporter=tap", *files]


@pytest.mark.parametrize("group", ["guide", "account-api"])
def test_web_sdk_in_node(group: str, own_server: str) -> None:
    command = node_command(group)
    try:
        result = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "AUTHCORE_ENDPOINT": own_server},
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_S,
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"node --test hung for {HANG_GUARD_S} s; its output:\n{hung.stdout}\n{hung.stderr}", pytrace=False)
    output = f"{result.stdout}\n{result.stderr}"
    counts = {name: int(value) for name, value in SUMMARY.findall(result.stdout)}
    assert result.returncode == 0, f"node --test exited with {result.returncode}:\n{output}"
    assert counts.get("tests", 0) > 0, f"node ran no tests:\n{output}"
    assert not TESTLESS_FILE.findall(result.stdout), f"a suite file ran no tests:\n{output}"
    assert (counts.get("fail"), counts.get("cancelled"), counts.get("skipped")) == (0, 0, 0), output
    assert not PASSED_TODO.findall(result.stdout), f"a todo (known bug) test passes now: drop its todo\n{output}"
    for name, reason in FAILED_TODO.findall(result.stdout):
        warnings.warn(f"node todo {name}: {reason}", stacklevel=1)
