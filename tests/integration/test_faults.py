"""Fault injection on every write path: each AWS call of each write endpoint fails in turn (throttled,
a server error, a timeout, unreachable), and then:

(a) the answer is a clean API.md §2 error body (500 general_server_error, or the 503 of a message
    that could not be sent), never an exception out of the handler, never a misleading 4xx;
(b) no half-written state remains: the table is as it was (only charged limits may stay charged),
    nothing was sent, and the invariants of faults.check_invariants hold;
(c) the same request, sent again once the fault is gone, succeeds and does what it says.

A fault the request absorbs (a write retried, a security notification not sent) must leave it a
full success. `test_the_calls_of_a_successful_request` records each write path's AWS calls, so a
change to a path shows up there instead of silently moving the faults.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import PASSWORD, Answer, lift_cooldowns, table_items
from .faults import FAULTS, Injector, check_invariants, durable_state, faults_for, install, restore, snapshot
from .mfa_fixtures import (
    EMAIL,
    PHONE,
    TotpClock,
    add_phone,
    challenge,
    complete,
    complete_totp_challenge,
    create_authenticator,
    create_recovery_codes,
    enrol_totp,
    sign_up_and_in,
    verify_authenticator,
    verify_email,
    verify_phone,
)

pytestmark = pytest.mark.usefixtures("steady_rate_window")

NEW_EMAIL = "grace@example.com"
NEW_PHONE = "+14155552672"
NEW_PASSWORD = "a brand new password"
URL = "http://localhost:3000/verify"
ERROR_KEYS = {"message", "code", "type", "version"}
UNSENT = {"sesv2": "general_smtp_disabled", "sns": "general_phone_disabled"}


@dataclass
class World:
    api: Any
    sent: Any
    clock: TotpClock


Context = dict[str, Any]


@dataclass(frozen=True)
class WritePath:
    """One write endpoint: its setup, its request, its success status, the AWS calls a successful
    request makes (Secrets Manager included: the code key is fetched as by a cold container), and a
    check that a success really happened."""

    setup: Callable[[World], Context]
    request: Callable[[World, Context], Answer]
    status: int
    calls: tuple[str, ...]
    check: Callable[[World, Context, Answer], None]


# --- setups --------------------------------------------------------------------------------------


def nobody(_: World) -> Context:
    return {}


def signed_up(w: World) -> Context:
    w.api.sign_up(EMAIL, userId="ada")
    return {"userId": "ada"}


def signed_in(w: World) -> Context:
    ada = sign_up_and_in(w.api)
    return {"session": ada.credential, "userId": ada.user_id}


def with_phone(w: World) -> Context:
    context = signed_in(w)
    add_phone(w.api, context["session"])
    return context


def verified_email(w: World) -> Context:
    """Signed in with a verified email, so security notifications are sent (and can fail)."""
    context = signed_in(w)
    verify_email(w.api, w.sent, context["session"])
    return context


def verified_phone(w: World) -> Context:
    context = signed_in(w)
    verify_phone(w.api, w.sent, context["session"], context["userId"])
    return context


def with_totp(w: World) -> Context:
    context = verified_email(w)
    context["secret"] = enrol_totp(w.api, context["session"], w.clock)
    return context


def _stepped_up(w: World, context: Context) -> Context:
    """A later sign-in (the authenticator is older than it) that just completed a TOTP challenge: a step-up."""
    context["session"] = w.api.session_for(EMAIL)
    complete_totp_challenge(w.api, context["session"], context["secret"], w.clock)
    return context


def after_challenge(w: World) -> Context:
    """A verified authenticator and a TOTP challenge just completed: the session may change MFA."""
    return _stepped_up(w, with_totp(w))


def mfa_on_after_challenge(w: World) -> Context:
    context = with_totp(w)
    assert w.api("update_mfa", {"mfa": True}, session=context["session"]).status == 200
    return _stepped_up(w, context)


def then(setup: Callable[[World], Context], step: Callable[[World, Context], None]) -> Callable[[World], Context]:
    """`setup`, then `step` (which adds to the context)."""

    def both(w: World) -> Context:
        context = setup(w)
        step(w, context)
        return context

    return both


def link_params(w: World, address: str = EMAIL) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(w.sent.link(address)).query).items()}


def _sign_in_code_sent(w: World, c: Context) -> None:
    assert w.api("create_email_token", {"userId": "unique()", "email": EMAIL}).status == 201
    c["code"] = w.sent.code(EMAIL)


def _email_link_sent(w: World, c: Context) -> None:
    assert w.api("create_email_verification", {"url": URL}, session=c["session"]).status == 201
    c["link"] = link_params(w)


def _phone_code_sent(w: World, c: Context) -> None:
    assert w.api("create_phone_verification", {}, session=c["session"]).status == 201
    c["code"] = w.sent.code(PHONE)


def _second_session(w: World, c: Context) -> None:
    c["other"] = w.api.session_for(EMAIL)


def _unverified_authenticator(w: World, c: Context) -> None:
    c["secret"] = create_authenticator(w.api, c["session"])["secret"]


def _recovery_codes(w: World, c: Context) -> None:
    c["codes"] = create_recovery_codes(w.api, c["session"])


def _challenge(factor: str) -> Callable[[World, Context], None]:
    def step(w: World, c: Context) -> None:
        w.clock.next_step()
        lift_cooldowns()
        c["challenge"] = challenge(w.api, c["session"], factor)
        if factor == "totp":
            c["code"] = w.clock.code(c["secret"])
        elif factor == "email":
            c["code"] = w.sent.code(EMAIL)
        else:
            c["code"] = c["codes"][0]

    return step


# --- checks that a success happened --------------------------------------------------------------


def account(w: World, session: str) -> dict[str, Any]:
    answer = w.api("get_account", session=session)
    assert answer.status == 200, answer.body
    return answer.body


def signed_out(w: World, session: str) -> None:
    assert w.api("get_account", session=session).status == 401


def sign_in_by_code(address: str, user_id: str | None = None) -> Callable[[World, Context, Answer], None]:
    """The code the answer's token sent signs its user in."""

    def check(w: World, c: Context, answer: Answer) -> None:
        user_id_ = user_id or answer.body["userId"]
        session = w.api("create_session", {"userId": user_id_, "secret": w.sent.code(address)})
        assert session.status == 201, session.body
        assert account(w, session.credential)["$id"] == user_id_

    return check


