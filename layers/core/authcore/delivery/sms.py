"""SMS through SNS Publish straight to a phone number, as Transactional (delivery over price)."""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from authcore.config import settings
from authcore.delivery.errors import delivery_error

_client = None


def client():
    """One SNS client per container, created on the first SMS."""
    global _client
    if _client is None:
        config = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 2})
        _client = boto3.client("sns", config=config)
    return _client


def enabled() -> bool:
    return settings().sms_enabled


def send(phone: str, text: str) -> None:
    """Hand one SMS to SNS; DeliveryError when SNS refuses or cannot be reached."""
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if settings().sms_sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": settings().sms_sender_id}
    try:
        client().publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)
    except (ClientError, BotoCoreError) as error:
        raise delivery_error(error) from error
