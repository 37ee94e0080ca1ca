"""Store behaviour that the handlers cannot provoke on demand."""

import pytest

from authcore.store import users as users_store
from authcore.store.table import client, table_name


def test_deferred_batch_keys_are_fetched_not_taken_for_missing(api, user_id_of, monkeypatch):
    """BatchGetItem may return keys as UnprocessedKeys; a live session must not read as gone."""
    api.sign_up()
    credential = api.session_for()
    real = client().batch_get_item
    calls = []

    def defer_first(RequestItems):  # noqa: N803 - boto3's parameter name
        calls.append(RequestItems)
        if len(calls) == 1:
            return {"Responses": {table_name(): []}, "UnprocessedKeys": RequestItems}
        return real(RequestItems=RequestItems)

    monkeypatch.setattr(client(), "batch_get_item", defer_first)
    assert api("get_account", session=credential).status == 200
    assert len(calls) == 2


def test_keys_deferred_every_time_fail_loudly(aws_emulation, monkeypatch):
    def defer_always(RequestItems):  # noqa: N803 - boto3's parameter name
        return {"Responses": {}, "UnprocessedKeys": RequestItems}

    monkeypatch.setattr(client(), "batch_get_item", defer_always)
    with pytest.raises(RuntimeError):
        users_store.get_user_and_session("someone", "0" * 64)
