"""Token items: verification secrets and one-time sign-in codes, single use by conditional writes.

A token lives in its user's partition under `TOKEN#<hash>`: SHA-256 for a link secret, the keyed
hash for a code. Spending it is a conditional write marking it spent (`spentAt`), in the same
transaction as what it authorises; the spent token stays until TTL removes it, after its expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from authcore.store import users
from authcore.store.errors import ConflictError
from authcore.store.mfa import AUTHENTICATOR, PASSKEYS, RECOVERY_CODES, RECOVERY_SEALED
from authcore.store.ratelimit import Charge, charge_update, raise_limit_reached, refund_item
from authcore.store.table import (
    cancellation_codes,
    client,
    is_conditional_failure,
    marshal,
    spend_in_transaction,
    table_name,
    user_key,
)
from authcore.store.update import ProfileUpdate

TOKEN_PREFIX = "TOKEN#"  # noqa: S105 - a key prefix, not a secret  # nosec B105
SPENT = "spentAt"  # when a token was used (epoch ms); a spent token is a tombstone


@dataclass(frozen=True)
class TokenUse:
    """Spending a token: which one, what it may be, and what it proves about the profile.

    The profile write that goes with it requires the address the token was sent to (so a code for
    an old address proves nothing) and the failure count as read (so a failure recorded meanwhile,
    which could have locked the user, makes the write retry).
    """

    token_hash: str = field(repr=False)  # a code's keyed hash: out of reprs, so out of logs
    kinds: tuple[str, ...]
    now: int  # epoch ms
    address_field: str  # "email" or "phone"; "" for a passkey sign-in token
    address: str
    failures: int
    # Sign-in to an address not verified yet: the password, MFA and other address (`other_address`, as
    # read) set before it was proven are removed: they may be a squatter's way back in.
    first_proof: bool = False
    other_address: str = ""
    newly_verified: bool = False  # the address was not verified as read: its verifiedAt starts now
    # A guessable code (created at `created_at`) is spent only if no burn retired it meanwhile (users.Failures).
    guessable: bool = False
    created_at: int = 0
    # A recovery token proves the address to no one but the reset it authorises (services/recovery.py).
    proves_address: bool = True

    @property
    def other_field(self) -> str:
        return users.OTHER_ADDRESS[self.address_field]

    def other_index_delete(self, user_id: str) -> dict[str, Any] | None:
        """On a first proof, the index item of the other address (it must still lead to this user)."""
        if not (self.first_proof and self.other_address):
            return None
        return {
            "Delete": {
                "TableName": table_name(),
                "Key": marshal(users.INDEX_KEYS[self.other_field](self.other_address)),
                "ConditionExpression": "userId = :me",
                "ExpressionAttributeValues": marshal({":me": user_id}),
            }
        }

    def token_spend(self, user_id: str) -> dict[str, Any]:
        """Mark the token spent, if it is unspent, of an accepted kind and unexpired. It stays as a
        tombstone until TTL removes it (after its expiry), so a late copy of it is known as a double
        submit rather than taken for a guess (API.md §7)."""
        return {
            "Update": {
                "TableName": table_name(),
                "Key": marshal(token_key(user_id, self.token_hash)),
                "UpdateExpression": "SET #spent = :now",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#spent)"
                " AND #kind IN (" + ", ".join(f":k{i}" for i in range(len(self.kinds))) + ") AND #expire > :now",
                "ExpressionAttributeNames": {"#spent": SPENT, "#kind": "kind", "#expire": "expire"},
                "ExpressionAttributeValues": marshal(
                    {":now": self.now, **{f":k{i}": k for i, k in enumerate(self.kinds)}}
                ),
            }
        }

    def apply_to(self, update: ProfileUpdate) -> ProfileUpdate:
        """Mark the address verified (and proven: no longer a guest's) unless the token does not prove it,
        and reset the failure count, if both are as read and a guessable code was not burned meanwhile."""
        if not self.address_field:  # a passkey sign-in token: it proves no address
            return users.reset_code_failures(update.set("updatedAt", self.now), users.PRE_AUTH, self.failures)
        verified = f"{self.address_field}Verification"
        if self.proves_address:
            update.set(verified, True).set(users.guest_flag(self.address_field), False).set("updatedAt", self.now)
        if self.proves_address and self.newly_verified:
            update.set(users.verified_at(self.address_field), self.now)
        update.condition_equals(self.address_field, self.address)
        if self.first_proof:
            update.set("passwordHash", "").set("passwordUpdate", 0)
            # …and the MFA set up before: it may be someone else's authenticator and codes.
            update.set("mfa", False).remove(AUTHENTICATOR).remove(RECOVERY_CODES).remove(RECOVERY_SEALED)
            update.remove(PASSKEYS)  # …and passkeys: a squatter's own way back in, needing no password
            if self.other_address:
                update.remove(self.other_field).remove(f"{self.other_field}Verification")
                update.remove(users.guest_flag(self.other_field)).remove(users.verified_at(self.other_field))
                update.condition_equals(self.other_field, self.other_address)
            update.condition(
                f"attribute_not_exists({update.name(verified)}) OR {update.name(verified)} = {update.value(False)}"
            )
        if self.guessable:
            burned = update.name(users.PRE_AUTH.burned)
            update.condition(f"attribute_not_exists({burned}) OR {burned} < {update.value(self.created_at)}")
        return users.reset_code_failures(update, users.PRE_AUTH, self.failures)


def token_key(user_id: str, token_hash: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}", "sk": f"{TOKEN_PREFIX}{token_hash}"}


def key_of(token: dict[str, Any]) -> dict[str, str]:
    return token_key(token["userId"], token["hash"])


def issue(
    token: dict[str, Any],
    charges: list[Charge],
    now: int,
    new_user: dict[str, Any] | None = None,
    key: dict[str, str] | None = None,
) -> None:
    """Spend the charges, store the token and (for a first sign-in) create the user: all or nothing.

    `key` is where the token goes (default: its user's `TOKEN#<hash>`; MFA challenges go by id).
    Raises LimitError, ConflictError("token") when a live token has the same key, or
    ConflictError("user" | "email" | "phone") when `new_user` collides with an existing one.
    """
    token_put = {
        "Put": {
            "TableName": table_name(),
            "Item": marshal({**(key or key_of(token)), **token}),
            # An expired token that TTL has not removed yet may be overwritten.
            "ConditionExpression": "attribute_not_exists(pk) OR #expire <= :now",
            "ExpressionAttributeNames": {"#expire": "expire"},
            "ExpressionAttributeValues": marshal({":now": token["createdAt"]}),
        }
    }
    creation = users.creation_items(new_user) if new_user else []
    items = [{"Update": charge_update(c, now)} for c in charges] + [token_put] + [put for _, put in creation]
    try:
        client().transact_write_items(TransactItems=items)
    except ClientError as error:
        raise_limit_reached(error, charges)
        if not is_conditional_failure(error):
            raise
        codes = cancellation_codes(error)[len(charges) :]
        if codes[:1] == ["ConditionalCheckFailed"]:
            raise ConflictError("token") from error
        taken = next(
            (what for (what, _), code in zip(creation, codes[1:], strict=False) if code == "ConditionalCheckFailed"),
            "user",
        )
        raise ConflictError(taken) from error


def withdraw(
    token: dict[str, Any],
    charges: list[Charge],
    now: int,
    new_user: dict[str, Any] | None = None,
    key: dict[str, str] | None = None,
) -> None:
    """Undo `issue` after the message could not be sent: the token, the charges and a user created with it."""
    items: list[dict[str, Any]] = [{"Delete": {"TableName": table_name(), "Key": marshal(key or key_of(token))}}]
    items += [refund_item(c, now) for c in charges]
    if new_user:
        items += users.removal_items(new_user)
    client().transact_write_items(TransactItems=items)


def get_user_and_token(user_id: str, token_hash: str) -> tuple[dict | None, dict | None]:
    """Profile and token in one round trip."""
    found = users.get_profile_and(user_id, f"{TOKEN_PREFIX}{token_hash}")
    return found.get("PROFILE"), found.get(f"{TOKEN_PREFIX}{token_hash}")


def spend(
    user_id: str, use: TokenUse, profile: ProfileUpdate | None = None, also: list[dict[str, Any]] | None = None
) -> None:
    """Spend the token and apply what it proves to the profile, in one transaction: with the changes
    already in `profile` and the transaction items `also`, if given.

    SpentError when the token is no longer usable; StaleError when the profile changed since it was read.
    """
    update = use.apply_to(profile or ProfileUpdate()).as_update(user_key(user_id))
    spend_in_transaction([use.token_spend(user_id), {"Update": update}, *(also or [])])
