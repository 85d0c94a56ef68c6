"""The live classroom's WebSocket routes: `connect`, `disconnect`, and `message` (every
action of the room, each answered through its route response). The member comes
from the $connect authorizer's context (classroom_auth.py), on every event."""

import json
from typing import Any

from edu.errors import EduError
from edu.live.ports import Member
from edu.services import classroom_service, flush_outbox, room_broadcaster


def member(event: dict[str, Any]) -> Member:
    ctx = event["requestContext"]
    who = ctx["authorizer"]
    return Member(connection_id=ctx["connectionId"], session_id=who["session_id"],
                  user_id=who["user_id"], name=who["name"], role=who["role"])


def connect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    classroom_service().joined(member(event), room_broadcaster(event))
    return {"statusCode": 200}


def disconnect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    who = member(event)
    classroom_service().left(who.session_id, who.connection_id, room_broadcaster(event))
    return {"statusCode": 200}


def message(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One of the room's actions, named by the message's `action` (the chat, history and
    presence routes, and $default for the rest), answered through the route response."""
    who = member(event)
    try:
        body = json.loads(event.get("body") or "{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _answer({"type": "error", "status": 400, "detail": "Send a JSON object."})
    service, action = classroom_service(), body.get("action")
    service.seen(who)
    try:
        if action == "chat":
            sent = service.say(who, body.get("text"), room_broadcaster(event))
            return _answer({"type": "sent", "id": sent.id})
        if action == "ask":
            asked = service.ask(who, body.get("text"), room_broadcaster(event))
            return _answer({"type": "asked", "id": asked.id})
        if action == "upvote":
            service.upvote(who, body.get("question_id"), room_broadcaster(event))
            return _answer({"type": "upvoted", "id": body.get("question_id")})
        if action == "answer":
            service.answer(who, body.get("question_id"), room_broadcaster(event))
            return _answer({"type": "answered", "id": body.get("question_id")})
        # Acknowledgements are named apart from the broadcasts the sender also receives.
        if action == "hand":
            hands = service.hand(who, body.get("raised"), room_broadcaster(event))
            return _answer({"type": "hand", "raised": body.get("raised"),
                            "hands": hands["hands"]})
        if action in ("start", "end"):
            move = service.start if action == "start" else service.end
            state = move(who, room_broadcaster(event))
            flush_outbox()
            return _answer({"type": "moved", "status": state["status"]})
        if action == "history":
            return _answer(service.history(who.session_id))
        if action == "presence":
            return _answer(service.presence(who.session_id))
        if action == "questions":
            return _answer(service.questions(who.session_id))
    except EduError as exc:
        return _answer({"type": "error", "status": exc.status, "detail": exc.detail,
                        "errors": [{"field": e.field, "message": e.message}
                                   for e in getattr(exc, "errors", [])]})
    return _answer({"type": "error", "status": 400, "detail": (
        "Send an action: chat, ask, upvote, answer, hand, start, end, history, presence "
        "or questions.")})


def _answer(payload: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps(payload)}
