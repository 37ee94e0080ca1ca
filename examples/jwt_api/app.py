"""The example API behind an API Gateway JWT authorizer that trusts authcore's tokens (docs/jwt.md).

API Gateway has verified the token (signature, iss, aud, exp) before this runs; the claims arrive in
requestContext.authorizer.jwt.claims. GET /mfa also needs the session to have passed a second factor.
"""

import json


def _amr(claims: dict) -> list[str]:
    """HTTP APIs hand an array claim over as one string, "[password totp mfa]"; a list is taken as is."""
    value = claims.get("amr", [])
    return value if isinstance(value, list) else str(value).strip("[]").split()


def lambda_handler(event, context):
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    if event["routeKey"] == "GET /mfa" and "mfa" not in _amr(claims):
        return {"statusCode": 403, "body": json.dumps({"message": "This route needs a second factor."})}
    answer = {"userId": claims["sub"], "sessionId": claims["sid"], "amr": _amr(claims)}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(answer)}
