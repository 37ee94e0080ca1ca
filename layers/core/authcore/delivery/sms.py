"""SMS through SNS Publish straight to a phone number, as Transactional (delivery over price)."""

from __future__ import annotations

from authcore.config import settings
from authcore.delivery import aws


def client():
    return aws.client("sns")


def enabled() -> bool:
    return settings().sms_enabled


def send(phone: str, text: str) -> None:
    """Hand one SMS to SNS; DeliveryError when SNS refuses or cannot be reached."""
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
    if settings().sms_sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": settings().sms_sender_id}
    with aws.handing_over("Sms"):
        client().publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)
