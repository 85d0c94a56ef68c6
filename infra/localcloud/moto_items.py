"""DynamoDB tables whose stored items are read when first used (`LazyPartitions`), so the
local endpoint answers at once however much it keeps."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from localcloud.moto_state import key_text


def dynamodb_backend(region: str) -> Any:
    """moto's DynamoDB of a region (the default account's)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


class LazyPartitions(defaultdict[Any, Any]):
    """A moto table's item map whose stored partitions are read on first use.

    Keys are moto's hash-key values; a partition is an `Item` (table without a range key)
    or a dict of range key to `Item`. `pending` holds the stored hash keys (canonical text)
    not read yet; anything that walks the whole map reads them all first."""

    def __init__(self, table: Any, pending: set[str], read: Callable[[str], list[bytes]]
                 ) -> None:
        super().__init__(dict)
        self.table = table
        self.pending = pending
        self.read = read
        self.guard = threading.RLock()

    def _load(self, key: Any) -> bool:
        """Reads the key's stored partition if it has one not read yet."""
        if not self.pending:
            return False
        text = key_text(key.to_json()) if hasattr(key, "to_json") else None
        if text is None or text not in self.pending:
            return False
        from moto.dynamodb.models.dynamo_type import DynamoType, Item

        with self.guard:
            if text not in self.pending:
                return dict.__contains__(self, key)
            table = self.table
            partition: dict[Any, Any] = {}
            single = None
            for doc in self.read(text):
                attrs = orjson.loads(doc)
                range_value = (DynamoType(attrs[table.range_key_attr])
                               if table.range_key_attr else None)
                item = Item(DynamoType(attrs[table.hash_key_attr]), range_value, attrs)
                if range_value is None:
                    single = item
                else:
                    partition[range_value] = item
            if single is not None:
                dict.__setitem__(self, key, single)
            elif partition:
                dict.__setitem__(self, key, partition)
            self.pending.discard(text)
        return True

    def _load_all(self) -> None:
        if not self.pending:
            return
        from moto.dynamodb.models.dynamo_type import DynamoType

        with self.guard:
            for text in list(self.pending):
                self._load(DynamoType(orjson.loads(text)))

    def __missing__(self, key: Any) -> Any:
        if self._load(key) and dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return super().__missing__(key)

    def __contains__(self, key: object) -> bool:
        self._load(key)
        return dict.__contains__(self, key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._load(key)
        return dict.get(self, key, default)

    def pop(self, key: Any, *default: Any) -> Any:
        self._load(key)
        return dict.pop(self, key, *default)

    def __delitem__(self, key: Any) -> None:
        self._load(key)
        dict.__delitem__(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if self.pending and hasattr(key, "to_json"):  # a put replaces what was stored
            self.pending.discard(key_text(key.to_json()))
        dict.__setitem__(self, key, value)

    def __iter__(self) -> Iterator[Any]:
        self._load_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._load_all()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._load_all()
        return dict.keys(self)

    def values(self) -> Any:
        self._load_all()
        return dict.values(self)

    def items(self) -> Any:
        self._load_all()
        return dict.items(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:  # backups copy the plain map
        import copy

        self._load_all()
        return copy.deepcopy(defaultdict(dict, dict.items(self)), memo)
