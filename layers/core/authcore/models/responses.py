"""Response models of API.md §3, serialised with their wire names (`$id`, `$createdAt`, …)."""

from __future__ import annotations

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


class MfaFactors(Model):
    totp: bool
    email: bool
    phone: bool
    recoveryCode: bool
    custom: bool = False  # Appwrite's custom factor, which we do not serve; web SDK 28 requires the field


class MfaRecoveryCodes(Model):
    recoveryCodes: list[str]


class MfaType(Model):
    """A new authenticator: the only answer that ever carries its secret."""

    secret: str
    uri: str


class Preferences(Model):
    """A free JSON object."""

    model_config = ConfigDict(extra="allow")
