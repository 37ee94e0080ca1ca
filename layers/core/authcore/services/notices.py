"""Security notifications: the user is emailed when their account's MFA changes (API.md §4.6), and the
old address is told when the email or phone changes away from a verified one (§7)."""

from __future__ import annotations

import time
from typing import Any

from authcore.config import settings
from authcore.delivery import email, sms
from authcore.delivery.errors import DeliveryError
from authcore.delivery.messages import name_for, render_email, render_sms
from authcore.observability import logger
from authcore.services.codes import ensure_sms_allowed
from authcore.services.limits import DAY, HOUR
from authcore.store import ratelimit
from authcore.store.ratelimit import Charge

MFA_ENABLED = "email-mfa-enabled"
MFA_DISABLED = "email-mfa-disabled"
AUTHENTICATOR_ADDED = "email-authenticator-added"
AUTHENTICATOR_REMOVED = "email-authenticator-removed"
PASSKEY_ADDED = "email-passkey-added"
PASSKEY_REMOVED = "email-passkey-removed"
RECOVERY_CODE_USED = "email-recovery-code-used"
RECOVERY_CODES_REGENERATED = "email-recovery-codes-regenerated"
RECOVERY_CODES_CREATED = "email-recovery-codes-created"
EMAIL_CHANGED = "email-email-changed"
PASSWORD_RESET = "email-password-reset"  # noqa: S105 - a template name  # nosec B105
PHONE_CHANGED = "sms-phone-changed"
# SMS notices per old phone a day. Their own budget, not the codes' (nor their per-minute cooldown):
# a thief who first spends the phone's budget on challenge codes cannot silence the notice.
SMS_NOTICES_PER_DESTINATION_PER_DAY = 3


def notify(user: dict[str, Any], template: str, locale: str, **variables: str) -> None:
    """Email `user` about a change that already happened.

    Only a verified address is told (an unverified one may belong to someone else), and a failed
    send is logged, never turned into an error: the change stands either way.
    """
    if not email.enabled() or not user.get("email") or not user.get("emailVerification"):
        return
    values = {"project": settings().project_name, "name": name_for(user), **variables}
    try:
        email.send(user["email"], render_email(template, locale, values))
    except DeliveryError as error:
        logger.warning("security notification not sent", extra={"template": template, "reason": str(error)})


def address_changed(user: dict[str, Any], kind: str, locale: str) -> None:
    """Tell the verified address that `user` (as it was before the change) moved away from: its email by
    email, its phone by SMS within the deployment's hourly SMS budget. Never fails the change."""
    if kind == "email":
        notify(user, EMAIL_CHANGED, locale)
        return
    phone = user["phone"]
    if not sms.enabled():
        return
    charges = [
        Charge("notice-sms-day", phone, SMS_NOTICES_PER_DESTINATION_PER_DAY, DAY),
        Charge("send-sms-all", "deployment", settings().budgets.sms_per_hour, HOUR),
    ]
    try:
        ensure_sms_allowed(phone)
        ratelimit.spend(charges, int(time.time()))
        sms.send(phone, render_sms(PHONE_CHANGED, locale, {"project": settings().project_name}))
    except Exception as error:  # over budget, undeliverable, a store fault: the change stands anyway
        logger.warning("phone change notice not sent", extra={"reason": type(error).__name__})
