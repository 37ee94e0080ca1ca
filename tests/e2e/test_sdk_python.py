"""The account and MFA methods of the pinned Appwrite Python SDK (appwrite==27.0.0) that no other e2e module calls
through the SDK, each asserted on the typed result it returns; the paths the SDK really sends (the 27.x plural
`/account/mfa/challenges`); `Avatars.get_qr`; the 27.x parameters we do not honour; and every Account method we do
not serve. Which test proves each method: docs/compatibility.md (issue 17's methods: test_links_and_anonymous.py).

Runs against a server of its own (`fresh_server`). Budget (one IP, per hour): 7 x `POST /account`; per user at most
2 x `POST /account/mfa/challenges`.
"""

from __future__ import annotations

import inspect
import io
import warnings
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import PIL.Image
import pytest
import requests
import zxingcpp
from appwrite.enums.authentication_factor import AuthenticationFactor
from appwrite.enums.authenticator_type import AuthenticatorType
from appwrite.models import MfaChallenge, MfaFactors, MfaRecoveryCodes, MfaType, Session, SessionList, Token
from appwrite.models import User as AccountModel
from appwrite.services.account import Account
from appwrite.services.avatars import Avatars

from tests import rfc6238
from tests.e2e.helpers import (
    DATETIME,
    PASSWORD,
    auth,
    get_account,
    iso_epoch,
    last_code,
    last_link,
    make_user,
    sdk_client,
    sdk_raises,
    sent_to,
    sign_in,
    unique_email,
)

SERVED = {
    "get",
    "update_status",  # tests/e2e/test_activity_log.py
    "create",
    "update_email",
    "update_name",
    "update_password",
    "update_phone",
    "get_prefs",
    "update_prefs",
    "list_sessions",
    "delete_sessions",
    "create_email_password_session",
    "create_session",
    "get_session",
    "update_session",
    "delete_session",
    "create_email_token",
    "create_phone_token",
    "create_email_verification",
    "create_verification",
    "update_email_verification",
    "update_verification",
    "create_phone_verification",
    "update_phone_verification",
    "update_mfa",
    "create_mfa_authenticator",
    "update_mfa_authenticator",
    "delete_mfa_authenticator",
    "create_mfa_challenge",
    "update_mfa_challenge",
    "list_mfa_factors",
    "get_mfa_recovery_codes",
    "create_mfa_recovery_codes",
    "update_mfa_recovery_codes",
    "create_anonymous_session",
    "update_magic_url_session",
    "update_phone_session",
    "create_magic_url_token",
    "create_email_verification_otp",
    "update_email_verification_otp",
    "create_recovery",
    "update_recovery",
    "create_recovery_otp",
    "update_recovery_otp",
    # passkeys (API.md §9): tests/e2e/test_passkeys_sdk.py
    "list_passkeys",
    "create_passkey",
    "get_passkey",
    "update_passkey",
    "delete_passkey",
    "update_passkey_verification",
    "create_passkey_token",
    "update_passkey_token",
    # Social sign-in (issue 20): tests/e2e/test_oauth.py and test_social_sign_in_methods_answer_as_served below.
    "list_identities",
    "delete_identity",
    "create_id_token_session",
    "create_o_auth2_token",
}
NOT_SERVED = {
    "list_consents",
    "get_consent",
    "delete_consent",
    "list_consent_tokens",
    "get_consent_token",
    "delete_consent_token",
    "list_memberships",
}


