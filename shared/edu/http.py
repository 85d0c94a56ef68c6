"""API Gateway HTTP API (payload v2) in and out: typed requests, JSON and problem responses.

Handlers stay small: `@endpoint` parses the event into a `Request`, calls the handler, and
renders any `EduError` (or an unexpected exception, as a logged 500) as problem JSON.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from edu.config import get_settings
from edu.errors import (
    BadRequest,
    DependencyUnavailable,
    EduError,
    FieldError,
    PayloadTooLarge,
    PreconditionFailed,
    UnsupportedMediaType,
    ValidationFailed,
    outage,
)
from edu.observability import bind
from edu.problems import PROBLEM_CONTENT_TYPE, internal_error_body, problem_body

M = TypeVar("M", bound=BaseModel)
LambdaResponse = dict[str, Any]


class JsonText(str):
    """A response body that is JSON already (a cached page): sent as it is."""


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None,
                  *, content_type: str = "application/json") -> LambdaResponse:
    if body is None:  # 204 and friends: no body, no content type
        return {"statusCode": status, "headers": dict(headers or {}), "body": "",
                "isBase64Encoded": False}
    # pydantic's own JSON encoder: 3x faster than model_dump + json.dumps for a catalog page
    # (loadtests/bench/response_bench.py); same JSON.
    if isinstance(body, JsonText):
        text = str(body)
    elif isinstance(body, BaseModel):
        text = body.model_dump_json()
    else:
        text = json.dumps(body, separators=(",", ":"), default=str)
    return {
        "statusCode": status,
        "headers": {"content-type": content_type, **(headers or {})},
        "body": text,
        "isBase64Encoded": False,
    }


def text_response(status: int, text: str, content_type: str,
                  headers: Mapping[str, str] | None = None) -> LambdaResponse:
    return {"statusCode": status, "headers": {"content-type": content_type, **(headers or {})},
            "body": text, "isBase64Encoded": False}


def problem_response(error: EduError, *, instance: str | None = None) -> LambdaResponse:
    return json_response(error.status, problem_body(error, instance=instance), error.headers,
                         content_type=PROBLEM_CONTENT_TYPE)


def validation_errors(exc: ValidationError, *, prefix: str = "") -> list[FieldError]:
    errors = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
        errors.append(FieldError(prefix + loc if loc else prefix.rstrip(".") or "body",
                                 err["msg"]))
    return errors


@dataclass
class Request:
    method: str
    path: str
    path_params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    request_id: str
    claims: dict[str, Any] = field(default_factory=dict)
    source_ip: str = ""
    cookies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        ctx = event.get("requestContext") or {}
        http = ctx.get("http") or {}
        body = event.get("body") or ""
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
        authorizer = ctx.get("authorizer") or {}
        claims = (authorizer.get("jwt") or {}).get("claims") or authorizer.get("lambda") or {}
        return cls(
            method=str(http.get("method") or event.get("httpMethod") or "GET").upper(),
            path=str(http.get("path") or event.get("rawPath") or event.get("path") or "/"),
            path_params={k: str(v) for k, v in (event.get("pathParameters") or {}).items()},
            query={k: str(v) for k, v in (event.get("queryStringParameters") or {}).items()},
            headers={k.lower(): str(v) for k, v in (event.get("headers") or {}).items()},
            raw_body=raw,
            request_id=str(ctx.get("requestId") or ""),
            claims=dict(claims),
            source_ip=str(http.get("sourceIp") or (ctx.get("identity") or {}).get("sourceIp")
                          or ""),
            cookies=dict(c.split("=", 1) for c in event.get("cookies") or [] if "=" in c),
        )

    def json_body(self, model: type[M]) -> M:
        """The body validated into `model`; 413/415/400/422 problems on bad input."""
        if len(self.raw_body) > get_settings().max_body_bytes:
            raise PayloadTooLarge(
                f"The body is {len(self.raw_body)} bytes; the limit is "
                f"{get_settings().max_body_bytes}.")
        ctype = self.headers.get("content-type", "application/json").split(";")[0].strip()
        if ctype and not (ctype == "application/json" or ctype.endswith("+json")):
            raise UnsupportedMediaType(f"Send JSON (application/json), not {ctype}.")
        try:
            data = json.loads(self.raw_body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"The body is not valid JSON: {exc}.") from exc
        except RecursionError:  # thousands of nested arrays: refuse, do not crash
            raise BadRequest("The body's JSON is nested too deeply.") from None
        if not isinstance(data, dict):
            raise ValidationFailed("The body must be a JSON object.",
                                   [FieldError("body", "expected a JSON object")])
        _refuse_nul(data, "The body has invalid fields.")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ValidationFailed("The body has invalid fields.",
                                   validation_errors(exc)) from exc

    def query_params(self, model: type[M]) -> M:
        return self.query_model(model, self.query)

    def query_model(self, model: type[M], params: dict[str, str]) -> M:
        """Query parameters (as given, or adjusted by the handler) validated into model."""
        _refuse_nul(params, "The query string has invalid parameters.")
        try:
            return model.model_validate(params)
        except ValidationError as exc:
            raise ValidationFailed("The query string has invalid parameters.",
                                   validation_errors(exc)) from exc


def _nul_fields(value: Any, path: str = "") -> list[str]:
    """Paths of the strings (keys included) that hold a NUL character."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += [where] if "\x00" in str(key) else _nul_fields(item, where)
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _nul_fields(item, f"{path}.{i}")]
    return []


