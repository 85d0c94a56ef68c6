"""The problem documents (RFC 9457) the API answers with, as HTTP tests check them."""

from __future__ import annotations

from typing import Any

import httpx


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    """The body of an error answer with `status`, after checking it is a problem document."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = resp.json()
    return body
