"""The update-expression builder, and the rate-limit items (charge, refund, window reset) it sits beside."""

from __future__ import annotations

import re

import pytest

from authcore.store import ratelimit
from authcore.store.ratelimit import Charge
from authcore.store.table import table_name
from authcore.store.update import ProfileUpdate

KEY = {"pk": "USER#u", "sk": "PROFILE"}
MARSHALLED_KEY = {"pk": {"S": "USER#u"}, "sk": {"S": "PROFILE"}}


def test_the_table_name_comes_from_the_test_environment():
    assert table_name() == "local-Table"


def test_set_add_remove_and_conditions_in_one_update():
    update = (
        ProfileUpdate()
        .set("name", "Ada")
        .set(("prefs", "theme"), "dark")
        .add("count", 1)
        .remove("old")
        .condition_equals("email", "ada@example.com")
    )
    assert update.as_update(KEY) == {
        "TableName": "local-Table",
        "Key": MARSHALLED_KEY,
        "UpdateExpression": "SET #n0 = :v0, #n1.#n2 = :v1 ADD #n3 :v2 REMOVE #n4",
        "ConditionExpression": "attribute_exists(pk) AND (#n5 = :v3)",
        "ExpressionAttributeNames": {
            "#n0": "name",
            "#n1": "prefs",
            "#n2": "theme",
            "#n3": "count",
            "#n4": "old",
            "#n5": "email",
        },
        "ExpressionAttributeValues": {
            ":v0": {"S": "Ada"},
            ":v1": {"S": "dark"},
            ":v2": {"N": "1"},
            ":v3": {"S": "ada@example.com"},
        },
    }


def test_several_clauses_of_a_kind_are_comma_separated():
    update = ProfileUpdate().set("a", 1).set("b", 2).add("c", 3).add("d", -1).remove("e").remove(("f", "g"))
    expression = update.as_update(KEY)["UpdateExpression"]
    assert expression == "SET #n0 = :v0, #n1 = :v1 ADD #n2 :v2, #n3 :v3 REMOVE #n4, #n5.#n6"


def test_conditions_are_parenthesised_and_anded():
    update = ProfileUpdate()
    name = update.name("codeFailures")
    update.condition(f"attribute_not_exists({name}) OR {name} = {update.value(3)}")
    update.condition_equals("phone", "+14155550100")
    update.set("x", True)
    built = update.as_update(KEY)
    assert built["ConditionExpression"] == (
        "attribute_exists(pk) AND (attribute_not_exists(#n0) OR #n0 = :v0) AND (#n1 = :v1)"
    )
    assert built["ExpressionAttributeValues"][":v0"] == {"N": "3"}
    assert built["ExpressionAttributeValues"][":v2"] == {"BOOL": True}


def test_placeholders_are_unique_and_every_one_is_defined():
    update = ProfileUpdate()
    for i in range(12):
        update.set(f"attr{i}", i).condition_equals(f"other{i}", f"v{i}")
    built = update.as_update(KEY)
    text = built["UpdateExpression"] + " " + built["ConditionExpression"]
    names = set(re.findall(r"#n\d+", text))
    values = set(re.findall(r":v\d+", text))
    assert names == set(built["ExpressionAttributeNames"]) and len(names) == 24
    assert values == set(built["ExpressionAttributeValues"]) and len(values) == 24
    assert len(set(built["ExpressionAttributeNames"].values())) == 24
    # ":v1" must not be a prefix trap for ":v10" etc.: each placeholder occurs as a whole token
    assert all(re.search(rf"{re.escape(v)}(?!\d)", text) for v in values)


def test_a_name_used_again_maps_to_the_same_placeholder():
    update = ProfileUpdate().set("email", "a@x").condition_equals("email", "b@x").remove(("sessions", "email"))
    built = update.as_update(KEY)
    assert built["ExpressionAttributeNames"] == {"#n0": "email", "#n1": "sessions"}
    assert built["UpdateExpression"] == "SET #n0 = :v0 REMOVE #n1.#n0"
    assert built["ConditionExpression"] == "attribute_exists(pk) AND (#n0 = :v1)"


