"""DynamoDB round trips per request (ARCHITECTURE.md §3 budget) and least-privilege IAM policies."""

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.client import BaseClient
from botocore.exceptions import EndpointConnectionError

from authcore.security.tokens import decode_credential
from authcore.store import users as users_store
from authcore.store.table import client as table_client
from local import template
from tests.conftest import FUNCTIONS, TEMPLATE
from tests.rfc6238 import totp

from . import conftest as harness
from .admin_fixtures import key_headers, walk_admin
from .conftest import PASSWORD, lift_cooldowns, lift_rate_limits
from .oauth_fixtures import callback, social_sign_in, start, verified, walk_oauth
from .passkey_fixtures import walk_passkeys

# Exact counts on the success path. Where ARCHITECTURE.md §3 sets a budget, the count is that budget.
EXPECTED = {
    "get_account": ["BatchGetItem"],  # budget 1 (gated read)
    "get_prefs": ["BatchGetItem"],  # budget 1 (gated read)
    "list_sessions": ["Query"],  # profile + every session in one query
    "get_session": ["Query"],
    # budget 3: the hour's first attempt (a later one in the hour adds an UpdateItem: see below)
    "create_email_password_session": ["UpdateItem", "GetItem", "TransactWriteItems"],
    "create_account": ["UpdateItem", "TransactWriteItems"],  # ip limit, then profile + email index
    "update_name": ["BatchGetItem", "UpdateItem"],
    "update_prefs": ["BatchGetItem", "UpdateItem"],
    # the user's hourly limit on password checks (API.md §7: a stolen session is no password oracle), then the change
    "update_email": ["BatchGetItem", "UpdateItem", "TransactWriteItems"],
    "update_phone": ["BatchGetItem", "UpdateItem", "TransactWriteItems"],
    "update_password": ["BatchGetItem", "UpdateItem", "TransactWriteItems"],
    "update_session": ["Query", "TransactWriteItems"],
    "delete_session": ["Query", "TransactWriteItems"],
    "delete_sessions": ["Query", "TransactWriteItems"],
    # Issuing a code or link: one read (the session, or the address's index item), then one transaction
    # spending the limits and the send cooldown, storing the token (and creating a new user).
    "create_email_verification": ["BatchGetItem", "TransactWriteItems"],
    "create_phone_verification": ["BatchGetItem", "TransactWriteItems"],
    "create_email_token": ["GetItem", "TransactWriteItems"],
    "create_phone_token": ["GetItem", "TransactWriteItems"],
    # Spending one: the (userId, source) and userId limits in one transaction (API.md §7), profile +
    # token in one read, then the token marked spent (a tombstone) + profile update.
    "update_email_verification": ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"],
    "update_phone_verification": ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"],
    # The (userId, source), userId and ip limits together, profile + token, then session + profile + the
    # token marked spent.
    "create_session": ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"],
    # Issue 17: a sign-in link costs what a sign-in code does, to issue and to exchange (the same service call
    # behind the deprecated aliases); an email verification code what a phone one does.
    "create_magic_url_token": ["GetItem", "TransactWriteItems"],
    "update_magic_url_session": ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"],
    "update_phone_session": ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"],
    "create_email_verification_otp": ["BatchGetItem", "TransactWriteItems"],
    "update_email_verification_otp": ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"],
    # the ip limit, the profile, then the session (+ profile's sessions map and TTL)
    "create_anonymous_session": ["UpdateItem", "TransactWriteItems", "TransactWriteItems"],
    # MFA (issue 4): the session with its user in one read, then (at most) one write.
    "update_mfa": ["BatchGetItem", "TransactWriteItems"],  # mfa:true, profile + the session's factors
    "list_mfa_factors": ["BatchGetItem"],
    "create_mfa_authenticator": ["BatchGetItem", "UpdateItem"],
    "update_mfa_authenticator": ["BatchGetItem", "TransactWriteItems"],  # profile + the session's factors
    # Issue 17: a change of factors writes its activity log item in the same write, so the profile's lone
    # UpdateItem became a transaction of two (same round trips, the audit trail never lost).
    "delete_mfa_authenticator": ["BatchGetItem", "TransactWriteItems"],
    "create_mfa_recovery_codes": ["BatchGetItem", "TransactWriteItems"],
    "get_mfa_recovery_codes": ["BatchGetItem"],
    "update_mfa_recovery_codes": ["BatchGetItem", "TransactWriteItems"],
    # The issue's budgets: creating an email/phone challenge ≤ 2 calls plus one send (the limit, the
    # cooldown and the challenge in one transaction); completing any challenge ≤ 2 (session, user and
    # challenge in one read; challenge delete + session factors + profile in one transaction).
    "create_mfa_challenge": ["BatchGetItem", "TransactWriteItems"],
    "update_mfa_challenge": ["BatchGetItem", "TransactWriteItems"],
    "get_qr": [],  # no session, no state
    # Recovery (API.md §8): asking costs what a sign-in code does, for an email no account holds too (the
    # index item with the email's stand-in id in one read, then the limits, cooldown and budgets with the token,
    # or with the stand-in id kept, in one transaction);
    # the reset what a verification does: its limits, profile + token, then the token spent with the new
    # password and every session's Delete in one transaction.
    "create_recovery": ["BatchGetItem", "TransactWriteItems"],
    "create_recovery_otp": ["BatchGetItem", "TransactWriteItems"],
    "update_recovery": ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"],
    "update_recovery_otp": ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"],
    # Issue 17: the block, every session it ends and its log item in one transaction, after the sessions' query.
    "update_status": ["Query", "TransactWriteItems"],
    "list_logs": ["BatchGetItem", "Query"],  # the gated session, then the log newest first (one page)
}
MFA_OFF = ["BatchGetItem", "TransactWriteItems"]  # mfa:false: the profile and the log item (was a lone UpdateItem)

# Calls to other AWS services per request, from a fresh container (the code key is fetched once per
# container, on the first code a function hashes; a link secret needs no key).
EXPECTED_EXTERNAL = {
    "create_email_verification": ["ses:SendEmail"],
    "update_email_verification": [],
    "create_phone_verification": ["secretsmanager:GetSecretValue", "sns:Publish"],
    "update_phone_verification": ["secretsmanager:GetSecretValue"],
    "create_email_token": ["secretsmanager:GetSecretValue", "ses:SendEmail"],
    "create_phone_token": ["secretsmanager:GetSecretValue", "sns:Publish"],
    "create_session": ["secretsmanager:GetSecretValue"],
    "create_magic_url_token": ["secretsmanager:GetSecretValue", "ses:SendEmail"],
    "update_magic_url_session": ["secretsmanager:GetSecretValue"],
    "update_phone_session": ["secretsmanager:GetSecretValue"],
    "create_email_verification_otp": ["secretsmanager:GetSecretValue", "ses:SendEmail"],
    "update_email_verification_otp": ["secretsmanager:GetSecretValue"],
    # The code's hash needs the code key, known email or not (the same work either way); the reset of a
    # verified address, its notice.
    "create_recovery": ["ses:SendEmail"],
    "create_recovery_otp": ["secretsmanager:GetSecretValue", "ses:SendEmail"],
    "update_recovery": ["ses:SendEmail"],
    "update_recovery_otp": ["secretsmanager:GetSecretValue", "ses:SendEmail"],
}
CODE_FUNCTIONS = set(EXPECTED_EXTERNAL)
PHONE = "+14155552671"

