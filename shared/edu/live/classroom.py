"""The live classroom: who may enter a live session's room (its course's teacher and the
students enrolled in it), and what happens there — chat and questions with a per-user rate
limit, upvotes, answered marks, raised hands, presence, the last messages for whoever joins,
and the teacher starting and ending the session. The room's state is in a RoomStore; messages
reach the room through a Broadcaster (API Gateway's @connections API)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from edu.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from edu.events import Envelope, LiveEnded, LiveStarted, event_time, make_event
from edu.ids import is_uuid, uuid7
from edu.live.models import OPEN, LiveSession
from edu.live.ports import (
    Broadcaster,
    LiveSessionStore,
    Member,
    Question,
    RoomMessage,
    RoomStore,
)

HISTORY = 200  # messages a joining member gets
MAX_TEXT = 2000  # characters of one chat message
MAX_QUESTION = 500  # characters of one question


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

    def seen(self, member: Member) -> None:
        """The member sent something: its presence lasts another idle timeout."""
        self.rooms.add(member)

    def left(self, session_id: str, connection_id: str, room: Broadcaster) -> None:
        self.rooms.remove(session_id, connection_id)
        self._send(session_id, room, {"type": "presence", **self._presence(session_id)})

    def say(self, member: Member, text: Any, room: Broadcaster) -> RoomMessage:
        clean = _text(text, MAX_TEXT)
        self._limit(member)
        message = RoomMessage(id=uuid7(), user_id=member.user_id, name=member.name,
                              role=member.role, text=clean, at=event_time(self.clock()))
        self.rooms.append(member.session_id, message)
        self._send(member.session_id, room, {"type": "chat", **_message(message)})
        return message

    # --- questions and raised hands ---------------------------------------------------------

    def ask(self, member: Member, text: Any, room: Broadcaster) -> Question:
        clean = _text(text, MAX_QUESTION)
        self._limit(member)
        question = Question(id=uuid7(), user_id=member.user_id, name=member.name, text=clean,
                            at=event_time(self.clock()))
        self.rooms.ask(member.session_id, question)
        self._send(member.session_id, room, {"type": "question", **_question(question)})
        return question

    def upvote(self, member: Member, question_id: Any, room: Broadcaster) -> Question:
        """A student's vote for someone else's question (one per student)."""
        question = self._question(member.session_id, question_id)
        if question.user_id == member.user_id:
            raise Conflict("You cannot upvote your own question.")
        voted = self.rooms.vote(member.session_id, question.id, member.user_id)
        assert voted is not None  # questions are never deleted
        self._send(member.session_id, room, {"type": "question", **_question(voted)})
        return voted

    def answer(self, member: Member, question_id: Any, room: Broadcaster) -> Question:
        self._teacher(member, "mark questions answered")
        question = self._question(member.session_id, question_id)
        done = self.rooms.answered(member.session_id, question.id)
        assert done is not None
        self._send(member.session_id, room, {"type": "question", **_question(done)})
        return done

    def questions(self, session_id: str) -> dict[str, Any]:
        """Open questions first, most voted first; then the answered ones."""
        found = sorted(self.rooms.questions(session_id),
                       key=lambda q: (q.answered, -len(q.voters), q.at))
        return {"type": "questions", "questions": [_question(q) for q in found]}

    def hand(self, member: Member, raised: Any, room: Broadcaster) -> dict[str, Any]:
        if not isinstance(raised, bool):
            raise ValidationFailed("The request is not valid.", [
                FieldError("raised", "true to raise your hand, false to lower it")])
        self.rooms.hand(member.session_id, member.user_id, member.name, raised)
        hands = self._hands(member.session_id)
        self._send(member.session_id, room, hands)
        return hands

    # --- the session's life -------------------------------------------------------------------

    def start(self, member: Member, room: Broadcaster) -> dict[str, Any]:
        return self._move(member, "scheduled", "live", "live.started", room)

    def end(self, member: Member, room: Broadcaster) -> dict[str, Any]:
        return self._move(member, "live", "ended", "live.ended", room)

    def _move(self, member: Member, from_status: str, to_status: str, event_type: str,
              room: Broadcaster) -> dict[str, Any]:
        self._teacher(member, "start and end the session")

        def events(session: LiveSession) -> list[Envelope]:
            payload = (LiveStarted if to_status == "live" else LiveEnded)(
                session_id=session.id, course_id=session.course_id,
                teacher_id=session.teacher_id, title=session.title)
            return [make_event(event_type, payload, source="edu.live")]

        moved = self.sessions.move(member.session_id, from_status, to_status, events)
        if moved is None:
            raise Conflict(f"The session is not {from_status}.")
        state = {"type": "session", "status": moved.status}
        self._send(member.session_id, room, state)
        return state

    def _teacher(self, member: Member, what: str) -> None:
        if member.role != "teacher":
            raise Forbidden(f"Only the course's teacher can {what}.")

    def _question(self, session_id: str, question_id: Any) -> Question:
        found = (self.rooms.question(session_id, question_id)
                 if isinstance(question_id, str) and is_uuid(question_id) else None)
        if found is None:
            raise NotFound("No question with this id in the session.")
        return found

    def _hands(self, session_id: str) -> dict[str, Any]:
        return {"type": "hands", "hands": [{"user_id": u, "name": n}
                                           for u, n in self.rooms.hands(session_id)]}

    def _limit(self, member: Member) -> None:
        wait = self.rate.hit(f"live-chat:{member.user_id}", self.rate.limit,
                             self.rate.window_s)
        if wait is not None:
            raise RateLimited("You are sending messages too fast; wait a moment.",
                              retry_after=wait)

    # --- what the room is like ----------------------------------------------------------------

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


def _text(text: Any, longest: int) -> str:
    """A chat message's or question's text: trimmed, 1..longest characters, no control
    characters but newlines and tabs."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("The message is not valid.", [
            FieldError("text", "write something to send")])
    clean = text.strip()
    if len(clean) > longest:
        raise ValidationFailed("The message is not valid.", [
            FieldError("text", f"at most {longest} characters")])
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in clean):
        raise ValidationFailed("The message is not valid.", [
            FieldError("text", "control characters are not allowed")])
    return clean


def _question(question: Question) -> dict[str, Any]:
    return {"id": question.id, "user_id": question.user_id, "name": question.name,
            "text": question.text, "at": question.at, "votes": len(question.voters),
            "answered": question.answered}


def _message(message: RoomMessage) -> dict[str, str]:
    return {"id": message.id, "user_id": message.user_id, "name": message.name,
            "role": message.role, "text": message.text, "at": message.at}
