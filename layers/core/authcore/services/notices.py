"""Security notifications: the user is emailed when their account's MFA changes (API.md §4.6)."""

from __future__ import annotations

from typing import Any

from authcore.config import settings
from authcore.delivery import email
from authcore.delivery.errors import DeliveryError
from authcore.delivery.messages import name_for, render_email
from authcore.observability import logger

MFA_ENABLED = "email-mfa-enabled"
MFA_DISABLED = "email-mfa-disabled"
AUTHENTICATOR_ADDED = "email-authenticator-added"
AUTHENTICATOR_REMOVED = "email-authenticator-removed"
RECOVERY_CODE_USED = "email-recovery-code-used"
RECOVERY_CODES_REGENERATED = "email-recovery-codes-regenerated"


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