def factors_of_session(w: World, session: str) -> list[str]:
    answer = w.api("get_session", session=session, path={"sessionId": "current"})
    assert answer.status == 200, answer.body
    return answer.body["factors"]


def mfa_factors(w: World, session: str) -> dict[str, bool]:
    answer = w.api("list_mfa_factors", session=session)
    assert answer.status == 200, answer.body
    return answer.body


def session_works(w: World, _: Context, answer: Answer) -> None:
    account(w, answer.credential)


def _check_first_proof_sign_in(w: World, c: Context, answer: Answer) -> None:
    assert account(w, answer.credential)["emailVerification"] is True
    signed_out(w, c["session"])  # a first proof of the address ends the sessions made before it


def _check_password_change(w: World, c: Context, _: Answer) -> None:
    signed_out(w, c["other"])
    account(w, c["session"])
    assert w.api.sign_in(EMAIL, NEW_PASSWORD).status == 201


def _check_all_signed_out(w: World, c: Context, _: Answer) -> None:
    signed_out(w, c["session"])
    signed_out(w, c["other"])


def _check_extended(w: World, c: Context, answer: Answer) -> None:
    stored = w.api("get_session", session=c["session"], path={"sessionId": "current"})
    assert stored.status == 200 and stored.body["expire"] == answer.body["expire"], stored.body


def _check_authenticator_verifies(w: World, c: Context, answer: Answer) -> None:
    verified = verify_authenticator(w.api, c["session"], w.clock.code(answer.body["secret"]))
    assert verified.status == 200, verified.body


def _check_authenticator_verified(w: World, c: Context, _: Answer) -> None:
    assert mfa_factors(w, c["session"])["totp"] is True
    assert "totp" in factors_of_session(w, c["session"])


def _check_authenticator_removed(w: World, c: Context, _: Answer) -> None:
    assert mfa_factors(w, c["session"])["totp"] is False


def _check_new_recovery_codes(w: World, c: Context, answer: Answer) -> None:
    new = answer.body["recoveryCodes"]
    assert not set(new) & set(c.get("codes", []))
    assert complete(w.api, c["session"], challenge(w.api, c["session"], "recoverycode"), new[0]).status == 200


