"""Settings read once per container from the environment the template sets."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache

# Set only by the local stack (`python -m local.server`); the template never sets it, and Lambda's own
# AWS_EXECUTION_ENV (reserved: a function's configuration cannot unset it) makes it count for nothing.
LOCAL_LOOPBACK_ORIGINS = "AUTHCORE_LOCAL_LOOPBACK_ORIGINS"
_LOOPBACK_ORIGIN = re.compile(r"https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?")


@dataclass(frozen=True)
class Settings:
    table_name: str
    project_id: str
    project_name: str
    allowed_origins: frozenset[str]  # lower case
    loopback_origins: bool  # local stack only: any http(s)://localhost|127.0.0.1|[::1]:<port> is allowed too
    session_lifetime_seconds: int
    sender_email: str  # "" when email sending is not configured
    sms_enabled: bool
    sms_sender_id: str  # "" for the carrier's default
    code_key_secret: str  # Secrets Manager id of the HMAC key for codes
    kms_key_id: str  # the key that seals TOTP secrets and the display copy of recovery codes
    sms_countries: frozenset[str]  # ISO 3166 alpha-2 regions SMS may go to; empty: every region
    budgets: SendBudgets
    jwt_issuer: str  # the JWTs' `iss` (JwtIssuer, else https://<DomainName>/v1); "" = the request's own base URL
    jwt_signing_key: str  # the KMS alias of the key that signs JWTs (docs/jwt.md)

    def origin_allowed(self, origin: str) -> bool:
        """A browser origin (scheme://host[:port]) the API serves credentialed CORS to and links point at."""
        origin = origin.rstrip("/").lower()
        return origin in self.allowed_origins or (self.loopback_origins and bool(_LOOPBACK_ORIGIN.fullmatch(origin)))


@dataclass(frozen=True)
class SendBudgets:
    """Most emails and SMS the deployment sends: per destination per day, per user per day (both
    channels together), and in all per hour (per channel). Bounds bombing and SMS pumping."""

    email_per_destination_per_day: int
    sms_per_destination_per_day: int
    messages_per_user_per_day: int
    email_per_hour: int
    sms_per_hour: int


@cache
def settings() -> Settings:
    env = os.environ
    origins = (o.strip().rstrip("/").lower() for o in env.get("ALLOWED_ORIGINS", "").split(","))
    countries = (c.strip().upper() for c in env.get("SMS_ALLOWED_COUNTRIES", "").split(","))
    return Settings(
        table_name=env["TABLE_NAME"],
        project_id=env.get("PROJECT_ID", "default"),
        project_name=env.get("PROJECT_NAME", "My App"),
        allowed_origins=frozenset(o for o in origins if o),
        loopback_origins=env.get(LOCAL_LOOPBACK_ORIGINS) == "true" and "AWS_EXECUTION_ENV" not in env,
        session_lifetime_seconds=int(env.get("SESSION_LIFETIME_SECONDS", "2592000")),
        sender_email=env.get("SENDER_EMAIL", "").strip(),
        sms_enabled=env.get("SMS_ENABLED", "false").lower() == "true",
        sms_sender_id=env.get("SMS_SENDER_ID", "").strip(),
        code_key_secret=env.get("CODE_KEY_SECRET", ""),
        kms_key_id=env.get("KMS_KEY_ID", ""),
        sms_countries=frozenset(c for c in countries if c),
        budgets=SendBudgets(
            email_per_destination_per_day=int(env.get("EMAIL_PER_DESTINATION_PER_DAY", "20")),
            sms_per_destination_per_day=int(env.get("SMS_PER_DESTINATION_PER_DAY", "10")),
            messages_per_user_per_day=int(env.get("MESSAGES_PER_USER_PER_DAY", "30")),
            email_per_hour=int(env.get("EMAIL_PER_HOUR", "2000")),
            sms_per_hour=int(env.get("SMS_PER_HOUR", "200")),
        ),
        jwt_issuer=env.get("JWT_ISSUER", "").strip().rstrip("/"),
        jwt_signing_key=env.get("JWT_SIGNING_KEY", ""),
    )
