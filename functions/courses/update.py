"""PATCH /courses/{id}: the teacher edits; If-Match guards against lost updates (412)."""

from edu.courses.models import CoursePatch
from edu.guards import limited_writer
from edu.http import LambdaResponse, Request, endpoint, etag, json_response, version_from_if_match
from edu.services import course_service, flush_outbox


@endpoint
def handler(request: Request) -> LambdaResponse:
    who = limited_writer(request, "write:courses")
    course = course_service().update(who, request.path_params["id"],
                                     request.json_body(CoursePatch),
                                     version_from_if_match(request.headers.get("if-match")))
    flush_outbox()
    return json_response(200, course, {"ETag": etag(course.version)})
