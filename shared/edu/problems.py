"""RFC 9457 problem details: the one place errors become HTTP responses."""

from __future__ import annotations

from typing import Any

from edu.errors import EduError, ValidationFailed

PROBLEM_BASE = "https://eduplatform.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(error: EduError, *, instance: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + error.type_slug,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
    }
    body.update(error.extensions)
    if isinstance(error, ValidationFailed):
        body["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
    if instance:
        body["instance"] = instance
    return body


def internal_error_body(request_id: str | None = None) -> dict[str, Any]:
    """A 500 that leaks nothing but the request id to quote to support."""
    error = EduError("An unexpected error occurred.")
    body = problem_body(error)
    if request_id:
        body["request_id"] = request_id
    return body
