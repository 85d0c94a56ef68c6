"""The HTTP API's OpenAPI 3.1 document, built from the same pydantic models the handlers
validate with. OPERATIONS lists every route of template.yaml (a test keeps the two equal);
GET /openapi.json serves the document.

Every operation also documents the errors any route can give: problem JSON
(RFC 9457) for 4xx from our functions, and API Gateway's own `{"message": ...}` for a
missing or invalid token on routes behind the JWT authorizer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from edu.analytics.models import AnalyticsQuery, CourseAnalyticsOut, DashboardOut
from edu.apikeys.models import ApiKeyCreated, ApiKeyIn, ApiKeyList, ApiKeyOut
from edu.courses.models import (
    CatalogQuery,
    CourseIn,
    CourseOut,
    CoursePatch,
    LessonIn,
    LessonOut,
    OrderIn,
    SearchHit,
    SearchQuery,
    SectionIn,
    SectionOut,
    SyllabusOut,
)
from edu.enrollment.models import (
    CourseProgress,
    EnrollmentOut,
    PaymentOut,
    PaymentStarted,
    ProgressIn,
)
from edu.identity.models import (
    LoginIn,
    LogoutIn,
    NotificationPrefsIn,
    NotificationPrefsOut,
    RefreshIn,
    RegisterIn,
    TokenPair,
    UserOut,
    VerificationDecisionIn,
    VerificationIn,
)
from edu.live.models import LiveSessionIn, LiveSessionList, LiveSessionOut
from edu.pagination import Page, PageParams
from edu.video.models import UploadIn, UploadTicket, VideoOut
from edu.webhooks.models import (
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
    WebhookPatch,
)

Auth = Literal["none", "optional", "jwt", "teacher_api"]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = Field(None, description="field errors (422)")


class GatewayError(BaseModel):
    """API Gateway's own answer (the JWT authorizer's 401, an unknown route's 404)."""

    message: str


class Health(BaseModel):
    status: str


class JsonObject(BaseModel):
    """A JSON object whose shape belongs to a standard (JWKS, OpenID discovery)."""

    model_config = {"extra": "allow"}


class PaymentList(BaseModel):
    items: list[PaymentOut]
    next_cursor: str | None


class WebhookReceipt(BaseModel):
    received: bool
    outcome: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    auth: Auth = "none"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    # status -> body model; None = no body; "text" = a text document (playlists)
    responses: dict[int, type[BaseModel] | str | None] = field(default_factory=dict)
    body_required: bool = True


