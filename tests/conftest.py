"""Every test process runs with the template's function environment and fake AWS credentials.

Settings are read once per process, so they are set here, before any authcore import.
"""

import os
import time

import pytest

from local import aws, template

TEMPLATE = template.load()
FUNCTIONS = {f.name: f for f in template.functions(TEMPLATE, template.Resolver(TEMPLATE, template.DEV_PARAMETERS))}

aws.fake_environment(template.REGION)
os.environ.update(next(iter(FUNCTIONS.values())).environment)
os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING")


def await_steady_rate_window(margin_seconds: int = 30) -> None:
    """Rate limits count in fixed one-hour windows: a test that counts up to a limit must not
    straddle the turn of the hour, so wait it out when it is less than `margin_seconds` away."""
    left = 3600 - time.time() % 3600
    if left < margin_seconds:
        time.sleep(left + 1)


@pytest.fixture
def steady_rate_window() -> None:
    await_steady_rate_window()
