"""Fault injection for every AWS call a handler makes (DynamoDB, SES v2, SNS, KMS, Secrets Manager),
and the table invariants that must hold whatever failed.

A `before-call` handler sees each API call once, after botocore's retries would have been decided
(a fault returned or raised there is what the caller sees when the retries are used up), and can
answer it with an error instead of letting moto serve it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from authcore import awsclient

# --- the faults ----------------------------------------------------------------------------------

THROTTLING = {
    "dynamodb": ("ThrottlingException", 400),
    "sesv2": ("TooManyRequestsException", 429),
    "sns": ("Throttling", 400),
    "kms": ("ThrottlingException", 400),
    "secretsmanager": ("ThrottlingException", 400),
}
SERVER_ERROR = {
    "dynamodb": ("InternalServerError", 500),
    "sesv2": ("InternalFailure", 500),
    "sns": ("InternalError", 500),
    "kms": ("KMSInternalException", 500),
    "secretsmanager": ("InternalServiceError", 500),
}


@dataclass(frozen=True)
class Fault:
    """One way an AWS call fails. `strike(service, operation, request)` answers the call with an
    AWS error (what botocore would have parsed) or raises a connection-level error."""

    name: str
    applies: Callable[[str, str], bool]
    strike: Callable[[str, str, dict[str, Any]], Any]


def _aws_error(code: str, status: int, **extra: Any) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {"Error": {"Code": code, "Message": f"{code} (injected)"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse("https://aws.invalid", status, {}, None), {**parsed, **extra}


def _refusal(codes: dict[str, tuple[str, int]]) -> Callable[[str, str, dict[str, Any]], Any]:
    return lambda service, _operation, _request: _aws_error(*codes[service])


def _throughput(*_: Any) -> Any:
    return _aws_error("ProvisionedThroughputExceededException", 400)


def _transaction_throttled(_service: str, _operation: str, request: dict[str, Any]) -> Any:
    """A cancelled transaction whose items were throttled: no condition failed."""
    items = json.loads(request["body"])["TransactItems"]
    reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity."} for _ in items]
    return _aws_error("TransactionCanceledException", 400, CancellationReasons=reasons)


def _raising(error: type[Exception]) -> Callable[[str, str, dict[str, Any]], Any]:
    def strike(service: str, _operation: str, _request: dict[str, Any]) -> Any:
        raise error(endpoint_url=f"https://{service}.us-east-1.amazonaws.com")

    return strike


def _any(*_: str) -> bool:
    return True


FAULTS = {
    fault.name: fault
    for fault in (
        Fault("throttled", _any, _refusal(THROTTLING)),
        Fault("throughput exceeded", lambda service, _: service == "dynamodb", _throughput),
        Fault("transaction throttled", lambda _, operation: operation == "TransactWriteItems", _transaction_throttled),
        Fault("server error", _any, _refusal(SERVER_ERROR)),
        Fault("read timeout", _any, _raising(ReadTimeoutError)),
        Fault("connect timeout", _any, _raising(ConnectTimeoutError)),
        Fault("unreachable", _any, _raising(EndpointConnectionError)),
    )
}


def faults_for(call: str) -> list[str]:
    """The fault names that can happen to `call` ("service.Operation")."""
    service, operation = call.split(".")
    return [name for name, fault in FAULTS.items() if fault.applies(service, operation)]


class Injector:
    """Sees every AWS call of every client while armed: records them as "service.Operation" and fails
    call number `at` (1-based) with `fault`."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.armed = False
        self.at: int | None = None
        self.fault: Fault | None = None
        self.struck: str | None = None  # the call that was failed

    def hook(self, client: Any) -> Any:
        client.meta.events.register("before-call", self._before_call, unique_id="fault-injector")
        return client

    def arm(self, at: int | None = None, fault: str | None = None) -> None:
        self.calls.clear()
        self.at, self.fault, self.struck = at, FAULTS[fault] if fault else None, None
        self.armed = True

    def disarm(self) -> None:
        self.armed = False

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        if not self.armed:
            return None
        call = f"{model.service_model.service_name}.{model.name}"
        self.calls.append(call)
        if self.fault is None or len(self.calls) != self.at:
            return None
        self.struck = call
        return self.fault.strike(model.service_model.service_name, model.name, params)


