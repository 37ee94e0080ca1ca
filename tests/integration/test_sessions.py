"""Password sessions through their handlers: cookies, listing, the cap, expiry, sign-out, limits."""

import json

import pytest

from authcore.clock import now_ms
from authcore.security.tokens import encode_credential
from authcore.store.table import client, email_key, marshal, table_name, unmarshal, user_key
from tests.integration.conftest import PASSWORD, racing, table_items

pytestmark = pytest.mark.usefixtures("steady_rate_window")


def test_sign_in_sets_both_cookies_and_the_fallback_header(api):
    api.sign_up()
    answer = api("create_email_password_session")  # the events/ sample, over https
    assert answer.status == 201
    session = answer.body
    assert session["secret"] == "" and session["provider"] == "email" and session["factors"] == ["password"]
    assert session["current"] is True and session["providerUid"] == "ada@example.com"
    assert session["ip"] == "203.0.113.10"
    cookies = answer.headers["set-cookie"]
    credential = answer.credential
    assert any(c.startswith(f"a_session_default={credential};") and "SameSite=None" in c for c in cookies)
    assert any(c.startswith(f"a_session_default_legacy={credential};") and "SameSite" not in c for c in cookies)
    assert all("HttpOnly" in c and "Secure" in c and "Path=/" in c for c in cookies)
    assert "X-Fallback-Cookies" in answer.header("Access-Control-Expose-Headers")


def test_every_credential_carrier_works(api):
    api.sign_up()
    credential = api.session_for()
    carriers = [
        {"Cookie": f"a_session_default={credential}"},
        {"Cookie": f"a_session_default_legacy={credential}"},
        {"X-Appwrite-Session": credential},
        {"X-Nuvix-Session": credential},
        {"X-Fallback-Cookies": json.dumps({"a_session_default": credential})},
    ]
    for headers in carriers:
        assert api("get_account", headers=headers).status == 200, headers


def test_wrong_password_and_unknown_email_answer_identically(api):
    api.sign_up()
    wrong = api.sign_in(password="wrong password")
    unknown = api.sign_in("nobody@example.com")
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body and wrong.body["type"] == "user_invalid_credentials"


def test_signing_in_while_signed_in_is_refused(api):
    api.sign_up()
    credential = api.session_for()
    answer = api("create_email_password_session", session=credential)
    assert answer.status == 401 and answer.body["type"] == "user_session_already_exists"
    # A dead credential does not block a new sign-in.
    stale = encode_credential("nobody", "0" * 64)
    assert api("create_email_password_session", session=stale).status == 201


def test_eleventh_session_ends_the_oldest(api):
    api.sign_up()
    credentials = [api.session_for() for _ in range(11)]
    assert api("get_account", session=credentials[0]).status == 401
    listed = api("list_sessions", session=credentials[-1]).body
    assert listed["total"] == 10 and len(listed["sessions"]) == 10 and listed["data"] == listed["sessions"]
    assert [s["current"] for s in listed["sessions"]].count(True) == 1


def test_get_update_and_delete_one_session(api):
    api.sign_up()
    mine, other = api.session_for(), api.session_for()
    current = api("get_session", session=mine, path={"sessionId": "current"}).body
    assert current["current"] is True
    other_id = api("get_session", session=other, path={"sessionId": "current"}).body["$id"]
    seen = api("get_session", session=mine, path={"sessionId": other_id}).body
    assert seen["$id"] == other_id and seen["current"] is False
    missing = api("get_session", session=mine, path={"sessionId": "nope"})
    assert missing.status == 404 and missing.body["type"] == "user_session_not_found"

    extended = api("update_session", session=mine, path={"sessionId": "current"})
    assert extended.status == 200 and extended.body["expire"] >= current["expire"]

    ended = api("delete_session", session=mine, path={"sessionId": other_id})
    assert ended.status == 204 and ended.header("Set-Cookie") is None
    assert api("get_account", session=other).status == 401
    signed_out = api("delete_session", session=mine, path={"sessionId": "current"})
    assert signed_out.status == 204 and signed_out.header("X-Fallback-Cookies") == "{}"
    assert all("Expires=Thu, 01 Jan 1970" in c for c in signed_out.headers["set-cookie"])
    assert api("get_account", session=mine).body["type"] == "general_unauthorized_scope"


