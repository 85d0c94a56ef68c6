"""Teacher API keys in the users table (pynamodb):

    APIKEY#<key id> / KEY          the key (secret as SHA-256 only): what a request looks up
    USER#<user>     / APIKEY#<id>  the teacher's list of their keys
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.transactions import TransactWrite

from edu.adapters.dynamo_base import condition_failed, connection, keyed_base
from edu.apikeys.models import ApiKeyRecord


@cache
def _models(table_: str, host_: str | None, region_: str) -> tuple[Any, Any]:
    base = keyed_base(table_, host_, region_)

    class KeyItem(base):  # type: ignore[valid-type,misc]
        id = UnicodeAttribute()
        user_id = UnicodeAttribute()
        name = UnicodeAttribute()
        scopes = ListAttribute(of=UnicodeAttribute)
        prefix = UnicodeAttribute()
        secret_hash = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        revoked_at = UTCDateTimeAttribute(null=True)

    class OwnedKeyItem(base):  # type: ignore[valid-type,misc]
        key_id = UnicodeAttribute()

    return KeyItem, OwnedKeyItem


def _record(item: Any) -> ApiKeyRecord:
    return ApiKeyRecord(id=item.id, user_id=item.user_id, name=item.name,
                        scopes=list(item.scopes), prefix=item.prefix,
                        secret_hash=item.secret_hash, created_at=item.created_at,
                        revoked_at=item.revoked_at)


class DynamoApiKeyStore:
    def __init__(self, table: str, host: str | None, region: str) -> None:
        self.key_item, self.owned_item = _models(table, host, region)
        self.connection = connection(host, region)

    def create(self, record: ApiKeyRecord) -> None:
        item = self.key_item(f"APIKEY#{record.id}", "KEY", **record.model_dump())
        with TransactWrite(connection=self.connection) as tx:
            tx.save(item, condition=self.key_item.pk.does_not_exist())
            tx.save(self.owned_item(f"USER#{record.user_id}", f"APIKEY#{record.id}",
                                    key_id=record.id))

    def get(self, key_id: str) -> ApiKeyRecord | None:
        try:
            return _record(self.key_item.get(f"APIKEY#{key_id}", "KEY", consistent_read=True))
        except DoesNotExist:
            return None

    def list_for(self, user_id: str) -> list[ApiKeyRecord]:
        owned = [o.key_id for o in self.owned_item.query(
            f"USER#{user_id}", self.owned_item.sk.startswith("APIKEY#"), consistent_read=True)]
        items = self.key_item.batch_get([(f"APIKEY#{k}", "KEY") for k in owned],
                                        consistent_read=True)
        return sorted((_record(i) for i in items), key=lambda r: r.created_at, reverse=True)

    def revoke(self, user_id: str, key_id: str, at: datetime) -> ApiKeyRecord | None:
        record = self.get(key_id)
        if record is None or record.user_id != user_id:
            return None
        if record.revoked_at is not None:
            return record
        item = self.key_item(f"APIKEY#{key_id}", "KEY")
        try:
            item.update(actions=[self.key_item.revoked_at.set(at)],
                        condition=self.key_item.revoked_at.does_not_exist())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
        return self.get(key_id)
