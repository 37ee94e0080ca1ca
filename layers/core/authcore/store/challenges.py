"""MFA challenge items: `USER#<userId>` / `CHALLENGE#<challengeId>`, with the factor's kind, the
keyed hash of an emailed or texted code, the count of wrong codes, and the expiry.

A challenge is spent by a conditional delete in the same transaction as what completing it
grants, so under any concurrency exactly one request completes it.
"""

from __future__ import annotations

from typing import Any

from authcore.store import logs, users
from authcore.store.mfa import FactorProof, transact
from authcore.store.ratelimit import Charge
from authcore.store.sessions import SessionCompletion
from authcore.store.table import marshal, spend_in_transaction, table_name, user_key
from authcore.store.tokens import issue
from authcore.store.update import ProfileUpdate

CHALLENGE_PREFIX = "CHALLENGE#"
ATTEMPTS = "attempts"


def sort_key(challenge_id: str) -> str:
    return f"{CHALLENGE_PREFIX}{challenge_id}"


def key_of(challenge: dict[str, Any]) -> dict[str, str]:
    """Where a challenge is stored: by its id (issued like a token, so its id is `tokenId`)."""
    return {"pk": f"USER#{challenge['userId']}", "sk": sort_key(challenge["tokenId"])}


def create(challenge: dict[str, Any], charges: list[Charge], now: int) -> None:
    """Spend the charges and store a challenge that sends nothing (TOTP, recovery code)."""
    issue(challenge, charges, now, key=key_of(challenge))


def _as_read(challenge: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """Condition: the challenge is still there, unexpired, with the wrong-code count as read."""
    return {
        "ConditionExpression": "#attempts = :attempts AND #expire > :now",
        "ExpressionAttributeNames": {"#attempts": ATTEMPTS, "#expire": "expire"},
        "ExpressionAttributeValues": marshal({":attempts": challenge[ATTEMPTS], ":now": now_ms}),
    }


def complete(
    challenge: dict[str, Any],
    proof: FactorProof,
    session_factors: dict[str, Any],
    now_ms: int,
    completion: SessionCompletion | None = None,
    log: dict[str, Any] | None = None,
) -> None:
    """Delete the challenge, give the session its factor and record the proof on the profile, at once;
    with `completion`, also record that the session passed the gate and end what the cap ends for it; and
    write the activity `log` item.

    SpentError when the challenge is gone (completed, burnt, expired); StaleError when the profile or
    the session changed since they were read.
    """
    user_id = challenge["userId"]
    profile = proof.apply_to(ProfileUpdate().set("updatedAt", now_ms))
    evicted = completion.apply_to(profile) if completion else []
    items = [
        {"Delete": {"TableName": table_name(), "Key": marshal(key_of(challenge)), **_as_read(challenge, now_ms)}},
        {"Update": session_factors},
        {"Update": profile.as_update(user_key(user_id))},
        *evicted,
        *([logs.put(log)] if log else []),
    ]
    spend_in_transaction(items)


def record_wrong_code(
    challenge: dict[str, Any], failures: int | None, burn: bool, now_ms: int, log: dict[str, Any] | None = None
) -> None:
    """Count a wrong code on the challenge (deleting it when `burn`) and, unless `failures` is None,
    on the user's MFA count, and write the activity `log` item, at once, if both counts are as read;
    StaleError otherwise."""
    key = marshal(key_of(challenge))
    condition = _as_read(challenge, now_ms)
    if burn:
        challenge_item = {"Delete": {"TableName": table_name(), "Key": key, **condition}}
    else:
        condition["ExpressionAttributeValues"].update(marshal({":next": challenge[ATTEMPTS] + 1}))
        challenge_item = {
            "Update": {"TableName": table_name(), "Key": key, "UpdateExpression": "SET #attempts = :next", **condition}
        }
    items = [challenge_item]
    if failures is not None:
        failure = users.code_failure(users.MFA, failures, now_ms)
        items.append({"Update": failure.as_update(user_key(challenge["userId"]))})
    transact(items, log)