# The MFA walk (_walk_mfa), step by step: the function called, its DynamoDB calls and its calls to other
# services from a fresh container. KMS: one Encrypt per secret sealed (authenticator, recovery codes),
# one Decrypt per secret read (TOTP check, recovery-code display). SES: one SendEmail per code sent or
# security notification (the user's email is verified). Secrets Manager: the code key, where a code is hashed.
SEND_CODE, SEND_SMS, NOTIFY = "ses:SendEmail", "sns:Publish", "ses:SendEmail"
CODE_KEY, ENCRYPT, DECRYPT = "secretsmanager:GetSecretValue", "kms:Encrypt", "kms:Decrypt"
MFA_STEPS: dict[str, tuple[str, list[str], list[str]]] = {
    "list factors": ("list_mfa_factors", EXPECTED["list_mfa_factors"], []),
    "create recovery codes": (
        "create_mfa_recovery_codes",
        EXPECTED["create_mfa_recovery_codes"],
        [CODE_KEY, ENCRYPT, NOTIFY],  # the owner is told (API.md §7: codes planted while MFA is off)
    ),
    "create authenticator": ("create_mfa_authenticator", EXPECTED["create_mfa_authenticator"], [ENCRYPT]),
    "verify authenticator": ("update_mfa_authenticator", EXPECTED["update_mfa_authenticator"], [DECRYPT, NOTIFY]),
    "mfa on": ("update_mfa", EXPECTED["update_mfa"], [NOTIFY]),
    "email challenge": ("create_mfa_challenge", EXPECTED["create_mfa_challenge"], [CODE_KEY, SEND_CODE]),
    "email completed": ("update_mfa_challenge", EXPECTED["update_mfa_challenge"], [CODE_KEY]),
    "phone challenge": ("create_mfa_challenge", EXPECTED["create_mfa_challenge"], [CODE_KEY, SEND_SMS]),
    "phone completed": ("update_mfa_challenge", EXPECTED["update_mfa_challenge"], [CODE_KEY]),
    "totp challenge": ("create_mfa_challenge", EXPECTED["create_mfa_challenge"], []),
    "totp completed": ("update_mfa_challenge", EXPECTED["update_mfa_challenge"], [DECRYPT]),
    "recoveryCode challenge": ("create_mfa_challenge", EXPECTED["create_mfa_challenge"], []),
    # + email-recovery-code-used
    "recoveryCode completed": ("update_mfa_challenge", EXPECTED["update_mfa_challenge"], [CODE_KEY, NOTIFY]),
    "get recovery codes": ("get_mfa_recovery_codes", EXPECTED["get_mfa_recovery_codes"], [DECRYPT, CODE_KEY]),
    "regenerate recovery codes": (
        "update_mfa_recovery_codes",
        EXPECTED["update_mfa_recovery_codes"],
        [CODE_KEY, ENCRYPT, NOTIFY],
    ),
    "delete authenticator": ("delete_mfa_authenticator", EXPECTED["delete_mfa_authenticator"], [NOTIFY]),
    "mfa off": ("update_mfa", MFA_OFF, [NOTIFY]),
}
MFA_FUNCTIONS = {function for function, _, _ in MFA_STEPS.values()}


class ExternalCalls:
    """Every call to an AWS service other than DynamoDB, as its IAM action, per function. Each request
    runs as in a fresh container (cached SES/SNS clients and code key dropped) unless `warm` is set.
    An action in `failing` fails as an unreachable endpoint would."""

    def __init__(self) -> None:
        self.last: list[str] = []
        self.by_function: dict[str, set[str]] = {}
        self.function = ""
        self.warm = False
        self.failing: set[str] = set()
        self.kms_requests: list[dict[str, Any]] = []  # KeyId and EncryptionContext of every KMS call

    def start(self, function: str) -> None:
        if not self.warm:
            from authcore.delivery import aws, email, sms
            from authcore.security import codes, kms
            from authcore.services import oauth_providers

            email._client = sms._client = codes._key = oauth_providers._secrets = None
            aws._clients.clear()
            kms._client = None
        self.function = function
        self.last = []
        self.by_function.setdefault(function, set())

    def record(self, action: str) -> None:
        self.last.append(action)
        if self.function:
            self.by_function[self.function].add(action)
        if action in self.failing:
            raise EndpointConnectionError(endpoint_url="https://unreachable.invalid")


@pytest.fixture
def external_calls(monkeypatch, api) -> ExternalCalls:
    calls = ExternalCalls()
    real_call = BaseClient._make_api_call

    def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.signing_name
        if service == "kms":
            calls.kms_requests.append(
                {"KeyId": params.get("KeyId"), "EncryptionContext": params.get("EncryptionContext")}
            )
        if service != "dynamodb":
            calls.record(f"{service}:{operation}")
        return real_call(client, operation, params)

    real_load = harness.load_handler

    def load(function: Any) -> Any:
        handler = real_load(function)

        def in_container(event: dict[str, Any], context: Any) -> Any:
            calls.start(function.name)
            return handler(event, context)

        return in_container

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    monkeypatch.setattr(harness, "load_handler", load)
    return calls


def _link_secret(sent, address: str) -> str:
    return parse_qs(urlsplit(sent.link(address)).query)["secret"][0]


def test_round_trips_per_endpoint(api, dynamo_calls):
    api.sign_up()
    session = api.session_for()
    other = api.session_for()
    other_id = api("get_session", session=other, path={"sessionId": "current"}).body["$id"]
    requests = {
        "get_account": {},
        "get_prefs": {},
        "list_sessions": {},
        "get_session": {"path": {"sessionId": "current"}},
        "update_name": {"body": {"name": "Ada"}},
        "update_prefs": {"body": {"prefs": {"a": 1}}},
        "update_email": {"body": {"email": "new@example.com", "password": PASSWORD}},
        "update_phone": {"body": {"phone": "+14155552671", "password": PASSWORD}},
        "update_session": {"path": {"sessionId": "current"}},
        "delete_session": {"path": {"sessionId": other_id}},
        "update_password": {"body": {"password": "new password 123", "oldPassword": PASSWORD}},
        "list_logs": {},
    }
    for name, request in requests.items():
        answer = api(name, request.get("body"), session=session, path=request.get("path"))
        assert answer.status < 300, (name, answer.body)
        assert dynamo_calls.operations == EXPECTED[name], name

    assert api.sign_in("new@example.com", "new password 123").status == 201
    assert dynamo_calls.operations == EXPECTED["create_email_password_session"]
    assert api("delete_sessions", session=session).status == 204
    assert dynamo_calls.operations == EXPECTED["delete_sessions"]
    assert api.sign_up("grace@example.com")
    assert dynamo_calls.operations == EXPECTED["create_account"]
    grace = api.session_for("grace@example.com")
    assert api("update_status", {}, session=grace).status == 200
    assert dynamo_calls.operations == EXPECTED["update_status"]


def test_incomplete_sessions_cost_what_complete_ones_do(api, dynamo_calls, user_id_of):
    """API.md §7: a password sign-in that stops at the MFA gate (beyond the cap: it ends no complete session) and
    the challenge that completes it (ending the oldest incomplete session) keep their counts: what the cap ends
    rides in the same transaction (one more Delete per ended session, no more round trips). The per-session
    challenge limit replaces the per-user one in the same transaction."""
    api.sign_up()
    enrolling = api.session_for()
    secret = api("create_mfa_authenticator", {}, session=enrolling, path=TOTP).body["secret"]
    assert api("update_mfa_authenticator", {"otp": totp(secret)}, session=enrolling, path=TOTP).status == 200
    assert api("update_mfa", {"mfa": True}, session=enrolling).status == 200
    incomplete = [api.session_for() for _ in range(10)]  # 1 complete + 10 incomplete: beyond the cap
    # a later attempt in the hour: one more UpdateItem (test_a_later_password_attempt_in_the_hour_costs_one_more_call)
    assert dynamo_calls.operations == ["UpdateItem", *EXPECTED["create_email_password_session"]]
    challenge = api("create_mfa_challenge", {"factor": "totp"}, session=incomplete[-1])
    assert dynamo_calls.operations == EXPECTED["create_mfa_challenge"]
    body = {"challengeId": challenge.body["$id"], "otp": totp(secret, offset_steps=1)}
    assert api("update_mfa_challenge", body, session=incomplete[-1]).status == 200
    assert dynamo_calls.operations == EXPECTED["update_mfa_challenge"]
    assert api("list_mfa_factors", session=incomplete[0]).status == 401  # ended by the completion
    assert len(users_store.get_user(user_id_of(enrolling))["sessions"]) == 10


