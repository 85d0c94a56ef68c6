"""The classroom's rooms in DynamoDB (moto server): members expire with the idle timeout
unless they speak, questions take each vote once, hands keep their first place."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from edu.adapters.dynamo_rooms import DynamoRoomStore
from edu.live.ports import Member, Question
from localcloud.stack import LocalCloud
from tests.support.aws import aws_client


@pytest.fixture
def rooms(cloud: LocalCloud) -> tuple[DynamoRoomStore, Any]:
    client = aws_client(cloud, "dynamodb")
    return DynamoRoomStore(client, "edu-platform-classroom"), client


def test_a_member_who_went_silent_past_the_idle_timeout_is_not_present(
        rooms: tuple[DynamoRoomStore, Any]) -> None:
    store, client = rooms
    session = str(uuid.uuid4())
    store.add(Member("c1", session, "u1", "Ann", "student"))
    store.add(Member("c2", session, "u2", "Ben", "student"))
    client.update_item(  # Ben's last message was longer ago than the idle timeout
        TableName="edu-platform-classroom",
        Key={"pk": {"S": f"ROOM#{session}"}, "sk": {"S": "CONN#c2"}},
        UpdateExpression="SET #ttl = :past", ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}})
    assert [m.user_id for m in store.members(session)] == ["u1"]
    store.add(Member("c2", session, "u2", "Ben", "student"))  # he speaks again
    assert sorted(m.user_id for m in store.members(session)) == ["u1", "u2"]


def test_votes_count_once_and_hands_keep_their_place(rooms: tuple[DynamoRoomStore, Any]
                                                     ) -> None:
    store, _ = rooms
    session = str(uuid.uuid4())
    question = Question(id=str(uuid.uuid4()), user_id="u1", name="Ann", text="Why?",
                        at="2027-01-01T00:00:00.000Z")
    store.ask(session, question)
    store.vote(session, question.id, "u2")
    voted = store.vote(session, question.id, "u2")
    assert voted is not None and voted.voters == frozenset({"u2"})
    assert store.vote(session, str(uuid.uuid4()), "u2") is None  # no such question
    answered = store.answered(session, question.id)
    assert answered is not None and answered.answered
    store.hand(session, "u1", "Ann", raised=True)
    store.hand(session, "u2", "Ben", raised=True)
    store.hand(session, "u1", "Ann", raised=True)  # again: still first
    assert store.hands(session) == [("u1", "Ann"), ("u2", "Ben")]
    store.hand(session, "u1", "Ann", raised=False)
    assert store.hands(session) == [("u2", "Ben")]