def test_delete_all_sessions(api, user_id_of):
    api.sign_up()
    credentials = [api.session_for() for _ in range(3)]
    answer = api("delete_sessions", session=credentials[0])
    assert answer.status == 204 and answer.header("X-Fallback-Cookies") == "{}"
    assert all(api("get_account", session=c).status == 401 for c in credentials)
    profile = client().get_item(TableName=table_name(), Key=marshal(user_key(user_id_of(credentials[0]))))["Item"]
    assert profile["sessions"]["M"] == {}


def test_expired_session_is_refused_even_before_ttl_deletes_it(api, user_id_of):
    api.sign_up()
    credential = api.session_for()
    items = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=marshal({":pk": f"USER#{user_id_of(credential)}"}),
    )["Items"]
    session_item = next(i for i in items if i["sk"]["S"].startswith("SESSION#"))
    client().update_item(
        TableName=table_name(),
        Key={"pk": session_item["pk"], "sk": session_item["sk"]},
        UpdateExpression="SET #e = :past",
        ExpressionAttributeNames={"#e": "expire"},
        ExpressionAttributeValues=marshal({":past": now_ms() - 1}),
    )
    assert api("get_account", session=credential).status == 401
    assert api("list_sessions", session=credential).status == 401


def test_sign_in_attempts_are_limited_per_email_and_a_success_resets(api):
    api.sign_up()
    assert [api.sign_in(password="wrong password").status for _ in range(9)] == [401] * 9
    assert api.sign_in().status == 201  # the 10th attempt succeeds and resets the counter
    assert [api.sign_in(password="wrong password").status for _ in range(10)] == [401] * 10
    limited = api.sign_in()  # right password, but the limit is reached
    assert limited.status == 429 and limited.body["type"] == "general_rate_limit_exceeded"
    assert limited.header("X-RateLimit-Limit") == "10" and limited.header("X-RateLimit-Remaining") == "0"
    assert int(limited.header("X-RateLimit-Reset")) > now_ms() // 1000