def test_a_later_password_attempt_in_the_hour_costs_one_more_call(api, dynamo_calls):
    """The per-(email, source) counts (API.md §7) live in one map on the email's index item: the hour's
    first attempt replaces it (the budget of 3), a later one in the same hour finds it there and adds to
    it with a second UpdateItem. Justified: a separate RATE# item would cost that call on every attempt,
    and a refused attempt (the attacker's case) still costs one call and writes nothing."""
    api.sign_up()
    assert api.sign_in().status == 201
    assert dynamo_calls.operations == EXPECTED["create_email_password_session"]
    assert api.sign_in().status == 201
    assert dynamo_calls.operations == ["UpdateItem", *EXPECTED["create_email_password_session"]]
    for _ in range(10):
        assert api.sign_in(password="wrong password").status == 401
    assert api.sign_in().status == 429
    assert dynamo_calls.operations == ["UpdateItem"]  # refused from what the failed create returned


def test_round_trips_per_code_endpoint(api, sent, dynamo_calls, external_calls, user_id_of):
    api.sign_up()
    session = api.session_for()
    user_id = user_id_of(session)
    assert api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=session).status == 200

    def check(name: str, answer: Any) -> None:
        assert answer.status < 300, (name, answer.body)
        assert dynamo_calls.operations == EXPECTED[name], name
        assert external_calls.last == EXPECTED_EXTERNAL[name], name

    check(
        "create_email_verification",
        api("create_email_verification", {"url": "http://localhost:3000/v"}, session=session),
    )
    secret = _link_secret(sent, "ada@example.com")
    check("update_email_verification", api("update_email_verification", {"userId": user_id, "secret": secret}))
    check("create_phone_verification", api("create_phone_verification", {}, session=session))
    code = sent.code(PHONE)
    check("update_phone_verification", api("update_phone_verification", {"userId": user_id, "secret": code}))
    lift_cooldowns()
    check("create_email_token", api("create_email_token", {"userId": "unique()", "email": "ada@example.com"}))
    check("create_session", api("create_session", {"userId": user_id, "secret": sent.code("ada@example.com")}))
    new = api("create_email_token", {"userId": "unique()", "email": "new@example.com"})  # creates the user
    check("create_email_token", new)
    check(
        "create_session", api("create_session", {"userId": new.body["userId"], "secret": sent.code("new@example.com")})
    )
    new = api("create_phone_token", {"userId": "unique()", "phone": "+14155552672"})
    check("create_phone_token", new)
    check("create_session", api("create_session", {"userId": new.body["userId"], "secret": sent.code("+14155552672")}))
    assert len(sent.outbox.entries()) == 5  # one message per issuing request, nothing else sent


def test_round_trips_per_issue_17_endpoint(api, sent, dynamo_calls, external_calls, user_id_of):
    """Magic URL sign-in (and the deprecated aliases), email verification by code, anonymous sessions."""

    def check(name: str, answer: Any) -> Any:
        assert answer.status < 300, (name, answer.body)
        assert dynamo_calls.operations == EXPECTED[name], name
        assert external_calls.last == EXPECTED_EXTERNAL.get(name, []), name
        return answer

    magic = {"userId": "unique()", "email": "ada@example.com", "url": "http://localhost:3000/m"}
    user_id = check("create_magic_url_token", api("create_magic_url_token", magic)).body["userId"]
    session = check(
        "create_session", api("create_session", {"userId": user_id, "secret": _link_secret(sent, magic["email"])})
    )
    for alias, address in (("update_magic_url_session", "b@example.com"), ("update_phone_session", "c@example.com")):
        user_id = api("create_magic_url_token", {**magic, "email": address}).body["userId"]
        check(alias, api(alias, {"userId": user_id, "secret": _link_secret(sent, address)}))
    credential = session.credential
    assert api("update_email", {"email": "d@example.com", "password": ""}, session=credential).status == 200
    check("create_email_verification_otp", api("create_email_verification_otp", {}, session=credential))
    body = {"userId": user_id_of(credential), "secret": sent.code("d@example.com")}
    check("update_email_verification_otp", api("update_email_verification_otp", body))
    check("create_anonymous_session", api("create_anonymous_session", {}))


def test_round_trips_per_recovery_endpoint(api, sent, dynamo_calls, external_calls, user_id_of):
    """Known and unknown emails cost the same calls; only the known one sends."""
    api.sign_up()
    session = api.session_for()
    user_id = user_id_of(session)
    assert api("create_email_verification", {"url": "http://localhost:3000/v"}, session=session).status == 201
    assert api("update_email_verification", {"userId": user_id, "secret": _link_secret(sent, "ada@example.com")})
    lift_cooldowns()

    def check(name: str, answer: Any, external: list[str] | None = None) -> None:
        assert answer.status < 300, (name, answer.body)
        assert dynamo_calls.operations == EXPECTED[name], name
        assert external_calls.last == (EXPECTED_EXTERNAL[name] if external is None else external), name

    link = {"url": "http://localhost:3000/reset"}
    check("create_recovery", api("create_recovery", {"email": "ada@example.com", **link}))
    secret = _link_secret(sent, "ada@example.com")
    check("update_recovery", api("update_recovery", {"userId": user_id, "secret": secret, "password": "x" * 12}))
    check("create_recovery", api("create_recovery", {"email": "nobody@example.com", **link}), [])
    lift_cooldowns()
    check("create_recovery_otp", api("create_recovery_otp", {"email": "ada@example.com"}))
    body = {"userId": user_id, "secret": sent.code("ada@example.com"), "password": "y" * 12}
    check("update_recovery_otp", api("update_recovery_otp", body))
    check("create_recovery_otp", api("create_recovery_otp", {"email": "nobody@example.com"}), [CODE_KEY])


def test_a_warm_container_fetches_the_code_key_once(api, sent, external_calls):
    external_calls.warm = True
    user_id = api("create_phone_token", {"userId": "unique()", "phone": PHONE}).body["userId"]
    assert external_calls.last == ["secretsmanager:GetSecretValue", "sns:Publish"]
    assert api("create_session", {"userId": user_id, "secret": sent.code(PHONE)}).status == 201
    assert external_calls.last == []


def test_failed_code_requests_stay_cheap(api, sent, dynamo_calls, external_calls):
    user_id = api("create_email_token", {"userId": "unique()", "email": "ada@example.com"}).body["userId"]
    code = sent.code("ada@example.com")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert api("create_session", {"userId": user_id, "secret": "abc"}).status == 401
    assert dynamo_calls.operations == ["TransactWriteItems"] and external_calls.last == []  # no key, no read
    assert api("create_session", {"userId": user_id, "secret": wrong}).status == 401
    # + the failure count, + the failed sign-in's log item (issue 17: the count's UpdateItem returns the
    # item when its condition fails, which a transaction item cannot do as cheaply)
    assert dynamo_calls.operations == ["TransactWriteItems", "BatchGetItem", "UpdateItem", "PutItem"]
    # The 5th wrong code burns the live codes in that same write; the burned code is refused on the read alone.
    for _ in range(users_store.BURN_AFTER - 1):
        assert api("create_session", {"userId": user_id, "secret": wrong}).status == 401
        assert dynamo_calls.operations == ["TransactWriteItems", "BatchGetItem", "UpdateItem", "PutItem"]
    assert api("create_session", {"userId": user_id, "secret": code}).status == 401
    assert dynamo_calls.operations == ["TransactWriteItems", "BatchGetItem"]  # as a spent code does
    stored = users_store.get_user(user_id)
    assert stored[users_store.PRE_AUTH.count] == 0 and users_store.PRE_AUTH.burned in stored  # burned, uncounted
    # Refused by the send cooldown: nothing is sent.
    assert api("create_email_token", {"userId": "unique()", "email": "ada@example.com"}).status == 429
    assert dynamo_calls.operations == ["GetItem", "TransactWriteItems"]
    assert external_calls.last == ["secretsmanager:GetSecretValue"]
    # A failed send: one attempt through the client, then one transaction undoing the issue.
    external_calls.failing = {"ses:SendEmail"}
    assert api("create_email_token", {"userId": "unique()", "email": "grace@example.com"}).status == 503
    assert dynamo_calls.operations == ["GetItem", "TransactWriteItems", "TransactWriteItems"]
    assert external_calls.last == ["secretsmanager:GetSecretValue", "ses:SendEmail"]


