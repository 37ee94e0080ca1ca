"""What the deployment may send (SmsAllowedCountries, *PerDestinationPerDay, MessagesPerUserPerDay,
SmsPerHour / EmailPerHour): budgets spent in the same write as the token, refused with the ordinary 429
and its headers before anything is sent, and SMS only to allowed countries."""

from __future__ import annotations

import pytest

from tests.integration.mfa_fixtures import sign_up_and_in

from .conftest import PASSWORD, lift_cooldowns, token_items

pytestmark = pytest.mark.usefixtures("steady_rate_window")

US_PHONE = "+14155552671"
OTHER_US_PHONE = "+14155552672"
THIRD_US_PHONE = "+14155552673"
GB_PHONE = "+442071838750"  # London (phonenumbers puts some 07911 ranges in Guernsey)
URL = "http://localhost:3000/verify"


def phone_token(api, phone: str):
    lift_cooldowns()  # the one-per-minute cooldown is not what these tests count
    return api("create_phone_token", {"userId": "unique()", "phone": phone})


def assert_limited(answer, limit: int) -> None:
    assert answer.status == 429, answer.body
    assert answer.body["type"] == "general_rate_limit_exceeded"
    assert answer.header("X-RateLimit-Limit") == str(limit) and answer.header("X-RateLimit-Remaining") == "0"


def test_one_number_gets_at_most_half_its_daily_sms_as_sign_in_codes(api, sent, environment):
    """Sign-in codes anyone may ask for use at most half of a number's daily budget (API.md §7)."""
    environment("SMS_PER_DESTINATION_PER_DAY", "6")
    assert [phone_token(api, US_PHONE).status for _ in range(3)] == [201, 201, 201]
    assert_limited(phone_token(api, US_PHONE), 3)
    assert len(sent.to(US_PHONE)) == 3
    assert phone_token(api, OTHER_US_PHONE).status == 201  # another number has its own budget


def test_one_user_gets_at_most_its_daily_messages_over_both_channels(api, sent, environment):
    environment("MESSAGES_PER_USER_PER_DAY", "2")
    ada = sign_up_and_in(api)
    for _ in range(2):
        lift_cooldowns()
        assert api("create_email_verification", {"url": URL}, session=ada.credential).status == 201
    changed = api("update_phone", {"phone": US_PHONE, "password": PASSWORD}, session=ada.credential)
    assert changed.status == 200, changed.body
    lift_cooldowns()
    assert_limited(api("create_phone_verification", {}, session=ada.credential), 2)
    assert sent.to(US_PHONE) == []


def test_the_deployment_sends_at_most_its_hourly_sms(api, sent, environment):
    environment("SMS_PER_HOUR", "2")
    assert phone_token(api, US_PHONE).status == 201
    assert phone_token(api, OTHER_US_PHONE).status == 201
    assert_limited(phone_token(api, THIRD_US_PHONE), 2)
    assert sent.to(THIRD_US_PHONE) == []
    assert api("create_email_token", {"userId": "unique()", "email": "ada@example.com"}).status == 201


def test_sms_goes_only_to_allowed_countries(api, sent, environment):
    environment("SMS_ALLOWED_COUNTRIES", "GB,IE")
    answer = phone_token(api, US_PHONE)
    assert answer.status == 400 and answer.body["type"] == "general_argument_invalid", answer.body
    assert answer.body["message"] == "Invalid `phone` param: SMS to this country is not enabled."
    assert sent.to(US_PHONE) == [] and token_items() == []
    assert phone_token(api, GB_PHONE).status == 201
    assert len(sent.to(GB_PHONE)) == 1


def test_every_country_is_allowed_by_default(api, sent):
    assert phone_token(api, GB_PHONE).status == 201
    assert phone_token(api, US_PHONE).status == 201