Op = Operation
OPERATIONS: list[Operation] = [
    Op("GET", "/health", "Liveness", "platform", responses={200: Health}),
    Op("GET", "/openapi.json", "This document", "platform", responses={200: JsonObject}),
    Op("GET", "/.well-known/jwks.json", "Token signing keys (JWKS)", "identity",
      responses={200: JsonObject}),
    Op("GET", "/.well-known/openid-configuration", "OpenID discovery", "identity",
      responses={200: JsonObject}),
    Op("POST", "/auth/register", "Register a student or teacher", "identity",
      body=RegisterIn, responses={201: UserOut}),
    Op("POST", "/auth/login", "Log in", "identity", body=LoginIn, responses={200: TokenPair}),
    Op("POST", "/auth/refresh", "Rotate a refresh token", "identity", body=RefreshIn,
      responses={200: TokenPair}),
    Op("POST", "/auth/logout", "Log out (this session, or all)", "identity", "jwt",
      body=LogoutIn, responses={204: None}, body_required=False),
    Op("GET", "/me", "The signed-in user", "identity", "jwt", responses={200: UserOut}),
    Op("PATCH", "/me/notifications", "Email preferences", "identity", "jwt",
      body=NotificationPrefsIn, responses={200: NotificationPrefsOut}),
    Op("POST", "/teachers/me/verification", "Ask to be verified as a teacher", "identity",
      "jwt", body=VerificationIn, responses={202: UserOut}),
    Op("POST", "/admin/teachers/{id}/verify", "Verify a teacher (admin)", "identity", "jwt",
      body=VerificationDecisionIn, responses={200: UserOut}, body_required=False),
    Op("POST", "/admin/teachers/{id}/reject", "Reject a teacher (admin)", "identity", "jwt",
      body=VerificationDecisionIn, responses={200: UserOut}, body_required=False),
    Op("GET", "/courses", "The catalog", "courses", "optional", query=CatalogQuery,
      responses={200: Page[CourseOut]}),
    Op("POST", "/courses", "Create a draft course", "courses", "teacher_api", body=CourseIn,
      responses={201: CourseOut}),
    Op("GET", "/courses/{id}", "A course", "courses", "optional", responses={200: CourseOut}),
    Op("PATCH", "/courses/{id}", "Edit a course", "courses", "teacher_api", body=CoursePatch,
      responses={200: CourseOut}),
    Op("DELETE", "/courses/{id}", "Archive a course", "courses", "teacher_api",
      responses={200: CourseOut}),
    Op("POST", "/courses/{id}/publish", "Publish", "courses", "teacher_api",
      responses={200: CourseOut}),
    Op("POST", "/courses/{id}/live-sessions", "Schedule a live session", "live",
      "teacher_api", body=LiveSessionIn, responses={201: LiveSessionOut}),
    Op("GET", "/courses/{id}/live-sessions", "A course's live sessions (all of them for its "
      "teacher, upcoming ones for others)", "live", "optional",
      responses={200: LiveSessionList}),
    Op("DELETE", "/courses/{id}/live-sessions/{sid}", "Cancel a scheduled live session",
      "live", "teacher_api", responses={200: LiveSessionOut}),
    Op("GET", "/me/live-sessions", "My upcoming live sessions (courses I am enrolled in)",
      "live", "jwt", responses={200: LiveSessionList}),
    Op("POST", "/courses/{id}/unpublish", "Back to draft", "courses", "teacher_api",
      responses={200: CourseOut}),
    Op("POST", "/courses/{id}/sections", "Add a section", "courses", "teacher_api",
      body=SectionIn, responses={201: SectionOut}),
    Op("PUT", "/courses/{id}/sections/order", "Reorder sections", "courses", "teacher_api",
      body=OrderIn, responses={200: SyllabusOut}),
    Op("POST", "/courses/{id}/sections/{sid}/lessons", "Add a lesson", "courses",
      "teacher_api", body=LessonIn, responses={201: LessonOut}),
    Op("PUT", "/courses/{id}/sections/{sid}/lessons/order", "Reorder lessons", "courses",
      "teacher_api", body=OrderIn, responses={200: SyllabusOut}),
    Op("GET", "/courses/{id}/syllabus", "Sections and lessons", "courses", "optional",
      responses={200: SyllabusOut}),
    Op("GET", "/teachers/{id}/courses", "A teacher's courses", "courses", "optional",
      query=CatalogQuery, responses={200: Page[CourseOut]}),
    Op("GET", "/teacher/courses", "My courses, drafts included", "courses", "teacher_api",
      query=CatalogQuery, responses={200: Page[CourseOut]}),
    Op("GET", "/search", "Search courses", "courses", query=SearchQuery,
      responses={200: Page[SearchHit]}),
    Op("POST", "/courses/{id}/enroll", "Enroll (free) or start paying", "enrollment", "jwt",
      responses={201: EnrollmentOut, 202: PaymentStarted}),
    Op("GET", "/me/enrollments", "My courses as a student", "enrollment", "jwt",
      query=PageParams, responses={200: Page[EnrollmentOut]}),
    Op("GET", "/me/payments", "My payments", "enrollment", "jwt",
      responses={200: PaymentList}),
    Op("GET", "/courses/{id}/progress", "My progress in a course", "enrollment", "jwt",
      responses={200: CourseProgress}),
    Op("PUT", "/courses/{id}/lessons/{lesson_id}/progress", "Save a lesson's progress",
      "enrollment", "jwt", body=ProgressIn, responses={200: CourseProgress}),
    Op("POST", "/payments/stripe/webhook", "Stripe events (signed by Stripe)", "enrollment",
      responses={200: WebhookReceipt}),
    Op("POST", "/courses/{id}/lessons/{lesson_id}/video", "A presigned video upload form",
      "video", "jwt", body=UploadIn, responses={201: UploadTicket}),
    Op("GET", "/courses/{id}/lessons/{lesson_id}/video", "Video status and playback",
      "video", "optional", responses={200: VideoOut}),
    Op("GET", "/courses/{id}/lessons/{lesson_id}/video/hls/{upload_id}/{file}",
      "A signed HLS playlist", "video", responses={200: "text"}),
    Op("GET", "/teacher/dashboard", "Totals across my courses", "analytics", "teacher_api",
      responses={200: DashboardOut}),
    Op("GET", "/teacher/courses/{id}/analytics", "A course's time series and drop-off",
      "analytics", "teacher_api", query=AnalyticsQuery, responses={200: CourseAnalyticsOut}),
    Op("POST", "/teacher/api-keys", "Create an API key (shown once)", "teacher api", "jwt",
      body=ApiKeyIn, responses={201: ApiKeyCreated}),
    Op("GET", "/teacher/api-keys", "My API keys", "teacher api", "jwt",
      responses={200: ApiKeyList}),
    Op("DELETE", "/teacher/api-keys/{key_id}", "Revoke an API key", "teacher api", "jwt",
      responses={200: ApiKeyOut}),
    Op("POST", "/teacher/webhooks", "Subscribe an endpoint (secret shown once)", "webhooks",
      "jwt", body=WebhookIn, responses={201: WebhookCreated}),
    Op("GET", "/teacher/webhooks", "My webhooks", "webhooks", "jwt",
      responses={200: WebhookList}),
    Op("PATCH", "/teacher/webhooks/{id}", "Enable or disable", "webhooks", "jwt",
      body=WebhookPatch, responses={200: WebhookOut}),
    Op("DELETE", "/teacher/webhooks/{id}", "Delete a webhook", "webhooks", "jwt",
      responses={204: None}),
    Op("GET", "/teacher/webhooks/{id}/deliveries", "The delivery log", "webhooks", "jwt",
      query=PageParams, responses={200: Page[DeliveryOut]}),
    Op("POST", "/teacher/webhooks/{id}/deliveries/{delivery_id}/redeliver",
      "Redeliver an event", "webhooks", "jwt", responses={202: DeliveryOut}),
]

