"""Live classroom rooms in DynamoDB: each room's open connections and its chat history under
one partition (`ROOM#<session>`: `CONN#<connection>` and `MSG#<time>#<id>`), both with TTLs
(a connection outlives no API Gateway limit; a history a week)."""

from __future__ import annotations

import time
from typing import Any

from edu.live.ports import Member, RoomMessage

CONNECTION_TTL_S = 3 * 3600  # API Gateway closes any connection after 2 hours
HISTORY_TTL_S = 7 * 24 * 3600


class DynamoRoomStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def add(self, member: Member) -> None:
        self.client.put_item(TableName=self.table, Item={
            "pk": {"S": f"ROOM#{member.session_id}"}, "sk": {"S": f"CONN#{member.connection_id}"},
            "user_id": {"S": member.user_id}, "name": {"S": member.name},
            "role": {"S": member.role},
            "ttl": {"N": str(int(time.time()) + CONNECTION_TTL_S)}})

    def remove(self, session_id: str, connection_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key={
            "pk": {"S": f"ROOM#{session_id}"}, "sk": {"S": f"CONN#{connection_id}"}})

    def members(self, session_id: str) -> list[Member]:
        return [Member(connection_id=item["sk"]["S"].removeprefix("CONN#"),
                       session_id=session_id, user_id=item["user_id"]["S"],
                       name=item["name"]["S"], role=item["role"]["S"])
                for item in self._query(session_id, "CONN#", forward=True)]

    def append(self, session_id: str, message: RoomMessage) -> None:
        self.client.put_item(TableName=self.table, Item={
            "pk": {"S": f"ROOM#{session_id}"}, "sk": {"S": f"MSG#{message.at}#{message.id}"},
            "id": {"S": message.id}, "user_id": {"S": message.user_id},
            "name": {"S": message.name}, "role": {"S": message.role},
            "text": {"S": message.text}, "at": {"S": message.at},
            "ttl": {"N": str(int(time.time()) + HISTORY_TTL_S)}})

    def recent(self, session_id: str, limit: int) -> list[RoomMessage]:
        items = self._query(session_id, "MSG#", forward=False, limit=limit)
        return [RoomMessage(id=i["id"]["S"], user_id=i["user_id"]["S"], name=i["name"]["S"],
                            role=i["role"]["S"], text=i["text"]["S"], at=i["at"]["S"])
                for i in reversed(items)]

    def _query(self, session_id: str, prefix: str, forward: bool,
               limit: int | None = None) -> list[dict[str, Any]]:
        now = int(time.time())  # DynamoDB's TTL deletes late: expired items are skipped here
        args: dict[str, Any] = {
            "TableName": self.table, "ConsistentRead": True, "ScanIndexForward": forward,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "FilterExpression": "#ttl > :now", "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": {":pk": {"S": f"ROOM#{session_id}"},
                                          ":prefix": {"S": prefix}, ":now": {"N": str(now)}}}
        items: list[dict[str, Any]] = []
        while True:
            page = self.client.query(**args)
            items += page.get("Items", [])
            if (limit is not None and len(items) >= limit) or "LastEvaluatedKey" not in page:
                return items[:limit] if limit is not None else items
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