def test_unauthenticated_and_failed_requests_stay_cheap(api, dynamo_calls):
    assert api("get_account").status == 401
    assert dynamo_calls.operations == []  # no credential: no DynamoDB call at all
    api.sign_up()
    assert api.sign_in(password="wrong password").status == 401
    assert dynamo_calls.operations == ["UpdateItem", "GetItem", "PutItem"]  # + the failed sign-in's log item
    assert api.sign_in("nobody@example.com").status == 401
    assert dynamo_calls.operations == ["UpdateItem", "TransactWriteItems"]  # unknown email: no user, no log item


# --- MFA (issue 4) --------------------------------------------------------------------------------

TOTP = {"type": "totp"}


def _walk_mfa(
    api, sent, step: Callable[[str, Any], Any], email: str = "mfa@example.com", phone: str = "+14155552677"
) -> dict[str, str]:
    """Every MFA function along its success path, as the guide goes: verified email and phone, recovery
    codes, an authenticator and MFA on; then a password sign-in finished by each factor in turn; then,
    right after a challenge, the actions that need one. `step(name, answer)` sees each MFA_STEPS answer."""
    api.sign_up(email)
    credential = api.session_for(email)
    user_id = decode_credential(credential)[0]
    assert api("create_email_verification", {"url": "http://localhost:3000/v"}, session=credential).status == 201
    assert api("update_email_verification", {"userId": user_id, "secret": _link_secret(sent, email)}).status == 200
    assert api("update_phone", {"phone": phone, "password": PASSWORD}, session=credential).status == 200
    assert api("create_phone_verification", {}, session=credential).status == 201
    assert api("update_phone_verification", {"userId": user_id, "secret": sent.code(phone)}).status == 200
    lift_cooldowns()  # the verification messages went to the same addresses a moment ago

    step("list factors", api("list_mfa_factors", session=credential))
    recovery = step("create recovery codes", api("create_mfa_recovery_codes", {}, session=credential))
    recovery_codes = recovery.body["recoveryCodes"]
    created = step("create authenticator", api("create_mfa_authenticator", {}, session=credential, path=TOTP))
    secret = created.body["secret"]
    otp = {"otp": totp(secret)}
    step("verify authenticator", api("update_mfa_authenticator", otp, session=credential, path=TOTP))
    step("mfa on", api("update_mfa", {"mfa": True}, session=credential))
    codes = {
        "email": lambda: sent.code(email),
        "phone": lambda: sent.code(phone),
        "totp": lambda: totp(secret, offset_steps=1),  # the current step was spent verifying the authenticator
        "recoveryCode": lambda: recovery_codes[0],
    }
    for factor, code in codes.items():
        session = api.session_for(email)  # a password session: one factor short
        challenge = step(f"{factor} challenge", api("create_mfa_challenge", {"factor": factor}, session=session))
        body = {"challengeId": challenge.body["$id"], "otp": code()}
        step(f"{factor} completed", api("update_mfa_challenge", body, session=session))
    # `session` has just completed a challenge: the actions that need a recent one.
    shown = step("get recovery codes", api("get_mfa_recovery_codes", session=session)).body["recoveryCodes"]
    assert shown == recovery_codes[1:]  # the unused ones
    step("regenerate recovery codes", api("update_mfa_recovery_codes", {}, session=session))
    step("delete authenticator", api("delete_mfa_authenticator", session=session, path=TOTP))
    step("mfa off", api("update_mfa", {"mfa": False}, session=session))
    return {"userId": user_id, "session": session}


def _succeeds(name: str, answer: Any) -> Any:
    assert answer.status < 300, (name, answer.body)
    return answer


def _succeeds_or_redirects(name: str, answer: Any) -> Any:
    """The OAuth2 browser flows answer 302 on their success path."""
    assert answer.status < 300 or (answer.status == 302 and "error=" not in answer.header("location")), (
        name,
        answer.body,
    )
    return answer


def test_round_trips_per_mfa_endpoint(api, sent, dynamo_calls, external_calls):
    walked = []

    def step(name: str, answer: Any) -> Any:
        function, dynamodb, external = MFA_STEPS[name]
        _succeeds(name, answer)
        assert external_calls.function == function, name
        assert (name, dynamo_calls.operations) == (name, dynamodb)
        assert (name, external_calls.last) == (name, external)
        walked.append(name)
        return answer

    user = _walk_mfa(api, sent, step)
    assert walked == list(MFA_STEPS)
    # Every KMS call names the deployment's key and binds the secret to its user.
    key_id = FUNCTIONS["create_mfa_authenticator"].environment["KMS_KEY_ID"]
    kms_calls = sum(action.startswith("kms:") for _, _, external in MFA_STEPS.values() for action in external)
    assert external_calls.kms_requests == [{"KeyId": key_id, "EncryptionContext": {"userId": user["userId"]}}] * (
        kms_calls
    )
    # Each SES call of the walk delivered one email: the verification link, then the walk's codes and notices.
    emails = sum(external.count("ses:SendEmail") for _, _, external in MFA_STEPS.values())
    assert len(sent.to("mfa@example.com")) == 1 + emails
    assert len(sent.to("+14155552677")) == 1 + 1  # the verification code, the challenge code

    assert api("get_qr").status == 200  # the events/ sample: no session, nothing stored
    assert dynamo_calls.operations == EXPECTED["get_qr"] and external_calls.last == []


def test_mfa_challenges_stay_within_the_issue_budget(api, sent, dynamo_calls, external_calls):
    """Completing any challenge: at most 2 DynamoDB calls; creating an email/phone one: at most 2 and one send."""
    sends = {"ses:SendEmail", "sns:Publish"}

    def step(name: str, answer: Any) -> Any:
        _succeeds(name, answer)
        if name.endswith(" completed"):
            assert len(dynamo_calls.operations) <= 2, (name, dynamo_calls.operations)
            assert not sends & set(external_calls.last) or name == "recoveryCode completed", name
        if name in ("email challenge", "phone challenge"):
            assert len(dynamo_calls.operations) <= 2, (name, dynamo_calls.operations)
            assert len([a for a in external_calls.last if a in sends]) == 1, (name, external_calls.last)
        return answer

    _walk_mfa(api, sent, step)


def test_security_notifications_cost_one_email_only_when_due(api, sent, dynamo_calls, external_calls, user_id_of):
    """The MFA on/off notice is one SES call, only when the value changes and only to a verified address."""
    api.sign_up()  # ada@example.com, never verified
    unverified = api.session_for()
    assert api("update_mfa", {"mfa": True}, session=unverified).status == 200
    assert dynamo_calls.operations == EXPECTED["update_mfa"] and external_calls.last == []
    assert sent.count() == 0

    api.sign_up("grace@example.com")
    session = api.session_for("grace@example.com")
    assert api("create_email_verification", {"url": "http://localhost:3000/v"}, session=session).status == 201
    secret = _link_secret(sent, "grace@example.com")
    assert api("update_email_verification", {"userId": user_id_of(session), "secret": secret}).status == 200
    assert api("update_mfa", {"mfa": True}, session=session).status == 200
    assert dynamo_calls.operations == EXPECTED["update_mfa"] and external_calls.last == ["ses:SendEmail"]
    assert len(sent.to("grace@example.com")) == 2  # the link, the notice
    assert api("update_mfa", {"mfa": True}, session=session).status == 200  # unchanged: no notice
    assert dynamo_calls.operations == EXPECTED["update_mfa"] and external_calls.last == []
    assert len(sent.to("grace@example.com")) == 2