def _check_challenge_completes(factor: str) -> Callable[[World, Context, Answer], None]:
    def check(w: World, c: Context, answer: Answer) -> None:
        if factor == "totp":
            w.clock.next_step()
            code = w.clock.code(c["secret"])
        else:
            code = w.sent.code(EMAIL if factor == "email" else PHONE)
        completed = complete(w.api, c["session"], answer.body["$id"], code)
        assert completed.status == 200, completed.body
        assert factor in completed.body["factors"]

    return check


def _check_factor_gained(factor: str) -> Callable[[World, Context, Answer], None]:
    def check(w: World, c: Context, _: Answer) -> None:
        assert factor in factors_of_session(w, c["session"])

    return check


def _check_follow_link(w: World, c: Context, _: Answer) -> None:
    params = link_params(w)
    assert w.api("update_email_verification", {"userId": params["userId"], "secret": params["secret"]}).status == 200
    assert account(w, c["session"])["emailVerification"] is True


def _check_phone_code(w: World, c: Context, _: Answer) -> None:
    answer = w.api("update_phone_verification", {"userId": c["userId"], "secret": w.sent.code(PHONE)})
    assert answer.status == 200, answer.body
    assert account(w, c["session"])["phoneVerification"] is True


def account_shows(**fields: Any) -> Callable[[World, Context, Answer], None]:
    def check(w: World, c: Context, _: Answer) -> None:
        shown = account(w, c["session"])
        assert {k: shown[k] for k in fields} == fields

    return check


# --- the write paths -----------------------------------------------------------------------------

DB = "dynamodb."
GET, BATCH, QUERY = DB + "GetItem", DB + "BatchGetItem", DB + "Query"
UPDATE, TRANSACT = DB + "UpdateItem", DB + "TransactWriteItems"
SECRET, SEND_EMAIL, SEND_SMS = "secretsmanager.GetSecretValue", "sesv2.SendEmail", "sns.Publish"
ENCRYPT, DECRYPT = "kms.Encrypt", "kms.Decrypt"


def _session(c: Context) -> dict[str, str]:
    return {"session": c["session"]}


