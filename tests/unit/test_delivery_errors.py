"""What a failed send tells the logs: the AWS error code or the failure's class, never the message."""

from botocore.exceptions import ClientError, ReadTimeoutError

from authcore.delivery.errors import delivery_error


def test_a_refusal_is_named_by_its_aws_error_code():
    refused = ClientError({"Error": {"Code": "MessageRejected", "Message": "to ada@example.com"}}, "SendEmail")
    assert str(delivery_error(refused)) == "MessageRejected"


def test_a_timeout_is_named_by_its_class():
    timeout = ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")
    assert str(delivery_error(timeout)) == "ReadTimeoutError"
