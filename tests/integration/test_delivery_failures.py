"""SES and SNS failing (refusing, timing out, unreachable) and not configured: every endpoint that sends
a code or link answers 503, and nothing usable or half-written remains (no token, no user created
with it, no spent limit, no cooldown), so an immediate retry works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from authcore.delivery import email, sms

from .conftest import PASSWORD, cooldowns, lift_cooldowns, rate_counts, table_items, token_items

pytestmark = pytest.mark.usefixtures("steady_rate_window")

EMAIL = "ada@example.com"
NEW_EMAIL = "grace@example.com"
PHONE = "+14155552671"
NEW_PHONE = "+14155552672"
URL = "http://localhost:3000/verify"
UNSENT = "The message could not be sent. Please try again later."


# --- making SES and SNS fail ---------------------------------------------------------------------


def _refused(code: str, status: int) -> Callable[..., Any]:
    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        # What botocore would have parsed from an error answer: it raises the ClientError itself.
        error = {
            "Error": {"Code": code, "Message": f"{code} (injected)"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://aws.invalid", status, {}, None), error

    return handler


def _raises(error: Exception) -> Callable[..., Any]:
    def handler(**_: Any) -> None:
        raise error

    return handler


FAILURES: dict[str, dict[str, Callable[..., Any]]] = {
    "refused": {
        "ses": _refused("MessageRejected", 400),
        "sns": _refused("InvalidParameter", 400),
    },
    "throttled": {
        "ses": _refused("TooManyRequestsException", 429),
        "sns": _refused("Throttling", 400),
    },
    "read timeout": {
        "ses": _raises(ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com/v2/email/outbound-emails")),
        "sns": _raises(ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com/")),
    },
    "unreachable": {
        "ses": _raises(EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")),
        "sns": _raises(EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com")),
    },
}


SEND_EVENTS = {"ses": "before-call.sesv2.SendEmail", "sns": "before-call.sns.Publish"}


class Outage:
    """Makes the delivery clients' SendEmail / Publish fail until healed, counting the attempts."""

    def __init__(self) -> None:
        self.attempts = 0
        self._registered: list[tuple[Any, str, Callable[..., Any]]] = []

    def start(self, service: str, failure: str) -> None:
        client = email.client() if service == "ses" else sms.client()
        fail = FAILURES[failure][service]

        def counted(**kwargs: Any) -> Any:
            self.attempts += 1
            return fail(**kwargs)

        event = SEND_EVENTS[service]
        client.meta.events.register(event, counted)
        self._registered.append((client, event, counted))

    def heal(self) -> None:
        for client, event, handler in self._registered:
            client.meta.events.unregister(event, handler)
        self._registered.clear()


@pytest.fixture
def outage(aws_emulation):
    outage = Outage()
    yield outage
    outage.heal()


# --- the issuing endpoints -----------------------------------------------------------------------


@dataclass
class Issuing:
    """One endpoint that sends a code or link: its setup, its request, and how its message is used."""

    service: str  # "ses" or "sns"
    unavailable: str  # the 503 type
    setup: Callable[[Any], dict[str, Any]]  # api -> context
    request: Callable[[Any, dict[str, Any]], Any]  # (api, context) -> Answer
    use: Callable[[Any, Any, dict[str, Any]], Any]  # (api, sent, context) -> Answer of spending the message
    new_user: bool = False


def _signed_up(api) -> dict[str, Any]:
    api.sign_up(EMAIL, userId="ada")
    return {"session": api.session_for(EMAIL), "userId": "ada"}


def _with_phone(api) -> dict[str, Any]:
    context = _signed_up(api)
    assert api("update_phone", {"phone": PHONE, "password": PASSWORD}, session=context["session"]).status == 200
    return context


