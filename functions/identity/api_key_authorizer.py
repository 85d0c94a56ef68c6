"""Lambda authorizer (HTTP API, simple responses) for the Teacher API routes: resolves an
API key or an access token into the caller's context; the function decides access."""

from typing import Any

from edu.guards import request_authorizer


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"isAuthorized": True,
            "context": request_authorizer().context(event.get("headers") or {})}
