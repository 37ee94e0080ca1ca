"""OPTIONS /{proxy+}: CORS preflight for every route, echoing only allowed origins."""

from typing import Any

from authcore.http import transport
from authcore.observability import logged


@logged
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 204, "headers": transport.preflight_headers(event), "body": ""}
