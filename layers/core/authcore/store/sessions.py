"""Session items. The profile keeps a map of its sessions so the 10-session cap costs no query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from authcore.store import logs, tokens, users
from authcore.store.errors import SpentError, StaleError
from authcore.store.table import (
    cancellation_codes,
    client,
    email_key,
    is_conditional_failure,
    marshal,
    session_key,
    table_name,
    user_key,
)
from authcore.store.tokens import TokenUse
from authcore.store.update import ProfileUpdate

SESSIONS_REV = "sessionsRev"  # bumped by every change of the map that the cap decides on
# An anonymous profile's DynamoDB TTL (epoch s): it expires with its last session (services.anonymous). Only
# anonymous profiles have it; an address set on the account removes it (users.change_address).
EXPIRES = "ttl"


def _keep_anonymous_until(profile: ProfileUpdate, user: dict[str, Any], session_ttl: int) -> None:
    """An anonymous profile lives as long as its longest-lived session; the write fails (StaleError) if the
    account stopped being anonymous since `user` was read, so a permanent account never gets a TTL back."""
    if EXPIRES in user:
        profile.set(EXPIRES, max(user[EXPIRES], session_ttl))
        profile.condition(f"attribute_exists({profile.name(EXPIRES)})")


def _end_in(profile: ProfileUpdate, user_id: str, revision: int, evict: list[str]) -> list[dict[str, Any]]:
    """Add to `profile`: remove the `evict` entries, if the map is still at `revision` (the cap decided on
    it), and move to the next one. Returns the transaction Deletes of their session items."""
    for old in evict:
        profile.remove(("sessions", old))
    profile.add(SESSIONS_REV, 1)
    rev = profile.name(SESSIONS_REV)
    same = f"{rev} = {profile.value(revision)}"
    profile.condition(f"attribute_not_exists({rev}) OR {same}" if revision == 0 else same)
    return [{"Delete": {"TableName": table_name(), "Key": marshal(session_key(user_id, old))}} for old in evict]


@dataclass(frozen=True)
class SessionCompletion:
    """An incomplete session that just passed the MFA gate: its new expiry, and the sessions the cap ends
    for it (`evict`, decided on the map at `revision`)."""

    user_id: str
    digest: str
    expire: int
    evict: list[str]
    revision: int

    def apply_to(self, profile: ProfileUpdate) -> list[dict[str, Any]]:
        """Add the map changes to a profile update; returns the Deletes of the evicted session items."""
        entry = ("sessions", self.digest)
        profile.set((*entry, "expire"), self.expire).remove((*entry, "pending"))
        return _end_in(profile, self.user_id, self.revision, self.evict)


def create_session(
    user: dict[str, Any],
    session: dict[str, Any],
    evict: list[str],
    sign_in_counter: tuple[str, int, str] | None = None,
    token_use: TokenUse | None = None,
    log: dict[str, Any] | None = None,
) -> None:
    """Write a session, record it (and the access time) on the profile and end the `evict` sessions,
    in one transaction. Also in it: give back the password attempt (`sign_in_counter`: email, the
    hour it was counted in, the source's entry), or spend the one-time code that signs the user in
    (`token_use`), and the activity `log` item.

    Raises StaleError when another write changed the profile since `user` was read, SpentError when
    the code can no longer be used.
    """
    user_id = user["userId"]
    profile = ProfileUpdate()
    entry = {"id": session["sessionId"], "createdAt": session["createdAt"], "expire": session["expire"]}
    if session.get("pending"):
        entry["pending"] = True
    profile.set(("sessions", session["digest"]), entry).set("accessedAt", session["createdAt"])
    _keep_anonymous_until(profile, user, session["ttl"])
    deletes = _end_in(profile, user_id, user.get(SESSIONS_REV, 0), evict)
    items: list[dict[str, Any]] = []
    if token_use:
        items.append(token_use.token_spend(user_id))
        token_use.apply_to(profile)
        if other_index := token_use.other_index_delete(user_id):
            items.append(other_index)
    items += [
        {
            "Put": {
                "TableName": table_name(),
                "Item": marshal({**session_key(user_id, session["digest"]), **session}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {"Update": profile.as_update(user_key(user_id))},
        *deletes,
        *([logs.put(log)] if log else []),
    ]
    if sign_in_counter:
        items.append(_sign_in_given_back(user_id, *sign_in_counter))
    try:
        client().transact_write_items(TransactItems=items)
    except ClientError as error:
        if not is_conditional_failure(error):
            raise
        codes = cancellation_codes(error)
        if token_use and codes[:1] == ["ConditionalCheckFailed"]:
            raise SpentError() from error
        if sign_in_counter and codes[-1:] == ["ConditionalCheckFailed"] and codes.count("None") == len(codes) - 1:
            # The counts are another hour's now (a new hour began): nothing to give back.
            create_session(user, session, evict, None, token_use, log)
            return
        raise StaleError() from error


def _sign_in_given_back(user_id: str, email: str, hour: int, source: str) -> dict[str, Any]:
    """A successful password sign-in gives its attempt back to the email's count of the hour and
    clears its source's count (users.count_sign_in_attempt)."""
    names = {"#m": users.SIGN_IN, "#h": users.SIGN_IN_HOUR, "#n": users.SIGN_IN_TOTAL, "#src": source}
    return {
        "Update": {
            "TableName": table_name(),
            "Key": marshal(email_key(email)),
            "UpdateExpression": "SET #m.#n = #m.#n - :one REMOVE #m.#src",
            "ConditionExpression": "userId = :me AND #m.#h = :hour",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": marshal({":me": user_id, ":one": 1, ":hour": hour}),
        }
    }


def end_sessions(
    user_id: str, digests: list[str], profile_changes: dict[str, Any] | None = None, log: dict[str, Any] | None = None
) -> None:
    """Delete sessions and their profile entries, optionally setting profile fields and writing the activity
    `log` item in the same write."""
    changes = profile_changes or {}
    if not digests and not changes:
        return  # nothing to write (DynamoDB refuses an empty update), nor to log
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
    extra = [logs.put(log)] if log else []
    client().transact_write_items(TransactItems=[{"Update": profile_update}, *deletes, *extra])


def reset_password(user: dict[str, Any], use: TokenUse, changes: dict[str, Any], log: dict[str, Any]) -> None:
    """Spend a recovery token, set `changes` (the new password) on the profile, end every session of `user`
    (as read) and write the activity `log` item, in one transaction.

    SpentError when the token is no longer usable; StaleError when the profile changed since it was read
    (a session was created meanwhile, a failure was counted, the address changed).
    """
    profile = ProfileUpdate()
    for name, value in changes.items():
        profile.set(name, value)
    deletes = _end_in(profile, user["userId"], user.get(SESSIONS_REV, 0), list(user.get("sessions", {})))
    tokens.spend(user["userId"], use, profile, [*deletes, logs.put(log)])


def extend_session(user: dict[str, Any], digest: str, expire: int, updated_at: int) -> None:
    """Move a session's expiry (and its profile entry's, and an anonymous profile's TTL) forward; StaleError if
    the session is gone or the profile stopped being anonymous meanwhile."""
    user_id = user["userId"]
    profile = ProfileUpdate().set(("sessions", digest, "expire"), expire)
    profile.condition(f"attribute_exists({profile.name('sessions', digest)})")
    _keep_anonymous_until(profile, user, expire // 1000)
    try:
        client().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table_name(),
                        "Key": marshal(session_key(user_id, digest)),
                        "UpdateExpression": "SET #exp = :e, #ttl = :ttl, #upd = :u",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#exp": "expire", "#ttl": "ttl", "#upd": "updatedAt"},
                        # expire is epoch ms; DynamoDB's TTL reads epoch seconds
                        "ExpressionAttributeValues": marshal({":e": expire, ":ttl": expire // 1000, ":u": updated_at}),
                    }
                },
                {"Update": profile.as_update(user_key(user_id), must_exist=False)},
            ]
        )
    except ClientError as error:
        if is_conditional_failure(error):
            raise StaleError() from error
        raise