def test_failed_mfa_requests_stay_cheap(api, sent, dynamo_calls, external_calls, user_id_of):
    api.sign_up()
    session = api.session_for()
    user_id = user_id_of(session)
    assert api("create_email_verification", {"url": "http://localhost:3000/v"}, session=session).status == 201
    secret = _link_secret(sent, "ada@example.com")
    assert api("update_email_verification", {"userId": user_id, "secret": secret}).status == 200
    lift_cooldowns()
    # A sensitive action without a recent challenge: the session read, nothing else.
    assert api("get_mfa_recovery_codes", session=session).body["type"] == "user_challenge_required"
    assert dynamo_calls.operations == ["BatchGetItem"] and external_calls.last == []
    # A failed send: the challenge and its charges are undone in one more transaction.
    external_calls.failing = {"ses:SendEmail"}
    assert api("create_mfa_challenge", {"factor": "email"}, session=session).status == 503
    assert dynamo_calls.operations == ["BatchGetItem", "TransactWriteItems", "TransactWriteItems"]
    assert external_calls.last == ["secretsmanager:GetSecretValue", "ses:SendEmail"]
    external_calls.failing = set()
    challenge_id = api("create_mfa_challenge", {"factor": "email"}, session=session).body["$id"]
    code = sent.code("ada@example.com")
    body = {"challengeId": challenge_id, "otp": f"{(int(code) + 1) % 10**6:06d}"}
    # A wrong code: counted on the challenge and on the user in one write.
    assert api("update_mfa_challenge", body, session=session).status == 401
    assert dynamo_calls.operations == ["BatchGetItem", "TransactWriteItems"]
    assert external_calls.last == ["secretsmanager:GetSecretValue"]
    # A malformed code: no key fetched; it uses one of the challenge's attempts (no user failure).
    assert api("update_mfa_challenge", {**body, "otp": "12345"}, session=session).status == 401
    assert dynamo_calls.operations == ["BatchGetItem", "UpdateItem"] and external_calls.last == []
    # An unknown challenge: refused on the read.
    assert api("update_mfa_challenge", {**body, "challengeId": "nope"}, session=session).status == 401
    assert dynamo_calls.operations == ["BatchGetItem"] and external_calls.last == []
    # A wrong TOTP code verifying an authenticator: the secret decrypted once, the failure counted once.
    secret = api("create_mfa_authenticator", {}, session=session, path=TOTP).body["secret"]
    wrong = f"{(int(totp(secret)) + 500_000) % 10**6:06d}"
    assert api("update_mfa_authenticator", {"otp": wrong}, session=session, path=TOTP).status == 401
    assert dynamo_calls.operations == ["BatchGetItem", "UpdateItem"] and external_calls.last == ["kms:Decrypt"]


def _allowed_actions(function_name: str) -> set[str]:
    actions: set[str] = set()
    for policy in FUNCTIONS[function_name].policies:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions |= {a.removeprefix("dynamodb:") for a in listed if a.startswith("dynamodb:")}
    return actions


def _allowed_external_actions(function_name: str) -> set[str]:
    """The actions on other services that the function's policies allow (Deny statements narrow them)."""
    actions: set[str] = set()
    for policy in FUNCTIONS[function_name].policies:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if statement.get("Effect") != "Allow":
                continue
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions |= {a for a in listed if not a.startswith("dynamodb:")}
    return actions


def _exercise_sign_in(api, sent, exchange: str, email: str) -> None:
    """Sign-in by code through `exchange` (POST /account/sessions/token or a deprecated alias): a wrong code (the
    failure count), a sign-in that loses a race (the profile re-read), a signed-in caller, and a first proof of a
    signed-up address, which ends the sessions made before it (their items are deleted)."""
    user_id = api("create_email_token", {"userId": "unique()", "email": email}).body["userId"]
    code = sent.code(email)
    assert api(exchange, {"userId": user_id, "secret": f"{(int(code) + 1) % 10**6:06d}"}).status == 401
    racing = {"left": 1}

    def concurrent_sign_in(params: dict[str, Any], **_: Any) -> None:
        if racing["left"] and any("Put" in item for item in params.get("TransactItems", [])):
            racing["left"] = 0
            users_store.update_user(user_id, {"sessionsRev": 5})

    table_client().meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", concurrent_sign_in)
    try:
        session = api(exchange, {"userId": user_id, "secret": code})
    finally:
        table_client().meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems", concurrent_sign_in)
    assert session.status == 201 and racing["left"] == 0
    assert api(exchange, {"userId": user_id, "secret": code}, session=session.credential).status == 401
    proof = f"proof-{email}"
    api.sign_up(proof)
    api.session_for(proof)
    proof_id = api("create_email_token", {"userId": "unique()", "email": proof}).body["userId"]
    assert api(exchange, {"userId": proof_id, "secret": sent.code(proof)}).status == 201


def _exercise_code_functions(api, sent, external_calls) -> None:
    """Every code function through its success path and the failure paths that need other actions:
    a failed send (the withdrawal deletes), a wrong code (the failure count), a sign-in that loses a
    race (the profile re-read)."""
    email, phone = "codes@example.com", "+14155552679"
    external_calls.failing = {"ses:SendEmail", "sns:Publish"}
    assert api("create_email_token", {"userId": "unique()", "email": email}).status == 503
    assert api("create_phone_token", {"userId": "unique()", "phone": phone}).status == 503
    external_calls.failing = set()
    for exchange in ("create_session", "update_magic_url_session", "update_phone_session"):
        _exercise_sign_in(api, sent, exchange, f"{exchange}@example.com")
    external_calls.failing = {"ses:SendEmail"}
    magic = {"userId": "unique()", "email": "magic@example.com", "url": "http://localhost:3000/m"}
    assert api("create_magic_url_token", magic).status == 503
    external_calls.failing = set()
    assert api("create_magic_url_token", magic).status == 201

    email = "verify@example.com"  # a user whose email no code has verified yet
    api.sign_up(email)
    credential = api.session_for(email)
    user_id = decode_credential(credential)[0]
    external_calls.failing = {"ses:SendEmail"}
    verification = {"url": "http://localhost:3000/v"}
    assert api("create_email_verification", verification, session=credential).status == 503
    external_calls.failing = set()
    assert api("create_email_verification", verification, session=credential).status == 201
    assert api("update_email_verification", {"userId": user_id, "secret": "wrong"}).status == 401
    secret = _link_secret(sent, email)
    assert api("update_email_verification", {"userId": user_id, "secret": secret}).status == 200

    assert api("update_phone", {"phone": phone, "password": PASSWORD}, session=credential).status == 200
    external_calls.failing = {"sns:Publish"}
    assert api("create_phone_verification", {}, session=credential).status == 503
    external_calls.failing = set()
    assert api("create_phone_verification", {}, session=credential).status == 201
    code = sent.code(phone)
    assert (
        api("update_phone_verification", {"userId": user_id, "secret": f"{(int(code) + 1) % 10**6:06d}"}).status == 401
    )
    assert api("update_phone_verification", {"userId": user_id, "secret": code}).status == 200
    assert api("create_phone_token", {"userId": "unique()", "phone": "+14155552678"}).status == 201
    # Changing away from a verified address tells it: an email, an SMS (API.md §7).
    assert api("update_email", {"email": "moved@example.com", "password": PASSWORD}, session=credential).status == 200
    assert api("update_phone", {"phone": "+14155552675", "password": PASSWORD}, session=credential).status == 200
    lift_cooldowns()  # the notice went to the old address a moment ago; the code goes to the new one
    external_calls.failing = {"ses:SendEmail"}
    assert api("create_email_verification_otp", {}, session=credential).status == 503
    external_calls.failing = set()
    assert api("create_email_verification_otp", {}, session=credential).status == 201
    code = sent.code("moved@example.com")
    wrong = {"userId": user_id, "secret": f"{(int(code) + 1) % 10**6:06d}"}
    assert api("update_email_verification_otp", wrong).status == 401
    assert api("update_email_verification_otp", {"userId": user_id, "secret": code}).status == 200
    anonymous = api("create_anonymous_session", {}).credential
    assert api("create_anonymous_session", {}, session=anonymous).status == 401


