"""Response models of API.md §3, serialised with their wire names (`$id`, `$createdAt`, …)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    # defer_build: built on first use, so a cold start pays only for the models its function returns.
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True, defer_build=True)


class Error(Model):
    message: str
    code: int
    type: str
    version: str


class Document(Model):
    """What every stored thing the API returns carries: its id and two timestamps."""

    id: str = Field(alias="$id")
    createdAt: str = Field(alias="$createdAt")
    updatedAt: str = Field(alias="$updatedAt")


class Account(Document):
    name: str
    registration: str
    status: bool
    labels: list[str]
    passwordUpdate: str
    email: str
    phone: str
    emailVerification: bool
    phoneVerification: bool
    mfa: bool
    prefs: dict[str, Any]
    targets: list[dict[str, Any]]
    accessedAt: str


class UserList(Model):
    """The Users API's list (Appwrite's UserList): each user has the Account shape."""

    total: int
    users: list[Account]


class Session(Document):
    userId: str
    expire: str
    provider: str
    providerUid: str
    providerAccessToken: str
    providerAccessTokenExpiry: str
    providerRefreshToken: str
    ip: str
    osCode: str
    osName: str
    osVersion: str
    clientType: str
    clientCode: str
    clientName: str
    clientVersion: str
    clientEngine: str
    clientEngineVersion: str
    deviceName: str
    deviceBrand: str
    deviceModel: str
    countryCode: str
    countryName: str
    current: bool
    factors: list[str]
    secret: str
    mfaUpdatedAt: str


class SessionList(Model):
    total: int
    sessions: list[Session]
    data: list[Session]


class Token(Model):
    """A verification or sign-in token. `secret` is "" for end-user callers: it travels by email or SMS."""

    id: str = Field(alias="$id")
    createdAt: str = Field(alias="$createdAt")
    userId: str
    secret: str
    expire: str
    phrase: str


class Identity(Document):
    """A user's account at an OAuth2 provider. Provider tokens are never kept: their fields are "" always."""

    userId: str
    provider: str
    providerUid: str
    providerEmail: str
    providerAccessToken: str
    providerAccessTokenExpiry: str
    providerRefreshToken: str
    providerIdToken: str


class IdentityList(Model):
    total: int
    identities: list[Identity]


class MfaChallenge(Model):
    id: str = Field(alias="$id")
    createdAt: str = Field(alias="$createdAt")
    userId: str
    expire: str


class MfaPasskeyChallenge(MfaChallenge):
    """A `factor: "passkey"` challenge (API.md §9): with the request options for navigator.credentials.get()."""

    publicKey: dict[str, Any]


class MfaFactors(Model):
    totp: bool
    email: bool
    phone: bool
    recoveryCode: bool
    custom: bool = False  # Appwrite's custom factor, which we do not serve; web SDK 28 requires the field
    passkey: bool = False  # ours (API.md §9): a passkey can answer an MFA challenge


class MfaRecoveryCodes(Model):
    recoveryCodes: list[str]


class Jwt(Model):
    """A signed JWT naming the user and session (API.md §8)."""

    jwt: str


class OpenIdConfiguration(Model):
    """GET /.well-known/openid-configuration: where API Gateway's JWT authorizers find our keys."""

    issuer: str
    jwks_uri: str
    response_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    claims_supported: list[str]


class JsonWebKeySet(Model):
    """GET /.well-known/jwks.json: the public keys that verify our JWTs (RFC 7517)."""

    keys: list[dict[str, Any]]


class MfaType(Model):
    """A new authenticator: the only answer that ever carries its secret."""

    secret: str
    uri: str


class Passkey(Document):
    name: str
    accessedAt: str


class PasskeyList(Model):
    total: int
    passkeys: list[Passkey]


class PasskeyChallenge(Model):
    """Options for navigator.credentials.create() (registration) or .get() (sign-in), in JSON form."""

    id: str = Field(alias="$id")
    createdAt: str = Field(alias="$createdAt")
    passkeyId: str
    expire: str
    publicKey: dict[str, Any]


class Preferences(Model):
    """A free JSON object."""

    model_config = ConfigDict(extra="allow")


class Log(Model):
    """One security event of a user (Appwrite's Log model). Client fields are "" where unknown."""

    event: str
    userId: str
    userEmail: str
    userName: str
    mode: str
    ip: str
    time: str
    osCode: str
    osName: str
    osVersion: str
    clientType: str
    clientCode: str
    clientName: str
    clientVersion: str
    clientEngine: str
    clientEngineVersion: str
    deviceName: str
    deviceBrand: str
    deviceModel: str
    countryCode: str
    countryName: str


class LogList(Model):
    """Appwrite's LogList; the Nuvix SDK reads `data` in lists, so it is sent too (as in SessionList)."""

    total: int
    logs: list[Log]
    data: list[Log]