WRITE_PATHS: dict[str, WritePath] = {
    "sign-up": WritePath(
        nobody,
        lambda w, c: w.api("create_account", {"userId": "grace", "email": NEW_EMAIL, "password": PASSWORD}),
        201,
        (UPDATE, TRANSACT),
        lambda w, c, a: session_works(w, c, w.api.sign_in(NEW_EMAIL)),
    ),
    "password sign-in": WritePath(
        signed_up, lambda w, c: w.api.sign_in(EMAIL), 201, (UPDATE, GET, TRANSACT), session_works
    ),
    "email token, new user": WritePath(
        nobody,
        lambda w, c: w.api("create_email_token", {"userId": "grace", "email": NEW_EMAIL}),
        201,
        (GET, SECRET, TRANSACT, SEND_EMAIL),
        sign_in_by_code(NEW_EMAIL, "grace"),
    ),
    "email token, existing user": WritePath(
        signed_up,
        lambda w, c: w.api("create_email_token", {"userId": "unique()", "email": EMAIL}),
        201,
        (GET, SECRET, TRANSACT, SEND_EMAIL),
        sign_in_by_code(EMAIL, "ada"),
    ),
    "phone token, new user": WritePath(
        nobody,
        lambda w, c: w.api("create_phone_token", {"userId": "grace", "phone": NEW_PHONE}),
        201,
        (GET, SECRET, TRANSACT, SEND_SMS),
        sign_in_by_code(NEW_PHONE, "grace"),
    ),
    "phone token, existing user": WritePath(
        with_phone,
        lambda w, c: w.api("create_phone_token", {"userId": "unique()", "phone": PHONE}),
        201,
        (GET, SECRET, TRANSACT, SEND_SMS),
        sign_in_by_code(PHONE),
    ),
    "token sign-in": WritePath(
        then(signed_in, _sign_in_code_sent),
        lambda w, c: w.api("create_session", {"userId": c["userId"], "secret": c["code"]}),
        201,
        (TRANSACT, SECRET, BATCH, TRANSACT),
        _check_first_proof_sign_in,
    ),
    "email verification": WritePath(
        signed_in,
        lambda w, c: w.api("create_email_verification", {"url": URL}, **_session(c)),
        201,
        (BATCH, TRANSACT, SEND_EMAIL),
        _check_follow_link,
    ),
    "email verification, confirm": WritePath(
        then(signed_in, _email_link_sent),
        lambda w, c: w.api("update_email_verification", {"userId": c["userId"], "secret": c["link"]["secret"]}),
        200,
        (TRANSACT, BATCH, TRANSACT),
        account_shows(emailVerification=True),
    ),
    "phone verification": WritePath(
        with_phone,
        lambda w, c: w.api("create_phone_verification", {}, **_session(c)),
        201,
        (BATCH, SECRET, TRANSACT, SEND_SMS),
        _check_phone_code,
    ),
    "phone verification, confirm": WritePath(
        then(with_phone, _phone_code_sent),
        lambda w, c: w.api("update_phone_verification", {"userId": c["userId"], "secret": c["code"]}),
        200,
        (TRANSACT, SECRET, BATCH, TRANSACT),
        account_shows(phoneVerification=True),
    ),
    "name": WritePath(
        signed_in,
        lambda w, c: w.api("update_name", {"name": "Ada L."}, **_session(c)),
        200,
        (BATCH, UPDATE),
        account_shows(name="Ada L."),
    ),
    "prefs": WritePath(
        signed_in,
        lambda w, c: w.api("update_prefs", {"prefs": {"theme": "dark"}}, **_session(c)),
        200,
        (BATCH, UPDATE),
        account_shows(prefs={"theme": "dark"}),
    ),
    "email change": WritePath(
        signed_in,
        lambda w, c: w.api("update_email", {"email": NEW_EMAIL, "password": PASSWORD}, **_session(c)),
        200,
        (BATCH, UPDATE, TRANSACT),  # the password-check limit, then the change
        account_shows(email=NEW_EMAIL, emailVerification=False),
    ),
    "phone change": WritePath(
        with_phone,
        lambda w, c: w.api("update_phone", {"phone": NEW_PHONE, "password": PASSWORD}, **_session(c)),
        200,
        (BATCH, UPDATE, TRANSACT),  # the password-check limit, then the change
        account_shows(phone=NEW_PHONE),
    ),
    "password change": WritePath(
        then(signed_in, _second_session),
        lambda w, c: w.api("update_password", {"password": NEW_PASSWORD, "oldPassword": PASSWORD}, **_session(c)),
        200,
        (BATCH, UPDATE, TRANSACT),
        _check_password_change,
    ),
    "session delete": WritePath(
        signed_in,
        lambda w, c: w.api("delete_session", **_session(c), path={"sessionId": "current"}),
        204,
        (QUERY, TRANSACT),
        lambda w, c, a: signed_out(w, c["session"]),
    ),
    "sessions delete": WritePath(
        then(signed_in, _second_session),
        lambda w, c: w.api("delete_sessions", **_session(c)),
        204,
        (QUERY, TRANSACT),
        _check_all_signed_out,
    ),
    "session extend": WritePath(
        signed_in,
        lambda w, c: w.api("update_session", **_session(c), path={"sessionId": "current"}),
        200,
        (QUERY, TRANSACT),
        _check_extended,
    ),
    "authenticator create": WritePath(
        verified_email,
        lambda w, c: w.api("create_mfa_authenticator", {}, **_session(c), path={"type": "totp"}),
        200,
        (BATCH, ENCRYPT, UPDATE),
        _check_authenticator_verifies,
    ),
    "authenticator verify": WritePath(
        then(verified_email, _unverified_authenticator),
        lambda w, c: verify_authenticator(w.api, c["session"], w.clock.code(c["secret"])),
        200,
        (BATCH, DECRYPT, TRANSACT, SEND_EMAIL),
        _check_authenticator_verified,
    ),
    "authenticator delete": WritePath(
        after_challenge,
        lambda w, c: w.api("delete_mfa_authenticator", {}, **_session(c), path={"type": "totp"}),
        204,
        (BATCH, TRANSACT, SEND_EMAIL),  # the profile and its activity log item (issue 17)
        _check_authenticator_removed,
    ),
    "recovery codes create": WritePath(
        verified_email,
        lambda w, c: w.api("create_mfa_recovery_codes", {}, **_session(c)),
        201,
        (BATCH, SECRET, ENCRYPT, TRANSACT, SEND_EMAIL),  # the profile and its activity log item (issue 17)
        _check_new_recovery_codes,
    ),
    "recovery codes regenerate": WritePath(
        then(after_challenge, _recovery_codes),
        lambda w, c: w.api("update_mfa_recovery_codes", {}, **_session(c)),
        200,
        (BATCH, SECRET, ENCRYPT, TRANSACT, SEND_EMAIL),  # the profile and its activity log item (issue 17)
        _check_new_recovery_codes,
    ),
    "challenge create, totp": WritePath(
        with_totp,
        lambda w, c: w.api("create_mfa_challenge", {"factor": "totp"}, **_session(c)),
        201,
        (BATCH, TRANSACT),
        _check_challenge_completes("totp"),
    ),
    "challenge create, email": WritePath(
        verified_email,
        lambda w, c: w.api("create_mfa_challenge", {"factor": "email"}, **_session(c)),
        201,
        (BATCH, SECRET, TRANSACT, SEND_EMAIL),
        _check_challenge_completes("email"),
    ),
    "challenge create, phone": WritePath(
        verified_phone,
        lambda w, c: w.api("create_mfa_challenge", {"factor": "phone"}, **_session(c)),
        201,
        (BATCH, SECRET, TRANSACT, SEND_SMS),
        _check_challenge_completes("phone"),
    ),
    "challenge complete, totp": WritePath(
        then(with_totp, _challenge("totp")),
        lambda w, c: complete(w.api, c["session"], c["challenge"], c["code"]),
        200,
        (BATCH, DECRYPT, TRANSACT),
        _check_factor_gained("totp"),
    ),
    "challenge complete, email": WritePath(
        then(verified_email, _challenge("email")),
        lambda w, c: complete(w.api, c["session"], c["challenge"], c["code"]),
        200,
        (BATCH, SECRET, TRANSACT),
        _check_factor_gained("email"),
    ),
    "challenge complete, recovery code": WritePath(
        then(then(verified_email, _recovery_codes), _challenge("recoverycode")),
        lambda w, c: complete(w.api, c["session"], c["challenge"], c["code"]),
        200,
        (BATCH, SECRET, TRANSACT, SEND_EMAIL),
        _check_factor_gained("recoveryCode"),
    ),
    "mfa on": WritePath(
        with_totp,
        lambda w, c: w.api("update_mfa", {"mfa": True}, **_session(c)),
        200,
        (BATCH, TRANSACT, SEND_EMAIL),
        account_shows(mfa=True),
    ),
    "mfa off": WritePath(
        mfa_on_after_challenge,
        lambda w, c: w.api("update_mfa", {"mfa": False}, **_session(c)),
        200,
        (BATCH, TRANSACT, SEND_EMAIL),  # the profile and its activity log item (issue 17)
        account_shows(mfa=False),
    ),
}


