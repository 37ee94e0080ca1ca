"""A deployed stack keeps the strict AllowedOrigins list: the local stack's any-loopback-origin rule cannot reach it.

The functions run here with the environment template.yaml gives them (tests/conftest.py). The loopback rule is
the local setting AUTHCORE_LOCAL_LOOPBACK_ORIGINS, which the template never sets and which counts for nothing
where Lambda's reserved AWS_EXECUTION_ENV is present.
"""

from __future__ import annotations

import pytest

from authcore.config import LOCAL_LOOPBACK_ORIGINS
from local.template import TEMPLATE_PATH
from tests.conftest import FUNCTIONS

LISTED = "http://localhost:3000"
UNLISTED_LOOPBACK = ["http://localhost:5173", "http://127.0.0.1:8080", "http://[::1]:3000"]


def test_the_template_cannot_turn_the_local_setting_on():
    assert LOCAL_LOOPBACK_ORIGINS not in TEMPLATE_PATH.read_text()  # no parameter, condition or variable can map to it
    for function in FUNCTIONS.values():
        assert LOCAL_LOOPBACK_ORIGINS not in function.environment, function.name


@pytest.mark.parametrize("origin", UNLISTED_LOOPBACK)
def test_the_deployed_configuration_refuses_loopback_origins_not_listed(api, ada, origin):
    credential = ada.credential
    answer = api("get_account", session=credential, headers={"Origin": origin})
    assert answer.status == 200
    assert answer.header("Access-Control-Allow-Origin") is None
    preflight = api("cors_preflight", headers={"Origin": origin})
    assert preflight.header("Access-Control-Allow-Origin") is None
    link = api("create_email_verification", {"url": f"{origin}/verify"}, session=credential)
    assert link.status == 400 and link.body["type"] == "general_argument_invalid"
    listed = api("get_account", session=credential, headers={"Origin": LISTED})
    assert listed.header("Access-Control-Allow-Origin") == LISTED


def test_the_local_setting_counts_for_nothing_on_lambda(api, ada, environment, monkeypatch):
    credential = ada.credential
    origin = UNLISTED_LOOPBACK[0]
    monkeypatch.delenv("AWS_EXECUTION_ENV", raising=False)
    environment(LOCAL_LOOPBACK_ORIGINS, "true")
    local = api("get_account", session=credential, headers={"Origin": origin})
    assert local.header("Access-Control-Allow-Origin") == origin  # the local stack's rule
    environment("AWS_EXECUTION_ENV", "AWS_Lambda_python3.14")
    deployed = api("get_account", session=credential, headers={"Origin": origin})
    assert deployed.header("Access-Control-Allow-Origin") is None
