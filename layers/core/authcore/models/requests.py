"""Request bodies. Unknown fields are ignored (SDKs send extras); types are not coerced."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from authcore.models import json_limits
from authcore.models.fields import (
    AppUrl,
    ChallengeAnswer,
    Email,
    Factor,
    Id,
    Name,
    NewPassword,
    Password,
    Phone,
    Secret,
)

PREFS_MAX_CHARS = 65_535


class Body(BaseModel):
    # defer_build: a model's validator is built on its first use, so a function's cold start pays
    # only for the models it uses, not for every model of this module.
    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True)


class CreateAccount(Body):
    userId: Id
    email: Email
    password: NewPassword
    name: Name = ""


class EmailPasswordSession(Body):
    email: Email
    password: Password
    # Seconds, for a shorter session ("remember me" unticked); capped at SessionLifetimeSeconds.
    duration: float | None = Field(default=None, ge=60)


class DeleteSessions(Body):
    current: bool = True  # false: sign out every other session and stay signed in on this one


class UpdateEmail(Body):
    email: Email
    password: Password


class UpdatePhone(Body):
    phone: Phone
    password: Password


class UpdatePassword(Body):
    password: NewPassword
    oldPassword: Password = ""


class UpdateName(Body):
    name: Name


class CreateEmailVerification(Body):
    url: AppUrl


class UpdateVerification(Body):
    userId: Id
    secret: Secret


class CreateRecovery(Body):
    email: Email
    url: AppUrl


class CreateRecoveryOtp(Body):
    email: Email
    phrase: bool = False


class UpdateRecovery(Body):
    userId: Id
    secret: Secret
    password: NewPassword


class EmailToken(Body):
    userId: Id
    email: Email
    phrase: bool = False


class MagicUrlToken(EmailToken):
    url: AppUrl  # optional in the SDKs; required here: the link must point at an allowed app origin


class CreateEmailVerificationCode(Body):
    phrase: bool = False


class PhoneToken(Body):
    userId: Id
    phone: Phone


class TokenSession(Body):
    userId: Id
    secret: Secret


class IdTokenSession(Body):
    provider: Annotated[str, StringConstraints(max_length=32)]
    idToken: Annotated[str, StringConstraints(min_length=1, max_length=8192)]
    nonce: Annotated[str, StringConstraints(max_length=256)] = ""
    # Appwrite stores these on the session; we keep no provider token (accepted and ignored).
    accessToken: Annotated[str, StringConstraints(max_length=8192)] = ""
    accessTokenExpiry: float | int | None = None
    name: Name = ""


class UpdateMfa(Body):
    mfa: bool


class VerifyAuthenticator(Body):
    otp: Secret


class CreateMfaChallenge(Body):
    factor: Factor


class UpdateMfaChallenge(Body):
    challengeId: Id
    otp: ChallengeAnswer


class UpdatePrefs(Body):
    prefs: dict[str, Any]

    @field_validator("prefs")
    @classmethod
    def _size(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json_limits.dumps(value)) > PREFS_MAX_CHARS:
            raise ValueError(f"Preferences must be at most {PREFS_MAX_CHARS} characters of JSON")
        return value


class CreateJwt(Body):
    duration: float = Field(default=900, ge=0, le=3600)  # seconds until `exp`


class CreatePasskey(Body):
    passkeyId: Id = "unique()"
    name: Name = ""


class UpdatePasskeyVerification(Body):
    credential: dict[str, Any]  # PublicKeyCredential.toJSON(): the WebAuthn library checks its shape


class UpdatePasskey(Body):
    name: Name


class UpdatePasskeyToken(Body):
    challengeId: Id
    credential: dict[str, Any]


# --- the Users API (server API keys) ---


class CreateUser(Body):
    userId: Id
    email: Email | None = None
    phone: Phone | None = None
    password: NewPassword | None = None
    name: Name = ""


class UpdateStatus(Body):
    status: bool


class UpdateEmailVerificationFlag(Body):
    emailVerification: bool


class UpdatePhoneVerificationFlag(Body):
    phoneVerification: bool


class UsersCreateJwt(CreateJwt):
    sessionId: str = "recent()"  # Appwrite's default: the most recent session