# --- the cases ------------------------------------------------------------------------------------


def _cases() -> list[Any]:
    """Every call of every write path gets one fault, the kinds taken in turn over the whole matrix;
    every TransactWriteItems also gets a throttled transaction (once taken for a failed condition:
    store/table.py is_conditional_failure now reads the cancellation reasons)."""
    cases: dict[tuple[str, int, str], None] = {}
    turn = 0
    for endpoint, path in WRITE_PATHS.items():
        for at, call in enumerate(path.calls, start=1):
            kinds = faults_for(call)
            cases[(endpoint, at, kinds[turn % len(kinds)])] = None
            turn += 1
            if "transaction throttled" in kinds:
                cases[(endpoint, at, "transaction throttled")] = None
    return [pytest.param(*case) for case in cases]


CASES = _cases()


# --- one AWS emulation for the module, each write path's setup prepared once ----------------------


@dataclass
class Prepared:
    context: Context
    items: list[dict[str, Any]]  # the table after the setup, without its send cooldowns
    clock_now: float  # the pinned TOTP time after the setup
    made_at: float  # time.monotonic()


# Codes, challenges and "a recent challenge" last 10 minutes of real time: a setup older than this is redone.
FRESH_SECONDS = 300


class Harness:
    """The world, the injector, and each write path's state after its setup, restored for every case."""

    def __init__(self, world: World, injector: Injector) -> None:
        self.world = world
        self.injector = injector
        self.prepared: dict[str, Prepared] = {}

    def prepare(self, endpoint: str) -> Context:
        """The state right after `endpoint`'s setup (run on an empty table the first time); its context."""
        prepared = self.prepared.get(endpoint)
        if prepared is None or time.monotonic() - prepared.made_at > FRESH_SECONDS:
            restore([])
            context = WRITE_PATHS[endpoint].setup(self.world)
            lift_cooldowns()  # as if each case came a minute after the setup's messages
            prepared = Prepared(context, snapshot(), self.world.clock.now, time.monotonic())
            self.prepared[endpoint] = prepared
        else:
            restore(prepared.items)
        self.world.clock.now = prepared.clock_now
        return dict(prepared.context)

    def run(self, endpoint: str, context: Context, at: int | None = None, fault: str | None = None) -> Answer:
        """The request, as the first one of a fresh container (so the code key is fetched), with `fault`
        at AWS call number `at`."""
        from authcore.security import codes

        codes._key = None
        self.injector.arm(at, fault)
        try:
            return WRITE_PATHS[endpoint].request(self.world, context)
        finally:
            self.injector.disarm()


