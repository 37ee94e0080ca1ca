"""The table client, item (de)serialisation and key shapes."""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from authcore import awsclient
from authcore.config import settings
from authcore.store.errors import SpentError, StaleError

_client = None

PROFILE = "PROFILE"
SESSION_PREFIX = "SESSION#"


def client():
    """One client per container, created on first use."""
    global _client
    if _client is None:
        _client = awsclient.create(
            "dynamodb",
            Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}),
        )
    return _client


def table_name() -> str:
    return settings().table_name


def user_key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": PROFILE}


def session_key(user_id: str, secret_digest: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{SESSION_PREFIX}{secret_digest}"}


def email_key(email: str) -> dict[str, str]:
    return {"pk": f"EMAIL#{email}", "sk": "EMAIL"}


def phone_key(phone: str) -> dict[str, str]:
    return {"pk": f"PHONE#{phone}", "sk": "PHONE"}


def marshal(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _attribute(v) for k, v in values.items()}


def unmarshal(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: _plain(v) for k, v in item.items()}


def _attribute(value: Any) -> dict[str, Any]:
    """One value as a DynamoDB attribute value (written here: boto3's TypeSerializer was a fifth of a
    request's own CPU). Numbers are integers: nothing we store is fractional."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {k: _attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [_attribute(v) for v in value]}
    if isinstance(value, bytes):
        return {"B": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, set | frozenset) and value:
        return _set(value)
    raise TypeError(f"no DynamoDB attribute for {type(value).__name__}")


def _set(values: set[Any] | frozenset[Any]) -> dict[str, list[Any]]:
    """A non-empty set of strings, integers or bytes (DynamoDB has no empty or mixed sets)."""
    if all(isinstance(v, str) for v in values):
        return {"SS": list(values)}
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return {"NS": [str(v) for v in values]}
    if all(isinstance(v, bytes) for v in values):
        return {"BS": list(values)}
    raise TypeError("a DynamoDB set holds strings, integers or bytes, one kind only")


def _plain(value: dict[str, Any]) -> Any:
    """One DynamoDB attribute value as plain Python: numbers as int (everything we store is an
    integer), binaries as bytes, sets as sets."""
    ((kind, data),) = value.items()
    if kind in ("S", "BOOL", "B"):
        return data
    if kind == "N":
        return int(data)
    if kind == "M":
        return {k: _plain(v) for k, v in data.items()}
    if kind == "L":
        return [_plain(v) for v in data]
    if kind == "NULL":
        return None
    if kind == "NS":
        return {int(n) for n in data}
    return set(data)  # SS, BS


def scan_items(partition_prefix: str, sort_key: str, sort_prefix: bool = False) -> list[dict[str, Any]]:
    """Every item whose pk starts with `partition_prefix` and whose sk is `sort_key` (or, with `sort_prefix`,
    starts with it), page by page.

    A Scan reads the whole table, whatever it returns: for admin paths only, never an end user's.
    """
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table_name(),
        "FilterExpression": "begins_with(pk, :prefix) AND " + ("begins_with(sk, :sk)" if sort_prefix else "sk = :sk"),
        "ExpressionAttributeValues": marshal({":prefix": partition_prefix, ":sk": sort_key}),
    }
    while True:
        page = client().scan(**request)
        items += [unmarshal(item) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def is_conditional_failure(error: Exception) -> bool:
    """A condition did not hold (or a concurrent transaction held an item): decide again on a fresh
    read. A transaction cancelled only for throttling or a service error is not one: it stays an error."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    if code == "TransactionCanceledException":
        reasons = cancellation_codes(error)
        return not reasons or any(reason in ("ConditionalCheckFailed", "TransactionConflict") for reason in reasons)
    return code == "ConditionalCheckFailedException"


def cancellation_codes(error: Exception) -> list[str]:
    """Per-item reasons of a cancelled transaction, in the order the items were sent."""
    reasons = getattr(error, "response", {}).get("CancellationReasons", [])
    return [r.get("Code", "None") for r in reasons]


def transact_guarded(items: list[dict[str, Any]], first_failed: Exception) -> None:
    """One transaction whose first item guards it: `first_failed` is raised when that item's condition
    failed, StaleError when another's did (read again and decide again)."""
    try:
        client().transact_write_items(TransactItems=items)
    except ClientError as error:
        if not is_conditional_failure(error):
            raise
        if cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]:
            raise first_failed from error
        raise StaleError() from error


def spend_in_transaction(items: list[dict[str, Any]]) -> None:
    """A transaction whose first item is the single-use thing it spends (a token, a challenge, a passkey
    registration): SpentError when that was spent already."""
    transact_guarded(items, SpentError())
