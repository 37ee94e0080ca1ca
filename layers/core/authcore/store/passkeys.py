"""Passkeys (WebAuthn credentials) and their ceremonies' challenges.

- Verified passkeys live on the profile, in the map `passkeys` {passkeyId: {credentialId, publicKey (COSE
  bytes), signCount, name, createdAt, updatedAt, accessedAt, suspect?}}: the read every request makes
  already brings them, so listing costs nothing and a sign-in one GetItem. At most MAX_PASSKEYS.
- A registration in progress: `USER#<userId>` / `PASSKEYREG#<passkeyId>` {challenge, name, session
  digest, createdAt, expire}, deleted by its one verification attempt, whatever its outcome.
- A sign-in challenge (no user known yet): `PASSKEYSIGNIN#<challengeId>` / `PASSKEYSIGNIN`
  {challenge, createdAt, expire}, consumed by a conditional delete before the credential is looked at.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from botocore.exceptions import ClientError

from authcore.store.errors import StaleError
from authcore.store.mfa import PASSKEYS, transact, use_passkey
from authcore.store.ratelimit import Charge, charge_update, raise_limit_reached
from authcore.store.table import (
    client,
    is_conditional_failure,
    marshal,
    spend_in_transaction,
    table_name,
    unmarshal,
    user_key,
)
from authcore.store.tokens import issue, token_key
from authcore.store.update import ProfileUpdate

MAX_PASSKEYS = 20
REGISTRATION_PREFIX = "PASSKEYREG#"
SIGN_IN_PREFIX = "PASSKEYSIGNIN#"
SIGN_IN_SK = "PASSKEYSIGNIN"
SIGN_IN_KIND = "passkeySignIn"  # the TOKEN# a passkey sign-in earns, exchanged by POST /account/sessions/token


def registration_sort_key(passkey_id: str) -> str:
    return f"{REGISTRATION_PREFIX}{passkey_id}"


def registration_key(user_id: str, passkey_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": registration_sort_key(passkey_id)}


def sign_in_key(challenge_id: str) -> dict[str, str]:
    return {"pk": f"{SIGN_IN_PREFIX}{challenge_id}", "sk": SIGN_IN_SK}


def start_registration(registration: dict[str, Any], charges: list[Charge], now: int) -> None:
    """Spend the charges and store the registration, replacing one of the same id (its challenge is
    dead from then on); LimitError over a limit."""
    key = registration_key(registration["userId"], registration["passkeyId"])
    put = {"Put": {"TableName": table_name(), "Item": marshal({**key, **registration})}}
    try:
        client().transact_write_items(TransactItems=[*({"Update": charge_update(c, now)} for c in charges), put])
    except ClientError as error:
        raise_limit_reached(error, charges)
        raise


def start_sign_in(challenge: dict[str, Any], charges: list[Charge], now: int) -> None:
    """Spend the charges and store a sign-in challenge; LimitError over a limit."""
    issue(challenge, charges, now, key=sign_in_key(challenge["tokenId"]))


def _live(now_ms: int) -> dict[str, Any]:
    return {
        "ConditionExpression": "attribute_exists(pk) AND #expire > :now",
        "ExpressionAttributeNames": {"#expire": "expire"},
        "ExpressionAttributeValues": marshal({":now": now_ms}),
    }


def consume_sign_in(challenge_id: str, now_ms: int) -> dict[str, Any] | None:
    """Delete the sign-in challenge and return it, if it is there and unexpired; None otherwise. Under
    any concurrency one request gets it: a replayed challenge finds nothing."""
    try:
        response = client().delete_item(
            TableName=table_name(), Key=marshal(sign_in_key(challenge_id)), ReturnValues="ALL_OLD", **_live(now_ms)
        )
    except ClientError as error:
        if is_conditional_failure(error):
            return None
        raise
    return unmarshal(response.get("Attributes"))


def drop_registration(user_id: str, passkey_id: str) -> None:
    """A failed verification ends the registration: it must be started again."""
    client().delete_item(TableName=table_name(), Key=marshal(registration_key(user_id, passkey_id)))


def _entry(update: ProfileUpdate, passkey_id: str, *field: str) -> str:
    return update.name(PASSKEYS, passkey_id, *field)


def add_passkey(user: dict[str, Any], registration: dict[str, Any], passkey: dict[str, Any], now_ms: int) -> None:
    """Consume the registration and put the verified passkey on the profile, at once.

    SpentError when the registration is gone or expired; StaleError when the profile's passkeys changed
    since `user` was read (or are at MAX_PASSKEYS).
    """
    update = ProfileUpdate().set("updatedAt", now_ms)
    passkeys = update.name(PASSKEYS)
    if user.get(PASSKEYS):
        update.set((PASSKEYS, registration["passkeyId"]), passkey)
        update.condition(f"attribute_exists({passkeys}) AND size({passkeys}) < {update.value(MAX_PASSKEYS)}")
        update.condition(f"attribute_not_exists({_entry(update, registration['passkeyId'])})")
    else:
        update.set(PASSKEYS, {registration["passkeyId"]: passkey})
        update.condition(f"attribute_not_exists({passkeys}) OR size({passkeys}) = {update.value(0)}")
    key = registration_key(registration["userId"], registration["passkeyId"])
    items = [
        {"Delete": {"TableName": table_name(), "Key": marshal(key), **_live(now_ms)}},
        {"Update": update.as_update(user_key(user["userId"]))},
    ]
    spend_in_transaction(items)


def sign_in(user: dict[str, Any], passkey_id: str, stored_count: int, new_count: int, token: dict[str, Any]) -> None:
    """Record the passkey's use and store the sign-in token it earned, at once; StaleError when the
    passkey changed (or went) since `user` was read."""
    update = ProfileUpdate()
    use_passkey(update, passkey_id, stored_count, new_count, token["createdAt"])
    put = {
        "Put": {
            "TableName": table_name(),
            "Item": marshal({**token_key(user["userId"], token["hash"]), **token}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    transact([{"Update": update.as_update(user_key(user["userId"]))}, put])


def mark_suspect(user_id: str, passkey_id: str, now_ms: int) -> None:
    """A counter that went back: the credential may be cloned, so it signs in no more (an operator or the
    owner deletes it; a new passkey replaces it)."""
    update = ProfileUpdate().set((PASSKEYS, passkey_id, "suspect"), now_ms).set("updatedAt", now_ms)
    update.condition(f"attribute_exists({_entry(update, passkey_id)})")
    with suppress(StaleError):  # deleted meanwhile: nothing left to mark
        transact([{"Update": update.as_update(user_key(user_id))}])


def rename(user_id: str, passkey_id: str, name: str, now_ms: int) -> None:
    """StaleError when the passkey is not there."""
    update = ProfileUpdate().set((PASSKEYS, passkey_id, "name"), name).set((PASSKEYS, passkey_id, "updatedAt"), now_ms)
    update.condition(f"attribute_exists({_entry(update, passkey_id)})")
    transact([{"Update": update.as_update(user_key(user_id))}])


def remove(user_id: str, passkey_id: str, now_ms: int) -> None:
    """StaleError when the passkey is not there."""
    update = ProfileUpdate().remove((PASSKEYS, passkey_id)).set("updatedAt", now_ms)
    update.condition(f"attribute_exists({_entry(update, passkey_id)})")
    transact([{"Update": update.as_update(user_key(user_id))}])