@pytest.fixture(scope="module")
def harness():
    """moto and the template's resources once for the module (per test they cost more than a case)."""
    from moto import mock_aws

    from authcore.store import table
    from local import aws, template
    from tests.conftest import TEMPLATE

    from .conftest import Api, DynamoCalls, Sent
    from .mfa_fixtures import pin_totp_clock

    with mock_aws(), pytest.MonkeyPatch.context() as monkeypatch:
        aws.create_resources(TEMPLATE, template.Resolver(TEMPLATE, template.DEV_PARAMETERS))
        table._client = None
        injector = Injector()
        install(injector, monkeypatch)
        yield Harness(World(Api(DynamoCalls()), Sent(), pin_totp_clock(monkeypatch)), injector)
        table._client = None


@pytest.mark.parametrize("endpoint", list(WRITE_PATHS))
def test_the_calls_of_a_successful_request(harness, endpoint):
    path, w = WRITE_PATHS[endpoint], harness.world
    context = harness.prepare(endpoint)
    answer = harness.run(endpoint, context)
    assert answer.status == path.status, answer.body
    assert tuple(harness.injector.calls) == path.calls, harness.injector.calls
    path.check(w, context, answer)
    check_invariants(table_items())


def assert_clean_failure(answer: Answer, struck: str) -> None:
    """A §2 error body: 503 for a message SES/SNS did not take, else 500 general_server_error."""
    assert isinstance(answer.body, dict) and set(answer.body) == ERROR_KEYS, answer.body
    assert answer.body["code"] == answer.status and answer.body["version"] == "1.0.0", answer.body
    service = struck.split(".")[0]
    expected = (503, UNSENT[service]) if service in UNSENT else (500, "general_server_error")
    assert (answer.status, answer.body["type"]) == expected, f"{struck} failing answered {answer.body}"


@pytest.mark.parametrize(("endpoint", "at", "fault"), CASES)
def test_a_fault_at_each_call(harness, endpoint, at, fault):
    path, w = WRITE_PATHS[endpoint], harness.world
    context = harness.prepare(endpoint)
    before, messages = durable_state(table_items()), w.sent.count()

    answer = harness.run(endpoint, context, at, fault)
    assert harness.injector.struck == path.calls[at - 1], harness.injector.calls
    after = table_items()
    check_invariants(after)
    if answer.status == path.status:  # absorbed: a write retried, a security notification not sent
        path.check(w, context, answer)
        return
    assert_clean_failure(answer, harness.injector.struck)
    assert durable_state(after) == before  # nothing half-written: only charged limits may stay charged
    assert w.sent.count() == messages

    lift_cooldowns()
    retry = harness.run(endpoint, context)
    assert retry.status == path.status, retry.body
    path.check(w, context, retry)
    check_invariants(table_items())


def test_every_call_and_every_kind_of_fault_is_tried():
    tried = {(case.values[0], case.values[1]) for case in CASES}
    assert tried == {(e, at) for e, path in WRITE_PATHS.items() for at in range(1, len(path.calls) + 1)}
    assert {case.values[2] for case in CASES} == set(FAULTS)
