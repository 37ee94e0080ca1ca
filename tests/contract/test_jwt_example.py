"""The example HTTP API that trusts our JWTs (JwtExampleApi, docs/jwt.md): off by default, lint-clean when on,
and its authorizer trusts exactly the issuer and audience of the tokens the API mints."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from authcore.http import transport
from local import template
from tests.conftest import TEMPLATE

ROOT = template.REPO_ROOT
TOOLS = ROOT / ".tools" / "bin"
CHECKOV = ROOT / ".scan" / "bin" / "checkov"
DEFAULT_OFF = '  JwtExampleApi:\n    Type: String\n    Default: "false"'
EXAMPLE = ("JwtExampleHttpApi", "JwtExampleFunction")


def authorizer(overrides: dict[str, str]) -> dict:
    resolver = template.Resolver(TEMPLATE, {**template.DEV_PARAMETERS, "JwtExampleApi": "true", **overrides})
    props = resolver.resolve(TEMPLATE["Resources"]["JwtExampleHttpApi"]["Properties"])
    return props["Auth"]["Authorizers"]["Authcore"]["JwtConfiguration"]


def issuer_the_functions_use(overrides: dict[str, str], monkeypatch) -> str:
    """transport.issuer for a request reaching the API as API Gateway delivers it (execute-api domain)."""
    from authcore.config import settings

    resolver = template.Resolver(TEMPLATE, {**template.DEV_PARAMETERS, **overrides})
    configured = resolver.resolve(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["JWT_ISSUER"])
    domain = resolver.resolve({"Fn::Sub": "${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"})
    event = {"headers": {"X-Forwarded-Proto": "https"}, "requestContext": {"domainName": domain, "stage": "v1"}}
    monkeypatch.setenv("JWT_ISSUER", configured)  # this deployment's environment
    settings.cache_clear()
    try:
        return transport.issuer(event)
    finally:
        monkeypatch.undo()
        settings.cache_clear()


def test_the_example_is_off_by_default_and_conditional():
    assert TEMPLATE["Parameters"]["JwtExampleApi"]["Default"] == "false"
    for name in EXAMPLE:
        assert TEMPLATE["Resources"][name]["Condition"] == "JwtExampleOn"
    assert "JwtExampleFunction" not in {f.logical_id for f in template.functions(TEMPLATE)}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"DomainName": "auth.example.com", "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"},
        {"JwtIssuer": "https://id.example.com/v1"},
    ],
    ids=["execute-api", "custom-domain", "configured"],
)
def test_the_authorizer_trusts_the_issuer_and_audience_the_api_mints(overrides, monkeypatch):
    config = authorizer(overrides)
    assert config["issuer"] == issuer_the_functions_use(overrides, monkeypatch)
    assert config["audience"] == [template.Resolver(TEMPLATE).parameters["ProjectId"]]


def test_the_example_function_checks_amr_for_a_second_factor():
    from examples.jwt_api import app

    def call(route: str, amr) -> int:
        claims = {"sub": "u", "sid": "s", "amr": amr}
        event = {"routeKey": route, "requestContext": {"authorizer": {"jwt": {"claims": claims}}}}
        return app.lambda_handler(event, None)["statusCode"]

    assert call("GET /me", "[password]") == 200
    assert call("GET /mfa", "[password]") == 403
    assert call("GET /mfa", "[password totp mfa]") == 200  # how HTTP APIs pass an array claim
    assert call("GET /mfa", ["password", "totp", "mfa"]) == 200


@pytest.fixture(scope="module")
def example_on(tmp_path_factory) -> Path:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert DEFAULT_OFF in text
    path = tmp_path_factory.mktemp("example") / "template.yaml"
    path.write_text(text.replace(DEFAULT_OFF, DEFAULT_OFF.replace('"false"', '"true"')), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [
        [str(TOOLS / "cfn-lint"), "{t}"],
        [str(TOOLS / "sam"), "validate", "--lint", "-t", "{t}"],
        [str(CHECKOV), "--config-file", str(ROOT / ".checkov.yaml"), "-f", "{t}"],
    ],
    ids=["cfn-lint", "sam-validate", "checkov"],
)
def test_the_template_with_the_example_on_passes(example_on, command):
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed (make install / make scan)")
    run = subprocess.run(
        [part.replace("{t}", str(example_on)) for part in command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
