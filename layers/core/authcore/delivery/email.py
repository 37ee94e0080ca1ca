"""Email through SES v2 from the configured sender, with plain-text and HTML parts."""

from __future__ import annotations

from email.utils import formataddr

from authcore.config import settings
from authcore.delivery import aws
from authcore.delivery.messages import Email


def client():
    return aws.client("sesv2")


def enabled() -> bool:
    return bool(settings().sender_email)


def send(to: str, message: Email) -> None:
    """Hand one email to SES; DeliveryError when SES refuses or cannot be reached."""
    content = {
        "Simple": {
            "Subject": {"Data": message.subject, "Charset": "UTF-8"},
            "Body": {
                "Text": {"Data": message.text, "Charset": "UTF-8"},
                "Html": {"Data": message.html, "Charset": "UTF-8"},
            },
        }
    }
    with aws.handing_over("Email"):
        client().send_email(
            FromEmailAddress=formataddr((settings().project_name, settings().sender_email)),
            Destination={"ToAddresses": [to]},
            Content=content,
        )
