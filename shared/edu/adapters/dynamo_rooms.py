"""Live classroom rooms in DynamoDB: each room's open connections, chat history, questions
and raised hands under one partition (`ROOM#<session>`: `CONN#<connection>`,
`MSG#<time>#<id>`, `Q#<id>`, `HAND#<user>`), with TTLs. A connection's record lives as long
as API Gateway's idle timeout from the member's last message (each one renews it), so one
whose $disconnect never ran drops out of presence within that time; the rest lasts a week."""

from __future__ import annotations

import time
from typing import Any

from edu.live.ports import Member, Question, RoomMessage

MEMBER_TTL_S = 11 * 60  # API Gateway's idle timeout (10 minutes) and a minute of slack
HAND_TTL_S = 3 * 3600  # API Gateway closes any connection after 2 hours
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
            "ttl": {"N": str(int(time.time()) + MEMBER_TTL_S)}})

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

    def ask(self, session_id: str, question: Question) -> None:
        self.client.put_item(TableName=self.table, Item={
            "pk": {"S": f"ROOM#{session_id}"}, "sk": {"S": f"Q#{question.id}"},
            "id": {"S": question.id}, "user_id": {"S": question.user_id},
            "name": {"S": question.name}, "text": {"S": question.text},
            "at": {"S": question.at}, "answered": {"BOOL": False},
            "ttl": {"N": str(int(time.time()) + HISTORY_TTL_S)}})

    def question(self, session_id: str, question_id: str) -> Question | None:
        item = self.client.get_item(TableName=self.table, ConsistentRead=True, Key={
            "pk": {"S": f"ROOM#{session_id}"}, "sk": {"S": f"Q#{question_id}"}}).get("Item")
        return _question(item) if item else None

    def vote(self, session_id: str, question_id: str, user_id: str) -> Question | None:
        return self._update(session_id, question_id, "ADD voters :u",
                            {":u": {"SS": [user_id]}})

    def answered(self, session_id: str, question_id: str) -> Question | None:
        return self._update(session_id, question_id, "SET answered = :t",
                            {":t": {"BOOL": True}})

    def questions(self, session_id: str) -> list[Question]:
        return [_question(item) for item in self._query(session_id, "Q#", forward=True)]

    def hand(self, session_id: str, user_id: str, name: str, raised: bool) -> None:
        key = {"pk": {"S": f"ROOM#{session_id}"}, "sk": {"S": f"HAND#{user_id}"}}
        if raised:
            self._raise(key, user_id, name)
        else:
            self.client.delete_item(TableName=self.table, Key=key)

    def hands(self, session_id: str) -> list[tuple[str, str]]:
        items = sorted(self._query(session_id, "HAND#", forward=True),
                       key=lambda i: float(i["at"]["N"]))
        return [(i["user_id"]["S"], i["name"]["S"]) for i in items]

    def _raise(self, key: dict[str, Any], user_id: str, name: str) -> None:
        """Keeps the time a hand was first raised (raising it again keeps its place)."""
        self.client.update_item(
            TableName=self.table, Key=key,
            UpdateExpression="SET user_id = :u, #name = :n, #ttl = :ttl, "
                             "#at = if_not_exists(#at, :at)",
            ExpressionAttributeNames={"#name": "name", "#ttl": "ttl", "#at": "at"},
            ExpressionAttributeValues={":u": {"S": user_id}, ":n": {"S": name},
                                       ":ttl": {"N": str(int(time.time()) + HAND_TTL_S)},
                                       ":at": {"N": str(time.time())}})

    def _update(self, session_id: str, question_id: str, expression: str,
                values: dict[str, Any]) -> Question | None:
        try:
            item = self.client.update_item(
                TableName=self.table, ReturnValues="ALL_NEW",
                Key={"pk": {"S": f"ROOM#{session_id}"}, "sk": {"S": f"Q#{question_id}"}},
                UpdateExpression=expression, ExpressionAttributeValues=values,
                ConditionExpression="attribute_exists(pk)")["Attributes"]
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return _question(item)

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


def _question(item: dict[str, Any]) -> Question:
    return Question(id=item["id"]["S"], user_id=item["user_id"]["S"], name=item["name"]["S"],
                    text=item["text"]["S"], at=item["at"]["S"],
                    voters=frozenset(item.get("voters", {}).get("SS", [])),
                    answered=bool(item.get("answered", {}).get("BOOL", False)))

