"""What delivery reports when a message could not be handed to SES or SNS."""


class DeliveryError(Exception):
    """SES or SNS refused the message, failed, or timed out. Nothing was sent."""


def delivery_error(error: Exception) -> DeliveryError:
    """A DeliveryError naming what went wrong for the logs: the AWS error code (MessageRejected,
    Throttling, …) or the exception's class (a timeout). Never the message or its address."""
    code = (getattr(error, "response", None) or {}).get("Error", {}).get("Code")
    return DeliveryError(code or type(error).__name__)