def _refuse_nul(data: Any, title: str) -> None:
    """Text with a NUL character is refused for every field: no store keeps it (PostgreSQL's
    text cannot), and no user means it."""
    fields = _nul_fields(data)
    if fields:
        raise ValidationFailed(title, [FieldError(f, "must not contain the NUL character")
                                       for f in fields])


Handler = Callable[[Request], LambdaResponse]


# Every API answer: JSON is never sniffed as HTML, never framed, sends no referrer, and
# runs nothing if a browser opens it; HTTPS only (browsers ignore it over plain HTTP).
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff", "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}
PRIVATE_PREFIXES = ("/me", "/auth/", "/teacher/", "/admin/")  # answers no cache may keep


def etag(version: int) -> str:
    """The strong ETag of a versioned resource."""
    return f'"v{version}"'


def version_from_if_match(if_match: str | None) -> int | None:
    """The version an If-Match header names (None for none or `*`: no precondition); a 412
    for anything that is not one of our ETags."""
    if not if_match or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.startswith("v") or not tag[1:].isdigit():
        raise PreconditionFailed("If-Match must be an ETag from the resource's GET.")
    return int(tag[1:])


def secured(response: LambdaResponse, path: str) -> LambdaResponse:
    """`response` with the security headers it does not set itself; `no-store` for a
    caller's own data and tokens."""
    headers = response.setdefault("headers", {})
    present = {name.lower() for name in headers}
    wanted = dict(SECURITY_HEADERS)
    if path.startswith(PRIVATE_PREFIXES):
        wanted["cache-control"] = "no-store"
    headers.update({k: v for k, v in wanted.items() if k not in present})
    return response


def endpoint(fn: Handler) -> Callable[[Mapping[str, Any], Any], LambdaResponse]:
    """Turns `fn(Request) -> response` into a Lambda handler with problem-JSON errors and
    the security headers on every answer."""

    @functools.wraps(fn)
    def handler(event: Mapping[str, Any], context: Any) -> LambdaResponse:
        path = str(event.get("rawPath") or event.get("path") or "")
        return secured(answer(event, context), path)

    def answer(event: Mapping[str, Any], context: Any) -> LambdaResponse:
        request_id = getattr(context, "aws_request_id", "") or ""
        try:
            request = Request.from_event(event)
            bind(request_id=request_id or request.request_id,
                 correlation_id=request.headers.get("x-correlation-id") or request.request_id)
            return fn(request)
        except EduError as exc:
            return problem_response(exc, instance=str(event.get("rawPath") or "") or None)
        except Exception as exc:
            from edu.observability import get_logger

            down = outage(exc)
            if down is not None:  # the client may retry: nothing was acknowledged
                get_logger().warning("dependency unavailable", extra={
                    "metric": "dependency_unavailable", "dependency": down,
                    "error": f"{type(exc).__name__}: {exc}"[:300]})
                return problem_response(DependencyUnavailable(
                    f"{down} is not answering right now; retry shortly.", retry_after=5),
                    instance=str(event.get("rawPath") or "") or None)
            get_logger().exception("unhandled error", extra={"request_id": request_id})
            return json_response(500, internal_error_body(request_id),
                                 content_type=PROBLEM_CONTENT_TYPE)

    return handler
