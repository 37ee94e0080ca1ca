"""MemorySize per function (docs/cost.md, Memory): a whole vCPU where a password is hashed, Globals elsewhere."""

from typing import Any

import argon2
import pytest

from bench.harness import Api, walk
from local.gateway import load_handler
from tests.conftest import FUNCTIONS, TEMPLATE

from . import conftest as harness

WHOLE_VCPU_MB = 1769  # Lambda gives one vCPU at 1,769 MB; single-threaded Argon2id uses no more


@pytest.fixture
def hashing_functions(aws_emulation, monkeypatch, idp) -> set[str]:
    """The functions whose success path (the bench's walk of every function) hashes or verifies a password."""
    monkeypatch.setattr(harness, "load_handler", harness.load_handler)  # the walk's Api replaces it; restored after
    hashed: set[str] = set()
    current: list[str] = []

    def recorded(method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            hashed.add(current[-1])
            return method(*args, **kwargs)

        return call

    for name in ("hash", "verify"):
        monkeypatch.setattr(argon2.PasswordHasher, name, recorded(getattr(argon2.PasswordHasher, name)))

    def dispatch(function: Any, event: dict[str, Any], context: Any) -> dict[str, Any]:
        current.append(function.name)
        return load_handler(function)(event, context)

    walk(Api(dispatch, ip="10.9.0.1"), run=0, idp=idp)
    assert set(current) == set(FUNCTIONS)  # the walk calls every function
    return hashed


def test_functions_that_hash_passwords_get_a_whole_vcpu_and_the_others_the_globals(hashing_functions):
    default = TEMPLATE["Globals"]["Function"]["MemorySize"]
    assert default < WHOLE_VCPU_MB
    assert {"create_account", "create_email_password_session", "update_password"} <= hashing_functions
    memory = {name: function.memory_mb for name, function in FUNCTIONS.items()}
    assert {name for name, mb in memory.items() if mb == WHOLE_VCPU_MB} == hashing_functions
    assert {mb for name, mb in memory.items() if name not in hashing_functions} == {default}