def _exercise_recovery_functions(api, sent, external_calls) -> None:
    """Recovery through a failed send (the withdrawal deletes), a wrong code (the failure count) and resets
    that end sessions (their Deletes) and tell a verified address."""
    email = "recover@example.com"
    api.sign_up(email)
    credential = api.session_for(email)
    user_id = decode_credential(credential)[0]
    assert api("create_email_verification", {"url": "http://localhost:3000/v"}, session=credential).status == 201
    assert api("update_email_verification", {"userId": user_id, "secret": _link_secret(sent, email)}).status == 200
    lift_cooldowns()
    link = {"email": email, "url": "http://localhost:3000/reset"}
    external_calls.failing = {"ses:SendEmail"}
    assert api("create_recovery", link).status == 503
    assert api("create_recovery_otp", {"email": email}).status == 503
    external_calls.failing = set()
    assert api("create_recovery", link).status == 201
    body = {"userId": user_id, "secret": _link_secret(sent, email), "password": "x" * 12}
    assert api("update_recovery", body).status == 200
    lift_cooldowns()
    assert api.sign_in(email, "x" * 12).status == 201  # a session for the code reset to end
    assert api("create_recovery_otp", {"email": email}).status == 201
    code = sent.code(email)
    body = {"userId": user_id, "secret": f"{(int(code) + 1) % 10**6:06d}", "password": "y" * 12}
    assert api("update_recovery_otp", body).status == 401
    assert api("update_recovery_otp", {**body, "secret": code}).status == 200


def _exercise_mfa_functions(api, sent, external_calls) -> None:
    """Every MFA function through its success path (_walk_mfa), and the failed send that undoes a challenge."""
    session = _walk_mfa(api, sent, _succeeds, email="mfa-iam@example.com", phone="+14155552676")["session"]
    lift_cooldowns()
    external_calls.failing = {"ses:SendEmail"}
    assert api("create_mfa_challenge", {"factor": "email"}, session=session).status == 503
    external_calls.failing = set()


def test_policies_grant_exactly_what_the_handlers_use(api, sent, external_calls, user_id_of, idp):
    """Run every handler through its paths, then compare the DynamoDB actions used with the template's policies."""
    api.sign_up()
    session, other = api.session_for(), api.session_for()
    api("create_email_password_session", session=session)  # the session-already-exists check
    other_id = api("get_session", session=other, path={"sessionId": "current"}).body["$id"]
    for name, body, path in [
        ("get_account", None, None),
        ("get_prefs", None, None),
        ("update_name", {"name": "A"}, None),
        ("update_prefs", {"prefs": {}}, None),
        ("update_email", {"email": "n@example.com", "password": PASSWORD}, None),
        ("update_phone", {"phone": "+14155552671", "password": PASSWORD}, None),
        ("list_sessions", None, None),
        ("get_session", None, {"sessionId": "current"}),
        ("update_session", None, {"sessionId": "current"}),
        ("delete_session", None, {"sessionId": other_id}),
        ("update_password", {"password": "new password 123", "oldPassword": PASSWORD}, None),
        ("list_logs", None, None),
        ("delete_sessions", None, None),
    ]:
        assert api(name, body, session=session, path=path).status < 300, name
    for _ in range(10):  # fill the session cap so that sign-in evicts
        api.sign_in("n@example.com", "new password 123")
    _exercise_jwt_functions(api, user_id_of)
    api.sign_up("blocked@example.com")
    assert api("update_status", {}, session=api.session_for("blocked@example.com")).status == 200
    _exercise_code_functions(api, sent, external_calls)
    _exercise_recovery_functions(api, sent, external_calls)
    _exercise_mfa_functions(api, sent, external_calls)
    lift_rate_limits()  # more sign-ups than one address may make in an hour
    walk_admin(api, sent, _succeeds)
    lift_rate_limits()
    walk_passkeys(api, sent, _succeeds)
    key = key_headers()
    for _ in range(11):  # past the session cap: a server-made session evicts the oldest
        assert api("users_create_session", {}, path={"userId": user_id_of(session)}, headers=key).status == 201
    walk_oauth(api, idp, _succeeds_or_redirects, key)
    for name, used in api.actions_by_function.items():
        assert used <= _allowed_actions(name), f"{name} uses {used - _allowed_actions(name)} beyond its policy"
    assert set(api.actions_by_function) == {name for name in FUNCTIONS if _allowed_actions(name)}
    for name in CODE_FUNCTIONS | MFA_FUNCTIONS | ADMIN_FUNCTIONS | OAUTH_FUNCTIONS:  # every action granted is needed
        assert api.actions_by_function[name] == _allowed_actions(name), name
    # SES, SNS, Secrets Manager and KMS: granted to exactly the functions that call them, and only what they call.
    for name in FUNCTIONS:
        used = external_calls.by_function.get(name, set())
        assert used == _allowed_external_actions(name), f"{name} calls {sorted(used)}"
    assert {name for name in FUNCTIONS if _allowed_external_actions(name)} == (
        CODE_FUNCTIONS - {"update_email_verification"}  # a link secret is hashed without the code key
    ) | {function for function, _, external in MFA_STEPS.values() if external} | {
        function for function, (_, external) in ADMIN_STEPS.items() if external
    } | {"update_email", "update_phone"} | JWT_SIGNERS | {  # the notice to the old address; the JWT signers
        function for function, _, external in PASSKEY_STEPS.values() if external
    } | {"create_oauth2_session", "create_oauth2_token", "oauth2_callback"}  # the state's keyed hash, the client secret


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_function_gets_wildcard_dynamodb_rights(name):
    assert not any(a in ("*", "dynamodb:*") for a in _allowed_actions(name))


def test_kms_rights_are_encrypt_or_decrypt_on_the_application_key():
    """kms:Encrypt where a secret is sealed, kms:Decrypt where one is read, each on the template's Key only."""
    key_arn = template.Resolver(TEMPLATE, template.DEV_PARAMETERS).resolve({"Fn::GetAtt": ["Key", "Arn"]})
    granted: dict[str, set[str]] = {}
    for name in set(FUNCTIONS) - JWT_SIGNERS:  # see test_jwt_signers_may_only_sign_with_the_jwt_key
        for policy in FUNCTIONS[name].policies:
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                kms = {action for action in listed if action.lower().startswith("kms:")}
                if kms:
                    assert statement["Effect"] == "Allow" and set(listed) == kms, (name, statement)
                    assert statement["Resource"] == key_arn, (name, statement)
                    granted.setdefault(name, set()).update(kms)
    used: dict[str, set[str]] = {}
    steps = [(function, external) for function, _, external in MFA_STEPS.values()]
    for function, external in steps + [(function, external) for function, (_, external) in ADMIN_STEPS.items()]:
        if kms_used := {action for action in external if action.startswith("kms:")}:
            used.setdefault(function, set()).update(kms_used)
    assert granted == used
    assert set().union(*granted.values()) == {"kms:Encrypt", "kms:Decrypt"}


def test_the_qr_function_has_no_rights():
    assert FUNCTIONS["get_qr"].policies == []


# --- server API keys (issue 9) --------------------------------------------------------------------

