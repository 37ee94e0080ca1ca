"""A newcomer's first deploy (issue 21.2, docs/deploy.md): the SAM CLI driven offline through its
own prompts, with no AWS credentials, up to the first call that needs them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from local.template import REPO_ROOT
from tests.conftest import TEMPLATE

SAM = REPO_ROOT / ".tools" / "bin" / "sam"
# What SAM CLI prints when it needs AWS itself: every question comes before it.
NEEDS_CREDENTIALS = "Unable to locate credentials"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
QUESTION = re.compile(r"\t([^\t\n]+?) \[[^\]\n]*\]: ")  # "\tStack Name [authcore]: " (Enter keeps the default)


def sam_deploy(tmp_path: Path, *options: str) -> str:
    """`sam deploy` in a copy of the project's template and samconfig.toml, Enter to every question,
    in an environment with no AWS credentials or region (and no instance metadata to find one)."""
    for name in ("template.yaml", "samconfig.toml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    done = subprocess.run(
        [SAM, "deploy", *options],
        input="\n" * 500,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "SAM_CLI_TELEMETRY": "0",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )
    assert done.returncode != 0  # it stops where AWS is needed
    return ANSI.sub("", done.stdout + done.stderr)


pytestmark = pytest.mark.skipif(not SAM.exists(), reason="needs the SAM CLI: make .tools/.installed")


def test_the_first_deploy_asks_nothing_and_resolves_a_region(tmp_path):
    """`make deploy` runs `sam deploy` from samconfig.toml: no question before AWS (it then asks to
    confirm the change set), and a region without a profile or AWS_DEFAULT_REGION."""
    output = sam_deploy(tmp_path)
    assert "Unable to resolve a region" not in output
    assert NEEDS_CREDENTIALS in output
    assert QUESTION.findall(output) == []


def test_the_guided_deploy_asks_the_stack_region_parameters_and_settings_once(tmp_path):
    output = sam_deploy(tmp_path, "--guided")
    assert "has no authentication" not in output
    assert NEEDS_CREDENTIALS in output  # every question was asked and answered
    assert QUESTION.findall(output) == [
        "Stack Name",
        "AWS Region",
        *(f"Parameter {name}" for name in TEMPLATE["Parameters"]),
        "Confirm changes before deploy",
        "Allow SAM CLI IAM role creation",
        "Disable rollback",
        "Save arguments to configuration file",
        "SAM configuration file",
        "SAM configuration environment",
    ]


def test_every_route_is_on_an_api_that_declares_its_auth():
    """What SAM CLI's guided deploy checks (samcli/commands/deploy/auth_utils.py, `_auth_resource_event`
    and `_auth_id`): an Api event whose own Auth or whose RestApiId's Auth is set counts as
    authenticated; any other asks "<Function> has no authentication. Is this okay?" once per event,
    default No. The API is public on purpose (the functions authenticate), and says so."""
    assert TEMPLATE["Resources"]["Api"]["Properties"]["Auth"] == {"ApiKeyRequired": False}
    events = [
        event
        for resource in TEMPLATE["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in (resource["Properties"].get("Events") or {}).values()
    ]
    api_events = [event for event in events if event["Type"] == "Api"]
    assert api_events and all(event["Properties"]["RestApiId"] == {"Ref": "Api"} for event in api_events)
    # The JWT example (JwtExampleApi): HttpApi events on an HTTP API whose Auth names its JWT authorizer.
    for event in (event for event in events if event["Type"] != "Api"):
        assert event["Type"] == "HttpApi"
        api = TEMPLATE["Resources"][event["Properties"]["ApiId"]["Ref"]]
        assert api["Properties"]["Auth"]["DefaultAuthorizer"] in api["Properties"]["Auth"]["Authorizers"]


@pytest.mark.parametrize(
    ("environment", "region"),
    [({}, None), ({"AWS_DEFAULT_REGION": "eu-west-1"}, "eu-west-1"), ({"AWS_REGION": "ap-south-1"}, "ap-south-1")],
)
def test_make_deploy_takes_the_region_of_the_environment(environment, region):
    """`make deploy` passes AWS_REGION / AWS_DEFAULT_REGION on as --region (samconfig.toml's region would win
    over them in a plain `sam deploy`); with neither, samconfig.toml's default applies."""
    plan = subprocess.run(
        ["make", "-n", "deploy"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", **environment},
        check=True,
    ).stdout
    deploy = next(line for line in plan.splitlines() if " deploy" in line and "sam" in line)
    assert (f"--region {region}" in deploy) if region else ("--region" not in deploy)
