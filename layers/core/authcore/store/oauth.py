"""Social sign-in items: the state of a started OAuth2 flow, identities, and OAuth2 sign-in tokens.

- `OAUTHSTATE#<keyed hash of state>` / `STATE`: one started flow (provider, PKCE verifier, nonce, where to
  redirect), taken once by a conditional delete; TTL removes the ones never finished.
- `USER#<userId>` / `IDENTITY#<identityId>`: an identity of the user at a provider, and
  `IDENTITY#<provider>#<providerUid>` / `IDENTITY`: the index that finds its user, unique by condition.
- `USER#<userId>` / `TOKEN#<sha256 of secret>` of kind `oauth2`: the token flow's secret, taken once.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from authcore.store import users
from authcore.store.errors import ConflictError
from authcore.store.table import (
    cancellation_codes,
    client,
    is_conditional_failure,
    marshal,
    scan_items,
    table_name,
    unmarshal,
)
from authcore.store.tokens import token_key

IDENTITY_PREFIX = "IDENTITY#"


def state_key(state_hash: str) -> dict[str, str]:
    return {"pk": f"OAUTHSTATE#{state_hash}", "sk": "STATE"}


def identity_key(user_id: str, identity_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{IDENTITY_PREFIX}{identity_id}"}


def identity_index_key(provider: str, provider_uid: str) -> dict[str, str]:
    return {"pk": f"{IDENTITY_PREFIX}{provider}#{provider_uid}", "sk": "IDENTITY"}


def put_state(state_hash: str, item: dict[str, Any]) -> None:
    """Store a started flow; a state that exists already (a 256-bit collision) is refused."""
    client().put_item(
        TableName=table_name(),
        Item=marshal({**state_key(state_hash), **item}),
        ConditionExpression="attribute_not_exists(pk)",
    )


def _take(key: dict[str, str], now: int, kind: str) -> dict[str, Any] | None:
    """Delete an item of `kind` if it exists and is unexpired, returning it: under any concurrency, one
    caller gets it."""
    try:
        response = client().delete_item(
            TableName=table_name(),
            Key=marshal(key),
            ConditionExpression="attribute_exists(pk) AND #expire > :now AND #kind = :kind",
            ExpressionAttributeNames={"#expire": "expire", "#kind": "kind"},
            ExpressionAttributeValues=marshal({":now": now, ":kind": kind}),
            ReturnValues="ALL_OLD",
        )
    except ClientError as error:
        if is_conditional_failure(error):
            return None
        raise
    return unmarshal(response.get("Attributes"))


def take_state(state_hash: str, now: int) -> dict[str, Any] | None:
    """The started flow of this state, once; None for an unknown, used or expired state."""
    return _take(state_key(state_hash), now, "oauth2State")


def find_identity(provider: str, provider_uid: str) -> dict[str, Any] | None:
    """The index item (userId, identityId) of the identity, or None."""
    response = client().get_item(
        TableName=table_name(), Key=marshal(identity_index_key(provider, provider_uid)), ConsistentRead=True
    )
    return unmarshal(response.get("Item"))


def _identity_puts(identity: dict[str, Any]) -> list[dict[str, Any]]:
    index = {"userId": identity["userId"], "identityId": identity["identityId"]}
    return [
        {
            "Put": {
                "TableName": table_name(),
                "Item": marshal({**identity_index_key(identity["provider"], identity["providerUid"]), **index}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": table_name(),
                "Item": marshal({**identity_key(identity["userId"], identity["identityId"]), **identity}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]


def add_identity(identity: dict[str, Any], new_user: dict[str, Any] | None = None) -> None:
    """Write an identity (and, for a first sign-in, its new user) all or nothing. An existing user must
    still exist. Raises ConflictError("identity") when the provider account is linked already, or
    ConflictError("user" | "email" | "phone") when `new_user` collides."""
    creation = users.creation_items(new_user) if new_user else []
    items = _identity_puts(identity) + [put for _, put in creation]
    if not new_user:
        items.append(
            {
                "ConditionCheck": {
                    "TableName": table_name(),
                    "Key": marshal(users.user_key(identity["userId"])),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        )
    try:
        client().transact_write_items(TransactItems=items)
    except ClientError as error:
        if not is_conditional_failure(error):
            raise
        codes = cancellation_codes(error)
        if codes[:1] == ["ConditionalCheckFailed"]:
            raise ConflictError("identity") from error
        taken = next(
            (what for (what, _), code in zip(creation, codes[2:], strict=False) if code == "ConditionalCheckFailed"),
            "user",
        )
        raise ConflictError(taken) from error


def list_identities(user_id: str) -> list[dict[str, Any]]:
    response = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues=marshal({":pk": f"USER#{user_id}", ":prefix": IDENTITY_PREFIX}),
        ConsistentRead=True,
    )
    return [unmarshal(item) for item in response.get("Items", [])]


def get_identity(user_id: str, identity_id: str) -> dict[str, Any] | None:
    response = client().get_item(
        TableName=table_name(), Key=marshal(identity_key(user_id, identity_id)), ConsistentRead=True
    )
    return unmarshal(response.get("Item"))


def all_identities() -> list[dict[str, Any]]:
    """Every identity of every user (a Scan: for the Users API only)."""
    return scan_items("USER#", IDENTITY_PREFIX, sort_prefix=True)


def delete_identity(identity: dict[str, Any]) -> bool:
    """Remove an identity and its index item; False when it was removed meanwhile."""
    try:
        client().transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": table_name(),
                        "Key": marshal(identity_key(identity["userId"], identity["identityId"])),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {
                    "Delete": {
                        "TableName": table_name(),
                        "Key": marshal(identity_index_key(identity["provider"], identity["providerUid"])),
                        "ConditionExpression": "identityId = :id",
                        "ExpressionAttributeValues": marshal({":id": identity["identityId"]}),
                    }
                },
            ]
        )
    except ClientError as error:
        if is_conditional_failure(error):
            return False
        raise
    return True


def put_token(token: dict[str, Any]) -> None:
    """Store the token flow's secret (by its digest) in the user's partition."""
    client().put_item(
        TableName=table_name(),
        Item=marshal({**token_key(token["userId"], token["hash"]), **token}),
        ConditionExpression="attribute_not_exists(pk)",
    )


def take_token(user_id: str, token_hash: str, now: int) -> dict[str, Any] | None:
    """The token flow's token, once (deleted as it is taken); None when unknown, used or expired."""
    return _take(token_key(user_id, token_hash), now, "oauth2")


def drop_orphan_index(provider: str, provider_uid: str, user_id: str) -> None:
    """Remove an identity index item left by a deleted user (if it still names that user)."""
    try:
        client().delete_item(
            TableName=table_name(),
            Key=marshal(identity_index_key(provider, provider_uid)),
            ConditionExpression="userId = :gone",
            ExpressionAttributeValues=marshal({":gone": user_id}),
        )
    except ClientError as error:
        if not is_conditional_failure(error):
            raise


def spend_id_token(token_digest: str, expire_s: int) -> bool:
    """Record a native ID token as used (until it expires): False when it was used already (a replay)."""
    try:
        client().put_item(
            TableName=table_name(),
            Item=marshal({"pk": f"IDTOKEN#{token_digest}", "sk": "USED", "ttl": expire_s + 3600}),
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if is_conditional_failure(error):
            return False
        raise
    return True
