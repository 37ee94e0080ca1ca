"""User profile items and the email/phone index items that keep addresses unique."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from authcore.store import ratelimit
from authcore.store.errors import ConflictError, StaleError
from authcore.store.logs import put as logs_put
from authcore.store.ratelimit import Charge
from authcore.store.table import (
    PROFILE,
    SESSION_PREFIX,
    cancellation_codes,
    client,
    email_key,
    is_conditional_failure,
    marshal,
    phone_key,
    scan_items,
    session_key,
    table_name,
    transact_guarded,
    unmarshal,
    user_key,
)
from authcore.store.update import ProfileUpdate

INDEX_KEYS = {"email": email_key, "phone": phone_key}
OTHER_ADDRESS = {"email": "phone", "phone": "email"}  # a user's other sign-in address


def guest_flag(kind: str) -> str:
    """The profile flag: an unauthenticated caller (sign-up, token creation) put this address on the account
    and nobody has proven it since. Only such an address's first proof wipes what was set up before it
    (API.md §7). Profiles stored before the flag existed lack it: read as set (the rule they were made under)."""
    return f"{kind}ByGuest"


def verified_at(kind: str) -> str:
    """The profile field: when the current address became verified (epoch ms), kept while it stays verified."""
    return f"{kind}VerifiedAt"


BATCH_ATTEMPTS = 3


def creation_items(user: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(what, transaction Put) for a new profile and its address index items, each required to be new."""
    user_id = user["userId"]
    items = [("user", {**user_key(user_id), **user})]
    for kind in ("email", "phone"):
        if user.get(kind):
            items.append((kind, {**INDEX_KEYS[kind](user[kind]), "userId": user_id}))
    return [
        (
            what,
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": marshal(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        )
        for what, item in items
    ]


def removal_items(user: dict[str, Any]) -> list[dict[str, Any]]:
    """Transaction Deletes undoing creation_items, each only if the item is still the one created."""
    user_id = user["userId"]
    items = [
        {
            "Delete": {
                "TableName": table_name(),
                "Key": marshal(user_key(user_id)),
                "ConditionExpression": "createdAt = :created",
                "ExpressionAttributeValues": marshal({":created": user["createdAt"]}),
            }
        }
    ]
    for kind in ("email", "phone"):
        if user.get(kind):
            items.append(
                {
                    "Delete": {
                        "TableName": table_name(),
                        "Key": marshal(INDEX_KEYS[kind](user[kind])),
                        "ConditionExpression": "userId = :me",
                        "ExpressionAttributeValues": marshal({":me": user_id}),
                    }
                }
            )
    return items


def create_user(user: dict[str, Any]) -> None:
    """Write the profile and its address index items, all or nothing."""
    items = creation_items(user)
    try:
        client().transact_write_items(TransactItems=[put for _, put in items])
    except ClientError as error:
        if not is_conditional_failure(error):
            raise
        codes = cancellation_codes(error)
        taken = next(
            (what for (what, _), code in zip(items, codes, strict=False) if code == "ConditionalCheckFailed"), "user"
        )
        raise ConflictError(taken) from error


def get_user(user_id: str) -> dict[str, Any] | None:
    response = client().get_item(TableName=table_name(), Key=marshal(user_key(user_id)), ConsistentRead=True)
    return unmarshal(response.get("Item"))


def get_profile_and(user_id: str, *sort_keys: str) -> dict[str, dict[str, Any]]:
    """The profile and other items of one user in a single round trip, by sort key (absent = missing)."""
    found = batch_get([{"pk": f"USER#{user_id}", "sk": sk} for sk in (PROFILE, *sort_keys)])
    return {sk: item for (_, sk), item in found.items()}


def batch_get(keys: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Items by (pk, sk) in one round trip (consistent reads; absent = missing).

    More round trips happen only if DynamoDB defers a key, which must never read as "missing".
    """
    request = {table_name(): {"Keys": [marshal(key) for key in keys], "ConsistentRead": True}}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for _ in range(BATCH_ATTEMPTS):
        response = client().batch_get_item(RequestItems=request)
        for item in response["Responses"].get(table_name(), []):
            found[(item["pk"]["S"], item["sk"]["S"])] = unmarshal(item)
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return found
    raise RuntimeError("BatchGetItem left keys unprocessed")


def get_user_and_session(user_id: str, secret_digest: str) -> tuple[dict | None, dict | None]:
    """Profile and one session in a single round trip."""
    sort_key = session_key(user_id, secret_digest)["sk"]
    found = get_profile_and(user_id, sort_key)
    return found.get(PROFILE), found.get(sort_key)


def get_user_session_and(user_id: str, secret_digest: str, *sort_keys: str) -> tuple[dict | None, dict | None, dict]:
    """Profile, one session and other items of the user (by sort key) in a single round trip."""
    session_sk = session_key(user_id, secret_digest)["sk"]
    found = get_profile_and(user_id, session_sk, *sort_keys)
    return found.get(PROFILE), found.get(session_sk), {sk: found[sk] for sk in sort_keys if sk in found}


def get_user_with_sessions(user_id: str) -> tuple[dict | None, list[dict]]:
    """Profile and every session in one Query: PROFILE sorts right before SESSION#."""
    response = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues=marshal({":pk": f"USER#{user_id}", ":first": PROFILE, ":last": SESSION_PREFIX + "~"}),
        ConsistentRead=True,
    )
    items = [unmarshal(i) for i in response.get("Items", [])]
    user = next((i for i in items if i["sk"] == PROFILE), None)
    return user, [i for i in items if i["sk"].startswith(SESSION_PREFIX)]


def update_user(user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Set fields on an existing profile and return it as stored."""
    names = {f"#f{i}": field for i, field in enumerate(changes)}
    values = {f":v{i}": value for i, value in enumerate(changes.values())}
    response = client().update_item(
        TableName=table_name(),
        Key=marshal(user_key(user_id)),
        UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))),
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=marshal(values),
        ReturnValues="ALL_NEW",
    )
    return unmarshal(response["Attributes"])


def change_address(
    user_id: str, kind: str, old: str, new: str, changes: dict[str, Any], log: dict[str, Any] | None = None
) -> None:
    """Move the unique `kind` ("email" or "phone") from `old` to `new` and update the profile (and write the
    activity `log` item) in one transaction.

    The new index item must be free, the old one must still be ours, and the profile must still
    hold `old`: two concurrent changes cannot both win or leave an orphaned index item.
    """
    key_of = INDEX_KEYS[kind]
    names = {"#addr": kind, "#ttl": "ttl", **{f"#f{i}": f for i, f in enumerate(changes)}}
    values = {":old": old, **{f":v{i}": v for i, v in enumerate(changes.values())}}
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table_name(),
                "Item": marshal({**key_of(new), "userId": user_id}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Update": {
                "TableName": table_name(),
                "Key": marshal(user_key(user_id)),
                # An account with an address is no longer anonymous: it never expires (sessions.EXPIRES).
                "UpdateExpression": "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))) + " REMOVE #ttl",
                "ConditionExpression": "attribute_exists(pk) AND "
                + ("(#addr = :old OR attribute_not_exists(#addr))" if not old else "#addr = :old"),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": marshal(values),
            }
        },
    ]
    if old:
        items.append(
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": marshal(key_of(old)),
                    "ConditionExpression": "userId = :me",
                    "ExpressionAttributeValues": marshal({":me": user_id}),
                }
            }
        )
    if log:
        items.append(logs_put(log))
    transact_guarded(items, ConflictError(kind))  # the new address's index item came first


SIGN_IN = "signIn"  # on an email's index item: the current hour's password attempts, as a map
SIGN_IN_HOUR = "h"  # in that map: which hour it counts (epoch hours)
SIGN_IN_TOTAL = "n"  # in that map: the email's count (sources go by digest)
SIGN_IN_ATTEMPTS = 3


def sign_in_source(ip: str) -> str:
    """A source address's entry in an hour's map of password attempts (a digest, never the address)."""
    return "s" + hashlib.sha256(ip.encode()).hexdigest()[:16]


def count_sign_in_attempt(
    email: str, source: str, hour: int, source_limit: int, email_limit: int
) -> tuple[str, dict | None, int]:
    """Count a password attempt on the email's index item, in the same round trip as the lookup.

    The counts are one map on the index item (SIGN_IN): the hour it counts, the email's total and one
    count per source address (`source`, from sign_in_source). Returns ("ok", index item, 0),
    ("limited", index item, the limit reached) or ("unknown", None, 0). The first attempt of an hour
    replaces the map (one call), so the item never grows past one hour of counts; a later one finds
    it and adds to it (a second call). A refused attempt writes nothing, and no count can pass its
    limit under concurrency. A successful sign-in gives its attempt back (sessions.create_session).
    """
    names = {"#m": SIGN_IN, "#h": SIGN_IN_HOUR, "#n": SIGN_IN_TOTAL, "#src": source}
    create = {
        "UpdateExpression": "SET #m = :fresh",
        "ConditionExpression": "attribute_exists(userId) AND (attribute_not_exists(#m) OR #m.#h <> :hour)",
        "ExpressionAttributeNames": {k: names[k] for k in ("#m", "#h")},
        "ExpressionAttributeValues": marshal(
            {":fresh": {SIGN_IN_HOUR: hour, SIGN_IN_TOTAL: 1, source: 1}, ":hour": hour}
        ),
    }
    add = {
        "UpdateExpression": "SET #m.#n = #m.#n + :one, #m.#src = if_not_exists(#m.#src, :zero) + :one",
        "ConditionExpression": "attribute_exists(userId) AND #m.#h = :hour AND #m.#n < :email_limit"
        " AND (attribute_not_exists(#m.#src) OR #m.#src < :source_limit)",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": marshal(
            {":one": 1, ":zero": 0, ":hour": hour, ":email_limit": email_limit, ":source_limit": source_limit}
        ),
    }
    this_hour = False  # whether the map counts this hour, as last seen
    for _ in range(SIGN_IN_ATTEMPTS):
        try:
            response = client().update_item(
                TableName=table_name(),
                Key=marshal(email_key(email)),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **(add if this_hour else create),
            )
            return "ok", unmarshal(response["Attributes"]), 0
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = unmarshal(error.response.get("Item"))
        if not old or not old.get("userId"):
            return "unknown", None, 0
        counts = old.get(SIGN_IN) or {}
        this_hour = counts.get(SIGN_IN_HOUR) == hour
        if this_hour and counts.get(SIGN_IN_TOTAL, 0) >= email_limit:
            return "limited", old, email_limit
        if this_hour and counts.get(source, 0) >= source_limit:
            return "limited", old, source_limit
    return "limited", old, source_limit  # kept changing under us: refuse this one (never a 500)


BURN_AFTER = 5  # consecutive wrong codes on the pre-auth count that burn the user's live codes


@dataclass(frozen=True)
class Failures:
    """A per-user count of consecutive wrong codes on the profile: its attribute and when it last grew.

    API.md §7 keeps two, so that one never affects the other: PRE_AUTH counts codes presented without
    a session (sign-in codes, phone verification), MFA counts wrong answers of signed-in sessions
    (challenges, authenticator verification). A count with a `burned` attribute never locks: every
    `burn_after`-th consecutive wrong code instead goes back to zero and stamps `burned` (epoch ms),
    which retires every code issued until then (services/codes.py `burned`), so a stranger cannot
    lock the owner out. The MFA count, which only a session past the first factor reaches, locks.
    """

    count: str
    at: str
    burned: str = ""
    burn_after: int = 0

    def burns(self, failures: int) -> bool:
        """One more wrong code after `failures` burns the user's live codes."""
        return bool(self.burned) and failures + 1 >= self.burn_after


MFA = Failures("codeFailures", "codeFailedAt")
PRE_AUTH = Failures("preAuthFailures", "preAuthFailedAt", burned="preAuthBurnedAt", burn_after=BURN_AFTER)


def _failures_as_read(update: ProfileUpdate, counter: Failures, failures: int) -> ProfileUpdate:
    """The count is still `failures`. A missing count is 0: after a success reset it, a write that
    read a higher count must fail and read again."""
    name = update.name(counter.count)
    same = f"{name} = {update.value(failures)}"
    return update.condition(f"attribute_not_exists({name}) OR {same}" if failures == 0 else same)


def reset_code_failures(update: ProfileUpdate, counter: Failures, failures: int) -> ProfileUpdate:
    """Add a success to `update`: `counter` goes back to zero, if it is still `failures`."""
    return _failures_as_read(update, counter, failures).remove(counter.count).remove(counter.at)


def code_failure(counter: Failures, failures: int, now: int) -> ProfileUpdate:
    """One more wrong code on `counter`, if it is still `failures` as read; or the burn (see Failures)."""
    update = _failures_as_read(ProfileUpdate(), counter, failures).set(counter.at, now)
    if counter.burns(failures):
        return update.set(counter.count, 0).set(counter.burned, now)
    return update.set(counter.count, failures + 1)


def record_code_failure(user_id: str, counter: Failures, failures: int, now: int) -> dict[str, Any] | None:
    """Count one wrong code on `counter` (burning at its turn), if it is still `failures` as read.

    Returns None when counted, else the profile as it is now, so the caller can decide again
    (another failure was counted meanwhile and may have locked the user).
    """
    update = code_failure(counter, failures, now)
    try:
        client().update_item(**update.as_update(user_key(user_id)), ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return unmarshal(error.response.get("Item")) or {}
    return None


def find_user_id(kind: str, address: str) -> str | None:
    """The userId holding an email or phone, from its index item (consistent read)."""
    response = client().get_item(
        TableName=table_name(),
        Key=marshal(INDEX_KEYS[kind](address)),
        ConsistentRead=True,
        ProjectionExpression="userId",
    )
    item = unmarshal(response.get("Item"))
    return item["userId"] if item else None


def stand_in_key(email: str) -> dict[str, str]:
    """Where the stand-in user id answered for an email no account holds is kept (by digest: the table never
    holds an address nobody signed up with)."""
    return {"pk": f"STANDIN#{hashlib.sha256(email.encode()).hexdigest()}", "sk": "STANDIN"}


def find_user_id_or_stand_in(email: str) -> tuple[str | None, str | None]:
    """The userId holding `email`, and the stand-in id kept for it, in one round trip (consistent reads)."""
    found = {item["pk"]: item.get("userId") for item in batch_get([email_key(email), stand_in_key(email)]).values()}
    return found.get(email_key(email)["pk"]), found.get(stand_in_key(email)["pk"])


def keep_stand_in(email: str, user_id: str, charges: list[Charge], now: int, expire_at: int) -> None:
    """Spend `charges` and keep `user_id` as the stand-in of `email` until `expire_at` (epoch s, the TTL), in
    one transaction. LimitError when a charge is exhausted; StaleError when another id was kept meanwhile."""
    keep = {
        "TableName": table_name(),
        "Key": marshal(stand_in_key(email)),
        "UpdateExpression": "SET userId = :id, #ttl = :ttl",
        "ConditionExpression": "attribute_not_exists(userId) OR userId = :id",
        "ExpressionAttributeNames": {"#ttl": "ttl"},
        "ExpressionAttributeValues": marshal({":id": user_id, ":ttl": expire_at}),
    }
    try:
        ratelimit.spend(charges, now, also=[{"Update": keep}])
    except ClientError as error:
        if not is_conditional_failure(error):
            raise
        raise StaleError() from error


def update_existing_user(user_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
    """update_user, or None when there is no such user (one call: no read first)."""
    try:
        return update_user(user_id, changes)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return None


BATCH_WRITE_SIZE = 25


def delete_user(user: dict[str, Any]) -> None:
    """Delete the profile and its address index items in one transaction, then every other item of the
    user's partition (sessions, tokens, challenges).

    The profile goes first: every way to create or use those items needs it, so none can appear or be
    used after the transaction. StaleError when the profile or an index item changed since it was read.
    """
    try:
        client().transact_write_items(TransactItems=removal_items(user))
    except ClientError as error:
        if is_conditional_failure(error):
            raise StaleError() from error
        raise
    keys = _partition_keys_but_profile(user["userId"])
    for start in range(0, len(keys), BATCH_WRITE_SIZE):
        request = {table_name(): [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH_WRITE_SIZE]]}
        for _ in range(BATCH_ATTEMPTS):
            request = client().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                break
        else:
            raise RuntimeError("BatchWriteItem left items unprocessed")


def _partition_keys_but_profile(user_id: str) -> list[dict[str, Any]]:
    """The keys of every item of the user's partition except a profile (a user created again with the
    same id right after the deletion keeps theirs)."""
    keys: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": marshal({":pk": f"USER#{user_id}"}),
        "ProjectionExpression": "pk, sk",
        "ConsistentRead": True,
    }
    while True:
        page = client().query(**request)
        keys += [item for item in page.get("Items", []) if item["sk"]["S"] != PROFILE]
        if "LastEvaluatedKey" not in page:
            return keys
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def scan_profiles() -> list[dict[str, Any]]:
    """Every user profile, by a Scan of the whole table filtered on profile items.

    Its cost is the whole table's size in read units, whatever it returns: for the Users API list
    only (a support desk's occasional search), never for a path end users take.
    """
    return scan_items("USER#", PROFILE)
