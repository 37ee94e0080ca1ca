"""Settings read once per container from the environment the template sets."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

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
    passkey_rp_id: str  # the WebAuthn relying-party id: the origins' registrable domain (or localhost)
    passkey_origins: frozenset[str]  # lower case; where passkeys may be created and used

    def origin_allowed(self, origin: str) -> bool:
        """A browser origin (scheme://host[:port]) the API serves credentialed CORS to and links point at."""
        origin = origin.rstrip("/").lower()
        return origin in self.allowed_origins or (self.loopback_origins and bool(_LOOPBACK_ORIGIN.fullmatch(origin)))

    def passkey_origin_allowed(self, origin: str) -> bool:
        """An origin a passkey ceremony may come from: a passkey origin (or, on the local stack, any
        loopback origin whose host is the relying-party id)."""
        origin = origin.rstrip("/").lower()
        if origin in self.passkey_origins:
            return True
        loopback = self.loopback_origins and _LOOPBACK_ORIGIN.fullmatch(origin)
        return bool(loopback) and urlsplit(origin).hostname == self.passkey_rp_id


@dataclass(frozen=True)
class SendBudgets:
    """Most emails and SMS the deployment sends: per destination per day, per user per day (both
    channels together), and in all per hour (per channel). Bounds bombing and SMS pumping."""

    email_per_destination_per_day: int
    sms_per_destination_per_day: int
    messages_per_user_per_day: int
    email_per_hour: int
    sms_per_hour: int


class ConfigError(ValueError):
    """A deployment setting that cannot work: the function refuses to start rather than half-work."""


def under_rp_id(origin: str, rp_id: str) -> bool:
    """The origin's host is the relying-party id or one of its subdomains (WebAuthn's rule), over https
    (http only for localhost, as browsers allow)."""
    parts = urlsplit(origin)
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and host == "localhost")
    return secure and (host == rp_id or host.endswith("." + rp_id))


def passkey_origins(rp_id: str, listed: list[str], allowed: frozenset[str]) -> frozenset[str]:
    """PASSKEY_ORIGINS, each of which must be under the relying-party id (ConfigError otherwise); when
    empty, the AllowedOrigins that are (127.0.0.1 next to localhost, say, is left out: an IP address
    cannot be a relying party)."""
    if not RP_ID.fullmatch(rp_id):
        raise ConfigError(f"PasskeyRpId {rp_id!r} is not a domain name (an IP address cannot be one)")
    if listed:
        wrong = [origin for origin in listed if not under_rp_id(origin, rp_id)]
        if wrong:
            raise ConfigError(f"PasskeyOrigins {wrong} are not https origins under PasskeyRpId {rp_id!r}")
        return frozenset(listed)
    return frozenset(origin for origin in allowed if under_rp_id(origin, rp_id))


# A host name whose last label starts with a letter: never an IP address. The template's AllowedPattern.
RP_ID = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")


@cache
def settings() -> Settings:
    env = os.environ
    origins = (o.strip().rstrip("/").lower() for o in env.get("ALLOWED_ORIGINS", "").split(","))
    countries = (c.strip().upper() for c in env.get("SMS_ALLOWED_COUNTRIES", "").split(","))
    allowed_origins = frozenset(o for o in origins if o)
    rp_id = env.get("PASSKEY_RP_ID", "localhost").strip().lower()
    listed = [o.strip().rstrip("/").lower() for o in env.get("PASSKEY_ORIGINS", "").split(",") if o.strip()]
    return Settings(
        table_name=env["TABLE_NAME"],
        project_id=env.get("PROJECT_ID", "default"),
        project_name=env.get("PROJECT_NAME", "My App"),
        allowed_origins=allowed_origins,
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
        passkey_rp_id=rp_id,
        passkey_origins=passkey_origins(rp_id, listed, allowed_origins),
    )
