"""Every alarm can reach its topic: CloudWatch may publish to it and use the key it is encrypted with.

Nothing fails at deploy when it cannot: the alarm changes state and the notification is dropped.
AWS managed keys (alias/aws/sns, alias/aws/sqs) have policies no service principal but their own
service may use, and cannot be edited; the topic policy replaces SNS's default one.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

from local import template
from tests.conftest import TEMPLATE

CLOUDWATCH = "cloudwatch.amazonaws.com"
RESOURCES = TEMPLATE["Resources"]
RESOLVER = template.Resolver(TEMPLATE)
ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")


def _alarm_topics() -> dict[str, list[str]]:
    """Topic logical id -> the alarms notifying it."""
    topics: dict[str, list[str]] = {}
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            for key in ALARM_ACTIONS:
                for action in resource["Properties"].get(key, []):
                    topics.setdefault(action["Ref"], []).append(logical_id)
    return topics


def _grants(policy: dict[str, Any], service: str, actions: list[str]) -> list[dict[str, Any]]:
    """The Allow statements letting `service` do every one of `actions`."""
    found = []
    for statement in policy["Statement"]:
        services = (statement.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        allowed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        grants_all = all(any(fnmatchcase(action.lower(), a.lower()) for a in allowed) for action in actions)
        if statement["Effect"] == "Allow" and service in services and grants_all:
            found.append(statement)
    return found


def test_every_alarm_notifies_a_topic():
    alarms = [logical_id for logical_id, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    notifying = {alarm for alarms_of_topic in _alarm_topics().values() for alarm in alarms_of_topic}
    assert alarms and set(alarms) == notifying


@pytest.mark.parametrize("topic", sorted(_alarm_topics()))
def test_cloudwatch_may_use_the_key_of_the_alarm_topic(topic):
    key = RESOURCES[topic]["Properties"].get("KmsMasterKeyId")
    assert key is not None, "encrypt the alarm topic"
    assert isinstance(key, dict) and set(key) == {"Ref"}, f"{key}: use a key of this template, not an AWS managed one"
    assert RESOURCES[key["Ref"]]["Type"] == "AWS::KMS::Key"
    # SNS asks KMS for a data key on the publisher's behalf, and for decrypting it to deliver.
    policy = RESOURCES[key["Ref"]]["Properties"]["KeyPolicy"]
    grants = _grants(policy, CLOUDWATCH, ["kms:GenerateDataKey", "kms:Decrypt"])
    assert grants, f"{key['Ref']}'s policy does not let CloudWatch use it"
    for grant in grants:
        assert RESOLVER.resolve(grant["Condition"]["StringEquals"]["aws:SourceAccount"]) == template.ACCOUNT_ID


@pytest.mark.parametrize("topic", sorted(_alarm_topics()))
def test_the_topic_policy_lets_this_stacks_alarms_publish_and_no_one_else(topic):
    policies = [
        r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::SNS::TopicPolicy" and {"Ref": topic} in r["Properties"]["Topics"]
    ]
    assert len(policies) == 1, f"{topic} needs one topic policy"
    grants = _grants(policies[0]["PolicyDocument"], CLOUDWATCH, ["sns:Publish"])
    assert len(grants) == 1
    condition = RESOLVER.resolve(grants[0]["Condition"])
    assert condition["StringEquals"]["aws:SourceAccount"] == template.ACCOUNT_ID
    source_arn = condition["ArnLike"]["aws:SourceArn"]
    for alarm in _alarm_topics()[topic]:
        # CloudFormation names an alarm without AlarmName "<stack name>-<logical id>-<random suffix>".
        name = RESOURCES[alarm]["Properties"].get("AlarmName", {"Fn::Sub": f"${{AWS::StackName}}-{alarm}-ABC123"})
        arn = f"arn:aws:cloudwatch:{template.REGION}:{template.ACCOUNT_ID}:alarm:{RESOLVER.resolve(name)}"
        assert fnmatchcase(arn, source_arn), (alarm, source_arn)
    for statement in policies[0]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Deny" or "Service" in statement["Principal"], statement  # no account-wide grant


def test_no_topic_or_queue_uses_an_aws_managed_key():
    """The same trap for any topic or queue a service might publish to."""
    for logical_id, resource in RESOURCES.items():
        props = resource.get("Properties") or {}
        if resource["Type"] in ("AWS::SNS::Topic", "AWS::SQS::Queue"):
            key = props.get("KmsMasterKeyId")
            assert not (isinstance(key, str) and key.startswith("alias/aws/")), logical_id
            assert not props.get("SqsManagedSseEnabled"), logical_id
