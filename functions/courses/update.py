"""PATCH /courses/{id}: the teacher edits; If-Match guards against lost updates (412)."""

from edu.courses.models import CoursePatch
from edu.courses.service import etag
from edu.http import LambdaResponse, Request, endpoint, json_response
from edu.services import course_service, flush_outbox, writer


@endpoint
def handler(request: Request) -> LambdaResponse:
    course = course_service().update(writer(request, "write:courses"), request.path_params["id"],
                                     request.json_body(CoursePatch),
                                     request.headers.get("if-match"))
    flush_outbox()
    return json_response(200, course, {"ETag": etag(course)})