def _follow_link(api, sent, context):
    params = {k: v[0] for k, v in parse_qs(urlsplit(sent.link(EMAIL)).query).items()}
    answer = api("update_email_verification", {"userId": params["userId"], "secret": params["secret"]})
    assert answer.status == 200, answer.body
    assert api("get_account", session=context["session"]).body["emailVerification"] is True
    return answer


def _type_verification_code(api, sent, context):
    answer = api("update_phone_verification", {"userId": context["userId"], "secret": sent.code(PHONE)})
    assert answer.status == 200, answer.body
    assert api("get_account", session=context["session"]).body["phoneVerification"] is True
    return answer


def _sign_in_with(address: str, factor: str):
    def use(api, sent, context):
        answer = api("create_session", {"userId": context["userId"], "secret": sent.code(address)})
        assert answer.status == 201, answer.body
        assert answer.body["factors"] == [factor] and answer.body["userId"] == context["userId"]
        return answer

    return use


ISSUING = {
    "email verification": Issuing(
        "ses",
        "general_smtp_disabled",
        _signed_up,
        lambda api, c: api("create_email_verification", {"url": URL}, session=c["session"]),
        _follow_link,
    ),
    "phone verification": Issuing(
        "sns",
        "general_phone_disabled",
        _with_phone,
        lambda api, c: api("create_phone_verification", {}, session=c["session"]),
        _type_verification_code,
    ),
    "email token, new user": Issuing(
        "ses",
        "general_smtp_disabled",
        lambda api: {"userId": "grace"},
        lambda api, c: api("create_email_token", {"userId": "grace", "email": NEW_EMAIL}),
        _sign_in_with(NEW_EMAIL, "email"),
        new_user=True,
    ),
    "email token, existing user": Issuing(
        "ses",
        "general_smtp_disabled",
        _signed_up,
        lambda api, c: api("create_email_token", {"userId": "unique()", "email": EMAIL}),
        _sign_in_with(EMAIL, "email"),
    ),
    "phone token, new user": Issuing(
        "sns",
        "general_phone_disabled",
        lambda api: {"userId": "grace"},
        lambda api, c: api("create_phone_token", {"userId": "grace", "phone": NEW_PHONE}),
        _sign_in_with(NEW_PHONE, "phone"),
        new_user=True,
    ),
    "phone token, existing user": Issuing(
        "sns",
        "general_phone_disabled",
        _with_phone,
        lambda api, c: api("create_phone_token", {"userId": "unique()", "phone": PHONE}),
        _sign_in_with(PHONE, "phone"),
    ),
}


def _state() -> tuple[list[dict[str, Any]], dict[tuple[str, str], int], list[str]]:
    """Everything but the rate items, the rate counters (0 = none), and the cooldowns."""
    items = sorted((i for i in table_items() if not i["pk"].startswith("RATE#")), key=lambda i: (i["pk"], i["sk"]))
    return items, rate_counts(), sorted(cooldowns())


@pytest.mark.parametrize("endpoint", list(ISSUING))
def test_a_failed_send_answers_503_and_leaves_nothing_behind(api, sent, outage, endpoint):
    issuing = ISSUING[endpoint]
    context = issuing.setup(api)
    items_before, counts_before, cooldowns_before = _state()
    messages_before = sent.count()

    for failure in FAILURES:  # one after the other: each is undone before the next
        outage.start(issuing.service, failure)
        answer = issuing.request(api, context)
        outage.heal()

        assert answer.status == 503, (failure, answer.body)
        assert answer.body == {"message": UNSENT, "code": 503, "type": issuing.unavailable, "version": "1.0.0"}
        assert answer.header("Cache-Control") == "no-store"
        assert answer.header("Access-Control-Allow-Origin") == "http://localhost:3000"
        assert outage.attempts == 1 and sent.count() == messages_before, failure
        outage.attempts = 0
        items_after, counts_after, cooldowns_after = _state()
        assert not [i for i in items_after if i["sk"].startswith("TOKEN#")], failure
        assert items_after == items_before, failure  # no token, no user or index item, the profile untouched
        assert counts_after == counts_before, failure  # every limit charge refunded
        assert cooldowns_after == cooldowns_before == [], failure  # and the cooldown lifted
        if issuing.new_user:
            assert not any(i["pk"] in ("USER#grace", f"EMAIL#{NEW_EMAIL}", f"PHONE#{NEW_PHONE}") for i in items_after)

    # Once SES / SNS work again, an immediate retry goes through and its message works.
    retry = issuing.request(api, context)
    assert retry.status == 201, retry.body
    assert retry.body["userId"] == context["userId"]
    assert sent.count() == messages_before + 1
    issuing.use(api, sent, context)