KEY_CHECK = ["UpdateItem"]  # reads the key and counts the request on it in one call
# The Users API: the key check, then the user's profile (GetItem) or profile and sessions (Query), then
# at most one write. External calls from a fresh container: notices of MFA resets (the user's email is
# verified), KMS and the code key for recovery codes.
ADMIN_STEPS: dict[str, tuple[list[str], list[str]]] = {
    "users_get": ([*KEY_CHECK, "GetItem"], []),
    "users_list_mfa_factors": ([*KEY_CHECK, "GetItem"], []),
    "users_list_sessions": ([*KEY_CHECK, "Query"], []),
    "users_get_mfa_recovery_codes": ([*KEY_CHECK, "GetItem"], [DECRYPT, CODE_KEY]),
    # Issue 17: each change of factors writes the user's log item (mode "admin") in the same write.
    "users_update_mfa_recovery_codes": ([*KEY_CHECK, "GetItem", "TransactWriteItems"], [CODE_KEY, ENCRYPT, NOTIFY]),
    "users_update_mfa": ([*KEY_CHECK, "GetItem", "TransactWriteItems"], [NOTIFY]),
    "users_delete_mfa_authenticator": ([*KEY_CHECK, "GetItem", "TransactWriteItems"], [NOTIFY]),
    "users_create_mfa_recovery_codes": ([*KEY_CHECK, "GetItem", "TransactWriteItems"], [CODE_KEY, ENCRYPT]),
    "users_delete_session": ([*KEY_CHECK, "Query", "TransactWriteItems"], []),
    "users_delete_sessions": ([*KEY_CHECK, "Query", "TransactWriteItems"], []),
    "users_create": ([*KEY_CHECK, "TransactWriteItems"], []),  # profile + email index
    "users_list": ([*KEY_CHECK, "Scan"], []),  # every profile: see store/users.scan_profiles
    "users_update_email_verification": ([*KEY_CHECK, "UpdateItem"], []),  # no read: the update's condition
    "users_update_phone_verification": ([*KEY_CHECK, "UpdateItem"], []),
    "users_create_session": ([*KEY_CHECK, "GetItem", "TransactWriteItems"], []),
    # Issue 17: blocking ends every session (else an unblock revives them, a thief's too) with the log item in
    # one transaction; the sessions come from one query (was one UpdateItem).
    "users_update_status": ([*KEY_CHECK, "Query", "TransactWriteItems"], []),
    "users_list_logs": ([*KEY_CHECK, "GetItem", "Query"], []),  # 404 for an unknown user, then the log
    # profile + index items in one transaction, then the rest of the partition
    "users_delete": ([*KEY_CHECK, "GetItem", "TransactWriteItems", "Query", "BatchWriteItem"], []),
}
ADMIN_FUNCTIONS = set(ADMIN_STEPS)
EXPECTED.update({function: calls for function, (calls, _) in ADMIN_STEPS.items()})  # for bench/report.py too


def test_a_server_key_adds_one_call_only_when_presented(api, sent, dynamo_calls):
    from authcore.services.apikeys import create_key

    key = {"X-Appwrite-Key": create_key("ssr", ["sessions.write"])[1]}
    api.sign_up()
    body = {"email": "ada@example.com", "password": PASSWORD}
    assert api("create_email_password_session", body, headers=key).status == 201
    assert dynamo_calls.operations == KEY_CHECK + EXPECTED["create_email_password_session"]
    user_id = api("create_email_token", {"userId": "unique()", "email": "grace@example.com"}).body["userId"]
    answer = api("create_session", {"userId": user_id, "secret": sent.code("grace@example.com")}, headers=key)
    assert answer.status == 201 and dynamo_calls.operations == KEY_CHECK + EXPECTED["create_session"]


def test_round_trips_per_users_api_endpoint(api, sent, dynamo_calls, external_calls):
    walked = []

    def step(function: str, answer: Any) -> Any:
        _succeeds(function, answer)
        assert external_calls.function == function
        assert (function, dynamo_calls.operations, external_calls.last) == (function, *ADMIN_STEPS[function])
        walked.append(function)
        return answer

    walk_admin(api, sent, step)
    assert sorted(walked) == sorted(ADMIN_STEPS)


def test_users_read_functions_may_update_only_the_key_item():
    """A read route writes only its key's rate-limit count: its UpdateItem is limited to APIKEY# items."""
    readers = {
        name for name, (calls, _) in ADMIN_STEPS.items() if not {"UpdateItem", "TransactWriteItems"} & set(calls[1:])
    }
    assert readers == {
        "users_get",
        "users_list",
        "users_list_mfa_factors",
        "users_list_sessions",
        "users_get_mfa_recovery_codes",
        "users_list_logs",
    }
    for name in readers:
        statements = [s for policy in FUNCTIONS[name].policies for s in policy.get("Statement", [])]
        updates = [s for s in statements if "dynamodb:UpdateItem" in s["Action"]]
        assert len(updates) == 1 and updates[0]["Action"] == ["dynamodb:UpdateItem"], name
        assert updates[0]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["APIKEY#*"]}}, name


# --- JWTs (API.md §8) -----------------------------------------------------------------------------

JWT_SIGNERS = {"create_jwt", "users_create_jwt"}
# A JWT as the credential costs one round trip more than a session credential: the profile with the key set
# (the session is found by its id through the profile's session map), then the route's own reads.
JWT_FIRST = ["BatchGetItem"]
# Minting: the session (or the key check and the user's sessions); from a fresh container also the signing
# key's publication (an UpdateItem that writes only if the key is not yet published), every 5 minutes.
JWT_STEPS = {
    "create_jwt": (["BatchGetItem", "UpdateItem"], ["BatchGetItem"], ["kms:GetPublicKey", "kms:Sign"], ["kms:Sign"]),
    "users_create_jwt": (
        [*KEY_CHECK, "Query", "UpdateItem"],
        [*KEY_CHECK, "Query"],
        ["kms:GetPublicKey", "kms:Sign"],
        ["kms:Sign"],
    ),
}


def _exercise_jwt_functions(api, user_id_of) -> None:
    """The JWT functions along their success paths, and a JWT on every route that reads all sessions."""
    from authcore.services import jwts

    jwts._signer = None
    api.sign_up("jwt@example.com")
    session = api.session_for("jwt@example.com")
    token = api("create_jwt", {}, session=session).body["jwt"]
    jwts._signer = None  # another function: a container of its own
    assert api("users_create_jwt", {}, path={"userId": user_id_of(session)}, headers=key_headers()).status == 201
    assert api("get_jwks").status == 200
    other = api.session_for("jwt@example.com")
    other_id = api("get_session", session=other, path={"sessionId": "current"}).body["$id"]
    for name, path in [
        ("list_sessions", None),
        ("get_session", {"sessionId": "current"}),
        ("update_session", {"sessionId": "current"}),
        ("delete_session", {"sessionId": other_id}),
        ("delete_sessions", None),
    ]:
        assert api(name, None, headers={"X-Appwrite-JWT": token}, path=path).status < 300, name


def test_round_trips_per_jwt_route(api, dynamo_calls, external_calls, user_id_of):
    from authcore.services import jwts

    jwts._signer = None
    api.sign_up()
    session = api.session_for()
    requests = {"create_jwt": {"session": session}, "users_create_jwt": {"path": {"userId": user_id_of(session)}}}
    requests["users_create_jwt"]["headers"] = key_headers()
    for name, (cold, warm, cold_external, warm_external) in JWT_STEPS.items():
        jwts._signer = None  # a fresh container: the signing key resolved and published
        assert api(name, {}, **requests[name]).status == 201
        assert (dynamo_calls.operations, external_calls.last) == (cold, cold_external), name
        external_calls.warm = True  # a warm one: the session read and one KMS Sign
        token = api(name, {}, **requests[name]).body["jwt"]
        assert (dynamo_calls.operations, external_calls.last) == (warm, warm_external), name
        external_calls.warm = False
    for name, expected in EXPECTED.items():
        if name in ("get_account", "get_prefs", "list_sessions", "get_session", "list_mfa_factors"):
            assert api(name, None, headers={"X-Appwrite-JWT": token}, path={"sessionId": "current"}).status == 200
            assert dynamo_calls.operations == JWT_FIRST + expected, name
            assert external_calls.last == [], name  # verified with the key set read from the table: no KMS
    assert api("get_jwks").status == 200 and dynamo_calls.operations == ["GetItem"]
    assert api("get_openid_configuration").status == 200 and dynamo_calls.operations == []


