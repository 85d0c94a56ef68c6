"""The live classroom over the platform's WebSocket API: an enrolled student and the course's
teacher enter a live session's room with their access tokens, others are refused at
$connect; chat fans out to the room and is kept for whoever joins later; presence follows
who is there; a flood of messages is rate limited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from localcloud.stack import LocalCloud
from tests.support.courses import published_course
from tests.support.events import watch_events
from tests.support.identity import bearer, login, register, verified_teacher
from tests.support.platform import RunningPlatform


def open_room(api: str, admin_token: str, students: int) -> dict[str, Any]:
    """A live session in five minutes of a new free course: its teacher's token, `students`
    enrolled students' tokens and a student's who is not enrolled."""
    teacher = verified_teacher(api, admin_token)["access_token"]
    course = published_course(api, teacher, price={"amount": 0, "currency": "usd"})
    starts = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    session = httpx.post(f"{api}/courses/{course['id']}/live-sessions", timeout=30,
                         json={"title": "Live Q&A", "starts_at": starts},
                         headers=bearer(teacher)).json()
    enrolled_tokens = []
    for _ in range(students):
        token = login(api, register(api)["email"])["access_token"]
        enrolled = httpx.post(f"{api}/courses/{course['id']}/enroll", headers=bearer(token),
                              timeout=30)
        assert enrolled.status_code == 201, enrolled.text
        enrolled_tokens.append(token)
    outsider = login(api, register(api)["email"])["access_token"]
    return {"session": session["id"], "teacher": teacher, "students": enrolled_tokens,
            "outsider": outsider}


@pytest.fixture(scope="module")
def room(platform: RunningPlatform, admin_token: str) -> dict[str, Any]:
    return open_room(platform.api, admin_token, students=2)


@contextmanager
def joined(platform: RunningPlatform, token: str, session: str) -> Iterator[ClientConnection]:
    with connect(f"{platform.ws}/live?token={token}&session={session}",
                 open_timeout=30) as client:
        yield client


def ask(client: ClientConnection, action: str, **fields: Any) -> dict[str, Any]:
    """Sends an action and returns the route's answer (broadcasts in between are skipped)."""
    client.send(json.dumps({"action": action, **fields}))
    wanted = {"chat": "sent", "history": "history", "presence": "presence", "ask": "asked",
              "upvote": "upvoted", "answer": "answered", "questions": "questions",
              "hand": "hand", "start": "moved", "end": "moved"}[action]
    while True:
        answer: dict[str, Any] = json.loads(client.recv(timeout=30))
        if answer["type"] in (wanted, "error"):
            return answer


def next_of(client: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(client.recv(timeout=30))
        if message["type"] == kind:
            return message


def test_only_the_teacher_and_enrolled_students_get_in(platform: RunningPlatform,
                                                       room: dict[str, Any]) -> None:
    for token, session, status in ((room["outsider"], room["session"], 403),
                                   ("not-a-token", room["session"], 403),
                                   (room["students"][0], "00000000-0000-7000-8000-0000000000aa",
                                    403)):
        with pytest.raises(InvalidStatus) as refused, joined(platform, token, session):
            pass
        assert refused.value.response.status_code == status
    with pytest.raises(InvalidStatus) as missing:
        connect(f"{platform.ws}/live?session={room['session']}", open_timeout=30)
    assert missing.value.response.status_code == 401


def test_chat_presence_and_history(platform: RunningPlatform, room: dict[str, Any]) -> None:
    session = room["session"]
    with joined(platform, room["teacher"], session) as teacher, \
            joined(platform, room["students"][0], session) as ann:
        assert next_of(teacher, "presence")["count"] == 2  # told when Ann came in
        seen = ask(ann, "presence")
        assert seen["count"] == 2 and {p["role"] for p in seen["people"]} == {"teacher",
                                                                              "student"}
        sent = ask(ann, "chat", text="  Is the quiz on Friday? <b>bold</b>  ")
        assert sent["type"] == "sent"
        heard = next_of(teacher, "chat")
        assert heard["id"] == sent["id"] and heard["role"] == "student"
        assert heard["text"] == "Is the quiz on Friday? <b>bold</b>"  # text, shown as text
        bad = ask(ann, "chat", text="x" * 2001)
        assert bad["type"] == "error" and bad["status"] == 422
        assert bad["errors"][0]["field"] == "text"
    with joined(platform, room["students"][1], session) as bob:
        history = ask(bob, "history")["messages"]
        assert [m["id"] for m in history][-1:] == [sent["id"]]
        assert ask(bob, "presence")["count"] == 1  # the others left: $disconnect ran


def test_a_flood_is_rate_limited(platform: RunningPlatform, room: dict[str, Any]) -> None:
    with joined(platform, room["students"][1], room["session"]) as bob:
        answers = [ask(bob, "chat", text=f"spam {n}") for n in range(25)]
        assert any(a["type"] == "error" and a["status"] == 429 for a in answers)


def test_questions_hands_and_the_session_going_live(platform: RunningPlatform,
                                                    room: dict[str, Any],
                                                    cloud: LocalCloud) -> None:
    session = room["session"]
    with joined(platform, room["teacher"], session) as teacher, \
            joined(platform, room["students"][0], session) as ann, \
            joined(platform, room["students"][1], session) as bob, \
            watch_events(cloud, {"source": ["edu.live"]}) as watch:
        asked = ask(ann, "ask", text="Will this be recorded?")
        assert asked["type"] == "asked"
        assert next_of(teacher, "question")["id"] == asked["id"]
        assert ask(ann, "upvote", question_id=asked["id"])["status"] == 409  # her own
        assert ask(bob, "upvote", question_id=asked["id"])["type"] == "upvoted"
        assert ask(bob, "answer", question_id=asked["id"])["status"] == 403
        assert ask(teacher, "answer", question_id=asked["id"])["type"] == "answered"
        (listed,) = [q for q in ask(bob, "questions")["questions"] if q["id"] == asked["id"]]
        assert (listed["votes"], listed["answered"]) == (1, True)
        raised = ask(bob, "hand", raised=True)
        assert [h["name"] for h in raised["hands"]] and raised["hands"][0]["user_id"]
        assert ask(bob, "hand", raised=False)["hands"] == []
        assert ask(ann, "start")["status"] == 403
        assert ask(teacher, "start")["status"] == "live"
        assert next_of(ann, "session")["status"] == "live"
        assert ask(teacher, "end")["status"] == "ended"
        kinds = [e["type"] for e in watch.collect(seconds=15, until=2)]
        assert kinds == ["live.started", "live.ended"]
    with pytest.raises(InvalidStatus), joined(platform, room["students"][0], session):
        pass  # an ended session's room is closed



def test_a_dropped_student_reconnects_with_the_same_token(platform: RunningPlatform,
                                                           admin_token: str) -> None:
    """A fresh session (the shared room's may have ended): a student whose connection drops
    comes back with the token it had, finds the room's messages and is counted once."""
    fresh = open_room(platform.api, admin_token, students=1)
    token, session = fresh["students"][0], fresh["session"]
    with joined(platform, token, session) as first:
        said = ask(first, "chat", text="before the drop")
    with joined(platform, token, session) as again:
        history = ask(again, "history")["messages"]
        assert [m["id"] for m in history] == [said["id"]]
        assert ask(again, "presence")["count"] == 1
