"""Rate limits: fixed-window counters and per-destination cooldowns, one item per key, expired by TTL.

Keys (an ip, an email, a user id) are stored only as digests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from authcore.store.errors import LimitError
from authcore.store.table import client, is_conditional_failure, marshal, table_name, unmarshal


@dataclass(frozen=True)
class Window:
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends
    allowed: bool


@dataclass(frozen=True)
class Charge:
    """One unit taken from a limit: `limit` per fixed window, or (cooldown) one per `window_seconds` from now."""

    bucket: str
    key: str
    limit: int
    window_seconds: int
    cooldown: bool = False

    def reset(self, now: int) -> int:
        if self.cooldown:
            return now + self.window_seconds
        return now - now % self.window_seconds + self.window_seconds


def _pk(bucket: str, key: str) -> str:
    return f"RATE#{bucket}#{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def _key(charge: Charge, now: int) -> dict[str, Any]:
    if charge.cooldown:
        return marshal({"pk": _pk(charge.bucket, charge.key), "sk": "cooldown"})
    return marshal({"pk": _pk(charge.bucket, charge.key), "sk": str(now - now % charge.window_seconds)})


def hit(bucket: str, key: str, limit: int, window_seconds: int, now: int) -> Window:
    """Count one request; refuse (without counting) once `limit` is reached. Atomic under concurrency."""
    charge = Charge(bucket, key, limit, window_seconds)
    try:
        response = client().update_item(**charge_update(charge, now), ReturnValues="UPDATED_NEW")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return Window(limit, 0, charge.reset(now), allowed=False)
    count = unmarshal(response["Attributes"])["count"]
    return Window(limit, max(limit - count, 0), charge.reset(now), allowed=True)


def charge_update(charge: Charge, now: int) -> dict[str, Any]:
    """The conditional update that spends `charge` (for update_item or a transaction's Update)."""
    if charge.cooldown:
        return {
            "TableName": table_name(),
            "Key": _key(charge, now),
            "UpdateExpression": "SET #until = :until, #ttl = :ttl",
            "ConditionExpression": "attribute_not_exists(#until) OR #until <= :now",
            "ExpressionAttributeNames": {"#until": "until", "#ttl": "ttl"},
            "ExpressionAttributeValues": marshal(
                {":until": now + charge.window_seconds, ":now": now, ":ttl": now + charge.window_seconds + 60}
            ),
            # A refusal returns the cooldown's end, for X-RateLimit-Reset.
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    return {
        "TableName": table_name(),
        "Key": _key(charge, now),
        "UpdateExpression": "ADD #n :one SET #ttl = :ttl",
        "ConditionExpression": "attribute_not_exists(#n) OR #n < :limit",
        "ExpressionAttributeNames": {"#n": "count", "#ttl": "ttl"},
        "ExpressionAttributeValues": marshal({":one": 1, ":limit": charge.limit, ":ttl": charge.reset(now) + 60}),
    }


def refund_item(charge: Charge, now: int) -> dict[str, Any]:
    """A transaction item giving back what `charge_update` took. `now` must be the time it was spent at,
    so the same window is refunded; unconditional, so a refund can never make its transaction fail."""
    if charge.cooldown:
        return {"Delete": {"TableName": table_name(), "Key": _key(charge, now)}}
    return {
        "Update": {
            "TableName": table_name(),
            "Key": _key(charge, now),
            "UpdateExpression": "ADD #n :minus",
            "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": marshal({":minus": -1}),
        }
    }


def spend(charges: list[Charge], now: int, also: list[dict[str, Any]] | None = None) -> None:
    """Spend every charge or none (one round trip); LimitError names the first one that was exhausted.
    `also`: more transaction items that go with the charges (a failed condition of theirs raises the
    cancelled transaction's ClientError)."""
    if len(charges) == 1 and not also:
        try:
            client().update_item(**charge_update(charges[0], now))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            until = (unmarshal(error.response.get("Item")) or {}).get("until") if charges[0].cooldown else None
            raise LimitError(charges[0], until) from error
        return
    try:
        client().transact_write_items(TransactItems=[{"Update": charge_update(c, now)} for c in charges] + (also or []))
    except ClientError as error:
        raise_limit_reached(error, charges)
        raise


def raise_limit_reached(error: ClientError, charges: list[Charge], first_item: int = 0) -> None:
    """Raise LimitError if the cancelled transaction failed on one of `charges` (items from `first_item`)."""
    if not is_conditional_failure(error):
        return
    reasons = error.response.get("CancellationReasons", [])[first_item : first_item + len(charges)]
    for charge, reason in zip(charges, reasons, strict=False):
        if reason.get("Code") == "ConditionalCheckFailed":
            until = (unmarshal(reason.get("Item")) or {}).get("until") if charge.cooldown else None
            raise LimitError(charge, until) from error
