"""Fixed-window counters for rate limits, one item per key and window, expired by TTL."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from botocore.exceptions import ClientError

from authcore.store.table import client, marshal, table_name, unmarshal


@dataclass(frozen=True)
class Window:
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends
    allowed: bool


def hit(bucket: str, key: str, limit: int, window_seconds: int, now: int) -> Window:
    """Count one request; refuse (without counting) once `limit` is reached. Atomic under concurrency.

    The key (an ip, an email, a user id) is stored only as a digest.
    """
    start = now - now % window_seconds
    reset = start + window_seconds
    pk = f"RATE#{bucket}#{hashlib.sha256(key.encode()).hexdigest()[:32]}"
    try:
        response = client().update_item(
            TableName=table_name(),
            Key=marshal({"pk": pk, "sk": str(start)}),
            UpdateExpression="ADD #n :one SET #ttl = :ttl",
            ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
            ExpressionAttributeNames={"#n": "count", "#ttl": "ttl"},
            ExpressionAttributeValues=marshal({":one": 1, ":limit": limit, ":ttl": reset + 60}),
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return Window(limit, 0, reset, allowed=False)
    count = unmarshal(response["Attributes"])["count"]
    return Window(limit, max(limit - count, 0), reset, allowed=True)
