"""Sign-in by an emailed link (API.md §8, POST /account/tokens/magic-url), exchanged through POST
/account/sessions/token and its deprecated aliases PUT /account/sessions/magic-url and /phone."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from authcore.services import codes
from authcore.store import users as users_store

from .conftest import PASSWORD, call_at, lift_cooldowns, profile, racing, table_items, token_items
from .test_code_sign_in import EMAIL, TOKEN_FIELDS, assert_error, email_token, epoch_ms, sessions_of, sign_in

pytestmark = pytest.mark.usefixtures("steady_rate_window")

APP = "http://localhost:3000/sign-in"


def magic_url(api, email=EMAIL, user_id="unique()", url=APP, ip=None, **extra):
    return api("create_magic_url_token", {"userId": user_id, "email": email, "url": url, **extra}, ip=ip)


def link_params(sent, email=EMAIL) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(sent.link(email)).query).items()}


def test_a_link_for_a_new_email_creates_the_user_and_signs_in_with_the_email_factor(api, sent):
    answer = magic_url(api, "Ada@Example.com")
    assert answer.status == 201, answer.body
    token = answer.body
    assert set(token) == TOKEN_FIELDS and token["secret"] == "" and token["phrase"] == ""
    assert epoch_ms(token["expire"]) - epoch_ms(token["$createdAt"]) == codes.LINK_LIFETIME_MS
    user_id = token["userId"]
    assert profile(user_id)["email"] == EMAIL and profile(user_id)["emailVerification"] is False
    [stored] = token_items(user_id)
    assert stored["kind"] == codes.MAGIC_URL_SIGN_IN and stored["address"] == EMAIL

    message = sent.last(EMAIL)
    assert message["subject"] == "Your My App sign-in link"
    params = link_params(sent)
    assert sent.link(EMAIL).startswith(APP + "?")
    assert params["userId"] == user_id and params["expire"] == token["expire"]
    assert len(params["secret"]) == 64
    assert params["secret"] not in json.dumps(table_items())  # only a keyed hash is stored

    session = sign_in(api, user_id, params["secret"])
    assert session.status == 201, session.body
    body = session.body
    assert body["provider"] == "magic-url" and body["factors"] == ["email"] and body["providerUid"] == EMAIL
    account = api("get_account", session=session.credential).body
    assert account["emailVerification"] is True and account["passwordUpdate"] == ""
    # The link started this session: an email challenge cannot be its second factor.
    assert_error(
        api("create_mfa_challenge", {"factor": "email"}, session=session.credential), 400, "general_argument_invalid"
    )


def test_an_existing_users_link_goes_to_that_user_and_shows_the_phrase(api, sent):
    api.sign_up(EMAIL, userId="ada")
    answer = magic_url(api, user_id="someone-else", phrase=True)
    assert answer.status == 201 and answer.body["userId"] == "ada"
    assert answer.body["phrase"] and answer.body["phrase"] in sent.last(EMAIL)["text"]
    assert profile("someone-else") is None
    assert sign_in(api, "ada", link_params(sent)["secret"]).status == 201


def test_the_link_keeps_the_urls_own_query(api, sent):
    assert magic_url(api, url=APP + "?next=%2Fhome#top").status == 201
    link = sent.link(EMAIL)
    assert link.startswith(APP + "?next=%2Fhome&userId=") and link.endswith("#top")


@pytest.mark.parametrize(
    "url", ["https://evil.example/sign-in", "javascript:alert(1)", "http://localhost:3000@evil.example/", "/relative"]
)
def test_a_url_the_app_does_not_own_is_refused_and_nothing_is_sent(api, sent, url):
    assert_error(magic_url(api, url=url), 400, "general_argument_invalid")
    assert sent.count() == 0 and table_items("USER#") == []


def test_a_url_is_required(api, sent):
    answer = api("create_magic_url_token", {"userId": "unique()", "email": EMAIL})
    assert_error(answer, 400, "general_argument_invalid")
    assert "url" in answer.body["message"]


def test_a_wrong_link_secret_is_refused_and_counted(api, sent):
    user_id = magic_url(api).body["userId"]
    assert_error(sign_in(api, user_id, "0" * 64), 401, "user_invalid_token")
    assert profile(user_id)[users_store.PRE_AUTH.count] == 1
    assert sign_in(api, user_id, link_params(sent)["secret"]).status == 201
    assert profile(user_id).get(users_store.PRE_AUTH.count, 0) == 0  # reset


def test_a_malformed_secret_is_refused_without_a_lookup(api, sent, dynamo_calls):
    user_id = magic_url(api).body["userId"]
    secret = link_params(sent)["secret"]
    for junk in (secret.upper(), secret[:-1], secret + "0", "z" * 64):
        assert_error(sign_in(api, user_id, junk), 401, "user_invalid_token")
        assert dynamo_calls.operations == ["TransactWriteItems"]  # the limits only


def test_a_used_link_is_refused_without_counting(api, sent):
    user_id = magic_url(api).body["userId"]
    secret = link_params(sent)["secret"]
    assert sign_in(api, user_id, secret).status == 201
    assert_error(sign_in(api, user_id, secret), 401, "user_invalid_token")
    assert users_store.PRE_AUTH.count not in profile(user_id)


def test_an_expired_link_is_refused(api, sent, clock):
    user_id = magic_url(api).body["userId"]
    clock.advance(codes.LINK_LIFETIME_MS)
    assert_error(sign_in(api, user_id, link_params(sent)["secret"]), 401, "user_invalid_token")
    assert sessions_of(user_id) == []


def test_a_link_works_until_it_expires(api, sent, clock):
    user_id = magic_url(api).body["userId"]
    clock.advance(codes.LINK_LIFETIME_MS - 1000)
    assert sign_in(api, user_id, link_params(sent)["secret"]).status == 201


def test_another_users_link_is_refused(api, sent):
    ada = magic_url(api).body["userId"]
    secret = link_params(sent)["secret"]
    grace = magic_url(api, "grace@example.com").body["userId"]
    assert_error(sign_in(api, grace, secret), 401, "user_invalid_token")
    assert sessions_of(ada) == [] and sessions_of(grace) == []


def test_a_link_sent_to_a_previous_email_does_not_sign_in(api, sent):
    user_id = magic_url(api).body["userId"]
    secret = link_params(sent)["secret"]
    session = sign_in(api, user_id, secret)
    lift_cooldowns()
    assert magic_url(api).status == 201
    second = link_params(sent)["secret"]
    changed = api("update_email", {"email": "new@example.com", "password": ""}, session=session.credential)
    assert changed.status == 200, changed.body
    assert_error(sign_in(api, user_id, second), 401, "user_invalid_token")


def test_two_exchanges_of_one_link_make_one_session(api, sent):
    user_id = magic_url(api).body["userId"]
    secret = link_params(sent)["secret"]
    with racing(lambda: sign_in(api, user_id, secret, ip="198.51.100.9"), "Put") as concurrent:
        answer = sign_in(api, user_id, secret)
    assert concurrent[0].status == 201
    assert_error(answer, 401, "user_invalid_token")
    assert len(sessions_of(user_id)) == 1 and users_store.PRE_AUTH.count not in profile(user_id)


def test_a_first_proof_by_link_ends_what_a_squatter_set_up(api, sent):
    api.sign_up(EMAIL, userId="ada")
    squatter = api.session_for(EMAIL)
    assert magic_url(api).status == 201
    owner = sign_in(api, "ada", link_params(sent)["secret"])
    assert owner.status == 201
    assert_error(api("get_account", session=squatter), 401, "general_unauthorized_scope")
    assert_error(api.sign_in(EMAIL, PASSWORD), 401, "user_invalid_credentials")


def test_links_and_codes_share_the_sign_in_email_limits(api, sent, clock):
    """Asking for a link or a code spends one budget: alternating the two doubles nothing."""
    ip = "198.51.100.7"
    for n in range(10):
        lift_cooldowns()
        ask = magic_url if n % 2 else email_token
        assert ask(api, f"user{n}@example.com", ip=ip).status == 201
    lift_cooldowns()
    assert_error(magic_url(api, ip=ip), 429, "general_rate_limit_exceeded")
    assert_error(email_token(api, ip=ip), 429, "general_rate_limit_exceeded")


def test_one_link_per_destination_per_minute_whatever_it_carries(api, sent):
    assert email_token(api).status == 201
    assert_error(magic_url(api), 429, "general_rate_limit_exceeded")
    assert len(sent.to(EMAIL)) == 1


def test_without_an_email_sender_the_link_is_503(api, sent, environment):
    environment("SENDER_EMAIL", "")
    assert_error(magic_url(api), 503, "general_smtp_disabled")


@pytest.mark.parametrize(
    ("function", "route"),
    [("update_magic_url_session", "/account/sessions/magic-url"), ("update_phone_session", "/account/sessions/phone")],
)
def test_the_deprecated_aliases_sign_in_like_the_token_route(api, sent, function, route):
    user_id = magic_url(api).body["userId"]
    secret = link_params(sent)["secret"]
    assert_error(api(function, {"userId": user_id, "secret": "1" * 64}), 401, "user_invalid_token")
    answer = api(function, {"userId": user_id, "secret": secret})
    assert answer.status == 201, answer.body
    assert answer.body["provider"] == "magic-url" and answer.header("set-cookie")
    assert_error(api(function, {"userId": user_id, "secret": secret}), 401, "user_invalid_token")
    lift_cooldowns()
    phone_user = api("create_phone_token", {"userId": "unique()", "phone": "+14155552671"}).body["userId"]
    answer = call_at(api, function, route, {"userId": phone_user, "secret": sent.code("+14155552671")})
    assert answer.status == 201 and answer.body["provider"] == "phone" and answer.body["factors"] == ["phone"]
