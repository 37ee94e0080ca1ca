"""What delivery reports when a message could not be handed to SES or SNS."""


class DeliveryError(Exception):
    """SES or SNS refused the message, failed, or timed out. Nothing was sent."""