@pytest.fixture
def wire() -> Iterator[list[tuple[str, str]]]:
    """(METHOD, path) of every request the SDK sends while the test runs."""
    seen: list[tuple[str, str]] = []
    original = requests.request

    def spy(method: str, url: str, **kwargs: object) -> requests.Response:
        seen.append((method.upper(), requests.utils.urlparse(url).path.removeprefix("/v1")))
        return original(method, url, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(requests, "request", spy)
        yield seen


def test_every_account_method_is_classified() -> None:
    """A new SDK version with new methods fails here until each is served or listed as not served (and documented)."""
    methods = {name for name, _ in inspect.getmembers(Account, inspect.isfunction) if not name.startswith("_")}
    assert methods == SERVED | NOT_SERVED
    assert not SERVED & NOT_SERVED


def test_recovery_codes_authenticator_removal_and_mfa_off(fresh_server: str, wire: list[tuple[str, str]]) -> None:
    """`create/get/update_mfa_recovery_codes`, `delete_mfa_authenticator`, `update_mfa(mfa=False)`, and a challenge
    on the plural path the 27.x SDK uses. GET and PATCH of the codes, removing a factor and turning MFA off need a
    challenge completed by this session in the last 10 minutes, with a factor older than the session."""
    user = make_user(fresh_server, name="Rita")
    account = Account(sdk_client(fresh_server, sign_in(fresh_server, user.email)))

    created = account.create_mfa_recovery_codes()
    assert isinstance(created, MfaRecoveryCodes)
    codes = created.recoverycodes
    assert len(codes) == 10 and len(set(codes)) == 10
    sdk_raises(account.create_mfa_recovery_codes, 409, "user_recovery_codes_already_exists")
    sdk_raises(account.get_mfa_recovery_codes, 401, "user_challenge_required")
    sdk_raises(account.update_mfa_recovery_codes, 401, "user_challenge_required")

    mfa_type = account.create_mfa_authenticator(type=AuthenticatorType.TOTP)
    assert isinstance(mfa_type, MfaType)
    enrolled = account.update_mfa_authenticator(type=AuthenticatorType.TOTP, otp=rfc6238.totp(mfa_type.secret))
    assert isinstance(enrolled, AccountModel) and enrolled.id == user.id
    assert account.update_mfa(mfa=True).mfa is True
    sdk_raises(lambda: account.delete_mfa_authenticator(type=AuthenticatorType.TOTP), 401, "user_challenge_required")
    sdk_raises(lambda: account.update_mfa(mfa=False), 401, "user_challenge_required")

    # A later sign-in, which the codes are older than: a challenge with one is a step-up there (API.md §7).
    account = Account(sdk_client(fresh_server, sign_in(fresh_server, user.email)))
    wire.clear()
    challenge = account.create_mfa_challenge(factor=AuthenticationFactor.RECOVERYCODE)
    assert isinstance(challenge, MfaChallenge) and challenge.userid == user.id
    session = account.update_mfa_challenge(challenge_id=challenge.id, otp=codes[0])
    assert wire == [("POST", "/account/mfa/challenges"), ("PUT", "/account/mfa/challenges")]
    assert isinstance(session, Session) and "recoveryCode" in session.factors
    assert DATETIME.match(session.mfaupdatedat)

    shown = account.get_mfa_recovery_codes()
    assert isinstance(shown, MfaRecoveryCodes) and shown.recoverycodes == codes[1:]  # the unused ones
    renewed = account.update_mfa_recovery_codes()
    assert isinstance(renewed, MfaRecoveryCodes)
    assert len(renewed.recoverycodes) == 10 and not set(renewed.recoverycodes) & set(codes)
    assert account.get_mfa_recovery_codes().recoverycodes == renewed.recoverycodes

    wire.clear()
    assert account.delete_mfa_authenticator(type=AuthenticatorType.TOTP) == b""  # a 204: the SDK returns the body
    assert wire == [("DELETE", "/account/mfa/authenticators/totp")]
    factors = account.list_mfa_factors()
    assert isinstance(factors, MfaFactors)
    assert (factors.totp, factors.recoverycode) == (False, True)
    disabled = account.update_mfa(mfa=False)
    assert isinstance(disabled, AccountModel) and disabled.mfa is False


def test_custom_factor_is_refused(fresh_server: str) -> None:
    """`AuthenticationFactor.CUSTOM` ("custom") names no factor this API has."""
    user = make_user(fresh_server, name="Cy")
    account = Account(sdk_client(fresh_server, sign_in(fresh_server, user.email)))
    custom = AuthenticationFactor.CUSTOM
    sdk_raises(lambda: account.create_mfa_challenge(factor=custom), 400, "general_argument_invalid")


def test_get_qr(fresh_server: str, wire: list[tuple[str, str]]) -> None:
    """`Avatars.get_qr` returns the PNG bytes; no session needed."""
    text = "otpauth://totp/My%20App:rita@example.com?secret=JBSWY3DPEHPK3PXP&issuer=My%20App"
    png = Avatars(sdk_client(fresh_server)).get_qr(text=text, size=200, margin=2, download=True)
    assert wire == [("GET", "/avatars/qr")]
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n")
    image = PIL.Image.open(io.BytesIO(png))
    assert image.size == (200, 200)
    decoded = zxingcpp.read_barcodes(image)
    assert [barcode.text for barcode in decoded] == [text]


def test_list_sessions_total_false_still_counts(fresh_server: str) -> None:
    """`list_sessions(total=False)` sends `?total=false`, which asks the server to skip counting (total 0). We count
    anyway: the list parses the same, and `total` is right rather than 0 (a documented difference)."""
    user = make_user(fresh_server, name="Tom")
    credentials = [sign_in(fresh_server, user.email) for _ in range(2)]
    listed = Account(sdk_client(fresh_server, credentials[0])).list_sessions(total=False)
    assert isinstance(listed, SessionList)
    assert listed.total == 2 and len(listed.sessions) == 2
    assert [s.current for s in listed.sessions].count(True) == 1


def test_delete_sessions_but_the_current_one(fresh_server: str) -> None:
    user = make_user(fresh_server, name="Kim")
    keep, other = sign_in(fresh_server, user.email), sign_in(fresh_server, user.email)
    account = Account(sdk_client(fresh_server, keep))
    account.delete_sessions(current=False)
    assert get_account(fresh_server, auth(other)).status_code == 401
    assert account.get().id == user.id


def test_email_password_session_with_a_duration(fresh_server: str) -> None:
    user = make_user(fresh_server, name="Dev")
    session = Account(sdk_client(fresh_server)).create_email_password_session(
        email=user.email, password=PASSWORD, duration=60
    )
    assert isinstance(session, Session)
    assert iso_epoch(session.expire) - iso_epoch(session.createdat) == pytest.approx(60, abs=1)


def test_password_recovery_by_link_keeps_mfa(fresh_server: str, wire: list[tuple[str, str]]) -> None:
    """`create_recovery` / `update_recovery` (API.md §8): the link's query carries userId, secret and expire; the
    reset ends every session; MFA stays on, so a sign-in with the new password still meets the gate."""
    user = make_user(fresh_server, name="Rex")
    signed_in = Account(sdk_client(fresh_server, sign_in(fresh_server, user.email)))
    mfa_type = signed_in.create_mfa_authenticator(type=AuthenticatorType.TOTP)
    signed_in.update_mfa_authenticator(type=AuthenticatorType.TOTP, otp=rfc6238.totp(mfa_type.secret))
    assert signed_in.update_mfa(mfa=True).mfa is True

    account = Account(sdk_client(fresh_server))
    wire.clear()
    token = account.create_recovery(email=user.email, url="http://localhost:3000/reset")
    assert isinstance(token, Token) and token.userid == user.id and token.secret == ""
    assert iso_epoch(token.expire) - iso_epoch(token.createdat) == pytest.approx(3600, abs=1)
    query = dict(parse_qsl(urlsplit(last_link(fresh_server, user.email)).query))
    assert query["userId"] == user.id and query["expire"] == token.expire
    done = account.update_recovery(user_id=query["userId"], secret=query["secret"], password="a new password 1")
    assert wire == [("POST", "/account/recovery"), ("PUT", "/account/recovery")]
    assert isinstance(done, Token) and done.id == token.id
    sdk_raises(signed_in.get, 401, "general_unauthorized_scope")  # every session ended
    sdk_raises(
        lambda: account.update_recovery(user_id=user.id, secret=query["secret"], password="another password"),
        401,
        "user_invalid_token",
    )
    after = Account(sdk_client(fresh_server, sign_in(fresh_server, user.email, "a new password 1")))
    sdk_raises(after.get, 401, "user_more_factors_required")

    nobody = unique_email()
    stand_in = account.create_recovery(email=nobody, url="http://localhost:3000/reset")
    assert isinstance(stand_in, Token) and len(stand_in.userid) == 20 and sent_to(fresh_server, nobody) == []


def test_password_recovery_by_code(fresh_server: str, wire: list[tuple[str, str]]) -> None:
    """`create_recovery_otp` (with a phrase) / `update_recovery_otp`: a six-digit code valid 15 minutes."""
    user = make_user(fresh_server, name="Ida")
    account = Account(sdk_client(fresh_server))
    wire.clear()
    token = account.create_recovery_otp(email=user.email, phrase=True)
    assert isinstance(token, Token) and token.userid == user.id and token.phrase
    assert iso_epoch(token.expire) - iso_epoch(token.createdat) == pytest.approx(900, abs=1)
    assert token.phrase in sent_to(fresh_server, user.email)[-1]["text"]
    sdk_raises(
        lambda: account.update_recovery_otp(user_id=user.id, secret="12345", password="a new password 2"),
        401,
        "user_invalid_token",
    )
    done = account.update_recovery_otp(
        user_id=token.userid, secret=last_code(fresh_server, user.email), password="a new password 2"
    )
    assert wire == [("POST", "/account/recovery/otp")] + [("PUT", "/account/recovery/otp")] * 2
    assert isinstance(done, Token)
    assert sign_in(fresh_server, user.email, "a new password 2")


@pytest.mark.parametrize("name", sorted(NOT_SERVED))
def test_methods_not_served_get_route_not_found(fresh_server: str, name: str) -> None:
    """Each gets the ordinary 404 as an AppwriteException. Required parameters get a placeholder: no server of ours
    reads them."""
    method = getattr(Account(sdk_client(fresh_server)), name)
    required = [p.name for p in inspect.signature(method).parameters.values() if p.default is p.empty]
    with warnings.catch_warnings(record=True):  # update_magic_url_session and update_phone_session warn: deprecated
        sdk_raises(lambda: method(**dict.fromkeys(required, "x")), 404, "general_route_not_found")


def test_social_sign_in_methods_answer_as_served(fresh_server: str) -> None:
    """Served (tests/e2e/test_oauth.py runs the flows against a real provider); on a deployment without a
    configured provider: identities need a session, Google answers Appwrite's provider-disabled 412."""
    from appwrite.enums.id_token_provider import IdTokenProvider
    from appwrite.enums.o_auth_provider import OAuthProvider

    account = Account(sdk_client(fresh_server))
    sdk_raises(account.list_identities, 401, "general_unauthorized_scope")
    sdk_raises(lambda: account.delete_identity(identity_id="i1"), 401, "general_unauthorized_scope")
    sdk_raises(
        lambda: account.create_id_token_session(provider=IdTokenProvider.GOOGLE, id_token="x"),
        412,
        "project_provider_disabled",
    )
    with warnings.catch_warnings(record=True):  # create_o_auth2_token is deprecated in SDK 27
        sdk_raises(
            lambda: account.create_o_auth2_token(provider=OAuthProvider.GOOGLE, success="http://localhost:3000/ok"),
            412,
            "project_provider_disabled",
        )
