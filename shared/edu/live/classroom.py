"""The live classroom: who may enter a live session's room (its course's teacher and the
students enrolled in it), and what happens there — chat with a per-user rate limit, presence,
the last messages for whoever joins. The room's connections and history are in a RoomStore;
messages reach the room through a Broadcaster (API Gateway's @connections API)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from edu.errors import FieldError, Forbidden, NotFound, RateLimited, ValidationFailed
from edu.events import event_time
from edu.ids import is_uuid, uuid7
from edu.live.ports import Broadcaster, LiveSessionStore, Member, RoomMessage, RoomStore

HISTORY = 200  # messages a joining member gets
MAX_TEXT = 2000  # characters of one chat message
OPEN = ("scheduled", "live")  # sessions whose room can be entered


class RateLimit:
    """`limit` messages per `window_s` per user; `hit` answers the wait, None when allowed."""

    def __init__(self, hit: Callable[[str, int, int], int | None], limit: int = 20,
                 window_s: int = 10) -> None:
        self.hit, self.limit, self.window_s = hit, limit, window_s


class ClassroomService:
    def __init__(self, sessions: LiveSessionStore, enrolled: Callable[[str, str], bool],
                 rooms: RoomStore, rate: RateLimit,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.sessions = sessions
        self.enrolled = enrolled
        self.rooms = rooms
        self.rate = rate
        self.clock = clock

    def admit(self, user_id: str, name: str, session_id: str) -> dict[str, str]:
        """The authorizer context of someone entering a session's room: its course's teacher
        or an enrolled student, while the session is scheduled or live."""
        session = self.sessions.get(session_id) if is_uuid(session_id) else None
        if session is None or session.status not in OPEN:
            raise NotFound("No live session with this id is open.")
        if user_id == session.teacher_id:
            role = "teacher"
        elif self.enrolled(user_id, session.course_id):
            role = "student"
        else:
            raise Forbidden("Enroll in the course to join its live sessions.")
        return {"user_id": user_id, "name": name, "role": role, "session_id": session.id,
                "course_id": session.course_id}

    def joined(self, member: Member, room: Broadcaster) -> None:
        """Adds the member and tells the others (a connection cannot be posted to during its
        own $connect: the newcomer asks for presence and history once it is in)."""
        self.rooms.add(member)
        self._send(member.session_id, room, {"type": "presence", **self._presence(
            member.session_id)}, skip=member.connection_id)

    def left(self, session_id: str, connection_id: str, room: Broadcaster) -> None:
        self.rooms.remove(session_id, connection_id)
        self._send(session_id, room, {"type": "presence", **self._presence(session_id)})

    def say(self, member: Member, text: Any, room: Broadcaster) -> RoomMessage:
        clean = _chat_text(text)
        wait = self.rate.hit(f"live-chat:{member.user_id}", self.rate.limit,
                             self.rate.window_s)
        if wait is not None:
            raise RateLimited("You are sending messages too fast; wait a moment.",
                              retry_after=wait)
        message = RoomMessage(id=uuid7(), user_id=member.user_id, name=member.name,
                              role=member.role, text=clean, at=event_time(self.clock()))
        self.rooms.append(member.session_id, message)
        self._send(member.session_id, room, {"type": "chat", **_message(message)})
        return message

    def history(self, session_id: str) -> dict[str, Any]:
        return {"type": "history", "messages": [
            _message(m) for m in self.rooms.recent(session_id, HISTORY)]}

    def presence(self, session_id: str) -> dict[str, Any]:
        return {"type": "presence", **self._presence(session_id)}

    def _presence(self, session_id: str) -> dict[str, Any]:
        people: dict[str, dict[str, str]] = {}
        for m in self.rooms.members(session_id):  # a user with two tabs is one person
            people[m.user_id] = {"user_id": m.user_id, "name": m.name, "role": m.role}
        return {"count": len(people), "people": sorted(people.values(),
                                                       key=lambda p: (p["role"], p["name"]))}

    def _send(self, session_id: str, room: Broadcaster, payload: dict[str, Any],
              skip: str | None = None) -> None:
        members = [m for m in self.rooms.members(session_id) if m.connection_id != skip]
        for gone in room.send([m.connection_id for m in members], payload):
            self.rooms.remove(session_id, gone)  # a ghost: its $disconnect never ran


def _chat_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("The message is not valid.", [
            FieldError("text", "write something to send")])
    clean = text.strip()
    if len(clean) > MAX_TEXT:
        raise ValidationFailed("The message is not valid.", [
            FieldError("text", f"at most {MAX_TEXT} characters")])
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in clean):
        raise ValidationFailed("The message is not valid.", [
            FieldError("text", "control characters are not allowed")])
    return clean


def _message(message: RoomMessage) -> dict[str, str]:
    return {"id": message.id, "user_id": message.user_id, "name": message.name,
            "role": message.role, "text": message.text, "at": message.at}