_REF = "#/components/schemas/{model}"
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "none": [], "optional": [{}, {"bearer": []}], "jwt": [{"bearer": []}],
    "teacher_api": [{"bearer": []}, {"apiKey": []}]}


def _schema_name(model: type[BaseModel]) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", model.__name__)


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template=_REF)
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


@cache
def openapi_document(server_url: str = "/") -> dict[str, Any]:
    models: set[type[BaseModel]] = {Problem, GatewayError}
    for op in OPERATIONS:
        if op.body:
            models.add(op.body)
        models.update(m for m in op.responses.values() if isinstance(m, type))
    ordered = sorted(models, key=_schema_name)
    refs, defs = models_json_schema([(m, "validation") for m in ordered], ref_template=_REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        responses: dict[str, Any] = {}
        for status, model in op.responses.items():
            if model is None:
                responses[str(status)] = {"description": "no content"}
            elif model == "text":
                responses[str(status)] = {"description": "HLS playlist", "content": {
                    "application/vnd.apple.mpegurl": {"schema": {"type": "string"}}}}
            else:
                assert isinstance(model, type)
                responses[str(status)] = {"description": "OK", "content": {
                    "application/json": {"schema": refs[(model, "validation")]}}}
        responses["4XX"] = {"description": "a problem with the request", "content": {
            "application/problem+json": {"schema": refs[(Problem, "validation")]},
            "application/json": {"schema": refs[(GatewayError, "validation")]}}}
        responses["5XX"] = {"description": "a problem on our side (retry later)", "content": {
            "application/problem+json": {"schema": refs[(Problem, "validation")]},
            "application/json": {"schema": refs[(GatewayError, "validation")]}}}
        operation: dict[str, Any] = {
            "operationId": f"{op.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', op.path.lower())}"
                           .rstrip("_"),
            "summary": op.summary, "tags": [op.tag], "responses": responses,
            "security": _SECURITY[op.auth]}
        parameters = [{"name": name, "in": "path", "required": True,
                       "schema": {"type": "string", "minLength": 1}}
                      for name in re.findall(r"\{([^}]+)\}", op.path)]
        if op.query:
            parameters += _query_parameters(op.query, schemas)
        if parameters:
            operation["parameters"] = parameters
        if op.body:
            operation["requestBody"] = {"required": op.body_required, "content": {
                "application/json": {"schema": refs[(op.body, "validation")]}}}
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "EduPlatform API", "version": "1.0.0",
                 "description": "Errors are RFC 9457 problem documents; lists are keyset "
                                "pages ({items, next_cursor}); money is minor units."},
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}},
    }
