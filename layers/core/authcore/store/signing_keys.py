"""The published JWT signing keys: one item holding the public half of every key that signs or signed.

Each key is an attribute `key#<kid>` = {kid, kms, jwk, publishedAt, retiredAt?}. The JWKS route and every
JWT check read this item (no KMS call), so publishing or retiring a key takes effect at once.
"""

from __future__ import annotations

from typing import Any

from authcore.store.table import client, marshal, table_name, unmarshal, user_key
from authcore.store.users import batch_get

KEY_SET = {"pk": "JWKS", "sk": "JWKS"}
PREFIX = "key#"


def _keys(item: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [value for name, value in (item or {}).items() if name.startswith(PREFIX)]


def get_keys() -> list[dict[str, Any]]:
    response = client().get_item(TableName=table_name(), Key=marshal(KEY_SET), ConsistentRead=True)
    return _keys(unmarshal(response.get("Item")))


def get_user_and_keys(user_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """A user's profile and the key set in one round trip."""
    profile = user_key(user_id)
    found = batch_get([profile, KEY_SET])
    return found.get((profile["pk"], profile["sk"])), _keys(found.get((KEY_SET["pk"], KEY_SET["sk"])))


def publish(entry: dict[str, Any]) -> dict[str, Any]:
    """Add a key to the set unless it is there already; returns the key's entry as stored."""
    response = client().update_item(
        TableName=table_name(),
        Key=marshal(KEY_SET),
        UpdateExpression="SET #key = if_not_exists(#key, :entry)",
        ExpressionAttributeNames={"#key": PREFIX + entry["kid"]},
        ExpressionAttributeValues=marshal({":entry": entry}),
        ReturnValues="ALL_NEW",
    )
    return unmarshal(response["Attributes"])[PREFIX + entry["kid"]]


def retire(kid: str, retired_at: int) -> None:
    """Mark a published key as no longer signing since `retired_at` (epoch ms)."""
    client().update_item(
        TableName=table_name(),
        Key=marshal(KEY_SET),
        UpdateExpression="SET #key.retiredAt = :at",
        ConditionExpression="attribute_exists(#key)",
        ExpressionAttributeNames={"#key": PREFIX + kid},
        ExpressionAttributeValues=marshal({":at": retired_at}),
    )
