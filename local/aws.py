"""In-process AWS emulation (moto) with the template's resources created in it."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from moto import mock_aws
from moto.core.models import MockAWS

from local.template import Physical, Resolver

# create_table arguments whose CloudFormation shape is the API's shape.
_TABLE_ARGS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
)


def fake_environment(region: str) -> None:
    """Fake credentials and a region in os.environ, so no client can reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - fake, for moto  # nosec B106
        AWS_SESSION_TOKEN="testing",  # noqa: S106
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
    )


def start(template: Mapping[str, Any], resolver: Resolver) -> MockAWS:
    """Start moto for the whole process and create the template's resources in it."""
    fake_environment(resolver.region)
    mock = mock_aws()
    mock.start()
    create_resources(template, resolver)
    return mock


def create_resources(template: Mapping[str, Any], resolver: Resolver) -> dict[str, Physical]:
    """Create the supported resources (moto must be active) and register them in `resolver`.

    Returns logical id → Physical. Keys come before aliases and tables, so those may Ref them.
    """
    resources = template.get("Resources") or {}
    for kind, create in _CREATORS.items():
        for logical_id, resource in resources.items():
            if resource.get("Type") == kind:
                props = resolver.resolve(resource.get("Properties") or {})
                resolver.resources[logical_id] = create(logical_id, props, resolver)
    sender = resolver.parameters.get("SenderEmail")
    if isinstance(sender, str) and sender:
        _client("sesv2", resolver).create_email_identity(EmailIdentity=sender)
    return dict(resolver.resources)


def _client(service: str, resolver: Resolver) -> Any:
    return boto3.client(service, region_name=resolver.region)  # type: ignore[call-overload]


def _key(logical_id: str, props: dict[str, Any], resolver: Resolver) -> Physical:
    args = {
        "Description": props.get("Description", ""),
        "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
    }
    if "KeyPolicy" in props:
        policy = props["KeyPolicy"]
        args["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
    metadata = _client("kms", resolver).create_key(**args)["KeyMetadata"]
    return Physical(metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]})


def _alias(logical_id: str, props: dict[str, Any], resolver: Resolver) -> Physical:
    _client("kms", resolver).create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
    return Physical(props["AliasName"])


def _table(logical_id: str, props: dict[str, Any], resolver: Resolver) -> Physical:
    dynamodb = _client("dynamodb", resolver)
    name = props.get("TableName") or f"{resolver.stack_name}-{logical_id}"
    args = {key: props[key] for key in _TABLE_ARGS if key in props}
    arn = dynamodb.create_table(TableName=name, **args)["TableDescription"]["TableArn"]
    ttl = props.get("TimeToLiveSpecification") or {}
    if ttl.get("Enabled"):
        spec = {"AttributeName": ttl["AttributeName"], "Enabled": True}
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
    return Physical(name, {"Arn": arn})


def _email_identity(logical_id: str, props: dict[str, Any], resolver: Resolver) -> Physical:
    _client("sesv2", resolver).create_email_identity(EmailIdentity=props["EmailIdentity"])
    return Physical(props["EmailIdentity"])


def _secret(logical_id: str, props: dict[str, Any], resolver: Resolver) -> Physical:
    """A secret named as the Ref placeholder, so functions read before the emulation started find it.
    AUTHCORE_LOCAL_SECRET_<LogicalId> in the environment gives its value (OAuthClientSecrets' JSON)."""
    name = props.get("Name") or f"{resolver.stack_name}-{logical_id}"
    # A secret the operator fills in after deploying (OAuthClientSecrets) comes from the environment here.
    value = os.environ.get(f"AUTHCORE_LOCAL_SECRET_{logical_id}") or props.get("SecretString") or secrets.token_hex(32)
    arn = _client("secretsmanager", resolver).create_secret(Name=name, SecretString=value)["ARN"]
    return Physical(name, {"Arn": arn})


_CREATORS: dict[str, Callable[[str, dict[str, Any], Resolver], Physical]] = {
    "AWS::KMS::Key": _key,
    "AWS::KMS::Alias": _alias,
    "AWS::DynamoDB::Table": _table,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::SecretsManager::Secret": _secret,
}
