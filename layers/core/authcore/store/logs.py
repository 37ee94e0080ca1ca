"""Activity log items: one per security event, in the user's partition, newest first by sort key.

`LOG#<unique id>` sorts by time (ids are time-ordered) and before `PROFILE`, so no query of the profile
and its sessions ever reads a log item. DynamoDB's TTL removes each item 90 days after it was written.
"""

from __future__ import annotations

from typing import Any

from authcore.store.table import client, marshal, table_name, unmarshal

LOG_PREFIX = "LOG#"


def log_key(user_id: str, log_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{LOG_PREFIX}{log_id}"}


def put(item: dict[str, Any]) -> dict[str, Any]:
    """The transaction Put of a log item (from services/activity.py `entry`): a flow that already writes a
    transaction adds it there, so the event costs no round trip and cannot be lost if the change is made."""
    return {"Put": {"TableName": table_name(), "Item": marshal({**log_key(item["userId"], item["logId"]), **item})}}


def write(item: dict[str, Any]) -> None:
    """The log item on its own (one PutItem), for a flow without a transaction to add it to."""
    client().put_item(**put(item)["Put"])


def newest(user_id: str, most: int) -> list[dict[str, Any]]:
    """The user's newest `most` log items, newest first, page by page (a page holds about 3,000 items)."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :log)",
        "ExpressionAttributeValues": marshal({":pk": f"USER#{user_id}", ":log": LOG_PREFIX}),
        "ScanIndexForward": False,
        "Limit": most,
    }
    while len(items) < most:
        page = client().query(**request)
        items += [unmarshal(item) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        request["Limit"] = most - len(items)
    return items