def test_values_are_never_shared_even_when_equal():
    update = ProfileUpdate().set("a", 1).set("b", 1)
    assert update.as_update(KEY)["ExpressionAttributeValues"] == {":v0": {"N": "1"}, ":v1": {"N": "1"}}


def test_a_tuple_path_is_a_dotted_chain_of_placeholders():
    digest = "3f.a#b c"  # any string may be a map key: it only ever appears as a placeholder
    update = ProfileUpdate().set(("sessions", digest), {"id": "s1", "expire": 5})
    built = update.as_update(KEY)
    assert built["UpdateExpression"] == "SET #n0.#n1 = :v0"
    assert built["ExpressionAttributeNames"] == {"#n0": "sessions", "#n1": digest}
    assert built["ExpressionAttributeValues"] == {":v0": {"M": {"id": {"S": "s1"}, "expire": {"N": "5"}}}}


def test_a_dotted_string_is_one_attribute_not_a_path():
    built = ProfileUpdate().set("a.b", 1).as_update(KEY)
    assert built["UpdateExpression"] == "SET #n0 = :v0"
    assert built["ExpressionAttributeNames"] == {"#n0": "a.b"}


def test_condition_equals_empty_also_accepts_a_missing_attribute():
    built = ProfileUpdate().condition_equals("phone", "").set("x", 1).as_update(KEY)
    assert built["ConditionExpression"] == "attribute_exists(pk) AND (attribute_not_exists(#n0) OR #n0 = :v0)"
    assert built["ExpressionAttributeNames"]["#n0"] == "phone"
    assert built["ExpressionAttributeValues"][":v0"] == {"S": ""}


@pytest.mark.parametrize("value", ["x", 0, False])
def test_condition_equals_anything_else_requires_the_value(value):
    built = ProfileUpdate().condition_equals("phone", value).set("x", 1).as_update(KEY)
    assert built["ConditionExpression"] == "attribute_exists(pk) AND (#n0 = :v0)"


def test_must_exist_comes_first_and_can_be_dropped():
    update = ProfileUpdate().set("x", 1).condition_equals("y", 2)
    assert update.as_update(KEY)["ConditionExpression"].startswith("attribute_exists(pk) AND ")
    assert update.as_update(KEY, must_exist=False)["ConditionExpression"] == "(#n1 = :v1)"


def test_no_condition_key_without_conditions():
    built = ProfileUpdate().set("x", 1).as_update(KEY, must_exist=False)
    assert "ConditionExpression" not in built
    assert built["UpdateExpression"] == "SET #n0 = :v0"


def test_no_values_key_without_values():
    built = ProfileUpdate().remove("a").remove(("b", "c")).as_update(KEY)
    assert "ExpressionAttributeValues" not in built
    assert built == {
        "TableName": "local-Table",
        "Key": MARSHALLED_KEY,
        "UpdateExpression": "REMOVE #n0, #n1.#n2",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeNames": {"#n0": "a", "#n1": "b", "#n2": "c"},
    }


def test_as_update_can_be_called_twice_and_returns_copies():
    update = ProfileUpdate().set("x", 1)
    first = update.as_update(KEY)
    first["ExpressionAttributeNames"]["#n9"] = "tampered"
    assert update.as_update(KEY)["ExpressionAttributeNames"] == {"#n0": "x"}


def test_values_are_dynamodb_marshalled():
    update = ProfileUpdate()
    for i, value in enumerate(("s", 7, True, None, ["a", 1], {"k": "v"}, {"one", "two"})):
        update.set(f"a{i}", value)
    values = update.as_update(KEY)["ExpressionAttributeValues"]
    assert values[":v0"] == {"S": "s"}
    assert values[":v1"] == {"N": "7"}
    assert values[":v2"] == {"BOOL": True}
    assert values[":v3"] == {"NULL": True}
    assert values[":v4"] == {"L": [{"S": "a"}, {"N": "1"}]}
    assert values[":v5"] == {"M": {"k": {"S": "v"}}}
    assert values[":v6"]["SS"] and sorted(values[":v6"]["SS"]) == ["one", "two"]


