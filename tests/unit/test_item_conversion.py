"""store/table.py converts items itself for speed: it must write what boto3's TypeSerializer writes and
read back every kind of DynamoDB attribute value as plain Python."""

import pytest
from boto3.dynamodb.types import TypeSerializer

from authcore.store import table

ITEM = {
    "text": "x",
    "empty": "",
    "number": 1796531179468,
    "negative": -3,
    "flag": True,
    "off": False,
    "nothing": None,
    "blob": b"\x00\xff",
    "map": {"list": [1, "two", {"deep": False}], "empty": {}},
    "list": [],
    "strings": {"a", "b"},
    "numbers": {1, 2},
    "blobs": {b"a"},
}


def test_marshal_writes_what_boto3_writes():
    serializer = TypeSerializer()
    assert table.marshal(ITEM) == {name: serializer.serialize(value) for name, value in ITEM.items()}
    assert table.marshal({"tuple": ("a", 1)}) == {"tuple": serializer.serialize(("a", 1))}  # a list, as boto3 writes


def test_unmarshal_reads_every_kind_back():
    # botocore hands binaries over as bytes, in B and in BS
    wire = table.marshal(ITEM) | {"blob": {"B": b"\x00\xff"}, "blobs": {"BS": [b"a"]}}
    assert table.unmarshal(wire) == ITEM
    assert table.unmarshal(None) is None


def test_marshal_refuses_what_no_item_holds():
    for value in (1.5, {"a", 1}, set()):
        with pytest.raises(TypeError):
            table.marshal({"value": value})
