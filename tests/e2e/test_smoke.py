"""`make smoke` (admin/smoke.py) against the local stack, as a deployer runs it after `sam deploy`.

Runs against a server of its own, started with a server API key. Budget (one IP, per hour): 2 sign-ups of 10.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.helpers import ROOT, TIMEOUT, LocalStack, request

STEPS = 9
NO_INSTALL = ("-o", ".venv/.installed")  # make: the venv is there (this test runs in it); do not reinstall it
SMOKE_USER = re.compile(r"user ([0-9a-f]{20}) \((authcore-smoke-[0-9a-f]+@example\.com)\)")


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[str, str]]:
    """(endpoint, key with users.read and users.write) of a local stack of its own."""
    server = LocalStack(["--port", "0", "--api-key", "smoke:users.read,users.write"])
    try:
        base = server.wait_ready()
        key = next(line.split(": ", 1)[1] for line in server.lines if line.startswith("API key smoke: "))
        yield base, key
    finally:
        server.stop()


def smoke(*args: str, key: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "admin.smoke", *args],
        cwd=ROOT,
        env={**os.environ, "AUTHCORE_SMOKE_KEY": key},
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 4,
        check=False,
    )


def users_found(base: str, key: str, email: str) -> list[dict]:
    answer = request("GET", base, "/users", headers={"X-Appwrite-Key": key}, params={"search": email})
    assert answer.status_code == 200, answer.text
    return answer.json()["users"]


def test_smoke_with_a_key_walks_the_guide_and_deletes_the_user(stack):
    base, key = stack
    run = smoke("--endpoint", base, "--project", "default", "--origin", "http://localhost:5173", key=key)
    assert run.returncode == 0, run.stdout + run.stderr
    for number in range(1, STEPS + 1):
        assert re.search(rf"^{number}\. .*: ok \(", run.stdout, re.MULTILINE), run.stdout
    assert "FAILED" not in run.stdout
    assert key not in run.stdout + run.stderr
    user_id, email = SMOKE_USER.search(run.stdout).groups()
    assert f"user {user_id} deleted through the Users API" in run.stdout
    assert users_found(base, key, email) == []


def test_smoke_without_a_key_says_which_user_it_left(stack):
    base, key = stack
    run = smoke("--endpoint", base)
    assert run.returncode == 0, run.stdout + run.stderr
    user_id, email = SMOKE_USER.search(run.stdout).groups()
    assert f"the user {user_id} ({email}) is LEFT in the table" in run.stdout
    [left] = users_found(base, key, email)
    assert left["$id"] == user_id and left["mfa"] is False  # it removed what the user itself may


@pytest.mark.parametrize(
    ("args", "key", "explained"),
    [
        (["--project", "nope"], "", "is not the stack's ProjectId parameter"),
        (["--origin", "https://app.example.com"], "", "Add it to the AllowedOrigins parameter"),
        ([], "unknown.key", "the key is invalid, expired, revoked or lacks the scope users.write"),
    ],
)
def test_smoke_explains_a_misconfiguration_before_signing_up(stack, args, key, explained):
    base, _ = stack
    run = smoke("--endpoint", base, *args, key=key)
    assert run.returncode == 1
    assert "1. reach the API: FAILED" in run.stdout and explained in run.stdout, run.stdout
    assert "sign up" not in run.stdout


def test_smoke_explains_an_endpoint_without_the_stage(stack):
    base, _ = stack
    run = smoke("--endpoint", base.removesuffix("/v1"))
    assert run.returncode == 1
    assert "ending in /v1" in run.stdout, run.stdout


def test_make_smoke_runs_the_module_and_keeps_the_key_off_the_command_line():
    run = subprocess.run(
        [
            "make",
            "-n",
            *NO_INSTALL,
            "smoke",
            "ENDPOINT=http://127.0.0.1:3000/v1",
            "PROJECT=p",
            "KEY=k.s",
            "ORIGIN=http://a:1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    assert (
        'AUTHCORE_SMOKE_KEY="k.s" .venv/bin/python -m admin.smoke --endpoint "http://127.0.0.1:3000/v1" '
        '--project "p" --origin "http://a:1"'
    ) in run.stdout
    usage = subprocess.run(
        ["make", *NO_INSTALL, "smoke"], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert usage.returncode != 0 and "usage: make smoke ENDPOINT=" in usage.stderr
