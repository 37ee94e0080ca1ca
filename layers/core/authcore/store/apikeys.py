"""Server API key items: APIKEY#<keyId> / KEY, holding the key's name, scopes, expiry and the SHA-256
of its secret (never the secret). Created, listed and revoked only by the deployer's CLI (admin/keys.py).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from authcore.store.table import client, marshal, scan_items, table_name, unmarshal

PREFIX = "APIKEY#"
SORT_KEY = "KEY"
WRITE_ATTEMPTS = 3


def key_key(key_id: str) -> dict[str, str]:
    return {"pk": f"{PREFIX}{key_id}", "sk": SORT_KEY}


def put_key(item: dict[str, Any]) -> None:
    """Store a new key (`item` has keyId, name, scopes, expire, createdAt, hash); never overwrites one."""
    client().put_item(
        TableName=table_name(),
        Item=marshal({**key_key(item["keyId"]), **item}),
        ConditionExpression="attribute_not_exists(pk)",
    )


def count_use(key_id: str, window: int, limit: int) -> tuple[str, dict[str, Any] | None]:
    """Read the key and count one request in `window` (a number: the minute), in one call as a rule.

    Returns ("ok", key item), ("limited", key item) or ("unknown", None). The count lives on the key
    item in two slots, by the window's parity (`uses<p>`, `window<p>`); each request empties the other
    slot, so the item never grows. A slot still holds an older window only when no request came in the
    window before: then one more call starts it afresh.
    """
    slot, other = window % 2, 1 - window % 2
    names = {"#cnt": f"uses{slot}", "#win": f"window{slot}", "#ocnt": f"uses{other}", "#owin": f"window{other}"}
    counted = {
        "UpdateExpression": "SET #win = :w ADD #cnt :one REMOVE #ocnt, #owin",
        "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(#win) OR (#win = :w AND #cnt < :limit))",
        "ExpressionAttributeValues": marshal({":w": window, ":one": 1, ":limit": limit}),
    }
    restarted = {
        "UpdateExpression": "SET #win = :w, #cnt = :one REMOVE #ocnt, #owin",
        "ConditionExpression": "attribute_exists(pk) AND #win < :w",
        "ExpressionAttributeValues": marshal({":w": window, ":one": 1}),
    }
    for _ in range(WRITE_ATTEMPTS):
        try:
            return "ok", _update(key_id, names, counted)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = unmarshal(error.response.get("Item"))
        if not old:
            return "unknown", None
        if old.get(f"window{slot}", window) >= window:
            return "limited", old  # this window's count is spent (or a clock ahead of ours started a later one)
        try:
            return "ok", _update(key_id, names, restarted)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # else another request restarted the slot first: count on it
    return "limited", old


def _update(key_id: str, names: dict[str, str], expression: dict[str, Any]) -> dict[str, Any]:
    response = client().update_item(
        TableName=table_name(),
        Key=marshal(key_key(key_id)),
        ExpressionAttributeNames=names,
        ReturnValues="ALL_NEW",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
        **expression,
    )
    return unmarshal(response["Attributes"])


def list_keys() -> list[dict[str, Any]]:
    """Every key item. A Scan of the whole table filtered on the key items: for the deployer's CLI only."""
    return scan_items(PREFIX, SORT_KEY)


def delete_key(key_id: str) -> bool:
    """Revoke a key: its item is deleted. False when there was no such key."""
    response = client().delete_item(TableName=table_name(), Key=marshal(key_key(key_id)), ReturnValues="ALL_OLD")
    return bool(response.get("Attributes"))