def install(injector: Injector, monkeypatch) -> None:
    """Hook the table client (already created) and every client created from now on."""
    from authcore.store import table

    injector.hook(table.client())
    create = awsclient.create
    monkeypatch.setattr(awsclient, "create", lambda *args, **kwargs: injector.hook(create(*args, **kwargs)))


# --- the state of the table ----------------------------------------------------------------------


def durable_state(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of `items` (table_items()), all but the rate counters, without the password sign-in counters on
    email index items: what a failed request must leave exactly as it found (the limits it charged
    may stay charged)."""
    durable = []
    for item in items:
        if item["pk"].startswith("RATE#"):
            continue
        if item["pk"].startswith("EMAIL#"):
            item = {k: v for k, v in item.items() if not k.startswith("signIn")}
        durable.append(item)
    return sorted(durable, key=lambda i: (i["pk"], i["sk"]))


def check_invariants(items: list[dict[str, Any]]) -> None:
    """What must hold of the table's `items` (table_items()) after any request, failed or not:

    - every EMAIL#/PHONE# index item names an existing user holding that address, and every address a
      user holds has its index item naming that user;
    - every item of a user's partition belongs to an existing profile;
    - the SESSION# items of a user are exactly the entries of the profile's `sessions` map (same
      session id and expiry);
    - rate counters and failure counts are never negative.
    """
    profiles = {i["pk"].removeprefix("USER#"): i for i in items if i["sk"] == "PROFILE"}
    for item in items:
        pk = item["pk"]
        if pk.startswith(("EMAIL#", "PHONE#")):
            kind, address = pk.split("#", 1)
            owner = profiles.get(item["userId"])
            assert owner is not None, f"index item {pk} names a missing user"
            assert owner.get(kind.lower()) == address, f"index item {pk} names a user without that address"
        elif pk.startswith("USER#"):
            assert pk.removeprefix("USER#") in profiles, f"{item['sk'].split('#')[0]} item of a missing user"
        elif pk.startswith("RATE#") and item["sk"] != "cooldown":
            assert item["count"] >= 0, f"negative rate counter {item}"
    index = {(i["pk"], i["userId"]) for i in items if i["pk"].startswith(("EMAIL#", "PHONE#"))}
    for user_id, user in profiles.items():
        for kind in ("email", "phone"):
            if user.get(kind):
                assert (f"{kind.upper()}#{user[kind]}", user_id) in index, f"{kind} of {user_id} has no index item"
        assert user.get("codeFailures", 0) >= 0
        stored = {
            i["sk"].removeprefix("SESSION#"): (i["sessionId"], i["expire"])
            for i in items
            if i["pk"] == f"USER#{user_id}" and i["sk"].startswith("SESSION#")
        }
        listed = {digest: (entry["id"], entry["expire"]) for digest, entry in user.get("sessions", {}).items()}
        assert stored == listed, f"sessions of {user_id}: items {stored} but profile lists {listed}"


def snapshot() -> list[dict[str, Any]]:
    """Every item of the table as stored (DynamoDB JSON), to `restore` later."""
    from authcore.store.table import client, table_name

    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table_name(), "ConsistentRead": True}
    while True:
        page = client().scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def restore(items: list[dict[str, Any]]) -> None:
    """Make the table hold exactly `items` (a `snapshot`)."""
    from authcore.store.table import client, table_name

    deletes = [{"DeleteRequest": {"Key": {"pk": i["pk"], "sk": i["sk"]}}} for i in snapshot()]
    puts = [{"PutRequest": {"Item": item}} for item in items]
    for writes in (deletes, puts):  # apart: one batch may not name a key twice
        for start in range(0, len(writes), 25):
            client().batch_write_item(RequestItems={table_name(): writes[start : start + 25]})
