"""The live classroom's WebSocket routes: `connect`, `disconnect`, and `message` (the chat,
history and presence routes, each answered through its route response). The member comes
from the $connect authorizer's context (classroom_auth.py), on every event."""

import json
from typing import Any

from edu.errors import EduError
from edu.live.ports import Member
from edu.services import classroom_service, room_broadcaster


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
    who, route = member(event), event["requestContext"]["routeKey"]
    service = classroom_service()
    try:
        if route == "chat":
            body = json.loads(event.get("body") or "{}")
            sent = service.say(who, body.get("text") if isinstance(body, dict) else None,
                               room_broadcaster(event))
            answer: dict[str, Any] = {"type": "sent", "id": sent.id}
        elif route == "history":
            answer = service.history(who.session_id)
        elif route == "presence":
            answer = service.presence(who.session_id)
        else:
            answer = {"type": "error", "status": 400,
                      "detail": "Send an action: chat, history or presence."}
    except EduError as exc:
        answer = {"type": "error", "status": exc.status, "detail": exc.detail,
                  "errors": [{"field": e.field, "message": e.message}
                             for e in getattr(exc, "errors", [])]}
    return {"statusCode": 200, "body": json.dumps(answer)}