# --- rate-limit charges --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "reset"),
    [(7_200, 10_800), (7_201, 10_800), (10_799, 10_800), (1_700_000_000, 1_700_002_800)],
)
def test_a_fixed_window_resets_at_the_next_window_boundary(now, reset):
    assert Charge("b", "k", 10, 3600).reset(now) == reset


def test_a_minute_window_resets_on_the_minute():
    assert Charge("b", "k", 5, 60).reset(125) == 180


@pytest.mark.parametrize("now", [0, 7_200, 7_201, 1_700_000_000])
def test_a_cooldown_resets_its_length_after_now(now):
    assert Charge("send-sms", "+14155550100", 1, 60, cooldown=True).reset(now) == now + 60


def _pk(bucket, key):
    return ratelimit._pk(bucket, key)


def test_rate_keys_are_digests_not_addresses():
    pk = _pk("send-email", "ada@example.com")
    assert re.fullmatch(r"RATE#send-email#[0-9a-f]{32}", pk)
    assert "ada" not in pk
    assert _pk("send-email", "grace@example.com") != pk and _pk("send-sms", "ada@example.com") != pk


def test_a_fixed_window_charge_is_a_conditional_add_in_its_window():
    charge = Charge("verify-email", "u", 10, 3600)
    update = ratelimit.charge_update(charge, 7_201)
    assert update == {
        "TableName": "local-Table",
        "Key": {"pk": {"S": _pk("verify-email", "u")}, "sk": {"S": "7200"}},
        "UpdateExpression": "ADD #n :one SET #ttl = :ttl",
        "ConditionExpression": "attribute_not_exists(#n) OR #n < :limit",
        "ExpressionAttributeNames": {"#n": "count", "#ttl": "ttl"},
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": "10"}, ":ttl": {"N": "10860"}},
    }


def test_a_cooldown_charge_sets_until_if_it_has_passed():
    charge = Charge("send-email", "ada@example.com", 1, 60, cooldown=True)
    update = ratelimit.charge_update(charge, 1_000)
    assert update == {
        "TableName": "local-Table",
        "Key": {"pk": {"S": _pk("send-email", "ada@example.com")}, "sk": {"S": "cooldown"}},
        "UpdateExpression": "SET #until = :until, #ttl = :ttl",
        "ConditionExpression": "attribute_not_exists(#until) OR #until <= :now",
        "ExpressionAttributeNames": {"#until": "until", "#ttl": "ttl"},
        "ExpressionAttributeValues": {":until": {"N": "1060"}, ":now": {"N": "1000"}, ":ttl": {"N": "1120"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",  # a refusal tells when the cooldown ends
    }


def test_a_refund_is_an_unconditional_minus_one_on_the_same_item():
    charge = Charge("verify-email", "u", 10, 3600)
    refund = ratelimit.refund_item(charge, 7_201)
    assert refund == {
        "Update": {
            "TableName": "local-Table",
            "Key": ratelimit.charge_update(charge, 7_201)["Key"],
            "UpdateExpression": "ADD #n :minus",
            "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": {":minus": {"N": "-1"}},
        }
    }
    assert "ConditionExpression" not in refund["Update"]


def test_a_refund_in_the_same_window_hits_the_same_item_and_a_later_one_does_not():
    charge = Charge("verify-email", "u", 10, 3600)
    spent = ratelimit.charge_update(charge, 7_201)["Key"]
    assert ratelimit.refund_item(charge, 10_799)["Update"]["Key"] == spent
    assert ratelimit.refund_item(charge, 10_800)["Update"]["Key"] != spent


def test_a_cooldown_refund_deletes_the_cooldown_item():
    charge = Charge("send-sms", "+14155550100", 1, 60, cooldown=True)
    assert ratelimit.refund_item(charge, 1_000) == {
        "Delete": {"TableName": "local-Table", "Key": ratelimit.charge_update(charge, 1_000)["Key"]}
    }
    assert ratelimit.refund_item(charge, 5_000)["Delete"]["Key"] == ratelimit.charge_update(charge, 1_000)["Key"]
