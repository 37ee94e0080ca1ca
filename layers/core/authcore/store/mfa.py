"""The MFA state on the profile (flag, authenticator, recovery codes) and on sessions (factors).

Profile attributes: `mfa`; `authenticator` {secret (KMS ciphertext), verified, createdAt, verifiedAt};
`totpStep`, the last TOTP time step accepted; `recoveryCodes` {keyed hash: used}, their sealed
display copy `recoveryCodesSealed`, `recoveryCodesRev`, which every new set increments, and
`recoveryCodesCreatedAt`; `passkeys` (store/passkeys.py). Session attribute `stepUpAt`: when the
session last completed a challenge that counts as a step-up (API.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from authcore.store import logs, users
from authcore.store.errors import ConflictError, StaleError
from authcore.store.table import client, is_conditional_failure, session_key, user_key
from authcore.store.update import ProfileUpdate

AUTHENTICATOR = "authenticator"
TOTP_STEP = "totpStep"
RECOVERY_CODES = "recoveryCodes"
RECOVERY_SEALED = "recoveryCodesSealed"
RECOVERY_REV = "recoveryCodesRev"
RECOVERY_CREATED_AT = "recoveryCodesCreatedAt"
STEP_UP_AT = "stepUpAt"
PASSKEYS = "passkeys"  # {passkeyId: {...}}: see store/passkeys.py


def use_passkey(update: ProfileUpdate, passkey_id: str, stored_count: int, new_count: int, now_ms: int) -> None:
    """Add to a profile update: the passkey was used now with `new_count`, if it is still there, not
    suspect, and its counter is as read (so two uses of one assertion cannot both pass)."""
    entry = (PASSKEYS, passkey_id)
    update.set((*entry, "signCount"), new_count).set((*entry, "accessedAt"), now_ms)
    update.condition(f"{update.name(*entry, 'signCount')} = {update.value(stored_count)}")
    update.condition(f"attribute_not_exists({update.name(*entry, 'suspect')})")


@dataclass(frozen=True)
class FactorProof:
    """What proving a factor writes to the profile, each part only if the profile is as read:
    the failure count goes back to zero, a TOTP step is used up, a recovery code is spent, a passkey's
    counter moves to `passkey_count` (from `passkey_stored_count`)."""

    failures: int
    totp_step: int | None = None
    recovery_code_hash: str | None = field(default=None, repr=False)
    passkey_id: str | None = None
    passkey_stored_count: int = 0
    passkey_count: int = 0
    passkey_used_at: int = 0

    def apply_to(self, update: ProfileUpdate) -> ProfileUpdate:
        if self.passkey_id is not None:
            use_passkey(update, self.passkey_id, self.passkey_stored_count, self.passkey_count, self.passkey_used_at)
        if self.totp_step is not None:
            step = update.name(TOTP_STEP)
            update.set(TOTP_STEP, self.totp_step)
            update.condition(f"attribute_not_exists({step}) OR {step} < {update.value(self.totp_step)}")
        if self.recovery_code_hash is not None:
            code = update.name(RECOVERY_CODES, self.recovery_code_hash)
            update.set((RECOVERY_CODES, self.recovery_code_hash), True)
            update.condition(f"{code} = {update.value(False)}")
        return users.reset_code_failures(update, users.MFA, self.failures)


def factors_update(
    session: dict[str, Any],
    factors: list[str],
    now: int,
    challenged: bool,
    expire: int | None = None,
    step_up: bool = False,
) -> dict[str, Any]:
    """The transaction Update giving a live session `factors` (and, after a challenge, mfaUpdatedAt; after
    one that is a step-up, stepUpAt), if its factors are still as read. With `expire`, an incomplete
    session is complete now: its new expiry."""
    update = ProfileUpdate().set("factors", factors).set("updatedAt", now)
    if challenged:
        update.set("mfaUpdatedAt", now)
    if step_up:
        update.set(STEP_UP_AT, now)
    if expire is not None:
        update.set("expire", expire).set("ttl", expire // 1000).remove("pending")
    update.condition(f"{update.name('factors')} = {update.value(session.get('factors', []))}")
    update.condition(f"{update.name('expire')} > {update.value(now)}")
    return update.as_update(session_key(session["userId"], session["digest"]))


def transact(items: list[dict[str, Any]], log: dict[str, Any] | None = None) -> None:
    """One write of `items` and the activity `log` item (a lone Update as a plain UpdateItem, at half a
    transaction's cost); StaleError when a condition no longer holds (read again and decide again)."""
    items = [*items, *([logs.put(log)] if log else [])]
    try:
        if len(items) == 1 and "Update" in items[0]:
            client().update_item(**items[0]["Update"])
        else:
            client().transact_write_items(TransactItems=items)
    except ClientError as error:
        if is_conditional_failure(error):
            raise StaleError() from error
        raise


def set_mfa(
    user_id: str,
    enabled: bool,
    now: int,
    session_factors: dict[str, Any] | None = None,
    log: dict[str, Any] | None = None,
) -> None:
    """Turn MFA on or off; with `session_factors` (a factors_update) and the `log` item in the same write."""
    profile = ProfileUpdate().set("mfa", enabled).set("updatedAt", now).as_update(user_key(user_id))
    transact([{"Update": profile}, *([{"Update": session_factors}] if session_factors else [])], log)


def put_authenticator(user_id: str, sealed_secret: bytes, now: int) -> None:
    """A new, unverified authenticator, replacing an unverified one; ConflictError if one is verified."""
    update = ProfileUpdate().set(AUTHENTICATOR, {"secret": sealed_secret, "verified": False, "createdAt": now})
    unverified = f"{update.name(AUTHENTICATOR, 'verified')} = {update.value(False)}"
    update.condition(f"attribute_not_exists({update.name(AUTHENTICATOR)}) OR {unverified}")
    try:
        client().update_item(**update.as_update(user_key(user_id)))
    except ClientError as error:
        if is_conditional_failure(error):
            raise ConflictError(AUTHENTICATOR) from error
        raise


def verify_authenticator(
    user_id: str,
    created_at: int,
    proof: FactorProof,
    now: int,
    session_factors: dict[str, Any],
    log: dict[str, Any] | None = None,
) -> None:
    """Mark the authenticator created at `created_at` verified, with the proof and the session's new
    factors, in one write. StaleError if anything changed since it was read."""
    update = ProfileUpdate().set((AUTHENTICATOR, "verified"), True).set((AUTHENTICATOR, "verifiedAt"), now)
    update.set("updatedAt", now)
    update.condition(f"{update.name(AUTHENTICATOR, 'createdAt')} = {update.value(created_at)}")
    update.condition(f"{update.name(AUTHENTICATOR, 'verified')} = {update.value(False)}")
    proof.apply_to(update)
    transact([{"Update": update.as_update(user_key(user_id))}, {"Update": session_factors}], log)


def remove_authenticator(user_id: str, created_at: int, now: int, log: dict[str, Any] | None = None) -> None:
    """Remove the authenticator created at `created_at`; StaleError if it is no longer there."""
    update = ProfileUpdate().remove(AUTHENTICATOR).set("updatedAt", now)
    update.condition(f"{update.name(AUTHENTICATOR, 'createdAt')} = {update.value(created_at)}")
    transact([{"Update": update.as_update(user_key(user_id))}], log)


def put_recovery_codes(
    user_id: str, hashes: list[str], sealed_codes: bytes, revision: int, now: int, log: dict[str, Any] | None = None
) -> None:
    """A new set of recovery codes replacing the set of `revision`; StaleError if another set came first."""
    update = ProfileUpdate()
    update.set(RECOVERY_CODES, dict.fromkeys(hashes, False)).set(RECOVERY_SEALED, sealed_codes)
    update.set(RECOVERY_CREATED_AT, now)
    update.set(RECOVERY_REV, revision + 1)
    rev = update.name(RECOVERY_REV)
    same = f"{rev} = {update.value(revision)}"
    update.condition(f"attribute_not_exists({rev}) OR {same}" if revision == 0 else same)
    transact([{"Update": update.as_update(user_key(user_id))}], log)
