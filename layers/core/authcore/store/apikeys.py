"""Server API key items: APIKEY#<keyId> / KEY, holding the key's name, scopes, expiry and the SHA-256
of its secret (never the secret). Created, listed and revoked only by the deployer's CLI (admin/keys.py).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from authcore.store.table import client, marshal, table_name, unmarshal

PREFIX = "APIKEY#"
SORT_KEY = "KEY"


def key_key(key_id: str) -> dict[str, str]:
    return {"pk": f"{PREFIX}{key_id}", "sk": SORT_KEY}


def put_key(item: dict[str, Any]) -> None:
    """Store a new key (`item` has keyId, name, scopes, expire, createdAt, hash); never overwrites one."""
    client().put_item(
        TableName=table_name(),
        Item=marshal({**key_key(item["keyId"]), **item}),
        ConditionExpression="attribute_not_exists(pk)",
    )


def count_use(key_id: str, window: str, previous_window: str, limit: int) -> tuple[str, dict[str, Any] | None]:
    """Read the key and count one request in its current window, in one round trip.

    Returns ("ok", key item), ("limited", key item) or ("unknown", None). The counter lives on the key
    item (as the sign-in counter lives on the email index item), so a key request costs one call.
    """
    try:
        response = client().update_item(
            TableName=table_name(),
            Key=marshal(key_key(key_id)),
            UpdateExpression="ADD #cur :one REMOVE #prev",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#cur) OR #cur < :limit)",
            ExpressionAttributeNames={"#cur": window, "#prev": previous_window},
            ExpressionAttributeValues=marshal({":one": 1, ":limit": limit}),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        old = unmarshal(error.response.get("Item"))
        return ("limited", old) if old else ("unknown", None)
    return "ok", unmarshal(response["Attributes"])


def list_keys() -> list[dict[str, Any]]:
    """Every key item. A Scan of the whole table filtered on the key items: for the deployer's CLI only."""
    keys: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table_name(),
        "FilterExpression": "begins_with(pk, :prefix) AND sk = :sk",
        "ExpressionAttributeValues": marshal({":prefix": PREFIX, ":sk": SORT_KEY}),
    }
    while True:
        page = client().scan(**request)
        keys += [unmarshal(item) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return keys
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete_key(key_id: str) -> bool:
    """Revoke a key: its item is deleted. False when there was no such key."""
    response = client().delete_item(TableName=table_name(), Key=marshal(key_key(key_id)), ReturnValues="ALL_OLD")
    return bool(response.get("Attributes"))
