"""Email through SES v2 from the configured sender, with plain-text and HTML parts."""

from __future__ import annotations

from email.utils import formataddr

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from authcore.config import settings
from authcore.delivery.errors import delivery_error
from authcore.delivery.messages import Email

_client = None


def client():
    """One SES client per container, created on the first email."""
    global _client
    if _client is None:
        config = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 2})
        _client = boto3.client("sesv2", config=config)
    return _client


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
    try:
        client().send_email(
            FromEmailAddress=formataddr((settings().project_name, settings().sender_email)),
            Destination={"ToAddresses": [to]},
            Content=content,
        )
    except (ClientError, BotoCoreError) as error:
        raise delivery_error(error) from error