def test_unknown_emails_are_limited_the_same_way(api):
    statuses = [api.sign_in("nobody@example.com", password="wrong password").status for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    # No index item is ever created for an unknown email.
    keys = {i["pk"]["S"] for i in client().scan(TableName=table_name())["Items"]}
    assert "EMAIL#nobody@example.com" not in keys


def _sign_in_from(api, ip: str, email: str = "ada@example.com", password: str = PASSWORD):
    return api("create_email_password_session", {"email": email, "password": password}, ip=ip)


def test_ten_wrong_passwords_from_one_address_do_not_lock_out_another(api):
    """Finding 9 of issue 15: the limit is per (email, source address); the owner elsewhere signs in."""
    api.sign_up()
    assert [_sign_in_from(api, "198.51.100.1", password="wrong").status for _ in range(10)] == [401] * 10
    refused = _sign_in_from(api, "198.51.100.1")
    assert refused.status == 429 and refused.header("X-RateLimit-Limit") == "10"
    assert _sign_in_from(api, "203.0.113.7").status == 201


def test_a_hundred_wrong_passwords_from_ten_addresses_reach_the_email_ceiling(api):
    api.sign_up()
    for n in range(10):
        assert [_sign_in_from(api, f"198.51.100.{n}", password="wrong").status for _ in range(10)] == [401] * 10
    limited = _sign_in_from(api, "203.0.113.7")
    assert limited.status == 429 and limited.header("X-RateLimit-Limit") == "100"
    assert int(limited.header("X-RateLimit-Reset")) % 3600 == 0
    # An unknown email answers alike at both limits (no enumeration).
    for n in range(10):
        answers = [_sign_in_from(api, f"198.51.100.{n}", "nobody@example.com", "wrong") for _ in range(10)]
        assert [a.status for a in answers] == [401] * 10
    unknown = _sign_in_from(api, "203.0.113.7", "nobody@example.com")
    assert unknown.status == 429 and unknown.header("X-RateLimit-Limit") == "100"
    assert unknown.header("X-RateLimit-Reset") == limited.header("X-RateLimit-Reset")


def test_a_success_gives_back_only_its_own_attempt(api):
    """A successful sign-in clears its source's count and gives its one attempt back to the email's
    count: failures from other sources stay counted, so successes cannot buy anyone more guesses."""
    api.sign_up()
    for n in range(9):
        assert [_sign_in_from(api, f"198.51.100.{n}", password="wrong").status for _ in range(10)] == [401] * 10
    for _ in range(3):  # the owner signs in again and again: each success gives back only itself
        assert _sign_in_from(api, "203.0.113.7").status == 201
    assert [_sign_in_from(api, "198.51.100.9", password="wrong").status for _ in range(10)] == [401] * 10
    limited = _sign_in_from(api, "203.0.113.7")
    assert limited.status == 429 and limited.header("X-RateLimit-Limit") == "100"


def test_a_success_whose_hour_of_counts_is_gone_still_signs_in(api):
    """The hour turned between counting the attempt and the session write, and the new hour's first
    attempt replaced the counts: nothing to give back, and the sign-in still succeeds."""
    api.sign_up()
    key = marshal(email_key("ada@example.com"))

    def next_hour_begins() -> None:
        client().update_item(
            TableName=table_name(),
            Key=key,
            UpdateExpression="SET signIn = :counts",
            ExpressionAttributeValues=marshal({":counts": {"h": 1, "n": 1}}),
        )

    with racing(next_hour_begins, "Put", "SESSION#"):
        signed_in = api.sign_in()
    assert signed_in.status == 201, signed_in.body
    assert api("get_account", session=signed_in.credential).status == 200
    stored = client().get_item(TableName=table_name(), Key=key)["Item"]
    assert unmarshal(stored)["signIn"] == {"h": 1, "n": 1}  # the other hour's counts are untouched


def test_one_hour_of_counts_is_kept_on_the_index_item(api):
    """Each hour's first attempt replaces the map, so the email's index item never grows with time."""
    api.sign_up()
    key = marshal(email_key("ada@example.com"))
    client().update_item(
        TableName=table_name(),
        Key=key,
        UpdateExpression="SET signIn = :old",
        ExpressionAttributeValues=marshal({":old": {"h": 1, "n": 100, "sdeadbeef": 10}}),
    )
    assert api.sign_in(password="wrong").status == 401  # an old hour's full counts limit nothing
    counts = unmarshal(client().get_item(TableName=table_name(), Key=key)["Item"])["signIn"]
    assert counts["h"] == now_ms() // 3_600_000 and counts["n"] == 1 and len(counts) == 3


def test_signing_in_records_the_access_time(api):
    account = api.sign_up()
    credential = api.session_for()
    assert api("get_account", session=credential).body["accessedAt"] > account["accessedAt"]


def test_delete_sessions_but_the_current_one_keeps_the_caller_signed_in(api):
    api.sign_up()
    keep, other = api.session_for(), api.session_for()
    answer = api("delete_sessions", {"current": False}, session=keep)
    assert answer.status == 204
    assert "set-cookie" not in answer.headers and "x-fallback-cookies" not in answer.headers
    assert api("get_account", session=other).status == 401
    assert api("get_account", session=keep).status == 200
    assert api("delete_sessions", {"current": "no"}, session=keep).status == 400


@pytest.mark.parametrize(("duration", "lifetime_s"), [(60, 60), (3600.5, 3600.5), (10**9, 30 * 24 * 3600)])
def test_a_password_session_may_be_shorter_never_longer(api, duration, lifetime_s):
    from datetime import datetime

    api.sign_up()
    answer = api(
        "create_email_password_session", {"email": "ada@example.com", "password": PASSWORD, "duration": duration}
    )
    assert answer.status == 201, answer.body
    created, expire = (datetime.fromisoformat(answer.body[key]).timestamp() for key in ("$createdAt", "expire"))
    assert expire - created == pytest.approx(lifetime_s, abs=0.002)


def test_a_session_shorter_than_a_minute_is_refused(api):
    api.sign_up()
    answer = api("create_email_password_session", {"email": "ada@example.com", "password": PASSWORD, "duration": 59})
    assert answer.status == 400 and answer.body["type"] == "general_argument_invalid"


def test_an_extended_session_keeps_its_ttl_in_epoch_seconds(api):
    api.sign_up()
    credential = api.session_for()
    extended = api("update_session", path={"sessionId": "current"}, session=credential)
    assert extended.status == 200
    (session,) = [item for item in table_items("USER#") if item["sk"].startswith("SESSION#")]
    assert session["ttl"] == session["expire"] // 1000


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_form_cannot_sign_in(api, content_type):
    """Login CSRF: an HTML form on another site posts these types without a CORS preflight; the API
    takes JSON only, so the form gets a 400 and no session cookie."""
    api.sign_up()
    answer = api(
        "create_email_password_session",
        f"email=ada%40example.com&password={PASSWORD.replace(' ', '+')}",
        headers={"Content-Type": content_type},
    )
    assert answer.status == 400 and answer.body["message"] == "Invalid request body: send it as application/json."
    assert "set-cookie" not in answer.headers
