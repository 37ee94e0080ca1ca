"""The SES and SNS clients (one per service per container, created on the first message) and
what a failed call to them becomes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from authcore import awsclient, observability
from authcore.delivery.errors import delivery_error

# Short, so that a hanging service still leaves the function time to withdraw the token.
CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 2})

_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    if service not in _clients:
        _clients[service] = awsclient.create(service, CONFIG)
    return _clients[service]


@contextmanager
def handing_over(channel: str) -> Iterator[None]:
    """Count the message as `<channel>Sent` or `<channel>Failed`; turn any SES/SNS failure (refusal,
    throttling, timeout) into a DeliveryError."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        observability.count(f"{channel}Failed")
        raise delivery_error(error) from error
    observability.count(f"{channel}Sent")
