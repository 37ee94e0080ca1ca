"""The MFA gate (API.md §4.1) on every gated route, set up through the store until MFA endpoints exist."""

import pytest

from authcore.store import users as users_store

GATED = [
    ("get_account", None, None),
    ("get_prefs", None, None),
    ("update_name", {"name": "x"}, None),
    ("update_prefs", {"prefs": {}}, None),
    ("update_email", {"email": "new@example.com", "password": "correct horse battery"}, None),
    ("update_phone", {"phone": "+14155552671", "password": "correct horse battery"}, None),
    ("update_password", {"password": "new password 123", "oldPassword": "correct horse battery"}, None),
    ("list_sessions", None, None),
    ("delete_sessions", None, None),
    ("get_session", None, {"sessionId": "current"}),
    ("update_session", None, {"sessionId": "current"}),
]


@pytest.fixture
def half_signed_in(api, user_id_of):
    """A password session of a user with MFA on and a verified email: one factor short."""
    api.sign_up()
    credential = api.session_for()
    users_store.update_user(user_id_of(credential), {"mfa": True, "emailVerification": True})
    return credential


@pytest.mark.parametrize(("name", "body", "path"), GATED)
def test_gated_routes_need_more_factors(api, half_signed_in, name, body, path):
    answer = api(name, body, session=half_signed_in, path=path)
    assert answer.status == 401 and answer.body["type"] == "user_more_factors_required"


def test_signing_out_is_exempt(api, half_signed_in):
    answer = api("delete_session", session=half_signed_in, path={"sessionId": "current"})
    assert answer.status == 204
    assert api("get_account", session=half_signed_in).body["type"] == "general_unauthorized_scope"


def test_mfa_without_a_verified_factor_does_not_lock_out(api, user_id_of):
    api.sign_up()
    credential = api.session_for()
    users_store.update_user(user_id_of(credential), {"mfa": True})
    assert api("get_account", session=credential).status == 200


def test_a_session_with_two_factors_passes(api, half_signed_in, user_id_of):
    from authcore.security.tokens import decode_credential, digest
    from authcore.store.table import client, marshal, session_key, table_name

    user_id, secret = decode_credential(half_signed_in)
    client().update_item(
        TableName=table_name(),
        Key=marshal(session_key(user_id, digest(secret))),
        UpdateExpression="SET factors = :f",
        ExpressionAttributeValues=marshal({":f": ["password", "email"]}),
    )
    assert api("get_account", session=half_signed_in).status == 200
