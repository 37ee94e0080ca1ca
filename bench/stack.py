"""`python -m bench.stack ARGS`: the local stack (python -m local.server ARGS) for the load test.

One change to the emulator, none to the stack: moto backs up every table touched by a
TransactWriteItems with a deep copy of the whole table, so each transaction costs time in
proportion to the table's size, and a load test that grows the table slows down as it runs (and
measures moto). Here the backup covers only the partitions the transaction touches, restored the
same way if it fails, which keeps the rollback and makes a transaction cost what it touches.
"""

from __future__ import annotations

import copy
import sys
import types
from typing import Any


def partition_backups() -> None:
    """Patch moto (this process) so a TransactWriteItems backs up only the partitions it touches."""
    import moto.dynamodb.models as dynamodb
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    dynamodb.copy = types.SimpleNamespace(**{**vars(copy), "deepcopy": deepcopy})  # type: ignore[attr-defined]
    moto_transaction = dynamodb.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: dict[tuple[Any, Any], Any] = {}
        for item in transact_items:
            _, op = next(iter(item.items()))
            table = self.tables.get(op.get("TableName"))
            key = op.get("Key") or op.get("Item")
            if table is not None and key and table.hash_key_attr in key:
                hash_value = DynamoType(key[table.hash_key_attr])
                if (table, hash_value) not in saved:
                    present = hash_value in table.items
                    saved[(table, hash_value)] = copy.deepcopy(table.items[hash_value]) if present else None
        try:
            moto_transaction(self, transact_items)
        except Exception:
            for (table, hash_value), partition in saved.items():
                if partition is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = partition
            raise

    dynamodb.DynamoDBBackend.transact_write_items = transact_write_items


if __name__ == "__main__":
    partition_backups()
    from local import server

    server.main(sys.argv[1:])
