"""Session items. The profile keeps a map of its sessions so the 10-session cap costs no query."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from authcore.store.errors import StaleError
from authcore.store.table import (
    client,
    email_key,
    is_conditional_failure,
    marshal,
    session_key,
    table_name,
    user_key,
)


def create_session(
    user: dict[str, Any],
    session: dict[str, Any],
    evict: list[str],
    sign_in_counter: tuple[str, str] | None = None,
) -> None:
    """Write a session, record it (and the access time) on the profile, end the `evict` sessions,
    and reset the (email, counter attribute) sign-in counter: one transaction.

    Raises StaleError when another sign-in changed the profile's sessions since `user` was read.
    """
    user_id, digest = user["userId"], session["digest"]
    names = {"#sessions": "sessions", "#new": digest, "#rev": "sessionsRev", "#accessed": "accessedAt"}
    values: dict[str, Any] = {
        ":entry": {"id": session["sessionId"], "createdAt": session["createdAt"], "expire": session["expire"]},
        ":rev": user.get("sessionsRev", 0),
        ":one": 1,
        ":now": session["createdAt"],
    }
    removals = []
    for i, old in enumerate(evict):
        names[f"#old{i}"] = old
        removals.append(f"#sessions.#old{i}")
    update = "SET #sessions.#new = :entry, #accessed = :now ADD #rev :one" + (
        " REMOVE " + ", ".join(removals) if removals else ""
    )
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table_name(),
                "Item": marshal({**session_key(user_id, digest), **session}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Update": {
                "TableName": table_name(),
                "Key": marshal(user_key(user_id)),
                "UpdateExpression": update,
                "ConditionExpression": "attribute_exists(pk) AND (#rev = :rev OR attribute_not_exists(#rev))"
                if values[":rev"] == 0
                else "attribute_exists(pk) AND #rev = :rev",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": marshal(values),
            }
        },
    ]
    items += [{"Delete": {"TableName": table_name(), "Key": marshal(session_key(user_id, old))}} for old in evict]
    if sign_in_counter:
        email, counter = sign_in_counter
        items.append(
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": marshal(email_key(email)),
                    "UpdateExpression": "REMOVE #counter",
                    "ConditionExpression": "userId = :me",
                    "ExpressionAttributeNames": {"#counter": counter},
                    "ExpressionAttributeValues": marshal({":me": user_id}),
                }
            }
        )
    try:
        client().transact_write_items(TransactItems=items)
    except ClientError as error:
        if is_conditional_failure(error):
            raise StaleError() from error
        raise


def end_sessions(user_id: str, digests: list[str], profile_changes: dict[str, Any] | None = None) -> None:
    """Delete sessions and their profile entries, optionally setting profile fields in the same write."""
    changes = profile_changes or {}
    names = {f"#f{i}": f for i, f in enumerate(changes)}
    if digests:
        names.update({"#sessions": "sessions", **{f"#d{i}": d for i, d in enumerate(digests)}})
    update = ""
    if changes:
        update += "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))) + " "
    if digests:
        update += "REMOVE " + ", ".join(f"#sessions.#d{i}" for i in range(len(digests)))
    profile_update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": marshal(user_key(user_id)),
        "UpdateExpression": update.strip(),
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeNames": names,
    }
    if changes:
        profile_update["ExpressionAttributeValues"] = marshal({f":v{i}": v for i, v in enumerate(changes.values())})
    deletes = [{"Delete": {"TableName": table_name(), "Key": marshal(session_key(user_id, d))}} for d in digests]
    client().transact_write_items(TransactItems=[{"Update": profile_update}, *deletes])


def extend_session(user_id: str, digest: str, expire: int, updated_at: int) -> None:
    """Move a session's expiry (and its profile entry's) forward; StaleError if the session is gone."""
    names = {"#exp": "expire", "#ttl": "ttl", "#upd": "updatedAt", "#sessions": "sessions", "#d": digest}
    try:
        client().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table_name(),
                        "Key": marshal(session_key(user_id, digest)),
                        "UpdateExpression": "SET #exp = :e, #ttl = :e, #upd = :u",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {k: names[k] for k in ("#exp", "#ttl", "#upd")},
                        "ExpressionAttributeValues": marshal({":e": expire, ":u": updated_at}),
                    }
                },
                {
                    "Update": {
                        "TableName": table_name(),
                        "Key": marshal(user_key(user_id)),
                        "UpdateExpression": "SET #sessions.#d.#exp = :e",
                        "ConditionExpression": "attribute_exists(#sessions.#d)",
                        "ExpressionAttributeNames": {k: names[k] for k in ("#sessions", "#d", "#exp")},
                        "ExpressionAttributeValues": marshal({":e": expire}),
                    }
                },
            ]
        )
    except ClientError as error:
        if is_conditional_failure(error):
            raise StaleError() from error
        raise