def test_jwt_signers_may_only_sign_with_the_jwt_key():
    resolver = template.Resolver(TEMPLATE, template.DEV_PARAMETERS)
    jwt_key = resolver.resolve({"Fn::GetAtt": ["JwtKey", "Arn"]})
    for name in JWT_SIGNERS:
        statements = [s for policy in FUNCTIONS[name].policies for s in policy.get("Statement", [])]
        kms = [s for s in statements if any(a.startswith("kms:") for a in s["Action"])]
        assert [(s["Action"], s["Resource"]) for s in kms] == [(["kms:GetPublicKey", "kms:Sign"], jwt_key)], name
        writes = [s for s in statements if "dynamodb:UpdateItem" in s["Action"]]
        assert all("JWKS" in s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] for s in writes), name
    assert FUNCTIONS["get_openid_configuration"].policies == []


# --- passkeys (issue 19) ----------------------------------------------------------------------------

# step -> (function, DynamoDB calls, calls to other services). Sessions: the session with its user (and the
# registration or challenge) in one read, then at most one write. A sign-in challenge names no user: its
# first call consumes it (DeleteItem returning it), the second reads the user its credential names, the
# third stores the token (a keyed hash, as codes and links: the code key) with the passkey's new counter. The
# token's exchange costs what a code's does. Notices: one email each for a passkey added or removed.
PASSKEY_STEPS: dict[str, tuple[str, list[str], list[str]]] = {
    "create": ("create_passkey", ["BatchGetItem", "TransactWriteItems"], []),  # the user's limit + the registration
    "verify": ("update_passkey_verification", ["BatchGetItem", "TransactWriteItems"], [NOTIFY]),
    "list": ("list_passkeys", ["BatchGetItem"], []),  # the passkeys ride on the profile
    "get": ("get_passkey", ["BatchGetItem"], []),
    "rename": ("update_passkey", ["BatchGetItem", "UpdateItem"], []),
    "sign-in challenge": ("create_passkey_token", ["TransactWriteItems"], []),  # the ip's limit + the challenge
    "sign-in": ("update_passkey_token", ["DeleteItem", "GetItem", "TransactWriteItems"], [CODE_KEY]),
    "session": ("create_session", EXPECTED["create_session"], [CODE_KEY]),
    "mfa challenge": ("create_mfa_challenge", EXPECTED["create_mfa_challenge"], []),
    "mfa completed": ("update_mfa_challenge", EXPECTED["update_mfa_challenge"], []),
    "delete": ("delete_passkey", ["BatchGetItem", "UpdateItem"], [NOTIFY]),
    "users_list_passkeys": ("users_list_passkeys", [*KEY_CHECK, "GetItem"], []),
    "users_get_passkey": ("users_get_passkey", [*KEY_CHECK, "GetItem"], []),
    "users_update_passkey": ("users_update_passkey", [*KEY_CHECK, "GetItem", "UpdateItem"], []),
    "users_delete_passkey": ("users_delete_passkey", [*KEY_CHECK, "GetItem", "UpdateItem"], [NOTIFY]),
}
PASSKEY_FUNCTIONS = {function for function, _, _ in PASSKEY_STEPS.values()} - {
    "create_session",
    "create_mfa_challenge",
    "update_mfa_challenge",
}
EXPECTED.update({function: calls for function, calls, _ in PASSKEY_STEPS.values() if function in PASSKEY_FUNCTIONS})


def test_round_trips_per_passkey_endpoint(api, sent, dynamo_calls, external_calls):
    walked = []

    def step(name: str, answer: Any) -> Any:
        function, dynamodb, external = PASSKEY_STEPS[name]
        _succeeds(name, answer)
        assert external_calls.function == function, name
        assert (name, dynamo_calls.operations, external_calls.last) == (name, dynamodb, external)
        walked.append(name)
        return answer

    walk_passkeys(api, sent, step)
    assert walked == list(PASSKEY_STEPS)


def test_refused_passkeys_stay_cheap(api, dynamo_calls, external_calls):
    """A sign-in challenge that is unknown, used or expired: the one DeleteItem that would consume it. A
    refused registration: the read, then the delete that ends it."""
    body = {"challengeId": "unknown", "credential": {}}
    assert api("update_passkey_token", body).status == 401
    assert dynamo_calls.operations == ["DeleteItem"] and external_calls.last == []
    api.sign_up()
    session = api.session_for()
    passkey_id = api("create_passkey", {}, session=session).body["passkeyId"]
    refused = api("update_passkey_verification", {"credential": {}}, session=session, path={"passkeyId": passkey_id})
    assert refused.status == 401
    assert dynamo_calls.operations == ["BatchGetItem", "DeleteItem"]


def test_users_read_passkey_functions_may_update_only_the_key_item():
    for name in ("users_list_passkeys", "users_get_passkey"):
        statements = [s for policy in FUNCTIONS[name].policies for s in policy.get("Statement", [])]
        updates = [s for s in statements if "dynamodb:UpdateItem" in s["Action"]]
        assert len(updates) == 1 and updates[0]["Action"] == ["dynamodb:UpdateItem"], name
        assert updates[0]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["APIKEY#*"]}}, name


# Social sign-in (issue 20). Starting: the per-ip limit, the state. The callback: the state taken (a
# conditional delete), the identity's index; for a first sign-in the email's index, then identity and user in
# one transaction; for a returning user the profile. Then the session (session flow) or the token (token
# flow). Exchanging the token: the limits of POST /account/sessions/token, the profile with the token (one
# lookup for codes, links and tokens), the token taken, the session. A native ID token: the ip limit, the
# token recorded as used, then as the callback.
OAUTH_EXPECTED = {
    "create_oauth2_session": ["UpdateItem", "PutItem"],
    "create_oauth2_token": ["UpdateItem", "PutItem"],
    "oauth2_callback": ["DeleteItem", "GetItem", "GetItem", "TransactWriteItems", "TransactWriteItems"],
    "create_id_token_session": [
        "UpdateItem",
        "PutItem",
        "GetItem",
        "GetItem",
        "TransactWriteItems",
        "TransactWriteItems",
    ],
    "list_identities": ["BatchGetItem", "Query"],
    "delete_identity": ["BatchGetItem", "GetItem", "TransactWriteItems"],
    "users_list_identities": ["UpdateItem", "Scan"],
    "users_delete_identity": ["UpdateItem", "Scan", "TransactWriteItems"],
}
OAUTH_FUNCTIONS = set(OAUTH_EXPECTED)
OAUTH_RETURNING = ["DeleteItem", "GetItem", "GetItem", "TransactWriteItems"]  # the callback for a known identity
OAUTH_TOKEN_CALLBACK = ["DeleteItem", "GetItem", "GetItem", "PutItem"]
OAUTH_TOKEN_EXCHANGE = ["TransactWriteItems", "BatchGetItem", "DeleteItem", "TransactWriteItems"]
EXPECTED.update(OAUTH_EXPECTED)


def test_round_trips_of_social_sign_in(api, idp, dynamo_calls, external_calls):
    started = start(api)
    assert dynamo_calls.operations == OAUTH_EXPECTED["create_oauth2_session"]
    assert external_calls.last == ["secretsmanager:GetSecretValue"]  # the code key: the state's keyed hash
    code, state = idp.authorize(started.header("location"), {"sub": "rt", **verified("rt@example.com")})
    assert callback(api, code, state, started).status == 302
    assert dynamo_calls.operations == OAUTH_EXPECTED["oauth2_callback"]
    assert external_calls.last == ["secretsmanager:GetSecretValue", "secretsmanager:GetSecretValue"]  # key, client
    _, again = social_sign_in(api, idp, "rt")
    assert again.status == 302 and dynamo_calls.operations == OAUTH_RETURNING
    started = start(api, "create_oauth2_token")
    assert dynamo_calls.operations == OAUTH_EXPECTED["create_oauth2_token"]
    code, state = idp.authorize(started.header("location"), {"sub": "rt"})
    answer = callback(api, code, state, started)
    assert dynamo_calls.operations == OAUTH_TOKEN_CALLBACK
    query = {k: v[0] for k, v in parse_qs(urlsplit(answer.header("location")).query).items()}
    assert api("create_session", {"userId": query["userId"], "secret": query["secret"]}).status == 201
    assert dynamo_calls.operations == OAUTH_TOKEN_EXCHANGE
