"""End-to-end fixtures: the local stack (`python -m local.server`) as a subprocess, real HTTP against it.

Limits budget (API.md §5): every test talks from 127.0.0.1 to one session-wide server, and `POST /account`
allows 10 per IP per hour. So the suite signs up few accounts (8 attempts in all) and shares them through
module- or session-scoped fixtures where a test does not change them. The module that exhausts limits on
purpose runs against a server of its own (`fresh_server`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from appwrite.client import Client

from tests.e2e.helpers import LocalStack, User, make_user, sdk_client, sign_in, unique_email


def _serve() -> Iterator[LocalStack]:
    stack = LocalStack()
    try:
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """The session-wide local stack (its console output in ``.lines``)."""
    yield from _serve()


@pytest.fixture(scope="session")
def base_url(local_stack: LocalStack) -> str:
    """The session-wide local stack's endpoint, e.g. ``http://127.0.0.1:41234/v1``."""
    return local_stack.base_url


@pytest.fixture(scope="module")
def fresh_server() -> Iterator[str]:
    """A server of its own, for a module that exhausts rate limits on purpose."""
    for stack in _serve():
        yield stack.base_url


@pytest.fixture
def own_server() -> Iterator[str]:
    """A server for one test alone (each case of a parametrized test gets its own)."""
    for stack in _serve():
        yield stack.base_url


@pytest.fixture
def email() -> str:
    """A fresh, never used email address."""
    return unique_email()


@pytest.fixture
def client(base_url: str) -> Client:
    """An Appwrite SDK client on the local stack, holding no session."""
    return sdk_client(base_url)


@pytest.fixture(scope="session")
def shared_user(base_url: str) -> User:
    """An account (signed up over HTTP with ``userId: "unique()"``) and one live session of it,
    for tests that do not change it. Sign-up #1 of the budget."""
    user = make_user(base_url, name="Shared User")
    user.credential = sign_in(base_url, user.email, user.password)
    return user
