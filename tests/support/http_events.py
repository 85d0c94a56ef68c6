"""API Gateway HTTP API (payload 2.0) events for handler tests that build requests by hand."""

from __future__ import annotations

import base64
import json
from typing import Any


def http_event(body: Any = None, *, raw: str | None = None,
               headers: dict[str, str] | None = None, b64: bool = False) -> dict[str, Any]:
    """A POST /things event carrying `body` as JSON (or `raw` text), base64 when `b64`."""
    text = raw if raw is not None else (json.dumps(body) if body is not None else None)
    ev: dict[str, Any] = {
        "version": "2.0", "rawPath": "/things",
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {"requestId": "req-1", "http": {"method": "POST", "path": "/things"}},
        "isBase64Encoded": b64,
    }
    if text is not None:
        ev["body"] = base64.b64encode(text.encode()).decode() if b64 else text
    return ev
