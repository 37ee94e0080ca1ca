"""The ceilings that grow with every route (issue 21.5, docs/deploy.md), computed from what
CloudFormation deploys: SAM's transform of template.yaml. Lambda refuses a resource policy over
20 KB; CloudFormation refuses a template that declares over 500 resources. Both must hold now and
with room for at least 120 functions (one per endpoint)."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections import defaultdict
from typing import Any

import pytest

from local.template import REPO_ROOT
from tests.conftest import TEMPLATE

SAM_PYTHON = REPO_ROOT / ".tools" / "bin" / "python"
TRANSFORM = REPO_ROOT / "tests" / "deploy" / "sam_transform.py"
MAX_RESOURCES = 500  # per stack (CloudFormation quota "Resources", not adjustable)
MAX_POLICY_BYTES = 20 * 1024  # a function's resource-based policy (Lambda quota, not adjustable)
ROOM_FOR_FUNCTIONS = 120

pytestmark = pytest.mark.skipif(not SAM_PYTHON.exists(), reason="needs the SAM CLI's Python: make .tools/.installed")

# The longest value each name can take in a deployed ARN, so a size computed here is the most Lambda stores.
LONGEST = {
    "AWS::Partition": "aws-us-gov",
    "AWS::Region": "ap-southeast-2",
    "AWS::AccountId": "123456789012",
    "Api": "a1b2c3d4e5",  # a REST API id
    "JwtExampleHttpApi": "a1b2c3d4e5",  # the example HTTP API (JwtExampleApi), counted as if on
}
FUNCTION_ARN = f"arn:aws-us-gov:lambda:ap-southeast-2:123456789012:function:{'f' * 64}"  # names are at most 64
STATEMENT_ID = "s" * 100  # CloudFormation names a statement after the stack and resource; Lambda takes up to 100


def transformed(template: dict[str, Any]) -> dict[str, Any]:
    """SAM's transform of `template` (long-form intrinsics), by the SAM CLI's own translator."""
    done = subprocess.run(
        [SAM_PYTHON, TRANSFORM],
        input=json.dumps(template),
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1"},
    )
    return json.loads(done.stdout)


def _resolve(value: Any) -> str:
    """A permission's SourceArn, with the longest value of every name it uses."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return LONGEST[value["Ref"]]
    text, own = value["Fn::Sub"] if isinstance(value["Fn::Sub"], list) else (value["Fn::Sub"], {})
    names = {**LONGEST, **{name: _resolve(item) for name, item in own.items()}}
    return re.sub(r"\$\{([^}]+)\}", lambda found: names[found.group(1)], text)


def resource_policies(stack: dict[str, Any]) -> dict[str, str]:
    """Function logical id → its resource-based policy as Lambda stores it (one statement per
    AWS::Lambda::Permission naming it)."""
    statements: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for resource in stack["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Permission":
            continue
        props = resource["Properties"]
        target = props["FunctionName"]
        statements[target.get("Ref") or target["Fn::GetAtt"][0]].append(
            {
                "Sid": STATEMENT_ID,
                "Effect": "Allow",
                "Principal": {"Service": props["Principal"]},
                "Action": props["Action"],
                "Resource": FUNCTION_ARN,
                "Condition": {"ArnLike": {"AWS:SourceArn": _resolve(props["SourceArn"])}},
            }
        )
    return {
        name: json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": listed}, separators=(",", ":"))
        for name, listed in statements.items()
    }


def assert_within_limits(stack: dict[str, Any]) -> None:
    # One stack: a nested one would need its own count.
    assert not [r for r in stack["Resources"].values() if r["Type"] == "AWS::CloudFormation::Stack"]
    assert len(stack["Resources"]) <= MAX_RESOURCES
    for name, policy in resource_policies(stack).items():
        assert len(policy.encode()) <= MAX_POLICY_BYTES, (name, len(policy.encode()))


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    return transformed(TEMPLATE)


def test_the_stack_and_every_resource_policy_fit(stack):
    assert_within_limits(stack)
    functions = [name for name, r in stack["Resources"].items() if r["Type"] == "AWS::Lambda::Function"]
    policies = resource_policies(stack)
    assert set(policies) == set(functions)  # API Gateway may call each function, and nothing else is granted


def test_the_catch_alls_have_one_statement_whatever_the_number_of_routes(stack):
    """CORS preflight and route_not_found answer every resource of the API: one permission each,
    over this API only (their methods are in the API's DefinitionBody, not one event per path)."""
    policies = {name: json.loads(policy)["Statement"] for name, policy in resource_policies(stack).items()}
    api_arn = "arn:aws-us-gov:execute-api:ap-southeast-2:123456789012:a1b2c3d4e5"
    catch_alls = {"CorsPreflightFunction": f"{api_arn}/*/OPTIONS/*", "RouteNotFoundFunction": f"{api_arn}/*/*/*"}
    for name, source in catch_alls.items():
        assert [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policies[name]] == [source]
    # Every other function: one statement per route it serves (its events), nothing per resource.
    assert max(len(statements) for statements in policies.values()) <= 2


def projected(template: dict[str, Any], functions: int) -> dict[str, Any]:
    """`template` grown to `functions` functions, each new one like the heaviest today: two routes
    (a path and its alias) on new resources, its own role, SES, SNS, KMS and the code key."""
    grown = copy.deepcopy(template)
    resources, paths = grown["Resources"], grown["Resources"]["Api"]["Properties"]["DefinitionBody"]["paths"]
    model = resources["CreateMfaChallengeFunction"]
    existing = sum(r["Type"] == "AWS::Serverless::Function" for r in resources.values())
    for number in range(functions - existing):
        function = copy.deepcopy(model)
        for index, event in enumerate(function["Properties"]["Events"].values()):
            path = f"/projected/{number}/{index}"
            event["Properties"]["Path"] = path
            paths[path] = copy.deepcopy(paths["/account"])  # its OPTIONS and ANY, as for every resource
        resources[f"Projected{number}Function"] = function
    return grown


def test_room_for_120_functions():
    stack = transformed(projected(TEMPLATE, ROOM_FOR_FUNCTIONS))
    assert sum(r["Type"] == "AWS::Lambda::Function" for r in stack["Resources"].values()) == ROOM_FOR_FUNCTIONS
    assert_within_limits(stack)
