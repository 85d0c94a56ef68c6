"""moto's server, started by the local cloud, with one performance fix for DynamoDB.

moto answers a Query by sorting and scanning every item of the table (`all_items()`), so a
Query against a table of 100K items took 1.2 s locally (2.4 ms for a GetItem). Items are
already grouped by hash key in moto's `Table.items`; for Queries on the table's own key (not
an index) we hand moto only that key's items. Thread-local, so concurrent requests (moto's
server is threaded) and other operations (Scan) see the full table. Same results, O(items
of that key) instead of O(n log n).

    python -m localcloud.moto_server -H 127.0.0.1 -p 4566
"""

from __future__ import annotations

import threading
from typing import Any

_local = threading.local()


def install_fast_query() -> None:
    from moto.dynamodb.models.table import Table

    all_items = Table.all_items
    query = Table.query

    def scoped_all_items(self: Any) -> Any:
        scope = getattr(_local, "scope", None)
        if scope is not None and scope[0] is self:
            return scope[1]
        return all_items(self)

    def fast_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        bucket = self.items.get(hash_key)  # .get: do not grow the defaultdict
        if bucket is None:
            subset: list[Any] = []
        elif self.range_key_attr:
            subset = sorted(bucket.values(), key=lambda item: item.range_key)
        else:
            subset = [bucket]
        _local.scope = (self, subset)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _local.scope = None

    Table.all_items = scoped_all_items  # type: ignore[method-assign]
    Table.query = fast_query  # type: ignore[method-assign]


def install_light_transactions() -> None:
    """moto backs up every table a TransactWriteItems touches with a deep copy, so each
    transaction cost O(items in the table) (seconds at 100K items, stalling the whole server).
    Here the backup is of the touched items only, restored if the transaction fails."""
    import copy as real_copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class CopyProxy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

        def deepcopy(self, obj: Any, memo: Any = None) -> Any:
            if getattr(_local, "light_tx", False) and isinstance(obj, Table):
                return obj  # replaced by the per-item snapshots below
            return real_copy.deepcopy(obj, memo)

    models.copy = CopyProxy()  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def snapshot(backend: Any, items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        saved = []
        for entry in items:
            _op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            source = op.get("Key") or op.get("Item") or {}
            if table is None or table.hash_key_attr not in source:
                continue
            hash_key = DynamoType(source[table.hash_key_attr])
            range_key = (DynamoType(source[table.range_key_attr])
                         if table.range_key_attr and table.range_key_attr in source else None)
            try:
                current = table.get_item(hash_key, range_key)
            except Exception:
                continue
            saved.append((table, hash_key, range_key, real_copy.deepcopy(current)))
        return saved

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        saved = snapshot(self, transact_items)
        _local.light_tx = True
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                if item is None:
                    table.delete_item(hash_key, range_key)
                elif range_key is not None:
                    table.items[hash_key][range_key] = item
                else:
                    table.items[hash_key] = item
            raise
        finally:
            _local.light_tx = False

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def main() -> None:
    install_fast_query()
    install_light_transactions()
    from moto.server import main as moto_main

    moto_main()


if __name__ == "__main__":
    main()