def test_a_failed_resend_keeps_the_earlier_link(api, sent, outage):
    context = _signed_up(api)
    assert api("create_email_verification", {"url": URL}, session=context["session"]).status == 201
    earlier = sent.link(EMAIL)
    lift_cooldowns()
    outage.start("ses", "refused")
    failed = api("create_email_verification", {"url": URL}, session=context["session"])
    assert failed.status == 503 and failed.body["type"] == "general_smtp_disabled"
    assert len(token_items("ada")) == 1 and sent.link(EMAIL) == earlier
    outage.heal()
    _follow_link(api, sent, context)


def test_a_failed_first_sign_in_leaves_the_address_free_for_sign_up(api, outage):
    outage.start("ses", "unreachable")
    assert api("create_email_token", {"userId": "grace", "email": NEW_EMAIL}).status == 503
    assert api.sign_up(NEW_EMAIL, userId="grace")["$id"] == "grace"


# --- sending not configured ----------------------------------------------------------------------


NOT_CONFIGURED = {
    "email verification": ("SENDER_EMAIL", "", "general_smtp_disabled", ["BatchGetItem"]),
    "email token, new user": ("SENDER_EMAIL", "", "general_smtp_disabled", []),
    "email token, existing user": ("SENDER_EMAIL", "", "general_smtp_disabled", []),
    "phone verification": ("SMS_ENABLED", "false", "general_phone_disabled", ["BatchGetItem"]),
    "phone token, new user": ("SMS_ENABLED", "false", "general_phone_disabled", []),
    "phone token, existing user": ("SMS_ENABLED", "false", "general_phone_disabled", []),
}


@pytest.mark.parametrize("endpoint", list(NOT_CONFIGURED))
def test_sending_not_configured_is_503_before_anything_is_written(api, sent, dynamo_calls, environment, endpoint):
    issuing = ISSUING[endpoint]
    name, value, type_, operations = NOT_CONFIGURED[endpoint]
    context = issuing.setup(api)
    before = table_items()
    environment(name, value)
    answer = issuing.request(api, context)
    assert answer.status == 503, answer.body
    assert answer.body["type"] == type_ and answer.body["code"] == 503
    assert dynamo_calls.operations == operations  # at most the session read: nothing written
    assert table_items() == before and sent.count() == 0


def test_a_failed_withdrawal_still_answers_503(api, sent, outage):
    """If DynamoDB also fails while undoing, the client still learns that nothing was sent (not a 500);
    the leftover token's code never left the server, so nobody can use it."""
    from botocore.exceptions import ClientError

    from authcore.store.table import client

    def withdrawal_fails(params, **_):
        if any("Delete" in item for item in params.get("TransactItems", [])):
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "TransactWriteItems")

    outage.start("ses", "refused")
    event = "before-parameter-build.dynamodb.TransactWriteItems"
    client().meta.events.register(event, withdrawal_fails)
    try:
        answer = api("create_email_token", {"userId": "grace", "email": NEW_EMAIL})
    finally:
        client().meta.events.unregister(event, withdrawal_fails)
    assert answer.status == 503, answer.body
    assert answer.body == {"message": UNSENT, "code": 503, "type": "general_smtp_disabled", "version": "1.0.0"}
    assert sent.count() == 0
